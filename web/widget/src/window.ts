// The chat window (assets/window-<hash>.js), loaded when the visitor opens the widget.
// It registers its mount function for the loader, which passes the shadow root, the API
// client and the thread; it adds its own stylesheet to the same shadow root.
import { adopt, el, icon, ICON_CLOSE } from "./dom";
import type { WindowContext, WindowHandle } from "./loader";
import type { ApiError, VisitorMessage } from "./state";

// Errors come from the loader's client (another bundle): they are told apart by their
// fields, not with instanceof.
const status = (e: unknown): number => (e as Partial<ApiError>)?.status ?? 0;

const CSS = `
.win{position:fixed;right:20px;bottom:92px;z-index:2147483001;width:380px;height:600px;max-height:calc(100vh - 112px);
display:flex;flex-direction:column;background:#fff;border-radius:14px;overflow:hidden;box-shadow:0 8px 40px rgba(0,0,0,.25)}
@media (max-width:480px){.win{inset:0;width:100%;height:100%;max-height:none;border-radius:0}}
.head{background:var(--pw-color);color:var(--pw-on);padding:16px 48px 16px 18px;position:relative}
.head h2{margin:0;font-size:17px;font-weight:700}
.head p{margin:4px 0 0;font-size:14px;opacity:.9;white-space:pre-wrap}
.x{all:unset;position:absolute;top:10px;right:10px;width:36px;height:36px;border-radius:50%;display:flex;align-items:center;justify-content:center;cursor:pointer}
.x:focus-visible{outline:2px solid var(--pw-on)}
.x svg,.att svg{width:20px;height:20px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round}
.log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:8px;background:#f6f7f9}
.msg{max-width:82%;padding:8px 12px;border-radius:14px;background:#fff;border:1px solid #e3e5e8;white-space:pre-wrap;overflow-wrap:anywhere;align-self:flex-start}
.msg.in{align-self:flex-end;background:var(--pw-color);color:var(--pw-on);border-color:transparent}
.who{display:block;font-size:12px;font-weight:600;color:#555;margin-bottom:2px}
.msg a{color:inherit;text-decoration:underline;display:block}
.state{display:block;font-size:12px;opacity:.85;margin-top:2px}
.retry{all:unset;text-decoration:underline;cursor:pointer;font-size:12px;margin-left:6px}
.typing{min-height:20px;margin:0;padding:0 14px;font-size:13px;color:#555;background:#f6f7f9}
.email{padding:12px 14px;border-top:1px solid #e3e5e8;display:flex;flex-wrap:wrap;gap:8px}
.email p{margin:0;width:100%;font-size:14px}
.email label{flex:1;display:flex;flex-direction:column;font-size:12px;color:#555}
input,textarea{all:unset;box-sizing:border-box;border:1px solid #c9ccd1;border-radius:8px;padding:8px 10px;background:#fff;color:#1a1a1a;font:inherit;min-width:0}
textarea{flex:1;resize:none;max-height:120px;white-space:pre-wrap;overflow-y:auto}
input:focus,textarea:focus{border-color:var(--pw-color);outline:2px solid var(--pw-color);outline-offset:-1px}
.btn{all:unset;background:var(--pw-color);color:var(--pw-on);padding:8px 14px;border-radius:8px;cursor:pointer;font-weight:600;align-self:flex-end}
.btn:focus-visible,.att:focus-visible,.retry:focus-visible{outline:2px solid #111;outline-offset:2px}
.btn[disabled]{opacity:.5;cursor:default}
.composer{display:flex;gap:6px;align-items:flex-end;padding:10px;border-top:1px solid #e3e5e8;flex-wrap:wrap}
.att{all:unset;width:36px;height:36px;display:flex;align-items:center;justify-content:center;border-radius:8px;cursor:pointer;color:#555}
.err{width:100%;margin:0;color:#b42318;font-size:13px}
.err:empty{display:none}
.file{width:100%;font-size:13px;color:#555}
`;
const ICON_ATTACH = "M21 12l-8.5 8.5a5 5 0 0 1-7-7L14 5a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 8";
// What the widget lets a visitor attach: pictures and the documents people send support
// (the server checks again, and refuses HTML, SVG, scripts and archives).
const TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "text/csv"];
const ACCEPT = TYPES.join(",");

interface Pending {
  clientId: string;
  body: string;
  attachments: File[];
  state: "sending" | "failed";
  error?: string;
}

/** A message's element: the body and names as text nodes only, attachment links only for
 * http(s) URLs. */
export function renderMessage(m: VisitorMessage): HTMLElement {
  const node = el("div", { class: `msg ${m.direction}` });
  if (m.direction === "out") node.append(el("span", { class: "who" }, m.sender.name));
  else node.append(el("span", { class: "sr" }, "You: "));
  if (m.body) node.append(document.createTextNode(m.body));
  for (const a of m.attachments) {
    const safe = /^https?:\/\//i.test(a.url);
    node.append(safe ? el("a", { href: a.url, target: "_blank", rel: "noopener noreferrer" }, a.filename) : el("span", {}, a.filename));
  }
  return node;
}

function newClientId(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : `c${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
}

export function mount({ root, client, thread, config, close, renew }: WindowContext): WindowHandle {
  adopt(root, CSS);
  const name = config.name || "Chat";
  const closeButton = el("button", { type: "button", class: "x", "aria-label": "Close chat" }, icon(ICON_CLOSE));
  const log = el("div", { role: "log", "aria-live": "polite", "aria-label": "Messages", class: "log", tabindex: "0" });
  const typing = el("p", { class: "typing", "aria-live": "polite" });
  const textarea = el("textarea", { name: "message", "aria-label": "Message", rows: "1", placeholder: "Write a message…" });
  const fileInput = el("input", { type: "file", accept: ACCEPT, hidden: "", "aria-hidden": "true", tabindex: "-1" });
  const attach = el("button", { type: "button", class: "att", "aria-label": "Attach a file" }, icon(ICON_ATTACH));
  const send = el("button", { type: "submit", class: "btn" }, "Send");
  const chosen = el("p", { class: "file", hidden: "" });
  const error = el("p", { class: "err", role: "alert" });
  const composer = el("form", { class: "composer", "aria-label": "Send a message" }, textarea, fileInput, attach, send, chosen, error);
  const panel = el(
    "section",
    { class: "win", role: "dialog", "aria-label": name, hidden: "" },
    el("div", { class: "head" }, el("h2", {}, name), el("p", {}, config.greeting || ""), closeButton),
    log,
    typing,
  );
  if (config.ask_email) {
    const emailInput = el("input", { type: "email", name: "email", required: "", autocomplete: "email" });
    const emailStatus = el("p", { role: "status" });
    const emailForm = el(
      "form",
      { class: "email", "aria-label": "Leave your email" },
      el("p", {}, "We're away right now. Leave your email and we'll reply there."),
      el("label", {}, "Email", emailInput),
      el("button", { type: "submit", class: "btn" }, "Save"),
      emailStatus,
    );
    emailForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const email = emailInput.value.trim();
      if (!email) return;
      emailStatus.textContent = "Saving…";
      try {
        await client.email(email);
        emailForm.replaceChildren(el("p", { role: "status" }, `Thanks! We'll reply to ${email}.`));
      } catch (e) {
        emailStatus.textContent = status(e) === 422 ? "That email address looks wrong." : "Could not save your email. Try again.";
      }
    });
    panel.append(emailForm);
  }
  panel.append(composer);
  root.querySelector(".pw")?.append(panel);

  let open = false;
  let attachments: File[] = [];
  const pending: Pending[] = [];

  const render = () => {
    const stick = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const seen = new Set<string>();
    const nodes: HTMLElement[] = [];
    for (const m of thread.messages) {
      if (m.client_id) seen.add(m.client_id);
      nodes.push(renderMessage(m));
    }
    for (let i = pending.length - 1; i >= 0; i--) if (seen.has(pending[i].clientId)) pending.splice(i, 1);
    for (const p of pending) {
      const node = el("div", { class: "msg in" }, el("span", { class: "sr" }, "You: "), p.body);
      for (const f of p.attachments) node.append(el("span", { class: "state" }, f.name));
      if (p.state === "sending") node.append(el("span", { class: "state" }, "Sending…"));
      else {
        const retry = el("button", { type: "button", class: "retry" }, "Retry");
        retry.addEventListener("click", () => deliver(p));
        node.append(el("span", { class: "state" }, p.error || "Not sent.", retry));
      }
      nodes.push(node);
    }
    if (!nodes.length) nodes.push(el("p", { class: "state" }, "Send us a message and we'll reply here."));
    log.replaceChildren(...nodes);
    if (stick) log.scrollTop = log.scrollHeight;
  };

  const markRead = () => {
    if (open && document.visibilityState === "visible") thread.markAllRead().catch(() => {});
  };
  thread.subscribe(() => {
    render();
    markRead();
  });

  async function deliver(p: Pending): Promise<void> {
    p.state = "sending";
    render();
    try {
      const ids: number[] = [];
      for (const f of p.attachments) ids.push((await client.upload(f)).id);
      const message = await client.send(p.body, p.clientId, ids);
      thread.add([message]);
    } catch (e) {
      p.state = "failed";
      p.error = status(e) === 429 ? "Too many messages: wait a moment." : "Not sent.";
      render();
    }
  }

  // When the agents were last told the visitor is typing (at most every 3 s).
  let lastTyping = 0;
  const submit = () => {
    const body = textarea.value.trim();
    if (!body && !attachments.length) return;
    lastTyping = 0; // the next message's first keystroke says so at once
    const p: Pending = { clientId: newClientId(), body, attachments, state: "sending" };
    pending.push(p);
    textarea.value = "";
    attachments = [];
    chosen.hidden = true;
    error.textContent = "";
    log.scrollTop = log.scrollHeight;
    deliver(p);
  };
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  textarea.addEventListener("input", () => {
    if (Date.now() - lastTyping < 3000 || !textarea.value) return;
    lastTyping = Date.now();
    if (socket?.readyState === 1) socket.send(JSON.stringify({ type: "typing" }));
    else client.typing().catch(() => {});
  });
  attach.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => {
    const file = fileInput.files?.[0];
    fileInput.value = "";
    if (!file) return;
    const problem = checkFile(file, config.max_attachment_bytes);
    error.textContent = problem ?? "";
    if (problem) return;
    attachments = [file];
    chosen.hidden = false;
    chosen.textContent = `Attached: ${file.name}`;
  });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      close();
    }
  });
  document.addEventListener("visibilitychange", markRead);

  // The socket: opened with the window and kept afterwards (live unread counts), reconnected
  // with back-off; every (re)connect catches up with GET /messages?after=<last id>.
  let socket: WebSocket | null = null;
  let attempt = 0;
  let typingTimer: ReturnType<typeof setTimeout> | undefined;
  const connect = () => {
    const ws = new WebSocket(client.socketUrl());
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      thread.catchUp().catch(() => {});
    };
    ws.onmessage = (event) => {
      let frame: { type?: string; message?: VisitorMessage; name?: string; up_to?: number };
      try {
        frame = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (frame.type === "message" && frame.message) {
        if (frame.message.direction === "out") typing.textContent = "";
        thread.add([frame.message]);
      } else if (frame.type === "typing") {
        typing.textContent = `${frame.name || name} is typing…`;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => (typing.textContent = ""), 5000);
      } else if (frame.type === "read" && typeof frame.up_to === "number") {
        thread.readUpTo(frame.up_to);
      }
    };
    ws.onclose = (event) => {
      socket = null;
      if (event.code === 4403) return; // the widget was disabled or the origin refused
      const delay = backoff(attempt++);
      // A refused token (expired or revoked) is renewed before reconnecting.
      setTimeout(() => (event.code === 4401 ? renew().then(connect, () => setTimeout(connect, delay)) : connect()), delay);
    };
  };
  connect();
  render();

  return {
    show() {
      open = true;
      panel.hidden = false;
      render();
      log.scrollTop = log.scrollHeight;
      markRead();
      textarea.focus();
    },
    hide() {
      open = false;
      panel.hidden = true;
    },
    reconnect() {
      // After identify(): the socket is the old visitor's; the new one opens with the new token.
      attempt = 0;
      socket?.close();
    },
  };
}

/** The reconnect delay: 1 s, 2 s, 4 s … up to 30 s, with jitter. */
export function backoff(attempt: number, random = Math.random): number {
  return Math.min(30_000, 1000 * 2 ** attempt) * (0.75 + random() * 0.5);
}

/** Why a file cannot be attached, or null. */
export function checkFile(file: { size: number; type: string; name: string }, maxBytes: number): string | null {
  if (maxBytes && file.size > maxBytes) return `${file.name} is too large (the limit is ${Math.floor(maxBytes / 1024 / 1024) || 1} MB).`;
  if (!TYPES.includes(file.type))
    return `${file.name}: this type of file cannot be sent.`;
  return null;
}

(window as unknown as { __parlourWidgetWindow: typeof mount }).__parlourWidgetWindow = mount;
