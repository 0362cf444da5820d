/**
 * Input rules for tasks, checked in the browser for quick feedback and again on the server
 * before calling the backend. The limits mirror the backend's (TITLE_MAX, DESCRIPTION_MAX,
 * MESSAGE_MAX in apps/backend/app/models.py), which stays the authority.
 */

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 2000;
export const MESSAGE_MAX = 4000;

export interface TaskDraft {
  title: string;
  description: string;
}

/** Trimmed draft, or the message to show when it is not acceptable. */
export function checkTaskDraft(
  draft: TaskDraft,
): { ok: true; value: TaskDraft } | { ok: false; message: string } {
  const title = draft.title.trim();
  const description = draft.description.trim();
  if (!title) return { ok: false, message: "Give the task a title." };
  if (title.length > TITLE_MAX) {
    return { ok: false, message: `The title is too long (${title.length} of at most ${TITLE_MAX} characters).` };
  }
  if (description.length > DESCRIPTION_MAX) {
    return {
      ok: false,
      message: `The description is too long (${description.length} of at most ${DESCRIPTION_MAX} characters).`,
    };
  }
  return { ok: true, value: { title, description } };
}

export function checkChatMessage(message: string): { ok: true; value: string } | { ok: false; message: string } {
  const value = message.trim();
  if (!value) return { ok: false, message: "Type a message for the assistant." };
  if (value.length > MESSAGE_MAX) {
    return { ok: false, message: `The message is too long (${value.length} of at most ${MESSAGE_MAX} characters).` };
  }
  return { ok: true, value };
}
