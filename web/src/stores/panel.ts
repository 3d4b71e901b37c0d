// The contacts panel: the views (with their counts), the selected view, the search, and
// the pages of threads. The rows live in the LiveState, where the events move them; this
// store fetches the pages and hands them to loadPanel().

import { batch, computed, signal, type Signal } from "@preact/signals";
import { api, ApiError, type ConversationOut, type ViewOut } from "../api";
import { errorText } from "../lib/errors";
import { latestOnly } from "../lib/latestOnly";
import { storageGet, storageSet } from "../lib/storage";
import { loadPanel, totalUnread, type LiveState } from "../realtime/applyEvent";
import type { LiveEvent } from "../realtime/events";

const PAGE = 50;
const VIEW_KEY = "parlour.view";

export function createPanelStore(live: Signal<LiveState>) {
  const views = signal<ViewOut[]>([]);
  const viewId = signal<string>(storageGet(VIEW_KEY) ?? "all");
  const search = signal("");
  const nextCursor = signal<string | null>(null);
  const loading = signal(false);
  const error = signal<string | null>(null);

  const items = computed<ConversationOut[]>(() => {
    const s = live.value;
    return s.panel.map((id) => s.conversations[id]).filter(Boolean);
  });
  const unreadTotal = computed(() => totalUnread(live.value));
  const currentView = computed(() => views.value.find((v) => v.id === viewId.value) ?? null);

  let pageAbort: AbortController | null = null;
  /** Events that arrived while the latest page was being fetched (see loadPanel). */
  let during: LiveEvent[] | null = null;
  let viewsTimer: ReturnType<typeof setTimeout> | null = null;
  let searchTimer: ReturnType<typeof setTimeout> | null = null;

  function filtersOf(id: string) {
    return views.value.find((v) => v.id === id)?.filters ?? { status: "open" as const };
  }

  const askViews = latestOnly(() => api.views.list());

  async function loadViews() {
    try {
      const list = await askViews();
      if (!list) return;
      views.value = list;
      if (!views.value.some((v) => v.id === viewId.value) && views.value.length) {
        viewId.value = views.value[0].id;
      }
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) error.value = errorText(err);
    }
  }

  /** The views' counts change with the threads; one refetch serves a burst of events. */
  function refreshViewsSoon() {
    if (viewsTimer) return;
    viewsTimer = setTimeout(() => {
      viewsTimer = null;
      void askViews()
        .then((list) => {
          if (list) views.value = list;
        })
        .catch(() => undefined);
    }, 1500);
  }

  async function loadPage(append: boolean) {
    if (append && (!nextCursor.value || loading.value)) return;
    pageAbort?.abort();
    const ctrl = new AbortController();
    pageAbort = ctrl;
    const seen: LiveEvent[] = [];
    during = seen;
    loading.value = true;
    error.value = null;
    const q = search.value.trim();
    try {
      const page = await api.conversations.list(
        { view: viewId.value, q, cursor: append ? nextCursor.value : null, limit: PAGE },
        ctrl.signal,
      );
      if (ctrl.signal.aborted) return;
      batch(() => {
        live.value = loadPanel(live.value, page.items, {
          append,
          complete: page.next_cursor === null,
          query: { filters: filtersOf(viewId.value), q, complete: page.next_cursor === null },
          during: seen,
        });
        nextCursor.value = page.next_cursor;
      });
    } catch (err) {
      if (ctrl.signal.aborted || (err as Error).name === "AbortError") return;
      error.value = errorText(err);
    } finally {
      if (pageAbort === ctrl) {
        loading.value = false;
        pageAbort = null;
        during = null;
      }
    }
  }

  /** Keeps an event for the page on its way, which was read before the event happened. */
  function witness(event: LiveEvent) {
    during?.push(event);
  }

  function selectView(id: string) {
    if (id === viewId.value) return;
    viewId.value = id;
    storageSet(VIEW_KEY, id);
    nextCursor.value = null;
    void loadPage(false);
  }

  function setSearch(q: string) {
    search.value = q;
    if (searchTimer) clearTimeout(searchTimer);
    searchTimer = setTimeout(() => void loadPage(false), 200);
  }

  async function saveView(name: string, filters: ViewOut["filters"]) {
    const view = await api.views.create(name, filters);
    await loadViews();
    selectView(view.id);
    return view;
  }

  async function deleteView(id: string) {
    await api.views.remove(id);
    if (viewId.value === id) selectView("all");
    await loadViews();
  }

  /** The first screen: the views and the first page at once. The page does not wait for
   * the views; the view's filters (which events are matched against) follow them. */
  async function start() {
    const asked = viewId.value;
    await Promise.all([loadViews(), loadPage(false)]);
    if (viewId.value !== asked) await loadPage(false); // the remembered view is gone
    live.value = { ...live.value, query: { ...live.value.query, filters: filtersOf(viewId.value) } };
  }

  return {
    views,
    viewId,
    search,
    nextCursor,
    loading,
    error,
    items,
    unreadTotal,
    currentView,
    start,
    loadViews,
    refreshViewsSoon,
    loadPage,
    witness,
    selectView,
    setSearch,
    saveView,
    deleteView,
  };
}

export type PanelStore = ReturnType<typeof createPanelStore>;
