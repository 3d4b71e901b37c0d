// Prints the gzipped size of the JavaScript and CSS the first screen loads: the files
// index.html references (entry script, its modulepreloads, stylesheets), not lazy chunks.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const dir = new URL("../../parlour/static/app/", import.meta.url).pathname;
const html = readFileSync(join(dir, "index.html"), "utf8");
const refs = [...html.matchAll(/(?:src|href)="\/?(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
let raw = 0;
let gz = 0;
for (const ref of refs) {
  const data = readFileSync(join(dir, ref));
  const g = gzipSync(data, { level: 9 }).length;
  raw += data.length;
  gz += g;
  console.log(`${ref.padEnd(40)} ${(data.length / 1024).toFixed(1).padStart(7)} KB  ${(g / 1024).toFixed(1).padStart(6)} KB gzipped`);
}
console.log(`first screen: ${(raw / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped (goal ≤ 120 KB)`);
