"use strict";
/**
 * Start wrapper for the standalone build: `npm run build` installs this file as
 * .next/standalone/server.js and renames Next's generated server to next-server.js beside it,
 * so the image keeps running `node server.js` from /app.
 *
 * Why it exists: Next's own SIGTERM handler closes the listening socket at once. Kubernetes
 * keeps routing new connections to a terminating pod for a few seconds, and those would be
 * refused. On SIGTERM (or SIGINT) this wrapper instead
 *   1. marks the process as draining (GET /api/health answers 503, so readiness fails),
 *   2. keeps serving everything, new connections included, for DRAIN_SECONDS,
 *   3. stops accepting connections, lets in-flight requests finish, and exits 0.
 * A second signal exits at once with status 1.
 */
const http = require("node:http");

// Must match lib/process-state.ts.
const DRAINING = Symbol.for("taskflow.frontend.draining");
const DRAIN_SECONDS = Symbol.for("taskflow.frontend.drainSeconds");
// After the drain, in-flight requests (a slow assistant call takes up to a minute) get this
// long before the process gives up on them and exits non-zero.
const FINISH_TIMEOUT_MS = 70_000;
// How often to close keep-alive connections that went idle after their last response.
const IDLE_SWEEP_MS = 200;

function log(level, event, fields) {
  const line = JSON.stringify({ time: new Date().toISOString(), level, logger: "taskflow.frontend", event, ...fields });
  (level === "info" ? process.stdout : process.stderr).write(line + "\n");
}

// Next installs its own SIGINT/SIGTERM handlers unless this is set.
process.env.NEXT_MANUAL_SIG_HANDLE = "true";
// A production server has no business phoning home (and has no network to do it in-cluster).
process.env.NEXT_TELEMETRY_DISABLED = "1";

// Next creates its HTTP server internally and does not hand it out; remember every server
// created in this process so the shutdown can close it.
const servers = [];
const createServer = http.createServer;
http.createServer = function createTrackedServer(...args) {
  const server = createServer.apply(this, args);
  servers.push(server);
  return server;
};

function closeServersAndExit() {
  const open = servers.filter((server) => server.listening);
  if (open.length === 0) {
    log("info", "shutdown_complete", {});
    process.exit(0);
  }
  let remaining = open.length;
  const sweep = setInterval(() => open.forEach((server) => server.closeIdleConnections()), IDLE_SWEEP_MS);
  setTimeout(() => {
    log("error", "shutdown_timeout", {
      message: `requests still running ${FINISH_TIMEOUT_MS / 1000} s after the drain; exiting anyway`,
    });
    process.exit(1);
  }, FINISH_TIMEOUT_MS).unref();
  for (const server of open) {
    server.close(() => {
      remaining -= 1;
      if (remaining === 0) {
        clearInterval(sweep);
        log("info", "shutdown_complete", {});
        process.exit(0);
      }
    });
    server.closeIdleConnections();
  }
}

let draining = false;
function onSignal(signal) {
  if (draining) {
    log("warn", "shutdown_forced", { signal });
    process.exit(1);
  }
  draining = true;
  globalThis[DRAINING] = true;
  // Published by the app once its configuration was validated; before that nothing is served.
  const published = globalThis[DRAIN_SECONDS];
  const seconds = typeof published === "number" ? published : 0;
  log("info", "drain_started", { signal, drain_seconds: seconds });
  setTimeout(closeServersAndExit, seconds * 1000);
}
process.on("SIGTERM", onSignal);
process.on("SIGINT", onSignal);

require("./next-server.js");
