// The contact of the open thread (the contact bar's details and notes) and the ways to
// reach them (the composer's channels, senders and recipients). Both are fetched when a
// thread opens and again whenever an edit or an event may have changed them.

import { batch, signal, type Signal } from "@preact/signals";
import { api, type ChannelOptions, type ContactDetailOut, type ContactOut } from "../api";
import { latestOnly } from "../lib/latestOnly";
import { storeContact, toMillis, type LiveState } from "../realtime/applyEvent";

export function createContactStore(live: Signal<LiveState>) {
  const details = signal<ContactDetailOut | null>(null);
  const channelOptions = signal<ChannelOptions | null>(null);

  let optionsTimer: ReturnType<typeof setTimeout> | null = null;

  /** Forgets the last thread's contact (another thread opens, or none). */
  function clear() {
    batch(() => {
      channelOptions.value = null;
      details.value = null;
    });
  }

  /** Fetches the contact; `current` says whether the thread that asked is still open. */
  async function load(contactId: number, current: () => boolean = () => true) {
    try {
      const fetched = await api.contacts.get(contactId);
      if (!current()) return;
      // An edit's event may have brought a newer copy while this one was on its way.
      const known = live.value.contacts[contactId];
      const c = known && toMillis(known.updated_at) > toMillis(fetched.updated_at) ? { ...fetched, ...known } : fetched;
      batch(() => {
        details.value = c;
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

  /** An edit made here (quick edit, the contact bar): store it and recheck the channels. */
  function changed(contact: ContactDetailOut | ContactOut) {
    batch(() => {
      live.value = storeContact(live.value, contact);
      if (details.value && details.value.id === contact.id) {
        details.value = { ...details.value, ...contact };
      }
    });
    refreshChannelsSoon();
  }

  /** An edit made elsewhere (a contact.updated event, already applied to the LiveState). */
  function updated(contact: ContactOut) {
    if (details.value?.id === contact.id) {
      details.value = { ...details.value, ...contact };
      refreshChannelsSoon();
    }
  }

  return { details, channelOptions, clear, load, refreshChannels, refreshChannelsSoon, changed, updated };
}

export type ContactStore = ReturnType<typeof createContactStore>;
