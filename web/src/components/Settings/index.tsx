// Settings an admin needs to make the channels usable: company phone numbers, mailboxes,
// the web-chat widget, users and API tokens; plus each agent's own profile.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import {
  api,
  type MailboxOut,
  type NewTokenOut,
  type PhoneNumberIn,
  type PhoneNumberOut,
  type Role,
  type TokenOut,
  type UserOut,
  type UserPatch,
  type WidgetOut,
} from "../../api";
import { formatPhone, fullTime } from "../../lib/format";
import { linkClick } from "../../lib/router";
import { errorText } from "../../lib/errors";
import { useInbox, useSession } from "../../stores/context";
import { Avatar } from "../common/Avatar";
import { BellIcon, CopyIcon, TrashIcon } from "../common/Icons";
import { SmsProviders } from "./SmsProviders";

const TABS: { id: string; name: string; admin?: boolean }[] = [
  { id: "profile", name: "Your profile" },
  { id: "phone-numbers", name: "Phone numbers" },
  { id: "mailboxes", name: "Mailboxes" },
  { id: "web-chat", name: "Web chat" },
  { id: "users", name: "Users" },
  { id: "tokens", name: "API tokens" },
  { id: "account", name: "Account", admin: true },
];

export function Settings({ tab }: { tab: string }) {
  const session = useSession();
  const isAdmin = session.isAdmin.value;
  const tabs = TABS.filter((t) => !t.admin || isAdmin);
  const current = tabs.find((t) => t.id === tab) ?? tabs[0];
  return (
    <div class="settings">
      <nav class="settings-nav" aria-label="Settings">
        <h1 class="settings-title">Settings</h1>
        <ul>
          {tabs.map((t) => (
            <li key={t.id}>
              <a href={`/settings/${t.id}`} aria-current={t.id === current.id ? "page" : undefined} onClick={linkClick}>
                {t.name}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main class="settings-main" aria-labelledby="settings-heading">
        {current.id === "profile" && <Profile />}
        {current.id === "phone-numbers" && <PhoneNumbers admin={isAdmin} />}
        {current.id === "mailboxes" && <Mailboxes admin={isAdmin} />}
        {current.id === "web-chat" && <Widgets admin={isAdmin} />}
        {current.id === "users" && <Users admin={isAdmin} />}
        {current.id === "tokens" && <Tokens />}
        {current.id === "account" && <Account />}
      </main>
    </div>
  );
}

function Section({ title, intro, children }: { title: string; intro?: ComponentChildren; children: ComponentChildren }) {
  return (
    <>
      <header class="settings-head">
        <h2 id="settings-heading">{title}</h2>
        {intro ? <p class="muted">{intro}</p> : null}
      </header>
      {children}
    </>
  );
}

function useList<T>(load: () => Promise<T[]>) {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = async () => {
    try {
      setItems(await load());
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  };
  useEffect(() => {
    void reload();
  }, []);
  return { items, error, setError, reload };
}

function AdminNote({ admin }: { admin: boolean }) {
  return admin ? null : <p class="notice">Only an admin can change these.</p>;
}

// ---- profile -------------------------------------------------------------------

function Profile() {
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

// ---- phone numbers -------------------------------------------------------------

function PhoneNumbers({ admin }: { admin: boolean }) {
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

function InlineText({ value, label, onSave }: { value: string; label: string; onSave: (v: string) => void }) {
  const [v, setV] = useState(value);
  useEffect(() => setV(value), [value]);
  return (
    <input
      class="inline-input"
      aria-label={label}
      value={v}
      onInput={(e) => setV((e.target as HTMLInputElement).value)}
      onBlur={() => v !== value && onSave(v)}
      onKeyDown={(e) => e.key === "Enter" && (e.target as HTMLInputElement).blur()}
    />
  );
}

// ---- mailboxes -----------------------------------------------------------------

function Mailboxes({ admin }: { admin: boolean }) {
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

// ---- web chat ------------------------------------------------------------------

function Widgets({ admin }: { admin: boolean }) {
  const list = useList<WidgetOut>(api.widgets.list);
  const [name, setName] = useState("");

  async function add(e: Event) {
    e.preventDefault();
    try {
      await api.widgets.create({ name: name.trim() || "Website", enabled: true });
      setName("");
      await list.reload();
    } catch (err) {
      list.setError(errorText(err));
    }
  }

  return (
    <Section title="Web chat" intro="The chat widget on your website. It must be enabled for the Web Chat channel to work.">
      <AdminNote admin={admin} />
      {(list.items ?? []).map((w) => (
        <WidgetCard key={w.id} widget={w} admin={admin} onChanged={list.reload} onError={list.setError} />
      ))}
      {list.items && list.items.length === 0 ? <p class="muted">No widget yet.</p> : null}
      {admin ? (
        <form class="card form inline-form" onSubmit={add} aria-label="Add a widget">
          <label class="field grow">
            <span>Widget name</span>
            <input value={name} placeholder="Main website" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="btn btn-primary">Add widget</button>
        </form>
      ) : null}
      {list.error ? <p class="form-error" role="alert">{list.error}</p> : null}
    </Section>
  );
}

function WidgetCard({ widget: w, admin, onChanged, onError }: { widget: WidgetOut; admin: boolean; onChanged: () => Promise<void>; onError: (e: string) => void }) {
  const [greeting, setGreeting] = useState(w.greeting);
  const [color, setColor] = useState(w.color);
  const [origins, setOrigins] = useState(w.allowed_origins.join("\n"));
  const [copied, setCopied] = useState(false);
  const [saved, setSaved] = useState(false);

  async function patch(body: Partial<WidgetOut>) {
    try {
      await api.widgets.update(w.id, body);
      await onChanged();
      setSaved(true);
    } catch (err) {
      onError(errorText(err));
    }
  }

  async function copy() {
    try {
      await navigator.clipboard.writeText(w.embed_snippet);
    } catch {
      const ta = document.createElement("textarea");
      ta.value = w.embed_snippet;
      document.body.appendChild(ta);
      ta.select();
      document.execCommand("copy");
      ta.remove();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  }

  return (
    <section class="card widget-card" aria-label={`Widget ${w.name}`}>
      <header class="widget-head">
        <span class="widget-swatch" style={{ background: w.color }} aria-hidden="true" />
        <h3>{w.name}</h3>
        <span class={`pill ${w.enabled ? "pill-ok" : "pill-muted"}`}>{w.enabled ? "Enabled" : "Disabled"}</span>
        <span class="spacer" />
        <label class="switch">
          <input type="checkbox" role="switch" disabled={!admin} checked={w.enabled} aria-label={`Enable widget ${w.name}`} onChange={(e) => void patch({ enabled: (e.target as HTMLInputElement).checked })} />
          <span class="switch-track" aria-hidden="true" />
        </label>
      </header>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          void patch({
            greeting,
            color,
            allowed_origins: origins.split(/[\s,]+/).map((o) => o.trim()).filter(Boolean),
          });
        }}
      >
        <div class="field-row">
          <label class="field grow">
            <span>Greeting</span>
            <input disabled={!admin} value={greeting} placeholder="Hi! How can we help?" onInput={(e) => { setGreeting((e.target as HTMLInputElement).value); setSaved(false); }} />
          </label>
          <label class="field">
            <span>Colour</span>
            <input disabled={!admin} type="color" value={color} onInput={(e) => { setColor((e.target as HTMLInputElement).value); setSaved(false); }} />
          </label>
        </div>
        <label class="field">
          <span>Allowed websites (one origin per line, e.g. https://www.example.com)</span>
          <textarea disabled={!admin} rows={2} value={origins} onInput={(e) => { setOrigins((e.target as HTMLTextAreaElement).value); setSaved(false); }} />
        </label>
        {admin ? (
          <div class="form-actions">
            {saved ? <span class="saved-note" role="status">Saved</span> : null}
            <button type="submit" class="btn btn-secondary btn-sm">Save appearance</button>
          </div>
        ) : null}
      </form>
      <div class="embed">
        <label class="field">
          <span>Embed snippet — paste before &lt;/body&gt; on your site</span>
          <textarea readOnly rows={2} class="mono" value={w.embed_snippet} onFocus={(e) => (e.target as HTMLTextAreaElement).select()} />
        </label>
        <button type="button" class="btn btn-secondary btn-sm" onClick={() => void copy()}>
          <CopyIcon size={14} /> {copied ? "Copied" : "Copy snippet"}
        </button>
      </div>
    </section>
  );
}

// ---- users ---------------------------------------------------------------------

function Users({ admin }: { admin: boolean }) {
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

// ---- tokens --------------------------------------------------------------------

function Tokens() {
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

// ---- account -------------------------------------------------------------------

function Account() {
  const session = useSession();
  const account = session.session.value?.account as { name: string; sms_opt_out_scope?: string } | undefined;
  const [scope, setScope] = useState(account?.sms_opt_out_scope ?? "account");
  const [msg, setMsg] = useState<string | null>(null);
  async function save(v: "account" | "number") {
    setScope(v);
    try {
      await api.account.update({ sms_opt_out_scope: v });
      setMsg("Saved.");
    } catch (err) {
      setMsg(errorText(err));
    }
  }
  return (
    <Section title="Account" intro={account?.name}>
      <fieldset class="card radio-group">
        <legend class="section-title">When a contact texts STOP</legend>
        <label class="radio">
          <input type="radio" name="scope" checked={scope === "account"} onChange={() => void save("account")} />
          <span>Stop texting them from every company number (recommended)</span>
        </label>
        <label class="radio">
          <input type="radio" name="scope" checked={scope === "number"} onChange={() => void save("number")} />
          <span>Stop texting them only from the number they replied STOP to</span>
        </label>
        {msg ? <p class="saved-note" role="status">{msg}</p> : null}
      </fieldset>
    </Section>
  );
}
