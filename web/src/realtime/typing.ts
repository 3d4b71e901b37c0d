// Typing indicators, both ways. A visitor's typing arrives as a published `typing` event
// (never stored, so it carries no seq worth keeping); the agent's is a throttled POST.

import type { LiveEvent } from "./events";

/** How long "… is typing" stays without another typing event. */
export const TYPING_SHOWN_MS = 5000;
/** At most one POST /conversations/{id}/typing per conversation in this long. */
export const TYPING_POST_MS = 3000;

/** Who is typing where: the conversation a visitor types in, until when (ms). */
export interface TypingState {
  conversationId: number | null;
  until: number;
}

export const noTyping: TypingState = { conversationId: null, until: 0 };

/** The typing state after an event: a visitor's typing starts (or extends) it; their
 * message in that conversation ends it. Everything else leaves it as it is. */
export function typingAfter(state: TypingState, event: LiveEvent, openId: number | null, now: number): TypingState {
  if (event.type === "typing") {
    const d = event.data;
    if (d.from !== "visitor" || d.conversation_id !== openId) return state;
    return { conversationId: d.conversation_id, until: now + TYPING_SHOWN_MS };
  }
  if (event.type === "message.created" && state.conversationId !== null) {
    const m = event.data.message;
    if (m.direction === "in" && m.conversation_id === state.conversationId) return noTyping;
  }
  return state;
}

/** Whether the open thread shows "… is typing". */
export function typingShown(state: TypingState, openId: number | null, now: number): boolean {
  return openId !== null && state.conversationId === openId && now < state.until;
}

/** Calls `post(conversationId)` at most once per `interval` per conversation. */
export function createTypingThrottle(post: (conversationId: number) => void, interval = TYPING_POST_MS, now = () => Date.now()) {
  const last = new Map<number, number>();
  return {
    typed(conversationId: number): boolean {
      const t = now();
      const prev = last.get(conversationId);
      if (prev !== undefined && t - prev < interval) return false;
      last.set(conversationId, t);
      post(conversationId);
      return true;
    },
    /** After a send the next keystroke says "typing" again at once. */
    reset(conversationId: number) {
      last.delete(conversationId);
    },
  };
}
