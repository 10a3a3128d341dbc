// Shows that a served app answers, as a browser's first visit would load it:
// index.html, config.json (must name a chain and the four contracts), then
// every script and stylesheet index.html references and the modules it
// preloads. Prints the URL and the first-load figures (files, bytes as
// served and gzipped, wall time); exits non-zero on any failed request.
// Waits up to --wait seconds for config.json while it answers 503 (a devnet
// that has not deployed yet).
//
//   node web/scripts/first-load.mjs http://127.0.0.1:8080/ [--wait 120]
import { gzipSync } from "node:zlib";

const base = process.argv[2];
if (!base) {
  console.error("usage: node web/scripts/first-load.mjs URL [--wait SECONDS]");
  process.exit(2);
}
const i = process.argv.indexOf("--wait");
const waitSecs = i > 0 ? Number(process.argv[i + 1]) : 120;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function get(path) {
  const url = new URL(path, base).toString();
  const res = await fetch(url, { cache: "no-store" });
  const body = Buffer.from(await res.arrayBuffer());
  return { url, status: res.status, body };
}

async function main() {
  // The config first: the app cannot start without it.
  const deadline = Date.now() + waitSecs * 1000;
  let config;
  for (;;) {
    const r = await get("config.json");
    if (r.status === 200) {
      config = JSON.parse(r.body.toString("utf8"));
      break;
    }
    if (r.status !== 503 || Date.now() > deadline) throw new Error(`${r.url}: HTTP ${r.status}: ${r.body.toString("utf8").slice(0, 200)}`);
    await sleep(1000);
  }
  for (const key of ["data_registry", "token_curated_registry", "payment_channel", "value_contract"]) {
    if (!/^wasm1[0-9a-z]{38,}$/.test(config.contracts?.[key] ?? "")) throw new Error(`config.json: contracts.${key} is ${config.contracts?.[key]}`);
  }
  if (!config.chain?.chain_id || !config.chain?.rpc) throw new Error("config.json: no chain");

  // Then the first visit, timed from the index to the last first-load file.
  const t0 = performance.now();
  const loaded = [];
  const index = await get("");
  if (index.status !== 200) throw new Error(`${index.url}: HTTP ${index.status}`);
  loaded.push(index);
  const html = index.body.toString("utf8");
  const queue = [...html.matchAll(/(?:src|href)="(\.?\/?[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
  const seen = new Set();
  while (queue.length) {
    const path = queue.shift().replace(/^\.?\//, "");
    if (seen.has(path)) continue;
    seen.add(path);
    const r = await get(path);
    if (r.status !== 200) throw new Error(`${r.url}: HTTP ${r.status}`);
    loaded.push(r);
    // Static imports of an entry chunk load with it (the pages are lazy chunks).
    if (path.endsWith(".js")) {
      for (const m of r.body.toString("utf8").matchAll(/(?:^|[;\s])import\s*(?:[\w{}\s,*$]+from\s*)?["'](\.\/[^"']+\.js)["']/g)) {
        queue.push(`${path.slice(0, path.lastIndexOf("/") + 1)}${m[1].slice(2)}`);
      }
    }
  }
  const ms = performance.now() - t0;
  const raw = loaded.reduce((n, r) => n + r.body.length, 0);
  const gz = loaded.reduce((n, r) => n + gzipSync(r.body, { level: 9 }).length, 0);
  console.log(`web app: ${base}  (chain ${config.chain.chain_id} at ${config.chain.rpc}; payment channel ${config.contracts.payment_channel})`);
  console.log(`first load: ${loaded.length} files, ${(raw / 1024).toFixed(1)} KiB served (${(gz / 1024).toFixed(1)} KiB gzipped), fetched in ${ms.toFixed(0)} ms on loopback`);
}

main().catch((e) => {
  console.error(`web app check failed: ${e.message}`);
  process.exit(1);
});
