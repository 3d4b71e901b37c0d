// The live state of the inbox and the one pure function that moves it forward.
//
// Invariant (STYLE.md §10): a state fetched at time T, with every event after T applied,
// equals a fresh fetch. The tests in applyEvent.test.ts check it per event type.

import type { ContactBrief, ContactOut, ConversationOut, MessageOut, ViewFilters } from "../api/schemas";
import type { LiveEvent } from "./events";

export interface PanelQuery {
  /** Filters of the selected view (from GET /views). */
  filters: ViewFilters;
  /** Search text typed into the panel; events never add rows while it is set. */
  q: string;
  /** True when the panel holds every page (no next_cursor left). */
  complete: boolean;
}

export interface LiveState {
  me: number;
  /** The last event sequence number applied. */
  seq: number;
  /** Every conversation we know, by id. */
  conversations: Record<number, ConversationOut>;
  /** Ids listed in the selected view, newest activity first. */
  panel: number[];
  query: PanelQuery;
  /** Our own unread count per conversation (events carry 0; we count). */
  unread: Record<number, number>;
  /** The thread shown in the dialog window, if any. */
  openId: number | null;
  /** The open thread's messages, oldest first; optimistic ones have negative ids. */
  thread: MessageOut[];
  /** Contacts we hold in full (quick edit, communication options). */
  contacts: Record<number, ContactOut>;
  /** Set when the open thread's contact was merged away: the thread to open instead. */
  mergedInto: number | null;
}

export function emptyState(me = 0): LiveState {
  return {
    me,
    seq: 0,
    conversations: {},
    panel: [],
    query: { filters: { status: "open", assignee: "any" }, q: "", complete: false },
    unread: {},
    openId: null,
    thread: [],
    contacts: {},
    mergedInto: null,
  };
}

/** Milliseconds since the epoch; the API's datetimes may lack a zone (they are UTC). */
export function toMillis(iso: string | null | undefined): number {
  if (!iso) return 0;
  const hasZone = /[zZ]|[+-]\d\d:?\d\d$/.test(iso);
  const t = Date.parse(hasZone ? iso : `${iso}Z`);
  return Number.isNaN(t) ? 0 : t;
}

/** Panel order: newest activity first, then the higher id. */
export function comparePanel(a: ConversationOut, b: ConversationOut): number {
  const d = toMillis(b.last_message_at) - toMillis(a.last_message_at);
  return d !== 0 ? d : b.id - a.id;
}

/** Thread order: oldest first; server messages before our unsent copies at the same time. */
export function compareMessages(a: MessageOut, b: MessageOut): number {
  const d = toMillis(a.created_at) - toMillis(b.created_at);
  if (d !== 0) return d;
  if (a.id < 0 !== b.id < 0) return a.id < 0 ? 1 : -1;
  return Math.abs(a.id) - Math.abs(b.id);
}

/** Whether a conversation belongs in a view; `undefined` when we cannot tell (tags). */
export function matchesView(
  conv: ConversationOut,
  filters: ViewFilters,
  me: number,
  unread: number,
): boolean | undefined {
  const status = filters.status ?? "open";
  if (status !== "any" && conv.status !== status) return false;
  const assignee = filters.assignee ?? "any";
  if (assignee === "me" && conv.assignee_id !== me) return false;
  if (assignee === "none" && conv.assignee_id !== null) return false;
  if (typeof assignee === "number" && conv.assignee_id !== assignee) return false;
  if (filters.channel && !conv.channels.includes(filters.channel)) return false;
  if (filters.unread && unread <= 0) return false;
  if (filters.tag) return undefined;
  return true;
}

function placeInPanel(state: LiveState, conv: ConversationOut, unread: number): number[] {
  const present = state.panel.includes(conv.id);
  // The open thread stays listed in an "unread" view after it is read, so it does not
  // jump away from under the agent's pointer.
  const seenUnread = present && conv.id === state.openId ? Math.max(unread, 1) : unread;
  const match = matchesView(conv, state.query.filters, state.me, seenUnread);
  const keep = match === true || (match === undefined && present);
  // While searching, events add a row only when its name plainly matches the search (the
  // server's search also looks at phones and emails; those rows come with a refetch).
  const q = state.query.q.trim().toLowerCase();
  const mayAdd = !present && keep && (q === "" || conv.contact.name.toLowerCase().includes(q));
  const without = present ? state.panel.filter((id) => id !== conv.id) : state.panel;
  if (!keep || (!present && !mayAdd)) return present ? without : state.panel;
  const conversations = { ...state.conversations, [conv.id]: conv };
  // A row older than everything loaded comes with a later page, unless there is none.
  if (!present && !state.query.complete && without.length > 0) {
    const last = conversations[without[without.length - 1]];
    if (last && comparePanel(conv, last) > 0) return without;
  }
  let lo = 0;
  let hi = without.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const other = conversations[without[mid]];
    if (other && comparePanel(other, conv) < 0) lo = mid + 1;
    else hi = mid;
  }
  const next = without.slice();
  next.splice(lo, 0, conv.id);
  return next;
}

function upsertConversation(state: LiveState, incoming: ConversationOut): LiveState {
  const previous = state.conversations[incoming.id];
  // Events carry unread_count 0; ours is the truth for this user.
  const unread = state.unread[incoming.id] ?? previous?.unread_count ?? 0;
  const conv: ConversationOut = { ...incoming, unread_count: unread };
  const panel = placeInPanel(state, conv, unread);
  return {
    ...state,
    conversations: { ...state.conversations, [conv.id]: conv },
    panel,
  };
}

/** Adds or replaces a message in the open thread (by id, then by client_id). */
export function upsertMessage(thread: MessageOut[], message: MessageOut): MessageOut[] {
  let index = thread.findIndex((m) => m.id === message.id);
  if (index < 0 && message.client_id) {
    index = thread.findIndex((m) => m.id < 0 && m.client_id === message.client_id);
  }
  if (index >= 0) {
    const current = thread[index];
    // A late event must not roll a newer copy back (e.g. "sent" arriving after "delivered").
    if (current.id > 0 && toMillis(current.updated_at) > toMillis(message.updated_at)) return thread;
    const next = thread.slice();
    next[index] = message;
    return next.sort(compareMessages);
  }
  const next = thread.concat(message);
  return next.sort(compareMessages);
}

function setUnread(state: LiveState, conversationId: number, count: number): LiveState {
  const unread = { ...state.unread, [conversationId]: count };
  const conv = state.conversations[conversationId];
  if (!conv) return { ...state, unread };
  const updated = { ...conv, unread_count: count };
  const withUnread = { ...state, unread };
  return {
    ...withUnread,
    conversations: { ...state.conversations, [conversationId]: updated },
    panel: placeInPanel(withUnread, updated, count),
  };
}

function briefOf(contact: ContactOut, current: ContactBrief): ContactBrief {
  return {
    ...current,
    name: contact.name || current.name,
    avatar_url: contact.avatar_url,
    initials: contact.initials,
  };
}

export function applyEvent(state: LiveState, event: LiveEvent): LiveState {
  if (event.seq && event.seq <= state.seq) return state;
  const next = applyData(state, event);
  return event.seq ? { ...next, seq: event.seq } : next;
}

function applyData(state: LiveState, event: LiveEvent): LiveState {
  switch (event.type) {
    case "message.created":
    case "message.updated": {
      const { message, conversation } = event.data;
      let next = state;
      const isOpen = state.openId === message.conversation_id;
      if (isOpen) next = { ...next, thread: upsertMessage(next.thread, message) };
      if (event.type === "message.created" && message.direction === "in" && !isOpen) {
        const count = (next.unread[conversation.id] ?? next.conversations[conversation.id]?.unread_count ?? 0) + 1;
        next = { ...next, unread: { ...next.unread, [conversation.id]: count } };
      }
      return conversation ? upsertConversation(next, conversation) : next;
    }
    case "conversation.updated":
      return upsertConversation(state, event.data.conversation);
    case "conversation.read":
      if (event.data.user_id !== state.me) return state;
      return setUnread(state, event.data.conversation_id, 0);
    case "contact.updated": {
      const contact = event.data.contact;
      let conversations = state.conversations;
      for (const conv of Object.values(state.conversations)) {
        if (conv.contact.id === contact.id) {
          conversations = { ...conversations, [conv.id]: { ...conv, contact: briefOf(contact, conv.contact) } };
        }
      }
      return { ...state, conversations, contacts: { ...state.contacts, [contact.id]: contact } };
    }
    case "contact.deleted": {
      const { contact_id, merged_into } = event.data;
      const gone = Object.values(state.conversations).filter((c) => c.contact.id === contact_id);
      if (gone.length === 0 && !(contact_id in state.contacts)) return state;
      const goneIds = new Set(gone.map((c) => c.id));
      const conversations = { ...state.conversations };
      const unread = { ...state.unread };
      for (const id of goneIds) {
        delete conversations[id];
        delete unread[id];
      }
      const contacts = { ...state.contacts };
      delete contacts[contact_id];
      const openGone = state.openId !== null && goneIds.has(state.openId);
      return {
        ...state,
        conversations,
        unread,
        contacts,
        panel: state.panel.filter((id) => !goneIds.has(id)),
        openId: openGone ? null : state.openId,
        thread: openGone ? [] : state.thread,
        mergedInto: openGone ? (merged_into ?? null) : state.mergedInto,
      };
    }
    default:
      return state;
  }
}

/** Replaces the panel with a fetched first page (or appends a later one).
 *
 * `during`: the events that arrived while the page was being fetched. They were placed in
 * the panel this page replaces, and the page may predate them (a message sent just as the
 * search was cleared), so they are placed again. Unread counts stay the page's. */
export function loadPanel(
  state: LiveState,
  items: ConversationOut[],
  opts: { append: boolean; complete: boolean; query?: PanelQuery; during?: LiveEvent[] },
): LiveState {
  const conversations = { ...state.conversations };
  const unread = { ...state.unread };
  for (const item of items) {
    conversations[item.id] = item;
    unread[item.id] = item.unread_count;
  }
  const ids = items.map((i) => i.id);
  const base = opts.append ? state.panel : [];
  const seen = new Set(base);
  const panel = base.concat(ids.filter((id) => !seen.has(id)));
  const query = { ...(opts.query ?? state.query), complete: opts.complete };
  let next: LiveState = { ...state, conversations, unread, panel, query };
  for (const event of opts.during ?? []) next = placedAgain(next, event);
  return next;
}

function placedAgain(state: LiveState, event: LiveEvent): LiveState {
  switch (event.type) {
    case "message.created":
    case "message.updated":
      return event.data.conversation ? upsertConversation(state, event.data.conversation) : state;
    case "conversation.updated":
    case "conversation.read":
    case "contact.updated":
    case "contact.deleted":
      return applyData(state, event); // these set a state, so applying twice changes nothing
    default:
      return state;
  }
}

/** Opens a thread with its newest page of messages.
 *
 * `during`: the events that arrived while the page was being fetched. The page may predate
 * the messages they carry, which are kept (a newer copy of a message wins, as in
 * upsertMessage). */
export function openThread(
  state: LiveState,
  conversationId: number | null,
  messages: MessageOut[],
  during: LiveEvent[] = [],
): LiveState {
  let thread = messages.slice().sort(compareMessages);
  for (const event of during) {
    if (event.type !== "message.created" && event.type !== "message.updated") continue;
    if (event.data.message.conversation_id === conversationId) thread = upsertMessage(thread, event.data.message);
  }
  return { ...state, openId: conversationId, thread, mergedInto: null };
}

/** Prepends an older page to the open thread. */
export function prependOlder(state: LiveState, messages: MessageOut[]): LiveState {
  const known = new Set(state.thread.map((m) => m.id));
  const fresh = messages.filter((m) => !known.has(m.id));
  return { ...state, thread: fresh.concat(state.thread).sort(compareMessages) };
}

/** Counts one more unread message (an inbound one in the open thread while the tab is
 * hidden: nobody is reading it yet). */
export function bumpUnread(state: LiveState, conversationId: number): LiveState {
  return setUnread(state, conversationId, (state.unread[conversationId] ?? 0) + 1);
}

/** Marks a conversation read for this user (what POST /read will confirm). */
export function markRead(state: LiveState, conversationId: number): LiveState {
  return setUnread(state, conversationId, 0);
}

export function totalUnread(state: LiveState): number {
  let total = 0;
  for (const id of Object.keys(state.unread)) {
    const n = state.unread[Number(id)];
    if (n > 0 && state.conversations[Number(id)]) total += n;
  }
  return total;
}

export function storeContact(state: LiveState, contact: ContactOut): LiveState {
  const ev: LiveEvent = { type: "contact.updated", account_id: 0, seq: 0, data: { contact } };
  return applyEvent(state, ev);
}

export function storeConversation(state: LiveState, conversation: ConversationOut): LiveState {
  const ev: LiveEvent = { type: "conversation.updated", account_id: 0, seq: 0, data: { conversation } };
  return applyEvent(state, ev);
}

export function storeMessage(state: LiveState, message: MessageOut): LiveState {
  if (state.openId !== message.conversation_id) return state;
  return { ...state, thread: upsertMessage(state.thread, message) };
}
