// A tiny History-API router: the server answers every non-API path with index.html.

import { signal } from "@preact/signals";

export const path = signal<string>(typeof location !== "undefined" ? location.pathname : "/");

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === location.pathname) return;
  if (opts.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  path.value = to;
}

if (typeof window !== "undefined") {
  window.addEventListener("popstate", () => {
    path.value = location.pathname;
  });
}

export type Route =
  | { name: "inbox"; conversationId: number | null }
  | { name: "settings"; tab: string; item?: string }
  | { name: "tasks" }
  | { name: "login" };

export function parseRoute(p: string): Route {
  const conv = /^\/conversations\/(\d+)\/?$/.exec(p);
  if (conv) return { name: "inbox", conversationId: Number(conv[1]) };
  const settings = /^\/settings(?:\/([\w-]+))?(?:\/([\w/-]+?))?\/?$/.exec(p);
  if (settings) return { name: "settings", tab: settings[1] ?? "profile", ...(settings[2] ? { item: settings[2] } : {}) };
  if (p === "/login") return { name: "login" };
  if (/^\/tasks\/?$/.test(p)) return { name: "tasks" };
  return { name: "inbox", conversationId: null };
}

/** Click handler for in-app links: plain clicks navigate without a page load. */
export function linkClick(e: MouseEvent): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.currentTarget as HTMLElement).closest("a");
  const href = a?.getAttribute("href");
  if (!href || !href.startsWith("/")) return;
  e.preventDefault();
  navigate(href);
}
