/**
 * Start-up check that BETTER_AUTH_SECRET can still decrypt the JWT signing keys.
 *
 * The jwt plugin stores its private keys encrypted with the secret. If the secret changes
 * (say, a chart that generates a new one on every upgrade), signing fails on the first sign-in
 * and every page needing a token errors. Failing at start with one line is far clearer.
 */
import { symmetricDecrypt } from "better-auth/crypto";
import type { Pool } from "pg";

import { ConfigError } from "./config";

export async function checkSigningKeysReadable(pool: Pool, secret: string): Promise<void> {
  // The plugin signs with the newest key; older ones only remain published in the JWKS.
  const { rows } = await pool.query<{ id: string; privateKey: string }>(
    'SELECT id, "privateKey" FROM jwks ORDER BY "createdAt" DESC LIMIT 1',
  );
  if (rows.length === 0) return;
  try {
    await symmetricDecrypt({ key: secret, data: JSON.parse(rows[0].privateKey) });
  } catch {
    throw new ConfigError(
      "BETTER_AUTH_SECRET",
      `cannot decrypt the JWT signing key "${rows[0].id}" in table jwks: it was created with a different secret. ` +
        "Restore the previous secret, or delete the rows of table jwks to create new keys (signed-in users keep their sessions; tokens issued earlier stop verifying)",
    );
  }
}
