// Pure helpers for the composer: SMS segment counting, channel choice, and the email
// composer's subject, Cc/Bcc addresses and signature.

import type { Channel, ChannelOption, ChannelOptions, MessageOut } from "../../api/schemas";

const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED = "^{}\\[~]|€\f";
const BASIC = new Set(GSM_BASIC);
const EXTENDED = new Set(GSM_EXTENDED);

export interface SmsCount {
  encoding: "GSM-7" | "UCS-2";
  /** Characters counted the way the carrier counts them (septets or UTF-16 units). */
  units: number;
  segments: number;
  /** Units left before the next segment starts. */
  remaining: number;
  perSegment: number;
}

export function countSms(text: string): SmsCount {
  let septets = 0;
  let gsm = true;
  for (const ch of text) {
    if (BASIC.has(ch)) septets += 1;
    else if (EXTENDED.has(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) {
    const single = 160;
    const multi = 153;
    const segments = septets === 0 ? 0 : septets <= single ? 1 : Math.ceil(septets / multi);
    const perSegment = segments > 1 ? multi : single;
    const remaining = segments <= 1 ? single - septets : segments * multi - septets;
    return { encoding: "GSM-7", units: septets, segments, remaining, perSegment };
  }
  const units = text.length; // UTF-16 code units, as UCS-2 carriers count them
  const single = 70;
  const multi = 67;
  const segments = units <= single ? 1 : Math.ceil(units / multi);
  const perSegment = segments > 1 ? multi : single;
  const remaining = segments <= 1 ? single - units : segments * multi - units;
  return { encoding: "UCS-2", units, segments, remaining, perSegment };
}

/** The channel the composer starts on: the one last used in the thread if usable,
 * else the contact's preferred one, else the first available. */
export function defaultChannel(
  options: ChannelOptions | null,
  lastUsed: Channel | null,
  preferred: Channel | null,
): Channel {
  const usable = (ch: Channel | null) =>
    ch !== null && !!options?.channels.find((c) => c.channel === ch && c.available);
  if (usable(lastUsed)) return lastUsed as Channel;
  if (usable(preferred)) return preferred as Channel;
  const first = options?.channels.find((c) => c.available);
  return first?.channel ?? lastUsed ?? preferred ?? "sms";
}

export function optionFor(options: ChannelOptions | null, channel: Channel): ChannelOption | undefined {
  return options?.channels.find((c) => c.channel === channel);
}

/** The endpoint id to use: the chosen one if still usable, else the server's default. */
export function pickEndpoint(
  list: { id: number; usable: boolean }[],
  chosen: number | null | undefined,
  fallback: number | null,
): number | null {
  if (chosen != null && list.some((e) => e.id === chosen && e.usable)) return chosen;
  if (fallback != null && list.some((e) => e.id === fallback)) return fallback;
  return list.find((e) => e.usable)?.id ?? null;
}

/** Enter sends (Shift+Enter is a new line); Ctrl/Cmd+Enter always sends. */
export function isSendShortcut(e: { key: string; shiftKey: boolean; ctrlKey: boolean; metaKey: boolean; isComposing?: boolean }): boolean {
  if (e.key !== "Enter" || e.isComposing) return false;
  if (e.ctrlKey || e.metaKey) return true;
  return !e.shiftKey;
}

/** Unsent emails per thread, kept while the app is open (the composer is a lazy chunk,
 * so the map lives here where the reply box can see whether there is one). */
export const emailDrafts = new Map<string, { subject: string; html: string; cc?: string; bcc?: string }>();

/** The subject of a reply: "Re: " and the thread's last email subject (once). */
export function replySubject(messages: Pick<MessageOut, "id" | "channel" | "subject">[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const subject = messages[i].channel === "email" ? messages[i].subject?.trim() : "";
    if (subject) return /^(re|aw|sv|antw)\s*:/i.test(subject) ? subject : `Re: ${subject}`;
  }
  return "";
}

// The server's own check (parlour/conversations/schemas.py EmailAddress).
const ADDRESS = /^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$/;

/** Cc/Bcc as typed: addresses separated by commas, semicolons or spaces ("Name <a@b>"
 * keeps the address). Each address once; what is not an address is named. */
export function parseAddresses(text: string): { addresses: string[]; invalid: string[] } {
  const addresses: string[] = [];
  const invalid: string[] = [];
  const parts = text.split(/[,;\n]+/).flatMap((segment) => {
    const angled = segment.match(/<([^<>]*)>/);
    return angled ? [angled[1]] : segment.split(/\s+/);
  });
  for (const part of parts) {
    const a = part.trim();
    if (!a) continue;
    if (!ADDRESS.test(a)) invalid.push(a);
    else if (!addresses.some((x) => x.toLowerCase() === a.toLowerCase())) addresses.push(a);
  }
  return { addresses, invalid };
}

/** The message for a Cc/Bcc field with something that is not an address, or null. */
export function addressError(text: string): string | null {
  const { invalid } = parseAddresses(text);
  if (!invalid.length) return null;
  return invalid.length === 1 ? `“${invalid[0]}” is not an email address.` : `These are not email addresses: ${invalid.join(", ")}.`;
}

/** Field → message from a refused send, for the Cc and Bcc fields ("cc.1" → "cc"). */
export function recipientErrors(fields: Record<string, string>): { cc?: string; bcc?: string } {
  const out: { cc?: string; bcc?: string } = {};
  for (const [key, msg] of Object.entries(fields)) {
    const field = key.split(".")[0];
    if ((field === "cc" || field === "bcc") && !out[field]) out[field] = msg;
  }
  return out;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A new email's start, as the editor holds it: two empty lines, "-- " and the
 * mailbox's signature ("\n\n-- \n" + signature as text). Empty without a signature. */
export function signatureHtml(signature: string): string {
  const sig = signature.replace(/\r\n?/g, "\n").trim();
  if (!sig) return "";
  // "--&nbsp;": the delimiter's trailing space survives the editor (and innerText, which
  // htmlToText turns back into "-- ").
  const lines = sig.split("\n").map((l) => `<div>${l ? escapeHtml(l) : "<br>"}</div>`);
  return `<div><br></div><div><br></div><div>--&nbsp;</div>${lines.join("")}`;
}

/** Whether the editor's text holds nothing the agent wrote: empty, or only a signature
 * that was put there (which a change of mailbox may then replace). */
export function onlySignature(text: string, signature: string | null | undefined): boolean {
  const t = text.replace(/\u00a0/g, " ").trim();
  if (!t) return true;
  const sig = (signature ?? "").replace(/\r\n?/g, "\n").trim();
  if (!sig) return false;
  const norm = (s: string) => s.replace(/\s+/g, " ").trim();
  return norm(t) === norm(`-- \n${sig}`);
}
