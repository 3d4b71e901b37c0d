// The live connection: each event is applied to the LiveState by the pure applyEvent()
// and then reacted to (unread counts, the views' counts, the open contact, a merge to
// follow, a desktop notification). After a reconnect, what is on screen is refetched,
// since events may have been missed, and the events that came meanwhile are re-applied.

import { signal, type Signal } from "@preact/signals";
import { api } from "../api";
import { applyEvent, bumpUnread, storeConversation, type LiveState } from "../realtime/applyEvent";
import type { LiveEvent } from "../realtime/events";
import { LiveSocket, type SocketStatus } from "../realtime/socket";
import type { ContactStore } from "./contact";
import type { NotificationsStore } from "./notifications";
import type { PanelStore } from "./panel";
import type { ThreadStore } from "./thread";

export interface ConnectionDeps {
  live: Signal<LiveState>;
  panel: PanelStore;
  thread: ThreadStore;
  contact: ContactStore;
  notifications: NotificationsStore;
  /** Opens a thread (the app navigates to it). */
  goTo: (conversationId: number) => void;
}

export function createConnectionStore({ live, panel, thread, contact, notifications, goTo }: ConnectionDeps) {
  const status = signal<SocketStatus>("connecting");

  let socket: LiveSocket | null = null;
  let syncing = false;
  let buffered: LiveEvent[] = [];

  function handleEvent(event: LiveEvent) {
    if (syncing) buffered.push(event);
    panel.witness(event);
    thread.witness(event);
    thread.noteTyping(event);
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
        panel.refreshViewsSoon();
        if (m.direction === "in") {
          if (after.openId === m.conversation_id) {
            if (typeof document !== "undefined" && document.hidden) live.value = bumpUnread(live.value, m.conversation_id);
            else thread.markRead();
          }
          notifications.notify(event.data.conversation, m);
        }
        if (after.openId === m.conversation_id && !before.conversations[m.conversation_id]?.channels.includes(m.channel)) {
          contact.refreshChannelsSoon();
        }
        break;
      }
      case "conversation.updated":
      case "conversation.read":
        panel.refreshViewsSoon();
        break;
      case "contact.updated":
        contact.updated(event.data.contact);
        break;
      case "contact.deleted":
        if (after.mergedInto) void followMerge(after.mergedInto);
        panel.refreshViewsSoon();
        break;
      default:
        break;
    }
  }

  /** The open thread's contact was merged into another: open that one's thread. */
  async function followMerge(contactId: number) {
    try {
      const conv = await api.contacts.conversation(contactId);
      live.value = storeConversation(live.value, conv);
      goTo(conv.id);
    } catch {
      /* nothing to follow */
    }
  }

  async function resync(helloSeq: number) {
    syncing = true;
    buffered = [];
    try {
      await Promise.all([panel.loadPage(false), panel.loadViews()]);
      const openId = live.value.openId;
      if (openId !== null) await thread.open(openId);
      let s = { ...live.value, seq: helloSeq };
      for (const ev of buffered) if (ev.seq > helloSeq) s = applyEvent(s, ev);
      live.value = s;
    } finally {
      syncing = false;
      buffered = [];
    }
  }

  function start() {
    socket = new LiveSocket({
      onEvent: handleEvent,
      // The first hello needs nothing: the panel is being fetched alongside. After a
      // reconnect, refetch what is on screen, since events may have been missed.
      onHello: (hello, reconnected) => {
        if (reconnected) void resync(hello.seq);
      },
      onStatus: (s) => (status.value = s),
    });
    socket.start();
  }

  function reconnectNow() {
    socket?.reconnectNow();
  }

  function stop() {
    socket?.stop();
    socket = null;
  }

  return { status, start, stop, reconnectNow, handleEvent };
}

export type ConnectionStore = ReturnType<typeof createConnectionStore>;
