/**
 * Better Auth: email + password accounts in Postgres, plus the JWT plugin whose EdDSA tokens
 * the backend verifies against /api/auth/jwks.
 *
 * The instance is created on first use, not at import: `next build` imports these modules and
 * must not need any runtime configuration.
 */
import { betterAuth } from "better-auth";
import { jwt } from "better-auth/plugins";
import { Pool } from "pg";

import { loadConfig, type AppConfig } from "./config";
import { log } from "./log";
import { processSingleton } from "./process-state";

// Pool size per frontend replica; Better Auth holds a connection only for the length of a query.
const POOL_MAX = 10;
// Backend calls carry a fresh token per request, so a short lifetime costs nothing.
const JWT_LIFETIME = "15m";

export function createAuth(config: AppConfig, pool: Pool) {
  return betterAuth({
    appName: "TaskFlow",
    baseURL: config.betterAuthUrl,
    secret: config.betterAuthSecret,
    // Default table names (user, session, account, verification, jwks): none clashes with
    // the backend's tables (tasks, conversations, messages) in the shared database.
    database: pool,
    trustedOrigins: config.trustedOrigins,
    emailAndPassword: { enabled: true },
    telemetry: { enabled: false },
    plugins: [
      jwt({
        jwks: { keyPairConfig: { alg: "EdDSA", crv: "Ed25519" } },
        jwt: {
          issuer: config.jwtIssuer,
          audience: config.jwtAudience,
          expirationTime: JWT_LIFETIME,
        },
      }),
    ],
  });
}

export type Auth = ReturnType<typeof createAuth>;

export function getPool(): Pool {
  return processSingleton("pool", () => {
    const pool = new Pool({ connectionString: loadConfig().databaseUrl, max: POOL_MAX });
    // An idle client losing its connection (e.g. Postgres restart) must not crash the process;
    // the next query gets a fresh connection.
    pool.on("error", (error) => log("warn", "db_idle_client_error", { error: error.message }));
    return pool;
  });
}

export function getAuth(): Auth {
  return processSingleton("auth", () => createAuth(loadConfig(), getPool()));
}
