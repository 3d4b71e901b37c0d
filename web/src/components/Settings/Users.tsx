// Settings → Users: who can log in, their role, and whether they still can.

import { useState } from "preact/hooks";
import { api, type Role, type UserOut, type UserPatch } from "../../api";
import { errorText } from "../../lib/errors";
import { useInbox, useSession } from "../../stores/context";
import { Avatar } from "../common/Avatar";
import { Section, useList } from "./common";

export function Users({ admin }: { admin: boolean }) {
  const session = useSession();
  const inbox = useInbox();
  const list = useList<UserOut>(api.users.list);
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("agent");

  async function add(e: Event) {
    e.preventDefault();
    try {
      await api.users.create({ email, name, password, role });
      setEmail("");
      setName("");
      setPassword("");
      await list.reload();
      inbox.users.list.value = list.items ?? inbox.users.list.value;
    } catch (err) {
      list.setError(errorText(err));
    }
  }

  async function patch(id: number, body: UserPatch) {
    try {
      await api.users.update(id, body);
      await list.reload();
    } catch (err) {
      list.setError(errorText(err));
    }
  }

  return (
    <Section title="Users" intro="Employees who can log in and answer conversations.">
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Active</th>
          </tr>
        </thead>
        <tbody>
          {(list.items ?? []).map((u) => (
            <tr key={u.id}>
              <td>
                <span class="user-cell">
                  <Avatar name={u.name} initials={u.initials} url={u.avatar_url} size={26} />
                  {u.name}
                  {u.id === session.user.value?.id ? <span class="pill pill-muted">You</span> : null}
                </span>
              </td>
              <td>{u.email}</td>
              <td>
                {admin && u.id !== session.user.value?.id ? (
                  <select aria-label={`Role of ${u.name}`} value={u.role} onChange={(e) => void patch(u.id, { role: (e.target as HTMLSelectElement).value as Role })}>
                    <option value="agent">Agent</option>
                    <option value="admin">Admin</option>
                  </select>
                ) : (
                  <span class="cap">{u.role}</span>
                )}
              </td>
              <td>
                <label class="switch">
                  <input type="checkbox" role="switch" disabled={!admin || u.id === session.user.value?.id} checked={u.active} aria-label={`${u.name} can log in`} onChange={(e) => void patch(u.id, { active: (e.target as HTMLInputElement).checked })} />
                  <span class="switch-track" aria-hidden="true" />
                </label>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {admin ? (
        <form class="card form inline-form" onSubmit={add} aria-label="Invite a user">
          <label class="field grow">
            <span>Name</span>
            <input required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </label>
          <label class="field grow">
            <span>Email</span>
            <input required type="email" value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
          </label>
          <label class="field grow">
            <span>Password</span>
            <input required type="password" autoComplete="new-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
          </label>
          <label class="field">
            <span>Role</span>
            <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as Role)}>
              <option value="agent">Agent</option>
              <option value="admin">Admin</option>
            </select>
          </label>
          <button type="submit" class="btn btn-primary">Add user</button>
        </form>
      ) : null}
      {list.error ? <p class="form-error" role="alert">{list.error}</p> : null}
    </Section>
  );
}
