import { compression, defineAlgorithm } from "vite-plugin-compression2";
import { defineConfig } from "vitest/config";

// The build lands in the Python package, which serves index.html at "/" (and any
// non-API path) and the hashed files at "/assets/*". Each file also gets .br and .gz
// twins, compressed once here at the highest levels (too slow per request), which the
// server picks by the browser's Accept-Encoding (parlour/webapp.py).
export default defineConfig({
  base: "/",
  plugins: [
    compression({
      algorithms: [
        defineAlgorithm("brotliCompress", {}),
        defineAlgorithm("gzip", { level: 9 }),
      ],
      include: /\.(js|css|html|svg|json)$/,
      threshold: 0,
      logLevel: "silent",
    }),
  ],
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  resolve: {
    alias: { react: "preact/compat", "react-dom": "preact/compat" },
  },
  build: {
    outDir: "../parlour/static/app",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2020",
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
  server: {
    port: 5173,
    proxy: {
      "/api": { target: "http://127.0.0.1:8000", ws: true },
      "/widget.js": "http://127.0.0.1:8000",
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
