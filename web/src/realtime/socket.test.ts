import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveSocket, backoffDelay, type SocketStatus } from "./socket";

class FakeWs {
  static all: FakeWs[] = [];
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeWs.all.push(this);
  }
  send(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop() {
    this.onclose?.();
  }
  close() {
    this.closed = true;
    this.onclose?.();
  }
}

describe("backoffDelay", () => {
  it("grows exponentially up to the cap, with jitter in the upper half", () => {
    expect(backoffDelay(0, 500, 15000, () => 0)).toBe(250);
    expect(backoffDelay(0, 500, 15000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 15000, () => 1)).toBe(4000);
    expect(backoffDelay(20, 500, 15000, () => 1)).toBe(15000);
  });
});

describe("LiveSocket", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeWs.all = [];
  });
  afterEach(() => vi.useRealTimers());

  function make() {
    const statuses: SocketStatus[] = [];
    const hellos: [number, boolean][] = [];
    const events: number[] = [];
    const socket = new LiveSocket(
      {
        onEvent: (e) => events.push(e.seq),
        onHello: (h, r) => hellos.push([h.seq, r]),
        onStatus: (s) => statuses.push(s),
      },
      {
        url: (since) => (since === null ? "ws://t/api/v1/ws" : `ws://t/api/v1/ws?since=${since}`),
        create: (url) => new FakeWs(url) as unknown as WebSocket,
        random: () => 1,
      },
    );
    return { socket, statuses, hellos, events };
  }

  it("reconnects after a drop, asks for what it missed and reports the state", () => {
    const { socket, statuses, hellos, events } = make();
    socket.start();
    const first = FakeWs.all[0];
    expect(first.url).toBe("ws://t/api/v1/ws");
    first.send({ type: "hello", seq: 10 });
    first.send({ type: "message.created", account_id: 1, seq: 11, data: {} });
    expect(statuses).toEqual(["live"]);

    first.drop();
    expect(statuses.at(-1)).toBe("reconnecting");
    vi.advanceTimersByTime(499);
    expect(FakeWs.all.length).toBe(1);
    vi.advanceTimersByTime(1);
    const second = FakeWs.all[1];
    expect(second.url).toBe("ws://t/api/v1/ws?since=11");

    second.drop();
    vi.advanceTimersByTime(999);
    expect(FakeWs.all.length).toBe(2);
    vi.advanceTimersByTime(1);
    const third = FakeWs.all[2];
    third.send({ type: "hello", seq: 14 });
    third.send({ type: "message.updated", account_id: 1, seq: 12, data: {} });
    expect(statuses.at(-1)).toBe("live");
    expect(hellos).toEqual([[10, false], [14, true]]);
    expect(events).toEqual([11, 12]);
    socket.stop();
    expect(statuses.at(-1)).toBe("closed");
  });

  it("does not reconnect once stopped", () => {
    const { socket } = make();
    socket.start();
    socket.stop();
    vi.advanceTimersByTime(60_000);
    expect(FakeWs.all.length).toBe(1);
  });
});
