// Prints the built app's size: every file in dist/ raw and gzipped, and the
// first load (index.html, the entry script, its CSS and the modules it
// preloads — the pages are separate chunks loaded when visited).
//   node web/scripts/bundle-size.mjs [--markdown FILE]
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const dist = resolve(dirname(fileURLToPath(import.meta.url)), "../dist");
const files = [];
(function walk(d) {
  for (const f of readdirSync(d)) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p);
    else files.push(p);
  }
})(dist);
const size = (p) => {
  const b = readFileSync(p);
  return { raw: b.length, gz: gzipSync(b, { level: 9 }).length };
};
const rows = files.map((p) => ({ file: relative(dist, p), ...size(p) })).sort((a, b) => b.gz - a.gz);

// The first load: what index.html references, and what those modules import statically.
const html = readFileSync(join(dist, "index.html"), "utf8");
const first = new Set(["index.html"]);
const queue = [...html.matchAll(/(?:src|href)="\.?\/?([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
while (queue.length) {
  const f = queue.shift();
  if (first.has(f)) continue;
  first.add(f);
  if (f.endsWith(".js")) {
    const js = readFileSync(join(dist, f), "utf8");
    // Static imports only (`import ... from "./x.js"`); import("./x.js") is lazy.
    for (const m of js.matchAll(/(?:^|[;\s}])import\s*(?:[\w*{}\s,$]+from\s*)?["']\.\/([^"']+\.js)["']/g)) queue.push(`assets/${m[1]}`);
  }
}
const sum = (rs) => rs.reduce((a, r) => ({ raw: a.raw + r.raw, gz: a.gz + r.gz }), { raw: 0, gz: 0 });
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const firstRows = rows.filter((r) => first.has(r.file));
const all = sum(rows), initial = sum(firstRows);
const lines = [
  "| file | size | gzip | first load |",
  "|---|---:|---:|:---:|",
  ...rows.map((r) => `| ${r.file} | ${kb(r.raw)} | ${kb(r.gz)} | ${first.has(r.file) ? "yes" : ""} |`),
  `| **all files** | ${kb(all.raw)} | ${kb(all.gz)} | |`,
  `| **first load** | ${kb(initial.raw)} | ${kb(initial.gz)} | |`,
];
console.log(lines.join("\n"));
console.log(`bundle: first load ${kb(initial.gz)} gzip (${kb(initial.raw)} raw); all files ${kb(all.gz)} gzip`);
const i = process.argv.indexOf("--markdown");
if (i > 0) writeFileSync(process.argv[i + 1], `${lines.join("\n")}\n`);
