import { fileURLToPath } from "node:url";

import { defineConfig } from "vitest/config";

// `npm test`: unit tests, no services. `npm run test:db`: tests that need TEST_DATABASE_URL.
const withDatabase = process.env.VITEST_DB === "1";

export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL(".", import.meta.url)) } },
  test: {
    include: withDatabase ? ["lib/**/*.db.test.ts"] : ["lib/**/*.test.ts"],
    exclude: withDatabase ? [] : ["lib/**/*.db.test.ts"],
    environment: "node",
    testTimeout: 30_000,
  },
});
