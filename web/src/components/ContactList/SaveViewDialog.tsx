import { useState } from "preact/hooks";
import type { ViewFilters } from "../../api/schemas";
import { errorText } from "../../lib/errors";
import { useInbox } from "../../stores/context";
import { Modal } from "../common/Modal";

export function SaveViewDialog({ onClose }: { onClose: () => void }) {
  const inbox = useInbox();
  const base = inbox.panel.currentView.value?.filters ?? {};
  const [name, setName] = useState("");
  const [status, setStatus] = useState<NonNullable<ViewFilters["status"]>>(base.status ?? "open");
  const [assignee, setAssignee] = useState<string>(String(base.assignee ?? "any"));
  const [channel, setChannel] = useState<string>(base.channel ?? "");
  const [unread, setUnread] = useState<boolean>(!!base.unread);
  const [tag, setTag] = useState<string>(base.tag ?? "");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const saved = inbox.panel.views.value.filter((v) => !v.builtin);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const filters: ViewFilters = {
        status,
        assignee: /^\d+$/.test(assignee) ? Number(assignee) : (assignee as "me" | "none" | "any"),
        channel: (channel || null) as ViewFilters["channel"],
        unread,
        tag: tag.trim() || null,
      };
      await inbox.panel.saveView(name.trim(), filters);
      onClose();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal title="Save a view" onClose={onClose} size="sm">
      <form class="form" onSubmit={submit}>
        <label class="field">
          <span>Name</span>
          <input required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder="e.g. VIP follow-ups" />
        </label>
        <div class="field-row">
          <label class="field">
            <span>Status</span>
            <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value as typeof status)}>
              <option value="open">Open</option>
              <option value="closed">Closed</option>
              <option value="any">Any</option>
            </select>
          </label>
          <label class="field">
            <span>Assignee</span>
            <select value={assignee} onChange={(e) => setAssignee((e.target as HTMLSelectElement).value)}>
              <option value="any">Anyone</option>
              <option value="me">Me</option>
              <option value="none">Unassigned</option>
              {inbox.users.list.value.map((u) => (
                <option value={String(u.id)} key={u.id}>{u.name}</option>
              ))}
            </select>
          </label>
        </div>
        <div class="field-row">
          <label class="field">
            <span>Channel</span>
            <select value={channel} onChange={(e) => setChannel((e.target as HTMLSelectElement).value)}>
              <option value="">Any channel</option>
              <option value="sms">SMS</option>
              <option value="webchat">Web Chat</option>
              <option value="email">Email</option>
            </select>
          </label>
          <label class="field">
            <span>Tag</span>
            <input value={tag} onInput={(e) => setTag((e.target as HTMLInputElement).value)} placeholder="Any tag" />
          </label>
        </div>
        <label class="check">
          <input type="checkbox" checked={unread} onChange={(e) => setUnread((e.target as HTMLInputElement).checked)} />
          <span>Only unread</span>
        </label>
        {error ? <p class="form-error" role="alert">{error}</p> : null}
        <div class="form-actions">
          <button type="button" class="btn btn-ghost" onClick={onClose}>Cancel</button>
          <button type="submit" class="btn btn-primary" disabled={busy || !name.trim()}>Save view</button>
        </div>
      </form>
      {saved.length ? (
        <div class="saved-views">
          <h3 class="section-title">Your saved views</h3>
          <ul class="plain-list">
            {saved.map((v) => (
              <li key={v.id} class="plain-row">
                <span>{v.name}</span>
                <button type="button" class="link-btn danger" aria-label={`Delete view ${v.name}`} onClick={() => void inbox.panel.deleteView(v.id).catch((err) => setError(errorText(err)))}>
                  Delete
                </button>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </Modal>
  );
}
