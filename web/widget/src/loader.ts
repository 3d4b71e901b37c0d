// widget.js, the loader a host page embeds:
//   <script async src="{parlour}/widget.js" data-parlour-widget="{public token}"></script>
// It puts the launcher in a Shadow DOM host, starts the visitor and fetches the unread
// replies; the window's code (assets/window-<hash>.js) loads when the visitor opens it.
import { adopt, el, icon, ICON_CHAT, ICON_CLOSE, safeColor, textOn } from "./dom";
import { ApiError, Client, type Config, type Identity, latestUnread, Thread, TokenStore } from "./state";

declare const __PW_WINDOW__: string;

export interface WindowContext {
  root: ShadowRoot;
  client: Client;
  thread: Thread;
  config: Config;
  close(): void;
  renew(): Promise<unknown>;
}
export interface WindowHandle {
  show(): void;
  hide(): void;
  reconnect(): void;
}
type Mount = (context: WindowContext) => WindowHandle;

const LAUNCHER_CSS = `
:host{all:initial!important;display:block!important;position:static!important;visibility:visible!important;opacity:1!important}
.pw{all:initial;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a}
.pw *{box-sizing:border-box;font:inherit;color:inherit}
.launcher{all:unset;position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;
background:var(--pw-color);color:var(--pw-on);display:flex;align-items:center;justify-content:center;cursor:pointer;
box-shadow:0 4px 16px rgba(0,0,0,.25);transition:transform .15s}
.launcher:hover{transform:scale(1.06)}
@media (prefers-reduced-motion:reduce){.launcher{transition:none}.launcher:hover{transform:none}}
.launcher:focus-visible{outline:3px solid #111;outline-offset:3px}
.launcher svg{width:28px;height:28px;fill:none;stroke:currentColor;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}
.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#d92d20;
color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;border:2px solid #fff}
.preview{all:unset;position:fixed;right:20px;bottom:92px;z-index:2147483000;max-width:280px;padding:12px 14px;border-radius:12px;
background:#fff;color:#1a1a1a;box-shadow:0 4px 20px rgba(0,0,0,.2);cursor:pointer;display:block;white-space:pre-wrap;
overflow:hidden;display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;font:inherit}
.preview b{display:block;font-weight:600;font-size:13px;margin-bottom:2px}
.preview:focus-visible{outline:3px solid var(--pw-color)}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
[hidden]{display:none!important}
`;

function findScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.dataset.parlourWidget) return current;
  // With async, currentScript is still set while the script runs; this is the fallback for
  // loaders that inject the tag (tag managers) or run the file some other way.
  return document.querySelector<HTMLScriptElement>("script[data-parlour-widget][src*='widget.js']");
}

async function start(script: HTMLScriptElement): Promise<void> {
  const widgetToken = script.dataset.parlourWidget ?? "";
  const origin = new URL(script.src, location.href).origin;
  const client = new Client(origin, widgetToken);
  let storage: Storage | null = null;
  try {
    storage = window.localStorage;
  } catch {
    /* storage denied */
  }
  const store = new TokenStore(storage, widgetToken);
  const thread = new Thread(client);
  const api: {
    identify(identity: Identity): Promise<void>;
    open(): void;
    close(): void;
  } = { identify: async () => {}, open: () => {}, close: () => {} };
  // A host page that knows its user before the loader runs may set
  // window.ParlourWidget = { identity: {...} } ahead of the snippet.
  const preset = (window as unknown as { ParlourWidget?: { identity?: Identity } }).ParlourWidget;
  let pendingIdentity: Identity | null = preset?.identity ?? null;
  let ready = false;
  api.identify = async (identity) => {
    pendingIdentity = identity;
    if (ready) {
      await client.visitor(store, identity);
      thread.reset();
      handle?.reconnect();
      await thread.catchUp();
    }
  };
  (window as unknown as { ParlourWidget: typeof api }).ParlourWidget = api;

  let config: Config;
  try {
    config = await client.config();
    await client.visitor(store, pendingIdentity);
  } catch (error) {
    // A disabled widget, a disallowed origin or an unknown token shows no launcher.
    if (error instanceof ApiError) console.info(`Parlour widget: ${error.code}`);
    return;
  }
  ready = true;

  const color = safeColor(config.color);
  const host = el("parlour-widget" as "div");
  const root = host.attachShadow({ mode: "open" });
  adopt(root, `:host{--pw-color:${color};--pw-on:${textOn(color)}}` + LAUNCHER_CSS);
  const name = config.name || "us";
  const badgeText = el("span", { id: "pw-unread", class: "sr" });
  const badge = el("span", { class: "badge", "aria-hidden": "true", hidden: "" });
  const launcher = el(
    "button",
    { type: "button", class: "launcher", "aria-label": `Chat with ${name}`, "aria-expanded": "false", "aria-describedby": "pw-unread" },
    icon(ICON_CHAT),
    badge,
  );
  const preview = el("button", { type: "button", class: "preview", hidden: "" });
  const wrap = el("div", { class: "pw" }, preview, launcher, badgeText);
  root.append(wrap);
  (document.body ?? document.documentElement).append(host);

  let isOpen = false;
  let handle: WindowHandle | null = null;
  let loading: Promise<Mount> | null = null;

  const render = () => {
    const unread = isOpen ? 0 : thread.unread();
    badge.hidden = unread === 0;
    badge.textContent = unread > 9 ? "9+" : String(unread);
    badgeText.textContent = unread ? `${unread} unread ${unread === 1 ? "message" : "messages"}` : "";
    const latest = isOpen ? null : latestUnread(thread.messages);
    preview.hidden = !latest;
    if (latest) {
      preview.replaceChildren(el("b", {}, latest.sender.name || name), latest.body || latest.attachments[0]?.filename || "");
      preview.setAttribute("aria-label", `New message from ${latest.sender.name || name}: ${latest.body}`);
    }
    launcher.replaceChildren(isOpen ? icon(ICON_CLOSE) : icon(ICON_CHAT), badge);
    launcher.setAttribute("aria-expanded", String(isOpen));
  };
  thread.subscribe(render);

  const loadWindow = (): Promise<Mount> =>
    (loading ??= new Promise<Mount>((resolve, reject) => {
      const tag = el("script", { src: `${origin}/widget/${__PW_WINDOW__}`, async: "" });
      tag.onload = () => {
        const mount = (window as unknown as { __parlourWidgetWindow?: Mount }).__parlourWidgetWindow;
        if (mount) resolve(mount);
        else reject(new Error("window chunk did not register"));
      };
      tag.onerror = () => {
        loading = null;
        reject(new Error("window chunk failed to load"));
      };
      document.head.append(tag);
    }));

  api.open = async () => {
    if (isOpen) return;
    isOpen = true;
    render();
    try {
      const mount = await loadWindow();
      handle ??= mount({ root, client, thread, config, close: api.close, renew: () => client.visitor(store, pendingIdentity) });
      if (isOpen) handle.show();
    } catch (error) {
      isOpen = false;
      render();
      console.warn("Parlour widget:", error);
    }
  };
  api.close = () => {
    if (!isOpen) return;
    isOpen = false;
    handle?.hide();
    render();
    launcher.focus();
  };
  launcher.addEventListener("click", () => (isOpen ? api.close() : api.open()));
  preview.addEventListener("click", () => api.open());

  try {
    await thread.catchUp();
  } catch {
    /* the unread count waits for the window */
  }
  render();
  // While the window has never been opened, the unread count is refreshed by polling once
  // a minute when the page is visible (the window's socket takes over once opened).
  setInterval(() => {
    if (!handle && document.visibilityState === "visible") thread.catchUp().catch(() => {});
  }, 60_000);
}

const script = findScript();
if (script) start(script).catch((error) => console.warn("Parlour widget:", error));
