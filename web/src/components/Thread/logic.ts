// Pure helpers for the dialog window.

import type { Channel, MessageOut } from "../../api/schemas";
import { toMillis } from "../../realtime/applyEvent";
import { CHANNEL_NAMES, formatAddress } from "../../lib/format";

export type Side = "left" | "right";

/** The prospect on the left; employees and workflows on the right. */
export function sideOf(m: MessageOut): Side {
  return m.direction === "in" || m.sender.type === "contact" ? "left" : "right";
}

export interface ThreadItem {
  kind: "day" | "message";
  key: string;
  day?: string;
  message?: MessageOut;
  /** First of a run of messages from the same sender: shows the avatar and name. */
  first?: boolean;
}

function localDay(iso: string): string {
  const d = new Date(toMillis(iso));
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

function senderKey(m: MessageOut): string {
  return `${m.sender.type}:${m.sender.user_id ?? ""}:${m.sender.workflow_id ?? ""}:${m.channel}`;
}

/** Day separators plus runs: a message starts a run when the sender, the channel or the
 * day changes, or more than five minutes passed. */
export function threadItems(messages: MessageOut[]): ThreadItem[] {
  const out: ThreadItem[] = [];
  let lastDay = "";
  let prev: MessageOut | null = null;
  for (const m of messages) {
    const day = localDay(m.created_at);
    if (day !== lastDay) {
      out.push({ kind: "day", key: `day-${day}`, day: m.created_at });
      lastDay = day;
      prev = null;
    }
    const first =
      !prev ||
      senderKey(prev) !== senderKey(m) ||
      toMillis(m.created_at) - toMillis(prev.created_at) > 5 * 60_000 ||
      m.channel === "email";
    out.push({ kind: "message", key: m.client_id && m.id < 0 ? `c-${m.client_id}` : `m-${m.id}`, message: m, first });
    prev = m;
  }
  return out;
}

/** "From +1 (415) 555-0100 to +1 (415) 555-0199" — the endpoints a message used. */
export function endpointText(m: MessageOut): string {
  const from = formatAddress(m.channel, m.from_address);
  const to = formatAddress(m.channel, m.to_address);
  if (m.channel === "webchat") {
    return m.direction === "in" ? "Web chat visitor" : "To the web chat visitor";
  }
  if (from && to) return `From ${from} to ${to}`;
  if (from) return `From ${from}`;
  if (to) return `To ${to}`;
  return "";
}

export function channelName(channel: Channel): string {
  return CHANNEL_NAMES[channel];
}

/** The last channel used in a thread, for the composer's default. */
export function lastChannel(messages: MessageOut[]): Channel | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].id > 0) return messages[i].channel;
  }
  return messages.length ? messages[messages.length - 1].channel : null;
}

/** Scroll offset that keeps the same message under the eye after older ones are prepended. */
export function keepPosition(prevTop: number, prevHeight: number, newHeight: number): number {
  return prevTop + (newHeight - prevHeight);
}

// ---- Email ----

/** Inline images: `cid:NAME` in the HTML → the attachment's URL. Names not found stay. */
export function inlineCids(html: string, images: Record<string, string> | undefined): string {
  if (!images || !Object.keys(images).length) return html;
  return html.replace(/cid:([^"'\s)>]+)/gi, (whole, raw: string) => {
    let name = raw;
    try {
      name = decodeURIComponent(raw);
    } catch {
      /* keep it as written */
    }
    const bare = name.replace(/^<|>$/g, "");
    return images[name] ?? images[bare] ?? images[`<${bare}>`] ?? whole;
  });
}

/** The email frame's policy: no script, nothing from elsewhere; images from this server
 * (inline images, under the session cookie) and data:/blob:, and from anywhere only once
 * the agent allowed them for this message. */
export function emailCsp(origin: string, allowRemote: boolean): string {
  const img = ["data:", "blob:", origin].concat(allowRemote ? ["https:", "http:"] : []).join(" ");
  return `default-src 'none'; img-src ${img}; style-src 'unsafe-inline'; font-src data:`;
}

const FRAME_STYLE =
  'html,body{margin:0;padding:0;background:transparent}body{font:14px/1.55 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue","Noto Sans","DejaVu Sans",Arial,sans-serif;color:#1f2430;overflow-wrap:anywhere}img{max-width:100%;height:auto}a{color:#4338ca}blockquote{margin:0 0 0 .5em;padding-left:.75em;border-left:3px solid #e4e7ec;color:#5b6474}table{max-width:100%}p{margin:0 0 .75em}body>:last-child,p:last-child{margin-bottom:0}@media (prefers-color-scheme:dark){html{background:#fbfbfc}body{padding:10px 12px}}';

function attr(v: string): string {
  return v.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

/** The frame's whole document: the (server-sanitised) HTML under its policy. */
export function emailDocument(html: string, opts: { origin: string; allowRemote?: boolean }): string {
  const csp = attr(emailCsp(opts.origin, !!opts.allowRemote));
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}"><base target="_blank"><style>${FRAME_STYLE}</style></head><body>${html}</body></html>`;
}

type EmailOf = NonNullable<MessageOut["email"]>;

/** Whether the "•••" toggle has something to show. */
export function hasQuoted(email: EmailOf | null | undefined): boolean {
  return !!(email && (email.quoted_text?.trim() || email.full_html));
}

/** The HTML to render, or null for the text view: the new part, or with the quoted
 * history when it is shown. */
export function emailHtml(m: Pick<MessageOut, "html" | "email">, showQuoted: boolean): string | null {
  const html = showQuoted && m.email?.full_html ? m.email.full_html : m.html;
  return html ? inlineCids(html, m.email?.inline_images) : null;
}

/** The quoted text shown under the text (or HTML without a whole version) when toggled. */
export function quotedTextShown(m: Pick<MessageOut, "html" | "email">, showQuoted: boolean): string | null {
  if (!showQuoted || !m.email?.quoted_text?.trim()) return null;
  // The whole HTML already holds the history.
  if (m.html && m.email.full_html) return null;
  return m.email.quoted_text;
}

/** The failure line of an outgoing message: why a bounce came back, or why sending failed. */
export function failureText(m: Pick<MessageOut, "status" | "error_code" | "error_message" | "email">): string | null {
  if (m.status !== "failed") return null;
  const bounce = m.email?.bounce;
  if (bounce) return `Bounced: ${bounce.reason}`;
  const code = m.error_code && !(m.error_message ?? "").includes(m.error_code) ? ` (${m.error_code})` : "";
  return `Not delivered${m.error_message ? `: ${m.error_message}` : "."}${code}`;
}
