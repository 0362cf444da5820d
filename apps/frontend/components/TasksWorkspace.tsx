"use client";
import { useCallback, useState, useTransition } from "react";

import { listTasksAction } from "@/app/tasks/actions";
import type { Failure, Task } from "@/lib/backend";

import { ChatPanel } from "./ChatPanel";
import { NewTaskForm } from "./NewTaskForm";
import { TaskItem } from "./TaskItem";

interface Props {
  initialTasks: Task[];
  initialFailure: Failure | null;
}

/** Owns the task list so that the form, the items and the assistant all see one copy. */
export function TasksWorkspace({ initialTasks, initialFailure }: Props) {
  const [tasks, setTasks] = useState<Task[]>(initialTasks);
  const [failure, setFailure] = useState<Failure | null>(initialFailure);
  const [reloading, startReload] = useTransition();

  const reload = useCallback(() => {
    startReload(async () => {
      const result = await listTasksAction();
      if (result.ok) {
        setTasks(result.data);
        setFailure(null);
      } else {
        setFailure(result.failure);
      }
    });
  }, []);

  const report = useCallback(
    (problem: Failure) => {
      setFailure(problem);
      // Someone else changed the list (another tab, the assistant): show the current one.
      if (problem.kind === "not_found") reload();
    },
    [reload],
  );

  const replace = (task: Task) => setTasks((current) => current.map((t) => (t.id === task.id ? task : t)));
  const remove = (id: number) => setTasks((current) => current.filter((t) => t.id !== id));
  const add = (task: Task) => setTasks((current) => [...current, task]);

  const open = tasks.filter((t) => !t.completed).length;

  return (
    <div className="workspace">
      <section className="card" aria-labelledby="tasks-heading">
        <h2 id="tasks-heading">Your tasks</h2>
        <p className="muted" role="status">
          {reloading ? "Refreshing…" : `${open} open, ${tasks.length - open} done`}
        </p>
        {failure && (
          <div className="alert" role="alert" data-testid="tasks-error">
            {failure.message}{" "}
            <button type="button" className="secondary" onClick={reload} disabled={reloading}>
              Retry
            </button>
          </div>
        )}
        <NewTaskForm onCreated={add} onFailure={report} />
        {tasks.length === 0 && !failure ? (
          <p className="muted">No tasks yet. Add one above, or ask the assistant.</p>
        ) : (
          <ul className="tasks" aria-label="Tasks">
            {tasks.map((task) => (
              <TaskItem key={task.id} task={task} onChanged={replace} onDeleted={remove} onFailure={report} />
            ))}
          </ul>
        )}
      </section>
      <ChatPanel onTasksChanged={reload} />
    </div>
  );
}
