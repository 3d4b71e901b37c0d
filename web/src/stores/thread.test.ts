import { describe, expect, it, vi } from "vitest";
import { conversation, message } from "../realtime/fixtures";
import { FakeWs, me, useFakeServer } from "./fakeServer";
import { createInboxStore } from "./inbox";

describe("the thread store", () => {
  const srv = useFakeServer();

  it("marks a thread read when it opens, and tells the server", async () => {
    srv.state.conversations[0] = conversation(1, { last_message_at: "2026-11-01T10:00:00Z", unread_count: 2 });
    const inbox = createInboxStore(me);
    await inbox.start();
    expect(inbox.panel.unreadTotal.value).toBe(2);
    await inbox.thread.open(1);
    expect(inbox.panel.unreadTotal.value).toBe(0);
    await vi.waitFor(() => expect(srv.state.reads).toEqual([1]));
    inbox.stop();
  });

  it("says so when the conversation no longer exists", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    await inbox.thread.open(99);
    expect(inbox.thread.error.value).toBe("This conversation no longer exists.");
    expect(inbox.thread.loading.value).toBe(false);
    expect(inbox.live.value.thread).toEqual([]);
    inbox.stop();
  });

  it("closes the thread and forgets its contact", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    await inbox.thread.open(1);
    await vi.waitFor(() => expect(inbox.contact.details.value?.id).toBe(10));
    await inbox.thread.open(null);
    expect(inbox.thread.conversation.value).toBeNull();
    expect(inbox.contact.details.value).toBeNull();
    expect(inbox.live.value.thread).toEqual([]);
    inbox.stop();
  });
});

describe("typing in the thread", () => {
  const srv = useFakeServer();

  it("shows the visitor typing in the open thread until their message, or 5 s without more", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    FakeWs.all[0].frame({ type: "hello", seq: 1 });
    await inbox.thread.open(1);
    vi.useFakeTimers();
    try {
      const typing = (id: number) => ({ type: "typing", account_id: 1, seq: 0, data: { conversation_id: id, from: "visitor", channel: "webchat" } });
      FakeWs.all[0].frame(typing(2));
      expect(inbox.thread.typingName.value).toBeNull();
      FakeWs.all[0].frame(typing(1));
      expect(inbox.thread.typingName.value).toBe(inbox.live.value.conversations[1].contact.name);
      vi.advanceTimersByTime(4000);
      FakeWs.all[0].frame(typing(1));
      vi.advanceTimersByTime(4000);
      expect(inbox.thread.typingName.value).not.toBeNull();
      vi.advanceTimersByTime(1001);
      expect(inbox.thread.typingName.value).toBeNull();
      FakeWs.all[0].frame(typing(1));
      const conv = inbox.live.value.conversations[1];
      FakeWs.all[0].frame({ type: "message.created", account_id: 1, seq: 2, data: { message: message(50, 1, { direction: "in" }), conversation: conv } });
      expect(inbox.thread.typingName.value).toBeNull();
    } finally {
      vi.useRealTimers();
      inbox.stop();
    }
  });

  it("posts the agent's typing at most every 3 s", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    inbox.thread.agentTyping.typed(1);
    inbox.thread.agentTyping.typed(1);
    await vi.waitFor(() => expect(srv.state.typings).toEqual([1]));
    inbox.stop();
  });
});
