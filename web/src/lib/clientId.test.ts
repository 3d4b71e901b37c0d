import { afterEach, describe, expect, it, vi } from "vitest";
import { newClientId } from "./clientId";

describe("newClientId", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("is a fresh UUID each time", () => {
    const a = newClientId();
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newClientId()).not.toBe(a);
  });

  it("is still unique where the browser has no randomUUID", () => {
    vi.stubGlobal("crypto", {});
    const a = newClientId();
    expect(a).toMatch(/^c-/);
    expect(newClientId()).not.toBe(a);
  });
});
