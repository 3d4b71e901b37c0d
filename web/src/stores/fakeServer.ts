// The tests' stand-ins for the server behind fetch and for the WebSocket, shared by the
// stores' tests: each test builds the whole inbox on them, as the app does.

import { afterEach, beforeEach, vi } from "vitest";
import type { ChannelOption, MessageOut, UserOut, ViewOut } from "../api/schemas";
import { conversation, message } from "../realtime/fixtures";

export const me: UserOut = { id: 7, email: "a@x", name: "Ada", role: "admin", avatar_url: null, initials: "A", active: true };

export class FakeWs {
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
export function server() {
  const state = {
    conversations: [conversation(1, { last_message_at: "2026-11-01T10:00:00Z" }), conversation(2, { last_message_at: "2026-11-01T11:00:00Z" })],
    messages: { 1: [message(1, 1)], 2: [message(2, 2)] } as Record<number, MessageOut[]>,
    panelFetches: 0,
    /** The conversations marked read, in order. */
    reads: [] as number[],
    /** The conversations an agent said they type in, in order. */
    typings: [] as number[],
    sent: [] as unknown[],
    failSend: null as null | { status: number; code: string; message: string },
    /** The Idempotency-Key of every message post, and the answers kept by key. */
    sendKeys: [] as (string | null)[],
    keptAnswers: {} as Record<string, MessageOut>,
    /** Posts still to store but whose answer is lost on the way back. */
    loseAnswers: 0,
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
    const known = /^\/conversations\/(\d+)/.exec(path);
    if (known && !state.conversations.some((c) => c.id === Number(known[1]))) {
      return json({ code: "not_found", message: "No such conversation." }, 404);
    }
    let m = /^\/conversations\/(\d+)$/.exec(path);
    if (m) return json(state.conversations.find((c) => c.id === Number(m![1])));
    m = /^\/conversations\/(\d+)\/messages$/.exec(path);
    if (m && method === "GET") return json({ items: state.messages[Number(m[1])] ?? [], older_cursor: null });
    if (m && method === "POST") {
      const key = (init?.headers as Record<string, string> | undefined)?.["Idempotency-Key"] ?? null;
      state.sendKeys.push(key);
      if (state.failSend) return json({ ...state.failSend, details: null }, state.failSend.status);
      if (key && state.keptAnswers[key]) return json(state.keptAnswers[key], 201);
      const body = JSON.parse(String(init?.body));
      state.sent.push(body);
      const out = message(100 + state.sent.length, Number(m[1]), { direction: "out", body: body.body, client_id: body.client_id, status: "queued", created_at: "2026-11-01T12:00:00Z", sender: { type: "user", user_id: 7, name: "Ada", initials: "A" } });
      if (key) state.keptAnswers[key] = out;
      if (state.loseAnswers > 0) {
        state.loseAnswers -= 1;
        throw new TypeError("Failed to fetch");
      }
      return json(out, 201);
    }
    if (/^\/conversations\/\d+\/channels$/.test(path)) {
      const answer = { conversation_id: 1, contact_id: 10, channels: state.channels };
      const hold = state.holdChannels;
      if (hold) await hold;
      return json(answer);
    }
    m = /^\/conversations\/(\d+)\/typing$/.exec(path);
    if (m) {
      state.typings.push(Number(m[1]));
      return new Response(null, { status: 204 });
    }
    m = /^\/conversations\/(\d+)\/read$/.exec(path);
    if (m) {
      state.reads.push(Number(m[1]));
      return json({ conversation_id: 1, contact_id: 10, channels: [] });
    }
    if (/^\/contacts\/\d+$/.test(path)) return json({ id: 10, name: "C", company: "", avatar_url: null, initials: "C", preferred_channel: null, phones: [], emails: [], tags: [], created_at: "", updated_at: state.contactUpdatedAt, notes: [], conversation_id: 1 });
    return json({ code: "not_found", message: path }, 404);
  };
  return { state, fetchImpl };
}

/** Puts a fresh server and socket in place for every test of the file; `srv.state` is the
 * current test's server. */
export function useFakeServer() {
  const srv = { state: null as unknown as ReturnType<typeof server>["state"] };
  beforeEach(() => {
    FakeWs.all = [];
    const s = server();
    srv.state = s.state;
    vi.stubGlobal("fetch", vi.fn(s.fetchImpl));
    vi.stubGlobal("WebSocket", FakeWs);
    vi.stubGlobal("location", { protocol: "http:", host: "t" });
  });
  afterEach(() => vi.unstubAllGlobals());
  return srv;
}
