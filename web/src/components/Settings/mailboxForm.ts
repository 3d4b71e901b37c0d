// The mailbox form's values and what a save sends: a new mailbox's fields, or only the
// fields an edit changed (the server keeps what a PATCH leaves out).

import type { MailboxIn, MailboxOut, MailboxPatch } from "../../api/schemas";

export type Security = "starttls" | "tls" | "none";
export type Server = "smtp" | "imap";

/** The ports the server uses when none is given (parlour/channels/email/schemas.py). */
export function defaultPort(server: Server, security: Security): number {
  if (server === "smtp") return security === "tls" ? 465 : security === "none" ? 25 : 587;
  return security === "tls" ? 993 : 143;
}

export const SECURITY_NAMES: Record<Security, string> = { starttls: "STARTTLS", tls: "TLS", none: "None" };

/** A password is write-only: left alone, replaced by what was typed, or forgotten. */
export interface Secret {
  value: string;
  forget: boolean;
}

export interface ServerForm {
  host: string;
  port: string;
  security: Security;
  username: string;
  password: Secret;
}

export interface MailboxForm {
  address: string;
  name: string;
  smtp: ServerForm;
  imap: ServerForm & { folder: string };
  signature: string;
}

function security(value: string | null | undefined, fallback: Security): Security {
  return value === "starttls" || value === "tls" || value === "none" ? value : fallback;
}

const KEEP: Secret = { value: "", forget: false };

/** The port field: empty for the security's default (its placeholder shows it), so a
 * change of security moves a default port along with it. */
function shownPort(server: Server, port: number | null | undefined, sec: Security): string {
  return port == null || port === defaultPort(server, sec) ? "" : String(port);
}

export function formOf(m?: MailboxOut): MailboxForm {
  return {
    address: m?.address ?? "",
    name: m?.name ?? "",
    smtp: {
      host: m?.smtp_host ?? "",
      port: shownPort("smtp", m?.smtp_port, security(m?.smtp_security, "starttls")),
      security: security(m?.smtp_security, "starttls"),
      username: m?.smtp_username ?? "",
      password: KEEP,
    },
    imap: {
      host: m?.imap_host ?? "",
      port: shownPort("imap", m?.imap_port, security(m?.imap_security, "tls")),
      security: security(m?.imap_security, "tls"),
      username: m?.imap_username ?? "",
      password: KEEP,
      folder: m?.imap_folder ?? "INBOX",
    },
    signature: m?.signature ?? "",
  };
}

/** Field → message for what can be told before asking the server. */
export function checkForm(f: MailboxForm): Record<string, string> {
  const out: Record<string, string> = {};
  for (const server of ["smtp", "imap"] as Server[]) {
    const port = f[server].port.trim();
    if (port && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
      out[`${server}_port`] = "A port is a number from 1 to 65535.";
    }
  }
  return out;
}

function port(v: string): number | null {
  const t = v.trim();
  return t ? Number(t) : null;
}

function text(v: string): string | null {
  const t = v.trim();
  return t || null;
}

type ServerFields = Record<string, string | number | null>;

/** One server's fields as a new mailbox sends them; none without a host. */
function serverFields(server: Server, s: ServerForm): ServerFields {
  if (!text(s.host)) return {};
  const out: ServerFields = { [`${server}_host`]: text(s.host), [`${server}_security`]: s.security };
  if (port(s.port) != null) out[`${server}_port`] = port(s.port);
  if (text(s.username)) out[`${server}_username`] = text(s.username);
  if (s.password.value) out[`${server}_password`] = s.password.value;
  return out;
}

export function createOf(f: MailboxForm): MailboxIn {
  const body: MailboxIn = { address: f.address.trim(), name: f.name.trim(), enabled: true };
  Object.assign(body, serverFields("smtp", f.smtp), serverFields("imap", f.imap));
  if (text(f.imap.host) && f.imap.folder.trim() && f.imap.folder.trim() !== "INBOX") body.imap_folder = f.imap.folder.trim();
  if (f.signature.trim()) body.signature = f.signature;
  return body;
}

/** What changed on one server. A host cleared removes the server, and is then sent
 * alone: the server refuses a port or a username for a server without a host. */
function changedServer(server: Server, before: ServerForm, after: ServerForm): ServerFields {
  const host = text(after.host);
  if (!host) return text(before.host) ? { [`${server}_host`]: null } : {};
  const out: ServerFields = {};
  if (host !== text(before.host)) out[`${server}_host`] = host;
  if (after.security !== before.security) out[`${server}_security`] = after.security;
  // The server resets the port when the security changes alone: a port typed is kept.
  const securityChanged = after.security !== before.security;
  if (port(after.port) !== port(before.port) || (securityChanged && port(after.port) != null)) out[`${server}_port`] = port(after.port);
  if (text(after.username) !== text(before.username)) out[`${server}_username`] = text(after.username);
  if (after.password.forget) out[`${server}_password`] = null;
  else if (after.password.value) out[`${server}_password`] = after.password.value;
  return out;
}

export function patchOf(before: MailboxForm, after: MailboxForm): MailboxPatch {
  const patch: MailboxPatch = {};
  if (after.name.trim() !== before.name.trim()) patch.name = after.name.trim();
  Object.assign(patch, changedServer("smtp", before.smtp, after.smtp), changedServer("imap", before.imap, after.imap));
  const folder = after.imap.folder.trim() || "INBOX";
  if (text(after.imap.host) && folder !== (before.imap.folder.trim() || "INBOX")) patch.imap_folder = folder;
  if (after.signature !== before.signature) patch.signature = after.signature;
  return patch;
}

/** The inbound webhook as a relay is told it: a full URL on this server. */
export function webhookUrl(origin: string, path: string): string {
  return origin.replace(/\/+$/, "") + (path.startsWith("/") ? path : `/${path}`);
}

export type PollState = "off" | "waiting" | "ok" | "error";

/** How the last IMAP poll went, for the status line. */
export function pollState(m: Pick<MailboxOut, "imap_host" | "imap_checked_at" | "imap_error">): PollState {
  if (!m.imap_host) return "off";
  if (m.imap_error) return "error";
  return m.imap_checked_at ? "ok" : "waiting";
}
