"use client";
import { useState, useTransition, type FormEvent } from "react";

import { createTaskAction } from "@/app/tasks/actions";
import type { Failure, Task } from "@/lib/backend";
import { checkTaskDraft, DESCRIPTION_MAX, TITLE_MAX } from "@/lib/task-rules";

interface Props {
  onCreated: (task: Task) => void;
  onFailure: (failure: Failure) => void;
}

export function NewTaskForm({ onCreated, onFailure }: Props) {
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  function submit(event: FormEvent) {
    event.preventDefault();
    const checked = checkTaskDraft({ title, description });
    if (!checked.ok) {
      setProblem(checked.message);
      return;
    }
    setProblem(null);
    startTransition(async () => {
      const result = await createTaskAction(checked.value);
      if (result.ok) {
        onCreated(result.data);
        setTitle("");
        setDescription("");
      } else if (result.failure.kind === "invalid") {
        setProblem(result.failure.message);
      } else {
        onFailure(result.failure);
      }
    });
  }

  return (
    <form onSubmit={submit} aria-label="New task" aria-busy={pending}>
      <label htmlFor="new-title">Title</label>
      <input
        id="new-title"
        type="text"
        value={title}
        maxLength={TITLE_MAX}
        onChange={(e) => setTitle(e.target.value)}
        placeholder="What needs doing?"
      />
      <label htmlFor="new-description">Description (optional)</label>
      <textarea
        id="new-description"
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
          {pending ? "Adding…" : "Add task"}
        </button>
      </div>
    </form>
  );
}
