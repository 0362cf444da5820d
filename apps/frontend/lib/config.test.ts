import { describe, expect, it } from "vitest";

import { ConfigError, loadConfig } from "./config";

const valid = {
  DATABASE_URL: "postgresql://taskflow:pw@db:5432/taskflow",
  BETTER_AUTH_SECRET: "x".repeat(32),
  BETTER_AUTH_URL: "https://taskflow.example.com/",
  BACKEND_URL: "http://backend:8000",
};

function problem(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("loadConfig accepted the environment");
}

describe("loadConfig", () => {
  it("applies the contract's defaults", () => {
    const config = loadConfig(valid);
    expect(config).toEqual({
      databaseUrl: "postgresql://taskflow:pw@db:5432/taskflow",
      betterAuthSecret: "x".repeat(32),
      betterAuthUrl: "https://taskflow.example.com",
      backendUrl: "http://backend:8000",
      jwtIssuer: "taskflow",
      jwtAudience: "taskflow-api",
      drainSeconds: 5,
      trustedOrigins: [],
    });
  });

  it.each(["DATABASE_URL", "BETTER_AUTH_SECRET", "BETTER_AUTH_URL", "BACKEND_URL"])(
    "names %s when it is missing or blank",
    (name) => {
      for (const value of [undefined, "  "]) {
        const error = problem({ ...valid, [name]: value });
        expect(error.variable).toBe(name);
        expect(error.message).toMatch(new RegExp(`^${name} is required`));
        expect(error.message).not.toContain("\n");
      }
    },
  );

  it("accepts the backend's URL forms and hands node-postgres the plain scheme", () => {
    for (const url of ["postgres://u@h/d", "postgresql+asyncpg://u@h/d", "POSTGRESQL://u@h/d"]) {
      expect(loadConfig({ ...valid, DATABASE_URL: url }).databaseUrl).toBe("postgresql://u@h/d");
    }
  });

  it("rejects a non-Postgres DATABASE_URL without echoing its credentials", () => {
    const error = problem({ ...valid, DATABASE_URL: "mysql://root:hunter2@db/x" });
    expect(error.variable).toBe("DATABASE_URL");
    expect(error.message).not.toContain("hunter2");
  });

  it("requires a secret of at least 32 characters", () => {
    const error = problem({ ...valid, BETTER_AUTH_SECRET: "too-short" });
    expect(error.variable).toBe("BETTER_AUTH_SECRET");
    expect(error.message).toContain("at least 32 characters (got 9)");
  });

  it.each([
    ["BETTER_AUTH_URL", "taskflow.example.com"],
    ["BACKEND_URL", "ftp://backend"],
    ["BACKEND_URL", "backend:8000"],
    ["BACKEND_URL", "http://backend:8000/?x=1"],
  ])("rejects %s=%s", (name, value) => {
    expect(problem({ ...valid, [name]: value }).variable).toBe(name);
  });

  it.each(["-1", "abc", "301", "Infinity"])("rejects DRAIN_SECONDS=%s", (value) => {
    expect(problem({ ...valid, DRAIN_SECONDS: value }).variable).toBe("DRAIN_SECONDS");
  });

  it("reads DRAIN_SECONDS, JWT settings and trusted origins", () => {
    const config = loadConfig({
      ...valid,
      DRAIN_SECONDS: "0.5",
      JWT_ISSUER: "iss",
      JWT_AUDIENCE: "aud",
      TRUSTED_ORIGINS: " http://localhost:3000/ , https://b.example.com:8443,",
    });
    expect(config.drainSeconds).toBe(0.5);
    expect(config.jwtIssuer).toBe("iss");
    expect(config.jwtAudience).toBe("aud");
    expect(config.trustedOrigins).toEqual(["http://localhost:3000", "https://b.example.com:8443"]);
  });

  it("refuses an empty JWT_AUDIENCE instead of silently using the default", () => {
    expect(problem({ ...valid, JWT_AUDIENCE: "" }).variable).toBe("JWT_AUDIENCE");
  });

  it("names TRUSTED_ORIGINS when an entry is not a URL", () => {
    expect(problem({ ...valid, TRUSTED_ORIGINS: "http://ok.example.com,not a url" }).variable).toBe("TRUSTED_ORIGINS");
  });
});
