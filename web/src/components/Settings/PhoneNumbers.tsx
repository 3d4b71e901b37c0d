// Settings → Phone numbers: the company's numbers (add, label, SMS on or off, remove),
// and below them the SMS providers' connections (SmsProviders.tsx).

import { useState } from "preact/hooks";
import { api, type PhoneNumberIn, type PhoneNumberOut } from "../../api";
import { errorText } from "../../lib/errors";
import { formatPhone } from "../../lib/format";
import { TrashIcon } from "../common/Icons";
import { SmsProviders } from "./SmsProviders";
import { AdminNote, InlineText, Section, useList } from "./common";

export function PhoneNumbers({ admin }: { admin: boolean }) {
  const list = useList<PhoneNumberOut>(api.phoneNumbers.list);
  const [number, setNumber] = useState("");
  const [label, setLabel] = useState("");
  const [provider, setProvider] = useState<PhoneNumberIn["provider"]>("console");
  const [sms, setSms] = useState(true);

  async function add(e: Event) {
    e.preventDefault();
    try {
      await api.phoneNumbers.create({ number, label, provider, sms_enabled: sms });
      setNumber("");
      setLabel("");
      await list.reload();
    } catch (err) {
      list.setError(errorText(err));
    }
  }

  async function patch(id: number, body: Partial<{ label: string; sms_enabled: boolean }>) {
    try {
      await api.phoneNumbers.update(id, body);
      await list.reload();
    } catch (err) {
      list.setError(errorText(err));
    }
  }

  return (
    <Section title="Phone numbers" intro="Call-tracking numbers the company owns. Only SMS-enabled numbers can send and receive texts.">
      <AdminNote admin={admin} />
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Number</th>
            <th scope="col">Label</th>
            <th scope="col">Provider</th>
            <th scope="col">SMS</th>
            {admin ? <th scope="col"><span class="sr-only">Actions</span></th> : null}
          </tr>
        </thead>
        <tbody>
          {(list.items ?? []).map((n) => (
            <tr key={n.id}>
              <td class="mono">{formatPhone(n.e164)}</td>
              <td>
                {admin ? <InlineText value={n.label} label={`Label for ${n.e164}`} onSave={(v) => patch(n.id, { label: v })} /> : n.label}
              </td>
              <td>{n.provider}</td>
              <td>
                <label class="switch">
                  <input type="checkbox" role="switch" disabled={!admin} checked={n.sms_enabled} aria-label={`SMS enabled for ${n.e164}`} onChange={(e) => void patch(n.id, { sms_enabled: (e.target as HTMLInputElement).checked })} />
                  <span class="switch-track" aria-hidden="true" />
                </label>
              </td>
              {admin ? (
                <td class="actions">
                  <button type="button" class="icon-btn" aria-label={`Remove ${n.e164}`} onClick={() => confirm(`Remove ${n.e164}?`) && void api.phoneNumbers.remove(n.id).then(list.reload, (err) => list.setError(errorText(err)))}>
                    <TrashIcon size={15} />
                  </button>
                </td>
              ) : null}
            </tr>
          ))}
          {list.items && list.items.length === 0 ? (
            <tr>
              <td colSpan={5} class="muted">No numbers yet. Add one below to text contacts.</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      {admin ? (
        <form class="card form inline-form" onSubmit={add} aria-label="Add a phone number">
          <label class="field grow">
            <span>Number</span>
            <input required type="tel" value={number} placeholder="+1 415 555 0100" onInput={(e) => setNumber((e.target as HTMLInputElement).value)} />
          </label>
          <label class="field grow">
            <span>Label</span>
            <input value={label} placeholder="Main line" onInput={(e) => setLabel((e.target as HTMLInputElement).value)} />
          </label>
          <label class="field">
            <span>Provider</span>
            <select value={provider} onChange={(e) => setProvider((e.target as HTMLSelectElement).value as PhoneNumberIn["provider"])}>
              <option value="console">Console (development)</option>
              <option value="twilio">Twilio</option>
              <option value="telnyx">Telnyx</option>
            </select>
          </label>
          <label class="check">
            <input type="checkbox" checked={sms} onChange={(e) => setSms((e.target as HTMLInputElement).checked)} />
            <span>SMS enabled</span>
          </label>
          <button type="submit" class="btn btn-primary">Add number</button>
        </form>
      ) : null}
      {list.error ? <p class="form-error" role="alert">{list.error}</p> : null}
      <SmsProviders admin={admin} onImported={() => void list.reload()} />
    </Section>
  );
}
