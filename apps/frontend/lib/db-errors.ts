/** Classifies node-postgres connection errors: wait for the database, or give up at once. */

// Network-level failures that clear up once Postgres (or its Service / DNS name) is up.
const TRANSIENT_NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
]);
// SQLSTATE 57P03 cannot_connect_now ("the database system is starting up").
const TRANSIENT_SQLSTATES = new Set(["57P03"]);

export function isTransientDbError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    return TRANSIENT_NETWORK_CODES.has(code) || TRANSIENT_SQLSTATES.has(code);
  }
  // pg reports a connection cut during startup without a code.
  const message = (error as { message?: unknown }).message;
  return typeof message === "string" && /Connection terminated/i.test(message);
}

/** One line for the log: the error's message plus its code when it has one. */
export function describeDbError(error: unknown): string {
  if (typeof error !== "object" || error === null) return String(error);
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === "string" && message ? message : String(error);
  return typeof code === "string" ? `${text} (${code})` : text;
}
