"use server";
/**
 * Server actions behind the tasks page. Each returns plain data ({ok, ...}) instead of
 * throwing, so the browser can show the exact state (not found, invalid, assistant not
 * configured, backend down) without Next's generic error page.
 */
import { BackendError, type BackendClient, type ChatReply, type Failure, type Task } from "@/lib/backend";
import { log } from "@/lib/log";
import { backendForCurrentUser } from "@/lib/session";
import { checkChatMessage, checkTaskDraft, type TaskDraft } from "@/lib/task-rules";

export type Result<T> = { ok: true; data: T } | { ok: false; failure: Failure };

const SIGNED_OUT: Failure = { kind: "unauthorized", message: "Your session has expired. Sign in again." };

async function withBackend<T>(action: string, run: (backend: BackendClient) => Promise<T>): Promise<Result<T>> {
  const backend = await backendForCurrentUser();
  if (!backend) return { ok: false, failure: SIGNED_OUT };
  try {
    return { ok: true, data: await run(backend) };
  } catch (error) {
    if (error instanceof BackendError) {
      log("warn", "backend_call_failed", { action, kind: error.failure.kind, status: error.failure.status });
      return { ok: false, failure: error.failure };
    }
    throw error;
  }
}

function invalid(message: string): Result<never> {
  return { ok: false, failure: { kind: "invalid", message } };
}

function taskId(id: unknown): number | null {
  return typeof id === "number" && Number.isSafeInteger(id) && id > 0 ? id : null;
}

export async function listTasksAction(): Promise<Result<Task[]>> {
  return withBackend("list_tasks", (backend) => backend.listTasks());
}

export async function createTaskAction(draft: TaskDraft): Promise<Result<Task>> {
  const checked = checkTaskDraft(draft);
  if (!checked.ok) return invalid(checked.message);
  const { title, description } = checked.value;
  return withBackend("create_task", (backend) => backend.createTask(title, description));
}

export async function updateTaskAction(id: number, draft: TaskDraft): Promise<Result<Task>> {
  const checkedId = taskId(id);
  if (checkedId === null) return invalid("Unknown task.");
  const checked = checkTaskDraft(draft);
  if (!checked.ok) return invalid(checked.message);
  const { title, description } = checked.value;
  return withBackend("update_task", (backend) => backend.updateTask(checkedId, title, description));
}

export async function setCompletedAction(id: number, completed: boolean): Promise<Result<Task>> {
  const checkedId = taskId(id);
  if (checkedId === null || typeof completed !== "boolean") return invalid("Unknown task.");
  return withBackend("set_completed", (backend) => backend.setCompleted(checkedId, completed));
}

export async function deleteTaskAction(id: number): Promise<Result<null>> {
  const checkedId = taskId(id);
  if (checkedId === null) return invalid("Unknown task.");
  return withBackend("delete_task", async (backend) => {
    await backend.deleteTask(checkedId);
    return null;
  });
}

export async function sendChatAction(message: string, conversationId: number | null): Promise<Result<ChatReply>> {
  const checked = checkChatMessage(typeof message === "string" ? message : "");
  if (!checked.ok) return invalid(checked.message);
  const conversation = conversationId === null ? null : taskId(conversationId);
  return withBackend("chat", (backend) => backend.chat(checked.value, conversation));
}
