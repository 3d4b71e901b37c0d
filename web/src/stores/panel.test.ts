import { describe, expect, it } from "vitest";
import type { ViewOut } from "../api/schemas";
import { me, useFakeServer } from "./fakeServer";
import { createInboxStore } from "./inbox";

describe("the panel store", () => {
  const srv = useFakeServer();

  it("shows the latest views when an earlier answer comes back last", async () => {
    const inbox = createInboxStore(me);
    await inbox.start();
    let release = () => {};
    srv.state.holdViews = new Promise<void>((r) => (release = r));
    const earlier = inbox.panel.loadViews(); // asked before the view below was saved
    srv.state.holdViews = null;
    const mine: ViewOut = { id: "v1", name: "VIP", builtin: false, filters: { status: "open", tag: "vip" }, count: 1 };
    srv.state.views = [...srv.state.views, mine];
    await inbox.panel.loadViews();
    release();
    await earlier;
    expect(inbox.panel.views.value.map((v) => v.id)).toEqual(["all", "v1"]);
    inbox.stop();
  });
});
