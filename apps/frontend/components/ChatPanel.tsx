"use client";
import { useState, useTransition, type FormEvent } from "react";

import { sendChatAction } from "@/app/tasks/actions";
import type { Failure, ToolCall } from "@/lib/backend";
import { checkChatMessage, MESSAGE_MAX } from "@/lib/task-rules";

interface Entry {
  role: "user" | "assistant";
  text: string;
  tools?: ToolCall[];
}

interface Props {
  /** Called after the assistant used tools, which may have changed the task list. */
  onTasksChanged: () => void;
}

export function ChatPanel({ onTasksChanged }: Props) {
  const [entries, setEntries] = useState<Entry[]>([]);
  const [draft, setDraft] = useState("");
  const [conversationId, setConversationId] = useState<number | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [notConfigured, setNotConfigured] = useState(false);
  const [pending, startTransition] = useTransition();

  function send(event: FormEvent) {
    event.preventDefault();
    const checked = checkChatMessage(draft);
    if (!checked.ok) {
      setFailure({ kind: "invalid", message: checked.message });
      return;
    }
    setFailure(null);
    setEntries((current) => [...current, { role: "user", text: checked.value }]);
    setDraft("");
    startTransition(async () => {
      const result = await sendChatAction(checked.value, conversationId);
      if (result.ok) {
        setConversationId(result.data.conversation_id);
        setEntries((current) => [
          ...current,
          { role: "assistant", text: result.data.response, tools: result.data.tool_calls },
        ]);
        if (result.data.tool_calls.length > 0) onTasksChanged();
      } else if (result.failure.kind === "assistant_not_configured") {
        setNotConfigured(true);
      } else {
        if (result.failure.kind === "not_found") setConversationId(null);
        setFailure(result.failure);
      }
    });
  }

  return (
    <section className="card" aria-labelledby="chat-heading">
      <h2 id="chat-heading">Assistant</h2>
      {notConfigured ? (
        <div className="notice" role="status" data-testid="assistant-not-configured">
          <strong>The assistant is not configured on this server.</strong> Your tasks keep working without it;
          an administrator can enable it by giving the backend an OpenAI-compatible API key (OPENAI_API_KEY).
        </div>
      ) : (
        <p className="muted">Ask in plain words: “add milk to my list”, “what is still open?”.</p>
      )}
      <div className="chat-log" aria-live="polite">
        {entries.map((entry, index) => (
          <div key={index} className={`bubble ${entry.role}`}>
            {entry.text}
            {entry.tools && entry.tools.length > 0 && (
              <div className="tools">used: {entry.tools.map((tool) => tool.name).join(", ")}</div>
            )}
          </div>
        ))}
        {pending && (
          <div className="bubble assistant muted" role="status">
            Thinking…
          </div>
        )}
      </div>
      {failure && (
        <p className="alert" role="alert" data-testid="chat-error">
          {failure.message}
        </p>
      )}
      <form onSubmit={send} className="row" aria-label="Message the assistant">
        <input
          type="text"
          aria-label="Message"
          value={draft}
          maxLength={MESSAGE_MAX}
          onChange={(e) => setDraft(e.target.value)}
          disabled={pending || notConfigured}
          placeholder={notConfigured ? "Assistant unavailable" : "Message the assistant"}
        />
        <button type="submit" disabled={pending || notConfigured}>
          Send
        </button>
      </form>
    </section>
  );
}
