import { describe, expect, it } from "vitest";
import type { ChannelOption, ContactOut } from "../api/schemas";
import { FakeWs, me, useFakeServer } from "./fakeServer";
import { createInboxStore } from "./inbox";

describe("the contact store", () => {
  const srv = useFakeServer();

  it("shows the latest communication options when an earlier answer comes back last", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    await inbox.thread.open(1);
    let release = () => {};
    srv.state.holdChannels = new Promise<void>((r) => (release = r));
    const earlier = inbox.contact.refreshChannels(1); // asked before the contact's SMS number was added
    srv.state.holdChannels = null;
    const sms: ChannelOption = { channel: "sms", available: true, reason: null, reason_code: null, senders: [], recipients: [], default_sender_id: null, default_recipient_id: null };
    srv.state.channels = [sms];
    await inbox.contact.refreshChannels(1);
    release();
    await earlier;
    expect(inbox.contact.channelOptions.value?.channels).toEqual([sms]);
    inbox.stop();
  });

  it("keeps a contact edit whose event arrived while the contact was being fetched", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    await inbox.thread.open(1);
    FakeWs.all[0].frame({ type: "hello", seq: 5 });
    const loading = inbox.contact.load(10);
    const renamed = { id: 10, name: "Renamed", company: "", avatar_url: null, initials: "R", preferred_channel: null, phones: [], emails: [], tags: [], created_at: "", updated_at: "2026-11-01T10:00:00Z" } as ContactOut;
    FakeWs.all[0].frame({ type: "contact.updated", account_id: 1, seq: 6, data: { contact: renamed } });
    await loading; // answers with the copy from before the edit
    expect(inbox.contact.details.value?.name).toBe("Renamed");
    expect(inbox.contact.details.value?.notes).toEqual([]);
    inbox.stop();
  });
});
