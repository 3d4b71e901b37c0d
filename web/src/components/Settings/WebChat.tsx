// Settings → Web chat: the website chat widgets, their greeting, colour, allowed
// origins, when they ask for an email instead, the identity secret, and the snippet to
// paste into a site.

import { useState } from "preact/hooks";
import { api, type WidgetOut } from "../../api";
import { errorText } from "../../lib/errors";
import { CopyIcon } from "../common/Icons";
import { AdminNote, Section, useList } from "./common";
import { Availability, IdentitySecret } from "./WidgetAvailability";

export function WebChat({ admin }: { admin: boolean }) {
  const list = useList<WidgetOut>(api.widgets.list);
  const [name, setName] = useState("");

  async function add(e: Event) {
    e.preventDefault();
    try {
      await api.widgets.create({ name: name.trim() || "Website", enabled: true });
      setName("");
      await list.reload();
    } catch (err) {
      list.setError(errorText(err));
    }
  }

  return (
    <Section title="Web chat" intro="The chat widget on your website. It must be enabled for the Web Chat channel to work.">
      <AdminNote admin={admin} />
      {(list.items ?? []).map((w) => (
        <WidgetCard key={w.id} widget={w} admin={admin} onChanged={list.reload} onError={list.setError} />
      ))}
      {list.items && list.items.length === 0 ? <p class="muted">No widget yet.</p> : null}
      {admin ? (
        <form class="card form inline-form" onSubmit={add} aria-label="Add a widget">
          <label class="field grow">
            <span>Widget name</span>
            <input value={name} placeholder="Main website" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="btn btn-primary">Add widget</button>
        </form>
      ) : null}
      {list.error ? <p class="form-error" role="alert">{list.error}</p> : null}
    </Section>
  );
}

function WidgetCard({ widget: w, admin, onChanged, onError }: { widget: WidgetOut; admin: boolean; onChanged: () => Promise<void>; onError: (e: string) => void }) {
  const [greeting, setGreeting] = useState(w.greeting);
  const [color, setColor] = useState(w.color);
  const [origins, setOrigins] = useState(w.allowed_origins.join("\n"));
  const [copied, setCopied] = useState(false);
  const [saved, setSaved] = useState(false);

  async function save(body: Partial<WidgetOut>): Promise<boolean> {
    try {
      await api.widgets.update(w.id, body);
      await onChanged();
      return true;
    } catch (err) {
      onError(errorText(err));
      return false;
    }
  }

  async function patch(body: Partial<WidgetOut>) {
    if (await save(body)) setSaved(true);
  }

  async function copy() {
    try {
      await navigator.clipboard.writeText(w.embed_snippet);
    } catch {
      const ta = document.createElement("textarea");
      ta.value = w.embed_snippet;
      document.body.appendChild(ta);
      ta.select();
      document.execCommand("copy");
      ta.remove();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  }

  return (
    <section class="card widget-card" aria-label={`Widget ${w.name}`}>
      <header class="widget-head">
        <span class="widget-swatch" style={{ background: w.color }} aria-hidden="true" />
        <h3>{w.name}</h3>
        <span class={`pill ${w.enabled ? "pill-ok" : "pill-muted"}`}>{w.enabled ? "Enabled" : "Disabled"}</span>
        <span class="spacer" />
        <label class="switch">
          <input type="checkbox" role="switch" disabled={!admin} checked={w.enabled} aria-label={`Enable widget ${w.name}`} onChange={(e) => void patch({ enabled: (e.target as HTMLInputElement).checked })} />
          <span class="switch-track" aria-hidden="true" />
        </label>
      </header>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          void patch({
            greeting,
            color,
            allowed_origins: origins.split(/[\s,]+/).map((o) => o.trim()).filter(Boolean),
          });
        }}
      >
        <div class="field-row">
          <label class="field grow">
            <span>Greeting</span>
            <input disabled={!admin} value={greeting} placeholder="Hi! How can we help?" onInput={(e) => { setGreeting((e.target as HTMLInputElement).value); setSaved(false); }} />
          </label>
          <label class="field">
            <span>Colour</span>
            <input disabled={!admin} type="color" value={color} onInput={(e) => { setColor((e.target as HTMLInputElement).value); setSaved(false); }} />
          </label>
        </div>
        <label class="field">
          <span>Allowed websites (one origin per line, e.g. https://www.example.com)</span>
          <textarea disabled={!admin} rows={2} value={origins} onInput={(e) => { setOrigins((e.target as HTMLTextAreaElement).value); setSaved(false); }} />
        </label>
        {admin ? (
          <div class="form-actions">
            {saved ? <span class="saved-note" role="status">Saved</span> : null}
            <button type="submit" class="btn btn-secondary btn-sm">Save appearance</button>
          </div>
        ) : null}
      </form>
      <Availability widget={w} admin={admin} save={save} />
      {admin ? <IdentitySecret widget={w} /> : null}
      <div class="embed">
        <label class="field">
          <span>Embed snippet — paste before &lt;/body&gt; on your site</span>
          <textarea readOnly rows={2} class="mono" value={w.embed_snippet} onFocus={(e) => (e.target as HTMLTextAreaElement).select()} />
        </label>
        <button type="button" class="btn btn-secondary btn-sm" onClick={() => void copy()}>
          <CopyIcon size={14} /> {copied ? "Copied" : "Copy snippet"}
        </button>
      </div>
    </section>
  );
}
