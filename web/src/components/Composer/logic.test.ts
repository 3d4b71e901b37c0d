import { describe, expect, it } from "vitest";
import type { ChannelOptions } from "../../api/schemas";
import {
  addressError,
  countSms,
  defaultChannel,
  isSendShortcut,
  onlySignature,
  parseAddresses,
  pickEndpoint,
  recipientErrors,
  replySubject,
  signatureHtml,
} from "./logic";

describe("countSms", () => {
  it("counts GSM-7 text in 160/153 septet segments", () => {
    expect(countSms("")).toMatchObject({ segments: 0, remaining: 160 });
    expect(countSms("a".repeat(160))).toMatchObject({ encoding: "GSM-7", segments: 1, remaining: 0 });
    expect(countSms("a".repeat(161))).toMatchObject({ segments: 2, remaining: 145 });
  });

  it("counts extension characters twice", () => {
    expect(countSms("€[]").units).toBe(6);
  });

  it("switches to UCS-2 for emoji and other scripts", () => {
    expect(countSms("Hi 😀")).toMatchObject({ encoding: "UCS-2", units: 5, segments: 1, remaining: 65 });
    expect(countSms("я".repeat(71))).toMatchObject({ segments: 2, perSegment: 67 });
  });
});

const options: ChannelOptions = {
  conversation_id: 1,
  contact_id: 1,
  channels: [
    { channel: "sms", available: false, reason: "Contact opted out", reason_code: "contact_opted_out", senders: [], recipients: [], default_sender_id: null, default_recipient_id: null },
    { channel: "webchat", available: true, reason: null, reason_code: null, senders: [], recipients: [], default_sender_id: null, default_recipient_id: null },
    { channel: "email", available: true, reason: null, reason_code: null, senders: [], recipients: [], default_sender_id: null, default_recipient_id: null },
  ],
};

describe("defaultChannel", () => {
  it("prefers the last used channel, then the preferred one, then the first usable", () => {
    expect(defaultChannel(options, "email", "webchat")).toBe("email");
    expect(defaultChannel(options, "sms", "email")).toBe("email");
    expect(defaultChannel(options, "sms", "sms")).toBe("webchat");
  });
});

describe("pickEndpoint", () => {
  const list = [
    { id: 1, usable: false },
    { id: 2, usable: true },
    { id: 3, usable: true },
  ];
  it("keeps a usable choice and falls back otherwise", () => {
    expect(pickEndpoint(list, 3, 2)).toBe(3);
    expect(pickEndpoint(list, 1, 2)).toBe(2);
    expect(pickEndpoint(list, null, null)).toBe(2);
  });
});

describe("isSendShortcut", () => {
  const key = (over: Partial<{ key: string; shiftKey: boolean; ctrlKey: boolean; metaKey: boolean }>) => ({
    key: "Enter", shiftKey: false, ctrlKey: false, metaKey: false, ...over,
  });
  it("sends on Enter and Ctrl+Enter, not Shift+Enter", () => {
    expect(isSendShortcut(key({}))).toBe(true);
    expect(isSendShortcut(key({ ctrlKey: true }))).toBe(true);
    expect(isSendShortcut(key({ shiftKey: true }))).toBe(false);
    expect(isSendShortcut(key({ key: "a" }))).toBe(false);
  });
});

describe("replySubject", () => {
  it("answers the thread's last email subject with one Re:", () => {
    const m = (id: number, channel: "sms" | "email", subject: string | null) => ({ id, channel, subject });
    expect(replySubject([m(1, "email", "Your order"), m(2, "sms", null)])).toBe("Re: Your order");
    expect(replySubject([m(1, "email", "RE: Your order")])).toBe("RE: Your order");
    expect(replySubject([m(1, "sms", null)])).toBe("");
  });
});

describe("parseAddresses", () => {
  it("splits on commas, semicolons and spaces, keeps each address once, and names the rest", () => {
    expect(parseAddresses("a@x.com, b@y.org; A@x.com  c@z.io")).toEqual({ addresses: ["a@x.com", "b@y.org", "c@z.io"], invalid: [] });
    expect(parseAddresses("Ann Smith <ann@x.com>, bob")).toEqual({ addresses: ["ann@x.com"], invalid: ["bob"] });
    expect(parseAddresses("  ")).toEqual({ addresses: [], invalid: [] });
  });
  it("says what is wrong", () => {
    expect(addressError("a@x.com")).toBeNull();
    expect(addressError("a@x.com, nope")).toBe("“nope” is not an email address.");
    expect(addressError("x y@z")).toBe("These are not email addresses: x, y@z.");
  });
  it("pins the server's errors to the Cc or Bcc field", () => {
    expect(recipientErrors({ "cc.1": "value is not an email", body: "x", bcc: "too many" })).toEqual({ cc: "value is not an email", bcc: "too many" });
  });
});

describe("signature", () => {
  it("starts a new email with two empty lines, '-- ' and the signature", () => {
    expect(signatureHtml("Ann\nAcme <Support>")).toBe("<div><br></div><div><br></div><div>--&nbsp;</div><div>Ann</div><div>Acme &lt;Support&gt;</div>");
    expect(signatureHtml("  ")).toBe("");
  });
  it("tells a body that is only the signature from one the agent wrote", () => {
    expect(onlySignature("", "Ann")).toBe(true);
    expect(onlySignature("--\u00a0\nAnn\nAcme", "Ann\nAcme")).toBe(true);
    expect(onlySignature("Hello\n\n-- \nAnn", "Ann")).toBe(false);
    expect(onlySignature("Hello", "")).toBe(false);
  });
});
