// The id a client gives a message it sends, so that the stored copy (in the answer and in
// the live event) replaces the optimistic one instead of showing twice.

export function newClientId(): string {
  const c = globalThis.crypto;
  if (c && "randomUUID" in c) return c.randomUUID();
  return `c-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
