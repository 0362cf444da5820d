"use client";
import { useState, useTransition, type FormEvent } from "react";

import { deleteTaskAction, setCompletedAction, updateTaskAction } from "@/app/tasks/actions";
import type { Failure, Task } from "@/lib/backend";
import { checkTaskDraft, DESCRIPTION_MAX, TITLE_MAX } from "@/lib/task-rules";

interface Props {
  task: Task;
  onChanged: (task: Task) => void;
  onDeleted: (id: number) => void;
  onFailure: (failure: Failure) => void;
}

export function TaskItem({ task, onChanged, onDeleted, onFailure }: Props) {
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(task.title);
  const [description, setDescription] = useState(task.description ?? "");
  const [problem, setProblem] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  function toggle() {
    startTransition(async () => {
      const result = await setCompletedAction(task.id, !task.completed);
      if (result.ok) onChanged(result.data);
      else onFailure(result.failure);
    });
  }

  function remove() {
    startTransition(async () => {
      const result = await deleteTaskAction(task.id);
      if (result.ok) onDeleted(task.id);
      else onFailure(result.failure);
    });
  }

  function startEditing() {
    setTitle(task.title);
    setDescription(task.description ?? "");
    setProblem(null);
    setEditing(true);
  }

  function save(event: FormEvent) {
    event.preventDefault();
    const checked = checkTaskDraft({ title, description });
    if (!checked.ok) {
      setProblem(checked.message);
      return;
    }
    startTransition(async () => {
      const result = await updateTaskAction(task.id, checked.value);
      if (result.ok) {
        onChanged(result.data);
        setEditing(false);
      } else if (result.failure.kind === "invalid") {
        setProblem(result.failure.message);
      } else {
        onFailure(result.failure);
      }
    });
  }

  if (editing) {
    return (
      <li className="task" data-testid="task" aria-busy={pending}>
        <form className="body" onSubmit={save} aria-label={`Edit task ${task.title}`}>
          <label htmlFor={`title-${task.id}`}>Title</label>
          <input
            id={`title-${task.id}`}
            type="text"
            value={title}
            maxLength={TITLE_MAX}
            onChange={(e) => setTitle(e.target.value)}
          />
          <label htmlFor={`description-${task.id}`}>Description</label>
          <textarea
            id={`description-${task.id}`}
            value={description}
            maxLength={DESCRIPTION_MAX}
            onChange={(e) => setDescription(e.target.value)}
          />
          {problem && (
            <p className="alert" role="alert">
              {problem}
            </p>
          )}
          <div className="row">
            <button type="submit" disabled={pending}>
              {pending ? "Saving…" : "Save"}
            </button>
            <button type="button" className="secondary" onClick={() => setEditing(false)} disabled={pending}>
              Cancel
            </button>
          </div>
        </form>
      </li>
    );
  }

  return (
    <li className={task.completed ? "task done" : "task"} data-testid="task" aria-busy={pending}>
      <input
        type="checkbox"
        checked={task.completed}
        onChange={toggle}
        disabled={pending}
        aria-label={task.completed ? `Mark "${task.title}" as not done` : `Mark "${task.title}" as done`}
      />
      <div className="body">
        <div className="title">{task.title}</div>
        {task.description && <div className="description">{task.description}</div>}
      </div>
      <div className="actions">
        <button type="button" className="secondary" onClick={startEditing} disabled={pending}>
          Edit
        </button>
        <button type="button" className="danger" onClick={remove} disabled={pending}>
          {pending ? "…" : "Delete"}
        </button>
      </div>
    </li>
  );
}
