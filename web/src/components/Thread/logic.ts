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
