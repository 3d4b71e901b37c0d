// One function per API route, grouped by resource. Callers import `api`.

import { http } from "./client";
import type {
  AccountOut,
  TaskOut,
  ImportNumbersOut,
  ProviderConnectionOut,
  ProviderNumberOut,
  ChannelOptions,
  ContactDetailOut,
  ContactIn,
  ContactOut,
  ContactPatch,
  ConversationOut,
  EmailOut,
  MailboxOut,
  MessageIn,
  MessageOut,
  MessagePage,
  NoteOut,
  Page,
  PhoneNumberOut,
  PhoneOut,
  SessionOut,
  TokenOut,
  UserOut,
  ViewFilters,
  ViewOut,
  WidgetOut,
  AttachmentOut,
} from "./types";

export * from "./types";
export { ApiError, fieldErrorsOf, setCsrfToken, setUnauthorizedHandler } from "./client";

export const api = {
  auth: {
    login: (email: string, password: string) =>
      http.post<SessionOut>("/auth/login", { email, password }),
    me: () => http.get<SessionOut>("/auth/me"),
    logout: () => http.post<void>("/auth/logout"),
  },
  account: {
    get: () => http.get<AccountOut>("/account"),
    update: (body: Partial<{ name: string; sms_opt_out_scope: "account" | "number" }>) =>
      http.patch<AccountOut>("/account", body),
  },
  users: {
    list: () => http.get<UserOut[]>("/users"),
    create: (body: { email: string; name: string; password: string; role: string }) =>
      http.post<UserOut>("/users", body),
    update: (id: number, body: Partial<{ name: string; role: string; active: boolean; password: string }>) =>
      http.patch<UserOut>(`/users/${id}`, body),
    uploadAvatar: (file: File) => {
      const form = new FormData();
      form.append("file", file);
      return http.upload<UserOut>("PUT", "/users/me/avatar", form);
    },
  },
  tokens: {
    list: () => http.get<TokenOut[]>("/tokens"),
    create: (name: string) => http.post<TokenOut>("/tokens", { name }),
    remove: (id: number) => http.del(`/tokens/${id}`),
  },
  contacts: {
    search: (q: string, cursor?: string | null, limit = 20, signal?: AbortSignal) =>
      http.get<Page<ContactOut>>("/contacts", { q, cursor, limit }, signal),
    create: (body: ContactIn) => http.post<ContactOut>("/contacts", body),
    get: (id: number) => http.get<ContactDetailOut>(`/contacts/${id}`),
    update: (id: number, body: ContactPatch) => http.patch<ContactOut>(`/contacts/${id}`, body),
    updatePhone: (id: number, phoneId: number, body: { label?: string; sms_opt_out?: boolean }) =>
      http.patch<PhoneOut>(`/contacts/${id}/phones/${phoneId}`, body),
    updateEmail: (id: number, emailId: number, body: { label?: string; bounced?: boolean }) =>
      http.patch<EmailOut>(`/contacts/${id}/emails/${emailId}`, body),
    uploadAvatar: (id: number, file: File) => {
      const form = new FormData();
      form.append("file", file);
      return http.upload<ContactOut>("PUT", `/contacts/${id}/avatar`, form);
    },
    addNote: (id: number, body: string) => http.post<NoteOut>(`/contacts/${id}/notes`, { body }),
    merge: (id: number, otherId: number) =>
      http.post<ContactOut>(`/contacts/${id}/merge`, { other_contact_id: otherId }),
    conversation: (id: number) => http.post<ConversationOut>(`/contacts/${id}/conversation`),
  },
  conversations: {
    list: (query: { view?: string; q?: string; cursor?: string | null; limit?: number }, signal?: AbortSignal) =>
      http.get<Page<ConversationOut>>("/conversations", query, signal),
    get: (id: number) => http.get<ConversationOut>(`/conversations/${id}`),
    update: (id: number, body: { status?: "open" | "closed"; assignee_id?: number | null }) =>
      http.patch<ConversationOut>(`/conversations/${id}`, body),
    read: (id: number) => http.post<unknown>(`/conversations/${id}/read`),
    messages: (id: number, before?: string | null, limit = 50) =>
      http.get<MessagePage>(`/conversations/${id}/messages`, { before, limit }),
    send: (id: number, body: MessageIn) => http.post<MessageOut>(`/conversations/${id}/messages`, body),
    retry: (id: number, messageId: number) =>
      http.post<MessageOut>(`/conversations/${id}/messages/${messageId}/retry`),
    channels: (id: number) => http.get<ChannelOptions>(`/conversations/${id}/channels`),
  },
  attachments: {
    upload: (file: File) => {
      const form = new FormData();
      form.append("file", file);
      return http.upload<AttachmentOut>("POST", "/attachments", form);
    },
  },
  views: {
    list: () => http.get<ViewOut[]>("/views"),
    create: (name: string, filters: ViewFilters) => http.post<ViewOut>("/views", { name, filters }),
    remove: (id: string) => http.del(`/views/${id}`),
  },
  phoneNumbers: {
    list: () => http.get<PhoneNumberOut[]>("/phone-numbers"),
    create: (body: { number: string; label: string; provider: string; sms_enabled: boolean }) =>
      http.post<PhoneNumberOut>("/phone-numbers", body),
    update: (id: number, body: Partial<{ label: string; sms_enabled: boolean; provider: string }>) =>
      http.patch<PhoneNumberOut>(`/phone-numbers/${id}`, body),
    remove: (id: number) => http.del(`/phone-numbers/${id}`),
  },
  sms: {
    providers: () => http.get<ProviderConnectionOut[]>("/sms/providers"),
    connectTwilio: (body: { account_sid: string; auth_token: string; api_key_sid?: string | null; api_key_secret?: string | null; verify: boolean }) =>
      http.put<ProviderConnectionOut>("/sms/providers/twilio", body),
    connectTelnyx: (body: { api_key: string; public_key: string; verify: boolean }) =>
      http.put<ProviderConnectionOut>("/sms/providers/telnyx", body),
    disconnect: (provider: string) => http.del(`/sms/providers/${provider}`),
    twilioNumbers: () => http.get<ProviderNumberOut[]>("/sms/providers/twilio/numbers"),
    importTwilio: (numbers: string[] | null, configure_webhooks: boolean) =>
      http.post<ImportNumbersOut>("/sms/providers/twilio/numbers/import", { numbers, configure_webhooks }),
  },
  tasks: {
    list: (query: { owner?: "me" | "any"; status?: string | null; limit?: number }) => http.get<TaskOut[]>("/tasks", query),
  },
  mailboxes: {
    list: () => http.get<MailboxOut[]>("/mailboxes"),
    create: (body: { address: string; name: string; provider: string; enabled: boolean }) =>
      http.post<MailboxOut>("/mailboxes", body),
    update: (id: number, body: Partial<{ name: string; enabled: boolean; provider: string }>) =>
      http.patch<MailboxOut>(`/mailboxes/${id}`, body),
    remove: (id: number) => http.del(`/mailboxes/${id}`),
  },
  widgets: {
    list: () => http.get<WidgetOut[]>("/widgets"),
    create: (body: Partial<WidgetOut>) => http.post<WidgetOut>("/widgets", body),
    update: (id: number, body: Partial<Omit<WidgetOut, "id" | "public_token" | "embed_snippet">>) =>
      http.patch<WidgetOut>(`/widgets/${id}`, body),
    remove: (id: number) => http.del(`/widgets/${id}`),
  },
};
