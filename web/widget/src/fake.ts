// A fake /widget/v1 server for the unit tests only (the real one is the widget-api branch):
// it answers the contract's routes from an in-memory thread.
import type { VisitorMessage } from "./state";

export interface Call {
  method: string;
  path: string;
  body: unknown;
  headers: Record<string, string>;
}

export function message(id: number, direction: "in" | "out", body: string, extra: Partial<VisitorMessage> = {}): VisitorMessage {
  return {
    id,
    direction,
    body,
    sender: direction === "out" ? { type: "user", name: "Ada", avatar_url: null } : { type: "contact", name: "Visitor 1a2b", avatar_url: null },
    attachments: [],
    created_at: "2026-12-02T05:00:00Z",
    read: direction === "in",
    client_id: null,
    ...extra,
  };
}

export class FakeServer {
  calls: Call[] = [];
  messages: VisitorMessage[] = [];
  validTokens = new Set<string>(["vt-1"]);
  issued = 0;
  failSends = 0;
  config = { name: "Northwind", greeting: "Hi! Ask us anything.", color: "#0a7d5a", online: true, ask_email: false, max_attachment_bytes: 1_000_000 };
  nextId = 100;

  fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const method = init.method ?? "GET";
    const headers = (init.headers ?? {}) as Record<string, string>;
    const body = typeof init.body === "string" ? JSON.parse(init.body) : init.body ?? null;
    const path = url.pathname.replace(/^\/widget\/v1/, "");
    this.calls.push({ method, path: path + url.search, body, headers });
    const json = (status: number, value: unknown) =>
      new Response(value === null ? null : JSON.stringify(value), { status, headers: { "Content-Type": "application/json" } });
    const authorized = () => this.validTokens.has((headers.Authorization ?? "").replace("Bearer ", ""));
    if (path.endsWith("/config")) return json(200, this.config);
    if (path.endsWith("/visitors")) {
      const { visitor_token } = body as { visitor_token: string | null };
      if (visitor_token && !this.validTokens.has(visitor_token)) return json(401, { code: "visitor_token_invalid", message: "x", details: null });
      const token = visitor_token ?? `vt-new-${++this.issued}`;
      this.validTokens.add(token);
      return json(200, { visitor_token: token, visitor_id: 7, expires_at: "2099-01-01T00:00:00Z", name: "Visitor 1a2b" });
    }
    if (!authorized()) return json(401, { code: "visitor_token_invalid", message: "x", details: null });
    if (path === "/messages" && method === "GET") {
      const after = Number(url.searchParams.get("after") ?? 0);
      const limit = Number(url.searchParams.get("limit") ?? 50);
      const items = this.messages.filter((m) => m.id > after).slice(0, limit);
      return json(200, { items, unread: this.messages.filter((m) => m.direction === "out" && !m.read).length });
    }
    if (path === "/messages" && method === "POST") {
      if (this.failSends > 0) {
        this.failSends--;
        return json(503, { code: "unavailable", message: "down", details: null });
      }
      const { body: text, client_id } = body as { body: string; client_id: string };
      const m = message(this.nextId++, "in", text, { client_id });
      this.messages.push(m);
      return json(201, m);
    }
    if (path === "/read") {
      const upTo = (body as { up_to: number }).up_to;
      for (const m of this.messages) if (m.direction === "out" && m.id <= upTo) m.read = true;
      return json(204, null);
    }
    if (path === "/email" || path === "/typing") return json(204, null);
    return json(404, { code: "not_found", message: "Not Found", details: null });
  };
}

/** A WebSocket stand-in the tests drive by hand. */
export class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  frame(value: unknown) {
    this.onmessage?.({ data: JSON.stringify(value) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  close() {
    this.drop(1000);
  }
}

export const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
export async function settle(rounds = 10) {
  for (let i = 0; i < rounds; i++) await tick();
}
