import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

import { FlatCompat } from "@eslint/eslintrc";

const compat = new FlatCompat({ baseDirectory: dirname(fileURLToPath(import.meta.url)) });

const config = [
  { ignores: [".next/**", "node_modules/**", "next-env.d.ts", "e2e/artifacts/**"] },
  ...compat.extends("next/core-web-vitals", "next/typescript"),
  {
    // The start wrapper is plain CommonJS, copied as-is next to Next's generated server.
    files: ["server/**/*.cjs"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
];

export default config;
