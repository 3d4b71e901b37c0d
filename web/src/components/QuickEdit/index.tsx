// Quick edit: view and update a contact (name, company, phones, emails, tags, notes) with
// the API's validation errors shown next to the field, and merge with another contact.

import { useEffect, useState } from "preact/hooks";
import { api, ApiError, fieldErrorsOf, type ContactDetailOut, type ContactOut } from "../../api";
import { formatPhone, fullTime } from "../../lib/format";
import { navigate } from "../../lib/router";
import { errorText } from "../../lib/errors";
import { createRetryKey } from "../../lib/retryKey";
import { useInbox } from "../../stores/context";
import { Avatar } from "../common/Avatar";
import { Modal } from "../common/Modal";
import { CloseIcon, MergeIcon, PlusIcon, TrashIcon } from "../common/Icons";
import { addTags, formFrom, mapFieldErrors, patchFrom, type ContactForm } from "./logic";

export function QuickEdit({ contactId, onClose }: { contactId: number; onClose: () => void }) {
  const inbox = useInbox();
  const [contact, setContact] = useState<ContactDetailOut | null>(null);
  const [form, setForm] = useState<ContactForm | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<{ text: string; otherId?: number } | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [tagInput, setTagInput] = useState("");
  const [note, setNote] = useState("");
  // Adding the same note again after a lost answer must not add it twice.
  const [noteKey] = useState(createRetryKey);
  const [merging, setMerging] = useState(false);
  const [mergeWith, setMergeWith] = useState<ContactOut | null>(null);

  async function load() {
    try {
      const c = await api.contacts.get(contactId);
      setContact(c);
      setForm(formFrom(c));
    } catch (err) {
      setFormError({ text: errorText(err) });
    }
  }

  useEffect(() => {
    void load();
  }, [contactId]);

  // The form arrives after the dialog opened: start in the name field then.
  const loaded = contact !== null;
  useEffect(() => {
    if (loaded) document.getElementById("qe-name")?.focus();
  }, [loaded]);

  function update(patch: Partial<ContactForm>) {
    if (!form) return;
    setForm({ ...form, ...patch });
    setSaved(false);
  }

  async function save(e: Event) {
    e.preventDefault();
    if (!form || !contact) return;
    const withTags = tagInput.trim() ? { ...form, tags: addTags(form.tags, tagInput) } : form;
    setSaving(true);
    setErrors({});
    setFormError(null);
    try {
      await api.contacts.update(contact.id, patchFrom(withTags));
      const fresh = await api.contacts.get(contact.id);
      setContact(fresh);
      setForm(formFrom(fresh));
      setTagInput("");
      inbox.contact.changed(fresh);
      setSaved(true);
    } catch (err) {
      if (err instanceof ApiError) {
        const fields = mapFieldErrors(fieldErrorsOf(err), withTags);
        const dup = err.details as { phone?: string; email?: string; contact_id?: number } | null;
        if (err.code === "duplicate_phone" && dup?.phone) {
          const i = withTags.phones.findIndex((p) => p.number.replace(/[^\d+]/g, "").endsWith(dup.phone!.replace(/^\+1/, "").replace(/^\+/, "")));
          if (i >= 0) fields[`phones.${i}.number`] = err.message;
        }
        if (err.code === "duplicate_email" && dup?.email) {
          const i = withTags.emails.findIndex((x) => x.address.trim().toLowerCase() === dup.email!.toLowerCase());
          if (i >= 0) fields[`emails.${i}.address`] = err.message;
        }
        setErrors(fields);
        if (Object.keys(fields).length === 0 || dup?.contact_id) {
          setFormError({ text: err.message, otherId: dup?.contact_id });
        }
      } else {
        setFormError({ text: errorText(err) });
      }
    } finally {
      setSaving(false);
    }
  }

  async function uploadPhoto(file: File | undefined) {
    if (!contact || !file) return;
    try {
      const c = await api.contacts.uploadAvatar(contact.id, file);
      const withBust = { ...c, avatar_url: c.avatar_url ? `${c.avatar_url}?v=${Date.now()}` : null };
      setContact({ ...contact, ...withBust });
      inbox.contact.changed(withBust);
    } catch (err) {
      setFormError({ text: errorText(err) });
    }
  }

  async function addNote() {
    if (!contact || !note.trim()) return;
    try {
      const text = note.trim();
      await api.contacts.addNote(contact.id, text, noteKey.keyFor([contact.id, text]));
      noteKey.done();
      setNote("");
      const fresh = await api.contacts.get(contact.id);
      setContact(fresh);
    } catch (err) {
      setFormError({ text: errorText(err) });
    }
  }

  async function confirmMerge() {
    if (!contact || !mergeWith) return;
    setSaving(true);
    try {
      await api.contacts.merge(contact.id, mergeWith.id);
      const fresh = await api.contacts.get(contact.id);
      setContact(fresh);
      setForm(formFrom(fresh));
      inbox.contact.changed(fresh);
      setMerging(false);
      setMergeWith(null);
      void inbox.panel.loadPage(false);
      // One thread now holds both histories: show it, refetched.
      if (fresh.conversation_id) {
        if (inbox.live.value.openId === fresh.conversation_id) void inbox.thread.open(fresh.conversation_id);
        else navigate(`/conversations/${fresh.conversation_id}`);
      }
      setSaved(true);
    } catch (err) {
      setFormError({ text: errorText(err) });
    } finally {
      setSaving(false);
    }
  }

  const err = (key: string) =>
    errors[key] ? (
      <span class="field-error" id={`err-${key.replace(/\./g, "-")}`} role="alert">
        {errors[key]}
      </span>
    ) : null;
  const described = (key: string) => (errors[key] ? `err-${key.replace(/\./g, "-")}` : undefined);
  const usersById = inbox.users.byId.value;

  return (
    <Modal
      title={contact ? `Edit ${contact.name || "contact"}` : "Edit contact"}
      onClose={onClose}
      size="lg"
      class="quick-edit"
      initialFocus="#qe-name"
    >
      {!form || !contact ? (
        formError ? <p class="form-error" role="alert">{formError.text}</p> : <p class="panel-note">Loading…</p>
      ) : (
        <div class="qe-layout">
          <form class="form qe-form" onSubmit={save} noValidate>
            <div class="qe-identity">
              <label class="avatar-upload" title="Upload a photo">
                <Avatar name={contact.name || "?"} initials={contact.initials} url={contact.avatar_url} size={56} />
                <span class="avatar-upload-hint" aria-hidden="true">Photo</span>
                <input
                  type="file"
                  accept="image/png,image/jpeg,image/gif,image/webp"
                  aria-label="Upload a photo of the contact"
                  onChange={(e) => void uploadPhoto((e.target as HTMLInputElement).files?.[0])}
                />
              </label>
              <div class="qe-identity-fields">
                <label class="field">
                  <span>Name</span>
                  <input id="qe-name" value={form.name} aria-invalid={!!errors.name} aria-describedby={described("name")} onInput={(e) => update({ name: (e.target as HTMLInputElement).value })} />
                  {err("name")}
                </label>
                <label class="field">
                  <span>Company</span>
                  <input value={form.company} aria-invalid={!!errors.company} onInput={(e) => update({ company: (e.target as HTMLInputElement).value })} />
                  {err("company")}
                </label>
              </div>
            </div>

            <fieldset class="qe-group">
              <legend>Phone numbers</legend>
              {form.phones.map((p, i) => (
                <div class="qe-row" key={p.id ?? `new-${i}`}>
                  <label class="field grow">
                    <span class="sr-only">Phone {i + 1}</span>
                    <input
                      type="tel"
                      aria-label={`Phone ${i + 1}`}
                      value={p.number}
                      placeholder="+1 415 555 0100"
                      aria-invalid={!!errors[`phones.${i}.number`]}
                      aria-describedby={described(`phones.${i}.number`)}
                      onInput={(e) => update({ phones: form.phones.map((x, j) => (j === i ? { ...x, number: (e.target as HTMLInputElement).value } : x)) })}
                    />
                    {err(`phones.${i}.number`)}
                  </label>
                  <input class="label-input" aria-label={`Label for phone ${i + 1}`} placeholder="Label" value={p.label} onInput={(e) => update({ phones: form.phones.map((x, j) => (j === i ? { ...x, label: (e.target as HTMLInputElement).value } : x)) })} />
                  <button type="button" class="icon-btn" aria-label={`Remove phone ${i + 1}`} onClick={() => update({ phones: form.phones.filter((_, j) => j !== i) })}>
                    <TrashIcon size={15} />
                  </button>
                </div>
              ))}
              <button type="button" class="link-btn" onClick={() => update({ phones: form.phones.concat({ number: "", label: "" }) })}>
                <PlusIcon size={14} /> Add phone
              </button>
            </fieldset>

            <fieldset class="qe-group">
              <legend>Email addresses</legend>
              {form.emails.map((m, i) => (
                <div class="qe-row" key={m.id ?? `new-${i}`}>
                  <label class="field grow">
                    <span class="sr-only">Email {i + 1}</span>
                    <input
                      type="email"
                      aria-label={`Email ${i + 1}`}
                      value={m.address}
                      placeholder="name@example.com"
                      aria-invalid={!!errors[`emails.${i}.address`]}
                      aria-describedby={described(`emails.${i}.address`)}
                      onInput={(e) => update({ emails: form.emails.map((x, j) => (j === i ? { ...x, address: (e.target as HTMLInputElement).value } : x)) })}
                    />
                    {err(`emails.${i}.address`)}
                  </label>
                  <input class="label-input" aria-label={`Label for email ${i + 1}`} placeholder="Label" value={m.label} onInput={(e) => update({ emails: form.emails.map((x, j) => (j === i ? { ...x, label: (e.target as HTMLInputElement).value } : x)) })} />
                  <button type="button" class="icon-btn" aria-label={`Remove email ${i + 1}`} onClick={() => update({ emails: form.emails.filter((_, j) => j !== i) })}>
                    <TrashIcon size={15} />
                  </button>
                </div>
              ))}
              <button type="button" class="link-btn" onClick={() => update({ emails: form.emails.concat({ address: "", label: "" }) })}>
                <PlusIcon size={14} /> Add email
              </button>
            </fieldset>

            <fieldset class="qe-group">
              <legend>Tags</legend>
              <div class="tags">
                {form.tags.map((t) => (
                  <span class="tag" key={t}>
                    {t}
                    <button type="button" aria-label={`Remove tag ${t}`} onClick={() => update({ tags: form.tags.filter((x) => x !== t) })}>
                      <CloseIcon size={11} />
                    </button>
                  </span>
                ))}
                <input
                  class="tag-input"
                  aria-label="Add tag"
                  placeholder={form.tags.length ? "Add tag" : "Add tags, comma separated"}
                  value={tagInput}
                  onInput={(e) => setTagInput((e.target as HTMLInputElement).value)}
                  onKeyDown={(e) => {
                    if ((e.key === "Enter" || e.key === ",") && tagInput.trim()) {
                      e.preventDefault();
                      update({ tags: addTags(form.tags, tagInput) });
                      setTagInput("");
                    }
                  }}
                />
              </div>
              {err("tags")}
            </fieldset>

            {formError ? (
              <p class="form-error" role="alert">
                {formError.text}
                {formError.otherId ? (
                  <>
                    {" "}
                    <button type="button" class="link-btn" onClick={() => { setMerging(true); void api.contacts.get(formError.otherId!).then(setMergeWith); }}>
                      Merge with that contact…
                    </button>
                  </>
                ) : null}
              </p>
            ) : null}
            <div class="form-actions">
              {saved ? <span class="saved-note" role="status">Saved</span> : null}
              <button type="button" class="btn btn-ghost" onClick={onClose}>
                Close
              </button>
              <button type="submit" class="btn btn-primary" disabled={saving}>
                {saving ? "Saving…" : "Save changes"}
              </button>
            </div>
          </form>

          <aside class="qe-side">
            <section aria-labelledby="qe-notes">
              <h3 id="qe-notes" class="section-title">Notes</h3>
              <div class="note-add">
                <textarea aria-label="New note" placeholder="Add a note for your team…" rows={2} value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
                <button type="button" class="btn btn-secondary btn-sm" disabled={!note.trim()} onClick={() => void addNote()}>
                  Add note
                </button>
              </div>
              <ul class="notes">
                {contact.notes
                  .slice()
                  .reverse()
                  .map((n) => (
                    <li key={n.id} class="note">
                      <p>{n.body}</p>
                      <span class="note-meta">
                        {n.author_id ? (usersById[n.author_id]?.name ?? "Someone") : "System"} · {fullTime(n.created_at)}
                      </span>
                    </li>
                  ))}
              </ul>
            </section>
            <section class="merge" aria-labelledby="qe-merge">
              <h3 id="qe-merge" class="section-title">
                <MergeIcon size={14} /> Merge
              </h3>
              {!merging ? (
                <button type="button" class="btn btn-secondary btn-sm" onClick={() => setMerging(true)}>
                  Merge with another contact…
                </button>
              ) : mergeWith ? (
                <div class="merge-confirm" role="group" aria-label="Confirm merge">
                  <p>
                    Merge <strong>{mergeWith.name || mergeWith.emails[0]?.address || formatPhone(mergeWith.phones[0]?.e164)}</strong> into{" "}
                    <strong>{contact.name || "this contact"}</strong>? Their phones, emails, notes and messages move here, and the two threads become one. This cannot be undone.
                  </p>
                  <div class="form-actions">
                    <button type="button" class="btn btn-ghost btn-sm" onClick={() => setMergeWith(null)}>
                      Back
                    </button>
                    <button type="button" class="btn btn-danger btn-sm" disabled={saving} onClick={() => void confirmMerge()}>
                      Merge contacts
                    </button>
                  </div>
                </div>
              ) : (
                <MergeSearch excludeId={contact.id} onPick={setMergeWith} onCancel={() => setMerging(false)} />
              )}
            </section>
          </aside>
        </div>
      )}
    </Modal>
  );
}

function MergeSearch({ excludeId, onPick, onCancel }: { excludeId: number; onPick: (c: ContactOut) => void; onCancel: () => void }) {
  const [q, setQ] = useState("");
  const [items, setItems] = useState<ContactOut[]>([]);
  useEffect(() => {
    if (!q.trim()) {
      setItems([]);
      return;
    }
    const ctrl = new AbortController();
    const t = setTimeout(() => {
      api.contacts
        .search(q.trim(), null, 8, ctrl.signal)
        .then((p) => setItems(p.items.filter((c) => c.id !== excludeId)))
        .catch(() => undefined);
    }, 180);
    return () => {
      clearTimeout(t);
      ctrl.abort();
    };
  }, [q]);
  return (
    <div class="merge-search">
      <input type="search" aria-label="Find the contact to merge" placeholder="Search by name, phone or email" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} autoFocus />
      <ul class="result-list compact" aria-label="Contacts to merge">
        {items.map((c) => (
          <li key={c.id}>
            <button type="button" class="result" onClick={() => onPick(c)}>
              <Avatar name={c.name || "?"} initials={c.initials} url={c.avatar_url} size={26} decorative />
              <span class="result-text">
                <span class="result-name">{c.name || c.emails[0]?.address || formatPhone(c.phones[0]?.e164)}</span>
                <span class="result-sub">{[...c.phones.map((p) => formatPhone(p.e164)), ...c.emails.map((e) => e.address)].join(" · ")}</span>
              </span>
            </button>
          </li>
        ))}
      </ul>
      <button type="button" class="link-btn muted" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
