// Settings → Mailboxes: the addresses the company sends email from and receives at.

import { useState } from "preact/hooks";
import { api, type MailboxOut } from "../../api";
import { errorText } from "../../lib/errors";
import { TrashIcon } from "../common/Icons";
import { AdminNote, InlineText, Section, useList } from "./common";

export function Mailboxes({ admin }: { admin: boolean }) {
  const list = useList<MailboxOut>(api.mailboxes.list);
  const [address, setAddress] = useState("");
  const [name, setName] = useState("");

  async function add(e: Event) {
    e.preventDefault();
    try {
      await api.mailboxes.create({ address, name, provider: "console", enabled: true });
      setAddress("");
      setName("");
      await list.reload();
    } catch (err) {
      list.setError(errorText(err));
    }
  }

  async function patch(id: number, body: Partial<{ name: string; enabled: boolean }>) {
    try {
      await api.mailboxes.update(id, body);
      await list.reload();
    } catch (err) {
      list.setError(errorText(err));
    }
  }

  return (
    <Section title="Mailboxes" intro="Addresses the company sends email from and receives it at.">
      <AdminNote admin={admin} />
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Address</th>
            <th scope="col">Sender name</th>
            <th scope="col">Provider</th>
            <th scope="col">Enabled</th>
            {admin ? <th scope="col"><span class="sr-only">Actions</span></th> : null}
          </tr>
        </thead>
        <tbody>
          {(list.items ?? []).map((m) => (
            <tr key={m.id}>
              <td class="mono">{m.address}</td>
              <td>{admin ? <InlineText value={m.name} label={`Sender name for ${m.address}`} onSave={(v) => patch(m.id, { name: v })} /> : m.name}</td>
              <td>{m.provider}</td>
              <td>
                <label class="switch">
                  <input type="checkbox" role="switch" disabled={!admin} checked={m.enabled} aria-label={`Enabled: ${m.address}`} onChange={(e) => void patch(m.id, { enabled: (e.target as HTMLInputElement).checked })} />
                  <span class="switch-track" aria-hidden="true" />
                </label>
              </td>
              {admin ? (
                <td class="actions">
                  <button type="button" class="icon-btn" aria-label={`Remove ${m.address}`} onClick={() => confirm(`Remove ${m.address}?`) && void api.mailboxes.remove(m.id).then(list.reload, (err) => list.setError(errorText(err)))}>
                    <TrashIcon size={15} />
                  </button>
                </td>
              ) : null}
            </tr>
          ))}
          {list.items && list.items.length === 0 ? (
            <tr>
              <td colSpan={5} class="muted">No mailboxes yet.</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      {admin ? (
        <form class="card form inline-form" onSubmit={add} aria-label="Add a mailbox">
          <label class="field grow">
            <span>Address</span>
            <input required type="email" value={address} placeholder="support@example.com" onInput={(e) => setAddress((e.target as HTMLInputElement).value)} />
          </label>
          <label class="field grow">
            <span>Sender name</span>
            <input value={name} placeholder="Acme Support" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="btn btn-primary">Add mailbox</button>
        </form>
      ) : null}
      {list.error ? <p class="form-error" role="alert">{list.error}</p> : null}
    </Section>
  );
}
