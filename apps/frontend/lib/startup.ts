/**
 * What the server does once at start, before it answers requests (called from
 * instrumentation.ts): validate the configuration, bring Better Auth's schema up to date, and
 * check that BETTER_AUTH_SECRET still opens the stored JWT signing keys.
 * Any failure ends the process with one log line that says what to fix.
 */
import { getAuth, getPool } from "./auth";
import { migrateAuthSchema } from "./auth-migrations";
import { ConfigError, loadConfig, type AppConfig } from "./config";
import { describeDbError, isTransientDbError } from "./db-errors";
import { log } from "./log";
import { publishDrainSeconds } from "./process-state";
import { checkSigningKeysReadable } from "./signing-keys";

// Postgres may come up after the frontend (same Helm release): wait up to a minute for it.
const DB_WAIT_ATTEMPTS = 30;
const DB_WAIT_INTERVAL_MS = 2000;

function exitWith(event: string, message: string, fields: Record<string, unknown> = {}): never {
  log("error", event, { message, ...fields });
  process.exit(1);
}

export async function startUp(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    configError(error);
  }
  publishDrainSeconds(config.drainSeconds);

  for (let attempt = 1; ; attempt++) {
    try {
      await migrateAuthSchema(getAuth(), getPool());
      break;
    } catch (error) {
      const reason = describeDbError(error);
      if (!isTransientDbError(error)) {
        exitWith("auth_schema_failed", `Better Auth schema migration failed: ${reason}; check DATABASE_URL and the database user's rights`);
      }
      if (attempt >= DB_WAIT_ATTEMPTS) {
        exitWith(
          "database_unreachable",
          `database at DATABASE_URL unreachable after ${attempt} attempts: ${reason}; check that Postgres is running and DATABASE_URL points at it`,
        );
      }
      log("warn", "database_waiting", { attempt, of: DB_WAIT_ATTEMPTS, reason });
      await new Promise((resolve) => setTimeout(resolve, DB_WAIT_INTERVAL_MS));
    }
  }

  try {
    await checkSigningKeysReadable(getPool(), config.betterAuthSecret);
  } catch (error) {
    configError(error);
  }
}

function configError(error: unknown): never {
  if (error instanceof ConfigError) {
    exitWith("config_error", `configuration error: ${error.message}`, { variable: error.variable });
  }
  throw error;
}
