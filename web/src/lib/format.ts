// Formatting for people: relative times, phone numbers, sizes, channel names.

import type { Channel } from "../api/schemas";
import { toMillis } from "../realtime/applyEvent";

export const CHANNEL_NAMES: Record<Channel, string> = {
  sms: "SMS",
  webchat: "Web Chat",
  email: "Email",
};

/** "now", "5m", "3h", "Tue", "Mar 4", "Mar 4, 2024" — the panel's compact time. */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  const t = toMillis(iso);
  if (!t) return "";
  const diff = Math.max(0, now - t);
  const min = 60_000;
  if (diff < min) return "now";
  if (diff < 60 * min) return `${Math.floor(diff / min)}m`;
  if (diff < 24 * 60 * min) return `${Math.floor(diff / (60 * min))}h`;
  const date = new Date(t);
  if (diff < 6 * 24 * 60 * min) return date.toLocaleDateString("en-US", { weekday: "short" });
  const sameYear = new Date(now).getFullYear() === date.getFullYear();
  return date.toLocaleDateString("en-US", sameYear ? { month: "short", day: "numeric" } : { month: "short", day: "numeric", year: "numeric" });
}

export function clockTime(iso: string | null | undefined): string {
  const t = toMillis(iso);
  if (!t) return "";
  return new Date(t).toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit" });
}

export function fullTime(iso: string | null | undefined): string {
  const t = toMillis(iso);
  if (!t) return "";
  return new Date(t).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" });
}

/** "Today", "Yesterday", "Monday, March 4" — the thread's day separators. */
export function dayLabel(iso: string | null | undefined, now = Date.now()): string {
  const t = toMillis(iso);
  if (!t) return "";
  const d = new Date(t);
  const today = new Date(now);
  const startOf = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const days = Math.round((startOf(today) - startOf(d)) / 86_400_000);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  const sameYear = d.getFullYear() === today.getFullYear();
  return d.toLocaleDateString("en-US", sameYear ? { weekday: "long", month: "long", day: "numeric" } : { year: "numeric", month: "long", day: "numeric" });
}

/** +14155550123 → +1 (415) 555-0123; other countries keep E.164 with spacing left alone. */
export function formatPhone(e164: string | null | undefined): string {
  if (!e164) return "";
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  if (m) return `+1 (${m[1]}) ${m[2]}-${m[3]}`;
  const uk = /^\+44(\d{4})(\d{6})$/.exec(e164);
  if (uk) return `+44 ${uk[1]} ${uk[2]}`;
  return e164;
}

export function formatAddress(channel: Channel, address: string | null | undefined): string {
  if (!address) return "";
  return channel === "sms" ? formatPhone(address) : address;
}

export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A stable pastel colour per name for initials avatars. */
export function avatarHue(seed: string): number {
  let h = 0;
  for (let i = 0; i < seed.length; i++) h = (h * 31 + seed.charCodeAt(i)) >>> 0;
  return h % 360;
}

export function statusLabel(status: string): string {
  switch (status) {
    case "queued":
      return "Queued";
    case "sending":
      return "Sending";
    case "sent":
      return "Sent";
    case "delivered":
      return "Delivered";
    case "failed":
      return "Failed";
    case "received":
      return "Received";
    case "read":
      return "Read";
    default:
      return status;
  }
}

/** A contact known only by a phone number reads better grouped: "+1 (415) 555-0042". */
export function displayName(name: string): string {
  return /^\+\d{8,15}$/.test(name) ? formatPhone(name) : name;
}
