// The slide-out panel with the contact's communication options: each phone and email,
// its label, SMS opt-out and bounced state, and the preferred channel — editable here.

import { useEffect, useState } from "preact/hooks";
import { api, type Channel, type ContactDetailOut, type EmailOut, type PhoneOut } from "../../api";
import { CHANNEL_NAMES, formatPhone, fullTime } from "../../lib/format";
import { errorText } from "../../lib/errors";
import { useInbox } from "../../stores/context";
import { CloseIcon, EmailIcon, PhoneIcon } from "../common/Icons";

interface Props {
  contact: ContactDetailOut | null;
  onClose: () => void;
  onEditContact: () => void;
}

export function CommunicationOptions({ contact, onClose, onEditContact }: Props) {
  const inbox = useInbox();
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState<string | null>(null);
  const [preferred, setPreferred] = useOptimistic<Channel | null | undefined>(contact?.preferred_channel);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape" && !document.querySelector(".modal")) onClose();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [onClose]);

  async function run(key: string, fn: () => Promise<unknown>) {
    if (!contact) return;
    setSaving(key);
    setError(null);
    try {
      await fn();
      const fresh = await api.contacts.get(contact.id);
      inbox.contact.details.value = fresh;
      inbox.contact.changed(fresh);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setSaving(null);
    }
  }

  return (
    <aside id="comm-options" class="comm-panel" aria-label="Communication options">
      <header class="comm-header">
        <h2>Communication options</h2>
        <button type="button" class="icon-btn" aria-label="Close communication options" onClick={onClose}>
          <CloseIcon size={18} />
        </button>
      </header>
      {!contact ? (
        <p class="panel-note">Loading…</p>
      ) : (
        <div class="comm-body">
          <p class="comm-intro">
            Where and how we may reach <strong>{contact.name || "this contact"}</strong>.
          </p>

          <section class="comm-section" aria-labelledby="comm-phones">
            <h3 id="comm-phones" class="section-title">
              <PhoneIcon size={14} /> Phone numbers
            </h3>
            {contact.phones.length === 0 ? <p class="muted small">No phone numbers.</p> : null}
            <ul class="endpoint-list">
              {contact.phones.map((ph) => (
                <PhoneRow
                  key={ph.id}
                  phone={ph}
                  busy={saving === `p${ph.id}`}
                  onLabel={(label) => run(`p${ph.id}`, () => api.contacts.updatePhone(contact.id, ph.id, { label }))}
                  onOptOut={(v) => run(`p${ph.id}`, () => api.contacts.updatePhone(contact.id, ph.id, { sms_opt_out: v }))}
                />
              ))}
            </ul>
          </section>

          <section class="comm-section" aria-labelledby="comm-emails">
            <h3 id="comm-emails" class="section-title">
              <EmailIcon size={14} /> Email addresses
            </h3>
            {contact.emails.length === 0 ? <p class="muted small">No email addresses.</p> : null}
            <ul class="endpoint-list">
              {contact.emails.map((em) => (
                <EmailRow
                  key={em.id}
                  email={em}
                  busy={saving === `e${em.id}`}
                  onLabel={(label) => run(`e${em.id}`, () => api.contacts.updateEmail(contact.id, em.id, { label }))}
                  onBounced={(v) => run(`e${em.id}`, () => api.contacts.updateEmail(contact.id, em.id, { bounced: v }))}
                />
              ))}
            </ul>
          </section>

          <section class="comm-section">
            <fieldset class="radio-group">
              <legend class="section-title">Preferred channel</legend>
              {([null, "sms", "webchat", "email"] as (Channel | null)[]).map((c) => (
                <label class="radio" key={c ?? "none"}>
                  <input
                    type="radio"
                    name="preferred-channel"
                    checked={preferred === c}
                    onChange={() => {
                      setPreferred(c);
                      void run("pref", () => api.contacts.update(contact.id, { preferred_channel: c }));
                    }}
                  />
                  <span>{c ? CHANNEL_NAMES[c] : "No preference"}</span>
                </label>
              ))}
            </fieldset>
          </section>

          {error ? (
            <p class="form-error" role="alert">
              {error}
            </p>
          ) : null}
          <button type="button" class="btn btn-secondary btn-block" onClick={onEditContact}>
            Add or remove phones and emails…
          </button>
        </div>
      )}
    </aside>
  );
}

/** A checkbox/radio value that flips at once and follows the server when it answers. */
function useOptimistic<T>(value: T): [T, (v: T) => void] {
  const [local, setLocal] = useState(value);
  useEffect(() => setLocal(value), [value]);
  return [local, setLocal];
}

function LabelInput({ value, label, onSave }: { value: string; label: string; onSave: (v: string) => void }) {
  const [v, setV] = useState(value);
  useEffect(() => setV(value), [value]);
  return (
    <input
      class="label-input"
      aria-label={label}
      placeholder="Label"
      value={v}
      onInput={(e) => setV((e.target as HTMLInputElement).value)}
      onBlur={() => v.trim() !== value && onSave(v.trim())}
      onKeyDown={(e) => e.key === "Enter" && (e.target as HTMLInputElement).blur()}
    />
  );
}

function PhoneRow({ phone, busy, onLabel, onOptOut }: { phone: PhoneOut; busy: boolean; onLabel: (v: string) => void; onOptOut: (v: boolean) => void }) {
  const number = formatPhone(phone.e164);
  const [off, setOff] = useOptimistic(phone.sms_opt_out);
  return (
    <li class={`endpoint${phone.sms_opt_out ? " is-off" : ""}`} aria-busy={busy}>
      <div class="endpoint-main">
        <span class="endpoint-address">{number}</span>
        <LabelInput value={phone.label} label={`Label for ${number}`} onSave={onLabel} />
      </div>
      <label class="switch">
        <input type="checkbox" role="switch" checked={off} onChange={(e) => { const v = (e.target as HTMLInputElement).checked; setOff(v); onOptOut(v); }} aria-label={`SMS opt-out for ${number}`} />
        <span class="switch-track" aria-hidden="true" />
        <span>Opted out of SMS</span>
      </label>
      {phone.sms_opt_out ? (
        <p class="endpoint-note">
          {phone.sms_opt_out_at ? `Since ${fullTime(phone.sms_opt_out_at)}` : "Opted out"}
          {phone.sms_opt_out_number ? ` (texted STOP to ${formatPhone(phone.sms_opt_out_number)})` : ""}. We won't text this number.
        </p>
      ) : null}
    </li>
  );
}

function EmailRow({ email, busy, onLabel, onBounced }: { email: EmailOut; busy: boolean; onLabel: (v: string) => void; onBounced: (v: boolean) => void }) {
  const [bounced, setBounced] = useOptimistic(email.bounced);
  return (
    <li class={`endpoint${email.bounced ? " is-off" : ""}`} aria-busy={busy}>
      <div class="endpoint-main">
        <span class="endpoint-address">{email.address}</span>
        <LabelInput value={email.label} label={`Label for ${email.address}`} onSave={onLabel} />
      </div>
      <label class="switch">
        <input type="checkbox" role="switch" checked={bounced} onChange={(e) => { const v = (e.target as HTMLInputElement).checked; setBounced(v); onBounced(v); }} aria-label={`Bounced: ${email.address}`} />
        <span class="switch-track" aria-hidden="true" />
        <span>Bounced</span>
      </label>
      {email.bounced ? (
        <p class="endpoint-note">
          Mail to this address bounced. We won't email it until you clear this.{" "}
          <button
            type="button"
            class="link-btn"
            disabled={busy}
            onClick={() => {
              if (!confirm(`Clear the bounce on ${email.address}? Agents can then email it again; if the address is still broken, the next email bounces too.`)) return;
              setBounced(false);
              onBounced(false);
            }}
          >
            Clear bounce
          </button>
        </p>
      ) : null}
    </li>
  );
}
