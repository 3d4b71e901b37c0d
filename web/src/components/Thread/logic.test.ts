import { describe, expect, it } from "vitest";
import { message } from "../../realtime/fixtures";
import {
  emailCsp,
  emailDocument,
  emailHtml,
  endpointText,
  failureText,
  hasQuoted,
  inlineCids,
  keepPosition,
  lastChannel,
  quotedTextShown,
  sideOf,
  threadItems,
} from "./logic";

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

describe("email HTML", () => {
  it("points cid: images at their attachments and leaves unknown names alone", () => {
    const html = '<img src="cid:logo@acme"><img src="cid:other"><p>cid: is a scheme</p>';
    expect(inlineCids(html, { "logo@acme": "/api/v1/attachments/7" })).toBe(
      '<img src="/api/v1/attachments/7"><img src="cid:other"><p>cid: is a scheme</p>',
    );
  });

  it("allows images from this server only, and from anywhere once allowed", () => {
    expect(emailCsp("https://p.example", false)).toBe(
      "default-src 'none'; img-src data: blob: https://p.example; style-src 'unsafe-inline'; font-src data:",
    );
    expect(emailCsp("https://p.example", true)).toContain("img-src data: blob: https://p.example https: http:;");
    expect(emailDocument("<p>Hi</p>", { origin: "https://p.example" })).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data: blob: https://p.example;`,
    );
  });

  const reply = message(5, 1, {
    channel: "email",
    body: "Yes, Tuesday works.",
    html: "<p>Yes, Tuesday works.</p>",
    email: {
      quoted_text: "> Does Tuesday work?",
      full_html: '<p>Yes, Tuesday works.</p><blockquote>Does Tuesday work? <img src="cid:a"></blockquote>',
      inline_images: { a: "/api/v1/attachments/3" },
    },
  });

  it("shows the new part, and the whole email when the quoted text is shown", () => {
    expect(hasQuoted(reply.email)).toBe(true);
    expect(hasQuoted({ quoted_text: " " })).toBe(false);
    expect(emailHtml(reply, false)).toBe("<p>Yes, Tuesday works.</p>");
    expect(emailHtml(reply, true)).toBe('<p>Yes, Tuesday works.</p><blockquote>Does Tuesday work? <img src="/api/v1/attachments/3"></blockquote>');
    // The whole HTML holds the history already; a text email shows it below.
    expect(quotedTextShown(reply, true)).toBeNull();
    const text = { ...reply, html: null, email: { quoted_text: "> Does Tuesday work?" } };
    expect(emailHtml(text, true)).toBeNull();
    expect(quotedTextShown(text, false)).toBeNull();
    expect(quotedTextShown(text, true)).toBe("> Does Tuesday work?");
  });
});

describe("failureText", () => {
  const failed = message(9, 1, { channel: "email", direction: "out", status: "failed", error_code: "smtp_refused", error_message: "Mailbox unavailable" });
  it("says why a bounce came back instead of the generic failure", () => {
    expect(failureText(failed)).toBe("Not delivered: Mailbox unavailable (smtp_refused)");
    expect(failureText({ ...failed, email: { bounce: { reason: "The address does not exist", status: "5.1.1" } } })).toBe(
      "Bounced: The address does not exist",
    );
    expect(failureText({ ...failed, status: "sent" })).toBeNull();
  });
});
