/**
 * Better Auth's browser client. It calls /api/auth/* on the page's own origin (no base URL, so
 * nothing is baked in at build time). Going through the HTTP endpoints, rather than calling
 * auth.api from server actions, keeps Better Auth's origin check and its rate limits on
 * sign-in and sign-up in force.
 */
import { createAuthClient } from "better-auth/react";

export const authClient = createAuthClient();
