// The inbox: the contacts panel (views, search, pages), the live connection, and the
// open thread. Everything the events touch lives in one LiveState moved forward by the
// pure applyEvent(); this module only fetches, sends, and reacts.

import { batch, computed, signal } from "@preact/signals";
import {
  api,
  ApiError,
  type Channel,
  type ChannelOptions,
  type ContactDetailOut,
  type ConversationOut,
  type MessageIn,
  type MessageOut,
  type UserOut,
  type ViewOut,
} from "../api";
import {
  applyEvent,
  bumpUnread,
  emptyState,
  loadPanel,
  markRead,
  openThread,
  prependOlder,
  storeContact,
  storeConversation,
  storeMessage,
  toMillis,
  totalUnread,
  type LiveState,
} from "../realtime/applyEvent";
import type { LiveEvent } from "../realtime/events";
import { LiveSocket, type SocketStatus } from "../realtime/socket";
import { newClientId } from "../lib/clientId";
import { errorText } from "../lib/errors";

const PAGE = 50;
const VIEW_KEY = "parlour.view";
const NOTIFY_KEY = "parlour.notify";

function storageGet(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function storageSet(key: string, value: string) {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* private mode */
  }
}

export function createInboxStore(me: UserOut) {
  const live = signal<LiveState>(emptyState(me.id));
  const views = signal<ViewOut[]>([]);
  const viewId = signal<string>(storageGet(VIEW_KEY) ?? "all");
  const search = signal("");
  const nextCursor = signal<string | null>(null);
  const panelLoading = signal(false);
  const panelError = signal<string | null>(null);
  const connection = signal<SocketStatus>("connecting");
  const users = signal<UserOut[]>([]);
  const olderCursor = signal<string | null>(null);
  const threadLoading = signal(false);
  const olderLoading = signal(false);
  const threadError = signal<string | null>(null);
  const channelOptions = signal<ChannelOptions | null>(null);
  const openContact = signal<ContactDetailOut | null>(null);
  /** Bumped to ask the composer to take focus (after "new conversation"). */
  const composerFocus = signal(0);
  const notify = signal(storageGet(NOTIFY_KEY) === "1");
  const toast = signal<{ text: string; kind: "info" | "error" } | null>(null);

  const panelItems = computed<ConversationOut[]>(() => {
    const s = live.value;
    return s.panel.map((id) => s.conversations[id]).filter(Boolean);
  });
  const openConversation = computed<ConversationOut | null>(() => {
    const s = live.value;
    return s.openId !== null ? (s.conversations[s.openId] ?? null) : null;
  });
  const unreadTotal = computed(() => totalUnread(live.value));
  const currentView = computed(() => views.value.find((v) => v.id === viewId.value) ?? null);
  const usersById = computed(() => {
    const map: Record<number, UserOut> = {};
    for (const u of users.value) map[u.id] = u;
    return map;
  });

  let panelAbort: AbortController | null = null;
  /** Events that arrived while the latest panel page was being fetched (see loadPanel). */
  let panelDuring: LiveEvent[] | null = null;
  let threadToken = 0;
  /** Events that arrived while the open thread's newest page was being fetched. */
  let threadDuring: LiveEvent[] | null = null;
  let syncing = false;
  let buffered: LiveEvent[] = [];
  let socket: LiveSocket | null = null;
  let viewsTimer: ReturnType<typeof setTimeout> | null = null;
  let readTimer: ReturnType<typeof setTimeout> | null = null;
  let optionsTimer: ReturnType<typeof setTimeout> | null = null;
  let toastTimer: ReturnType<typeof setTimeout> | null = null;

  function showToast(text: string, kind: "info" | "error" = "info") {
    toast.value = { text, kind };
    if (toastTimer) clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (toast.value = null), 5000);
  }

  function filtersOf(id: string) {
    return views.value.find((v) => v.id === id)?.filters ?? { status: "open" as const };
  }

  // ---- panel ---------------------------------------------------------------------

  const askViews = latestOnly(() => api.views.list());

  async function loadViews() {
    try {
      const list = await askViews();
      if (!list) return;
      views.value = list;
      if (!views.value.some((v) => v.id === viewId.value) && views.value.length) {
        viewId.value = views.value[0].id;
      }
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) panelError.value = errorText(err);
    }
  }

  function refreshViewsSoon() {
    if (viewsTimer) return;
    viewsTimer = setTimeout(() => {
      viewsTimer = null;
      void askViews()
        .then((list) => {
          if (list) views.value = list;
        })
        .catch(() => undefined);
    }, 1500);
  }

  async function loadPanelPage(append: boolean) {
    if (append && (!nextCursor.value || panelLoading.value)) return;
    panelAbort?.abort();
    const ctrl = new AbortController();
    panelAbort = ctrl;
    const during: LiveEvent[] = [];
    panelDuring = during;
    panelLoading.value = true;
    panelError.value = null;
    const q = search.value.trim();
    try {
      const page = await api.conversations.list(
        { view: viewId.value, q, cursor: append ? nextCursor.value : null, limit: PAGE },
        ctrl.signal,
      );
      if (ctrl.signal.aborted) return;
      batch(() => {
        live.value = loadPanel(live.value, page.items, {
          append,
          complete: page.next_cursor === null,
          query: { filters: filtersOf(viewId.value), q, complete: page.next_cursor === null },
          during,
        });
        nextCursor.value = page.next_cursor;
      });
    } catch (err) {
      if (ctrl.signal.aborted || (err as Error).name === "AbortError") return;
      panelError.value = errorText(err);
    } finally {
      if (panelAbort === ctrl) {
        panelLoading.value = false;
        panelAbort = null;
        panelDuring = null;
      }
    }
  }

  function selectView(id: string) {
    if (id === viewId.value) return;
    viewId.value = id;
    storageSet(VIEW_KEY, id);
    nextCursor.value = null;
    void loadPanelPage(false);
  }

  let searchTimer: ReturnType<typeof setTimeout> | null = null;
  function setSearch(q: string) {
    search.value = q;
    if (searchTimer) clearTimeout(searchTimer);
    searchTimer = setTimeout(() => void loadPanelPage(false), 200);
  }

  async function saveView(name: string, filters: ViewOut["filters"]) {
    const view = await api.views.create(name, filters);
    await loadViews();
    selectView(view.id);
    return view;
  }

  async function deleteView(id: string) {
    await api.views.remove(id);
    if (viewId.value === id) selectView("all");
    await loadViews();
  }

  // ---- thread --------------------------------------------------------------------

  async function open(conversationId: number | null) {
    const token = ++threadToken;
    threadDuring = null;
    if (conversationId === null) {
      batch(() => {
        live.value = openThread(live.value, null, []);
        channelOptions.value = null;
        openContact.value = null;
        olderCursor.value = null;
        threadError.value = null;
      });
      return;
    }
    const sameThread = live.value.openId === conversationId;
    const during: LiveEvent[] = [];
    threadDuring = during;
    batch(() => {
      if (!sameThread) {
        live.value = openThread(live.value, conversationId, []);
        channelOptions.value = null;
        openContact.value = null;
      }
      threadLoading.value = true;
      threadError.value = null;
    });
    try {
      const [page, conv] = await Promise.all([
        api.conversations.messages(conversationId, null, PAGE),
        live.value.conversations[conversationId]
          ? Promise.resolve(live.value.conversations[conversationId])
          : api.conversations.get(conversationId),
      ]);
      if (token !== threadToken) return;
      batch(() => {
        let s = storeConversation(live.value, conv);
        // Keep optimistic copies that are still on their way.
        const pending = sameThread ? s.thread.filter((m) => m.id < 0) : [];
        s = openThread(s, conversationId, page.items.concat(pending), during);
        live.value = s;
        olderCursor.value = page.older_cursor;
      });
      void refreshChannels(conversationId);
      void loadOpenContact(conv.contact.id, token);
      markOpenRead();
    } catch (err) {
      if (token !== threadToken) return;
      threadError.value = err instanceof ApiError && err.status === 404 ? "This conversation no longer exists." : errorText(err);
    } finally {
      if (token === threadToken) {
        threadLoading.value = false;
        threadDuring = null;
      }
    }
  }

  async function loadOpenContact(contactId: number, token = threadToken) {
    try {
      const fetched = await api.contacts.get(contactId);
      if (token !== threadToken) return;
      // An edit's event may have brought a newer copy while this one was on its way.
      const known = live.value.contacts[contactId];
      const c = known && toMillis(known.updated_at) > toMillis(fetched.updated_at) ? { ...fetched, ...known } : fetched;
      batch(() => {
        openContact.value = c;
        live.value = storeContact(live.value, c);
      });
    } catch {
      /* the bar falls back to the brief */
    }
  }

  const askChannels = latestOnly((conversationId: number) => api.conversations.channels(conversationId));

  async function refreshChannels(conversationId = live.value.openId) {
    if (conversationId === null) return;
    try {
      const opts = await askChannels(conversationId);
      if (opts && live.value.openId === conversationId) channelOptions.value = opts;
    } catch {
      /* keep the last known options */
    }
  }

  function refreshChannelsSoon() {
    if (optionsTimer) clearTimeout(optionsTimer);
    optionsTimer = setTimeout(() => void refreshChannels(), 300);
  }

  async function loadOlder() {
    const id = live.value.openId;
    if (id === null || !olderCursor.value || olderLoading.value) return;
    olderLoading.value = true;
    try {
      const page = await api.conversations.messages(id, olderCursor.value, PAGE);
      if (live.value.openId !== id) return;
      batch(() => {
        live.value = prependOlder(live.value, page.items);
        olderCursor.value = page.older_cursor;
      });
    } catch (err) {
      showToast(errorText(err), "error");
    } finally {
      olderLoading.value = false;
    }
  }

  function markOpenRead() {
    const id = live.value.openId;
    if (id === null) return;
    if (typeof document !== "undefined" && document.hidden) return;
    const had = live.value.unread[id] ?? 0;
    live.value = markRead(live.value, id);
    if (readTimer) clearTimeout(readTimer);
    readTimer = setTimeout(() => {
      void api.conversations.read(id).catch(() => undefined);
      if (had > 0) refreshViewsSoon();
    }, had > 0 ? 0 : 400);
  }

  async function send(conversationId: number, draft: Draft): Promise<MessageOut | null> {
    const clientId = newClientId();
    const now = new Date().toISOString();
    const optimistic: MessageOut = {
      id: -Date.now(),
      conversation_id: conversationId,
      direction: "out",
      channel: draft.channel,
      sender: { type: "user", user_id: me.id, name: me.name, avatar_url: me.avatar_url, initials: me.initials },
      body: draft.body,
      subject: draft.subject ?? null,
      html: draft.html ?? null,
      from_address: null,
      to_address: null,
      phone_number_id: draft.phone_number_id ?? null,
      mailbox_id: draft.mailbox_id ?? null,
      widget_id: draft.widget_id ?? null,
      contact_phone_id: draft.contact_phone_id ?? null,
      contact_email_id: draft.contact_email_id ?? null,
      status: "sending",
      error_code: null,
      error_message: null,
      attachments: [],
      client_id: clientId,
      created_at: now,
      updated_at: now,
    };
    // Fill in the endpoints we already know, so the optimistic copy reads right.
    const opt = channelOptions.value?.channels.find((c) => c.channel === draft.channel);
    if (opt) {
      const sender = opt.senders.find((s) => s.id === (draft.phone_number_id ?? draft.mailbox_id ?? draft.widget_id ?? opt.default_sender_id));
      const recipient = opt.recipients.find((r) => r.id === (draft.contact_phone_id ?? draft.contact_email_id ?? opt.default_recipient_id));
      optimistic.from_address = sender?.address ?? null;
      optimistic.to_address = recipient?.address ?? null;
    }
    live.value = storeMessage(live.value, optimistic);
    try {
      const stored = await api.conversations.send(conversationId, { ...draft, client_id: clientId });
      live.value = storeMessage(live.value, { ...stored, client_id: stored.client_id ?? clientId });
      return stored;
    } catch (err) {
      const failed: MessageOut = {
        ...optimistic,
        status: "failed",
        error_code: err instanceof ApiError ? err.code : "network",
        error_message: errorText(err),
        updated_at: new Date().toISOString(),
      };
      live.value = storeMessage(live.value, failed);
      if (err instanceof ApiError && err.status === 422) refreshChannelsSoon();
      throw err;
    }
  }

  async function retry(message: MessageOut) {
    if (message.id < 0) {
      // Never reached the server: drop the failed copy and send it again.
      live.value = { ...live.value, thread: live.value.thread.filter((m) => m.id !== message.id) };
      await send(message.conversation_id, {
        channel: message.channel,
        body: message.body,
        subject: message.subject,
        html: message.html,
        phone_number_id: message.phone_number_id,
        mailbox_id: message.mailbox_id,
        widget_id: message.widget_id,
        contact_phone_id: message.contact_phone_id,
        contact_email_id: message.contact_email_id,
      }).catch(() => undefined);
      return;
    }
    try {
      const updated = await api.conversations.retry(message.conversation_id, message.id);
      live.value = storeMessage(live.value, updated);
    } catch (err) {
      showToast(errorText(err), "error");
    }
  }

  function discard(message: MessageOut) {
    if (message.id >= 0) return;
    live.value = { ...live.value, thread: live.value.thread.filter((m) => m.id !== message.id) };
  }

  async function updateConversation(id: number, patch: { status?: "open" | "closed"; assignee_id?: number | null }) {
    try {
      const conv = await api.conversations.update(id, patch);
      live.value = storeConversation(live.value, conv);
      refreshViewsSoon();
    } catch (err) {
      showToast(errorText(err), "error");
    }
  }

  /** Opens (creating if needed) the thread with a contact and focuses the composer. */
  async function startConversation(contactId: number): Promise<number> {
    const conv = await api.contacts.conversation(contactId);
    live.value = storeConversation(live.value, conv);
    composerFocus.value += 1;
    return conv.id;
  }

  function contactChanged(contact: ContactDetailOut | import("../api").ContactOut) {
    batch(() => {
      live.value = storeContact(live.value, contact);
      if (openContact.value && openContact.value.id === contact.id) {
        openContact.value = { ...openContact.value, ...contact };
      }
    });
    refreshChannelsSoon();
  }

  // ---- live ----------------------------------------------------------------------

  function handleEvent(event: LiveEvent) {
    if (syncing) buffered.push(event);
    panelDuring?.push(event);
    threadDuring?.push(event);
    const before = live.value;
    const after = applyEvent(before, event);
    if (after === before) return;
    live.value = after;
    sideEffects(event, before, after);
  }

  function sideEffects(event: LiveEvent, before: LiveState, after: LiveState) {
    switch (event.type) {
      case "message.created": {
        const m = event.data.message;
        refreshViewsSoon();
        if (m.direction === "in") {
          if (after.openId === m.conversation_id) {
            if (typeof document !== "undefined" && document.hidden) live.value = bumpUnread(live.value, m.conversation_id);
            else markOpenRead();
          }
          maybeNotify(event.data.conversation, m);
        }
        if (after.openId === m.conversation_id && !before.conversations[m.conversation_id]?.channels.includes(m.channel)) {
          refreshChannelsSoon();
        }
        break;
      }
      case "conversation.updated":
      case "conversation.read":
        refreshViewsSoon();
        break;
      case "contact.updated": {
        const c = event.data.contact;
        if (openContact.value?.id === c.id) {
          openContact.value = { ...openContact.value, ...c };
          refreshChannelsSoon();
        }
        break;
      }
      case "contact.deleted":
        if (after.mergedInto) void followMerge(after.mergedInto);
        refreshViewsSoon();
        break;
      default:
        break;
    }
  }

  async function followMerge(contactId: number) {
    try {
      const conv = await api.contacts.conversation(contactId);
      live.value = storeConversation(live.value, conv);
      onMergedRedirect?.(conv.id);
    } catch {
      /* nothing to follow */
    }
  }

  let onMergedRedirect: ((conversationId: number) => void) | null = null;
  function onRedirect(fn: (conversationId: number) => void) {
    onMergedRedirect = fn;
  }

  function maybeNotify(conv: ConversationOut, m: MessageOut) {
    if (!notify.value || typeof document === "undefined" || !document.hidden) return;
    if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
    try {
      const n = new Notification(conv.contact.name, {
        body: m.subject || m.body.slice(0, 140),
        tag: `conversation-${conv.id}`,
      });
      n.onclick = () => {
        window.focus();
        onMergedRedirect?.(conv.id);
        n.close();
      };
    } catch {
      /* some browsers only allow notifications from a service worker */
    }
  }

  async function setNotify(on: boolean) {
    if (on && typeof Notification !== "undefined" && Notification.permission !== "granted") {
      const perm = await Notification.requestPermission();
      if (perm !== "granted") {
        showToast("Notifications are blocked in this browser.", "error");
        on = false;
      }
    }
    notify.value = on;
    storageSet(NOTIFY_KEY, on ? "1" : "0");
  }

  async function resync(helloSeq: number) {
    syncing = true;
    buffered = [];
    try {
      await Promise.all([loadPanelPage(false), loadViews()]);
      const openId = live.value.openId;
      if (openId !== null) await open(openId);
      let s = { ...live.value, seq: helloSeq };
      for (const ev of buffered) if (ev.seq > helloSeq) s = applyEvent(s, ev);
      live.value = s;
    } finally {
      syncing = false;
      buffered = [];
    }
  }

  function connect() {
    socket = new LiveSocket({
      onEvent: handleEvent,
      // The first hello needs nothing: the panel is being fetched alongside. After a
      // reconnect, refetch what is on screen, since events may have been missed.
      onHello: (hello, reconnected) => {
        if (reconnected) void resync(hello.seq);
      },
      onStatus: (s) => (connection.value = s),
    });
    socket.start();
  }

  function reconnectNow() {
    socket?.reconnectNow();
  }

  async function start() {
    connect();
    void api.users.list().then((u) => (users.value = u)).catch(() => undefined);
    // The panel does not wait for the views: both start at once, and the view's filters
    // (which events are matched against) are filled in when they arrive.
    const asked = viewId.value;
    await Promise.all([loadViews(), loadPanelPage(false)]);
    if (viewId.value !== asked) await loadPanelPage(false); // the remembered view is gone
    live.value = { ...live.value, query: { ...live.value.query, filters: filtersOf(viewId.value) } };
    if (typeof document !== "undefined") {
      document.addEventListener("visibilitychange", () => {
        if (!document.hidden) markOpenRead();
      });
    }
  }

  function stop() {
    socket?.stop();
    socket = null;
  }

  return {
    live,
    views,
    viewId,
    search,
    nextCursor,
    panelLoading,
    panelError,
    connection,
    users,
    usersById,
    olderCursor,
    threadLoading,
    olderLoading,
    threadError,
    channelOptions,
    openContact,
    composerFocus,
    notify,
    toast,
    panelItems,
    openConversation,
    unreadTotal,
    currentView,
    start,
    stop,
    loadViews,
    loadPanelPage,
    selectView,
    setSearch,
    saveView,
    deleteView,
    open,
    loadOlder,
    send,
    retry,
    discard,
    updateConversation,
    startConversation,
    contactChanged,
    loadOpenContact,
    refreshChannels,
    setNotify,
    showToast,
    reconnectNow,
    onRedirect,
    handleEvent,
  };
}

export type InboxStore = ReturnType<typeof createInboxStore>;

/** A message as the composer hands it over: always with its body; the store adds the
 * client id that matches the stored copy to the optimistic one. */
export type Draft = Omit<MessageIn, "client_id"> & { body: string };

/** Wraps a question to the server so that only the latest one's answer is used: answers
 * can come back out of order, and an earlier one arriving last resolves to undefined. */
function latestOnly<A extends unknown[], T>(ask: (...args: A) => Promise<T>): (...args: A) => Promise<T | undefined> {
  let asked = 0;
  return async (...args: A) => {
    const n = ++asked;
    const answer = await ask(...args);
    return n === asked ? answer : undefined;
  };
}

export const CHANNELS: Channel[] = ["sms", "webchat", "email"];
