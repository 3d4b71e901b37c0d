// The widget's budget: everything a host page loads before the visitor opens the window
// (the loader widget.js) must stay ≤ 20 KB gzipped. Exits 1 when over (make test runs it).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET = 20 * 1024;
const dir = new URL("../../../parlour/static/widget/", import.meta.url).pathname;
const gz = (file) => {
  const data = readFileSync(join(dir, file));
  return [data.length, gzipSync(data, { level: 9 }).length];
};
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const [loaderRaw, loaderGz] = gz("widget.js");
console.log(`widget.js (before open)      ${kb(loaderRaw).padStart(9)}  ${kb(loaderGz).padStart(8)} gzipped`);
let afterGz = loaderGz;
// Only the scripts: the .br and .gz twins beside them are the same bytes, compressed.
for (const name of readdirSync(join(dir, "assets")).filter((n) => n.endsWith(".js"))) {
  const [raw, g] = gz(join("assets", name));
  afterGz += g;
  console.log(`assets/${name.padEnd(22)} ${kb(raw).padStart(9)}  ${kb(g).padStart(8)} gzipped (on open)`);
}
console.log(`before open: ${kb(loaderGz)} gzipped (budget ${kb(BUDGET)}); after open: ${kb(afterGz)} gzipped`);
if (loaderGz > BUDGET) {
  console.error(`FAIL: widget.js is ${kb(loaderGz)} gzipped, over the ${kb(BUDGET)} budget`);
  process.exit(1);
}
