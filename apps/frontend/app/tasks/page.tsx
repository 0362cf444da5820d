import { SignOutButton } from "@/components/SignOutButton";
import { TasksWorkspace } from "@/components/TasksWorkspace";
import { requireSession } from "@/lib/session";

import { listTasksAction } from "./actions";

export const metadata = { title: "Tasks · TaskFlow" };

export default async function TasksPage() {
  const session = await requireSession();
  const initial = await listTasksAction();
  return (
    <main className="shell">
      <header className="topbar">
        <h1>TaskFlow</h1>
        <div className="row" style={{ marginTop: 0 }}>
          <span className="who">{session.user.email}</span>
          <SignOutButton />
        </div>
      </header>
      <TasksWorkspace
        initialTasks={initial.ok ? initial.data : []}
        initialFailure={initial.ok ? null : initial.failure}
      />
    </main>
  );
}
