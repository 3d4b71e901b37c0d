// What the settings tabs share: the tab's heading, a list fetched on mount, the note
// shown to agents where only an admin may change things, a label edited in place, and a
// value to copy (a webhook URL).

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { errorText } from "../../lib/errors";
import { CopyIcon } from "../common/Icons";

export function Section({ title, intro, children }: { title: string; intro?: ComponentChildren; children: ComponentChildren }) {
  return (
    <>
      <header class="settings-head">
        <h2 id="settings-heading">{title}</h2>
        {intro ? <p class="muted">{intro}</p> : null}
      </header>
      {children}
    </>
  );
}

export function useList<T>(load: () => Promise<T[]>) {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = async () => {
    try {
      setItems(await load());
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  };
  useEffect(() => {
    void reload();
  }, []);
  return { items, error, setError, reload };
}

export function AdminNote({ admin }: { admin: boolean }) {
  return admin ? null : <p class="notice">Only an admin can change these.</p>;
}

export function InlineText({ value, label, onSave }: { value: string; label: string; onSave: (v: string) => void }) {
  const [v, setV] = useState(value);
  useEffect(() => setV(value), [value]);
  return (
    <input
      class="inline-input"
      aria-label={label}
      value={v}
      onInput={(e) => setV((e.target as HTMLInputElement).value)}
      onBlur={() => v !== value && onSave(v)}
      onKeyDown={(e) => e.key === "Enter" && (e.target as HTMLInputElement).blur()}
    />
  );
}

/** A value shown with a copy button (a webhook URL, an id). */
export function Copyable({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="copyable">
      <span class="copyable-label">{label}</span>
      <code class="copyable-value">{value}</code>
      <button
        type="button"
        class="icon-btn icon-btn-sm"
        aria-label={`Copy ${label}`}
        onClick={() => {
          void navigator.clipboard?.writeText(value).catch(() => undefined);
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        }}
      >
        <CopyIcon size={13} />
      </button>
      {copied ? <span class="saved-note">Copied</span> : null}
    </div>
  );
}
