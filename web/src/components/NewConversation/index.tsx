// "New conversation": search any contact (not just the ones in the panel), or create one
// from what was typed, then open the thread with the composer focused.

import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, type ContactOut } from "../../api";
import { formatPhone } from "../../lib/format";
import { navigate } from "../../lib/router";
import { errorText } from "../../lib/errors";
import { createRetryKey } from "../../lib/retryKey";
import { useInbox } from "../../stores/context";
import { Avatar } from "../common/Avatar";
import { Modal } from "../common/Modal";
import { PlusIcon, SearchIcon } from "../common/Icons";
import { classify, contactFromTyped } from "./logic";

export function NewConversation({ onClose }: { onClose: () => void }) {
  const inbox = useInbox();
  const [q, setQ] = useState("");
  // The answer on screen and the text it answers: until the search for what is typed now
  // comes back, the list still shows an older answer.
  const [found, setFound] = useState<{ q: string; items: ContactOut[] }>({ q: "", items: [] });
  const results = found.items;
  const [loading, setLoading] = useState(false);
  const [active, setActive] = useState(-1);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Creating the same contact again after a lost answer must not make two.
  const [contactKey] = useState(createRetryKey);
  const abort = useRef<AbortController | null>(null);
  // Enter pressed before the answer for the typed text: it picks that answer's first option.
  const enterPending = useRef(false);
  const [hint, setHint] = useState<string | null>(null);

  useEffect(() => {
    const t = setTimeout(async () => {
      abort.current?.abort();
      const ctrl = new AbortController();
      abort.current = ctrl;
      setLoading(true);
      const text = q.trim();
      try {
        const page = await api.contacts.search(text, null, 20, ctrl.signal);
        if (!ctrl.signal.aborted) {
          setFound({ q: text, items: page.items });
          // With nothing typed no option is chosen until the agent picks one (arrows,
          // pointer): an Enter meant for something else, right after the N shortcut, must
          // not start a conversation with whoever happens to be listed first.
          setActive(text ? 0 : -1);
          if (enterPending.current) {
            enterPending.current = false;
            if (page.items.length) void start(page.items[0].id);
            else if (text) void create(text);
          }
        }
      } catch (err) {
        if (!ctrl.signal.aborted && (err as Error).name !== "AbortError") {
          enterPending.current = false;
          setError(errorText(err));
        }
      } finally {
        if (!ctrl.signal.aborted) setLoading(false);
      }
    }, q ? 180 : 0);
    return () => clearTimeout(t);
  }, [q]);

  async function start(contactId: number) {
    setBusy(true);
    setError(null);
    try {
      const id = await inbox.thread.startConversation(contactId);
      onClose();
      navigate(`/conversations/${id}`);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  async function create(text: string) {
    const typed = classify(text);
    if (!typed.value) return;
    setBusy(true);
    setError(null);
    try {
      const body = contactFromTyped(typed);
      const contact = await api.contacts.create(body, contactKey.keyFor(body));
      contactKey.done();
      await start(contact.id);
    } catch (err) {
      if (err instanceof ApiError && (err.code === "duplicate_phone" || err.code === "duplicate_email")) {
        const other = (err.details as { contact_id?: number } | null)?.contact_id;
        if (other) {
          await start(other);
          return;
        }
      }
      setError(errorText(err));
      setBusy(false);
    }
  }

  const typed = classify(q);
  // Offered as soon as something is typed, and kept while searching: an option that came
  // and went under the pointer would take clicks meant for it. Creating an existing phone
  // or email opens that contact instead (see create).
  const showCreate = typed.value.length > 0;
  const optionCount = results.length + (showCreate ? 1 : 0);
  const answered = found.q === typed.value && !loading;

  // The option under a pointer that moved. Chrome also sends mouse events when the list
  // appears under a pointer at rest (where the Sign in button was, say): that is not a
  // choice, or the next Enter would open whoever was listed there.
  const pointer = useRef<{ x: number; y: number } | null>(null);
  function pointTo(index: number, e: MouseEvent) {
    const last = pointer.current;
    pointer.current = { x: e.clientX, y: e.clientY };
    if (last && (last.x !== e.clientX || last.y !== e.clientY)) setActive(index);
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setActive((a) => Math.min(optionCount - 1, a + 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => Math.max(0, a - 1));
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (busy) return;
      // Nothing typed: only a contact the agent chose from the listed answer.
      if (!typed.value && (active < 0 || !answered)) {
        setHint("Type a name, phone number or email, or choose a contact with ↓ first.");
        return;
      }
      if (!answered) enterPending.current = true;
      else if (active >= 0 && active < results.length) void start(results[active].id);
      else if (showCreate) void create(typed.value);
    }
  }

  const createLabel =
    typed.kind === "phone" ? `Text a new contact at ${typed.value}` : typed.kind === "email" ? `Email a new contact at ${typed.value}` : `Create contact “${typed.value}”`;

  return (
    <Modal title="New conversation" onClose={onClose} size="md" class="new-conv">
      <div class="search-box search-box-lg">
        <SearchIcon size={16} />
        <input
          type="search"
          role="combobox"
          aria-expanded="true"
          aria-controls="new-conv-results"
          aria-activedescendant={optionCount && active >= 0 ? `nc-opt-${active}` : undefined}
          aria-label="Search all contacts"
          placeholder="Name, phone number or email"
          value={q}
          onInput={(e) => {
            setQ((e.target as HTMLInputElement).value);
            setHint(null);
          }}
          onKeyDown={onKeyDown}
          autoFocus
        />
      </div>
      <ul id="new-conv-results" class="result-list" role="listbox" aria-label="Contacts" aria-busy={loading}>
        {results.map((c, i) => (
          <li
            key={c.id}
            id={`nc-opt-${i}`}
            role="option"
            aria-selected={i === active}
            class={`result${i === active ? " is-active" : ""}`}
            onMouseMove={(e) => pointTo(i, e)}
            onClick={() => !busy && void start(c.id)}
          >
            <Avatar name={c.name || c.emails[0]?.address || "?"} initials={c.initials} url={c.avatar_url} size={34} decorative />
            <span class="result-text">
              <span class="result-name">{c.name || c.emails[0]?.address || formatPhone(c.phones[0]?.e164) || "Unnamed contact"}</span>
              <span class="result-sub">
                {[c.company, ...c.phones.map((p) => formatPhone(p.e164)), ...c.emails.map((e) => e.address)].filter(Boolean).join(" · ") || "No phone or email yet"}
              </span>
            </span>
          </li>
        ))}
        {showCreate ? (
          <li
            id={`nc-opt-${results.length}`}
            role="option"
            aria-selected={active === results.length}
            class={`result result-create${active === results.length ? " is-active" : ""}`}
            onMouseMove={(e) => pointTo(results.length, e)}
            onClick={() => !busy && void create(typed.value)}
          >
            <span class="result-plus">
              <PlusIcon size={16} />
            </span>
            <span class="result-text">
              <span class="result-name">{createLabel}</span>
              <span class="result-sub">{results.length ? "Not the one? Add a new contact." : "No contact matches. Add one and start talking."}</span>
            </span>
          </li>
        ) : null}
        {!loading && !q && results.length === 0 ? <li class="result-empty">No contacts yet. Type a name, number or email to add one.</li> : null}
      </ul>
      <p class="hint new-conv-hint" role="status">
        {hint}
      </p>
      {error ? (
        <p class="form-error" role="alert">
          {error}
        </p>
      ) : null}
    </Modal>
  );
}
