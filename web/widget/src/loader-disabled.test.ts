import { expect, it, vi } from "vitest";
import { settle } from "./fake";

it("shows no launcher when the widget is disabled or the origin is refused", async () => {
  const calls: string[] = [];
  vi.stubGlobal("fetch", async (input: RequestInfo | URL) => {
    calls.push(String(input));
    return new Response(JSON.stringify({ code: "widget_disabled", message: "Disabled", details: null }), { status: 403 });
  });
  vi.spyOn(console, "info").mockImplementation(() => {});
  const script = document.createElement("script");
  script.src = "https://chat.example/widget.js";
  script.dataset.parlourWidget = "pub-off";
  document.head.append(script);
  await import("./loader");
  await settle(10);
  expect(calls).toEqual(["https://chat.example/widget/v1/pub-off/config"]);
  expect(document.querySelector("parlour-widget")).toBeNull();
  expect(localStorage.getItem("parlour-widget:pub-off")).toBeNull();
});
