// The widget's logic without the DOM: the visitor API client (/widget/v1, see
// /work/contract/widget-api.md), where the visitor token is kept, and the message list
// (merging socket frames and catch-up pages without duplicates, the unread count).
// It is part of the loader; the window chunk receives these objects when it mounts.

export interface Config {
  name: string;
  greeting: string;
  color: string;
  online: boolean;
  ask_email: boolean;
  max_attachment_bytes: number;
}

export interface Attachment {
  id: number;
  filename: string;
  content_type: string;
  size: number;
  url: string;
}

export interface VisitorMessage {
  id: number;
  direction: "in" | "out";
  body: string;
  sender: { type: "contact" | "user" | "bot"; name: string; avatar_url: string | null };
  attachments: Attachment[];
  created_at: string;
  read: boolean;
  client_id: string | null;
}

export interface Identity {
  identifier: string;
  name?: string;
  email?: string;
  timestamp: number;
  hash: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter = 0,
  ) {
    super(message);
  }
}

/** The visitor token lives in the host page's localStorage (the widget runs in the host
 * page's origin, so browsers that block third-party storage keep it), one key per widget. */
export class TokenStore {
  readonly key: string;
  constructor(
    private storage: Storage | null,
    widgetToken: string,
  ) {
    this.key = `parlour-widget:${widgetToken}`;
  }
  get(): string | null {
    try {
      const raw = this.storage?.getItem(this.key);
      if (!raw) return null;
      const saved = JSON.parse(raw) as { token?: unknown; expires_at?: unknown };
      if (typeof saved.token !== "string") return null;
      if (typeof saved.expires_at === "string" && Date.parse(saved.expires_at) < Date.now()) return null;
      return saved.token;
    } catch {
      return null;
    }
  }
  set(token: string, expiresAt: string): void {
    try {
      this.storage?.setItem(this.key, JSON.stringify({ token, expires_at: expiresAt }));
    } catch {
      /* storage full or denied: the visitor lasts this page view */
    }
  }
  clear(): void {
    try {
      this.storage?.removeItem(this.key);
    } catch {
      /* ignore */
    }
  }
}

type Fetch = typeof fetch;

export class Client {
  token: string | null = null;
  readonly base: string;
  constructor(
    readonly origin: string,
    readonly widgetToken: string,
    private fetchImpl: Fetch = (...args) => fetch(...args),
  ) {
    this.base = `${origin}/widget/v1`;
  }

  private async call<T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<T> {
    const headers: Record<string, string> = { ...extra };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const response = await this.fetchImpl(this.base + path, {
      method,
      headers,
      body: payload,
      credentials: "omit",
      mode: "cors",
    });
    if (!response.ok) {
      let code = "http_" + response.status;
      let message = response.statusText;
      try {
        const error = (await response.json()) as { code?: string; message?: string };
        code = error.code ?? code;
        message = error.message ?? message;
      } catch {
        /* not JSON */
      }
      throw new ApiError(response.status, code, message, Number(response.headers.get("Retry-After")) || 0);
    }
    return (response.status === 204 ? null : await response.json()) as T;
  }

  config(): Promise<Config> {
    return this.call("GET", `/${encodeURIComponent(this.widgetToken)}/config`);
  }

  /** Starts (or resumes) the visitor: refreshes a stored token, or asks for a new one when
   * it is refused. Keeps the token in `store`. */
  async visitor(store: TokenStore, identity: Identity | null = null): Promise<{ visitor_id: number; name: string }> {
    const path = `/${encodeURIComponent(this.widgetToken)}/visitors`;
    type Answer = { visitor_token: string; visitor_id: number; expires_at: string; name: string };
    let answer: Answer;
    const saved = this.token ?? store.get();
    this.token = null;
    try {
      answer = await this.call<Answer>("POST", path, { visitor_token: saved, identity });
    } catch (error) {
      if (!(error instanceof ApiError && error.code === "visitor_token_invalid" && saved)) throw error;
      store.clear();
      answer = await this.call<Answer>("POST", path, { visitor_token: null, identity });
    }
    this.token = answer.visitor_token;
    store.set(answer.visitor_token, answer.expires_at);
    return answer;
  }

  messages(after: number, limit = 50): Promise<{ items: VisitorMessage[]; unread: number }> {
    return this.call("GET", `/messages?after=${after}&limit=${limit}`);
  }

  send(body: string, clientId: string, attachmentIds: number[] = []): Promise<VisitorMessage> {
    const payload: Record<string, unknown> = { body, client_id: clientId };
    if (attachmentIds.length) payload.attachment_ids = attachmentIds;
    return this.call("POST", "/messages", payload, { "Idempotency-Key": clientId });
  }

  upload(file: File): Promise<Attachment> {
    const form = new FormData();
    form.append("file", file);
    return this.call("POST", "/attachments", form);
  }

  read(upTo: number): Promise<null> {
    return this.call("POST", "/read", { up_to: upTo });
  }

  email(email: string): Promise<null> {
    return this.call("POST", "/email", { email });
  }

  typing(): Promise<null> {
    return this.call("POST", "/typing");
  }

  socketUrl(): string {
    return `${this.base.replace(/^http/, "ws")}/ws?token=${encodeURIComponent(this.token ?? "")}`;
  }
}

/** Merges messages (a catch-up page, a socket frame, a POST's answer) into a list sorted by
 * id, each id once: a later copy of the same id replaces the earlier (it may be read now). */
export function mergeMessages(list: VisitorMessage[], incoming: VisitorMessage[]): VisitorMessage[] {
  const byId = new Map<number, VisitorMessage>();
  for (const m of list) byId.set(m.id, m);
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** Agent replies (direction "out") the visitor has not read. */
export function unreadCount(list: VisitorMessage[]): number {
  return list.filter((m) => m.direction === "out" && !m.read).length;
}

export function latestUnread(list: VisitorMessage[]): VisitorMessage | null {
  for (let i = list.length - 1; i >= 0; i--) if (list[i].direction === "out" && !list[i].read) return list[i];
  return null;
}

/** Marks agent replies up to `upTo` read (after POST /read, or the socket's "read" frame). */
export function markRead(list: VisitorMessage[], upTo: number): VisitorMessage[] {
  return list.map((m) => (m.direction === "out" && !m.read && m.id <= upTo ? { ...m, read: true } : m));
}

export function lastId(list: VisitorMessage[]): number {
  return list.length ? list[list.length - 1].id : 0;
}

/** The thread as the widget knows it, with listeners (the launcher badge, the window). */
export class Thread {
  messages: VisitorMessage[] = [];
  private listeners = new Set<() => void>();
  constructor(private client: Client) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  private emit(): void {
    for (const listener of this.listeners) listener();
  }
  add(incoming: VisitorMessage[]): void {
    if (!incoming.length) return;
    this.messages = mergeMessages(this.messages, incoming);
    this.emit();
  }
  /** Another visitor now (identify()): their thread is fetched again. */
  reset(): void {
    this.messages = [];
    this.emit();
  }
  readUpTo(upTo: number): void {
    this.messages = markRead(this.messages, upTo);
    this.emit();
  }
  unread(): number {
    return unreadCount(this.messages);
  }

  /** Fetches every message after the last one known, page by page (at most `pages`). */
  async catchUp(pages = 20): Promise<void> {
    for (let i = 0; i < pages; i++) {
      const page = await this.client.messages(lastId(this.messages));
      this.add(page.items);
      if (page.items.length < 50) return;
    }
  }

  /** Marks the latest agent reply read on the server and here. */
  async markAllRead(): Promise<void> {
    const latest = latestUnread(this.messages);
    if (!latest) return;
    await this.client.read(latest.id);
    this.readUpTo(latest.id);
  }
}
