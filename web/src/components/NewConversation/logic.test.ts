import { describe, expect, it } from "vitest";
import { classify, contactFromTyped } from "./logic";

describe("classify", () => {
  it("recognises phones, emails and names", () => {
    expect(classify(" +1 (415) 555-0100 ")).toEqual({ kind: "phone", value: "+1 (415) 555-0100" });
    expect(classify("ann@example.com").kind).toBe("email");
    expect(classify("Ann Lee").kind).toBe("name");
    expect(classify("12").kind).toBe("name");
  });
  it("builds the contact to create", () => {
    expect(contactFromTyped({ kind: "email", value: "a@b.co" })).toEqual({ emails: [{ address: "a@b.co" }] });
    expect(contactFromTyped({ kind: "name", value: "Bo" })).toEqual({ name: "Bo" });
  });
});
