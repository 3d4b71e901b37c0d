// The task system's view: Email Tasks (and others) with their owner and whether they ran.

import { useEffect, useState } from "preact/hooks";
import { api, type TaskOut } from "../../api";
import { fullTime } from "../../lib/format";
import { errorText } from "../../lib/errors";
import { useInbox } from "../../stores/context";
import { Avatar } from "../common/Avatar";

const KIND: Record<string, string> = { email: "Email task", send_email: "Email task" };

export function Tasks() {
  const inbox = useInbox();
  const [owner, setOwner] = useState<"me" | "any">("me");
  const [status, setStatus] = useState<string>("");
  const [tasks, setTasks] = useState<TaskOut[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api.tasks
      .list({ owner, status: status || null, limit: 100 })
      .then((t) => live && setTasks(t))
      .catch((err) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [owner, status]);

  const users = inbox.users.byId.value;
  return (
    <main class="tasks-page" aria-labelledby="tasks-heading">
      <header class="settings-head">
        <h1 id="tasks-heading">Tasks</h1>
        <p class="muted">Every email you send becomes an Email Task that the task system executes and marks completed.</p>
      </header>
      <div class="tasks-filters">
        <div class="select-wrap select-sm">
          <select aria-label="Owner" value={owner} onChange={(e) => setOwner((e.target as HTMLSelectElement).value as "me" | "any")}>
            <option value="me">My tasks</option>
            <option value="any">Everyone's tasks</option>
          </select>
        </div>
        <div class="select-wrap select-sm">
          <select aria-label="Status" value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            <option value="">Any status</option>
            <option value="queued">Queued</option>
            <option value="running">Running</option>
            <option value="completed">Completed</option>
            <option value="failed">Failed</option>
          </select>
        </div>
      </div>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">Owner</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col">Completed</th>
          </tr>
        </thead>
        <tbody>
          {(tasks ?? []).map((t) => {
            const u = t.owner_id ? users[t.owner_id] : undefined;
            return (
              <tr key={t.id}>
                <td>
                  <span class="task-title">{t.title}</span>
                  <span class="muted small"> · {KIND[t.kind] ?? t.kind}</span>
                  {/* A queued task's error is the temporary failure it will be retried after. */}
                  {t.error ? <div class={t.status === "failed" ? "field-error" : "muted small"}>{t.error}</div> : null}
                </td>
                <td>
                  {u ? (
                    <span class="user-cell">
                      <Avatar name={u.name} initials={u.initials} url={u.avatar_url} size={22} />
                      {u.name}
                    </span>
                  ) : (
                    <span class="muted">—</span>
                  )}
                </td>
                <td>
                  <span class={`pill ${t.status === "completed" ? "pill-ok" : t.status === "failed" ? "pill-danger" : t.status === "running" ? "pill-info" : "pill-muted"}`}>{t.status.charAt(0).toUpperCase() + t.status.slice(1)}</span>
                </td>
                <td>{fullTime(t.created_at)}</td>
                <td>{t.completed_at ? fullTime(t.completed_at) : "—"}</td>
              </tr>
            );
          })}
          {tasks && tasks.length === 0 ? (
            <tr>
              <td colSpan={5} class="muted">No tasks here.</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      {error ? <p class="form-error" role="alert">{error}</p> : null}
    </main>
  );
}
