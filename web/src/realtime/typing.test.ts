import { describe, expect, it, vi } from "vitest";
import type { LiveEvent } from "./events";
import { message, conversation } from "./fixtures";
import { createTypingThrottle, noTyping, TYPING_SHOWN_MS, typingAfter, typingShown } from "./typing";

function typing(conversationId: number, from: "visitor" | "user" = "visitor"): LiveEvent {
  return { type: "typing", account_id: 1, seq: 0, data: { conversation_id: conversationId, from, channel: "webchat" } };
}

describe("the visitor's typing", () => {
  it("shows in the open thread for a few seconds after each typing event", () => {
    const s = typingAfter(noTyping, typing(7), 7, 1000);
    expect(typingShown(s, 7, 1000)).toBe(true);
    expect(typingShown(s, 7, 1000 + TYPING_SHOWN_MS - 1)).toBe(true);
    expect(typingShown(s, 7, 1000 + TYPING_SHOWN_MS)).toBe(false);
    const again = typingAfter(s, typing(7), 7, 4000);
    expect(typingShown(again, 7, 1000 + TYPING_SHOWN_MS)).toBe(true);
  });

  it("ignores other threads and the agents' own typing", () => {
    expect(typingAfter(noTyping, typing(8), 7, 0)).toBe(noTyping);
    expect(typingAfter(noTyping, typing(7, "user"), 7, 0)).toBe(noTyping);
    const s = typingAfter(noTyping, typing(7), 7, 0);
    expect(typingShown(s, 8, 0)).toBe(false);
    expect(typingShown(s, null, 0)).toBe(false);
  });

  it("ends when their message arrives, not when ours does", () => {
    const s = typingAfter(noTyping, typing(7), 7, 0);
    const conv = conversation(7);
    const ours: LiveEvent = { type: "message.created", account_id: 1, seq: 5, data: { message: message(1, 7, { direction: "out" }), conversation: conv } };
    expect(typingAfter(s, ours, 7, 1)).toBe(s);
    const theirs: LiveEvent = { type: "message.created", account_id: 1, seq: 6, data: { message: message(2, 7, { direction: "in" }), conversation: conv } };
    expect(typingAfter(s, theirs, 7, 1)).toBe(noTyping);
  });
});

describe("the agent's typing", () => {
  it("posts at most every 3 seconds per conversation, and again at once after a send", () => {
    let t = 0;
    const post = vi.fn();
    const throttle = createTypingThrottle(post, 3000, () => t);
    expect(throttle.typed(7)).toBe(true);
    t = 1000;
    expect(throttle.typed(7)).toBe(false);
    expect(throttle.typed(8)).toBe(true);
    t = 2999;
    expect(throttle.typed(7)).toBe(false);
    t = 3000;
    expect(throttle.typed(7)).toBe(true);
    throttle.reset(7);
    t = 3001;
    expect(throttle.typed(7)).toBe(true);
    expect(post.mock.calls).toEqual([[7], [8], [7], [7]]);
  });
});
