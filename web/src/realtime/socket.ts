// The agent's live connection: /api/v1/ws?since=<seq>, reconnecting with capped,
// jittered back-off. After every reconnect the caller refetches what it shows.

import type { HelloFrame, LiveEvent } from "./events";

export type SocketStatus = "connecting" | "live" | "reconnecting" | "closed";

export interface SocketHandlers {
  onEvent(event: LiveEvent): void;
  /** `reconnected` is false for the first hello of this socket's life. */
  onHello(hello: HelloFrame, reconnected: boolean): void;
  onStatus(status: SocketStatus): void;
}

export interface SocketOptions {
  url?: (since: number | null) => string;
  /** Injected in tests. */
  create?: (url: string) => WebSocket;
  minDelay?: number;
  maxDelay?: number;
  random?: () => number;
}

/** Delay before reconnect attempt `attempt` (0-based): exponential, capped, with jitter. */
export function backoffDelay(attempt: number, min = 500, max = 15_000, random = Math.random): number {
  const base = Math.min(max, min * 2 ** attempt);
  return Math.round(base / 2 + (random() * base) / 2);
}

export function defaultUrl(since: number | null): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const qs = since !== null ? `?since=${since}` : "";
  return `${proto}//${location.host}/api/v1/ws${qs}`;
}

export class LiveSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private hadHello = false;
  private lastSeq: number | null = null;
  private status: SocketStatus = "connecting";
  private readonly opts: Required<SocketOptions>;

  constructor(private readonly handlers: SocketHandlers, opts: SocketOptions = {}) {
    this.opts = {
      url: opts.url ?? defaultUrl,
      create: opts.create ?? ((url) => new WebSocket(url)),
      minDelay: opts.minDelay ?? 500,
      maxDelay: opts.maxDelay ?? 15_000,
      random: opts.random ?? Math.random,
    };
  }

  get seq(): number | null {
    return this.lastSeq;
  }

  start(): void {
    this.stopped = false;
    this.open();
    if (typeof window !== "undefined") {
      window.addEventListener("online", this.onOnline);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (typeof window !== "undefined") window.removeEventListener("online", this.onOnline);
    const ws = this.ws;
    this.ws = null;
    ws?.close();
    this.setStatus("closed");
  }

  /** Drops the connection as a network failure would (used by tests and "retry now"). */
  reconnectNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.attempt = 0;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
    this.open();
  }

  private onOnline = () => {
    if (this.status === "reconnecting") this.reconnectNow();
  };

  private setStatus(status: SocketStatus) {
    if (this.status === status) return;
    this.status = status;
    this.handlers.onStatus(status);
  }

  private open() {
    if (this.stopped) return;
    let ws: WebSocket;
    try {
      ws = this.opts.create(this.opts.url(this.lastSeq));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = (msg) => {
      if (this.ws !== ws) return;
      let frame: { type?: string; seq?: number };
      try {
        frame = JSON.parse(String(msg.data));
      } catch {
        return;
      }
      if (frame.type === "hello") {
        const reconnected = this.hadHello;
        this.hadHello = true;
        this.attempt = 0;
        if (this.lastSeq === null || (frame.seq ?? 0) > this.lastSeq) this.lastSeq = frame.seq ?? 0;
        this.setStatus("live");
        this.handlers.onHello(frame as HelloFrame, reconnected);
        return;
      }
      if (typeof frame.seq === "number" && frame.seq > (this.lastSeq ?? 0)) this.lastSeq = frame.seq;
      if (frame.type && frame.type !== "ping" && frame.type !== "pong") {
        this.handlers.onEvent(frame as LiveEvent);
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.scheduleReconnect();
    };
    ws.onerror = () => {
      // onclose follows and schedules the reconnect.
    };
  }

  private scheduleReconnect() {
    if (this.stopped) return;
    this.setStatus(this.hadHello ? "reconnecting" : "connecting");
    const delay = backoffDelay(this.attempt, this.opts.minDelay, this.opts.maxDelay, this.opts.random);
    this.attempt += 1;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, delay);
  }
}
