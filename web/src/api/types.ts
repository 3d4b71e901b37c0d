// Shapes of the Parlour JSON API (/api/v1). Hand-written from the backend's Pydantic
// schemas (parlour/*/schemas.py); keep the names identical so a generated client can
// replace this file without touching callers.

export type Channel = "sms" | "webchat" | "email";
export type Direction = "in" | "out";
export type MessageStatus =
  | "queued"
  | "sending"
  | "sent"
  | "delivered"
  | "failed"
  | "received"
  | "read";
export type Role = "admin" | "agent";

export interface ApiErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export interface UserOut {
  id: number;
  email: string;
  name: string;
  role: Role;
  avatar_url: string | null;
  initials: string;
  active: boolean;
}

export interface AccountOut {
  id: number;
  name: string;
  [key: string]: unknown;
}

export interface SessionOut {
  user: UserOut;
  csrf_token: string;
  account: AccountOut;
}

export interface PhoneOut {
  id: number;
  e164: string;
  label: string;
  sms_opt_out: boolean;
  sms_opt_out_at: string | null;
  sms_opt_out_number: string | null;
}

export interface EmailOut {
  id: number;
  address: string;
  label: string;
  bounced: boolean;
}

export interface ContactOut {
  id: number;
  name: string;
  company: string;
  avatar_url: string | null;
  initials: string;
  preferred_channel: Channel | null;
  phones: PhoneOut[];
  emails: EmailOut[];
  tags: string[];
  created_at: string;
  updated_at: string;
}

export interface NoteOut {
  id: number;
  body: string;
  author_id: number | null;
  created_at: string;
}

export interface ContactDetailOut extends ContactOut {
  notes: NoteOut[];
  conversation_id: number | null;
}

export interface PhoneIn {
  id?: number;
  number: string;
  label?: string;
  sms_opt_out?: boolean;
}

export interface EmailIn {
  id?: number;
  address: string;
  label?: string;
  bounced?: boolean;
}

export interface ContactIn {
  name?: string;
  company?: string;
  phones?: PhoneIn[];
  emails?: EmailIn[];
  tags?: string[];
  preferred_channel?: Channel | null;
  note?: string;
}

export type ContactPatch = Partial<ContactIn>;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface ContactBrief {
  id: number;
  name: string;
  avatar_url: string | null;
  initials: string;
}

export interface ConversationOut {
  id: number;
  contact: ContactBrief;
  status: "open" | "closed";
  assignee_id: number | null;
  last_message_at: string | null;
  last_message_preview: string;
  last_message_channel: Channel | null;
  last_message_direction: Direction | null;
  channels: Channel[];
  unread_count: number;
}

export interface SenderOut {
  type: "contact" | "user" | "bot";
  user_id?: number | null;
  workflow_id?: number | null;
  name: string;
  avatar_url?: string | null;
  initials: string;
}

export interface AttachmentOut {
  id: number;
  filename: string;
  content_type: string;
  size: number;
  url: string | null;
}

export interface MessageOut {
  id: number;
  conversation_id: number;
  direction: Direction;
  channel: Channel;
  sender: SenderOut;
  body: string;
  subject: string | null;
  html: string | null;
  from_address: string | null;
  to_address: string | null;
  phone_number_id: number | null;
  mailbox_id: number | null;
  widget_id: number | null;
  contact_phone_id: number | null;
  contact_email_id: number | null;
  status: MessageStatus | string;
  error_code: string | null;
  error_message: string | null;
  attachments: AttachmentOut[];
  client_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface MessagePage {
  items: MessageOut[];
  older_cursor: string | null;
}

export interface MessageIn {
  channel: Channel;
  body: string;
  subject?: string | null;
  html?: string | null;
  phone_number_id?: number | null;
  mailbox_id?: number | null;
  widget_id?: number | null;
  contact_phone_id?: number | null;
  contact_email_id?: number | null;
  client_id?: string | null;
  attachment_ids?: number[];
}

export interface EndpointOption {
  id: number;
  address: string;
  label: string;
  usable: boolean;
  reason?: string | null;
}

export interface ChannelOption {
  channel: Channel;
  available: boolean;
  reason: string | null;
  senders: EndpointOption[];
  recipients: EndpointOption[];
  default_sender_id: number | null;
  default_recipient_id: number | null;
}

export interface ChannelOptions {
  conversation_id: number | null;
  contact_id: number;
  channels: ChannelOption[];
}

export interface ViewFilters {
  status?: "open" | "closed" | "any";
  assignee?: "me" | "none" | "any" | number;
  channel?: Channel | null;
  unread?: boolean;
  tag?: string | null;
}

export interface ViewOut {
  id: string;
  name: string;
  builtin: boolean;
  filters: ViewFilters;
  count?: number | null;
}

export interface PhoneNumberOut {
  id: number;
  e164: string;
  label: string;
  provider: string;
  sms_enabled: boolean;
}

export interface MailboxOut {
  id: number;
  address: string;
  name: string;
  provider: string;
  enabled: boolean;
}

export interface WidgetOut {
  id: number;
  name: string;
  public_token: string;
  enabled: boolean;
  allowed_origins: string[];
  greeting: string;
  color: string;
  embed_snippet: string;
}

export interface TokenOut {
  id: number;
  name: string;
  prefix: string;
  token?: string;
  created_at?: string;
  last_used_at?: string | null;
}

// Live events (WebSocket /api/v1/ws).
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

export type MessageCreated = EventBase<
  "message.created",
  { message: MessageOut; conversation: ConversationOut }
>;
export type MessageUpdated = EventBase<
  "message.updated",
  { message: MessageOut; conversation: ConversationOut }
>;
export type ConversationUpdated = EventBase<
  "conversation.updated",
  { conversation: ConversationOut }
>;
export type ConversationRead = EventBase<
  "conversation.read",
  { conversation_id: number; user_id: number; last_read_at: string }
>;
export type ContactUpdated = EventBase<"contact.updated", { contact: ContactOut }>;
export type ContactDeleted = EventBase<
  "contact.deleted",
  { contact_id: number; merged_into?: number | null }
>;

export type LiveEvent =
  | MessageCreated
  | MessageUpdated
  | ConversationUpdated
  | ConversationRead
  | ContactUpdated
  | ContactDeleted;

export interface ProviderConnectionOut {
  provider: "twilio" | "telnyx" | string;
  connected: boolean;
  account_sid: string | null;
  api_key_sid: string | null;
  public_key: string | null;
  readable: boolean;
  updated_at: string | null;
  inbound_webhook_url: string;
  status_callback_url: string | null;
}

export interface ProviderNumberOut {
  sid: string;
  e164: string;
  friendly_name: string;
  sms: boolean;
  mms: boolean;
  imported: boolean;
}

export interface ImportNumbersOut {
  imported: PhoneNumberOut[];
  already_present: string[];
}

export interface TaskOut {
  id: number;
  kind: string;
  owner_id: number | null;
  title: string;
  status: "pending" | "completed" | "failed" | string;
  message_id: number | null;
  error: string | null;
  created_at: string;
  completed_at: string | null;
}
