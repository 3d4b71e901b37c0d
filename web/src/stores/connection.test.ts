import { describe, expect, it, vi } from "vitest";
import type { ConversationOut } from "../api/schemas";
import { message } from "../realtime/fixtures";
import { FakeWs, me, useFakeServer } from "./fakeServer";
import { createInboxStore } from "./inbox";

describe("the connection store", () => {
  const srv = useFakeServer();

  it("after a reconnect refetches the panel and the open thread", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    await inbox.thread.open(1);
    FakeWs.all[0].frame({ type: "hello", seq: 5 });
    expect(inbox.connection.status.value).toBe("live");
    const fetchesBefore = srv.state.panelFetches;

    FakeWs.all[0].close();
    expect(inbox.connection.status.value).toBe("reconnecting");
    // While away, a message arrived in the open thread and that thread moved to the top.
    srv.state.messages[1] = [message(1, 1), message(3, 1)];
    srv.state.conversations[0] = { ...srv.state.conversations[0], last_message_at: "2026-11-01T12:00:00Z" } as ConversationOut;
    await vi.waitFor(() => expect(FakeWs.all.length).toBe(2), { timeout: 2000 });
    expect(FakeWs.all[1].url).toBe("ws://t/api/v1/ws?since=5");
    FakeWs.all[1].frame({ type: "hello", seq: 9 });
    expect(inbox.connection.status.value).toBe("live");
    await vi.waitFor(() => expect(inbox.live.value.thread.map((m) => m.id)).toEqual([1, 3]));
    expect(srv.state.panelFetches).toBe(fetchesBefore + 1);
    expect(inbox.panel.items.value.map((c) => c.id)).toEqual([1, 2]);
    expect(inbox.live.value.seq).toBe(9);
    inbox.stop();
  });
});
