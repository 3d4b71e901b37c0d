// Settings → Web chat, per widget: when the chat says nobody answers now and asks the
// visitor for an email instead, and who the website may vouch for (the identity secret).

import { useState } from "preact/hooks";
import { api, type WidgetOut } from "../../api";
import { errorText } from "../../lib/errors";
import { CopyIcon } from "../common/Icons";
import { WEEKDAYS, browserZone, hoursOf, knownZones, overnight, weekOf, weekProblem, type Week, type Weekday } from "./officeHours";

type OfflineMode = WidgetOut["offline_mode"];

const MODES: [OfflineMode, string][] = [
  ["never", "Always show the chat as open"],
  ["office_hours", "Outside office hours, ask for an email"],
  ["no_agent_online", "When no agent is online, ask for an email"],
];

export function Availability({ widget: w, admin, save }: { widget: WidgetOut; admin: boolean; save: (body: Partial<WidgetOut>) => Promise<boolean> }) {
  const [mode, setMode] = useState<OfflineMode>(w.offline_mode);
  const [week, setWeek] = useState<Week>(() => weekOf(w.office_hours));
  const [zone, setZone] = useState(w.offline_mode === "office_hours" ? w.timezone : w.timezone === "UTC" ? browserZone() : w.timezone);
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const zones = knownZones();

  function setDay(day: Weekday, change: Partial<Week[Weekday]>) {
    setWeek({ ...week, [day]: { ...week[day], ...change } });
    setSaved(false);
  }

  async function submit(e: Event) {
    e.preventDefault();
    const wrong = mode === "office_hours" ? weekProblem(week) : null;
    setProblem(wrong);
    if (wrong) return;
    const body: Partial<WidgetOut> = { offline_mode: mode };
    if (mode === "office_hours") {
      body.office_hours = hoursOf(week);
      body.timezone = zone.trim() || "UTC";
    }
    setSaved(await save(body));
  }

  return (
    <form class="form availability" onSubmit={submit} aria-label={`When nobody answers on ${w.name}`}>
      <label class="field">
        <span>When nobody answers</span>
        <select disabled={!admin} value={mode} onChange={(e) => { setMode((e.target as HTMLSelectElement).value as OfflineMode); setSaved(false); }}>
          {MODES.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
        </select>
      </label>
      {mode === "office_hours" ? (
        <fieldset class="office-hours">
          <legend>Office hours</legend>
          <p class="muted small">A day whose hours end before they start runs past midnight.</p>
          {WEEKDAYS.map(([day, label]) => {
            const d = week[day];
            return (
              <div class="office-day" key={day}>
                <label class="check">
                  <input type="checkbox" disabled={!admin} checked={d.open} aria-label={`Open on ${label}`} onChange={(e) => setDay(day, { open: (e.target as HTMLInputElement).checked })} />
                  <span>{label}</span>
                </label>
                <input type="time" disabled={!admin || !d.open} value={d.start} aria-label={`${label} opens at`} onInput={(e) => setDay(day, { start: (e.target as HTMLInputElement).value })} />
                <span aria-hidden="true">–</span>
                <input type="time" disabled={!admin || !d.open} value={d.end} aria-label={`${label} closes at`} onInput={(e) => setDay(day, { end: (e.target as HTMLInputElement).value })} />
                {overnight(d) ? <span class="muted small">until the next morning</span> : null}
              </div>
            );
          })}
          <label class="field">
            <span>Time zone</span>
            <input disabled={!admin} value={zone} list={`zones-${w.id}`} onInput={(e) => { setZone((e.target as HTMLInputElement).value); setSaved(false); }} />
            <datalist id={`zones-${w.id}`}>{zones.map((z) => <option key={z} value={z} />)}</datalist>
          </label>
        </fieldset>
      ) : null}
      {problem ? <p class="form-error" role="alert">{problem}</p> : null}
      {admin ? (
        <div class="form-actions">
          {saved ? <span class="saved-note" role="status">Saved</span> : null}
          <button type="submit" class="btn btn-secondary btn-sm">Save availability</button>
        </div>
      ) : null}
    </form>
  );
}

export function IdentitySecret({ widget: w }: { widget: WidgetOut }) {
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);

  async function load(call: () => Promise<{ identity_secret: string }>) {
    try {
      setSecret((await call()).identity_secret);
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }

  const show = () => load(() => api.widgets.identitySecret(w.id));

  async function rotate() {
    if (!confirm("Make a new identity secret? Your website's signed identities stop working until it signs with the new one.")) return;
    await load(() => api.widgets.rotateIdentitySecret(w.id));
  }

  async function copy() {
    if (!secret) return;
    try {
      await navigator.clipboard.writeText(secret);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setError("Copying was refused by the browser: select the secret and copy it.");
    }
  }

  return (
    <section class="identity" aria-label={`Identity verification for ${w.name}`}>
      <h4>Identity verification</h4>
      <p class="muted small">
        Your server vouches for a logged-in user: it passes <code>identifier</code>, <code>timestamp</code> (Unix
        seconds, within 10 minutes of now) and <code>hash</code> = HMAC-SHA256 of <code>identifier:timestamp</code> keyed
        with this secret, as hex, in <code>window.ParlourWidget = {"{ identity: { … } }"}</code> or{" "}
        <code>ParlourWidget.identify(…)</code>. Keep the secret on your server.
      </p>
      {secret ? (
        <div class="embed">
          <label class="field grow">
            <span>Identity secret</span>
            <input readOnly class="mono" value={secret} onFocus={(e) => (e.target as HTMLInputElement).select()} />
          </label>
          <button type="button" class="btn btn-secondary btn-sm" onClick={() => void copy()}>
            <CopyIcon size={14} /> {copied ? "Copied" : "Copy secret"}
          </button>
        </div>
      ) : null}
      <div class="form-actions">
        {secret ? null : <button type="button" class="btn btn-secondary btn-sm" onClick={() => void show()}>Show secret</button>}
        <button type="button" class="btn btn-secondary btn-sm" onClick={() => void rotate()}>Rotate secret</button>
      </div>
      {error ? <p class="form-error" role="alert">{error}</p> : null}
    </section>
  );
}
