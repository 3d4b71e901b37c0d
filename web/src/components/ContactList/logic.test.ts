import { describe, expect, it } from "vitest";
import type { ConversationOut } from "../../api/schemas";
import { conversation } from "../../realtime/fixtures";
import { moveIndex, nearEnd, previewOf, visibleRange } from "./logic";

describe("visibleRange", () => {
  it("renders only a window of a 10,000-row list", () => {
    const { start, end } = visibleRange(76 * 5000, 760, 10_000, 76, 6);
    expect(start).toBe(4994);
    expect(end).toBe(5017);
    expect(end - start).toBeLessThan(30);
  });

  it("clamps at both ends", () => {
    expect(visibleRange(0, 760, 3)).toEqual({ start: 0, end: 3 });
    expect(visibleRange(-50, 760, 100).start).toBe(0);
  });
});

describe("nearEnd", () => {
  it("asks for the next page before the bottom is reached", () => {
    expect(nearEnd(0, 800, 5000)).toBe(false);
    expect(nearEnd(3700, 800, 5000)).toBe(true);
  });
});

describe("previewOf", () => {
  const by = (sender: ConversationOut["last_message_sender"]) =>
    conversation(1, { last_message_direction: "out", last_message_preview: "Sure", last_message_sender: sender });

  it("says You only for our own last message", () => {
    expect(previewOf(by({ type: "user", user_id: 7, name: "Ada Lovelace" }), 7)).toBe("You: Sure");
    expect(previewOf(conversation(1, { last_message_preview: "" }), 7)).toBe("No messages yet");
  });

  it("names a teammate by first name and a workflow by its name", () => {
    expect(previewOf(by({ type: "user", user_id: 8, name: "Sam Carter" }), 7)).toBe("Sam: Sure");
    expect(previewOf(by({ type: "user", user_id: null, name: "Former user" }), 7)).toBe("Former user: Sure");
    expect(previewOf(by({ type: "bot", user_id: null, name: "Away message" }), 7)).toBe("Away message: Sure");
  });

  it("leaves the contact's own words as they are", () => {
    expect(previewOf(conversation(1, { last_message_sender: { type: "contact", user_id: null, name: "" } }), 7)).toBe("Hello 1");
  });
});

describe("moveIndex", () => {
  it("moves within bounds", () => {
    expect(moveIndex("ArrowDown", 0, 3)).toBe(1);
    expect(moveIndex("ArrowDown", 2, 3)).toBe(2);
    expect(moveIndex("k", 0, 3)).toBe(0);
    expect(moveIndex("End", 0, 3)).toBe(2);
    expect(moveIndex("x", 0, 3)).toBeNull();
  });
});
