"use server";
/**
 * Sign up, sign in and sign out as server actions: the form posts to the frontend, Better Auth
 * runs in-process, and the nextCookies plugin sets or clears the session cookie.
 */
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { isAPIError } from "better-auth/api";

import { getAuth } from "@/lib/auth";
import { log } from "@/lib/log";

export interface AuthFormState {
  error?: string;
  email?: string;
  name?: string;
}

function field(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === "string" ? value.trim() : "";
}

/** Better Auth's own message (e.g. "Invalid email or password", "User already exists"). */
function authErrorMessage(error: unknown, fallback: string): string {
  if (isAPIError(error)) {
    const message = (error.body as { message?: unknown } | undefined)?.message ?? error.message;
    if (typeof message === "string" && message) return message.endsWith(".") ? message : `${message}.`;
    return fallback;
  }
  log("error", "auth_action_failed", { error: error instanceof Error ? error.message : String(error) });
  return "Something went wrong on our side. Try again in a moment.";
}

export async function signUpAction(_previous: AuthFormState, form: FormData): Promise<AuthFormState> {
  const name = field(form, "name");
  const email = field(form, "email");
  const password = typeof form.get("password") === "string" ? (form.get("password") as string) : "";
  if (!name || !email || !password) return { error: "Fill in name, email and password.", name, email };
  try {
    await getAuth().api.signUpEmail({ body: { name, email, password }, headers: await headers() });
  } catch (error) {
    return { error: authErrorMessage(error, "Could not create the account."), name, email };
  }
  redirect("/tasks");
}

export async function signInAction(_previous: AuthFormState, form: FormData): Promise<AuthFormState> {
  const email = field(form, "email");
  const password = typeof form.get("password") === "string" ? (form.get("password") as string) : "";
  if (!email || !password) return { error: "Fill in email and password.", email };
  try {
    await getAuth().api.signInEmail({ body: { email, password }, headers: await headers() });
  } catch (error) {
    return { error: authErrorMessage(error, "Could not sign in."), email };
  }
  redirect("/tasks");
}

export async function signOutAction(): Promise<void> {
  try {
    await getAuth().api.signOut({ headers: await headers() });
  } catch (error) {
    // Already signed out (no or expired session): nothing left to end.
    if (!isAPIError(error)) throw error;
  }
  redirect("/sign-in");
}
