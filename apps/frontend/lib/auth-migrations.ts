/**
 * Better Auth's schema, applied at server start (the image has no shell or npx for the CLI).
 *
 * getMigrations compares the live schema with what the configured plugins need and only
 * creates missing tables/columns, so running it on every start is idempotent. A Postgres
 * advisory lock serialises replicas that start at the same time.
 */
import { getMigrations } from "better-auth/db/migration";
import type { Pool } from "pg";

import type { Auth } from "./auth";
import { log } from "./log";

// Arbitrary constant shared by all frontend replicas; distinct from anything the backend locks.
const MIGRATION_LOCK_KEY = 7_283_915_004;

export async function migrateAuthSchema(auth: Auth, pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      const { toBeCreated, toBeAdded, runMigrations } = await getMigrations(auth.options);
      if (toBeCreated.length === 0 && toBeAdded.length === 0) {
        log("info", "auth_schema_up_to_date");
        return;
      }
      log("info", "auth_schema_migrating", {
        create_tables: toBeCreated.map((t) => t.table),
        add_columns_to: toBeAdded.map((t) => t.table),
      });
      await runMigrations();
      log("info", "auth_schema_migrated");
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}
