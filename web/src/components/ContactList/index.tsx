// The contacts panel: view selector, search within the view, and a virtualised list of
// every contact in a conversation, newest activity first.

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { ConversationOut, ViewOut } from "../../api/schemas";
import { CHANNEL_NAMES, displayName, fullTime, relativeTime } from "../../lib/format";
import { navigate } from "../../lib/router";
import { useInbox } from "../../stores/context";
import { Avatar } from "../common/Avatar";
import { ChannelIcon, ComposeIcon, FilterIcon, SearchIcon, CloseIcon } from "../common/Icons";
import { ROW_HEIGHT, moveIndex, nearEnd, previewOf, visibleRange } from "./logic";
import { SaveViewDialog } from "./SaveViewDialog";

interface Props {
  onNewConversation: () => void;
  onEditContact: (contactId: number) => void;
}

export function ContactList({ onNewConversation, onEditContact }: Props) {
  const inbox = useInbox();
  const items = inbox.panel.items.value;
  const openId = inbox.live.value.openId;
  const scrollRef = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(800);
  const [saving, setSaving] = useState(false);
  const focusIndex = useRef<number | null>(null);
  const [now, setNow] = useState(Date.now());

  // For measurements (tests/web/measure.py): when the first rows reached the screen.
  useEffect(() => {
    if (items.length > 0 && performance.getEntriesByName("parlour:panel").length === 0) {
      performance.mark("parlour:panel");
    }
  }, [items.length > 0]);

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(t);
  }, []);

  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const measure = () => setViewport(el.clientHeight || 800);
    measure();
    const ro = typeof ResizeObserver !== "undefined" ? new ResizeObserver(measure) : null;
    ro?.observe(el);
    return () => ro?.disconnect();
  }, []);

  // Back to the top when the view or the search changes.
  useEffect(() => {
    if (scrollRef.current) scrollRef.current.scrollTop = 0;
    setScrollTop(0);
  }, [inbox.panel.viewId.value]);

  function onScroll() {
    const el = scrollRef.current;
    if (!el) return;
    setScrollTop(el.scrollTop);
    if (nearEnd(el.scrollTop, el.clientHeight, items.length * ROW_HEIGHT) && inbox.panel.nextCursor.value) {
      void inbox.panel.loadPage(true);
    }
  }

  // After a keyboard move, focus the row once it is rendered.
  useEffect(() => {
    if (focusIndex.current === null) return;
    const link = scrollRef.current?.querySelector<HTMLAnchorElement>(`a[data-index="${focusIndex.current}"]`);
    if (link) {
      link.focus({ preventScroll: true });
      focusIndex.current = null;
    }
  });

  function ensureVisible(index: number) {
    const el = scrollRef.current;
    if (!el) return;
    const top = index * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
    setScrollTop(el.scrollTop);
  }

  /** Focuses a row: now if it is rendered, else once it is (after the scroll it needs). */
  function focusRow(index: number) {
    ensureVisible(index);
    const link = scrollRef.current?.querySelector<HTMLAnchorElement>(`a[data-index="${index}"]`);
    if (link) link.focus({ preventScroll: true });
    else focusIndex.current = index;
  }

  function onListKeyDown(e: KeyboardEvent) {
    const target = e.target as HTMLElement;
    const current = Number(target.closest("a")?.getAttribute("data-index") ?? -1);
    if (current < 0) return;
    // Up from the first row goes back to the search it came from, as in a combobox.
    if (e.key === "ArrowUp" && current === 0) {
      e.preventDefault();
      document.getElementById("panel-search")?.focus();
      return;
    }
    const next = moveIndex(e.key, current, items.length);
    if (next === null || next === current) return;
    e.preventDefault();
    focusIndex.current = next;
    ensureVisible(next);
    navigate(`/conversations/${items[next].id}`);
  }

  const { start, end } = visibleRange(scrollTop, viewport, items.length);
  const view = inbox.panel.currentView.value;
  const loading = inbox.panel.loading.value;

  return (
    <section class="panel" aria-label="Contacts panel">
      <header class="panel-header">
        <h1 class="panel-title">Inbox</h1>
        <button type="button" class="btn btn-primary btn-sm" onClick={onNewConversation} aria-label="New conversation" title="New conversation (N)">
          <ComposeIcon size={15} />
          <span>New</span>
        </button>
      </header>
      <div class="panel-controls">
        <div class="select-wrap view-select">
          <select
            aria-label="View"
            value={inbox.panel.viewId.value}
            onChange={(e) => inbox.panel.selectView((e.target as HTMLSelectElement).value)}
          >
            {groupViews(inbox.panel.views.value).map(([group, list]) => (
              <optgroup label={group} key={group}>
                {list.map((v) => (
                  <option value={v.id} key={v.id}>
                    {v.name}
                    {typeof v.count === "number" ? ` · ${v.count}` : ""}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
        </div>
        <button type="button" class="icon-btn" aria-label="Save a view" title="Save a view" onClick={() => setSaving(true)}>
          <FilterIcon size={16} />
        </button>
      </div>
      <div class="search-box">
        <SearchIcon size={15} />
        <input
          id="panel-search"
          type="search"
          aria-label="Search contacts in this view"
          placeholder={`Search ${view ? view.name : "contacts"}…`}
          value={inbox.panel.search.value}
          onInput={(e) => inbox.panel.setSearch((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === "Escape" && inbox.panel.search.value) {
              e.stopPropagation();
              inbox.panel.setSearch("");
            } else if (e.key === "ArrowDown" && items.length) {
              // Into the results: the first row takes the focus (Enter opens it, the
              // arrows go on from there).
              e.preventDefault();
              focusRow(0);
            }
          }}
        />
        {inbox.panel.search.value ? (
          <button type="button" class="icon-btn icon-btn-sm" aria-label="Clear search" onClick={() => inbox.panel.setSearch("")}>
            <CloseIcon size={14} />
          </button>
        ) : null}
      </div>
      <div class="panel-scroll" ref={scrollRef} onScroll={onScroll}>
        {inbox.panel.error.value ? (
          <p class="panel-note panel-error" role="alert">
            {inbox.panel.error.value}{" "}
            <button type="button" class="link-btn" onClick={() => void inbox.panel.loadPage(false)}>
              Try again
            </button>
          </p>
        ) : null}
        {items.length === 0 && !loading && !inbox.panel.error.value ? (
          <div class="panel-empty">
            <p>{inbox.panel.search.value ? `No one in ${view?.name ?? "this view"} matches “${inbox.panel.search.value}”.` : "No conversations in this view."}</p>
            <button type="button" class="btn btn-secondary btn-sm" onClick={onNewConversation}>
              Start a new conversation
            </button>
          </div>
        ) : null}
        <ul
          class="conv-list"
          aria-label="Conversations"
          style={{ height: `${items.length * ROW_HEIGHT}px` }}
          onKeyDown={onListKeyDown}
        >
          {items.slice(start, end).map((conv, i) => (
            <Row
              key={conv.id}
              conv={conv}
              index={start + i}
              count={items.length}
              selected={conv.id === openId}
              now={now}
              onEditContact={onEditContact}
            />
          ))}
        </ul>
        {loading && items.length > 0 ? <p class="panel-note">Loading…</p> : null}
        {loading && items.length === 0 ? <SkeletonRows /> : null}
      </div>
      {saving ? <SaveViewDialog onClose={() => setSaving(false)} /> : null}
    </section>
  );
}

function groupViews(views: ViewOut[]) {
  const builtin = views.filter((v) => v.builtin);
  const saved = views.filter((v) => !v.builtin);
  const groups: [string, typeof views][] = [["Views", builtin]];
  if (saved.length) groups.push(["Saved views", saved]);
  return groups;
}

function Row({
  conv,
  index,
  count,
  selected,
  now,
  onEditContact,
}: {
  conv: ConversationOut;
  index: number;
  count: number;
  selected: boolean;
  now: number;
  onEditContact: (id: number) => void;
}) {
  const unread = conv.unread_count;
  const channel = conv.last_message_channel;
  const inbox = useInbox();
  const users = inbox.users.byId.value;
  const me = inbox.live.value.me;
  const assignee = conv.assignee_id ? users[conv.assignee_id] : undefined;
  return (
    <li
      class={`conv-row${selected ? " is-selected" : ""}${unread > 0 ? " is-unread" : ""}`}
      style={{ transform: `translateY(${index * ROW_HEIGHT}px)` }}
      aria-setsize={count}
      aria-posinset={index + 1}
    >
      <button
        type="button"
        class="row-avatar"
        title="Quick edit"
        tabIndex={selected ? 0 : -1}
        onClick={() => onEditContact(conv.contact.id)}
      >
        {/* Hidden text, not aria-label: see ContactBar's avatar button. */}
        <span class="sr-only">Edit contact {displayName(conv.contact.name)}</span>
        <Avatar name={conv.contact.name} initials={conv.contact.initials} url={conv.contact.avatar_url} size={40} decorative />
      </button>
      <a
        class="row-link"
        href={`/conversations/${conv.id}`}
        data-index={index}
        aria-current={selected ? "page" : undefined}
        tabIndex={selected || (index === 0 && !selected) ? 0 : -1}
        onClick={(e) => {
          if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
          e.preventDefault();
          navigate(`/conversations/${conv.id}`);
        }}
      >
        <span class="row-top">
          <span class="row-name">{displayName(conv.contact.name)}</span>
          {assignee ? (
            <span class="row-assignee" title={`Assigned to ${assignee.name}`}>
              <span class="sr-only">assigned to {assignee.name}</span>
              <Avatar name={assignee.name} initials={assignee.initials} url={assignee.avatar_url} size={16} decorative />
            </span>
          ) : null}
          <time class="row-time" dateTime={conv.last_message_at ?? undefined} title={fullTime(conv.last_message_at)}>
            {relativeTime(conv.last_message_at, now)}
          </time>
        </span>
        <span class="row-bottom">
          {channel ? <ChannelIcon channel={channel} size={13} title={CHANNEL_NAMES[channel]} /> : null}
          <span class="row-preview">{previewOf(conv, me)}</span>
          {conv.status === "closed" ? <span class="pill pill-muted">Closed</span> : null}
          {unread > 0 ? (
            <span class="badge" aria-label={`${unread} unread`}>
              {unread > 99 ? "99+" : unread}
            </span>
          ) : null}
        </span>
      </a>
    </li>
  );
}

function SkeletonRows() {
  return (
    <div class="skeletons" aria-hidden="true">
      {Array.from({ length: 6 }, (_, i) => (
        <div class="skeleton-row" key={i}>
          <span class="skeleton skeleton-avatar" />
          <span class="skeleton-lines">
            <span class="skeleton skeleton-line" style={{ width: `${50 + ((i * 17) % 35)}%` }} />
            <span class="skeleton skeleton-line short" style={{ width: `${60 + ((i * 23) % 30)}%` }} />
          </span>
        </div>
      ))}
    </div>
  );
}
