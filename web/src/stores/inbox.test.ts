import { describe, expect, it } from "vitest";
import { me, useFakeServer } from "./fakeServer";
import { createInboxStore } from "./inbox";

describe("createInboxStore", () => {
  useFakeServer();

  it("loads the panel newest first and opens a thread", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    expect(inbox.panel.items.value.map((c) => c.id)).toEqual([2, 1]);
    await inbox.thread.open(1);
    expect(inbox.live.value.thread.map((m) => m.id)).toEqual([1]);
    inbox.stop();
  });
});
