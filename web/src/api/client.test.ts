import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, fieldErrorsOf, request, setCsrfToken, withQuery } from "./client";

describe("fieldErrorsOf", () => {
  it("reads FastAPI validation details as field → message", () => {
    const err = new ApiError(422, {
      code: "validation_error",
      message: "Some fields are missing or invalid.",
      details: [{ field: "emails.0.address", message: "String should match pattern" }],
    });
    expect(fieldErrorsOf(err)).toEqual({ "emails.0.address": "String should match pattern" });
  });

  it("reads a domain error pinned to one field", () => {
    const err = new ApiError(422, { code: "invalid_phone", message: "'12' is not a phone number.", details: { field: "phones.1.number" } });
    expect(err.fieldErrors()).toEqual({ "phones.1.number": "'12' is not a phone number." });
  });

  it("has nothing to say when the error is not about a field", () => {
    expect(fieldErrorsOf(new ApiError(409, { code: "duplicate_phone", message: "Taken", details: { phone: "+1" } }))).toEqual({});
  });
});

describe("request", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    setCsrfToken("");
  });

  it("sends the CSRF token on writes only, and turns error bodies into ApiError", async () => {
    const calls: [string, RequestInit][] = [];
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      calls.push([url, init]);
      if (init.method === "POST") {
        return new Response(JSON.stringify({ code: "body_required", message: "Write a message first.", details: { field: "body" } }), { status: 422 });
      }
      return new Response(JSON.stringify({ ok: true }), { status: 200 });
    });
    setCsrfToken("tok");
    await request("GET", "/views");
    await expect(request("POST", "/conversations/1/messages", { body: { channel: "sms", body: "" } })).rejects.toMatchObject({
      status: 422,
      code: "body_required",
    });
    expect((calls[0][1].headers as Record<string, string>)["X-CSRF-Token"]).toBeUndefined();
    expect((calls[1][1].headers as Record<string, string>)["X-CSRF-Token"]).toBe("tok");
    expect(calls[1][0]).toBe("/api/v1/conversations/1/messages");
  });

  it("leaves empty query values out", () => {
    expect(withQuery("/conversations", { view: "all", q: "", cursor: null, limit: 50 })).toBe("/conversations?view=all&limit=50");
  });
});
