// The seller's side of the browser's buy-a-stream test, for deploy-web.mjs:
// a gateway key certified by the seller's account key through ADR-036 (what
// Keplr's signArbitrary does, here with CosmJS's amino signer), and the
// files `relayer run` needs to serve the listing — its config (gateway +
// watchtower on loopback, settling every second), the deployment file of
// the web suite, the key, the certificate and the seller's mnemonic (the
// localnet's public test key), all in <localnet dir>/seller/.
//
//   target/debug/relayer run --config <localnet dir>/seller/relayer.toml

import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { randomBytes, createPrivateKey, createPublicKey } from "node:crypto";
import { resolve } from "node:path";
import { Secp256k1HdWallet } from "@cosmjs/amino";
import { fromBase64, toBase64, toHex } from "@cosmjs/encoding";

/** Ports of the seller's daemon: beside the app's (8080 + the localnet's offset). */
export function sellerPorts() {
  const offset = Number(process.env.WEVALUE_LOCALNET_PORT_OFFSET ?? 0);
  return { gateway: 8091 + offset, watchtower: 8092 + offset };
}

const u16 = (n) => Buffer.from([n >> 8, n & 0xff]);
const str = (s) => Buffer.concat([u16(Buffer.byteLength(s)), Buffer.from(s)]);
const u64 = (n) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

/** A fresh ed25519 gateway key: its 32-byte secret and public key. */
function gatewayKey() {
  const secret = randomBytes(32);
  // PKCS#8 of an Ed25519 key is a fixed prefix and the secret (RFC 8410).
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), secret]);
  const pub = createPublicKey(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }));
  return { secret, public: pub.export({ format: "der", type: "spki" }).subarray(-32) };
}

/**
 * The seller certifies `key` for its listings in `registry` until
 * `notAfter` (SDPP §4.4): ADR-036 over "wevalue/sdpp/gateway/v1" ‖
 * str(chain_id) ‖ str(registry) ‖ str(seller) ‖ key ‖ u64 not_after.
 */
async function certify(mnemonic, chainId, registry, key, notAfter) {
  const wallet = await Secp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "wasm" });
  const [account] = await wallet.getAccounts();
  const bytes = Buffer.concat([Buffer.from("wevalue/sdpp/gateway/v1"), str(chainId), str(registry), str(account.address), key, u64(notAfter)]);
  const doc = {
    chain_id: "",
    account_number: "0",
    sequence: "0",
    fee: { gas: "0", amount: [] },
    msgs: [{ type: "sign/MsgSignData", value: { signer: account.address, data: toBase64(bytes) } }],
    memo: "",
  };
  const { signature } = await wallet.signAmino(account.address, doc);
  return {
    seller: account.address,
    certificate: { seller_pubkey: toHex(account.pubkey), not_after: notAfter, signature: toHex(fromBase64(signature.signature)) },
  };
}

function writePrivate(path, text) {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * Writes <netDir>/seller/: the daemon's config serving `listing` from a
 * simulated PM2.5 sensor (a reading every `intervalMs`), the deployment
 * file, the gateway key and certificate. Returns what the tests need.
 */
export async function writeSeller({ netDir, city, seller, deployer, codes, contracts, checksums, listing, intervalMs }) {
  const dir = resolve(netDir, "seller");
  mkdirSync(dir, { recursive: true });
  const ports = sellerPorts();
  const key = gatewayKey();
  // A day, as a seller would rotate it (the certificate cannot be revoked on chain).
  const notAfter = Math.floor(Date.now() / 1000) + 86_400;
  const { seller: address, certificate } = await certify(seller.mnemonic, city.chain_id, contracts["data-registry"], key.public, notAfter);
  if (address !== seller.address) throw new Error(`the certificate names ${address}, not the seller ${seller.address}`);
  writePrivate(resolve(dir, "gateway.key"), key.secret.toString("hex"));
  writeFileSync(resolve(dir, "gateway-certificate.json"), `${JSON.stringify(certificate, null, 2)}\n`);
  writePrivate(resolve(dir, "seller.mnemonic"), `${seller.mnemonic}\n`);
  const deployment = {
    chain_id: city.chain_id,
    deployer,
    codes: Object.fromEntries(Object.entries(codes).map(([name, code_id]) => [name, { code_id, checksum: checksums[name] }])),
    contracts: Object.fromEntries(
      Object.entries(contracts).map(([name, address]) => [name, { code: name, code_id: codes[name], address, label: name, admin: deployer }]),
    ),
  };
  writeFileSync(resolve(dir, "deployment.json"), `${JSON.stringify(deployment, null, 2)}\n`);
  const gasPrice = Number(/^[0-9.]+/.exec(city.gas_price)?.[0]);
  const config = `# The seller's daemon for the web app's buy-a-stream test (written by web/scripts/deploy-web.mjs).
[log]
level = "info"
[telemetry]
enabled = false
[state]
path = "${resolve(dir, "seller.sqlite")}"
[chain]
id = "${city.chain_id}"
prefix = "wasm"
fee_denom = "${city.denom}"
backend = "cosmos"
[chain.cosmos]
rpc_url = "${city.rpc}"
gas_price = ${gasPrice}
[signer]
# Only the file: a WEVALUE_RELAYER_MNEMONIC in the environment must not sign as someone else.
mnemonic_env = ""
mnemonic_file = "${resolve(dir, "seller.mnemonic")}"
[events]
poll_interval_ms = 500
[deploy]
deployment_file = "${resolve(dir, "deployment.json")}"
# Claims every voucher within about a second, so a buyer can rate soon after paying.
[watchtower]
enabled = true
listen = "127.0.0.1:${ports.watchtower}"
min_amount = "1"
max_age_seconds = 1
settle_interval_seconds = 1
poll_interval_ms = 300
[gateway]
enabled = true
listen = "127.0.0.1:${ports.gateway}"
key_file = "${resolve(dir, "gateway.key")}"
certificate_file = "${resolve(dir, "gateway-certificate.json")}"
credit_window = 10
max_in_flight = 64
payment_timeout_ms = 10000
[[gateway.listings]]
id = ${listing}
source = { kind = "simulated", sensor = "pm25", interval_ms = ${intervalMs}, seed = 7 }
`;
  writeFileSync(resolve(dir, "relayer.toml"), config);
  return {
    config: resolve(dir, "relayer.toml"),
    gateway: `ws://127.0.0.1:${ports.gateway}`,
    watchtower: `http://127.0.0.1:${ports.watchtower}`,
    gateway_key: toHex(key.public),
    certificate_not_after: notAfter,
  };
}

export const endpointFor = (listing) => `ws://127.0.0.1:${sellerPorts().gateway}/sdpp/${listing}`;
