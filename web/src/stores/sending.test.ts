import { describe, expect, it } from "vitest";
import { conversation, message } from "../realtime/fixtures";
import { FakeWs, me, useFakeServer } from "./fakeServer";
import { createInboxStore } from "./inbox";

describe("the sending store", () => {
  const srv = useFakeServer();

  it("shows a message at once and swaps in the stored one", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    await inbox.thread.open(1);
    const sending = inbox.sending.send(1, { channel: "sms", body: "On my way" });
    expect(inbox.live.value.thread.at(-1)).toMatchObject({ body: "On my way", status: "sending" });
    expect(inbox.live.value.thread.at(-1)!.id).toBeLessThan(0);
    await sending;
    expect(inbox.live.value.thread.map((m) => m.id)).toEqual([1, 101]);
    inbox.stop();
  });

  it("keeps a refused message in the thread with the reason", async () => {
    srv.state.failSend = { status: 422, code: "contact_opted_out", message: "This contact opted out of SMS." };
    const inbox = createInboxStore(me);
    await inbox.start();
    await inbox.thread.open(1);
    await expect(inbox.sending.send(1, { channel: "sms", body: "Hello?" })).rejects.toThrow("opted out");
    expect(inbox.live.value.thread.at(-1)).toMatchObject({ status: "failed", error_code: "contact_opted_out" });
    inbox.stop();
  });

  it("retries a send whose answer was lost with the same key, so it is sent once", async () => {
    srv.state.loseAnswers = 1;
    const inbox = createInboxStore(me);
    await inbox.start();
    await inbox.thread.open(1);
    await expect(inbox.sending.send(1, { channel: "sms", body: "Lost on the way" })).rejects.toThrow();
    const failed = inbox.live.value.thread.at(-1)!;
    expect(failed).toMatchObject({ status: "failed", error_code: "network", body: "Lost on the way" });
    await inbox.sending.retry(failed);
    expect(srv.state.sent).toHaveLength(1);
    expect(srv.state.sendKeys).toEqual([failed.client_id, failed.client_id]);
    expect(inbox.live.value.thread.map((m) => [m.id, m.body])).toEqual([[1, expect.anything()], [101, "Lost on the way"]]);
    inbox.stop();
  });

  it("counts a send as sent when its stored copy arrived though the answer was lost", async () => {
    srv.state.loseAnswers = 1;
    const inbox = createInboxStore(me);
    await inbox.start();
    await inbox.thread.open(1);
    FakeWs.all[0].frame({ type: "hello", seq: 5 });
    const sending = inbox.sending.send(1, { channel: "sms", body: "Heard live" });
    const copy = inbox.live.value.thread.at(-1)!;
    // The message.created event beats the lost answer.
    FakeWs.all[0].frame({
      type: "message.created",
      account_id: 1,
      seq: 6,
      data: { message: message(101, 1, { direction: "out", body: "Heard live", client_id: copy.client_id }), conversation: conversation(1) },
    });
    await expect(sending).resolves.toMatchObject({ id: 101 });
    expect(inbox.live.value.thread.map((m) => [m.id, m.status])).toEqual([[1, expect.anything()], [101, expect.anything()]]);
    expect(inbox.live.value.thread.some((m) => m.status === "failed")).toBe(false);
    inbox.stop();
  });

  it("shows an email's Cc at once and retries it with the same Cc and key", async () => {
    srv.state.loseAnswers = 1;
    const inbox = createInboxStore(me);
    await inbox.start();
    await inbox.thread.open(1);
    const draft = { channel: "email" as const, body: "Your quote", subject: "Quote", cc: ["boss@acme.example"], bcc: ["files@us.example"] };
    const sending = inbox.sending.send(1, draft);
    expect(inbox.live.value.thread.at(-1)!.email).toEqual({ cc: ["boss@acme.example"], bcc: ["files@us.example"] });
    await expect(sending).rejects.toThrow();
    const failed = inbox.live.value.thread.at(-1)!;
    await inbox.sending.retry(failed);
    expect(srv.state.sendKeys).toEqual([failed.client_id, failed.client_id]);
    expect(srv.state.sent).toEqual([expect.objectContaining({ cc: ["boss@acme.example"], bcc: ["files@us.example"], client_id: failed.client_id })]);
    inbox.stop();
  });
});
