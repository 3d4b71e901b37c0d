// Sending: a message shows in the thread at once (an optimistic copy with a negative id
// and a client id), the stored copy replaces it when the server answers, and a refused
// one stays with its reason until it is retried (the same post, with the same
// Idempotency-Key) or discarded.

import type { Signal } from "@preact/signals";
import { api, ApiError, type MessageIn, type MessageOut, type UserOut } from "../api";
import { newClientId } from "../lib/clientId";
import { errorText } from "../lib/errors";
import { storeMessage, type LiveState } from "../realtime/applyEvent";
import type { ContactStore } from "./contact";
import type { ToastStore } from "./toast";

/** A message as the composer hands it over: always with its body; the store adds the
 * client id that matches the stored copy to the optimistic one. */
export type Draft = Omit<MessageIn, "client_id"> & { body: string };

export interface SendingDeps {
  me: UserOut;
  live: Signal<LiveState>;
  contact: ContactStore;
  toast: ToastStore;
}

export function createSendingStore({ me, live, contact, toast }: SendingDeps) {
  /** What was posted for each copy still on its way or failed, by client id. The client
   * id is also the post's Idempotency-Key: Retry posts the same body with it, so a send
   * whose answer was lost (stored, but never heard back) is answered, not sent twice. */
  const posted = new Map<string, { conversationId: number; body: MessageIn }>();

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
      sender_id: draft.phone_number_id ?? draft.mailbox_id ?? draft.widget_id ?? null,
      recipient_id: draft.contact_phone_id ?? draft.contact_email_id ?? null,
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
    if (draft.cc?.length || draft.bcc?.length) optimistic.email = { cc: draft.cc ?? [], bcc: draft.bcc ?? [] };
    // Fill in the endpoints we already know, so the optimistic copy reads right.
    const opt = contact.channelOptions.value?.channels.find((c) => c.channel === draft.channel);
    if (opt) {
      const sender = opt.senders.find((s) => s.id === (draft.phone_number_id ?? draft.mailbox_id ?? draft.widget_id ?? opt.default_sender_id));
      const recipient = opt.recipients.find((r) => r.id === (draft.contact_phone_id ?? draft.contact_email_id ?? opt.default_recipient_id));
      optimistic.from_address = sender?.address ?? null;
      optimistic.to_address = recipient?.address ?? null;
    }
    posted.set(clientId, { conversationId, body: { ...draft, client_id: clientId } });
    return post(optimistic, clientId);
  }

  /** Posts the copy's message and swaps in the stored one, or marks the copy failed. */
  async function post(optimistic: MessageOut, clientId: string): Promise<MessageOut | null> {
    const { conversationId, body } = posted.get(clientId)!;
    live.value = storeMessage(live.value, optimistic);
    try {
      const stored = await api.conversations.send(conversationId, body, clientId);
      posted.delete(clientId);
      live.value = storeMessage(live.value, { ...stored, client_id: stored.client_id ?? clientId });
      return stored;
    } catch (err) {
      const arrived = live.value.thread.find((m) => m.id > 0 && m.client_id === clientId);
      if (arrived) {
        // The stored copy came over the live connection: it was sent, only the answer to
        // the post was lost.
        posted.delete(clientId);
        return arrived;
      }
      const failed: MessageOut = {
        ...optimistic,
        status: "failed",
        error_code: err instanceof ApiError ? err.code : "network",
        error_message: errorText(err),
        updated_at: new Date().toISOString(),
      };
      live.value = storeMessage(live.value, failed);
      if (err instanceof ApiError && err.status === 422) contact.refreshChannelsSoon();
      throw err;
    }
  }

  async function retry(message: MessageOut) {
    if (message.id < 0) {
      if (message.client_id && posted.has(message.client_id)) {
        // The same post again, with the same key: if the first one was stored, the server
        // answers with it instead of sending it again.
        const again: MessageOut = { ...message, status: "sending", error_code: null, error_message: null };
        await post(again, message.client_id).catch(() => undefined);
        return;
      }
      // Never posted from this page: drop the failed copy and send it again.
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
        ...(message.email?.cc?.length ? { cc: message.email.cc } : {}),
        ...(message.email?.bcc?.length ? { bcc: message.email.bcc } : {}),
      }).catch(() => undefined);
      return;
    }
    try {
      const updated = await api.conversations.retry(message.conversation_id, message.id);
      live.value = storeMessage(live.value, updated);
    } catch (err) {
      toast.show(errorText(err), "error");
    }
  }

  /** Drops a copy that never reached the server. */
  function discard(message: MessageOut) {
    if (message.id >= 0) return;
    if (message.client_id) posted.delete(message.client_id);
    live.value = { ...live.value, thread: live.value.thread.filter((m) => m.id !== message.id) };
  }

  return { send, retry, discard };
}

export type SendingStore = ReturnType<typeof createSendingStore>;
