/**
 * The SDPP handshake (docs/sdpp.md §4): the HELLO the buyer sends, the
 * seller's OFFER parsed strictly (unknown fields, out-of-range integers,
 * non-canonical amounts and wrong-length hex are refused, as the reference
 * implementation does), and the signed encodings that bind them.
 */

import { sha256 } from "@cosmjs/crypto";
import { Writer, concat, fromHex, parseAmount, toHex, utf8 } from "./bytes";
import { CODES } from "./codes";
import { MAX_PAYLOAD } from "./frame";

export const PROTOCOL = "sdpp/1";
export const SUBPROTOCOL = "sdpp.1";
export const MAX_HANDSHAKE_LEN = 16 * 1024;
export const OFFER_DOMAIN = "wevalue/sdpp/offer/v1";
export const CERTIFICATE_DOMAIN = "wevalue/sdpp/gateway/v1";
export const ACCEPT_DOMAIN = "wevalue/sdpp/accept/v1";

export type Scheme = "secp256k1" | "ed25519" | "adr036";
export type PricingModel = "per_message" | "per_second" | "per_kilobyte";
export type Asset = { native: string } | { cw20: string };
const SCHEME_TAG: Record<Scheme, number> = { secp256k1: 0, ed25519: 1, adr036: 2 };
const MODEL_TAG: Record<PricingModel, number> = { per_message: 0, per_second: 1, per_kilobyte: 2 };

export interface Price {
  asset: Asset;
  amount: bigint;
  model: PricingModel;
}
export interface Terms {
  license: string;
  termsHash: Uint8Array;
}
export interface ChannelRef {
  contract: string;
  id: number;
  scheme: Scheme;
}
/** The last chunk, the units and payload bytes up to it, and the best voucher amount. */
export interface StreamPosition {
  seq: bigint;
  units: bigint;
  bytes: bigint;
  paid: bigint;
}
export interface Certificate {
  sellerPubkey: Uint8Array;
  notAfter: number;
  signature: Uint8Array;
}
export interface Offer {
  chainId: string;
  registry: string;
  listingId: number;
  seller: string;
  terms: Terms;
  price: Price;
  channel: ChannelRef;
  creditWindow: bigint;
  maxPayload: number;
  maxInFlight: number;
  paymentTimeoutMs: number;
  limit: bigint;
  position: StreamPosition;
  clientNonce: Uint8Array;
  nonce: Uint8Array;
  gateway: { key: Uint8Array; certificate: Certificate };
  signature: Uint8Array;
}

/** A handshake message of the wrong shape (BAD_HANDSHAKE) or size (FRAME_TOO_LARGE). */
export class HandshakeError extends Error {
  constructor(
    message: string,
    public readonly code: number = CODES.BAD_HANDSHAKE,
  ) {
    super(`handshake: ${message}`);
  }
}

export interface HelloFields {
  chainId: string;
  registry: string;
  listingId: number;
  channel: ChannelRef;
  termsHash: Uint8Array;
  nonce: Uint8Array;
  maxPayload: number;
  maxAmount: bigint | null;
  resume: StreamPosition | null;
}

const position = (p: StreamPosition) => ({ seq: Number(p.seq), units: Number(p.units), bytes: Number(p.bytes), paid: p.paid.toString() });

/** The HELLO text message (field order and nulls as the reference implementation writes them). */
export function helloJson(h: HelloFields): string {
  return JSON.stringify({
    type: "hello",
    protocol: PROTOCOL,
    chain_id: h.chainId,
    registry: h.registry,
    listing_id: h.listingId,
    channel: { contract: h.channel.contract, id: h.channel.id, scheme: h.channel.scheme },
    terms_hash: toHex(h.termsHash),
    nonce: toHex(h.nonce),
    max_payload: h.maxPayload,
    max_amount: h.maxAmount === null ? null : h.maxAmount.toString(),
    resume: h.resume === null ? null : position(h.resume),
  });
}

export const acceptJson = (signature: Uint8Array): string => JSON.stringify({ type: "accept", signature: toHex(signature) });

// ------------------------------------------------------------------ parsing

type Obj = Record<string, unknown>;
const bad = (m: string) => new HandshakeError(m);

function object(v: unknown, where: string, keys: string[], optional: string[] = []): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw bad(`${where} must be an object`);
  const o = v as Obj;
  for (const k of Object.keys(o)) if (!keys.includes(k) && !optional.includes(k)) throw bad(`unknown field ${where}.${k}`);
  for (const k of keys) if (!(k in o)) throw bad(`missing field ${where}.${k}`);
  return o;
}

/** A JSON integer in min..=max (at most 2^53 − 1, so it is exact in JavaScript). */
function int(v: unknown, where: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) throw bad(`${where}: ${String(v)} outside ${min}..=${max}`);
  return v;
}

function amount(v: unknown, where: string): bigint {
  const a = typeof v === "string" ? parseAmount(v) : null;
  if (a === null) throw bad(`${where}: ${JSON.stringify(v)} is not a decimal amount`);
  return a;
}

function hex(v: unknown, where: string, len: number): Uint8Array {
  const b = typeof v === "string" ? fromHex(v, len) : null;
  if (!b) throw bad(`${where}: expected ${2 * len} hex digits`);
  return b;
}

/** Printable ASCII without spaces, 1 to `max` bytes. */
function text(v: unknown, where: string, max: number): string {
  if (typeof v !== "string" || v.length === 0 || v.length > max || !/^[\x21-\x7e]+$/.test(v)) throw bad(`${where}: 1 to ${max} printable ASCII characters without spaces`);
  return v;
}

/** A lower-case bech32 address. */
function address(v: unknown, where: string): string {
  const s = text(v, where, 128);
  if (!/^[a-z0-9]+$/.test(s) || !s.includes("1")) throw bad(`${where}: not a lower-case bech32 address`);
  return s;
}

function oneOf<T extends string>(v: unknown, where: string, options: readonly T[]): T {
  if (typeof v !== "string" || !options.includes(v as T)) throw bad(`${where}: expected one of ${options.join(", ")}`);
  return v as T;
}

function asset(v: unknown, where: string): Asset {
  if (typeof v === "object" && v !== null && "cw20" in v) return { cw20: address(object(v, where, ["cw20"]).cw20, `${where}.cw20`) };
  return { native: text(object(v, where, ["native"]).native, `${where}.native`, 128) };
}

function channelRef(v: unknown, where: string): ChannelRef {
  const o = object(v, where, ["contract", "id", "scheme"]);
  return { contract: address(o.contract, `${where}.contract`), id: int(o.id, `${where}.id`, 1), scheme: oneOf(o.scheme, `${where}.scheme`, ["secp256k1", "ed25519", "adr036"] as const) };
}

/** Parses and validates an OFFER text message (not yet against the listing: the session does that). */
export function parseOffer(message: string): Offer {
  const size = utf8(message).length;
  if (size > MAX_HANDSHAKE_LEN) throw new HandshakeError(`message of ${size} bytes exceeds the maximum of ${MAX_HANDSHAKE_LEN}`, CODES.FRAME_TOO_LARGE);
  let raw: unknown;
  try {
    raw = JSON.parse(message);
  } catch (e) {
    throw bad(`not JSON: ${(e as Error).message}`);
  }
  const keys = ["type", "protocol", "chain_id", "registry", "listing_id", "seller", "terms", "price", "channel", "credit_window", "max_payload", "max_in_flight", "payment_timeout_ms", "limit", "position", "client_nonce", "nonce", "gateway", "signature"];
  const o = object(raw, "offer", keys);
  if (o.type !== "offer") throw bad(`type must be "offer"`);
  if (o.protocol !== PROTOCOL) throw bad(`protocol must be "${PROTOCOL}"`);
  const terms = object(o.terms, "terms", ["license", "terms_hash"]);
  const price = object(o.price, "price", ["asset", "amount", "model"]);
  const pos = object(o.position, "position", ["seq", "units", "bytes", "paid"]);
  const gw = object(o.gateway, "gateway", ["key", "certificate"]);
  const cert = object(gw.certificate, "gateway.certificate", ["seller_pubkey", "not_after", "signature"]);
  const offer: Offer = {
    chainId: text(o.chain_id, "chain_id", 64),
    registry: address(o.registry, "registry"),
    listingId: int(o.listing_id, "listing_id", 1),
    seller: address(o.seller, "seller"),
    terms: { license: text(terms.license, "terms.license", 64), termsHash: hex(terms.terms_hash, "terms.terms_hash", 32) },
    price: { asset: asset(price.asset, "price.asset"), amount: amount(price.amount, "price.amount"), model: oneOf(price.model, "price.model", ["per_message", "per_second", "per_kilobyte"] as const) },
    channel: channelRef(o.channel, "channel"),
    creditWindow: BigInt(int(o.credit_window, "credit_window", 1)),
    maxPayload: int(o.max_payload, "max_payload", 1, MAX_PAYLOAD),
    maxInFlight: int(o.max_in_flight, "max_in_flight", 1, 0xffffffff),
    paymentTimeoutMs: int(o.payment_timeout_ms, "payment_timeout_ms", 1),
    limit: amount(o.limit, "limit"),
    position: { seq: BigInt(int(pos.seq, "position.seq")), units: BigInt(int(pos.units, "position.units")), bytes: BigInt(int(pos.bytes, "position.bytes")), paid: amount(pos.paid, "position.paid") },
    clientNonce: hex(o.client_nonce, "client_nonce", 32),
    nonce: hex(o.nonce, "nonce", 32),
    gateway: {
      key: hex(gw.key, "gateway.key", 32),
      certificate: { sellerPubkey: hex(cert.seller_pubkey, "gateway.certificate.seller_pubkey", 33), notAfter: int(cert.not_after, "gateway.certificate.not_after"), signature: hex(cert.signature, "gateway.certificate.signature", 64) },
    },
    signature: hex(o.signature, "signature", 64),
  };
  if (offer.price.amount === 0n) throw bad("price.amount must be above zero");
  return offer;
}

// ------------------------------------------------------------------ signed encodings

/** What the gateway key signs: every offer field but the two signatures (§4.5). */
export function offerSignBytes(o: Offer): Uint8Array {
  const w = new Writer().bytes(utf8(OFFER_DOMAIN)).str(o.chainId).str(o.registry).u64(o.listingId).str(o.seller);
  w.str(o.terms.license).bytes(o.terms.termsHash);
  if ("native" in o.price.asset) w.u8(0).str(o.price.asset.native);
  else w.u8(1).str(o.price.asset.cw20);
  w.u128(o.price.amount).u8(MODEL_TAG[o.price.model]);
  w.str(o.channel.contract).u64(o.channel.id).u8(SCHEME_TAG[o.channel.scheme]);
  w.u64(o.creditWindow).u32(o.maxPayload).u32(o.maxInFlight).u64(o.paymentTimeoutMs).u128(o.limit);
  w.u64(o.position.seq).u64(o.position.units).u64(o.position.bytes).u128(o.position.paid);
  w.bytes(o.clientNonce).bytes(o.nonce);
  w.bytes(o.gateway.key).bytes(o.gateway.certificate.sellerPubkey).u64(o.gateway.certificate.notAfter);
  return w.done();
}

export const offerDigest = (o: Offer): Uint8Array => sha256(offerSignBytes(o));

/** What the seller signs (ADR-036) to certify its gateway key (§4.4). */
export function certificateSignBytes(chainId: string, registry: string, seller: string, gatewayKey: Uint8Array, notAfter: number): Uint8Array {
  return new Writer().bytes(utf8(CERTIFICATE_DOMAIN)).str(chainId).str(registry).str(seller).bytes(gatewayKey).u64(notAfter).done();
}

/** What the buyer signs with the channel key to accept an offer: domain ‖ sha256(offer sign bytes). */
export const acceptMessage = (digest: Uint8Array): Uint8Array => concat(utf8(ACCEPT_DOMAIN), digest);
