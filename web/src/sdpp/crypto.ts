/**
 * The browser's keys for SDPP: a per-channel ed25519 voucher key, made here
 * so the wallet signs only the transaction that registers it, and the checks
 * on a seller's proof (its ADR-036 gateway certificate and the offer
 * signature, §4.4). WebCrypto's Ed25519 is used where the browser has it
 * (the private key is then non-extractable: it can sign but never be read
 * out, even by this app); elsewhere CosmJS's Ed25519 (@noble/curves).
 */

import { Ed25519, Secp256k1, Secp256k1Signature, ripemd160, sha256 } from "@cosmjs/crypto";
import { fromBech32, toBech32 } from "@cosmjs/encoding";
import { adr036SignDoc, voucherSignBytes } from "./voucher";
import { certificateSignBytes, offerSignBytes, type Offer } from "./handshake";
import type { ChannelSigner, OfferVerifier } from "./session";
import { utf8 } from "./bytes";

/** How a channel key is held: a WebCrypto key (stored as is, unreadable) or a 32-byte seed. */
export type KeyMaterial = { kind: "webcrypto"; privateKey: CryptoKey } | { kind: "seed"; seed: Uint8Array };

export interface ChannelKey {
  /** The 32-byte public key registered with the channel. */
  publicKey: Uint8Array;
  material: KeyMaterial;
}

const ED25519 = { name: "Ed25519" } as const;
/** A copy backed by a plain ArrayBuffer (what WebCrypto's typings ask for). */
const buf = (u: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(u);

let webCrypto: Promise<boolean> | null = null;
/** Whether this browser's WebCrypto signs with Ed25519 (Chromium 137+, Firefox 129+, Safari 17+). */
export function hasWebCryptoEd25519(): Promise<boolean> {
  webCrypto ??= (async () => {
    try {
      await crypto.subtle.generateKey(ED25519, false, ["sign", "verify"]);
      return true;
    } catch {
      return false;
    }
  })();
  return webCrypto;
}

/** A fresh channel key. */
export async function generateChannelKey(): Promise<ChannelKey> {
  if (await hasWebCryptoEd25519()) {
    const pair = (await crypto.subtle.generateKey(ED25519, false, ["sign", "verify"])) as CryptoKeyPair;
    const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    return { publicKey, material: { kind: "webcrypto", privateKey: pair.privateKey } };
  }
  const seed = crypto.getRandomValues(new Uint8Array(32));
  return { publicKey: (await Ed25519.makeKeypair(seed)).pubkey, material: { kind: "seed", seed } };
}

/** A channel key from a known 32-byte secret (tests, and keys moved between devices). */
export async function channelKeyFromSeed(seed: Uint8Array, useWebCrypto: boolean): Promise<ChannelKey> {
  if (seed.length !== 32) throw new RangeError(`an ed25519 secret is 32 bytes, got ${seed.length}`);
  const publicKey = (await Ed25519.makeKeypair(seed)).pubkey;
  if (!useWebCrypto) return { publicKey, material: { kind: "seed", seed } };
  // PKCS#8 of an Ed25519 private key: a fixed prefix and the seed (RFC 8410).
  const pkcs8 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20, ...seed]);
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, ED25519, false, ["sign"]);
  return { publicKey, material: { kind: "webcrypto", privateKey } };
}

/** An ed25519 signature of `message` with the key. */
export async function sign(material: KeyMaterial, message: Uint8Array): Promise<Uint8Array> {
  if (material.kind === "webcrypto") return new Uint8Array(await crypto.subtle.sign(ED25519, material.privateKey, buf(message)));
  return Ed25519.createSignature(message, await Ed25519.makeKeypair(material.seed));
}

/** Signs this channel's vouchers (wevalue-voucher sign bytes, no hashlock, no expiry) and offer acceptances. */
export function channelSigner(material: KeyMaterial, chainId: string, contract: string, channelId: number): ChannelSigner {
  return {
    signVoucher: (amount) => sign(material, voucherSignBytes({ chainId, contract, channelId, amount })),
    signAccept: (message) => sign(material, message),
  };
}

async function ed25519Verify(signature: Uint8Array, message: Uint8Array, key: Uint8Array): Promise<boolean> {
  if (await hasWebCryptoEd25519()) {
    const k = await crypto.subtle.importKey("raw", buf(key), ED25519, false, ["verify"]);
    return crypto.subtle.verify(ED25519, k, buf(signature), buf(message));
  }
  return Ed25519.verifySignature(signature, message, key);
}

/** Longest address read or written. An explicit bound: CosmJS 0.38 passes Infinity, which @scure/base 2 refuses. */
const BECH32_LIMIT = 128;

/** The bech32 account address of a compressed secp256k1 key: ripemd160(sha256(key)). */
export const accountAddress = (pubkey: Uint8Array, prefix: string): string => toBech32(prefix, ripemd160(sha256(pubkey)), BECH32_LIMIT);

/**
 * The proof that the gateway speaks for the listing's seller: the
 * certificate is unexpired, its key is the seller's address, its ADR-036
 * signature verifies, and the gateway key signed this offer.
 */
export const offerVerifier: OfferVerifier = {
  async verify(offer: Offer, nowUnixS: number): Promise<void> {
    const cert = offer.gateway.certificate;
    if (nowUnixS > cert.notAfter) throw new Error(`the gateway certificate expired at ${new Date(cert.notAfter * 1000).toISOString()}`);
    let prefix: string;
    try {
      prefix = fromBech32(offer.seller, BECH32_LIMIT).prefix;
    } catch (e) {
      throw new Error(`the seller ${offer.seller} is not a bech32 address: ${(e as Error).message}`);
    }
    const derived = accountAddress(cert.sellerPubkey, prefix);
    if (derived !== offer.seller) throw new Error(`the certificate's key is ${derived}'s, not the seller ${offer.seller}'s`);
    const doc = adr036SignDoc(offer.seller, certificateSignBytes(offer.chainId, offer.registry, offer.seller, offer.gateway.key, cert.notAfter));
    let certOk: boolean;
    try {
      certOk = Secp256k1.verifySignature(Secp256k1Signature.fromFixedLength(cert.signature), sha256(utf8(doc)), cert.sellerPubkey);
    } catch (e) {
      throw new Error(`the certificate is malformed: ${(e as Error).message}`);
    }
    if (!certOk) throw new Error("the seller's certificate signature does not verify");
    if (!(await ed25519Verify(offer.signature, offerSignBytes(offer), offer.gateway.key))) throw new Error("the gateway's offer signature does not verify");
  },
};
