// One function per API route, grouped by resource. Callers import `api`.

import { http } from "./client";
import type {
  DeliveryOut,
  EndpointCreated,
  EndpointIn,
  EndpointOut,
  EndpointPatch,
  SecretOut,
  RunOut,
  TestRunOut,
  WorkflowIn,
  WorkflowOut,
  WorkflowPatch,
  AccountOut,
  AccountPatch,
  AttachmentOut,
  ChannelOptions,
  ConnectionOut,
  ContactDetailOut,
  ContactIn,
  ContactOut,
  ContactPage,
  ContactPatch,
  ConversationOut,
  ConversationPage,
  ConversationPatch,
  EmailOut,
  EmailPatch,
  ImportNumbersOut,
  MailboxIn,
  MailboxOut,
  MailboxPatch,
  SendTestOut,
  MessageIn,
  MessageOut,
  MessagePage,
  NewTokenOut,
  NoteOut,
  PhoneNumberIn,
  PhoneNumberOut,
  PhoneNumberPatch,
  PhoneOut,
  PhonePatch,
  ProviderNumberOut,
  SessionOut,
  TaskOut,
  TelnyxConnectIn,
  TokenOut,
  TwilioConnectIn,
  UserIn,
  UserOut,
  UserPatch,
  ViewFilters,
  ViewOut,
  WidgetIn,
  WidgetOut,
  WidgetPatch,
  IdentitySecretOut,
} from "./schemas";

export type * from "./schemas";
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
    update: (body: AccountPatch) =>
      http.patch<AccountOut>("/account", body),
  },
  users: {
    list: () => http.get<UserOut[]>("/users"),
    create: (body: UserIn) =>
      http.post<UserOut>("/users", body),
    update: (id: number, body: UserPatch) =>
      http.patch<UserOut>(`/users/${id}`, body),
    uploadAvatar: (file: File) => {
      const form = new FormData();
      form.append("file", file);
      return http.upload<UserOut>("PUT", "/users/me/avatar", form);
    },
  },
  tokens: {
    list: () => http.get<TokenOut[]>("/tokens"),
    create: (name: string) => http.post<NewTokenOut>("/tokens", { name }),
    remove: (id: number) => http.del(`/tokens/${id}`),
  },
  contacts: {
    search: (q: string, cursor?: string | null, limit = 20, signal?: AbortSignal) =>
      http.get<ContactPage>("/contacts", { q, cursor, limit }, signal),
    create: (body: ContactIn, idempotencyKey?: string) =>
      http.post<ContactOut>("/contacts", body, idempotencyKey),
    get: (id: number) => http.get<ContactDetailOut>(`/contacts/${id}`),
    update: (id: number, body: ContactPatch) => http.patch<ContactOut>(`/contacts/${id}`, body),
    updatePhone: (id: number, phoneId: number, body: PhonePatch) =>
      http.patch<PhoneOut>(`/contacts/${id}/phones/${phoneId}`, body),
    updateEmail: (id: number, emailId: number, body: EmailPatch) =>
      http.patch<EmailOut>(`/contacts/${id}/emails/${emailId}`, body),
    uploadAvatar: (id: number, file: File) => {
      const form = new FormData();
      form.append("file", file);
      return http.upload<ContactOut>("PUT", `/contacts/${id}/avatar`, form);
    },
    addNote: (id: number, body: string, idempotencyKey?: string) =>
      http.post<NoteOut>(`/contacts/${id}/notes`, { body }, idempotencyKey),
    merge: (id: number, otherId: number) =>
      http.post<ContactOut>(`/contacts/${id}/merge`, { other_contact_id: otherId }),
    conversation: (id: number) => http.post<ConversationOut>(`/contacts/${id}/conversation`),
  },
  conversations: {
    list: (query: { view?: string; q?: string; cursor?: string | null; limit?: number }, signal?: AbortSignal) =>
      http.get<ConversationPage>("/conversations", query, signal),
    get: (id: number) => http.get<ConversationOut>(`/conversations/${id}`),
    update: (id: number, body: ConversationPatch) =>
      http.patch<ConversationOut>(`/conversations/${id}`, body),
    read: (id: number) => http.post<unknown>(`/conversations/${id}/read`),
    /** Tells a web chat visitor the agent is typing (204; nothing stored). */
    typing: (id: number) => http.post<unknown>(`/conversations/${id}/typing`),
    messages: (id: number, before?: string | null, limit = 50) =>
      http.get<MessagePage>(`/conversations/${id}/messages`, { before, limit }),
    send: (id: number, body: MessageIn, idempotencyKey?: string) =>
      http.post<MessageOut>(`/conversations/${id}/messages`, body, idempotencyKey),
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
    create: (body: PhoneNumberIn) =>
      http.post<PhoneNumberOut>("/phone-numbers", body),
    update: (id: number, body: PhoneNumberPatch) =>
      http.patch<PhoneNumberOut>(`/phone-numbers/${id}`, body),
    remove: (id: number) => http.del(`/phone-numbers/${id}`),
  },
  sms: {
    providers: () => http.get<ConnectionOut[]>("/sms/providers"),
    connectTwilio: (body: TwilioConnectIn) =>
      http.put<ConnectionOut>("/sms/providers/twilio", body),
    connectTelnyx: (body: TelnyxConnectIn) =>
      http.put<ConnectionOut>("/sms/providers/telnyx", body),
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
    create: (body: MailboxIn) =>
      http.post<MailboxOut>("/mailboxes", body),
    update: (id: number, body: MailboxPatch) =>
      http.patch<MailboxOut>(`/mailboxes/${id}`, body),
    remove: (id: number) => http.del(`/mailboxes/${id}`),
    /** Sends a test email through the mailbox's relay; answers what the relay said. */
    testEmail: (id: number, to: string) =>
      http.post<SendTestOut>(`/mailboxes/${id}/test-email`, { to }),
  },
  webhooks: {
    list: () => http.get<EndpointOut[]>("/webhooks"),
    /** The answer carries the signing secret, this once. */
    create: (body: EndpointIn) => http.post<EndpointCreated>("/webhooks", body),
    update: (id: number, body: EndpointPatch) => http.patch<EndpointOut>(`/webhooks/${id}`, body),
    remove: (id: number) => http.del(`/webhooks/${id}`),
    secret: (id: number) => http.get<SecretOut>(`/webhooks/${id}/secret`),
    deliveries: (id: number) => http.get<DeliveryOut[]>(`/webhooks/${id}/deliveries`),
    resend: (id: number, deliveryId: number) =>
      http.post<DeliveryOut>(`/webhooks/${id}/deliveries/${deliveryId}/resend`),
    test: (id: number) => http.post<DeliveryOut>(`/webhooks/${id}/test`),
  },
  workflows: {
    list: () => http.get<WorkflowOut[]>("/workflows"),
    create: (body: WorkflowIn) => http.post<WorkflowOut>("/workflows", body),
    update: (id: number, body: WorkflowPatch) => http.patch<WorkflowOut>(`/workflows/${id}`, body),
    remove: (id: number) => http.del(`/workflows/${id}`),
    runs: (id: number) => http.get<RunOut[]>(`/workflows/${id}/runs`),
    /** What it would do for the contact now; nothing is done. */
    test: (id: number, body: { contact_id: number; text?: string }) =>
      http.post<TestRunOut>(`/workflows/${id}/test`, body),
  },
  widgets: {
    list: () => http.get<WidgetOut[]>("/widgets"),
    create: (body: WidgetIn) => http.post<WidgetOut>("/widgets", body),
    update: (id: number, body: WidgetPatch) =>
      http.patch<WidgetOut>(`/widgets/${id}`, body),
    remove: (id: number) => http.del(`/widgets/${id}`),
    identitySecret: (id: number) =>
      http.get<IdentitySecretOut>(`/widgets/${id}/identity-secret`),
    rotateIdentitySecret: (id: number) =>
      http.post<IdentitySecretOut>(`/widgets/${id}/identity-secret`),
  },
};
