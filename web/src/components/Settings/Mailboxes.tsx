// Settings → Mailboxes: the addresses the company sends email from and receives at; for
// each, the relay that sends (SMTP), the account polled for incoming mail (IMAP), the
// signature, the webhook a relay may post raw MIME to, and a test email.

import { useState } from "preact/hooks";
import { api, ApiError, fieldErrorsOf, type MailboxOut } from "../../api";
import { errorText } from "../../lib/errors";
import { fullTime, relativeTime } from "../../lib/format";
import { useSession } from "../../stores/context";
import { SendIcon, TrashIcon } from "../common/Icons";
import { AdminNote, Copyable, Section, useList } from "./common";
import {
  checkForm,
  createOf,
  defaultPort,
  formOf,
  patchOf,
  pollState,
  SECURITY_NAMES,
  webhookUrl,
  type MailboxForm,
  type Security,
  type Server,
  type ServerForm,
} from "./mailboxForm";

/** The fields the form shows, where the server's errors about them appear. */
const FIELDS = new Set(
  ["address", "name", "signature", "imap_folder"].concat(
    ...["smtp", "imap"].map((s) => ["host", "port", "security", "username", "password"].map((f) => `${s}_${f}`)),
  ),
);

export function Mailboxes({ admin }: { admin: boolean }) {
  const list = useList<MailboxOut>(api.mailboxes.list);
  const [adding, setAdding] = useState(false);

  return (
    <Section title="Mailboxes" intro="Addresses the company sends email from and receives it at.">
      <AdminNote admin={admin} />
      {(list.items ?? []).map((m) => (
        <MailboxCard key={m.id} mailbox={m} admin={admin} onChanged={list.reload} onError={list.setError} />
      ))}
      {list.items && list.items.length === 0 && !adding ? <p class="muted">No mailboxes yet.</p> : null}
      {admin ? (
        adding ? (
          <div class="card mailbox-card" role="group" aria-label="New mailbox">
            <header class="widget-head">
              <h3>New mailbox</h3>
            </header>
            <MailboxEditor
              onCancel={() => setAdding(false)}
              onSaved={async () => {
                setAdding(false);
                await list.reload();
              }}
            />
          </div>
        ) : (
          <div>
            <button type="button" class="btn btn-primary" onClick={() => setAdding(true)}>
              Add mailbox
            </button>
          </div>
        )
      ) : null}
      {list.error ? <p class="form-error" role="alert">{list.error}</p> : null}
    </Section>
  );
}

function MailboxCard({ mailbox: m, admin, onChanged, onError }: { mailbox: MailboxOut; admin: boolean; onChanged: () => Promise<void>; onError: (e: string) => void }) {
  const [editing, setEditing] = useState(false);
  const [testing, setTesting] = useState(false);

  async function setEnabled(enabled: boolean) {
    try {
      await api.mailboxes.update(m.id, { enabled });
      await onChanged();
    } catch (err) {
      onError(errorText(err));
    }
  }

  return (
    <div class="card mailbox-card" role="group" aria-label={`Mailbox ${m.address}`}>
      <header class="widget-head">
        <div class="mailbox-id">
          <h3>{m.address}</h3>
          {m.name ? <span class="muted small">Sent as “{m.name}”</span> : null}
        </div>
        <span class={`pill ${m.smtp_host ? "pill-ok" : "pill-muted"}`} title={m.smtp_host ? `Sends through ${m.smtp_host}` : "Outgoing mail is only logged"}>
          {m.smtp_host ? "SMTP relay" : "No relay"}
        </span>
        <span class="spacer" />
        <label class="switch">
          <input type="checkbox" role="switch" disabled={!admin} checked={m.enabled} aria-label={`Enabled: ${m.address}`} onChange={(e) => void setEnabled((e.target as HTMLInputElement).checked)} />
          <span class="switch-track" aria-hidden="true" />
          <span class="muted small">Enabled</span>
        </label>
        {admin ? (
          <>
            <button type="button" class="btn btn-secondary btn-sm" aria-expanded={testing} onClick={() => setTesting(!testing)}>
              <SendIcon size={13} />
              <span>Send test email</span>
            </button>
            <button type="button" class="btn btn-secondary btn-sm" aria-expanded={editing} onClick={() => setEditing(!editing)}>
              {editing ? "Close" : "Edit"}
            </button>
            <button
              type="button"
              class="icon-btn"
              aria-label={`Remove ${m.address}`}
              onClick={() => confirm(`Remove ${m.address}?`) && void api.mailboxes.remove(m.id).then(onChanged, (err) => onError(errorText(err)))}
            >
              <TrashIcon size={15} />
            </button>
          </>
        ) : null}
      </header>
      <dl class="mailbox-facts">
        <div>
          <dt>Outgoing</dt>
          <dd>{m.smtp_host ? `${m.smtp_host}:${m.smtp_port ?? defaultPort("smtp", (m.smtp_security ?? "starttls") as Security)} · ${SECURITY_NAMES[(m.smtp_security ?? "starttls") as Security]}` : "Not set up: email is logged, not sent"}</dd>
        </div>
        <div>
          <dt>Incoming</dt>
          <dd>
            <PollStatus m={m} />
          </dd>
        </div>
      </dl>
      {testing ? <TestEmail mailbox={m} onClose={() => setTesting(false)} /> : null}
      {editing ? (
        <MailboxEditor
          mailbox={m}
          onCancel={() => setEditing(false)}
          onSaved={async () => {
            setEditing(false);
            await onChanged();
          }}
        />
      ) : null}
    </div>
  );
}

function PollStatus({ m, brief = false }: { m: MailboxOut; brief?: boolean }) {
  const state = pollState(m);
  if (state === "off") return <span class="muted">No IMAP account: mail arrives by SMTP or the webhook</span>;
  const where = brief ? "" : `${m.imap_username ? `${m.imap_username} at ` : ""}${m.imap_host}, ${m.imap_folder ?? "INBOX"} · `;
  const when = (iso: string | null | undefined) => {
    const t = relativeTime(iso);
    return t === "now" ? "just now" : /^\d+[mh]$/.test(t) ? `${t} ago` : `on ${t}`;
  };
  if (state === "waiting") return <span>{where}<span class="muted">not polled yet</span></span>;
  if (state === "error")
    return (
      <span>
        {where}
        <span class="poll-error" role="status" title={fullTime(m.imap_checked_at)}>
          Last poll failed{m.imap_checked_at ? ` ${when(m.imap_checked_at)}` : ""}: {m.imap_error}
        </span>
      </span>
    );
  return (
    <span>
      {where}
      <span class="poll-ok" title={fullTime(m.imap_checked_at)}>
        Checked {when(m.imap_checked_at)}
      </span>
    </span>
  );
}

function TestEmail({ mailbox, onClose }: { mailbox: MailboxOut; onClose: () => void }) {
  const session = useSession();
  const [to, setTo] = useState(session.user.value?.email ?? "");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  async function send(e: Event) {
    e.preventDefault();
    setBusy(true);
    setResult(null);
    try {
      const answer = await api.mailboxes.testEmail(mailbox.id, to.trim());
      setResult({ ok: true, text: `The relay answered: ${answer.smtp_code} ${answer.smtp_message}` });
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="test-email" aria-label={`Send a test email from ${mailbox.address}`} onSubmit={send}>
      <label class="field grow">
        <span>Send a test email to</span>
        <input required type="email" value={to} placeholder="you@example.com" onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit" class="btn btn-primary" disabled={busy}>
        {busy ? "Sending…" : "Send"}
      </button>
      <button type="button" class="btn btn-ghost" onClick={onClose}>
        Cancel
      </button>
      {result ? (
        <p class={result.ok ? "notice notice-ok test-result" : "form-error test-result"} role="status">
          {result.text}
        </p>
      ) : null}
    </form>
  );
}

function MailboxEditor({ mailbox, onCancel, onSaved }: { mailbox?: MailboxOut; onCancel: () => void; onSaved: () => Promise<void> }) {
  const [initial] = useState(() => formOf(mailbox));
  const [form, setForm] = useState<MailboxForm>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const isNew = !mailbox;

  function setServer<S extends Server>(server: S, change: Partial<MailboxForm[S]>) {
    setForm((f) => ({ ...f, [server]: { ...f[server], ...change } }));
  }

  async function save(e: Event) {
    e.preventDefault();
    const local = checkForm(form);
    setErrors(local);
    setError(null);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      if (mailbox) {
        const patch = patchOf(initial, form);
        if (Object.keys(patch).length) await api.mailboxes.update(mailbox.id, patch);
      } else {
        await api.mailboxes.create(createOf(form));
      }
      await onSaved();
    } catch (err) {
      if (err instanceof ApiError) {
        const f = fieldErrorsOf(err);
        setErrors(f);
        // An error about a field the form does not show is told above the buttons.
        const elsewhere = Object.keys(f).filter((k) => !FIELDS.has(k));
        if (!Object.keys(f).length || elsewhere.length) setError(elsewhere.length ? f[elsewhere[0]] : err.message);
      } else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const err = (field: string) => (errors[field] ? <span class="field-error">{errors[field]}</span> : null);

  return (
    <form class="form mailbox-form" aria-label={isNew ? "Add a mailbox" : `Edit ${mailbox.address}`} onSubmit={save} noValidate>
      <div class="field-row">
        <label class="field">
          <span>Address</span>
          <input
            type="email"
            required
            value={form.address}
            readOnly={!isNew}
            aria-invalid={!!errors.address}
            placeholder="support@example.com"
            onInput={(e) => setForm({ ...form, address: (e.target as HTMLInputElement).value })}
          />
          {err("address")}
        </label>
        <label class="field">
          <span>Sender name</span>
          <input value={form.name} placeholder="Acme Support" aria-invalid={!!errors.name} onInput={(e) => setForm({ ...form, name: (e.target as HTMLInputElement).value })} />
          {err("name")}
        </label>
      </div>

      <fieldset class="form-section">
        <legend>Outgoing mail (SMTP relay)</legend>
        <p class="hint">Without a relay, email is written to the server's log instead of being sent.</p>
        <ServerFields server="smtp" value={form.smtp} errors={errors} passwordSet={!!mailbox?.smtp_password_set} onChange={(c) => setServer("smtp", c)} />
      </fieldset>

      <fieldset class="form-section">
        <legend>Incoming mail (IMAP)</legend>
        <p class="hint">Parlour checks this account for new mail. Leave the server empty to receive only by SMTP (the built-in receiver) or the webhook.</p>
        <ServerFields server="imap" value={form.imap} errors={errors} passwordSet={!!mailbox?.imap_password_set} onChange={(c) => setServer("imap", c)} />
        <div class="field-row">
          <label class="field">
            <span>Folder</span>
            <input value={form.imap.folder} placeholder="INBOX" aria-invalid={!!errors.imap_folder} onInput={(e) => setServer("imap", { folder: (e.target as HTMLInputElement).value })} />
            {err("imap_folder")}
          </label>
          <div class="field">
            <span>Last check</span>
            <div class="field-static">{mailbox ? <PollStatus m={mailbox} brief /> : <span class="muted">Not polled yet</span>}</div>
          </div>
        </div>
      </fieldset>

      <fieldset class="form-section">
        <legend>Signature</legend>
        <label class="field">
          <span class="sr-only">Signature</span>
          <textarea rows={4} value={form.signature} aria-label="Signature" aria-invalid={!!errors.signature} placeholder={"Ann Smith\nAcme Support · +1 415 555 0100"} onInput={(e) => setForm({ ...form, signature: (e.target as HTMLTextAreaElement).value })} />
          {err("signature")}
        </label>
        <p class="hint">Starts every new email from this mailbox, after “-- ”.</p>
      </fieldset>

      {mailbox?.inbound_webhook_path ? (
        <fieldset class="form-section">
          <legend>Inbound webhook</legend>
          <Copyable label="Webhook URL" value={webhookUrl(window.location.origin, mailbox.inbound_webhook_path)} />
          <p class="hint">For relays that post raw MIME (Postmark, Mailgun, SendGrid). The URL holds this mailbox's secret: give it only to your relay.</p>
        </fieldset>
      ) : null}

      {error ? <p class="form-error" role="alert">{error}</p> : null}
      <div class="form-actions">
        <button type="button" class="btn btn-ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? "Saving…" : isNew ? "Add mailbox" : "Save changes"}
        </button>
      </div>
    </form>
  );
}

function ServerFields({
  server,
  value: v,
  errors,
  passwordSet,
  onChange,
}: {
  server: Server;
  value: ServerForm;
  errors: Record<string, string>;
  passwordSet: boolean;
  onChange: (change: Partial<ServerForm>) => void;
}) {
  const name = server.toUpperCase();
  const options: Security[] = server === "smtp" ? ["starttls", "tls", "none"] : ["tls", "starttls", "none"];
  const err = (field: string) => (errors[`${server}_${field}`] ? <span class="field-error">{errors[`${server}_${field}`]}</span> : null);
  const invalid = (field: string) => !!errors[`${server}_${field}`];
  return (
    <>
      <div class="field-row">
        <label class="field field-wide">
          <span>{name} server</span>
          <input value={v.host} placeholder={server === "smtp" ? "smtp.example.com" : "imap.example.com"} aria-invalid={invalid("host")} onInput={(e) => onChange({ host: (e.target as HTMLInputElement).value })} />
          {err("host")}
        </label>
        <label class="field field-narrow">
          <span>Security</span>
          <select value={v.security} aria-label={`${name} security`} aria-invalid={invalid("security")} onChange={(e) => onChange({ security: (e.target as HTMLSelectElement).value as Security })}>
            {options.map((s) => (
              <option key={s} value={s}>
                {SECURITY_NAMES[s]}
              </option>
            ))}
          </select>
          {err("security")}
        </label>
        <label class="field field-port">
          <span>Port</span>
          <input inputMode="numeric" value={v.port} aria-label={`${name} port`} placeholder={String(defaultPort(server, v.security))} aria-invalid={invalid("port")} onInput={(e) => onChange({ port: (e.target as HTMLInputElement).value })} />
          {err("port")}
        </label>
      </div>
      <div class="field-row">
        <label class="field">
          <span>Username</span>
          <input value={v.username} aria-label={`${name} username`} autoComplete="off" aria-invalid={invalid("username")} onInput={(e) => onChange({ username: (e.target as HTMLInputElement).value })} />
          {err("username")}
        </label>
        <PasswordField server={server} value={v} passwordSet={passwordSet} invalid={invalid("password")} onChange={onChange}>
          {err("password")}
        </PasswordField>
      </div>
    </>
  );
}

/** Write-only: the saved password is never shown; "Change" types a new one, "Forget"
 * removes it on save. */
function PasswordField({
  server,
  value: v,
  passwordSet,
  invalid,
  onChange,
  children,
}: {
  server: Server;
  value: ServerForm;
  passwordSet: boolean;
  invalid: boolean;
  onChange: (change: Partial<ServerForm>) => void;
  children?: preact.ComponentChildren;
}) {
  const [changing, setChanging] = useState(!passwordSet);
  const label = `${server.toUpperCase()} password`;
  if (passwordSet && !changing) {
    return (
      <div class="field">
        <span>Password</span>
        <div class="secret-state">
          {v.password.forget ? (
            <>
              <span class="pill pill-warn">Forgotten on save</span>
              <button type="button" class="link-btn" onClick={() => onChange({ password: { value: "", forget: false } })}>
                Undo
              </button>
            </>
          ) : (
            <>
              <span class="pill pill-ok" aria-label={`${label}: set`}>Set</span>
              <button type="button" class="link-btn" onClick={() => setChanging(true)}>
                Change
              </button>
              <button type="button" class="link-btn muted" onClick={() => onChange({ password: { value: "", forget: true } })}>
                Forget
              </button>
            </>
          )}
        </div>
        {children}
      </div>
    );
  }
  return (
    <label class="field">
      <span>Password</span>
      <input
        type="password"
        autoComplete="new-password"
        aria-label={label}
        value={v.password.value}
        placeholder={passwordSet ? "New password" : ""}
        aria-invalid={invalid}
        onInput={(e) => onChange({ password: { value: (e.target as HTMLInputElement).value, forget: false } })}
      />
      {passwordSet ? (
        <button
          type="button"
          class="link-btn muted field-link"
          onClick={() => {
            onChange({ password: { value: "", forget: false } });
            setChanging(false);
          }}
        >
          Keep the saved password
        </button>
      ) : null}
      {children}
    </label>
  );
}
