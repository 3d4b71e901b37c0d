import { describe, expect, it } from "vitest";
import { ApiError } from "../api";
import { errorText } from "./errors";

describe("errorText", () => {
  it("shows the server's message", () => {
    const err = new ApiError(422, { code: "contact_opted_out", message: "This contact opted out of SMS." });
    expect(errorText(err)).toBe("This contact opted out of SMS.");
  });

  it("says the server cannot be reached when fetch itself failed", () => {
    expect(errorText(new TypeError("Failed to fetch"))).toBe("Cannot reach the server. Check your connection.");
  });

  it("shows any other error's message, or the value itself", () => {
    expect(errorText(new Error("Boom"))).toBe("Boom");
    expect(errorText("plain")).toBe("plain");
  });
});
