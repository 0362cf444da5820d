/**
 * Completes `next build`'s .next/standalone into the tree the image ships as /app:
 *   server.js       our start wrapper (server/taskflow-server.cjs: graceful drain on SIGTERM)
 *   next-server.js  the server Next generated
 *   .next/static/   client assets (Next leaves them out of standalone)
 *   public/         static files, when the app has any
 * Safe to run again on the same build.
 */
import { cpSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const app = join(dirname(fileURLToPath(import.meta.url)), "..");
const standalone = join(app, ".next", "standalone");
const serverJs = join(standalone, "server.js");
const nextServerJs = join(standalone, "next-server.js");
const wrapperSource = join(app, "server", "taskflow-server.cjs");
const WRAPPER_MARK = "taskflow.frontend.draining";

function fail(message) {
  console.error(`assemble-standalone: ${message}`);
  process.exit(1);
}

if (!existsSync(serverJs)) {
  fail(`${serverJs} is missing; run \`next build\` first (next.config.ts must keep output: "standalone")`);
}
const current = readFileSync(serverJs, "utf8");
if (!current.includes(WRAPPER_MARK)) {
  // A fresh build: Next's server is still in server.js.
  renameSync(serverJs, nextServerJs);
} else if (!existsSync(nextServerJs)) {
  fail(`${serverJs} is already the wrapper but next-server.js is gone; run \`npm run build\` again`);
}
// Write beside, then rename: the tree never has a half-written server.js.
writeFileSync(`${serverJs}.tmp`, readFileSync(wrapperSource));
renameSync(`${serverJs}.tmp`, serverJs);

const staticTarget = join(standalone, ".next", "static");
rmSync(staticTarget, { recursive: true, force: true });
cpSync(join(app, ".next", "static"), staticTarget, { recursive: true });
if (existsSync(join(app, "public"))) {
  const publicTarget = join(standalone, "public");
  rmSync(publicTarget, { recursive: true, force: true });
  cpSync(join(app, "public"), publicTarget, { recursive: true });
}
console.log(`assemble-standalone: ${standalone} is ready; run it with \`node server.js\` from that directory`);
