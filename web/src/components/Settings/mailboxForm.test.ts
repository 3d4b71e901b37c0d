import { describe, expect, it } from "vitest";
import type { MailboxOut } from "../../api/schemas";
import { checkForm, createOf, defaultPort, formOf, patchOf, pollState, webhookUrl, type MailboxForm } from "./mailboxForm";

function mailbox(over: Partial<MailboxOut> = {}): MailboxOut {
  return {
    id: 1,
    address: "support@acme.example",
    name: "Acme Support",
    provider: "smtp",
    enabled: true,
    smtp_host: "smtp.acme.example",
    smtp_port: null,
    smtp_security: "starttls",
    smtp_username: "support",
    smtp_password_set: true,
    signature: "Ann\nAcme",
    inbound_webhook_path: "/webhooks/email/tok",
    imap_host: null,
    imap_port: null,
    imap_security: null,
    imap_username: null,
    imap_password_set: false,
    imap_folder: null,
    imap_checked_at: null,
    imap_error: null,
    ...over,
  };
}

function edit(f: MailboxForm, change: (f: MailboxForm) => void): MailboxForm {
  const copy: MailboxForm = structuredClone(f);
  change(copy);
  return copy;
}

describe("defaultPort", () => {
  it("follows the security, as the server does", () => {
    expect([defaultPort("smtp", "starttls"), defaultPort("smtp", "tls"), defaultPort("smtp", "none")]).toEqual([587, 465, 25]);
    expect([defaultPort("imap", "tls"), defaultPort("imap", "starttls"), defaultPort("imap", "none")]).toEqual([993, 143, 143]);
  });
});

describe("patchOf", () => {
  const before = formOf(mailbox());

  it("sends nothing when nothing changed, and only what changed otherwise", () => {
    expect(patchOf(before, formOf(mailbox()))).toEqual({});
    const after = edit(before, (f) => {
      f.name = "Acme Help";
      f.smtp.port = "2525";
      f.signature = "Ann";
    });
    expect(patchOf(before, after)).toEqual({ name: "Acme Help", smtp_port: 2525, signature: "Ann" });
  });

  it("keeps the saved password unless a new one is typed or it is forgotten", () => {
    expect(patchOf(before, edit(before, (f) => (f.smtp.password = { value: "s3cret", forget: false })))).toEqual({ smtp_password: "s3cret" });
    expect(patchOf(before, edit(before, (f) => (f.smtp.password = { value: "", forget: true })))).toEqual({ smtp_password: null });
  });

  it("removes a relay with its host alone, which the server requires", () => {
    const after = edit(before, (f) => {
      f.smtp.host = " ";
      f.smtp.username = "";
    });
    expect(patchOf(before, after)).toEqual({ smtp_host: null });
  });

  it("adds an IMAP account with its folder, and an emptied port goes back to the default", () => {
    const after = edit(before, (f) => {
      f.imap.host = "imap.acme.example";
      f.imap.username = "support";
      f.imap.password = { value: "pw", forget: false };
      f.imap.folder = "Support";
    });
    expect(patchOf(before, after)).toEqual({ imap_host: "imap.acme.example", imap_username: "support", imap_password: "pw", imap_folder: "Support" });
    const withPort = formOf(mailbox({ smtp_port: 2525 }));
    expect(patchOf(withPort, edit(withPort, (f) => (f.smtp.port = "")))).toEqual({ smtp_port: null });
  });

  it("shows a default port empty, so it follows the security; a port typed stays", () => {
    const stored = formOf(mailbox({ smtp_port: 587 }));
    expect(stored.smtp.port).toBe("");
    expect(patchOf(stored, edit(stored, (f) => (f.smtp.security = "tls")))).toEqual({ smtp_security: "tls" });
    const custom = formOf(mailbox({ smtp_port: 2525 }));
    expect(patchOf(custom, edit(custom, (f) => (f.smtp.security = "none")))).toEqual({ smtp_security: "none", smtp_port: 2525 });
  });
});

describe("createOf", () => {
  it("sends the servers that have a host, and leaves defaults out", () => {
    const f = edit(formOf(), (f) => {
      f.address = " help@acme.example ";
      f.smtp.host = "smtp.acme.example";
      f.smtp.security = "tls";
      f.imap.port = "993";
    });
    expect(createOf(f)).toEqual({
      address: "help@acme.example",
      name: "",
      enabled: true,
      smtp_host: "smtp.acme.example",
      smtp_security: "tls",
    });
  });
});

describe("checkForm", () => {
  it("refuses a port that is not a number from 1 to 65535", () => {
    const f = edit(formOf(), (f) => {
      f.smtp.port = "70000";
      f.imap.port = "abc";
    });
    expect(Object.keys(checkForm(f))).toEqual(["smtp_port", "imap_port"]);
    expect(checkForm(formOf(mailbox({ smtp_port: 465 })))).toEqual({});
  });
});

describe("webhookUrl and pollState", () => {
  it("makes the webhook a full URL on this server", () => {
    expect(webhookUrl("https://parlour.acme.example/", "/webhooks/email/tok")).toBe("https://parlour.acme.example/webhooks/email/tok");
  });
  it("tells how the last poll went", () => {
    expect(pollState(mailbox())).toBe("off");
    expect(pollState(mailbox({ imap_host: "imap.x" }))).toBe("waiting");
    expect(pollState(mailbox({ imap_host: "imap.x", imap_checked_at: "2026-12-01T10:00:00Z" }))).toBe("ok");
    expect(pollState(mailbox({ imap_host: "imap.x", imap_checked_at: "2026-12-01T10:00:00Z", imap_error: "Login failed" }))).toBe("error");
  });
});
