"use client";
import Link from "next/link";
import { useActionState } from "react";

import type { AuthFormState } from "@/app/auth-actions";

interface Props {
  mode: "sign-in" | "sign-up";
  action: (previous: AuthFormState, form: FormData) => Promise<AuthFormState>;
}

export function AuthForm({ mode, action }: Props) {
  const [state, formAction, pending] = useActionState(action, {});
  const signUp = mode === "sign-up";
  return (
    <form action={formAction} className="card narrow" aria-busy={pending}>
      <h1>{signUp ? "Create your account" : "Sign in"}</h1>
      {signUp && (
        <>
          <label htmlFor="name">Name</label>
          <input id="name" name="name" type="text" autoComplete="name" required defaultValue={state.name} />
        </>
      )}
      <label htmlFor="email">Email</label>
      <input id="email" name="email" type="email" autoComplete="email" required defaultValue={state.email} />
      <label htmlFor="password">Password</label>
      <input
        id="password"
        name="password"
        type="password"
        autoComplete={signUp ? "new-password" : "current-password"}
        minLength={signUp ? 8 : undefined}
        required
      />
      {state.error && (
        <p className="alert" role="alert">
          {state.error}
        </p>
      )}
      <div className="row">
        <button type="submit" disabled={pending}>
          {pending ? "Please wait…" : signUp ? "Sign up" : "Sign in"}
        </button>
        {signUp ? (
          <span className="muted">
            Have an account? <Link href="/sign-in">Sign in</Link>
          </span>
        ) : (
          <span className="muted">
            New here? <Link href="/sign-up">Create an account</Link>
          </span>
        )}
      </div>
    </form>
  );
}
