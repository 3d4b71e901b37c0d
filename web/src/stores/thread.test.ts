import { describe, expect, it, vi } from "vitest";
import { conversation } from "../realtime/fixtures";
import { me, useFakeServer } from "./fakeServer";
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
