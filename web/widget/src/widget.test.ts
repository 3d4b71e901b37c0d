import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { FakeServer, FakeSocket, message, settle } from "./fake";
import type { WindowContext, WindowHandle } from "./loader";
import { Client, Thread } from "./state";
import { backoff, checkFile, mount, renderMessage } from "./window";

describe("rendering", () => {
  it("shows hostile markup literally, as text", () => {
    const node = renderMessage(message(1, "out", '<img src=x onerror="alert(1)"><b>bold</b>'));
    expect(node.querySelector("img")).toBeNull();
    expect(node.querySelector("b")).toBeNull();
    expect(node.textContent).toContain('<img src=x onerror="alert(1)"><b>bold</b>');
    expect(node.textContent).toContain("Ada");
  });
  it("links attachments only to http(s) URLs", () => {
    const node = renderMessage(
      message(2, "out", "", {
        attachments: [
          { id: 1, filename: "menu.pdf", content_type: "application/pdf", size: 10, url: "https://chat.example/a/1" },
          { id: 2, filename: "<evil>", content_type: "text/plain", size: 1, url: "javascript:alert(1)" },
        ],
      }),
    );
    expect([...node.querySelectorAll("a")].map((a) => a.getAttribute("href"))).toEqual(["https://chat.example/a/1"]);
    expect(node.textContent).toContain("<evil>");
  });
  it("checks attachments' size and type, and backs off to 30 s", () => {
    expect(checkFile({ size: 2_000_000, type: "image/png", name: "big.png" }, 1_000_000)).toMatch(/too large/);
    expect(checkFile({ size: 10, type: "application/x-msdownload", name: "a.exe" }, 1_000_000)).toMatch(/cannot be sent/);
    expect(checkFile({ size: 10, type: "image/svg+xml", name: "a.svg" }, 1_000_000)).toMatch(/cannot be sent/);
    expect(checkFile({ size: 10, type: "image/png", name: "a.png" }, 1_000_000)).toBeNull();
    expect(backoff(0, () => 0.5)).toBe(1000);
    expect(backoff(3, () => 0.5)).toBe(8000);
    expect(backoff(20, () => 0.5)).toBe(30000);
  });
});

describe("the window", () => {
  let server: FakeServer;
  let handle: WindowHandle;
  let root: ShadowRoot;
  let thread: Thread;
  let closed = 0;

  const setup = (configure: (s: FakeServer) => void = () => {}) => {
    FakeSocket.all = [];
    vi.stubGlobal("WebSocket", FakeSocket);
    server = new FakeServer();
    configure(server);
    const client = new Client("https://chat.example", "pub", server.fetch);
    client.token = "vt-1";
    thread = new Thread(client);
    const host = document.createElement("div");
    document.body.append(host);
    root = host.attachShadow({ mode: "open" });
    root.append(Object.assign(document.createElement("div"), { className: "pw" }));
    const context: WindowContext = { root, client, thread, config: server.config, close: () => closed++, renew: async () => {} };
    handle = mount(context);
    handle.show();
  };
  const q = <T extends Element>(selector: string) => root.querySelector<T>(selector)!;
  afterEach(() => vi.unstubAllGlobals());

  it("has named parts: header, log, composer", () => {
    setup();
    expect(q("[role=dialog]").getAttribute("aria-label")).toBe("Northwind");
    expect(q("h2").textContent).toBe("Northwind");
    expect(q(".head p").textContent).toBe("Hi! Ask us anything.");
    expect(q("[role=log]")).not.toBeNull();
    expect(q("textarea").getAttribute("aria-label")).toBe("Message");
    expect([...root.querySelectorAll("button")].map((b) => b.getAttribute("aria-label") ?? b.textContent)).toEqual(
      expect.arrayContaining(["Close chat", "Attach a file", "Send"]),
    );
    expect(root.activeElement ?? document.activeElement).toBeTruthy();
  });

  it("sends on Enter, not on Shift+Enter; a failed send can be retried", async () => {
    setup((s) => (s.failSends = 1));
    const textarea = q<HTMLTextAreaElement>("textarea");
    textarea.value = "line one";
    textarea.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", shiftKey: true, bubbles: true }));
    expect(server.calls.filter((c) => c.method === "POST" && c.path === "/messages")).toHaveLength(0);
    textarea.value = "Do you have oat milk?";
    textarea.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(q("[role=log]").textContent).toContain("Sending…");
    await settle();
    expect(q("[role=log]").textContent).toContain("Not sent.");
    const retry = [...root.querySelectorAll("button")].find((b) => b.textContent === "Retry")!;
    retry.click();
    await settle();
    expect(q("[role=log]").textContent).not.toContain("Not sent.");
    expect(q("[role=log]").textContent).toContain("Do you have oat milk?");
    expect(thread.messages.filter((m) => m.body === "Do you have oat milk?")).toHaveLength(1);
    // The same message arriving on the socket too (a second tab) is not shown twice.
    FakeSocket.all[0].open();
    FakeSocket.all[0].frame({ type: "message", message: server.messages[0] });
    expect(q("[role=log]").textContent!.split("Do you have oat milk?")).toHaveLength(2);
  });

  it("shows agent replies and typing live, reads them, and catches up after a reconnect", async () => {
    vi.useFakeTimers();
    try {
      setup();
      const socket = FakeSocket.all[0];
      expect(socket.url).toBe("wss://chat.example/widget/v1/ws?token=vt-1");
      socket.open();
      socket.frame({ type: "typing", name: "Ada" });
      expect(q(".typing").textContent).toBe("Ada is typing…");
      const reply = message(5, "out", "Yes, we do!");
      server.messages.push(reply);
      socket.frame({ type: "message", message: reply });
      expect(q("[role=log]").textContent).toContain("Yes, we do!");
      expect(q(".typing").textContent).toBe("");
      await vi.advanceTimersByTimeAsync(0);
      expect(server.calls.some((c) => c.path === "/read" && (c.body as { up_to: number }).up_to === 5)).toBe(true);
      // Dropped: a reply posted meanwhile comes with the catch-up after the reconnect, once.
      socket.drop();
      server.messages.push(message(6, "out", "Anything else?"));
      await vi.advanceTimersByTimeAsync(2000);
      const again = FakeSocket.all[1];
      expect(again).toBeDefined();
      again.open();
      await vi.advanceTimersByTimeAsync(0);
      expect(server.calls.some((c) => c.path === "/messages?after=5&limit=50")).toBe(true);
      again.frame({ type: "message", message: server.messages[1] });
      expect(thread.messages.map((m) => m.id)).toEqual([5, 6]);
      expect(q("[role=log]").textContent!.split("Anything else?")).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("says it is typing at most every 3 s, and again at once after a send", () => {
    setup();
    const socket = FakeSocket.all[0];
    socket.open();
    const textarea = q<HTMLTextAreaElement>("textarea");
    const type = (text: string) => {
      textarea.value = text;
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    };
    const said = () => socket.sent.filter((s) => JSON.parse(s).type === "typing").length;
    type("D");
    type("Do");
    expect(said()).toBe(1);
    textarea.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    type("A");
    expect(said()).toBe(2);
  });

  it("closes on Escape", () => {
    setup();
    closed = 0;
    q("textarea").dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(closed).toBe(1);
  });

  it("asks for an email when nobody is online, and posts it", async () => {
    setup((s) => {
      s.config = { ...s.config, online: false, ask_email: true };
    });
    const form = q<HTMLFormElement>("form.email");
    expect(form.textContent).toContain("We're away right now. Leave your email and we'll reply there.");
    q<HTMLInputElement>("input[type=email]").value = "sam@example.com";
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    expect(server.calls.find((c) => c.path === "/email")?.body).toEqual({ email: "sam@example.com" });
    expect(root.textContent).toContain("Thanks! We'll reply to sam@example.com.");
  });
});

describe("the loader", () => {
  const server = new FakeServer();
  beforeAll(async () => {
    localStorage.clear();
    server.messages.push(message(1, "in", "Hi"), message(2, "out", "Hello!"), message(3, "out", "<b>Still there?</b>"));
    vi.stubGlobal("fetch", server.fetch);
    const script = document.createElement("script");
    script.src = "https://chat.example/widget.js";
    script.dataset.parlourWidget = "pub-demo";
    document.head.append(script);
    await import("./loader");
    await settle(20);
  });

  const root = () => document.querySelector("parlour-widget")!.shadowRoot!;

  it("reads its widget token and origin from its script tag and keeps the visitor token", () => {
    expect(server.calls[0].path).toBe("/pub-demo/config");
    expect(server.calls[1]).toMatchObject({ method: "POST", path: "/pub-demo/visitors", body: { visitor_token: null, identity: null } });
    expect(localStorage.getItem("parlour-widget:pub-demo")).toContain("vt-new-1");
  });

  it("shows a named launcher with the unread count and a preview of the latest reply, as text", () => {
    const launcher = root().querySelector("button.launcher")!;
    expect(launcher.getAttribute("aria-label")).toBe("Chat with Northwind");
    expect(root().querySelector(".badge")!.textContent).toBe("2");
    expect(root().getElementById("pw-unread")!.textContent).toBe("2 unread messages");
    const preview = root().querySelector<HTMLButtonElement>(".preview")!;
    expect(preview.hidden).toBe(false);
    expect(preview.textContent).toContain("<b>Still there?</b>");
    expect(preview.querySelector("b")!.textContent).toBe("Ada");
    expect(root().adoptedStyleSheets.length).toBeGreaterThan(0);
    expect(typeof (window as unknown as { ParlourWidget: { open: unknown } }).ParlourWidget.open).toBe("function");
  });

  it("identify() vouches for a logged-in user and fetches their thread", async () => {
    const widget = (window as unknown as { ParlourWidget: { identify(i: object): Promise<void> } }).ParlourWidget;
    const identity = { identifier: "cust-42", name: "Sam", timestamp: 1_800_000_000, hash: "ab12" };
    const before = server.calls.length;
    await widget.identify(identity);
    const calls = server.calls.slice(before);
    expect(calls[0]).toMatchObject({ method: "POST", path: "/pub-demo/visitors", body: { visitor_token: "vt-new-1", identity } });
    expect(calls[1].path).toBe("/messages?after=0&limit=50");
  });
});
