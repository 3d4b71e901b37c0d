import { defineConfig } from "vitest/config";

export default defineConfig({
  define: { __PW_WINDOW__: JSON.stringify("assets/window-test.js") },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "happy-dom",
    // The loader test adds a <script src=…/widget.js> tag only for the loader to find.
    environmentOptions: { happyDOM: { settings: { handleDisabledFileLoadingAsSuccess: true } } },
  },
});
