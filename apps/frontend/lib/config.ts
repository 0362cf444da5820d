/**
 * Runtime configuration, read from the environment on the server.
 *
 * Nothing here is inlined at build time (no NEXT_PUBLIC_ variables): one image serves every
 * environment. Each problem is reported as one line that names the variable and says what is
 * expected, because that line is what an operator sees in `kubectl logs`.
 */

export interface AppConfig {
  /** node-postgres connection string for Better Auth's tables. */
  databaseUrl: string;
  betterAuthSecret: string;
  /** Public base URL the browser uses, without a trailing slash. */
  betterAuthUrl: string;
  /** Backend base URL, without a trailing slash. */
  backendUrl: string;
  jwtIssuer: string;
  jwtAudience: string;
  drainSeconds: number;
  /** Origins allowed to call /api/auth besides betterAuthUrl's own origin. */
  trustedOrigins: string[];
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable} ${detail}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

const MIN_SECRET_LENGTH = 32;
// Kubernetes' default terminationGracePeriodSeconds is 30; a longer drain would be killed anyway.
const MAX_DRAIN_SECONDS = 300;

function required(env: Env, name: string, example: string): string {
  const value = env[name]?.trim();
  if (!value) {
    throw new ConfigError(name, `is required but not set (for example ${name}=${example})`);
  }
  return value;
}

function httpUrl(name: string, value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  // "backend:8000" parses as a URL with scheme "backend:", so check the scheme too.
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new ConfigError(name, `must be an absolute http(s) URL such as http://host:port, got "${value}"`);
  }
  if (url.search || url.hash) {
    throw new ConfigError(name, `must not carry a query or fragment, got "${value}"`);
  }
  return value.replace(/\/+$/, "");
}

/**
 * Accepts the forms the backend accepts (postgresql://, postgres://, postgresql+asyncpg://) so
 * one Secret can feed both apps; node-postgres wants the plain scheme.
 */
function postgresUrl(name: string, value: string): string {
  const match = /^(postgres|postgresql)(\+[a-z0-9]+)?:\/\//i.exec(value);
  if (!match) {
    throw new ConfigError(
      name,
      `must be a postgresql:// URL (for example postgresql://user:pass@host:5432/db), got scheme "${value.split(":")[0]}"`,
    );
  }
  return "postgresql://" + value.slice(match[0].length);
}

function drainSeconds(env: Env): number {
  const raw = env.DRAIN_SECONDS?.trim();
  if (!raw) return 5;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > MAX_DRAIN_SECONDS) {
    throw new ConfigError(
      "DRAIN_SECONDS",
      `must be a number of seconds between 0 and ${MAX_DRAIN_SECONDS}, got "${raw}"`,
    );
  }
  return value;
}

function trustedOrigins(env: Env): string[] {
  const raw = env.TRUSTED_ORIGINS?.trim();
  if (!raw) return [];
  return raw
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => new URL(httpUrl("TRUSTED_ORIGINS", entry)).origin);
}

function nonEmpty(env: Env, name: string, fallback: string): string {
  const value = env[name];
  if (value === undefined) return fallback;
  if (!value.trim()) throw new ConfigError(name, `must not be empty (default "${fallback}")`);
  return value.trim();
}

/** Reads and validates the whole configuration; throws ConfigError on the first problem. */
export function loadConfig(env: Env = process.env): AppConfig {
  const databaseUrl = postgresUrl(
    "DATABASE_URL",
    required(env, "DATABASE_URL", "postgresql://taskflow:secret@postgres:5432/taskflow"),
  );
  const betterAuthSecret = required(env, "BETTER_AUTH_SECRET", "$(openssl rand -base64 32)");
  if (betterAuthSecret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(
      "BETTER_AUTH_SECRET",
      `must be at least ${MIN_SECRET_LENGTH} characters (got ${betterAuthSecret.length}); generate one with \`openssl rand -base64 32\``,
    );
  }
  const betterAuthUrl = httpUrl(
    "BETTER_AUTH_URL",
    required(env, "BETTER_AUTH_URL", "https://taskflow.example.com"),
  );
  const backendUrl = httpUrl("BACKEND_URL", required(env, "BACKEND_URL", "http://backend:8000"));
  return {
    databaseUrl,
    betterAuthSecret,
    betterAuthUrl,
    backendUrl,
    jwtIssuer: nonEmpty(env, "JWT_ISSUER", "taskflow"),
    jwtAudience: nonEmpty(env, "JWT_AUDIENCE", "taskflow-api"),
    drainSeconds: drainSeconds(env),
    trustedOrigins: trustedOrigins(env),
  };
}
