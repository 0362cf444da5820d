import { redirect } from "next/navigation";

import { signInAction } from "@/app/auth-actions";
import { AuthForm } from "@/components/AuthForm";
import { currentSession } from "@/lib/session";

export default async function SignInPage() {
  if (await currentSession()) redirect("/tasks");
  return (
    <main className="shell">
      <AuthForm mode="sign-in" action={signInAction} />
    </main>
  );
}
