// The one short message at the foot of the screen ("Could not load older messages"), gone
// after five seconds or when the next one replaces it.

import { signal } from "@preact/signals";

export type Toast = { text: string; kind: "info" | "error" };

export function createToastStore() {
  const current = signal<Toast | null>(null);
  let timer: ReturnType<typeof setTimeout> | null = null;

  function show(text: string, kind: Toast["kind"] = "info") {
    current.value = { text, kind };
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => (current.value = null), 5000);
  }

  return { current, show };
}

export type ToastStore = ReturnType<typeof createToastStore>;
