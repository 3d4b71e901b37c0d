// Pure helpers for the contacts panel.

import type { ConversationOut, ViewOut } from "../../api/schemas";

export const ROW_HEIGHT = 76;

/** Which rows to render for a scroll position: the visible ones plus `overscan` each side. */
export function visibleRange(
  scrollTop: number,
  viewport: number,
  count: number,
  rowHeight = ROW_HEIGHT,
  overscan = 6,
): { start: number; end: number } {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const visible = Math.ceil(Math.max(viewport, rowHeight) / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + visible + overscan);
  return { start, end };
}

/** Whether the list is close enough to its end to fetch the next page. */
export function nearEnd(scrollTop: number, viewport: number, total: number, threshold = 600): boolean {
  return total - (scrollTop + viewport) < threshold;
}

/** The row's last line: the newest message, after who wrote it when that was not the
 * contact: "You:" for the signed-in user (`me`) only, a teammate's first name, a
 * workflow's name. */
export function previewOf(conv: ConversationOut, me: number): string {
  const text = conv.last_message_preview?.trim() || "No messages yet";
  const by = conv.last_message_sender;
  if (!by || by.type === "contact") return text;
  if (by.type === "bot") return `${by.name}: ${text}`;
  if (by.user_id === me) return `You: ${text}`;
  // A user since deleted has no first name to give ("Former user").
  const name = by.user_id === null ? by.name : by.name.split(/\s+/)[0] || by.name;
  return `${name}: ${text}`;
}

export function viewLabel(view: ViewOut): string {
  return typeof view.count === "number" ? `${view.name} (${view.count})` : view.name;
}

/** The next row index for a key press, or null when the key is not a list move. */
export function moveIndex(key: string, current: number, count: number): number | null {
  if (count === 0) return null;
  switch (key) {
    case "ArrowDown":
    case "j":
      return Math.min(count - 1, current + 1);
    case "ArrowUp":
    case "k":
      return Math.max(0, current - 1);
    case "Home":
      return 0;
    case "End":
      return count - 1;
    default:
      return null;
  }
}
