import { describe, expect, it } from "vitest";
import type { ConversationOut } from "../api/schemas";
import type { LiveEvent } from "./events";
import {
  applyEvent,
  bumpUnread,
  emptyState,
  loadPanel,
  markRead,
  matchesView,
  openThread,
  prependOlder,
  toMillis,
  totalUnread,
  type LiveState,
} from "./applyEvent";
import { contact, conversation, event, message } from "./fixtures";

const ME = 7;

function fetched(items: ConversationOut[], over: Partial<LiveState> = {}): LiveState {
  const sorted = items.slice().sort((a, b) => toMillis(b.last_message_at) - toMillis(a.last_message_at) || b.id - a.id);
  return loadPanel({ ...emptyState(ME), ...over }, sorted, { append: false, complete: true });
}

function panelNames(state: LiveState): string[] {
  return state.panel.map((id) => state.conversations[id].contact.name);
}

describe("message.created", () => {
  it("moves the thread to the top and counts an inbound message as unread", () => {
    const a = conversation(1, { last_message_at: "2026-11-01T10:00:00Z" });
    const b = conversation(2, { last_message_at: "2026-11-01T11:00:00Z" });
    const before = fetched([a, b]);
    expect(panelNames(before)).toEqual(["Contact 2", "Contact 1"]);

    const newer = { ...a, last_message_at: "2026-11-01T12:00:00Z", last_message_preview: "Are you open?" };
    const after = applyEvent(before, event("message.created", { message: message(5, 1), conversation: newer }));

    // Equals a fresh fetch of the server's new state (where our unread count is 1).
    const fresh = fetched([{ ...newer, unread_count: 1 }, b]);
    expect(after.panel).toEqual(fresh.panel);
    expect(after.conversations[1]).toEqual(fresh.conversations[1]);
    expect(after.unread[1]).toBe(1);
    expect(totalUnread(after)).toBe(1);
  });

  it("appends to the open thread without counting it unread", () => {
    const a = conversation(1);
    const state = openThread(fetched([a]), 1, [message(1, 1), message(2, 1)]);
    const after = applyEvent(state, event("message.created", { message: message(3, 1), conversation: a }));
    expect(after.thread.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(after.unread[1]).toBe(0);
  });

  it("does not count our own outbound messages", () => {
    const state = fetched([conversation(1)]);
    const out = message(3, 1, { direction: "out", sender: { type: "user", user_id: ME, name: "Me", initials: "M" } });
    const after = applyEvent(state, event("message.created", { message: out, conversation: conversation(1) }));
    expect(after.unread[1]).toBe(0);
  });

  it("adds a brand-new conversation to a matching view and not to another one", () => {
    const fresh = conversation(9, { last_message_at: "2026-11-02T00:00:00Z", channels: ["email"] });
    const all = applyEvent(fetched([conversation(1)]), event("message.created", { message: message(1, 9), conversation: fresh }));
    expect(all.panel[0]).toBe(9);

    const smsOnly = fetched([conversation(1)], { query: { filters: { channel: "sms" }, q: "", complete: true } });
    const after = applyEvent(smsOnly, event("message.created", { message: message(1, 9), conversation: fresh }));
    expect(after.panel).toEqual([1]);
  });

  it("adds rows while searching only when the name matches the search", () => {
    const searching = fetched([conversation(1)], { query: { filters: {}, q: "ann", complete: true } });
    const other = applyEvent(searching, event("message.created", { message: message(1, 9), conversation: conversation(9) }));
    expect(other.panel).toEqual([1]);
    const ann = conversation(8, { contact: { id: 80, name: "Ann Lee", avatar_url: null, initials: "AL" } });
    const match = applyEvent(searching, event("message.created", { message: message(2, 8), conversation: ann }));
    expect(match.panel).toEqual([8, 1]);
  });

  it("does not add a row older than the loaded pages when more pages remain", () => {
    const newest = conversation(1, { last_message_at: "2026-11-05T00:00:00Z" });
    const state = loadPanel(emptyState(ME), [newest], { append: false, complete: false });
    const old = conversation(2, { last_message_at: "2026-10-01T00:00:00Z" });
    const after = applyEvent(state, event("conversation.updated", { conversation: old }));
    expect(after.panel).toEqual([1]);
  });

  it("replaces the optimistic copy that carries the same client_id", () => {
    const state = openThread(fetched([conversation(1)]), 1, [message(1, 1)]);
    const pending = message(-1, 1, { direction: "out", status: "queued", client_id: "c-1", created_at: "2026-11-01T11:00:00Z" });
    const withPending = { ...state, thread: state.thread.concat(pending) };
    const stored = message(50, 1, { direction: "out", status: "queued", client_id: "c-1", created_at: "2026-11-01T11:00:00Z" });
    const after = applyEvent(withPending, event("message.created", { message: stored, conversation: conversation(1) }));
    expect(after.thread.map((m) => m.id)).toEqual([1, 50]);
  });

  it("ignores an event it has already applied (replays after a reconnect)", () => {
    const state = fetched([conversation(1)]);
    const ev = event("message.created", { message: message(5, 1), conversation: conversation(1) });
    const once = applyEvent(state, ev);
    expect(applyEvent(once, ev)).toBe(once);
    expect(once.unread[1]).toBe(1);
  });
});

describe("message.updated", () => {
  it("shows the new delivery status and the failure reason", () => {
    const sent = message(5, 1, { direction: "out", status: "sent", updated_at: "2026-11-01T12:00:00Z" });
    const state = openThread(fetched([conversation(1)]), 1, [sent]);
    const failed = { ...sent, status: "failed", error_code: "30007", error_message: "Carrier blocked", updated_at: "2026-11-01T12:00:05Z" };
    const after = applyEvent(state, event("message.updated", { message: failed, conversation: conversation(1) }));
    expect(after.thread[0].status).toBe("failed");
    expect(after.thread[0].error_message).toBe("Carrier blocked");
  });

  it("keeps the newer copy when an older update arrives late", () => {
    const delivered = message(5, 1, { status: "delivered", updated_at: "2026-11-01T12:00:10Z" });
    const state = openThread(fetched([conversation(1)]), 1, [delivered]);
    const late = { ...delivered, status: "sent", updated_at: "2026-11-01T12:00:01Z" };
    const after = applyEvent(state, event("message.updated", { message: late, conversation: conversation(1) }));
    expect(after.thread[0].status).toBe("delivered");
  });
});

describe("conversation.updated", () => {
  it("removes a closed thread from the open view and keeps our unread count", () => {
    const state = fetched([conversation(1, { unread_count: 2 }), conversation(2)]);
    const closed = applyEvent(state, event("conversation.updated", { conversation: conversation(1, { status: "closed", unread_count: 0 }) }));
    expect(closed.panel).toEqual([2]);
    expect(closed.unread[1]).toBe(2);
    expect(closed.conversations[1].unread_count).toBe(2);
  });

  it("adds a thread assigned to me to the Mine view", () => {
    const mine = fetched([], { query: { filters: { assignee: "me" }, q: "", complete: true } });
    const after = applyEvent(mine, event("conversation.updated", { conversation: conversation(3, { assignee_id: ME }) }));
    expect(after.panel).toEqual([3]);
  });
});

describe("conversation.read", () => {
  it("clears my unread count, not another agent's", () => {
    const state = fetched([conversation(1, { unread_count: 3 })]);
    const other = applyEvent(state, event("conversation.read", { conversation_id: 1, user_id: 99, last_read_at: "2026-11-01T12:00:00Z" }));
    expect(other.unread[1]).toBe(3);
    const mine = applyEvent(state, event("conversation.read", { conversation_id: 1, user_id: ME, last_read_at: "2026-11-01T12:00:00Z" }));
    expect(mine.unread[1]).toBe(0);
    expect(mine.conversations[1].unread_count).toBe(0);
    expect(totalUnread(mine)).toBe(0);
  });

  it("drops a read thread from the Unread view unless it is the one open", () => {
    const unreadView = { filters: { unread: true }, q: "", complete: true };
    const state = fetched([conversation(1, { unread_count: 1 }), conversation(2, { unread_count: 1 })], { query: unreadView });
    const read = applyEvent(state, event("conversation.read", { conversation_id: 1, user_id: ME, last_read_at: "x" }));
    expect(read.panel).toEqual([2]);
    const opened = markRead(openThread(state, 2, []), 2);
    expect(opened.panel).toContain(2);
  });
});

describe("contact events", () => {
  it("renames the contact in the panel", () => {
    const state = fetched([conversation(1)]);
    const after = applyEvent(state, event("contact.updated", { contact: contact(10, { name: "Ann Lee", initials: "AL" }) }));
    expect(after.conversations[1].contact.name).toBe("Ann Lee");
    expect(after.conversations[1].contact.initials).toBe("AL");
    expect(after.contacts[10].name).toBe("Ann Lee");
  });

  it("removes a merged contact's thread and points the open one to the survivor", () => {
    const state = openThread(fetched([conversation(1), conversation(2)]), 1, [message(1, 1)]);
    const after = applyEvent(state, event("contact.deleted", { contact_id: 10, merged_into: 20 }));
    expect(after.panel).toEqual([2]);
    expect(after.openId).toBeNull();
    expect(after.thread).toEqual([]);
    expect(after.mergedInto).toBe(20);
  });
});

describe("bumpUnread", () => {
  it("counts a message in the open thread while nobody looks, until it is read", () => {
    const state = openThread(fetched([conversation(1)]), 1, []);
    const hidden = bumpUnread(state, 1);
    expect(totalUnread(hidden)).toBe(1);
    expect(totalUnread(markRead(hidden, 1))).toBe(0);
  });
});

describe("helpers", () => {
  it("reads datetimes without a zone as UTC", () => {
    expect(toMillis("2026-11-01T10:00:00")).toBe(Date.UTC(2026, 10, 1, 10));
    expect(toMillis("2026-11-01T10:00:00+00:00")).toBe(Date.UTC(2026, 10, 1, 10));
    expect(toMillis(null)).toBe(0);
  });

  it("matches views by status, assignee and channel", () => {
    const c = conversation(1, { assignee_id: ME, channels: ["sms", "email"] });
    expect(matchesView(c, { status: "open", assignee: "me" }, ME, 0)).toBe(true);
    expect(matchesView(c, { assignee: "none" }, ME, 0)).toBe(false);
    expect(matchesView(c, { channel: "webchat" }, ME, 0)).toBe(false);
    expect(matchesView(c, { status: "closed" }, ME, 0)).toBe(false);
    expect(matchesView(c, { unread: true }, ME, 0)).toBe(false);
    expect(matchesView(c, { tag: "vip" }, ME, 0)).toBeUndefined();
  });

  it("prepends older pages without duplicates", () => {
    const state = openThread(fetched([conversation(1)]), 1, [message(3, 1), message(4, 1)]);
    const after = prependOlder(state, [message(1, 1), message(2, 1), message(3, 1)]);
    expect(after.thread.map((m) => m.id)).toEqual([1, 2, 3, 4]);
  });

  it("survives a stream of many events without losing order", () => {
    let state = fetched(Array.from({ length: 50 }, (_, i) => conversation(i + 1)));
    const events: LiveEvent[] = [];
    for (let i = 0; i < 200; i++) {
      const id = (i * 7) % 50 + 1;
      events.push(event("message.created", {
        message: message(1000 + i, id),
        conversation: conversation(id, { last_message_at: new Date(Date.UTC(2026, 10, 2, 0, 0, i)).toISOString() }),
      }));
    }
    for (const ev of events) state = applyEvent(state, ev);
    const times = state.panel.map((id) => toMillis(state.conversations[id].last_message_at));
    expect(times).toEqual(times.slice().sort((a, b) => b - a));
    expect(state.panel.length).toBe(50);
  });
});

describe("a panel page fetched while events arrive", () => {
  it("keeps what the events placed when the page predates them", () => {
    // The panel is searching for someone else; the agent sends the first message to a new
    // contact, then clears the search. The cleared panel's page was read before that
    // message, whose event arrived (and was not listed, the search not matching) meanwhile.
    const a = conversation(1, { last_message_at: "2026-11-01T10:00:00Z" });
    const searching = fetched([a], { query: { filters: { status: "open" }, q: "zzz", complete: true } });
    const b = conversation(2, { last_message_at: "2026-11-01T12:00:00Z", last_message_preview: "Welcome" });
    const ev = event("message.created", { message: message(9, 2, { direction: "out" }), conversation: b });
    const meanwhile = applyEvent(searching, ev);
    expect(meanwhile.panel).toEqual([1]);

    const query = { filters: { status: "open" as const }, q: "", complete: true };
    const stale = loadPanel(meanwhile, [a], { append: false, complete: true, query });
    expect(stale.panel).toEqual([1]); // what happened before: the new thread never showed

    const loaded = loadPanel(meanwhile, [a], { append: false, complete: true, query, during: [ev] });
    expect(loaded.panel).toEqual([2, 1]);
    expect(loaded.conversations[2].last_message_preview).toBe("Welcome");
    expect(loaded.seq).toBe(meanwhile.seq);
  });

  it("keeps a merged-away contact out even if the page still lists it", () => {
    const a = conversation(1, { contact: { ...conversation(1).contact, id: 11 } });
    const b = conversation(2);
    const ev = event("contact.deleted", { contact_id: 11, merged_into: 12 });
    const meanwhile = applyEvent(fetched([a, b]), ev);
    const loaded = loadPanel(meanwhile, [a, b], { append: false, complete: true, during: [ev] });
    expect(loaded.panel).toEqual([2]);
  });
});

describe("a thread page fetched while events arrive", () => {
  it("keeps the messages the page predates, and the newer copy of each", () => {
    const a = conversation(1);
    const opening = openThread(fetched([a]), 1, []);
    const late = message(3, 1, { body: "sent while the page loaded" });
    const delivered = message(2, 1, { status: "delivered", updated_at: "2026-11-01T10:05:00Z" });
    const during = [
      event("message.created", { message: late, conversation: a }),
      event("message.updated", { message: delivered, conversation: a }),
      event("message.created", { message: message(9, 4), conversation: conversation(4) }),
    ];
    const loaded = openThread(opening, 1, [message(1, 1), message(2, 1, { status: "sent" })], during);
    expect(loaded.thread.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(loaded.thread[1].status).toBe("delivered");
    expect(openThread(opening, 1, [message(1, 1), message(2, 1)]).thread.map((m) => m.id)).toEqual([1, 2]);
  });
});
