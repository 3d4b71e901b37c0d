// The inbox: one LiveState, which the live events move forward through the pure
// applyEvent(), and the stores that fetch into it and act on it, one job each. This
// module only builds them, wires them together, and starts and stops them.

import { signal } from "@preact/signals";
import type { UserOut } from "../api";
import { emptyState, type LiveState } from "../realtime/applyEvent";
import { createConnectionStore } from "./connection";
import { createContactStore } from "./contact";
import { createNotificationsStore } from "./notifications";
import { createPanelStore } from "./panel";
import { createSendingStore } from "./sending";
import { createThreadStore } from "./thread";
import { createToastStore } from "./toast";
import { createUsersStore } from "./users";

export function createInboxStore(me: UserOut) {
  const live = signal<LiveState>(emptyState(me.id));
  let redirect: ((conversationId: number) => void) | null = null;
  const goTo = (conversationId: number) => redirect?.(conversationId);

  const toast = createToastStore();
  const users = createUsersStore();
  const notifications = createNotificationsStore({ toast, goTo });
  const panel = createPanelStore(live);
  const contact = createContactStore(live);
  const thread = createThreadStore({ live, contact, toast, refreshViewsSoon: panel.refreshViewsSoon });
  const sending = createSendingStore({ me, live, contact, toast });
  const connection = createConnectionStore({ live, panel, thread, contact, notifications, goTo });

  async function start() {
    connection.start();
    users.load();
    await panel.start();
    if (typeof document !== "undefined") {
      document.addEventListener("visibilitychange", () => {
        if (!document.hidden) thread.markRead();
      });
    }
  }

  function stop() {
    connection.stop();
    thread.clearTyping();
  }

  /** Where a thread opened by the store itself goes (a followed merge, a notification). */
  function onRedirect(fn: (conversationId: number) => void) {
    redirect = fn;
  }

  return { live, panel, thread, contact, sending, connection, users, notifications, toast, start, stop, onRedirect };
}

export type InboxStore = ReturnType<typeof createInboxStore>;
