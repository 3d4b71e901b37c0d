// Pure helpers for the quick-edit form.

import type { ContactDetailOut, ContactPatch } from "../../api/schemas";

export interface PhoneRow {
  id?: number;
  number: string;
  label: string;
}
export interface EmailRow {
  id?: number;
  address: string;
  label: string;
}
export interface ContactForm {
  name: string;
  company: string;
  phones: PhoneRow[];
  emails: EmailRow[];
  tags: string[];
}

export function formFrom(c: ContactDetailOut): ContactForm {
  return {
    name: c.name,
    company: c.company,
    phones: c.phones.map((p) => ({ id: p.id, number: p.e164, label: p.label })),
    emails: c.emails.map((e) => ({ id: e.id, address: e.address, label: e.label })),
    tags: c.tags.slice(),
  };
}

/** The PATCH body: full phone/email lists (ids kept), blank rows dropped. */
export function patchFrom(form: ContactForm): ContactPatch {
  return {
    name: form.name.trim(),
    company: form.company.trim(),
    phones: form.phones
      .filter((p) => p.number.trim())
      .map((p) => (p.id ? { id: p.id, number: p.number.trim(), label: p.label.trim() } : { number: p.number.trim(), label: p.label.trim() })),
    emails: form.emails
      .filter((e) => e.address.trim())
      .map((e) => (e.id ? { id: e.id, address: e.address.trim(), label: e.label.trim() } : { address: e.address.trim(), label: e.label.trim() })),
    tags: form.tags,
  };
}

/** Field errors keyed by the server's field path, re-indexed to the form's rows (the
 * server numbers only the non-blank rows it received). */
export function mapFieldErrors(errors: Record<string, string>, form: ContactForm): Record<string, string> {
  const out: Record<string, string> = {};
  const index = (list: { blank: boolean }[], sent: number) => {
    let seen = -1;
    for (let i = 0; i < list.length; i++) {
      if (!list[i].blank) seen++;
      if (seen === sent) return i;
    }
    return sent;
  };
  const phones = form.phones.map((p) => ({ blank: !p.number.trim() }));
  const emails = form.emails.map((e) => ({ blank: !e.address.trim() }));
  for (const [key, msg] of Object.entries(errors)) {
    const m = /^(phones|emails)\.(\d+)(?:\.(\w+))?$/.exec(key);
    if (m) {
      const i = index(m[1] === "phones" ? phones : emails, Number(m[2]));
      out[`${m[1]}.${i}.${m[3] ?? (m[1] === "phones" ? "number" : "address")}`] = msg;
    } else {
      out[key] = msg;
    }
  }
  return out;
}

/** "vip, lead" typed into the tag box → new tags, without duplicates. */
export function addTags(tags: string[], input: string): string[] {
  const out = tags.slice();
  for (const raw of input.split(",")) {
    const t = raw.trim();
    if (t && !out.some((x) => x.toLowerCase() === t.toLowerCase())) out.push(t);
  }
  return out;
}
