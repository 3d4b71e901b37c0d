import { describe, expect, it } from "vitest";
import { addTags, mapFieldErrors, patchFrom, type ContactForm } from "./logic";

const form: ContactForm = {
  name: " Ann Lee ",
  company: "Acme",
  phones: [
    { id: 1, number: "+14155550100", label: "Mobile" },
    { number: "", label: "" },
    { number: "555 0101", label: "Work" },
  ],
  emails: [{ address: "ann@example.com", label: "" }],
  tags: ["vip"],
};

describe("patchFrom", () => {
  it("sends full lists with ids for kept rows and drops blank rows", () => {
    expect(patchFrom(form)).toEqual({
      name: "Ann Lee",
      company: "Acme",
      phones: [
        { id: 1, number: "+14155550100", label: "Mobile" },
        { number: "555 0101", label: "Work" },
      ],
      emails: [{ address: "ann@example.com", label: "" }],
      tags: ["vip"],
    });
  });
});

describe("mapFieldErrors", () => {
  it("points a server error at the row the agent typed", () => {
    expect(mapFieldErrors({ "phones.1.number": "Not a phone number" }, form)).toEqual({
      "phones.2.number": "Not a phone number",
    });
    expect(mapFieldErrors({ "emails.0": "Taken" }, form)).toEqual({ "emails.0.address": "Taken" });
    expect(mapFieldErrors({ name: "Too long" }, form)).toEqual({ name: "Too long" });
  });
});

describe("addTags", () => {
  it("splits on commas and ignores duplicates", () => {
    expect(addTags(["vip"], "lead, VIP , ,new")).toEqual(["vip", "lead", "new"]);
  });
});
