// Serves the built web app (web/dist) and its runtime config.json on
// loopback, and prints the URL. The config is made from a localnet
// (localnet.json + web-deploy.json of deploy-web.mjs; the test-only
// accounts are offered to the development wallet), from a localnet and the
// deployment of `relayer devnet` (--devnet: its state folder's
// deployment.json, read when config.json is asked for, so the server can
// start before the devnet has deployed: 503 until then), or read from a file.
//
//   node web/scripts/serve.mjs [--port 8080] [--localnet DIR] [--devnet STATE_DIR] [--config FILE] [--no-dev-wallet]
//
// Nothing but the chain is contacted by the app at run time.
import { createServer } from "node:http";
import { readFileSync, existsSync, statSync } from "node:fs";
import { dirname, extname, join, resolve, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const dist = resolve(here, "../dist");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const port = Number(arg("--port", process.env.WEVALUE_WEB_PORT ?? 8080 + Number(process.env.WEVALUE_LOCALNET_PORT_OFFSET ?? 0)));
const host = "127.0.0.1";

// The app's contract keys ← the devnet's deployment names (deploy.example.toml).
const DEVNET_CONTRACTS = {
  data_registry: "data-registry",
  token_curated_registry: "tcr",
  payment_channel: "payment-channel",
  value_contract: "value-contract",
};

/** The contracts of the devnet's deployment.json, or null before it is written. */
function devnetContracts(stateDir) {
  const path = join(stateDir, "deployment.json");
  if (!existsSync(path)) return null;
  const deployed = JSON.parse(readFileSync(path, "utf8")).contracts ?? {};
  const out = {};
  for (const [key, name] of Object.entries(DEVNET_CONTRACTS)) {
    // Written as a whole once the deploy finished; a partial one is "not yet".
    if (!deployed[name]?.address) return null;
    out[key] = deployed[name].address;
  }
  return out;
}

function localnetConfig(dir, devnetDir) {
  const net = JSON.parse(readFileSync(join(dir, "localnet.json"), "utf8"));
  let contracts;
  if (devnetDir) {
    contracts = devnetContracts(devnetDir);
    if (!contracts) return null;
  } else {
    const deployPath = join(dir, "web-deploy.json");
    if (!existsSync(deployPath)) throw new Error(`${deployPath} is missing: run node web/scripts/deploy-web.mjs first`);
    contracts = JSON.parse(readFileSync(deployPath, "utf8")).contracts;
  }
  const city = net.chains.city;
  const cfg = {
    chain: { chain_id: city.chain_id, name: devnetDir ? "city localnet (devnet)" : "city localnet", rpc: city.rpc, rest: null, prefix: "wasm", denom: city.denom, gas_price: city.gas_price },
    contracts,
  };
  if (!process.argv.includes("--no-dev-wallet")) {
    const actors = JSON.parse(readFileSync(resolve(root, net.accounts), "utf8")).actors;
    // Test-only, publicly known keys of the localnet (ci/localnet/accounts.json).
    cfg.dev_accounts = actors
      .filter((a) => a.mnemonic && !["validator", "hermes"].includes(a.name))
      .map(({ name, mnemonic, address }) => ({ name, mnemonic, address }));
  }
  return cfg;
}

const configFile = arg("--config", null);
const localnetDir = resolve(arg("--localnet", process.env.WEVALUE_LOCALNET_DIR ?? resolve(root, ".localnet")));
const devnetDir = arg("--devnet", null);
let configBody = null;
let chainLine = "";
/** config.json's body, or null while the devnet has not deployed yet. */
function currentConfig() {
  if (configBody) return configBody;
  const config = configFile ? JSON.parse(readFileSync(configFile, "utf8")) : localnetConfig(localnetDir, devnetDir && resolve(devnetDir));
  if (!config) return null;
  configBody = JSON.stringify(config, null, 2);
  chainLine = `chain ${config.chain.chain_id} at ${config.chain.rpc}`;
  return configBody;
}
// Without --devnet a bad or missing config fails now, not at the first request.
if (!devnetDir) currentConfig();
if (!existsSync(join(dist, "index.html"))) {
  console.error(`${dist}/index.html is missing: build the app first (cd web && npx vite build)`);
  process.exit(1);
}

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".wasm": "application/wasm" };
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? "/", `http://${host}`).pathname);
  if (path === "/config.json") {
    let body;
    try {
      body = currentConfig();
    } catch (e) {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(`config: ${e.message}`);
      return;
    }
    if (!body) {
      res.writeHead(503, { "content-type": "text/plain", "retry-after": "2" });
      res.end(`the devnet has not deployed yet (${join(resolve(devnetDir), "deployment.json")})`);
      return;
    }
    res.writeHead(200, { "content-type": TYPES[".json"], "cache-control": "no-store" });
    res.end(body);
    return;
  }
  const file = normalize(join(dist, path === "/" ? "index.html" : path));
  if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
    return;
  }
  const immutable = path.startsWith("/assets/");
  res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache" });
  res.end(readFileSync(file));
});
server.listen(port, host, () => {
  const what = chainLine || `the devnet's deployment in ${resolve(devnetDir)}, once written`;
  console.log(`WeValue web app: http://${host}:${port}/  (${what})`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.close(() => process.exit(0)));
