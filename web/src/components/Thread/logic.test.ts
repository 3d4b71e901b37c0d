import { describe, expect, it } from "vitest";
import { message } from "../../realtime/fixtures";
import { endpointText, keepPosition, lastChannel, sideOf, threadItems } from "./logic";

describe("sideOf", () => {
  it("puts the prospect left, employees and workflows right", () => {
    expect(sideOf(message(1, 1))).toBe("left");
    expect(sideOf(message(2, 1, { direction: "out", sender: { type: "user", user_id: 1, name: "Sam", initials: "S" } }))).toBe("right");
    expect(sideOf(message(3, 1, { direction: "out", sender: { type: "bot", workflow_id: 4, name: "Welcome", initials: "🤖" } }))).toBe("right");
  });
});

describe("threadItems", () => {
  it("adds a separator per day and starts a run on a new sender", () => {
    const msgs = [
      message(1, 1, { created_at: "2026-11-01T10:00:00Z" }),
      message(2, 1, { created_at: "2026-11-01T10:01:00Z" }),
      message(3, 1, { created_at: "2026-11-01T10:02:00Z", direction: "out", sender: { type: "user", user_id: 1, name: "Sam", initials: "S" } }),
      message(4, 1, { created_at: "2026-11-03T10:02:00Z" }),
    ];
    const items = threadItems(msgs);
    expect(items.map((i) => (i.kind === "day" ? "day" : `${i.message!.id}${i.first ? "*" : ""}`))).toEqual([
      "day", "1*", "2", "3*", "day", "4*",
    ]);
  });
});

describe("endpointText", () => {
  it("names both SMS numbers", () => {
    expect(endpointText(message(1, 1, { from_address: "+14155550199", to_address: "+14155550100" }))).toBe(
      "From +1 (415) 555-0199 to +1 (415) 555-0100",
    );
  });
  it("names email addresses", () => {
    expect(endpointText(message(1, 1, { channel: "email", from_address: "a@x.com", to_address: "b@y.com" }))).toBe("From a@x.com to b@y.com");
  });
});

describe("lastChannel", () => {
  it("is the channel of the newest stored message", () => {
    expect(lastChannel([message(1, 1, { channel: "email" }), message(2, 1, { channel: "webchat" })])).toBe("webchat");
    expect(lastChannel([])).toBeNull();
  });
});

describe("keepPosition", () => {
  it("moves down by the height added above", () => {
    expect(keepPosition(10, 1000, 3000)).toBe(2010);
  });
});
