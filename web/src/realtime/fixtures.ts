// Builders for tests: realistic API objects with overridable fields.

import type { ContactOut, ConversationOut, MessageOut } from "../api/schemas";
import type { LiveEvent } from "./events";

export function conversation(id: number, over: Partial<ConversationOut> = {}): ConversationOut {
  return {
    id,
    contact: { id: id * 10, name: `Contact ${id}`, avatar_url: null, initials: "C" },
    status: "open",
    assignee_id: null,
    last_message_at: `2026-11-01T10:00:${String(id % 60).padStart(2, "0")}Z`,
    last_message_preview: `Hello ${id}`,
    last_message_channel: "sms",
    last_message_direction: "in",
    last_message_sender: { type: "contact", user_id: null, name: "" },
    channels: ["sms"],
    unread_count: 0,
    ...over,
  };
}

export function message(id: number, conversationId: number, over: Partial<MessageOut> = {}): MessageOut {
  return {
    id,
    conversation_id: conversationId,
    direction: "in",
    channel: "sms",
    sender: { type: "contact", name: "Ann", initials: "A" },
    body: `Message ${id}`,
    subject: null,
    html: null,
    from_address: "+15550100",
    to_address: "+15550199",
    sender_id: 1,
    recipient_id: 1,
    phone_number_id: 1,
    mailbox_id: null,
    widget_id: null,
    contact_phone_id: 1,
    contact_email_id: null,
    status: "received",
    error_code: null,
    error_message: null,
    attachments: [],
    client_id: null,
    created_at: `2026-11-01T10:${String(Math.floor(id / 60) % 60).padStart(2, "0")}:${String(id % 60).padStart(2, "0")}Z`,
    updated_at: `2026-11-01T10:${String(Math.floor(id / 60) % 60).padStart(2, "0")}:${String(id % 60).padStart(2, "0")}Z`,
    ...over,
  };
}

export function contact(id: number, over: Partial<ContactOut> = {}): ContactOut {
  return {
    id,
    name: `Contact ${id}`,
    company: "",
    avatar_url: null,
    initials: "C",
    preferred_channel: null,
    phones: [],
    emails: [],
    tags: [],
    created_at: "2026-11-01T09:00:00Z",
    updated_at: "2026-11-01T09:00:00Z",
    ...over,
  };
}

let seq = 100;
export function event<T extends LiveEvent["type"]>(
  type: T,
  data: Extract<LiveEvent, { type: T }>["data"],
  at?: number,
): LiveEvent {
  seq += 1;
  return { type, account_id: 1, seq: at ?? seq, data } as LiveEvent;
}
