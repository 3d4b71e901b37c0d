// Connecting an SMS provider (Twilio or Telnyx) and importing its numbers.

import { useEffect, useState } from "preact/hooks";
import { api, ApiError, fieldErrorsOf, type ConnectionOut, type ProviderNumberOut } from "../../api";
import { formatPhone, fullTime } from "../../lib/format";
import { errorText } from "../../lib/errors";
import { Copyable } from "./common";

export function SmsProviders({ admin, onImported }: { admin: boolean; onImported: () => void }) {
  const [conns, setConns] = useState<ConnectionOut[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function reload() {
    try {
      setConns(await api.sms.providers());
    } catch (err) {
      setError(err instanceof ApiError && err.status === 403 ? null : errorText(err));
      setConns([]);
    }
  }
  useEffect(() => {
    if (admin) void reload();
  }, [admin]);
  if (!admin) return null;

  const twilio = conns?.find((c) => c.provider === "twilio");
  const telnyx = conns?.find((c) => c.provider === "telnyx");
  return (
    <section class="providers" aria-label="SMS providers">
      <h3 class="section-title">SMS providers</h3>
      <ProviderCard name="Twilio" conn={twilio} onChanged={reload} form={(done) => <TwilioForm done={done} />}>
        {twilio ? <TwilioNumbers onImported={onImported} /> : null}
      </ProviderCard>
      <ProviderCard name="Telnyx" conn={telnyx} onChanged={reload} form={(done) => <TelnyxForm done={done} />} />
      {error ? <p class="form-error" role="alert">{error}</p> : null}
    </section>
  );
}

function ProviderCard({
  name,
  conn,
  onChanged,
  form,
  children,
}: {
  name: string;
  conn: ConnectionOut | undefined;
  onChanged: () => Promise<void>;
  form: (done: () => void) => preact.JSX.Element;
  children?: preact.ComponentChildren;
}) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <div class="card provider-card" role="group" aria-label={`${name} connection`}>
      <header class="widget-head">
        <h3>{name}</h3>
        <span class={`pill ${conn ? "pill-ok" : "pill-muted"}`}>{conn ? "Connected" : "Not connected"}</span>
        {conn && !conn.readable ? <span class="pill pill-warn">Secrets unreadable: PARLOUR_SECRET_KEY changed</span> : null}
        <span class="spacer" />
        {conn ? (
          <button
            type="button"
            class="btn btn-ghost btn-sm"
            onClick={() =>
              confirm(`Disconnect ${name}? Texts through it stop until you connect again.`) &&
              void api.sms.disconnect(conn.provider).then(onChanged, (err) => setError(errorText(err)))
            }
          >
            Disconnect
          </button>
        ) : null}
        <button type="button" class="btn btn-secondary btn-sm" onClick={() => setEditing(!editing)} aria-expanded={editing}>
          {conn ? "Change credentials" : `Connect ${name}`}
        </button>
      </header>
      {conn ? (
        <div class="provider-info">
          {conn.account_sid ? <p class="muted small">Account {conn.account_sid} · updated {fullTime(conn.updated_at)}</p> : null}
          <Copyable label="Inbound webhook URL" value={conn.inbound_webhook_url} />
          {conn.status_callback_url ? <Copyable label="Status callback URL" value={conn.status_callback_url} /> : null}
        </div>
      ) : null}
      {editing
        ? form(() => {
            setEditing(false);
            void onChanged();
          })
        : null}
      {children}
      {error ? <p class="form-error" role="alert">{error}</p> : null}
    </div>
  );
}

function useForm() {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function run(fn: () => Promise<unknown>, done: () => void) {
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      await fn();
      done();
    } catch (err) {
      if (err instanceof ApiError) {
        const f = fieldErrorsOf(err);
        setErrors(f);
        if (!Object.keys(f).length || err.code !== "validation_error") setError(err.message);
      } else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  return { errors, error, busy, run };
}

function TwilioForm({ done }: { done: () => void }) {
  const f = useForm();
  const [sid, setSid] = useState("");
  const [token, setToken] = useState("");
  const [keySid, setKeySid] = useState("");
  const [keySecret, setKeySecret] = useState("");
  const [verify, setVerify] = useState(true);
  return (
    <form
      class="form"
      aria-label="Twilio credentials"
      onSubmit={(e) => {
        e.preventDefault();
        void f.run(
          () =>
            api.sms.connectTwilio({
              account_sid: sid.trim(),
              auth_token: token.trim(),
              api_key_sid: keySid.trim() || null,
              api_key_secret: keySecret.trim() || null,
              verify,
            }),
          done,
        );
      }}
    >
      <div class="field-row">
        <label class="field">
          <span>Account SID</span>
          <input required value={sid} placeholder="AC…" aria-invalid={!!f.errors.account_sid} onInput={(e) => setSid((e.target as HTMLInputElement).value)} />
          {f.errors.account_sid ? <span class="field-error">{f.errors.account_sid}</span> : null}
        </label>
        <label class="field">
          <span>Auth token</span>
          <input required type="password" autoComplete="off" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      <div class="field-row">
        <label class="field">
          <span>API key SID (optional)</span>
          <input value={keySid} placeholder="SK…" aria-invalid={!!f.errors.api_key_sid} onInput={(e) => setKeySid((e.target as HTMLInputElement).value)} />
          {f.errors.api_key_sid ? <span class="field-error">{f.errors.api_key_sid}</span> : null}
        </label>
        <label class="field">
          <span>API key secret (optional)</span>
          <input type="password" autoComplete="off" value={keySecret} onInput={(e) => setKeySecret((e.target as HTMLInputElement).value)} />
          {f.errors.api_key_secret ? <span class="field-error">{f.errors.api_key_secret}</span> : null}
        </label>
      </div>
      <label class="check">
        <input type="checkbox" checked={verify} onChange={(e) => setVerify((e.target as HTMLInputElement).checked)} />
        <span>Check the credentials with Twilio before saving</span>
      </label>
      {f.error ? <p class="form-error" role="alert">{f.error}</p> : null}
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={f.busy}>
          Save Twilio credentials
        </button>
      </div>
    </form>
  );
}

function TelnyxForm({ done }: { done: () => void }) {
  const f = useForm();
  const [key, setKey] = useState("");
  const [pub, setPub] = useState("");
  const [verify, setVerify] = useState(true);
  return (
    <form
      class="form"
      aria-label="Telnyx credentials"
      onSubmit={(e) => {
        e.preventDefault();
        void f.run(() => api.sms.connectTelnyx({ api_key: key.trim(), public_key: pub.trim(), verify }), done);
      }}
    >
      <div class="field-row">
        <label class="field">
          <span>API key</span>
          <input required type="password" autoComplete="off" value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>Public key (Ed25519, base64)</span>
          <input required value={pub} aria-invalid={!!f.errors.public_key} onInput={(e) => setPub((e.target as HTMLInputElement).value)} />
          {f.errors.public_key ? <span class="field-error">{f.errors.public_key}</span> : null}
        </label>
      </div>
      <label class="check">
        <input type="checkbox" checked={verify} onChange={(e) => setVerify((e.target as HTMLInputElement).checked)} />
        <span>Check the API key with Telnyx before saving</span>
      </label>
      {f.error ? <p class="form-error" role="alert">{f.error}</p> : null}
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={f.busy}>
          Save Telnyx credentials
        </button>
      </div>
    </form>
  );
}

function TwilioNumbers({ onImported }: { onImported: () => void }) {
  const [numbers, setNumbers] = useState<ProviderNumberOut[] | null>(null);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [hooks, setHooks] = useState(true);
  const [msg, setMsg] = useState<{ text: string; error?: boolean } | null>(null);
  const [busy, setBusy] = useState(false);

  async function find() {
    setBusy(true);
    setMsg(null);
    try {
      const list = await api.sms.twilioNumbers();
      setNumbers(list);
      setPicked(new Set(list.filter((n) => n.sms && !n.imported).map((n) => n.e164)));
    } catch (err) {
      setMsg({ text: errorText(err), error: true });
    } finally {
      setBusy(false);
    }
  }

  async function importPicked() {
    setBusy(true);
    setMsg(null);
    try {
      const res = await api.sms.importTwilio(Array.from(picked), hooks);
      setMsg({ text: `Imported ${res.imported.length} number${res.imported.length === 1 ? "" : "s"}.` });
      onImported();
      await find();
    } catch (err) {
      setMsg({ text: errorText(err), error: true });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="provider-numbers">
      <div class="form-actions" style={{ justifyContent: "flex-start" }}>
        <button type="button" class="btn btn-secondary btn-sm" disabled={busy} onClick={() => void find()}>
          Find numbers on Twilio
        </button>
      </div>
      {numbers ? (
        <>
          <ul class="plain-list" aria-label="Numbers on Twilio">
            {numbers.map((n) => (
              <li class="plain-row" key={n.sid}>
                <label class="check">
                  <input
                    type="checkbox"
                    disabled={n.imported || !n.sms}
                    checked={picked.has(n.e164)}
                    onChange={(e) => {
                      const next = new Set(picked);
                      if ((e.target as HTMLInputElement).checked) next.add(n.e164);
                      else next.delete(n.e164);
                      setPicked(next);
                    }}
                  />
                  <span>
                    {formatPhone(n.e164)} <span class="muted">{n.friendly_name}</span>
                  </span>
                </label>
                <span class="muted small">{n.imported ? "Already in Parlour" : n.sms ? (n.mms ? "SMS + MMS" : "SMS") : "No SMS"}</span>
              </li>
            ))}
          </ul>
          {numbers.length === 0 ? <p class="muted">No numbers on this Twilio account.</p> : null}
          <label class="check">
            <input type="checkbox" checked={hooks} onChange={(e) => setHooks((e.target as HTMLInputElement).checked)} />
            <span>Point each number's incoming-message webhook at this Parlour</span>
          </label>
          <div class="form-actions" style={{ justifyContent: "flex-start" }}>
            <button type="button" class="btn btn-primary btn-sm" disabled={busy || picked.size === 0} onClick={() => void importPicked()}>
              Import {picked.size} number{picked.size === 1 ? "" : "s"}
            </button>
          </div>
        </>
      ) : null}
      {msg ? <p class={msg.error ? "form-error" : "saved-note"} role="status">{msg.text}</p> : null}
    </div>
  );
}
