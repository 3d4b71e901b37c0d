// Settings → API tokens: tokens for scripts; a new one is shown once.

import { useState } from "preact/hooks";
import { api, type NewTokenOut, type TokenOut } from "../../api";
import { errorText } from "../../lib/errors";
import { fullTime } from "../../lib/format";
import { TrashIcon } from "../common/Icons";
import { Section, useList } from "./common";

export function Tokens() {
  const list = useList<TokenOut>(api.tokens.list);
  const [name, setName] = useState("");
  const [fresh, setFresh] = useState<NewTokenOut | null>(null);

  async function add(e: Event) {
    e.preventDefault();
    try {
      const t = await api.tokens.create(name.trim());
      setFresh(t);
      setName("");
      await list.reload();
    } catch (err) {
      list.setError(errorText(err));
    }
  }

  return (
    <Section title="API tokens" intro={<>For scripts and integrations: send <code>Authorization: Bearer &lt;token&gt;</code> to <code>/api/v1/</code>.</>}>
      {fresh?.token ? (
        <div class="notice notice-ok" role="status">
          <p>
            Copy the token <strong>{fresh.name}</strong> now — it is shown only once:
          </p>
          <input class="mono token-value" readOnly value={fresh.token} aria-label="New token" onFocus={(e) => (e.target as HTMLInputElement).select()} />
        </div>
      ) : null}
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Token</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col"><span class="sr-only">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {(list.items ?? []).map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td>
              <td class="mono">{t.prefix}…</td>
              <td>{fullTime(t.created_at)}</td>
              <td>{t.last_used_at ? fullTime(t.last_used_at) : "Never"}</td>
              <td class="actions">
                <button type="button" class="icon-btn" aria-label={`Revoke token ${t.name}`} onClick={() => confirm(`Revoke ${t.name}?`) && void api.tokens.remove(t.id).then(list.reload, (err) => list.setError(errorText(err)))}>
                  <TrashIcon size={15} />
                </button>
              </td>
            </tr>
          ))}
          {list.items && list.items.length === 0 ? (
            <tr>
              <td colSpan={5} class="muted">No tokens.</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <form class="card form inline-form" onSubmit={add} aria-label="Create a token">
        <label class="field grow">
          <span>Token name</span>
          <input required value={name} placeholder="CRM sync" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" class="btn btn-primary">Create token</button>
      </form>
      {list.error ? <p class="form-error" role="alert">{list.error}</p> : null}
    </Section>
  );
}
