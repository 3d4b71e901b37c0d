// The shell: login gate, the navigation rail, the inbox (panel + dialog window) and the
// settings pages; global shortcuts, the tab title and the connection banner.

import { effect } from "@preact/signals";
import type { ComponentType } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { ContactList } from "./components/ContactList";
import { Login } from "./components/Login";
import { NewConversation } from "./components/NewConversation";
import { QuickEdit } from "./components/QuickEdit";
import { Thread } from "./components/Thread";
import { Avatar } from "./components/common/Avatar";
import { BellIcon, CheckIcon, InboxIcon, LogoutIcon, SettingsIcon } from "./components/common/Icons";
import { linkClick, navigate, parseRoute, path } from "./lib/router";
import { Modal } from "./components/common/Modal";
import { InboxContext, SessionContext, useInbox, useSession } from "./stores/context";
import { createInboxStore, type InboxStore } from "./stores/inbox";
import { createSessionStore } from "./stores/session";

const session = createSessionStore();

/** Loads a page that is not on the first screen in its own chunk, the first time it shows. */
function lazyPage<P>(load: () => Promise<ComponentType<P>>) {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<void> | null = null;
  return function Lazy(props: P & object) {
    const [, setTick] = useState(0);
    if (!loaded) {
      pending ??= load().then((c) => {
        loaded = c;
      });
      void pending.then(() => setTick((n) => n + 1));
      return <div class="page-loading" aria-busy="true" />;
    }
    const C = loaded;
    return <C {...props} />;
  };
}

const Settings = lazyPage<{ tab: string; item?: string }>(() => import("./components/Settings").then((m) => m.Settings));
const Tasks = lazyPage<object>(() => import("./components/Tasks").then((m) => m.Tasks));
void session.restore();

export function App() {
  const status = session.status.value;
  return (
    <SessionContext.Provider value={session}>
      {status === "loading" ? (
        <div class="boot" aria-busy="true" aria-label="Loading" />
      ) : status === "anonymous" ? (
        <Login />
      ) : (
        <Authenticated key={session.user.value!.id} />
      )}
    </SessionContext.Provider>
  );
}

function Authenticated() {
  const s = useSession();
  const inbox = useMemo<InboxStore>(() => createInboxStore(s.user.value!), []);

  useEffect(() => {
    void inbox.start();
    inbox.onRedirect((id) => navigate(`/conversations/${id}`));
    const stopTitle = effect(() => {
      const n = inbox.panel.unreadTotal.value;
      document.title = n > 0 ? `(${n}) Parlour` : "Parlour";
    });
    return () => {
      stopTitle();
      inbox.stop();
    };
  }, []);

  if (path.value === "/login") navigate("/", { replace: true });

  return (
    <InboxContext.Provider value={inbox}>
      <Shell />
    </InboxContext.Provider>
  );
}

function Shell() {
  const inbox = useInbox();
  const s = useSession();
  const route = parseRoute(path.value);
  const [newConv, setNewConv] = useState(false);
  const [editing, setEditing] = useState<number | null>(null);
  const [help, setHelp] = useState(false);
  const conversationId = route.name === "inbox" ? route.conversationId : null;

  useEffect(() => {
    if (route.name === "inbox" && inbox.live.value.openId !== conversationId) void inbox.thread.open(conversationId);
  }, [conversationId, route.name]);

  // Keyboard: N new conversation, / search, J/K next/previous thread.
  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      const t = e.target as HTMLElement;
      const typing = t.closest("input, textarea, select, [contenteditable='true']");
      if (typing || e.metaKey || e.ctrlKey || e.altKey || document.querySelector(".modal")) return;
      if (e.key === "?") {
        e.preventDefault();
        setHelp(true);
      } else if (e.key === "/") {
        e.preventDefault();
        document.getElementById("panel-search")?.focus();
      } else if (e.key === "n" || e.key === "N") {
        e.preventDefault();
        setNewConv(true);
      } else if ((e.key === "j" || e.key === "k") && !t.closest(".conv-list")) {
        const items = inbox.panel.items.value;
        if (!items.length) return;
        const i = items.findIndex((c) => c.id === inbox.live.value.openId);
        const next = e.key === "j" ? Math.min(items.length - 1, i + 1) : Math.max(0, i - 1);
        navigate(`/conversations/${items[next].id}`);
      }
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  const user = s.user.value!;
  const conn = inbox.connection.status.value;
  const toast = inbox.toast.current.value;
  return (
    <div class={`app${conversationId !== null ? " has-thread" : ""}${route.name === "settings" || route.name === "tasks" ? " on-settings" : ""}`}>
      <a class="skip-link" href="#main-thread">
        Skip to conversation
      </a>
      <nav class="rail" aria-label="Main">
        <a class="brand-mark" href="/" onClick={linkClick} aria-label="Parlour inbox">
          P
        </a>
        <a class="rail-link" href="/" onClick={linkClick} aria-label="Inbox" aria-current={route.name === "inbox" ? "page" : undefined} title="Inbox">
          <InboxIcon size={20} />
          {inbox.panel.unreadTotal.value > 0 ? <span class="rail-dot" aria-hidden="true" /> : null}
        </a>
        <a class="rail-link" href="/tasks" onClick={linkClick} aria-label="Tasks" aria-current={route.name === "tasks" ? "page" : undefined} title="Tasks">
          <CheckIcon size={20} />
        </a>
        <a class="rail-link" href="/settings" onClick={linkClick} aria-label="Settings" aria-current={route.name === "settings" ? "page" : undefined} title="Settings">
          <SettingsIcon size={20} />
        </a>
        <span class="spacer" />
        <button
          type="button"
          class={`rail-link${inbox.notifications.enabled.value ? " is-on" : ""}`}
          aria-pressed={inbox.notifications.enabled.value}
          aria-label="Desktop notifications"
          title={inbox.notifications.enabled.value ? "Desktop notifications are on" : "Turn on desktop notifications"}
          onClick={() => void inbox.notifications.setEnabled(!inbox.notifications.enabled.value)}
        >
          <BellIcon size={19} />
        </button>
        <a class="rail-me" href="/settings/profile" onClick={linkClick} aria-label={`Your profile (${user.name})`} title={user.name}>
          <Avatar name={user.name} initials={user.initials} url={user.avatar_url} size={32} decorative />
        </a>
        <button type="button" class="rail-link" aria-label="Log out" title="Log out" onClick={() => void s.logout().then(() => navigate("/"))}>
          <LogoutIcon size={19} />
        </button>
      </nav>
      {conn === "reconnecting" || conn === "connecting" ? (
        <div class={`conn-banner${conn === "connecting" ? " is-quiet" : ""}`} role="status">
          {conn === "reconnecting" ? "Reconnecting…" : "Connecting…"}
          {conn === "reconnecting" ? (
            <button type="button" class="link-btn" onClick={inbox.connection.reconnectNow}>
              Retry now
            </button>
          ) : null}
        </div>
      ) : null}
      {route.name === "settings" ? (
        <Settings tab={route.tab} item={route.item} />
      ) : route.name === "tasks" ? (
        <Tasks />
      ) : (
        <>
          <ContactList onNewConversation={() => setNewConv(true)} onEditContact={setEditing} />
          <main id="main-thread" class="main" tabIndex={-1}>
            <Thread onNewConversation={() => setNewConv(true)} onEditContact={setEditing} />
          </main>
        </>
      )}
      {newConv ? <NewConversation onClose={() => setNewConv(false)} /> : null}
      {editing !== null ? <QuickEdit contactId={editing} onClose={() => setEditing(null)} /> : null}
      {help ? <Shortcuts onClose={() => setHelp(false)} /> : null}
      {toast ? (
        <div class={`toast toast-${toast.kind}`} role={toast.kind === "error" ? "alert" : "status"}>
          {toast.text}
        </div>
      ) : null}
    </div>
  );
}

const SHORTCUTS: [string, string][] = [
  ["N", "New conversation"],
  ["/", "Search in the selected view"],
  ["J / K", "Next / previous conversation"],
  ["↑ / ↓", "Move in the conversation list"],
  ["Enter", "Send (Shift+Enter for a new line)"],
  ["Ctrl+Enter", "Send an email from the email composer"],
  ["Esc", "Close a dialog or panel"],
  ["?", "This list"],
];

function Shortcuts({ onClose }: { onClose: () => void }) {
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose} size="sm">
      <dl class="shortcuts">
        {SHORTCUTS.map(([keys, what]) => (
          <div class="shortcut" key={keys}>
            <dt>
              <kbd>{keys}</kbd>
            </dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
    </Modal>
  );
}
