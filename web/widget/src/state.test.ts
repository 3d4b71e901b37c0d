import { describe, expect, it } from "vitest";
import { FakeServer, message } from "./fake";
import { Client, latestUnread, markRead, mergeMessages, Thread, TokenStore, unreadCount } from "./state";

describe("TokenStore", () => {
  it("keeps the visitor token in localStorage under a key named by the widget", () => {
    localStorage.clear();
    const store = new TokenStore(localStorage, "pub-1");
    expect(store.get()).toBeNull();
    store.set("vt-1", "2099-01-01T00:00:00Z");
    expect(localStorage.getItem("parlour-widget:pub-1")).toContain("vt-1");
    expect(new TokenStore(localStorage, "pub-1").get()).toBe("vt-1");
    expect(new TokenStore(localStorage, "pub-2").get()).toBeNull();
  });
  it("forgets an expired or garbled token", () => {
    const store = new TokenStore(localStorage, "pub-3");
    store.set("vt-old", "2000-01-01T00:00:00Z");
    expect(store.get()).toBeNull();
    localStorage.setItem(store.key, "{not json");
    expect(store.get()).toBeNull();
  });
  it("lives without storage (denied): no throw", () => {
    const store = new TokenStore(null, "pub-4");
    store.set("vt", "2099-01-01T00:00:00Z");
    expect(store.get()).toBeNull();
  });
});

describe("messages", () => {
  it("merges catch-up pages and socket frames without duplicates, in id order", () => {
    const list = [message(1, "in", "a"), message(3, "out", "c")];
    const merged = mergeMessages(list, [message(2, "out", "b"), message(3, "out", "c"), message(4, "in", "d")]);
    expect(merged.map((m) => m.id)).toEqual([1, 2, 3, 4]);
    expect(mergeMessages(merged, merged).map((m) => m.id)).toEqual([1, 2, 3, 4]);
  });
  it("counts unread agent replies and finds the latest", () => {
    const list = [message(1, "in", "hi"), message(2, "out", "one"), message(3, "out", "two"), message(4, "in", "ok")];
    expect(unreadCount(list)).toBe(2);
    expect(latestUnread(list)?.body).toBe("two");
    const read = markRead(list, 2);
    expect(unreadCount(read)).toBe(1);
    expect(unreadCount(markRead(list, 3))).toBe(0);
    expect(latestUnread(markRead(list, 3))).toBeNull();
  });
});

describe("Client and Thread against the contract", () => {
  it("starts a new visitor when the stored token is refused, and stores the new one", async () => {
    const server = new FakeServer();
    const store = new TokenStore(localStorage, "pub-5");
    store.set("forged", "2099-01-01T00:00:00Z");
    const client = new Client("https://chat.example", "pub-5", server.fetch);
    await client.visitor(store);
    expect(client.token).toBe("vt-new-1");
    expect(store.get()).toBe("vt-new-1");
    expect(server.calls.filter((c) => c.path.endsWith("/visitors")).map((c) => (c.body as { visitor_token: unknown }).visitor_token)).toEqual(["forged", null]);
    await client.visitor(store);
    expect(client.token).toBe("vt-new-1");
  });
  it("catches up page by page with ?after=<last id>, exactly once", async () => {
    const server = new FakeServer();
    for (let i = 1; i <= 120; i++) server.messages.push(message(i, i % 2 ? "in" : "out", `m${i}`));
    const client = new Client("https://chat.example", "pub", server.fetch);
    client.token = "vt-1";
    const thread = new Thread(client);
    await thread.catchUp();
    expect(thread.messages.map((m) => m.id)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(server.calls.map((c) => c.path)).toEqual(["/messages?after=0&limit=50", "/messages?after=50&limit=50", "/messages?after=100&limit=50"]);
    // A socket frame that is also in the next catch-up page shows once.
    server.messages.push(message(121, "out", "late"));
    thread.add([server.messages[120]]);
    await thread.catchUp();
    expect(thread.messages.filter((m) => m.id === 121)).toHaveLength(1);
    expect(thread.unread()).toBe(61);
    await thread.markAllRead();
    expect(server.calls.at(-1)).toMatchObject({ path: "/read", body: { up_to: 121 } });
    expect(thread.unread()).toBe(0);
  });
  it("sends with the bearer token, a client id and an Idempotency-Key; no cookies", async () => {
    const server = new FakeServer();
    const seen: RequestInit[] = [];
    const client = new Client("https://chat.example", "pub", (input, init) => {
      seen.push(init ?? {});
      return server.fetch(input, init);
    });
    client.token = "vt-1";
    const m = await client.send("hello", "c-1");
    expect(m.client_id).toBe("c-1");
    expect(seen[0].credentials).toBe("omit");
    expect(server.calls[0].headers).toMatchObject({ Authorization: "Bearer vt-1", "Idempotency-Key": "c-1" });
    expect(client.socketUrl()).toBe("wss://chat.example/widget/v1/ws?token=vt-1");
  });
});
