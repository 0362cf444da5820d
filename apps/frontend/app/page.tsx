import Link from "next/link";
import { redirect } from "next/navigation";

import { currentSession } from "@/lib/session";

export default async function Home() {
  if (await currentSession()) redirect("/tasks");
  return (
    <main className="shell">
      <div className="card narrow">
        <h1>TaskFlow</h1>
        <p className="muted">Keep track of your tasks, and let the assistant help.</p>
        <div className="row">
          <Link href="/sign-in">Sign in</Link>
          <span className="muted">or</span>
          <Link href="/sign-up">create an account</Link>
        </div>
      </div>
    </main>
  );
}
