// The open thread: opening one (its newest page, then its contact and channels), older
// pages on scroll, the read marker, and the thread's status and assignee.

import { batch, computed, signal, type Signal } from "@preact/signals";
import { api, ApiError, type ConversationOut, type ConversationPatch } from "../api";
import { errorText } from "../lib/errors";
import { markRead as markStateRead, openThread, prependOlder, storeConversation, type LiveState } from "../realtime/applyEvent";
import type { LiveEvent } from "../realtime/events";
import { createTypingThrottle, noTyping, typingAfter, typingShown, type TypingState } from "../realtime/typing";
import type { ContactStore } from "./contact";
import type { ToastStore } from "./toast";

const PAGE = 50;

export interface ThreadDeps {
  live: Signal<LiveState>;
  contact: ContactStore;
  toast: ToastStore;
  /** The views' counts change when a thread is read, closed or reassigned. */
  refreshViewsSoon: () => void;
}

export function createThreadStore({ live, contact, toast, refreshViewsSoon }: ThreadDeps) {
  const olderCursor = signal<string | null>(null);
  const loading = signal(false);
  const olderLoading = signal(false);
  const error = signal<string | null>(null);
  /** Bumped to ask the composer to take focus (after "new conversation"). */
  const composerFocus = signal(0);

  const conversation = computed<ConversationOut | null>(() => {
    const s = live.value;
    return s.openId !== null ? (s.conversations[s.openId] ?? null) : null;
  });

  /** A visitor typing in the open thread (cleared by a timer, their message, or leaving). */
  const typingState = signal<TypingState>(noTyping);
  let typingTimer: ReturnType<typeof setTimeout> | null = null;
  const typingName = computed<string | null>(() => {
    const s = live.value;
    // The timer clears the state; `until` is checked again when it fires.
    if (typingState.value.conversationId === null || typingState.value.conversationId !== s.openId) return null;
    return s.openId !== null ? (s.conversations[s.openId]?.contact.name || "The visitor") : null;
  });

  function clearTyping() {
    if (typingTimer) clearTimeout(typingTimer);
    typingTimer = null;
    if (typingState.value.conversationId !== null) typingState.value = noTyping;
  }

  /** Notes a live event for the typing indicator. */
  function noteTyping(event: LiveEvent) {
    const now = Date.now();
    const next = typingAfter(typingState.value, event, live.value.openId, now);
    if (next === typingState.value) return;
    if (typingTimer) clearTimeout(typingTimer);
    typingTimer = null;
    typingState.value = next;
    if (next.conversationId !== null) {
      typingTimer = setTimeout(function expire() {
        if (!typingShown(typingState.value, live.value.openId, Date.now())) clearTyping();
        else typingTimer = setTimeout(expire, typingState.value.until - Date.now());
      }, next.until - now);
    }
  }

  /** The agent's own typing (web chat only): one POST per few seconds. */
  const agentTyping = createTypingThrottle((id) => void api.conversations.typing(id).catch(() => undefined));

  let token = 0;
  /** Events that arrived while the open thread's newest page was being fetched. */
  let during: LiveEvent[] | null = null;
  let readTimer: ReturnType<typeof setTimeout> | null = null;

  async function open(conversationId: number | null) {
    const mine = ++token;
    during = null;
    if (conversationId !== live.value.openId) clearTyping();
    if (conversationId === null) {
      batch(() => {
        live.value = openThread(live.value, null, []);
        contact.clear();
        olderCursor.value = null;
        error.value = null;
      });
      return;
    }
    const sameThread = live.value.openId === conversationId;
    const seen: LiveEvent[] = [];
    during = seen;
    batch(() => {
      if (!sameThread) {
        live.value = openThread(live.value, conversationId, []);
        contact.clear();
      }
      loading.value = true;
      error.value = null;
    });
    try {
      const [page, conv] = await Promise.all([
        api.conversations.messages(conversationId, null, PAGE),
        live.value.conversations[conversationId]
          ? Promise.resolve(live.value.conversations[conversationId])
          : api.conversations.get(conversationId),
      ]);
      if (mine !== token) return;
      batch(() => {
        let s = storeConversation(live.value, conv);
        // Keep optimistic copies that are still on their way.
        const pending = sameThread ? s.thread.filter((m) => m.id < 0) : [];
        s = openThread(s, conversationId, page.items.concat(pending), seen);
        live.value = s;
        olderCursor.value = page.older_cursor;
      });
      void contact.refreshChannels(conversationId);
      void contact.load(conv.contact.id, () => mine === token);
      markRead();
    } catch (err) {
      if (mine !== token) return;
      error.value = err instanceof ApiError && err.status === 404 ? "This conversation no longer exists." : errorText(err);
    } finally {
      if (mine === token) {
        loading.value = false;
        during = null;
      }
    }
  }

  /** Keeps an event for the newest page on its way, which was read before it happened. */
  function witness(event: LiveEvent) {
    during?.push(event);
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
      toast.show(errorText(err), "error");
    } finally {
      olderLoading.value = false;
    }
  }

  /** Marks the open thread read, unless the tab is hidden (nobody is reading it). */
  function markRead() {
    const id = live.value.openId;
    if (id === null) return;
    if (typeof document !== "undefined" && document.hidden) return;
    const had = live.value.unread[id] ?? 0;
    live.value = markStateRead(live.value, id);
    if (readTimer) clearTimeout(readTimer);
    readTimer = setTimeout(() => {
      void api.conversations.read(id).catch(() => undefined);
      if (had > 0) refreshViewsSoon();
    }, had > 0 ? 0 : 400);
  }

  async function updateConversation(id: number, patch: ConversationPatch) {
    try {
      const conv = await api.conversations.update(id, patch);
      live.value = storeConversation(live.value, conv);
      refreshViewsSoon();
    } catch (err) {
      toast.show(errorText(err), "error");
    }
  }

  /** Opens (creating if needed) the thread with a contact and focuses the composer. */
  async function startConversation(contactId: number): Promise<number> {
    const conv = await api.contacts.conversation(contactId);
    live.value = storeConversation(live.value, conv);
    composerFocus.value += 1;
    return conv.id;
  }

  return {
    olderCursor,
    loading,
    olderLoading,
    error,
    composerFocus,
    conversation,
    open,
    witness,
    typingName,
    noteTyping,
    clearTyping,
    agentTyping,
    loadOlder,
    markRead,
    updateConversation,
    startConversation,
  };
}

export type ThreadStore = ReturnType<typeof createThreadStore>;
