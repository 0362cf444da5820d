import { describe, expect, it } from "vitest";

import { authFailureMessage } from "./auth-messages";

describe("authFailureMessage", () => {
  it("passes Better Auth's own explanation through as a sentence", () => {
    expect(authFailureMessage({ status: 401, message: "Invalid email or password" })).toBe("Invalid email or password.");
    expect(authFailureMessage({ status: 422, message: "User already exists. Use another email." })).toBe(
      "User already exists. Use another email.",
    );
  });

  it("explains rate limiting and hides server errors", () => {
    expect(authFailureMessage({ status: 429, message: "Too many requests" })).toMatch(/Too many attempts/);
    expect(authFailureMessage({ status: 500, message: "relation \"user\" does not exist" })).toMatch(/on our side/);
    expect(authFailureMessage({ status: 400 })).toMatch(/Check your details/);
    expect(authFailureMessage(null)).toMatch(/went wrong/);
  });
});
