// The Idempotency-Key of something a person creates with a form (a contact, a note): the
// same key while they submit the same thing again, as they do after "Cannot reach the
// server", so that a create whose answer was lost is not made twice; a new key once it
// was created, or once they changed what they submit.

import { newClientId } from "./clientId";

export function createRetryKey() {
  let last: { request: string; key: string } | null = null;
  return {
    /** The key for submitting `request` (anything JSON can hold: what makes it the same). */
    keyFor(request: unknown): string {
      const text = JSON.stringify(request);
      if (last?.request !== text) last = { request: text, key: newClientId() };
      return last.key;
    },
    /** It was created: submitting the same again is meant to make another one. */
    done(): void {
      last = null;
    },
  };
}

export type RetryKey = ReturnType<typeof createRetryKey>;
