/**
 * Server-side client for the TaskFlow backend (BACKEND_URL). The browser never talks to the
 * backend: server actions call these functions with the signed-in user's Better Auth JWT.
 */

export interface Task {
  id: number;
  user_id: string;
  title: string;
  description: string | null;
  completed: boolean;
  created_at: string;
  updated_at: string;
}

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
  result: unknown;
}

export interface ChatReply {
  conversation_id: number;
  response: string;
  tool_calls: ToolCall[];
}

export type FailureKind =
  | "unauthorized" // token missing, expired or rejected: sign in again
  | "not_found" // the task or conversation is gone (deleted elsewhere, or another user's)
  | "invalid" // the backend rejected the input
  | "assistant_not_configured" // chat disabled: the backend has no OPENAI_API_KEY
  | "unavailable" // backend or its database down / unreachable
  | "timeout"
  | "upstream"; // anything else the backend answered with

/** Plain data, so it can cross the server-action boundary to the browser. */
export interface Failure {
  kind: FailureKind;
  message: string;
  status?: number;
}

export class BackendError extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
    this.name = "BackendError";
  }
}

export interface Timeouts {
  tasksMs: number;
  chatMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  // Task calls are single-row queries; if one takes longer, something is wrong.
  tasksMs: 15_000,
  // The backend gives the model CHAT_TIMEOUT_SECONDS (30 by default) plus tool calls.
  chatMs: 60_000,
};

/** The backend's own explanation from a JSON error body ({detail} from FastAPI, or {error}). */
export function errorDetail(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { detail, error, message } = body as Record<string, unknown>;
  for (const candidate of [detail, error, message]) {
    if (typeof candidate === "string" && candidate.trim()) return candidate.trim();
    if (typeof candidate === "object" && candidate !== null && !Array.isArray(candidate)) {
      const nested = errorDetail(candidate);
      if (nested) return nested;
    }
    // FastAPI validation errors: [{loc, msg, type}, ...]
    if (Array.isArray(candidate) && candidate.length > 0) {
      return candidate
        .map((item) => {
          const entry = item as { loc?: unknown[]; msg?: unknown };
          const field = Array.isArray(entry.loc) ? entry.loc.filter((p) => p !== "body").join(".") : "";
          return field ? `${field}: ${String(entry.msg)}` : String(entry.msg);
        })
        .join("; ");
    }
  }
  return undefined;
}

function errorCode(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { code } = body as { code?: unknown };
  return typeof code === "string" ? code : undefined;
}

/** Maps a backend error response to what the UI shows. */
export function describeFailure(status: number, body: unknown, endpoint: "tasks" | "chat"): Failure {
  const detail = errorDetail(body);
  if (status === 401 || status === 403) {
    return { kind: "unauthorized", status, message: "Your session has expired. Sign in again." };
  }
  if (status === 404) {
    const message =
      endpoint === "chat"
        ? "That conversation no longer exists. Your next message starts a new one."
        : "That task no longer exists. The list has been refreshed.";
    return { kind: "not_found", status, message };
  }
  if (status === 400 || status === 413 || status === 422) {
    return { kind: "invalid", status, message: detail ? `Not accepted: ${detail}` : "The backend did not accept that input." };
  }
  // The backend marks this state with a machine-readable code (apps/backend/app/api/routes/chat.py).
  if (status === 503 && endpoint === "chat" && errorCode(body) === "assistant_not_configured") {
    return { kind: "assistant_not_configured", status, message: detail ?? "The assistant is not configured." };
  }
  if (status === 504) {
    return { kind: "timeout", status, message: detail ?? "The assistant took too long to answer. Try again." };
  }
  if (status === 502 || status === 503) {
    return {
      kind: "unavailable",
      status,
      message: detail ?? "The task service is unavailable right now. Try again in a moment.",
    };
  }
  return { kind: "upstream", status, message: detail ?? `The task service answered with an error (HTTP ${status}).` };
}

interface CallOptions {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  body?: unknown;
  endpoint: "tasks" | "chat";
}

export class BackendClient {
  constructor(
    private readonly baseUrl: string,
    private readonly userId: string,
    private readonly token: string,
    private readonly timeouts: Timeouts = DEFAULT_TIMEOUTS,
  ) {}

  listTasks(): Promise<Task[]> {
    return this.call({ method: "GET", path: "/tasks", endpoint: "tasks" });
  }

  createTask(title: string, description: string): Promise<Task> {
    return this.call({ method: "POST", path: "/tasks", body: { title, description: description || null }, endpoint: "tasks" });
  }

  updateTask(id: number, title: string, description: string): Promise<Task> {
    return this.call({
      method: "PUT",
      path: `/tasks/${id}`,
      body: { title, description: description || null },
      endpoint: "tasks",
    });
  }

  setCompleted(id: number, completed: boolean): Promise<Task> {
    return this.call({ method: "PATCH", path: `/tasks/${id}/complete`, body: { completed }, endpoint: "tasks" });
  }

  async deleteTask(id: number): Promise<void> {
    await this.call({ method: "DELETE", path: `/tasks/${id}`, endpoint: "tasks" });
  }

  chat(message: string, conversationId: number | null): Promise<ChatReply> {
    return this.call({
      method: "POST",
      path: "/chat",
      body: { message, conversation_id: conversationId },
      endpoint: "chat",
    });
  }

  private async call<T>({ method, path, body, endpoint }: CallOptions): Promise<T> {
    const url = `${this.baseUrl}/api/${encodeURIComponent(this.userId)}${path}`;
    const timeoutMs = endpoint === "chat" ? this.timeouts.chatMs : this.timeouts.tasksMs;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          Authorization: `Bearer ${this.token}`,
          Accept: "application/json",
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
        cache: "no-store",
      });
    } catch (error) {
      if (error instanceof Error && error.name === "TimeoutError") {
        throw new BackendError({ kind: "timeout", message: `The task service did not answer within ${timeoutMs / 1000} s.` });
      }
      throw new BackendError({ kind: "unavailable", message: "The task service cannot be reached right now. Try again in a moment." });
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (!response.ok) throw new BackendError(describeFailure(response.status, parsed, endpoint));
    return parsed as T;
  }
}
