import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChannelOption, ContactOut, ConversationOut, MessageOut, UserOut, ViewOut } from "../api/schemas";
import { conversation, message } from "../realtime/fixtures";
import { createInboxStore } from "./inbox";

const me: UserOut = { id: 7, email: "a@x", name: "Ada", role: "admin", avatar_url: null, initials: "A", active: true };

class FakeWs {
  static all: FakeWs[] = [];
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeWs.all.push(this);
  }
  frame(f: unknown) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  close() {
    this.onclose?.();
  }
}

/** A tiny in-memory server behind fetch. */
function server() {
  const state = {
    conversations: [conversation(1, { last_message_at: "2026-11-01T10:00:00Z" }), conversation(2, { last_message_at: "2026-11-01T11:00:00Z" })],
    messages: { 1: [message(1, 1)], 2: [message(2, 2)] } as Record<number, MessageOut[]>,
    panelFetches: 0,
    sent: [] as unknown[],
    failSend: null as null | { status: number; code: string; message: string },
    // The communication options as they are now, and a gate that holds the next answer.
    channels: [] as ChannelOption[],
    holdChannels: null as Promise<void> | null,
    contactUpdatedAt: "2026-11-01T09:00:00Z",
    views: [{ id: "all", name: "All", builtin: true, filters: { status: "open" }, count: 2 }] as ViewOut[],
    holdViews: null as Promise<void> | null,
  };
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), "http://t");
    const path = url.pathname.replace("/api/v1", "");
    const method = init?.method ?? "GET";
    if (path === "/views") {
      const answer = state.views.slice();
      const hold = state.holdViews;
      if (hold) await hold;
      return json(answer);
    }
    if (path === "/users") return json([me]);
    if (path === "/conversations" && method === "GET") {
      state.panelFetches += 1;
      const items = state.conversations.slice().sort((a, b) => (b.last_message_at ?? "").localeCompare(a.last_message_at ?? ""));
      return json({ items, next_cursor: null });
    }
    let m = /^\/conversations\/(\d+)$/.exec(path);
    if (m) return json(state.conversations.find((c) => c.id === Number(m![1])));
    m = /^\/conversations\/(\d+)\/messages$/.exec(path);
    if (m && method === "GET") return json({ items: state.messages[Number(m[1])] ?? [], older_cursor: null });
    if (m && method === "POST") {
      if (state.failSend) return json({ ...state.failSend, details: null }, state.failSend.status);
      const body = JSON.parse(String(init?.body));
      state.sent.push(body);
      const out = message(100 + state.sent.length, Number(m[1]), { direction: "out", body: body.body, client_id: body.client_id, status: "queued", created_at: "2026-11-01T12:00:00Z", sender: { type: "user", user_id: 7, name: "Ada", initials: "A" } });
      return json(out, 201);
    }
    if (/^\/conversations\/\d+\/channels$/.test(path)) {
      const answer = { conversation_id: 1, contact_id: 10, channels: state.channels };
      const hold = state.holdChannels;
      if (hold) await hold;
      return json(answer);
    }
    if (/^\/conversations\/\d+\/read$/.test(path)) return json({ conversation_id: 1, contact_id: 10, channels: [] });
    if (/^\/contacts\/\d+$/.test(path)) return json({ id: 10, name: "C", company: "", avatar_url: null, initials: "C", preferred_channel: null, phones: [], emails: [], tags: [], created_at: "", updated_at: state.contactUpdatedAt, notes: [], conversation_id: 1 });
    return json({ code: "not_found", message: path }, 404);
  };
  return { state, fetchImpl };
}

describe("createInboxStore", () => {
  let srv: ReturnType<typeof server>;
  beforeEach(() => {
    FakeWs.all = [];
    srv = server();
    vi.stubGlobal("fetch", vi.fn(srv.fetchImpl));
    vi.stubGlobal("WebSocket", FakeWs);
    vi.stubGlobal("location", { protocol: "http:", host: "t" });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("loads the panel newest first and opens a thread", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    expect(inbox.panelItems.value.map((c) => c.id)).toEqual([2, 1]);
    await inbox.open(1);
    expect(inbox.live.value.thread.map((m) => m.id)).toEqual([1]);
    inbox.stop();
  });

  it("shows a message at once and swaps in the stored one", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    await inbox.open(1);
    const sending = inbox.send(1, { channel: "sms", body: "On my way" });
    expect(inbox.live.value.thread.at(-1)).toMatchObject({ body: "On my way", status: "sending" });
    expect(inbox.live.value.thread.at(-1)!.id).toBeLessThan(0);
    await sending;
    expect(inbox.live.value.thread.map((m) => m.id)).toEqual([1, 101]);
    inbox.stop();
  });

  it("keeps a refused message in the thread with the reason", async () => {
    srv.state.failSend = { status: 422, code: "contact_opted_out", message: "This contact opted out of SMS." };
    const inbox = createInboxStore(me);
    await inbox.start();
    await inbox.open(1);
    await expect(inbox.send(1, { channel: "sms", body: "Hello?" })).rejects.toThrow("opted out");
    expect(inbox.live.value.thread.at(-1)).toMatchObject({ status: "failed", error_code: "contact_opted_out" });
    inbox.stop();
  });

  it("after a reconnect refetches the panel and the open thread", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    await inbox.open(1);
    FakeWs.all[0].frame({ type: "hello", seq: 5 });
    expect(inbox.connection.value).toBe("live");
    const fetchesBefore = srv.state.panelFetches;

    FakeWs.all[0].close();
    expect(inbox.connection.value).toBe("reconnecting");
    // While away, a message arrived in the open thread and that thread moved to the top.
    srv.state.messages[1] = [message(1, 1), message(3, 1)];
    srv.state.conversations[0] = { ...srv.state.conversations[0], last_message_at: "2026-11-01T12:00:00Z" } as ConversationOut;
    await vi.waitFor(() => expect(FakeWs.all.length).toBe(2), { timeout: 2000 });
    expect(FakeWs.all[1].url).toBe("ws://t/api/v1/ws?since=5");
    FakeWs.all[1].frame({ type: "hello", seq: 9 });
    expect(inbox.connection.value).toBe("live");
    await vi.waitFor(() => expect(inbox.live.value.thread.map((m) => m.id)).toEqual([1, 3]));
    expect(srv.state.panelFetches).toBe(fetchesBefore + 1);
    expect(inbox.panelItems.value.map((c) => c.id)).toEqual([1, 2]);
    expect(inbox.live.value.seq).toBe(9);
    inbox.stop();
  });

  it("shows the latest communication options when an earlier answer comes back last", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    await inbox.open(1);
    let release = () => {};
    srv.state.holdChannels = new Promise<void>((r) => (release = r));
    const earlier = inbox.refreshChannels(1); // asked before the contact's SMS number was added
    srv.state.holdChannels = null;
    const sms: ChannelOption = { channel: "sms", available: true, reason: null, reason_code: null, senders: [], recipients: [], default_sender_id: null, default_recipient_id: null };
    srv.state.channels = [sms];
    await inbox.refreshChannels(1);
    release();
    await earlier;
    expect(inbox.channelOptions.value?.channels).toEqual([sms]);
    inbox.stop();
  });

  it("keeps a contact edit whose event arrived while the contact was being fetched", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    await inbox.open(1);
    FakeWs.all[0].frame({ type: "hello", seq: 5 });
    const loading = inbox.loadOpenContact(10);
    const renamed = { id: 10, name: "Renamed", company: "", avatar_url: null, initials: "R", preferred_channel: null, phones: [], emails: [], tags: [], created_at: "", updated_at: "2026-11-01T10:00:00Z" } as ContactOut;
    FakeWs.all[0].frame({ type: "contact.updated", account_id: 1, seq: 6, data: { contact: renamed } });
    await loading; // answers with the copy from before the edit
    expect(inbox.openContact.value?.name).toBe("Renamed");
    expect(inbox.openContact.value?.notes).toEqual([]);
    inbox.stop();
  });

  it("shows the latest views when an earlier answer comes back last", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    let release = () => {};
    srv.state.holdViews = new Promise<void>((r) => (release = r));
    const earlier = inbox.loadViews(); // asked before the view below was saved
    srv.state.holdViews = null;
    const mine: ViewOut = { id: "v1", name: "VIP", builtin: false, filters: { status: "open", tag: "vip" }, count: 1 };
    srv.state.views = [...srv.state.views, mine];
    await inbox.loadViews();
    release();
    await earlier;
    expect(inbox.views.value.map((v) => v.id)).toEqual(["all", "v1"]);
    inbox.stop();
  });
});
