"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";

import { authClient } from "@/lib/auth-client";
import { authFailureMessage } from "@/lib/auth-messages";

interface Props {
  mode: "sign-in" | "sign-up";
}

export function AuthForm({ mode }: Props) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const signUp = mode === "sign-up";

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const name = String(form.get("name") ?? "").trim();
    const email = String(form.get("email") ?? "").trim();
    const password = String(form.get("password") ?? "");
    if ((signUp && !name) || !email || !password) {
      setError(signUp ? "Fill in name, email and password." : "Fill in email and password.");
      return;
    }
    setPending(true);
    setError(null);
    try {
      const result = signUp
        ? await authClient.signUp.email({ name, email, password })
        : await authClient.signIn.email({ email, password });
      if (result.error) {
        setError(authFailureMessage(result.error));
        return;
      }
      router.replace("/tasks");
      router.refresh();
    } catch {
      setError("The server cannot be reached. Check your connection and try again.");
    } finally {
      setPending(false);
    }
  }

  return (
    <form onSubmit={submit} className="card narrow" aria-busy={pending}>
      <h1>{signUp ? "Create your account" : "Sign in"}</h1>
      {signUp && (
        <>
          <label htmlFor="name">Name</label>
          <input id="name" name="name" type="text" autoComplete="name" required />
        </>
      )}
      <label htmlFor="email">Email</label>
      <input id="email" name="email" type="email" autoComplete="email" required />
      <label htmlFor="password">Password</label>
      <input
        id="password"
        name="password"
        type="password"
        autoComplete={signUp ? "new-password" : "current-password"}
        minLength={signUp ? 8 : undefined}
        required
      />
      {error && (
        <p className="alert" role="alert">
          {error}
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
