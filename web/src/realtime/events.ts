// The live events of the WebSocket /api/v1/ws (parlour/realtime/events.py). They are not
// in the OpenAPI document, which describes HTTP routes only: the envelopes are written
// here, and what they carry is the generated schemas.

import type { ContactOut, ConversationOut, MessageOut } from "../api/schemas";

export interface HelloFrame {
  type: "hello";
  seq: number;
}

interface EventBase<T extends string, D> {
  type: T;
  account_id: number;
  seq: number;
  data: D;
}

export type MessageCreated = EventBase<"message.created", { message: MessageOut; conversation: ConversationOut }>;
export type MessageUpdated = EventBase<"message.updated", { message: MessageOut; conversation: ConversationOut }>;
export type ConversationUpdated = EventBase<"conversation.updated", { conversation: ConversationOut }>;
export type ConversationRead = EventBase<
  "conversation.read",
  { conversation_id: number; user_id: number; last_read_at: string }
>;
export type ContactUpdated = EventBase<"contact.updated", { contact: ContactOut }>;
export type ContactDeleted = EventBase<"contact.deleted", { contact_id: number; merged_into?: number | null }>;

/** Someone typing in a thread: published, never stored (seq 0). The visitor's carries no
 * name; the thread's contact is who types. */
export type Typing = EventBase<
  "typing",
  { conversation_id: number; from: "visitor" | "user"; name?: string; channel?: string }
>;

export type LiveEvent =
  | MessageCreated
  | MessageUpdated
  | ConversationUpdated
  | ConversationRead
  | ContactUpdated
  | ContactDeleted
  | Typing;
