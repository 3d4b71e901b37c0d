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

export function previewOf(conv: ConversationOut): string {
  const text = conv.last_message_preview?.trim() || "No messages yet";
  return conv.last_message_direction === "out" ? `You: ${text}` : text;
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
