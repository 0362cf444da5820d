import { redirect } from "next/navigation";

import { AuthForm } from "@/components/AuthForm";
import { currentSession } from "@/lib/session";

export default async function SignUpPage() {
  if (await currentSession()) redirect("/tasks");
  return (
    <main className="shell">
      <AuthForm mode="sign-up" />
    </main>
  );
}
