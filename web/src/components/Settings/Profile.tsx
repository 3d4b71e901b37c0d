// Settings → Your profile: name, avatar, and desktop notifications (any user).

import { useState } from "preact/hooks";
import { api } from "../../api";
import { errorText } from "../../lib/errors";
import { useInbox, useSession } from "../../stores/context";
import { Avatar } from "../common/Avatar";
import { BellIcon } from "../common/Icons";
import { Section } from "./common";

export function Profile() {
  const session = useSession();
  const inbox = useInbox();
  const user = session.user.value!;
  const [name, setName] = useState(user.name);
  const [msg, setMsg] = useState<{ text: string; error?: boolean } | null>(null);

  async function saveName(e: Event) {
    e.preventDefault();
    try {
      const u = await api.users.update(user.id, { name: name.trim() });
      session.updateUser(u);
      setMsg({ text: "Saved." });
    } catch (err) {
      setMsg({ text: errorText(err), error: true });
    }
  }

  async function upload(file: File | undefined) {
    if (!file) return;
    try {
      const u = await api.users.uploadAvatar(file);
      session.updateUser({ ...u, avatar_url: u.avatar_url ? `${u.avatar_url}?v=${Date.now()}` : null });
      setMsg({ text: "Your avatar was updated." });
    } catch (err) {
      setMsg({ text: errorText(err), error: true });
    }
  }

  return (
    <Section title="Your profile" intro="How contacts and teammates see you. Your avatar appears on the messages you send.">
      <div class="card">
        <div class="profile-row">
          <Avatar name={user.name} initials={user.initials} url={user.avatar_url} size={64} />
          <div>
            <label class="btn btn-secondary btn-sm file-btn">
              Upload avatar
              <input type="file" accept="image/png,image/jpeg,image/gif,image/webp" onChange={(e) => void upload((e.target as HTMLInputElement).files?.[0])} />
            </label>
            <p class="muted small">PNG, JPEG, GIF or WebP.</p>
          </div>
        </div>
        <form class="form inline-form" onSubmit={saveName}>
          <label class="field grow">
            <span>Name</span>
            <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </label>
          <label class="field grow">
            <span>Email</span>
            <input value={user.email} disabled />
          </label>
          <button type="submit" class="btn btn-primary">
            Save
          </button>
        </form>
        {msg ? <p class={msg.error ? "form-error" : "saved-note"} role="status">{msg.text}</p> : null}
      </div>
      <div class="card">
        <label class="switch">
          <input type="checkbox" role="switch" checked={inbox.notifications.enabled.value} onChange={(e) => void inbox.notifications.setEnabled((e.target as HTMLInputElement).checked)} />
          <span class="switch-track" aria-hidden="true" />
          <span>
            <BellIcon size={14} /> Desktop notifications for new messages while Parlour is in the background
          </span>
        </label>
      </div>
    </Section>
  );
}
