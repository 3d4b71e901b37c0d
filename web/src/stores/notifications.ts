// Desktop notifications: opt-in (remembered in this browser), and shown only for inbound
// messages while the tab is hidden. Clicking one opens its thread.

import { signal } from "@preact/signals";
import type { ConversationOut, MessageOut } from "../api";
import { storageGet, storageSet } from "../lib/storage";
import type { ToastStore } from "./toast";

const NOTIFY_KEY = "parlour.notify";

export interface NotificationsDeps {
  toast: ToastStore;
  /** Opens a thread (the app navigates to it). */
  goTo: (conversationId: number) => void;
}

export function createNotificationsStore({ toast, goTo }: NotificationsDeps) {
  const enabled = signal(storageGet(NOTIFY_KEY) === "1");

  function notify(conv: ConversationOut, m: MessageOut) {
    if (!enabled.value || typeof document === "undefined" || !document.hidden) return;
    if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
    try {
      const n = new Notification(conv.contact.name, {
        body: m.subject || m.body.slice(0, 140),
        tag: `conversation-${conv.id}`,
      });
      n.onclick = () => {
        window.focus();
        goTo(conv.id);
        n.close();
      };
    } catch {
      /* some browsers only allow notifications from a service worker */
    }
  }

  async function setEnabled(on: boolean) {
    if (on && typeof Notification !== "undefined" && Notification.permission !== "granted") {
      const perm = await Notification.requestPermission();
      if (perm !== "granted") {
        toast.show("Notifications are blocked in this browser.", "error");
        on = false;
      }
    }
    enabled.value = on;
    storageSet(NOTIFY_KEY, on ? "1" : "0");
  }

  return { enabled, notify, setEnabled };
}

export type NotificationsStore = ReturnType<typeof createNotificationsStore>;
