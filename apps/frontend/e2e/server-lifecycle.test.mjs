/**
 * The production server's start and stop behaviour (.next/standalone/server.js, i.e. the start
 * wrapper in server/taskflow-server.cjs in front of Next's server), against real Postgres:
 *  - a missing or bad variable stops start-up with one log line that names it;
 *  - SIGTERM: /api/health turns 503 at once, new connections are still served for
 *    DRAIN_SECONDS, a request in flight when the listener closes still gets its answer, and
 *    the process exits 0;
 *  - sign-in over HTTP keeps Better Auth's origin check and rate limit.
 *
 * Needs DATABASE_URL (the suite's Postgres); starts its own server processes on free ports.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { test } from "node:test";

const SERVER = new URL("../.next/standalone/server.js", import.meta.url).pathname;
const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) throw new Error("set DATABASE_URL (tests/suites/frontend.sh starts Postgres)");

const DRAIN_SECONDS = 2;
// One secret for every server of this file: they share the database and its signing keys.
const SECRET = randomBytes(32).toString("base64");

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function start(env) {
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH, HOSTNAME: "127.0.0.1", NEXT_TELEMETRY_DISABLED: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk) => (output.stdout += chunk));
  child.stderr.on("data", (chunk) => (output.stderr += chunk));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, output, exited };
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: "127.0.0.1", port, path, agent: false }, (response) => {
      let body = "";
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode, body }));
    });
    request.on("error", reject);
    request.setTimeout(10_000, () => request.destroy(new Error(`GET ${path} timed out`)));
  });
}

async function waitHealthy(port, server) {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`server exited early:\n${server.output.stderr}`);
    try {
      if ((await get(port, "/api/health")).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`server not healthy within 90 s:\n${server.output.stdout}\n${server.output.stderr}`);
}

function baseEnv(port) {
  return {
    PORT: String(port),
    DATABASE_URL,
    BETTER_AUTH_SECRET: SECRET,
    BETTER_AUTH_URL: `http://127.0.0.1:${port}`,
    BACKEND_URL: "http://127.0.0.1:9",
    DRAIN_SECONDS: String(DRAIN_SECONDS),
  };
}

for (const [variable, value, expected] of [
  ["BETTER_AUTH_SECRET", undefined, /BETTER_AUTH_SECRET is required/],
  ["BACKEND_URL", "backend:8000", /BACKEND_URL must be an absolute http\(s\) URL/],
  ["DATABASE_URL", "mysql://db/x", /DATABASE_URL must be a postgresql:\/\/ URL/],
]) {
  test(`start-up stops with one line naming ${variable}`, async () => {
    const env = baseEnv(await freePort());
    if (value === undefined) delete env[variable];
    else env[variable] = value;
    const server = start(env);
    const { code } = await withTimeout(server.exited, 60_000, "exit on bad configuration");
    assert.equal(code, 1);
    const errors = server.output.stderr.split("\n").filter((line) => line.includes('"config_error"'));
    assert.equal(errors.length, 1, server.output.stderr);
    const entry = JSON.parse(errors[0]);
    assert.equal(entry.variable, variable);
    assert.match(entry.message, expected);
  });
}

test("SIGTERM drains: not ready at once, still serving, in-flight request answered, exit 0", async () => {
  const port = await freePort();
  const server = start(baseEnv(port));
  try {
    await waitHealthy(port, server);

    // A request in flight across the whole drain: headers and half the body now, the rest later.
    const body = JSON.stringify({ email: "nobody@example.test", password: "wrong password" });
    let resolveInFlight;
    const inFlight = new Promise((resolve, reject) => {
      resolveInFlight = { resolve, reject };
    });
    const slow = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/api/auth/sign-in/email",
        agent: false,
        headers: {
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(body),
          Origin: `http://127.0.0.1:${port}`,
        },
      },
      (response) => {
        let text = "";
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => resolveInFlight.resolve({ status: response.statusCode, text }));
      },
    );
    slow.on("error", (error) => resolveInFlight.reject(error));
    slow.write(body.slice(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 300));

    const signalledAt = Date.now();
    server.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 200));

    const health = await get(port, "/api/health");
    assert.equal(health.status, 503);
    assert.deepEqual(JSON.parse(health.body), { status: "draining" });
    const page = await get(port, "/sign-in");
    assert.equal(page.status, 200, "a new connection during the drain was not served");

    // After the drain the listener is closed, but the process waits for the in-flight request.
    await new Promise((resolve) => setTimeout(resolve, DRAIN_SECONDS * 1000 + 800 - (Date.now() - signalledAt)));
    await assert.rejects(get(port, "/api/health"), { code: "ECONNREFUSED" });
    assert.equal(server.child.exitCode, null, "exited before the in-flight request finished");

    slow.end(body.slice(10));
    const answer = await withTimeout(inFlight, 15_000, "the in-flight request");
    assert.equal(answer.status, 401, answer.text);

    const { code, signal } = await withTimeout(server.exited, 15_000, "exit after the drain");
    assert.equal(signal, null);
    assert.equal(code, 0, server.output.stderr);
    assert.match(server.output.stdout, /"event":"drain_started".*"drain_seconds":2/);
    assert.match(server.output.stdout, /"event":"shutdown_complete"/);
  } finally {
    if (server.child.exitCode === null) server.child.kill("SIGKILL");
  }
});

test("start-up refuses a BETTER_AUTH_SECRET that cannot open the stored signing keys", async () => {
  const port = await freePort();
  const env = baseEnv(port);
  const first = start({ ...env, DRAIN_SECONDS: "0" });
  try {
    await waitHealthy(port, first);
    // The first JWKS request creates the signing key, encrypted with this secret.
    assert.equal((await get(port, "/api/auth/jwks")).status, 200);
  } finally {
    first.child.kill("SIGTERM");
    await withTimeout(first.exited, 15_000, "first server exit");
  }

  const second = start({ ...env, BETTER_AUTH_SECRET: randomBytes(32).toString("base64") });
  const { code } = await withTimeout(second.exited, 60_000, "exit on a mismatched secret");
  assert.equal(code, 1);
  const errors = second.output.stderr.split("\n").filter((line) => line.includes('"config_error"'));
  assert.equal(errors.length, 1, second.output.stderr);
  const entry = JSON.parse(errors[0]);
  assert.equal(entry.variable, "BETTER_AUTH_SECRET");
  assert.match(entry.message, /cannot decrypt the JWT signing key/);
});

test("sign-in over HTTP is origin-checked and rate limited", async () => {
  const port = await freePort();
  const server = start({ ...baseEnv(port), DRAIN_SECONDS: "0" });
  try {
    await waitHealthy(port, server);
    const signIn = (origin) =>
      fetch(`http://127.0.0.1:${port}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Origin: origin },
        body: JSON.stringify({ email: "nobody@example.test", password: "wrong password" }),
      });
    assert.equal((await signIn("http://evil.example.com")).status, 403);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await signIn(`http://127.0.0.1:${port}`)).status);
    // Better Auth's default rule for /sign-in: 3 attempts per 10 s per client; the refused
    // cross-origin attempt above counts as the first.
    assert.deepEqual(statuses, [401, 401, 429, 429]);
  } finally {
    server.child.kill("SIGTERM");
    await withTimeout(server.exited, 15_000, "server exit");
  }
});
