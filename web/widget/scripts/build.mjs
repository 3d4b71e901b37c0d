// Two builds into parlour/static/widget: first the window chunk (loaded when the visitor
// opens the chat, hashed name, long-cached), then the loader widget.js (short-cached),
// which is told the chunk's file name. Both are classic IIFE scripts: the loader adds the
// chunk as a <script src> on the host page, so no CORS or module loading is involved.
import { resolve } from "node:path";
import { build } from "vite";
import { compression, defineAlgorithm } from "vite-plugin-compression2";

const root = new URL("..", import.meta.url).pathname;
const outDir = resolve(root, "../../parlour/static/widget");
// .br and .gz twins of each file, compressed once at the highest levels, which the server
// picks by the visitor's Accept-Encoding (parlour/webapp.py).
const precompress = compression({
  algorithms: [defineAlgorithm("brotliCompress", {}), defineAlgorithm("gzip", { level: 9 })],
  include: /\.js$/,
  threshold: 0,
  logLevel: "silent",
});
const common = { configFile: false, root, logLevel: "warn", publicDir: false, plugins: [precompress] };
const options = (input, entryFileNames, emptyOutDir) => ({
  outDir,
  emptyOutDir,
  target: "es2019",
  sourcemap: false,
  modulePreload: false,
  copyPublicDir: false,
  rollupOptions: { input: resolve(root, input), output: { format: "iife", entryFileNames } },
});

const first = (out) => (Array.isArray(out) ? out[0] : out);
const win = first(await build({ ...common, build: options("src/window.ts", "assets/window-[hash].js", true) }));
const chunk = win.output.find((o) => o.type === "chunk" && o.isEntry);
await build({
  ...common,
  define: { __PW_WINDOW__: JSON.stringify(chunk.fileName) },
  build: options("src/loader.ts", "widget.js", false),
});
console.log(`built widget.js and ${chunk.fileName} into ${outDir}`);
