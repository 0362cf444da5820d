import { describe, expect, it } from "vitest";

import { checkChatMessage, checkTaskDraft, DESCRIPTION_MAX, MESSAGE_MAX, TITLE_MAX } from "./task-rules";

describe("checkTaskDraft", () => {
  it("trims title and description", () => {
    expect(checkTaskDraft({ title: "  Buy milk ", description: " 2 l \n" })).toEqual({
      ok: true,
      value: { title: "Buy milk", description: "2 l" },
    });
  });

  it("refuses an empty or blank title", () => {
    for (const title of ["", "   ", "\t\n"]) {
      expect(checkTaskDraft({ title, description: "" })).toEqual({ ok: false, message: "Give the task a title." });
    }
  });

  it("accepts exactly the maximum lengths and refuses one more", () => {
    expect(checkTaskDraft({ title: "t".repeat(TITLE_MAX), description: "d".repeat(DESCRIPTION_MAX) }).ok).toBe(true);
    const longTitle = checkTaskDraft({ title: "t".repeat(TITLE_MAX + 1), description: "" });
    expect(longTitle).toEqual({ ok: false, message: `The title is too long (201 of at most ${TITLE_MAX} characters).` });
    expect(checkTaskDraft({ title: "ok", description: "d".repeat(DESCRIPTION_MAX + 1) }).ok).toBe(false);
  });
});

describe("checkChatMessage", () => {
  it("trims, and refuses blank or oversized messages", () => {
    expect(checkChatMessage("  hi ")).toEqual({ ok: true, value: "hi" });
    expect(checkChatMessage("  ").ok).toBe(false);
    expect(checkChatMessage("m".repeat(MESSAGE_MAX + 1)).ok).toBe(false);
  });
});
