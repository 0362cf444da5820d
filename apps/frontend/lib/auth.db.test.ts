/**
 * Better Auth against a real Postgres (TEST_DATABASE_URL, a superuser URL; the suite starts
 * the server): the start-up migration and the JWTs the backend will verify.
 */
import { randomBytes } from "node:crypto";

import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { getMigrations } from "better-auth/db/migration";
import { Pool } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createAuth } from "./auth";
import { migrateAuthSchema } from "./auth-migrations";
import { ConfigError, loadConfig } from "./config";
import { checkSigningKeysReadable } from "./signing-keys";

const adminUrl = process.env.TEST_DATABASE_URL;
if (!adminUrl) {
  throw new Error("TEST_DATABASE_URL is not set: run tests/suites/frontend.sh, which starts Postgres for these tests");
}

const database = `frontend_test_${randomBytes(4).toString("hex")}`;
const BASE_URL = "http://127.0.0.1:3000";
let pool: Pool;
const admin = new Pool({ connectionString: adminUrl, max: 1 });

function configFor(url: string) {
  return loadConfig({
    DATABASE_URL: url,
    BETTER_AUTH_SECRET: randomBytes(32).toString("base64"),
    BETTER_AUTH_URL: BASE_URL,
    BACKEND_URL: "http://127.0.0.1:8000",
  });
}

beforeAll(async () => {
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  pool = new Pool({ connectionString: url.toString(), max: 5 });
  // DROP DATABASE ... WITH (FORCE) below ends connections that pool.end() is still closing.
  pool.on("error", (error: Error & { code?: string }) => {
    if (error.code !== "57P01") throw error;
  });
});

afterAll(async () => {
  await pool?.end();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
});

describe("migrateAuthSchema", () => {
  it("creates Better Auth's tables once, even when replicas start together", async () => {
    const url = pool.options.connectionString as string;
    const replicas = [0, 1, 2].map(() => new Pool({ connectionString: url, max: 3 }));
    try {
      await Promise.all(replicas.map((replica) => migrateAuthSchema(createAuth(configFor(url), replica), replica)));
    } finally {
      await Promise.all(replicas.map((replica) => replica.end()));
    }
    const { rows } = await pool.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    const tables = rows.map((row) => row.table_name);
    expect(tables).toEqual(["account", "jwks", "session", "user", "verification"]);
    // None of the backend's tables.
    expect(tables.filter((t) => ["tasks", "conversations", "messages"].includes(t))).toEqual([]);

    const auth = createAuth(configFor(url), pool);
    const plan = await getMigrations(auth.options);
    expect(plan.toBeCreated).toEqual([]);
    expect(plan.toBeAdded).toEqual([]);
    await migrateAuthSchema(auth, pool);
  });
});

describe("JWTs for the backend", () => {
  it("signs EdDSA tokens with the configured issuer and audience, verifiable with /api/auth/jwks", async () => {
    const config = configFor(pool.options.connectionString as string);
    const auth = createAuth(config, pool);
    await migrateAuthSchema(auth, pool);

    const signUp = await auth.handler(
      new Request(`${BASE_URL}/api/auth/sign-up/email`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Origin: BASE_URL },
        body: JSON.stringify({ name: "Ada", email: "ada@example.test", password: "a long enough password" }),
      }),
    );
    expect(signUp.status).toBe(200);
    const { user } = (await signUp.json()) as { user: { id: string } };
    const cookie = signUp.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");

    const tokenResponse = await auth.handler(new Request(`${BASE_URL}/api/auth/token`, { headers: { cookie } }));
    expect(tokenResponse.status).toBe(200);
    const { token } = (await tokenResponse.json()) as { token: string };

    const jwksResponse = await auth.handler(new Request(`${BASE_URL}/api/auth/jwks`));
    expect(jwksResponse.status).toBe(200);
    const jwks = await jwksResponse.json();
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });

    const header = decodeProtectedHeader(token);
    expect(header.alg).toBe("EdDSA");
    expect(header.kid).toBe(jwks.keys[0].kid);
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: "taskflow",
      audience: "taskflow-api",
      algorithms: ["EdDSA"],
    });
    expect(payload.sub).toBe(user.id);
    expect(payload.exp! - payload.iat!).toBe(15 * 60);

    // Without a session there is no token.
    const anonymous = await auth.handler(new Request(`${BASE_URL}/api/auth/token`));
    expect(anonymous.status).toBe(401);

    // The start-up check: the secret in use opens the stored signing key, another one does not.
    await checkSigningKeysReadable(pool, config.betterAuthSecret);
    const mismatch = await checkSigningKeysReadable(pool, randomBytes(32).toString("base64")).catch((e) => e);
    expect(mismatch).toBeInstanceOf(ConfigError);
    expect(mismatch.variable).toBe("BETTER_AUTH_SECRET");
    expect(mismatch.message).toContain(`signing key "${header.kid}"`);
  });
});
