import { describe, expect, it } from "vitest";
import { me, useFakeServer } from "./fakeServer";
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
});
