import { describe, expect, it } from "vitest";
import { createRetryKey } from "./retryKey";

describe("createRetryKey", () => {
  it("keeps the key while the same thing is submitted again", () => {
    const keys = createRetryKey();
    const first = keys.keyFor({ name: "Ada", phones: [{ number: "+14155550100" }] });
    expect(keys.keyFor({ name: "Ada", phones: [{ number: "+14155550100" }] })).toBe(first);
  });

  it("takes a new key for a changed submission, and once it was created", () => {
    const keys = createRetryKey();
    const first = keys.keyFor({ name: "Ada" });
    const changed = keys.keyFor({ name: "Ada L." });
    expect(changed).not.toBe(first);
    keys.done();
    expect(keys.keyFor({ name: "Ada L." })).not.toBe(changed);
  });
});
