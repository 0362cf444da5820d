import { describe, expect, it } from "vitest";

import { describeDbError, isTransientDbError } from "./db-errors";

describe("isTransientDbError", () => {
  it("waits for network errors and a starting database", () => {
    for (const code of ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "57P03"]) {
      expect(isTransientDbError(Object.assign(new Error("x"), { code }))).toBe(true);
    }
    expect(isTransientDbError(new Error("Connection terminated unexpectedly"))).toBe(true);
  });

  it("gives up at once on wrong credentials, a missing database or a bug", () => {
    for (const code of ["28P01", "3D000", "42501"]) {
      expect(isTransientDbError(Object.assign(new Error("x"), { code }))).toBe(false);
    }
    expect(isTransientDbError(new TypeError("undefined is not a function"))).toBe(false);
    expect(isTransientDbError("oops")).toBe(false);
  });
});

describe("describeDbError", () => {
  it("keeps the message and the code on one line", () => {
    const error = Object.assign(new Error('password authentication failed for user "x"'), { code: "28P01" });
    expect(describeDbError(error)).toBe('password authentication failed for user "x" (28P01)');
    expect(describeDbError(null)).toBe("null");
  });
});
