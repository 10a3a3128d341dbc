// The suite on a real chain: stores the optimized wasm artifacts on the
// localnet's wasmd node (ci/localnet.sh), instantiates them wired together,
// and drives each contract's main flow through CosmJS — the library the web
// app uses — checking exact balances and typed errors, and printing the gas
// wasmd charged for each operation next to a cw20 transfer.
//
// Usage (the localnet must be up; WEVALUE_LOCALNET_DIR names its state
// folder, default .localnet):
//   node web/scripts/localnet-suite.mjs [--report target/localnet-gas.md]
// ci/localnet-test.sh runs it with a fresh chain and stops the chain after.

import { readFileSync, writeFileSync } from "node:fs";
import { createHash, generateKeyPairSync, sign as edSign } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SigningCosmWasmClient } from "@cosmjs/cosmwasm-stargate";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { GasPrice, calculateFee } from "@cosmjs/stargate";
import { toUtf8, toBase64, fromBase64 } from "@cosmjs/encoding";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const netDir = process.env.WEVALUE_LOCALNET_DIR ?? resolve(root, ".localnet");
const net = JSON.parse(readFileSync(resolve(netDir, "localnet.json"), "utf8"));
const city = net.chains.city;
const actors = JSON.parse(readFileSync(resolve(root, net.accounts), "utf8")).actors;
const DENOM = city.denom;
const gasPrice = GasPrice.fromString(city.gas_price);
const reportPath = process.argv.includes("--report")
  ? process.argv[process.argv.indexOf("--report") + 1]
  : null;

// ---------------------------------------------------------------- helpers

class CheckFailed extends Error {}
function check(cond, what) {
  if (!cond) throw new CheckFailed(what);
}
function eq(actual, expected, what) {
  const a = typeof actual === "bigint" ? actual.toString() : JSON.stringify(actual);
  const e = typeof expected === "bigint" ? expected.toString() : JSON.stringify(expected);
  check(a === e, `${what}: expected ${e}, got ${a}`);
}
const log = (s) => process.stdout.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const gas = []; // [operation, gasUsed]
const wallets = new Map();

/** A signing client for a named actor of ci/localnet/accounts.json. */
async function actor(name) {
  if (wallets.has(name)) return wallets.get(name);
  const a = actors.find((x) => x.name === name);
  check(a && a.mnemonic, `actor ${name} has a mnemonic in accounts.json`);
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(a.mnemonic, { prefix: "wasm" });
  const [account] = await wallet.getAccounts();
  eq(account.address, a.address, `${name}'s derived address`);
  // Poll for inclusion every 300 ms (CosmJS's default is 3 s; blocks come every ~300 ms).
  const client = await SigningCosmWasmClient.connectWithSigner(city.rpc, wallet, { gasPrice, broadcastPollIntervalMs: 300 });
  const me = { name, address: account.address, pubkey: account.pubkey, client };
  wallets.set(name, me);
  return me;
}

function execMsg(sender, contract, msg, funds = []) {
  return {
    typeUrl: "/cosmwasm.wasm.v1.MsgExecuteContract",
    value: { sender, contract, msg: toUtf8(JSON.stringify(msg)), funds },
  };
}

/**
 * Executes with an explicit fee (simulated gas × 1.5), so balance checks can
 * subtract exactly what the sender paid. Contract errors surface at the
 * simulation, as a thrown Error whose message carries the contract's text.
 */
async function exec(who, contract, msg, funds = [], label = null) {
  const m = execMsg(who.address, contract, msg, funds);
  const simulated = await who.client.simulate(who.address, [m], "");
  // 1.5×: lazy transitions make a tx cost more when a deadline passes between
  // the simulation and the block that includes it.
  const fee = calculateFee(Math.ceil(simulated * 1.5), gasPrice);
  const res = await who.client.signAndBroadcast(who.address, [m], fee, "");
  check(res.code === 0, `${label ?? Object.keys(msg)[0]} failed on chain: code ${res.code} ${res.rawLog ?? ""}`);
  if (label) gas.push([label, res.gasUsed]);
  return { res, fee: BigInt(fee.amount[0].amount) };
}

/** Runs `msg` expecting the contract to refuse it with text matching `pattern`. */
async function refused(who, contract, msg, funds, pattern, what) {
  try {
    await exec(who, contract, msg, funds);
  } catch (e) {
    if (e instanceof CheckFailed) throw e;
    check(pattern.test(String(e.message)), `${what}: refused, but with "${e.message}" (want ${pattern})`);
    log(`   refused as expected: ${what}`);
    return;
  }
  throw new CheckFailed(`${what}: the contract accepted it`);
}

const query = (who, contract, msg) => who.client.queryContractSmart(contract, msg);
const balance = async (who, addr) => BigInt((await who.client.getBalance(addr, DENOM)).amount);
function attr(res, key) {
  for (const ev of res.events) {
    if (!ev.type.startsWith("wasm")) continue;
    const a = ev.attributes.find((x) => x.key === key);
    if (a) return a.value;
  }
  throw new CheckFailed(`no wasm attribute ${key} in the tx events`);
}
/** Waits until the chain's latest block time is past `unixSecs`. */
async function waitChainTime(who, unixSecs) {
  const giveUp = Date.now() + (Math.max(0, unixSecs - Date.now() / 1000) + 60) * 1000;
  while (Date.now() < giveUp) {
    const b = await who.client.getBlock();
    if (Date.parse(b.header.time) / 1000 > unixSecs) return;
    await sleep(250);
  }
  throw new CheckFailed(`the chain's clock did not pass ${unixSecs}`);
}
/** A cosmwasm Timestamp (nanoseconds, as a string) in unix seconds, to the
 * millisecond: a deadline at .71 s has not passed at .20 s of that second. */
const secs = (ts) => Number(BigInt(ts) / 1_000_000n) / 1000;
const chainNow = async (who) => Date.parse((await who.client.getBlock()).header.time) / 1000;

// ---------------------------------------------------------------- the run

const started = Date.now();
const deployer = await actor("deployer");
log(`chain ${city.chain_id} at ${city.rpc}, height ${await deployer.client.getHeight()}`);

// 1. Store the artifacts; the code checksums must be the built ones.
const checksums = Object.fromEntries(
  readFileSync(resolve(root, "artifacts/checksums.txt"), "utf8")
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .map(([sum, file]) => [file.replace(/\.wasm$/, ""), sum]),
);
const codes = {};
for (const name of ["cw20-base", "token-curated-registry", "payment-channel", "data-registry", "value-contract"]) {
  const wasm = readFileSync(resolve(root, `artifacts/${name}.wasm`));
  const up = await deployer.client.upload(deployer.address, wasm, "auto");
  eq(up.checksum, checksums[name], `${name} code checksum on chain vs artifacts/checksums.txt`);
  eq(createHash("sha256").update(wasm).digest("hex"), checksums[name], `${name}.wasm sha256`);
  codes[name] = up.codeId;
  gas.push([`store ${name} (${wasm.length} bytes)`, up.gasUsed]);
}
log(`1. stored ${Object.keys(codes).length} codes, checksums equal artifacts/checksums.txt`);

// 2. Instantiate the suite, wired together (as relayer/deploy.example.toml).
async function instantiate(code, msg, label) {
  const r = await deployer.client.instantiate(deployer.address, codes[code], msg, label, "auto", {
    admin: deployer.address,
  });
  gas.push([`instantiate ${code}`, r.gasUsed]);
  return r.contractAddress;
}
const seller = await actor("air-seller");
const buyer = await actor("buyer");
const STAKE = 1_000_000n;
const token = await instantiate(
  "cw20-base",
  { name: "City Value", symbol: "CITY", decimals: 6, initial_balances: [{ address: deployer.address, amount: "1000000000" }], mint: { minter: deployer.address } },
  "city token",
);
const APPLY_SECS = 3;
const tcr = await instantiate(
  "token-curated-registry",
  {
    owner: deployer.address,
    stake: { cw20: token },
    params: {
      min_deposit: STAKE.toString(), apply_stage_secs: APPLY_SECS, commit_stage_secs: 3, reveal_stage_secs: 3,
      dispensation_pct: 50, vote_quorum_pct: 50, exit_delay_secs: 6, deposit_grace_secs: 60,
      min_survival_weight: "1000000", unrevealed_penalty_pct: 10,
    },
  },
  "seller curation",
);
// The contract's floor for challenge periods; the close is finalized at the
// end of the run, after the value contract's flow has used the wait.
const CHALLENGE_SECS = 60;
const pc = await instantiate(
  "payment-channel",
  { owner: deployer.address, min_challenge_period: CHALLENGE_SECS, max_challenge_period: 604800, max_batch_size: 50 },
  "payment channels",
);
const registry = await instantiate(
  "data-registry",
  { owner: deployer.address, curation_registry: tcr, purchase_verifier: pc, allow_private_endpoints: true },
  "data registry",
);
const vc = await instantiate("value-contract", { owner: deployer.address }, "value contracts");
log(`2. instantiated: token ${token}, tcr ${tcr}, payment-channel ${pc}, data-registry ${registry}, value-contract ${vc}`);

// 3. The yardstick: a cw20 transfer on the same chain.
await exec(deployer, token, { transfer: { recipient: seller.address, amount: (2n * STAKE).toString() } }, [], "cw20 transfer (yardstick)");
eq((await query(deployer, token, { balance: { address: seller.address } })).balance, (2n * STAKE).toString(), "seller's CITY after the transfer");

// 4. Curation: the seller stakes and is listed after the apply stage.
const apply = { apply: { subject: seller.address, data: `Qm${"S".repeat(44)}` } };
await exec(seller, token, { send: { contract: tcr, amount: STAKE.toString(), msg: toBase64(toUtf8(JSON.stringify(apply))) } }, [], "tcr apply (cw20 send)");
eq((await query(seller, tcr, { is_listed: { subject: seller.address } })).listed, false, "listed before the apply stage ends");
await waitChainTime(seller, (await chainNow(seller)) + APPLY_SECS + 1);
await exec(seller, tcr, { update_status: { subject: seller.address } }, [], "tcr update_status (list)");
eq((await query(seller, tcr, { is_listed: { subject: seller.address } })).listed, true, "listed after the apply stage");
log("4. the seller staked 1 CITY and was listed after the apply stage");

// 5. Listings: only curated sellers list; buyers find by category.
const listing = {
  title: "PM2.5 at Porta Nuova", description: "pm2.5 every minute", category: "air-quality", sensor_type: "pm2.5", unit: "ug/m3",
  location: { latitude: "45.0625", longitude: "7.6780" },
  price: { asset: { native: DENOM }, amount: "10", model: "per_message" },
  metadata_cid: "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
  endpoint: "ws://127.0.0.1:9000/sdpp/pm25",
  terms: { license: "CC-BY-4.0", terms_hash: "07".repeat(32) },
};
const created = await exec(seller, registry, { create_listing: listing }, [], "data-registry create_listing");
const listingId = Number(attr(created.res, "listing_id"));
const stranger = await actor("house-1");
await refused(stranger, registry, { create_listing: listing }, [], /not.*(listed|curated)|curat/i, "an uncurated seller cannot list");
const found = await query(buyer, registry, { listings_by_category: { category: "air-quality", start_after: null, limit: 10 } });
check(found.listings.some((l) => l.id === listingId), `listing #${listingId} found by category`);
log(`5. listing #${listingId} created and found by category`);

// 6. Payment channel: open for the listing, claim a voucher signed with a
// Node ed25519 key over the contract's own sign bytes, refuse a forgery,
// defend a stale close, finalize; every balance exact.
const { publicKey, privateKey } = generateKeyPairSync("ed25519");
const rawPub = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
const DEPOSIT = 50_000n;
const opened = await exec(
  buyer, pc,
  { open: { payee: seller.address, pubkey: toBase64(rawPub), scheme: "ed25519", challenge_period: CHALLENGE_SECS, listing: { registry, listing_id: listingId } } },
  [{ denom: DENOM, amount: DEPOSIT.toString() }],
  "payment-channel open",
);
const ch = Number(attr(opened.res, "channel_id"));
async function voucher(amount, key = privateKey) {
  const sb = await query(buyer, pc, { voucher_sign_bytes: { channel_id: ch, amount: amount.toString(), hashlock: null, expiry: null } });
  const sig = edSign(null, Buffer.from(fromBase64(sb.signed_message)), key);
  return { amount: amount.toString(), hashlock: null, expiry: null, signature: toBase64(sig) };
}
let sellerBal = await balance(seller, seller.address);
const c1 = await exec(seller, pc, { claim: { channel_id: ch, voucher: await voucher(2_000n), preimage: null, payout: null } }, [], "payment-channel claim (ed25519)");
eq(await balance(seller, seller.address), sellerBal + 2_000n - c1.fee, "seller balance after claiming 2000");
const mallory = generateKeyPairSync("ed25519").privateKey;
await refused(seller, pc, { claim: { channel_id: ch, voucher: await voucher(9_000n, mallory), preimage: null, payout: null } }, [], /signature/i, "a voucher signed by another key");
await refused(seller, pc, { claim: { channel_id: ch, voucher: await voucher(2_000n), preimage: null, payout: null } }, [], /increas|claimed/i, "a voucher not above what was claimed");
await refused(seller, pc, { claim: { channel_id: ch, voucher: await voucher(DEPOSIT + 1n), preimage: null, payout: null } }, [], /deposit|exceed/i, "a voucher above the deposit");
let buyerBal = await balance(buyer, buyer.address);
const sc = await exec(buyer, pc, { start_close: { channel_id: ch } }, [], "payment-channel start_close");
await refused(buyer, pc, { finalize: { channel_id: ch } }, [], /challenge|finaliz|period|not yet|early/i, "finalize inside the challenge period");
sellerBal = await balance(seller, seller.address);
const c2 = await exec(seller, pc, { claim: { channel_id: ch, voucher: await voucher(3_000n), preimage: null, payout: null } }, [], "payment-channel claim (defending a close)");
eq(await balance(seller, seller.address), sellerBal + 1_000n - c2.fee, "seller paid the increase inside the challenge window");
const info = await query(buyer, pc, { channel: { channel_id: ch } });
eq(info.claimed, "3000", "claimed on the channel");
check(info.status?.closing, `channel is closing: ${JSON.stringify(info.status)}`);
const closeEnds = secs(info.status.closing.finalize_after);
const paid = await query(buyer, pc, { paid_for_listing: { payer: buyer.address, payee: seller.address, registry, listing_id: listingId } });
eq(paid.paid, [{ info: { native: DENOM }, amount: "3000" }], "paid_for_listing");
log(`6. channel #${ch}: 3000 of ${DEPOSIT} paid to the seller by ed25519 vouchers, a forgery refused, the stale close defended`);

// 7. Ratings need a purchase of the listing (price 10 × 100 units ≤ 3000 paid).
const rated = await exec(buyer, registry, { rate: { id: listingId, score: 5, review_cid: null } }, [], "data-registry rate (purchase verified)");
await refused(stranger, registry, { rate: { id: listingId, score: 1, review_cid: null } }, [], /pa(id|yment|y)|purchase/i, "a rating without a purchase");
const summary = await query(buyer, registry, { rating_summary: { id: listingId } });
eq(summary.count, 1, "ratings counted");
log(`7. the buyer rated listing #${listingId} 5 (purchase verified by the payment channel); a non-buyer was refused`);

// 8. A competition on the value contract: 2-of-3 oracles, three households,
// two sponsors; rewards ⌊funded × v / Σv⌋, bonds back, the rest refunded to
// the sponsors, and the contract ends empty.
const oracles = [await actor("city"), await actor("oracle-2"), await actor("oracle-3")];
await exec(deployer, vc, {
  set_oracles: { members: oracles.map((o) => ({ address: o.address, pubkey: toBase64(o.pubkey), scheme: "secp256k1" })), threshold: 2 },
}, [], "value-contract set_oracles (3)");
// Generous windows: each tx waits for its block (~0.5 s) on a loaded machine.
// (The acceptance window counts three rounds before execution starts.)
const D = { funding: 30, matching: 20, acceptance: 15, execution: 3, verification: 60, dispute: 3 };
const tpl = await exec(deployer, vc, {
  create_template: {
    name: "Energy saving", kind: "competition", metric: "kwh_saved", unit: "Wh", asset: null, durations: D,
    min_quorum: 2, tolerance_bps: 500, max_participants: 16, offer_deposit: "1000",
  },
}, [], "value-contract create_template");
const templateId = Number(attr(tpl.res, "template_id"));
const sponsors = [await actor("utility"), await actor("brand")];
const houses = [await actor("house-1"), await actor("house-2"), await actor("house-3")];
const GOAL = 100_000n, BOND = 5_000n, SHARES = [60_000n, 40_001n];
const ct = await exec(sponsors[0], vc, {
  create_task: { template_id: templateId, params: {
    title: "San Salvario saves energy", description_cid: "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
    asset: { native: DENOM }, funding_goal: GOAL.toString(), target: "0", max_participants: 3, bond: BOND.toString(), durations: {},
  } },
}, [], "value-contract create_task");
const task = Number(attr(ct.res, "task_id"));
const spent = new Map(); // fees per actor, for the exact balance checks
const addFee = (who, f) => spent.set(who.name, (spent.get(who.name) ?? 0n) + f);
const before = new Map();
for (const w of [...sponsors, ...houses]) before.set(w.name, await balance(w, w.address));
addFee(sponsors[0], ct.fee);
for (const [i, s] of sponsors.entries()) {
  const r = await exec(s, vc, { contribute: { task_id: task } }, [{ denom: DENOM, amount: SHARES[i].toString() }], i === 0 ? "value-contract contribute" : null);
  addFee(s, r.fee);
}
for (const [i, h] of houses.entries()) {
  const r = await exec(h, vc, { submit_offer: { task_id: task, price: "0", capacity: 1, min_units: 1, reputation_ref: null } }, [{ denom: DENOM, amount: "1000" }], i === 0 ? "value-contract submit_offer" : null);
  addFee(h, r.fee);
}
let t = await query(deployer, vc, { task: { id: task } });
await waitChainTime(deployer, secs(t.terms.matching_deadline));
await exec(deployer, vc, { advance: { task_id: task } }, [], "value-contract advance (decide matching)");
const matching = await query(deployer, vc, { matching: { task_id: task, start_after: null, limit: 30 } });
if (matching.slots.length !== 3) {
  const offers = await query(deployer, vc, { offers: { task_id: task, start_after: null, limit: 30 } });
  log(`task: ${JSON.stringify(await query(deployer, vc, { task: { id: task } }))}`);
  log(`offers: ${JSON.stringify(offers)}\nmatching: ${JSON.stringify(matching)}`);
}
eq(matching.slots.length, 3, "matched households");
for (const [i, h] of houses.entries()) {
  const r = await exec(h, vc, { confirm: { task_id: task } }, [{ denom: DENOM, amount: BOND.toString() }], i === 0 ? "value-contract confirm" : null);
  addFee(h, r.fee);
}
t = await query(deployer, vc, { task: { id: task } });
eq(t.status, "executing", "status after three confirmations");
await waitChainTime(deployer, secs(t.terms.execution_deadline));
await exec(deployer, vc, { advance: { task_id: task } }, [], null);
const VALUES = [1_000n, 2_500n, 4_000n];
const values = houses.map((h, i) => ({ participant: h.address, value: VALUES[i].toString() }))
  .sort((a, b) => (a.participant < b.participant ? -1 : 1));
for (const [i, o] of oracles.entries()) {
  await exec(o, vc, { attest: { task_id: task, values, evidence_cid: "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi" } }, [], i === 0 ? "value-contract attest (3 values)" : null);
}
t = await query(deployer, vc, { task: { id: task } });
eq(t.status, "disputable", "status after three agreeing oracles");
check(t.dispute_start, "dispute window started");
await waitChainTime(deployer, secs(t.dispute_start) + t.terms.dispute_secs);
const sum = VALUES.reduce((a, b) => a + b, 0n);
const funded = SHARES[0] + SHARES[1];
let rewards = 0n;
for (const [i, h] of houses.entries()) {
  const c = await query(h, vc, { claimable: { task_id: task, address: h.address } });
  const want = (funded * VALUES[i]) / sum;
  eq(c.reward, want.toString(), `${h.name}'s reward ⌊funded × v / Σv⌋`);
  eq(c.bond, BOND.toString(), `${h.name}'s bond back`);
  const r = await exec(h, vc, { claim: { task_id: task } }, [], i === 0 ? "value-contract claim" : null);
  addFee(h, r.fee);
  rewards += want;
  eq(await balance(h, h.address), before.get(h.name) - spent.get(h.name) + want, `${h.name}'s balance after the claim`);
}
let refunds = 0n;
for (const s of sponsors) {
  const bal = await balance(s, s.address);
  const r = await exec(s, vc, { refund: { task_id: task } }, [], s === sponsors[0] ? "value-contract refund" : null);
  addFee(s, r.fee);
  refunds += (await balance(s, s.address)) - bal + r.fee;
}
eq(rewards + refunds, funded, "rewards + sponsor refunds = funded");
eq(await balance(deployer, vc), 0n, "value-contract holds nothing after the task");
log(`8. task #${task}: 3 households rewarded ${rewards} of ${funded} by 2-of-3 attested values, bonds back, sponsors refunded ${refunds}; the contract ends empty`);

// 9. The channel's challenge period is over: finalize refunds the buyer
// exactly the deposit minus what the seller claimed.
await waitChainTime(buyer, closeEnds);
const fin = await exec(buyer, pc, { finalize: { channel_id: ch } }, [], "payment-channel finalize");
eq(await balance(buyer, buyer.address), buyerBal - sc.fee - rated.fee - fin.fee + DEPOSIT - 3_000n, "buyer refunded deposit − claimed");
eq(await balance(buyer, pc), 0n, "payment-channel holds nothing after the close");
log(`9. channel #${ch} finalized: ${DEPOSIT - 3_000n} back to the buyer; the contract ends empty`);

// ---------------------------------------------------------------- figures

const yard = gas.find(([op]) => op.startsWith("cw20 transfer"))[1];
const rows = gas.map(([op, g]) => `| ${op} | ${Number(g).toLocaleString("en-US")} | ${(Number(g) / Number(yard)).toFixed(2)} |`);
const table = [
  `Gas on wasmd ${city.chain_id} (whole tx, SDK costs included; yardstick: a cw20-base transfer tx).`,
  "",
  "| operation | gas used | × cw20 transfer |",
  "|---|---:|---:|",
  ...rows,
].join("\n");
log(`\n${table}\n`);
if (reportPath) writeFileSync(reportPath, `${table}\n`);
log(`localnet suite passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
