// Pure helpers for the composer: SMS segment counting and channel choice.

import type { Channel, ChannelOption, ChannelOptions } from "../../api/schemas";

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
export const emailDrafts = new Map<string, { subject: string; html: string }>();
