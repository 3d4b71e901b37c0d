// Settings → Webhooks: the URLs the account's events are sent to (signed the Standard
// Webhooks way), the secret to verify them with, and each endpoint's recent deliveries with
// every attempt, to test and to send again.

import { useState } from "preact/hooks";
import { api, type DeliveryOut, type EndpointOut } from "../../api";
import { errorText } from "../../lib/errors";
import { AdminNote, Copyable, Section, useList } from "./common";

export const EVENT_TYPES: [string, string][] = [
  ["message.created", "A message is written or sent"],
  ["message.updated", "A message's status changes"],
  ["conversation.updated", "A conversation is assigned, closed or reopened"],
  ["conversation.read", "A conversation is read"],
  ["contact.created", "A contact is created"],
  ["contact.updated", "A contact changes"],
  ["contact.deleted", "A contact is deleted or merged away"],
];

export function Webhooks({ admin }: { admin: boolean }) {
  const list = useList<EndpointOut>(api.webhooks.list);
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [types, setTypes] = useState<string[]>([]);
  const [secret, setSecret] = useState<{ id: number; value: string } | null>(null);

  async function add(e: Event) {
    e.preventDefault();
    try {
      const made = await api.webhooks.create({ url: url.trim(), description: description.trim(), event_types: types } as never);
      setSecret({ id: made.id, value: made.secret });
      setUrl("");
      setDescription("");
      setTypes([]);
      await list.reload();
    } catch (err) {
      list.setError(errorText(err));
    }
  }

  return (
    <Section
      title="Webhooks"
      intro="Your servers hear about what happens here: each event is sent as a signed POST (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature), retried for about three days until it is answered with 2xx."
    >
      <AdminNote admin={admin} />
      {(list.items ?? []).map((ep) => (
        <EndpointCard key={ep.id} endpoint={ep} admin={admin} secret={secret?.id === ep.id ? secret.value : null} onChanged={list.reload} onError={list.setError} />
      ))}
      {list.items && list.items.length === 0 ? <p class="muted">No endpoint yet.</p> : null}
      {admin ? (
        <form class="card form" onSubmit={add} aria-label="Add an endpoint">
          <div class="field-row">
            <label class="field grow">
              <span>URL</span>
              <input required type="url" value={url} placeholder="https://crm.example.com/parlour" onInput={(e) => setUrl((e.target as HTMLInputElement).value)} />
            </label>
            <label class="field grow">
              <span>Description</span>
              <input value={description} placeholder="CRM" onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
            </label>
          </div>
          <fieldset class="workflow-part">
            <legend>Events (none ticked: all of them)</legend>
            <div class="webhook-types">
              {EVENT_TYPES.map(([t, label]) => (
                <label class="check" key={t}>
                  <input type="checkbox" checked={types.includes(t)} onChange={(e) => setTypes((e.target as HTMLInputElement).checked ? [...types, t] : types.filter((x) => x !== t))} />
                  <span>{label} <code class="muted small">{t}</code></span>
                </label>
              ))}
            </div>
          </fieldset>
          <div class="form-actions">
            <button type="submit" class="btn btn-primary">Add endpoint</button>
          </div>
        </form>
      ) : null}
      {list.error ? <p class="form-error" role="alert">{list.error}</p> : null}
    </Section>
  );
}

function EndpointCard(p: { endpoint: EndpointOut; admin: boolean; secret: string | null; onChanged: () => Promise<void>; onError: (e: string) => void }) {
  const ep = p.endpoint;
  const [secret, setSecret] = useState<string | null>(p.secret);
  const [showDeliveries, setShowDeliveries] = useState(false);
  const [version, setVersion] = useState(0);

  async function act(what: () => Promise<unknown>) {
    try {
      await what();
      await p.onChanged();
      setVersion(version + 1);
    } catch (err) {
      p.onError(errorText(err));
    }
  }

  const title = ep.description || ep.url;
  return (
    <section class="card workflow-card" aria-label={`Endpoint ${title}`}>
      <header class="widget-head">
        <h3 class="webhook-url">{title}</h3>
        <span class={`pill ${ep.enabled ? "pill-ok" : "pill-muted"}`}>{ep.enabled ? "On" : "Off"}</span>
        <span class="spacer" />
        <label class="switch">
          <input type="checkbox" role="switch" disabled={!p.admin} checked={ep.enabled} aria-label={`Send to ${title}`} onChange={(e) => void act(() => api.webhooks.update(ep.id, { enabled: (e.target as HTMLInputElement).checked }))} />
          <span class="switch-track" aria-hidden="true" />
        </label>
      </header>
      {ep.description ? <p class="mono small">{ep.url}</p> : null}
      {ep.disabled_reason ? <p class="notice" role="status">{ep.disabled_reason}</p> : null}
      <p class="muted small">{ep.event_types.length ? ep.event_types.join(", ") : "Every event"}</p>
      {secret ? <Copyable label="Signing secret" value={secret} /> : null}
      <div class="form-actions">
        {p.admin && !secret ? (
          <button type="button" class="btn btn-secondary btn-sm" onClick={() => void api.webhooks.secret(ep.id).then((s) => setSecret(s.secret), (err) => p.onError(errorText(err)))}>
            Show secret
          </button>
        ) : null}
        {p.admin ? <button type="button" class="btn btn-secondary btn-sm" disabled={!ep.enabled} onClick={() => void act(async () => { await api.webhooks.test(ep.id); setShowDeliveries(true); })}>Send a test</button> : null}
        <button type="button" class="btn btn-secondary btn-sm" aria-expanded={showDeliveries} onClick={() => setShowDeliveries(!showDeliveries)}>Deliveries</button>
        {p.admin ? <button type="button" class="btn btn-ghost btn-sm" onClick={() => confirm(`Stop sending to ${ep.url} and forget it?`) && void act(() => api.webhooks.remove(ep.id))}>Delete</button> : null}
      </div>
      {showDeliveries ? <Deliveries key={version} endpoint={ep} admin={p.admin} onError={p.onError} /> : null}
    </section>
  );
}

const STATUS: Record<string, [string, string]> = {
  pending: ["Queued", "pill-muted"],
  delivering: ["Sending", "pill-muted"],
  succeeded: ["Delivered", "pill-ok"],
  failed: ["Failed", "pill-bad"],
};

function Deliveries({ endpoint, admin, onError }: { endpoint: EndpointOut; admin: boolean; onError: (e: string) => void }) {
  const list = useList<DeliveryOut>(() => api.webhooks.deliveries(endpoint.id));
  return (
    <div class="workflow-runs" role="region" aria-label={`Deliveries to ${endpoint.description || endpoint.url}`}>
      <div class="form-actions">
        <button type="button" class="btn btn-ghost btn-sm" onClick={() => void list.reload()}>Refresh</button>
      </div>
      {list.items && list.items.length === 0 ? <p class="muted">Nothing sent yet.</p> : null}
      <ul>
        {(list.items ?? []).map((d) => {
          const [label, pill] = STATUS[d.status] ?? [d.status, "pill-muted"];
          return (
            <li key={d.id} class="workflow-run" aria-label={`Delivery ${d.id}: ${d.event_type}, ${label}`}>
              <div class="workflow-run-head">
                <span class={`pill ${pill}`}>{label}</span>
                <code class="small">{d.event_type}</code>
                <span class="muted small">{new Date(d.created_at).toLocaleString()}</span>
                {d.status === "pending" && d.next_attempt_at && d.attempts.length ? <span class="muted small">next try {new Date(d.next_attempt_at).toLocaleString()}</span> : null}
                <span class="spacer" />
                {admin && (d.status === "failed" || d.status === "succeeded") ? (
                  <button type="button" class="btn btn-secondary btn-sm" onClick={() => void api.webhooks.resend(endpoint.id, d.id).then(() => list.reload(), (err) => onError(errorText(err)))}>
                    Send again
                  </button>
                ) : null}
              </div>
              {d.attempts.length ? (
                <ol class="workflow-run-log">
                  {d.attempts.map((a, i) => (
                    <li key={i}>
                      {new Date(a.at).toLocaleTimeString()} · {a.status_code ? `HTTP ${a.status_code}` : "no answer"} · {a.latency_ms} ms
                      {a.error ? <span class="form-error"> · {a.error}</span> : null}
                      {a.response ? <code class="muted small webhook-excerpt"> {a.response.slice(0, 120)}</code> : null}
                    </li>
                  ))}
                </ol>
              ) : null}
            </li>
          );
        })}
      </ul>
      {list.error ? <p class="form-error" role="alert">{list.error}</p> : null}
    </div>
  );
}
