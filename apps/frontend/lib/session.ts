/** The signed-in user, for server components and server actions. */
import { headers } from "next/headers";
import { redirect } from "next/navigation";

import { getAuth } from "./auth";
import { BackendClient } from "./backend";
import { loadConfig } from "./config";

export async function currentSession() {
  const requestHeaders = await headers();
  return getAuth().api.getSession({ headers: requestHeaders });
}

export async function requireSession() {
  const session = await currentSession();
  if (!session) redirect("/sign-in");
  return session;
}

/**
 * A backend client for the signed-in user, carrying a fresh JWT from Better Auth's jwt plugin
 * (sub = user id, iss/aud = JWT_ISSUER/JWT_AUDIENCE). Null when nobody is signed in.
 */
export async function backendForCurrentUser(): Promise<BackendClient | null> {
  const requestHeaders = await headers();
  const auth = getAuth();
  const session = await auth.api.getSession({ headers: requestHeaders });
  if (!session) return null;
  const { token } = await auth.api.getToken({ headers: requestHeaders });
  return new BackendClient(loadConfig().backendUrl, session.user.id, token);
}
