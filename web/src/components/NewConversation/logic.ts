// What the agent typed into "new conversation": a phone, an email or a name.

import type { ContactIn } from "../../api/schemas";

export type Typed = { kind: "phone" | "email" | "name"; value: string };

export function classify(input: string): Typed {
  const value = input.trim();
  if (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) return { kind: "email", value };
  const digits = value.replace(/[\s().-]/g, "");
  if (/^\+?\d{6,15}$/.test(digits)) return { kind: "phone", value };
  return { kind: "name", value };
}

export function contactFromTyped(t: Typed): ContactIn {
  if (t.kind === "email") return { emails: [{ address: t.value }] };
  if (t.kind === "phone") return { phones: [{ number: t.value }] };
  return { name: t.value };
}
