// The JSON shapes of /api/v1 by the names of parlour/*/schemas.py: aliases of the types
// openapi-typescript generates from the server's OpenAPI document (openapi.d.ts, made by
// `make api-types`; never edit it by hand). A schema renamed or changed on the server
// fails `npm run build` wherever the app relies on it.

import type { components } from "./openapi";

type Schemas = components["schemas"];

export type AccountOut = Schemas["AccountOut"];
export type AccountPatch = Schemas["AccountPatch"];
export type SessionOut = Schemas["SessionOut"];
export type UserOut = Schemas["UserOut"];
export type UserIn = Schemas["UserIn"];
export type UserPatch = Schemas["UserPatch"];
export type TokenOut = Schemas["TokenOut"];
export type NewTokenOut = Schemas["NewTokenOut"];

export type ContactBrief = Schemas["ContactBrief"];
export type ContactOut = Schemas["ContactOut"];
export type ContactDetailOut = Schemas["ContactDetailOut"];
export type ContactIn = Schemas["ContactIn"];
export type ContactPatch = Schemas["ContactPatch"];
export type ContactPage = Schemas["ContactPage"];
export type PhoneOut = Schemas["PhoneOut"];
export type PhonePatch = Schemas["PhonePatch"];
export type EmailOut = Schemas["EmailOut"];
export type EmailPatch = Schemas["EmailPatch"];
export type NoteOut = Schemas["NoteOut"];

export type ConversationOut = Schemas["ConversationOut"];
export type ConversationPatch = Schemas["ConversationPatch"];
export type ConversationPage = Schemas["ConversationPage"];
export type MessageOut = Schemas["MessageOut"];
export type MessageIn = Schemas["MessageIn"];
export type MessagePage = Schemas["MessagePage"];
export type AttachmentOut = Schemas["AttachmentOut"];
export type ChannelOptions = Schemas["ChannelOptions"];
export type ChannelOption = Schemas["ChannelOption"];
export type ViewOut = Schemas["ViewOut"];
export type ViewFilters = Schemas["ViewFilters"];

export type PhoneNumberOut = Schemas["PhoneNumberOut"];
export type PhoneNumberIn = Schemas["PhoneNumberIn"];
export type PhoneNumberPatch = Schemas["PhoneNumberPatch"];
export type ConnectionOut = Schemas["ConnectionOut"];
export type TwilioConnectIn = Schemas["TwilioConnectIn"];
export type TelnyxConnectIn = Schemas["TelnyxConnectIn"];
export type ProviderNumberOut = Schemas["ProviderNumberOut"];
export type ImportNumbersOut = Schemas["ImportNumbersOut"];
export type MailboxOut = Schemas["MailboxOut"];
export type MailboxIn = Schemas["MailboxIn"];
export type MailboxPatch = Schemas["MailboxPatch"];
export type SendTestOut = Schemas["SendTestOut"];
export type EmailDetailsOut = Schemas["EmailDetailsOut"];
export type BounceOut = Schemas["BounceOut"];
export type WidgetOut = Schemas["WidgetOut"];
export type WidgetIn = Schemas["WidgetIn"];
export type WidgetPatch = Schemas["WidgetPatch"];
export type IdentitySecretOut = Schemas["IdentitySecretOut"];
export type TaskOut = Schemas["TaskOut"];

/** A conversation channel: "sms", "webchat" or "email". */
export type Channel = MessageOut["channel"];
export type Role = UserIn["role"];

export type WorkflowOut = Schemas["WorkflowOut"];
export type WorkflowIn = Schemas["WorkflowIn"];
export type WorkflowPatch = Schemas["WorkflowPatch"];
export type RunOut = Schemas["RunOut"];
export type TestRunOut = Schemas["TestRunOut"];
export type EndpointOut = Schemas["EndpointOut"];
export type EndpointIn = Schemas["EndpointIn"];
export type EndpointPatch = Schemas["EndpointPatch"];
export type EndpointCreated = Schemas["EndpointCreated"];
export type DeliveryOut = Schemas["DeliveryOut"];
export type SecretOut = Schemas["SecretOut"];
