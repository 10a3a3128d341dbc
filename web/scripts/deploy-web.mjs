// Deploys the suite for the web app on a running localnet and seeds it:
// stores the optimized artifacts, instantiates the TCR (native stake, short
// stages), payment channels, data registry and value contract wired
// together, lists two curated sellers, creates listings in two categories
// around Turin (enough to page through), one paid channel with a settled
// claim and a rating, three oracles (2 of 3) and a task template. One air
// listing is streamed by a real SDPP gateway: its seller's daemon files are
// written to $WEVALUE_LOCALNET_DIR/seller/ (scripts/seller.mjs; ci/web-test.sh
// starts `relayer run` with them).
// Writes $WEVALUE_LOCALNET_DIR/web-deploy.json, which scripts/serve.mjs
// turns into the app's config.json.
//
// Usage: node web/scripts/deploy-web.mjs   (WEVALUE_LOCALNET_DIR names the localnet)

import { readFileSync, writeFileSync } from "node:fs";
import { createHash, generateKeyPairSync, sign as edSign } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SigningCosmWasmClient } from "@cosmjs/cosmwasm";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { GasPrice, calculateFee } from "@cosmjs/stargate";
import { toUtf8, toBase64, fromBase64 } from "@cosmjs/encoding";
import { endpointFor, writeSeller } from "./seller.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const netDir = process.env.WEVALUE_LOCALNET_DIR ?? resolve(root, ".localnet");
const net = JSON.parse(readFileSync(resolve(netDir, "localnet.json"), "utf8"));
const city = net.chains.city;
const actors = JSON.parse(readFileSync(resolve(root, net.accounts), "utf8")).actors;
const DENOM = city.denom;
const gasPrice = GasPrice.fromString(city.gas_price);
const started = Date.now();
const log = (s) => process.stdout.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function fail(what) {
  throw new Error(what);
}

const clients = new Map();
async function actor(name) {
  if (clients.has(name)) return clients.get(name);
  const a = actors.find((x) => x.name === name) ?? fail(`no actor ${name}`);
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(a.mnemonic, { prefix: "wasm" });
  const [account] = await wallet.getAccounts();
  const client = await SigningCosmWasmClient.connectWithSigner(city.rpc, wallet, { gasPrice, broadcastPollIntervalMs: 300 });
  const me = { name, address: account.address, pubkey: account.pubkey, client };
  clients.set(name, me);
  return me;
}
const execMsg = (sender, contract, msg, funds = []) => ({
  typeUrl: "/cosmwasm.wasm.v1.MsgExecuteContract",
  value: { sender, contract, msg: toUtf8(JSON.stringify(msg)), funds },
});
/** Executes messages in one tx, gas simulated × 1.5 (as the app does). */
async function exec(who, msgs) {
  const simulated = await who.client.simulate(who.address, msgs, "");
  const res = await who.client.signAndBroadcast(who.address, msgs, calculateFee(Math.ceil(simulated * 1.5), gasPrice), "");
  if (res.code !== 0) fail(`tx of ${who.name} failed: ${res.rawLog}`);
  return res;
}
const one = (who, contract, msg, funds) => exec(who, [execMsg(who.address, contract, msg, funds)]);
function attrs(res, key) {
  return res.events.filter((e) => e.type.startsWith("wasm")).flatMap((e) => e.attributes.filter((a) => a.key === key).map((a) => a.value));
}
async function chainNow(who) {
  return Date.parse((await who.client.getBlock()).header.time) / 1000;
}
async function waitChainTime(who, unix) {
  const giveUp = Date.now() + (Math.max(0, unix - Date.now() / 1000) + 60) * 1000;
  while (Date.now() < giveUp) {
    if ((await chainNow(who)) > unix) return;
    await sleep(250);
  }
  fail(`the chain's clock did not pass ${unix}`);
}

const deployer = await actor("deployer");

// 1. Codes, checked against the built checksums.
const checksums = Object.fromEntries(
  readFileSync(resolve(root, "artifacts/checksums.txt"), "utf8").trim().split("\n")
    .map((l) => l.trim().split(/\s+/)).map(([sum, file]) => [file.replace(/\.wasm$/, ""), sum]),
);
const codes = {};
for (const name of ["token-curated-registry", "payment-channel", "data-registry", "value-contract"]) {
  const wasm = readFileSync(resolve(root, `artifacts/${name}.wasm`));
  const hash = createHash("sha256").update(wasm).digest("hex");
  if (hash !== checksums[name]) fail(`artifacts/${name}.wasm does not match artifacts/checksums.txt`);
  codes[name] = (await deployer.client.upload(deployer.address, wasm, "auto")).codeId;
}
const inst = async (code, msg, label) =>
  (await deployer.client.instantiate(deployer.address, codes[code], msg, label, "auto", { admin: deployer.address })).contractAddress;

// 2. The suite. Stages are short so a browser test can run a whole poll:
// applications list after 3 s, votes are committed for 20 s and revealed for 15 s.
const STAKE = "1000000";
const TCR_PARAMS = {
  min_deposit: STAKE, apply_stage_secs: 3, commit_stage_secs: 20, reveal_stage_secs: 15,
  dispensation_pct: 50, vote_quorum_pct: 50, exit_delay_secs: 35, deposit_grace_secs: 60,
  min_survival_weight: "1", unrevealed_penalty_pct: 10,
};
const tcr = await inst("token-curated-registry", { owner: deployer.address, stake: { native: DENOM }, params: TCR_PARAMS }, "seller curation");
const pc = await inst("payment-channel", { owner: deployer.address, min_challenge_period: 60, max_challenge_period: 604800, max_batch_size: 50 }, "payment channels");
// A first rating needs 10 units bought (the default is 100): a browser test streams a few dozen readings.
const registry = await inst("data-registry", { owner: deployer.address, curation_registry: tcr, purchase_verifier: pc, allow_private_endpoints: true, min_rating_units: 10 }, "data registry");
const vc = await inst("value-contract", { owner: deployer.address }, "value contracts");
log(`deployed: tcr ${tcr}, payment-channel ${pc}, data-registry ${registry}, value-contract ${vc}`);

// 3. Two curated sellers.
const sellers = [await actor("air-seller"), await actor("meter-seller")];
for (const s of sellers) {
  await one(s, tcr, { apply: { subject: s.address, data: "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi" } }, [{ denom: DENOM, amount: STAKE }]);
}
await waitChainTime(deployer, (await chainNow(deployer)) + TCR_PARAMS.apply_stage_secs + 0.5);
await exec(deployer, sellers.map((s) => execMsg(deployer.address, tcr, { update_status: { subject: s.address } })));
for (const s of sellers) {
  const listed = await deployer.client.queryContractSmart(tcr, { is_listed: { subject: s.address } });
  if (!listed.listed) fail(`${s.name} is not listed after the apply stage`);
}

// 4. Listings: 12 air-quality streams around Turin at rising prices (pages
// of 5 give 3 pages), 3 noise streams.
const PLACES = [
  ["Porta Nuova", "45.0625", "7.6780"], ["San Salvario", "45.0580", "7.6810"], ["Vanchiglia", "45.0720", "7.7000"],
  ["Crocetta", "45.0560", "7.6640"], ["Aurora", "45.0830", "7.6880"], ["Lingotto", "45.0300", "7.6620"],
];
// The second air listing (San Salvario, 15 a reading) is the one the seller's gateway serves.
const firstId = (await deployer.client.queryContractSmart(registry, { config: {} })).listing_count + 1;
const STREAMED = 1;
const listing = (i, category, sensor, unit, price) => {
  const [place, lat, lon] = PLACES[i % PLACES.length];
  const streamed = category === "air-quality" && i === STREAMED;
  return {
    create_listing: {
      title: `${sensor.toUpperCase()} at ${place}${i >= PLACES.length ? " (roof)" : ""}`,
      description: `${sensor} every minute from a calibrated station`,
      category, sensor_type: sensor, unit,
      location: { latitude: lat, longitude: lon },
      price: { asset: { native: DENOM }, amount: String(price), model: "per_message" },
      metadata_cid: "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
      endpoint: streamed ? endpointFor(firstId + i) : `ws://127.0.0.1:9000/sdpp/${category}-${i}`,
      terms: { license: "CC-BY-4.0", terms_hash: "07".repeat(32) },
    },
  };
};
const air = Array.from({ length: 12 }, (_, i) => listing(i, "air-quality", "pm2.5", "ug/m3", 10 + i * 5));
const created = await exec(sellers[0], air.map((m) => execMsg(sellers[0].address, registry, m)));
const noise = Array.from({ length: 3 }, (_, i) => listing(i, "noise", "dba", "dB", 20 + i));
await exec(sellers[1], noise.map((m) => execMsg(sellers[1].address, registry, m)));
const airIds = attrs(created, "listing_id").map(Number);
if (airIds[STREAMED] !== firstId + STREAMED) fail(`listing ids start at ${airIds[0]}, expected ${firstId}`);

// 4b. The seller's daemon files: a reading every 250 ms, served at the listing's endpoint.
const streamed = airIds[STREAMED];
const seller = actors.find((a) => a.name === "air-seller");
const daemon = await writeSeller({
  netDir, city, seller, deployer: deployer.address, codes, checksums,
  contracts: { "token-curated-registry": tcr, "payment-channel": pc, "data-registry": registry, "value-contract": vc },
  listing: streamed, intervalMs: 250,
});

// 5. A buyer's channel to the first air listing, a settled claim of 2000
// (a voucher signed with the channel's ed25519 key) and the buyer's rating.
const buyer = await actor("buyer");
const { publicKey, privateKey } = generateKeyPairSync("ed25519");
const rawPub = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
const opened = await one(buyer, pc, {
  open: { payee: sellers[0].address, pubkey: toBase64(rawPub), scheme: "ed25519", challenge_period: 60, listing: { registry, listing_id: airIds[0] } },
}, [{ denom: DENOM, amount: "50000" }]);
const channel = Number(attrs(opened, "channel_id")[0]);
const sb = await buyer.client.queryContractSmart(pc, { voucher_sign_bytes: { channel_id: channel, amount: "2000", hashlock: null, expiry: null } });
const signature = toBase64(edSign(null, Buffer.from(fromBase64(sb.signed_message)), privateKey));
await one(sellers[0], pc, { claim: { channel_id: channel, voucher: { amount: "2000", hashlock: null, expiry: null, signature }, preimage: null, payout: null } });
await one(buyer, registry, { rate: { id: airIds[0], score: 4, review_cid: null } });

// 6. Oracles (2 of 3) and a competition template with short stages.
const oracles = [await actor("city"), await actor("oracle-2"), await actor("oracle-3")];
await one(deployer, vc, { set_oracles: { members: oracles.map((o) => ({ address: o.address, pubkey: toBase64(o.pubkey), scheme: "secp256k1" })), threshold: 2 } });
const DURATIONS = { funding: 15, matching: 10, acceptance: 10, execution: 3, verification: 60, dispute: 3 };
await one(deployer, vc, {
  create_template: {
    name: "Energy saving", kind: "competition", metric: "kwh_saved", unit: "Wh", asset: null, durations: DURATIONS,
    min_quorum: 2, tolerance_bps: 500, max_participants: 16, offer_deposit: "1000",
  },
});

const out = {
  chain_id: city.chain_id,
  contracts: { data_registry: registry, token_curated_registry: tcr, payment_channel: pc, value_contract: vc },
  seeded: {
    air_listings: airIds, channel, tcr_params: TCR_PARAMS, task_durations: DURATIONS, sellers: sellers.map((s) => s.name),
    stream: { listing: streamed, price: air[STREAMED].create_listing.price.amount, endpoint: endpointFor(streamed), ...daemon },
  },
};
writeFileSync(resolve(netDir, "web-deploy.json"), `${JSON.stringify(out, null, 2)}\n`);
log(`web deployment seeded in ${((Date.now() - started) / 1000).toFixed(1)} s: ${resolve(netDir, "web-deploy.json")}`);
for (const c of clients.values()) c.client.disconnect();
