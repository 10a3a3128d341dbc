// SDPP in the browser against the reference implementation's own test
// vectors (packages/voucher/test-vectors.json, packages/sdpp/test-vectors.json):
// voucher sign bytes and signatures, every frame and every malformed frame,
// the handshake (HELLO text, offer sign bytes, certificate, proof, ACCEPT),
// and the buyer session's refusals of a seller that breaks the rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { sha256 } from "@cosmjs/crypto";
import { fromHex as hexBytes, toHex } from "../src/sdpp/bytes";
import { adr036SignDoc, voucherSignBytes } from "../src/sdpp/voucher";
import { FRAME, decode, encode, type Frame } from "../src/sdpp/frame";
import { CODES, codeName } from "../src/sdpp/codes";
import { acceptMessage, certificateSignBytes, helloJson, offerDigest, offerSignBytes, parseOffer } from "../src/sdpp/handshake";
import { channelKeyFromSeed, channelSigner, offerVerifier, sign } from "../src/sdpp/crypto";
import { BuyerSession, SessionError, type BuyerConfig, type OfferVerifier } from "../src/sdpp/session";

const root = resolve(process.cwd(), "..");
const voucherVectors = JSON.parse(readFileSync(resolve(root, "packages/voucher/test-vectors.json"), "utf8"));
const sdpp = JSON.parse(readFileSync(resolve(root, "packages/sdpp/test-vectors.json"), "utf8"));
const hs = sdpp.handshake;
const unhex = (s: string): Uint8Array => {
  const b = hexBytes(s);
  if (!b) throw new Error(`not hex: ${s}`);
  return b;
};

test("voucher sign bytes equal wevalue-voucher's for every vector (with and without hashlock and expiry)", () => {
  assert.equal(voucherVectors.vectors.length, 6);
  for (const v of voucherVectors.vectors) {
    const bytes = voucherSignBytes({
      chainId: v.voucher.chain_id,
      contract: v.voucher.contract,
      channelId: v.voucher.channel_id,
      amount: BigInt(v.voucher.amount),
      hashlock: v.voucher.hashlock ? unhex(v.voucher.hashlock) : null,
      expiry: v.voucher.expiry,
    });
    assert.equal(toHex(bytes), v.sign_bytes, v.name);
    // What each scheme's signature covers: the bytes, their sha256, or the ADR-036 doc's sha256.
    if (v.scheme === "ed25519") assert.equal(toHex(bytes), v.signed_message, v.name);
    if (v.scheme === "secp256k1") assert.equal(toHex(sha256(bytes)), v.signed_message, v.name);
    if (v.scheme === "adr036") {
      assert.equal(adr036SignDoc(v.signer_address, bytes), v.adr036_sign_doc, v.name);
      assert.equal(toHex(sha256(new TextEncoder().encode(v.adr036_sign_doc))), v.signed_message, v.name);
    }
  }
  for (const bad of voucherVectors.invalid_vouchers) {
    const v = bad.voucher;
    assert.throws(
      () => voucherSignBytes({ chainId: v.chain_id, contract: v.contract, channelId: v.channel_id, amount: BigInt(v.amount), hashlock: unhex(v.hashlock), expiry: v.expiry }),
      { message: bad.reason },
    );
  }
});

test("ed25519 voucher signatures equal the vectors', with WebCrypto and with the CosmJS fallback", async () => {
  const ed = voucherVectors.vectors.filter((v: { scheme: string }) => v.scheme === "ed25519");
  assert.equal(ed.length, 2);
  for (const v of ed) {
    for (const web of [true, false]) {
      const key = await channelKeyFromSeed(unhex(v.secret_key), web);
      assert.equal(toHex(key.publicKey), v.public_key);
      assert.equal(toHex(await sign(key.material, unhex(v.sign_bytes))), v.signature, `${v.name} (webcrypto ${web})`);
    }
  }
});

function frameFields(f: Frame): Record<string, unknown> {
  switch (f.type) {
    case FRAME.DATA:
      return { type: "DATA", seq: Number(f.seq), timestamp_ms: Number(f.timestampMs), units: f.units, payload: toHex(f.payload) };
    case FRAME.VOUCHER:
      return { type: "VOUCHER", channel_id: Number(f.channelId), ack_seq: Number(f.ackSeq), amount: f.amount.toString(), signature: toHex(f.signature) };
    case FRAME.ACK:
      return { type: "ACK", ack_seq: Number(f.ackSeq) };
    case FRAME.RECEIPT:
      return { type: "RECEIPT", ack_seq: Number(f.ackSeq), amount: f.amount.toString() };
    case FRAME.CLOSE:
      return { type: "CLOSE", code: f.code, code_name: codeName(f.code), last_seq: Number(f.lastSeq), reason: f.reason };
  }
}

test("every frame vector decodes to its fields and encodes back to the same bytes", () => {
  assert.equal(sdpp.frames.length, 9);
  for (const v of sdpp.frames) {
    const f = decode(unhex(v.hex));
    // JSON numbers above 2^53 are inexact here: the exact check is the byte round trip below.
    const want = { ...v.frame };
    if (want.amount !== undefined) want.amount = String(want.amount);
    assert.deepEqual(frameFields(f), want, v.name);
    assert.equal(toHex(encode(f)), v.hex, v.name);
  }
});

test("every malformed frame vector is refused with its code and reason", () => {
  assert.equal(sdpp.invalid.length, 11);
  for (const v of sdpp.invalid) {
    assert.throws(() => decode(unhex(v.hex)), (e: Error & { code: number }) => {
      assert.equal(codeName(e.code as 100), v.code, v.name);
      assert.equal(e.message, v.error, v.name);
      return true;
    });
  }
});

const CHANNELS = sdpp.payment_channel_contract as string;
const offer = parseOffer(hs.offer);

test("handshake: HELLO text, offer sign bytes and digest, certificate, acceptance message", () => {
  assert.equal(
    helloJson({
      chainId: "wevalue-1",
      registry: offer.registry,
      listingId: 1,
      channel: { contract: CHANNELS, id: 12, scheme: "ed25519" },
      termsHash: new Uint8Array(32).fill(0xd0),
      nonce: new Uint8Array(32).fill(0x11),
      maxPayload: 65536,
      maxAmount: 500n,
      resume: null,
    }),
    hs.hello,
  );
  assert.equal(toHex(offerSignBytes(offer)), hs.offer_sign_bytes);
  assert.equal(toHex(offerDigest(offer)), hs.offer_digest);
  assert.equal(toHex(acceptMessage(offerDigest(offer))), hs.accept_message);
  const cert = certificateSignBytes(offer.chainId, offer.registry, offer.seller, offer.gateway.key, offer.gateway.certificate.notAfter);
  assert.equal(toHex(cert), hs.certificate_sign_bytes);
  assert.equal(adr036SignDoc(offer.seller, cert), hs.certificate_adr036_sign_doc);
});

test("the seller's proof: the vector verifies; expired, another seller or a changed field do not", async () => {
  await offerVerifier.verify(offer, hs.now_unix_s);
  await assert.rejects(offerVerifier.verify(offer, offer.gateway.certificate.notAfter + 1), /the gateway certificate expired at 2025-06-16T15:06:40.000Z/);
  await assert.rejects(offerVerifier.verify({ ...offer, limit: 501n }, hs.now_unix_s), /the gateway's offer signature does not verify/);
  const other = "wasm1vdahvezr9fletej4phz5rg73auzr4uhdshjgs5";
  await assert.rejects(offerVerifier.verify({ ...offer, seller: other }, hs.now_unix_s), /the certificate's key is wasm1cpmga8eqxzwz4nmnew6v6xkapggs3sqza66hvf's, not the seller/);
  const forged = { ...offer, gateway: { ...offer.gateway, key: new Uint8Array(32).fill(7) } };
  await assert.rejects(offerVerifier.verify(forged, hs.now_unix_s), /the seller's certificate signature does not verify/);
});

test("offers are parsed strictly: unknown fields, unsafe integers, non-canonical amounts, short hex", () => {
  const o = JSON.parse(hs.offer);
  const bad = (change: (x: Record<string, unknown>) => void, pattern: RegExp) => {
    const x = structuredClone(o);
    change(x);
    assert.throws(() => parseOffer(JSON.stringify(x)), pattern);
  };
  bad((x) => (x.extra = 1), /unknown field offer.extra/);
  bad((x) => (x.credit_window = 2 ** 53), /credit_window: 9007199254740992 outside 1..=9007199254740991/);
  bad((x) => (x.limit = "0500"), /limit: "0500" is not a decimal amount/);
  bad((x) => (x.nonce = "22"), /nonce: expected 64 hex digits/);
  bad((x) => ((x.price as Record<string, unknown>).amount = "0"), /price.amount must be above zero/);
  bad((x) => ((x.price as Record<string, unknown>).model = "per_byte"), /price.model: expected one of/);
  bad((x) => (x.seller = "WASM1ABC"), /seller: not a lower-case bech32 address/);
  assert.throws(() => parseOffer(" ".repeat(16 * 1024 + 1)), (e: { code: number }) => e.code === CODES.FRAME_TOO_LARGE);
});

// ---------------------------------------------------------------- the session

const config = (over: Partial<BuyerConfig> = {}): BuyerConfig => ({
  chainId: "wevalue-1",
  registry: offer.registry,
  listingId: 1,
  seller: offer.seller,
  terms: { license: "CC-BY-4.0", termsHash: new Uint8Array(32).fill(0xd0) },
  price: { asset: { native: "ustake" }, amount: 10n, model: "per_message" },
  channel: { contract: CHANNELS, id: 12, scheme: "ed25519" },
  deposit: 1_000_000n,
  maxAmount: 500n,
  maxPayload: 65536,
  payAtPercent: 50,
  idlePayMs: 1000,
  ...over,
});
const NONCE = new Uint8Array(32).fill(0x11);
const data = (seq: number, units = 1, payload = '{"pm25":12.5}') =>
  encode({ type: FRAME.DATA, seq: BigInt(seq), timestampMs: 1_700_000_000_000n, units, payload: new TextEncoder().encode(payload) });
const trusting: OfferVerifier = { verify: async () => undefined };

async function streaming(over: Partial<BuyerConfig> = {}, offerChange?: (o: Record<string, unknown>) => void) {
  const signer = channelSigner((await channelKeyFromSeed(unhex(hs.channel_secret_key), true)).material, "wevalue-1", CHANNELS, 12);
  const s = new BuyerSession(config(over), null);
  s.hello(NONCE);
  // A changed offer no longer matches its signature: the proof is then taken as given.
  let text: string = hs.offer;
  if (offerChange) {
    const o = JSON.parse(hs.offer);
    offerChange(o);
    text = JSON.stringify(o);
  }
  const accept = await s.onOffer(text, 0, hs.now_unix_s, offerChange ? trusting : offerVerifier, signer);
  return { s, signer, accept };
}

const sessionError = (code: number) => (e: unknown) => e instanceof SessionError && e.code === code;

test("session: the vector handshake, five chunks, and the voucher for 50 the vector signs", async () => {
  const { s, signer, accept } = await streaming();
  assert.equal(accept, hs.accept);
  for (let i = 1; i <= 5; i++) {
    assert.equal(s.onFrame(data(i), i).kind, "data");
    // Below half the window (W = 10 × 10) nothing is due until the fifth chunk.
    if (i < 5) assert.equal(await s.pollTransmit(i, signer), null);
  }
  const out = await s.pollTransmit(5, signer);
  assert.equal(toHex(out!.bytes), sdpp.frames[3].hex);
  assert.equal(s.stream.paid, 50n);
  // The receipt for it is taken; one for more than was signed is refused.
  assert.equal(s.onFrame(unhex(sdpp.frames[6].hex), 6).kind, "receipt");
  assert.equal(s.stream.receipted, 50n);
  assert.throws(() => s.onFrame(encode({ type: FRAME.RECEIPT, ackSeq: 5n, amount: 60n }), 7), sessionError(CODES.BAD_RECEIPT));
});

test("session: a seller that sends beyond paid + the credit window is refused, the chunk not counted", async () => {
  const { s, signer } = await streaming({ payAtPercent: 100 });
  for (let i = 1; i <= 10; i++) s.onFrame(data(i), i);
  // owed 100 = 0 paid + W: the eleventh chunk would make 110.
  assert.throws(() => s.onFrame(data(11), 11), (e: unknown) => sessionError(CODES.CREDIT_EXCEEDED)(e) && /chunk 11 takes the amount owed to 110, above 100/.test((e as Error).message));
  assert.equal(s.stream.received.seq, 10n);
  assert.equal(s.phase, "closed");
  const close = await s.pollTransmit(12, signer);
  const f = decode(close!.bytes);
  assert.equal(f.type === FRAME.CLOSE && f.code, CODES.CREDIT_EXCEEDED);
  // Nothing more is paid after a refusal, and later frames are ignored.
  assert.equal(await s.pollTransmit(13, signer), null);
  assert.equal(s.onFrame(data(12), 14).kind, "ignored");
  assert.equal(s.stream.paid, 0n);
});

test("session: out of sequence, wrong units and the limit are refused", async () => {
  let { s } = await streaming();
  assert.throws(() => s.onFrame(data(2), 1), sessionError(CODES.BAD_SEQUENCE));
  ({ s } = await streaming());
  assert.throws(() => s.onFrame(data(1, 2), 1), sessionError(CODES.BAD_UNITS));
  // A cap of 500 is the offer's limit: chunk 51 would owe 510 even with every voucher paid.
  ({ s } = await streaming({ payAtPercent: 1 }));
  const signer = channelSigner((await channelKeyFromSeed(unhex(hs.channel_secret_key), false)).material, "wevalue-1", CHANNELS, 12);
  for (let i = 1; i <= 50; i++) {
    s.onFrame(data(i), i);
    await s.pollTransmit(i, signer);
  }
  assert.equal(s.stream.paid, 500n);
  assert.throws(() => s.onFrame(data(51), 51), (e: unknown) => sessionError(CODES.CREDIT_EXCEEDED)(e) && /above 500 \(the stream limit\)/.test((e as Error).message));
});

test("session: the offer is checked against the listing before the proof", async () => {
  const refused = async (over: Partial<BuyerConfig>, code: number, pattern: RegExp) => {
    const s = new BuyerSession(config(over), null);
    s.hello(NONCE);
    await assert.rejects(s.onOffer(hs.offer, 0, hs.now_unix_s, offerVerifier, { signVoucher: async () => new Uint8Array(64), signAccept: async () => new Uint8Array(64) }), (e: unknown) => {
      assert.ok(e instanceof SessionError && e.code === code, `${String(e)}`);
      assert.match((e as Error).message, pattern);
      return true;
    });
  };
  await refused({ price: { asset: { native: "ustake" }, amount: 9n, model: "per_message" } }, CODES.OFFER_REJECTED, /price is 10 per_message, expected 9 per_message/);
  await refused({ seller: "wasm1vdahvezr9fletej4phz5rg73auzr4uhdshjgs5" }, CODES.OFFER_REJECTED, /seller/);
  await refused({ terms: { license: "CC0-1.0", termsHash: new Uint8Array(32).fill(0xd0) } }, CODES.TERMS_MISMATCH, /terms/);
  await refused({ maxAmount: 400n }, CODES.OFFER_REJECTED, /limit is 500, expected at most 400/);
  await refused({ channel: { contract: CHANNELS, id: 13, scheme: "ed25519" } }, CODES.CHANNEL_INVALID, /channel is 13, the seller says 12/);
  // A buyer that has chunks the seller does not know about: the positions disagree.
  const s = new BuyerSession(config(), { listingId: 1, channelId: 12, received: { seq: 3n, units: 3n, bytes: 39n }, paid: 30n, paidSignature: null, receipted: 0n });
  s.hello(NONCE);
  await assert.rejects(s.onOffer(hs.offer, 0, hs.now_unix_s, offerVerifier, { signVoucher: async () => new Uint8Array(64), signAccept: async () => new Uint8Array(64) }), sessionError(CODES.RESUME_MISMATCH));
});

test("session: Stop pays for everything received, then closes NORMAL", async () => {
  const { s, signer } = await streaming();
  for (let i = 1; i <= 3; i++) s.onFrame(data(i), i);
  s.close(CODES.NORMAL, "the buyer is done");
  const v = decode((await s.pollTransmit(4, signer))!.bytes);
  assert.ok(v.type === FRAME.VOUCHER && v.amount === 30n && v.ackSeq === 3n);
  const c = decode((await s.pollTransmit(4, signer))!.bytes);
  assert.ok(c.type === FRAME.CLOSE && c.code === CODES.NORMAL && c.lastSeq === 3n);
  // Chunks the seller sent before it saw the CLOSE are not counted.
  assert.equal(s.onFrame(data(4), 5).kind, "ignored");
  assert.equal(s.stream.received.units, 3n);
});

test("session: per kilobyte rounds up on the cumulative total; per second allows the seconds started", async () => {
  const kb = (await streaming({ price: { asset: { native: "ustake" }, amount: 10n, model: "per_kilobyte" } }, (o) => ((o.price as Record<string, unknown>).model = "per_kilobyte"))).s;
  const hundred = "x".repeat(100);
  assert.equal(kb.onFrame(data(1, 1, hundred), 1).kind, "data");
  for (let i = 2; i <= 10; i++) kb.onFrame(data(i, 0, hundred), i);
  assert.equal(kb.stream.received.units, 1n);
  assert.throws(() => kb.onFrame(data(11, 0, hundred), 11), sessionError(CODES.BAD_UNITS));
  const ps = (await streaming({ price: { asset: { native: "ustake" }, amount: 10n, model: "per_second" } }, (o) => ((o.price as Record<string, unknown>).model = "per_second"))).s;
  // At 0 ms the first second has started, plus 1 s of slack: at most 2 units.
  assert.equal(ps.onFrame(data(1, 2, ""), 0).kind, "data");
  assert.equal(ps.onFrame(data(2, 0, ""), 500).kind, "data");
  assert.throws(() => ps.onFrame(data(3, 1, ""), 900), sessionError(CODES.BAD_UNITS));
});
