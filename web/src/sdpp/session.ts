/**
 * The buyer's side of an SDPP session, sans I/O (a port of
 * `wevalue_sdpp::BuyerSession`, docs/sdpp.md §4–§10): checks the seller's
 * offer against the listing read on chain, counts every chunk's units by the
 * pricing rule, refuses a seller that sends beyond the credit window, the
 * limit or the in-flight bound, pays with cumulative vouchers for what it
 * received — never more — and keeps the stream record a reconnection
 * resumes from. Signing is asynchronous (WebCrypto), so the caller must not
 * overlap calls: the connection driver runs them one at a time.
 */

import { equalBytes, fitsU64, fitsU128 } from "./bytes";
import { CODES, isGraceful, type Code } from "./codes";
import { FRAME, MAX_PAYLOAD, closeReason, decode, encode, frameName, type DataFrame, type FrameType, type ReceiptFrame } from "./frame";
import { acceptJson, acceptMessage, helloJson, offerDigest, parseOffer, type ChannelRef, type Offer, type Price, type Terms } from "./handshake";

/** Slack allowed to per-second billing against this clock, ms (the two clocks' rates). */
export const PER_SECOND_SLACK_MS = 1000;

export interface ChannelSigner {
  signVoucher(amount: bigint): Promise<Uint8Array>;
  signAccept(message: Uint8Array): Promise<Uint8Array>;
}
/** Checks the seller's proof (§4.4); rejects with the reason. */
export interface OfferVerifier {
  verify(offer: Offer, nowUnixS: number): Promise<void>;
}

export interface BuyerConfig {
  chainId: string;
  registry: string;
  listingId: number;
  seller: string;
  terms: Terms;
  price: Price;
  channel: ChannelRef;
  deposit: bigint;
  /** Spend cap on the channel's cumulative amount, if any. */
  maxAmount: bigint | null;
  maxPayload: number;
  /** Pay when the unpaid amount reaches this share of the credit window, 1–100 %. */
  payAtPercent: number;
  /** Pay (and acknowledge) everything received once no chunk came for this long, ms. */
  idlePayMs: number;
}

export interface Position {
  seq: bigint;
  units: bigint;
  bytes: bigint;
}
/** The durable record of a stream: persist it after each chunk and before each voucher leaves. */
export interface BuyerStream {
  listingId: number;
  channelId: number;
  received: Position;
  paid: bigint;
  paidSignature: Uint8Array | null;
  receipted: bigint;
}

export const newStream = (listingId: number, channelId: number): BuyerStream => ({
  listingId,
  channelId,
  received: { seq: 0n, units: 0n, bytes: 0n },
  paid: 0n,
  paidSignature: null,
  receipted: 0n,
});

export type Phase = "handshake" | "streaming" | "closing" | "closed";

/** Why a session ended on this side, with the code its CLOSE carries. */
export class SessionError extends Error {
  constructor(
    public readonly code: Code,
    message: string,
  ) {
    super(message);
  }
}

export type BuyerEvent =
  | { kind: "data"; frame: DataFrame }
  | { kind: "receipt"; frame: ReceiptFrame }
  | { kind: "closed"; code: Code; lastSeq: bigint; reason: string }
  /** A chunk after this side closed: not counted, not owed (it is resent on resume). */
  | { kind: "ignored" };

interface Agreed {
  windowAmount: bigint;
  limit: bigint;
  maxPayload: number;
  maxInFlight: number;
}

const kilobytes = (bytes: bigint): bigint => (bytes + 999n) / 1000n;
/** The most units one chunk of at most `maxPayload` bytes can charge. */
const maxChunkUnits = (p: Price, maxPayload: number): bigint => (p.model === "per_kilobyte" ? [kilobytes(BigInt(maxPayload)), 1n].reduce((a, b) => (a > b ? a : b)) : 1n);

export class BuyerSession {
  private phase_: Phase = "handshake";
  private stream_: BuyerStream;
  private nonce: Uint8Array | null = null;
  private agreed: Agreed | null = null;
  private originMs = 0;
  private billedConn = 0n;
  private lastDataMs = 0;
  /** Highest sequence acknowledged on this connection. */
  private acked = 0n;
  private resendPaid = false;
  private finalPayment = false;
  private control: [Code, string][] = [];
  private closeSent = false;

  constructor(
    private readonly cfg: BuyerConfig,
    stream: BuyerStream | null,
  ) {
    if (cfg.price.amount <= 0n) throw new RangeError("price.amount must be above zero");
    if (!(cfg.maxPayload >= 1 && cfg.maxPayload <= MAX_PAYLOAD)) throw new RangeError(`max_payload must be 1 to ${MAX_PAYLOAD}`);
    if (!(cfg.payAtPercent >= 1 && cfg.payAtPercent <= 100)) throw new RangeError("pay_at_percent must be 1 to 100");
    const s = stream ?? newStream(cfg.listingId, cfg.channel.id);
    if (s.listingId !== cfg.listingId || s.channelId !== cfg.channel.id)
      throw new RangeError(`the stored stream is for listing ${s.listingId} on channel ${s.channelId}, not listing ${cfg.listingId} on channel ${cfg.channel.id}`);
    this.stream_ = { ...s, received: { ...s.received } };
  }

  get phase(): Phase {
    return this.phase_;
  }
  /** The durable record to persist. */
  get stream(): BuyerStream {
    return this.stream_;
  }
  /** The credit window as an amount, once the offer is accepted. */
  get windowAmount(): bigint | null {
    return this.agreed?.windowAmount ?? null;
  }
  get limit(): bigint {
    const cap = this.cfg.maxAmount;
    return cap !== null && cap < this.cfg.deposit ? cap : this.cfg.deposit;
  }
  /** Amount owed for everything received. */
  owed(): bigint {
    return this.stream_.received.units * this.cfg.price.amount;
  }

  private fail(code: Code, message: string): SessionError {
    this.queueClose(code, message);
    this.phase_ = "closed";
    this.finalPayment = false;
    return new SessionError(code, message);
  }

  private queueClose(code: Code, reason: string): void {
    if (!this.closeSent) {
      this.closeSent = true;
      this.control.push([code, closeReason(reason)]);
    }
  }

  /** Closes from this side: gracefully (paying everything received first) or with an error. */
  close(code: Code, reason: string): void {
    if (this.phase_ === "closed") return;
    const graceful = isGraceful(code) && this.phase_ === "streaming";
    this.finalPayment = graceful;
    this.queueClose(code, reason);
    this.phase_ = graceful ? "closing" : "closed";
  }

  /** The HELLO to send first; `nonce` must be 32 fresh random bytes. */
  hello(nonce: Uint8Array): string {
    this.nonce = nonce;
    const r = this.stream_.received;
    const resume = r.seq || r.units || r.bytes || this.stream_.paid ? { ...r, paid: this.stream_.paid } : null;
    return helloJson({
      chainId: this.cfg.chainId,
      registry: this.cfg.registry,
      listingId: this.cfg.listingId,
      channel: this.cfg.channel,
      termsHash: this.cfg.terms.termsHash,
      nonce,
      maxPayload: this.cfg.maxPayload,
      maxAmount: this.cfg.maxAmount,
      resume,
    });
  }

  /** Checks the OFFER and the seller's proof; returns the signed ACCEPT text. */
  async onOffer(text: string, nowMs: number, nowUnixS: number, verifier: OfferVerifier, signer: ChannelSigner): Promise<string> {
    const nonce = this.nonce;
    if (!nonce || this.phase_ !== "handshake") throw this.fail(CODES.UNEXPECTED_FRAME, "an OFFER is not allowed without a HELLO outstanding");
    let offer: Offer;
    try {
      offer = parseOffer(text);
    } catch (e) {
      const code = (e as { code?: number }).code === CODES.FRAME_TOO_LARGE ? CODES.FRAME_TOO_LARGE : CODES.BAD_HANDSHAKE;
      throw this.fail(code, (e as Error).message);
    }
    const agreed = this.checkOffer(offer, nonce);
    try {
      await verifier.verify(offer, nowUnixS);
    } catch (e) {
      throw this.fail(CODES.BAD_PROOF, `the seller's proof does not verify: ${(e as Error).message}`);
    }
    let signature: Uint8Array;
    try {
      signature = await signer.signAccept(acceptMessage(offerDigest(offer)));
    } catch (e) {
      throw this.fail(CODES.INTERNAL, `could not sign: ${(e as Error).message}`);
    }
    this.agreed = agreed;
    this.phase_ = "streaming";
    this.originMs = nowMs;
    this.lastDataMs = nowMs;
    this.billedConn = 0n;
    this.acked = this.stream_.received.seq;
    this.stream_.receipted = offer.position.paid;
    this.resendPaid = this.stream_.paid > offer.position.paid;
    return acceptJson(signature);
  }

  private checkOffer(o: Offer, nonce: Uint8Array): Agreed {
    const c = this.cfg;
    const reject = (field: string, expected: unknown, got: unknown) => this.fail(CODES.OFFER_REJECTED, `offer refused: ${field} is ${String(got)}, expected ${String(expected)}`);
    if (!equalBytes(o.clientNonce, nonce)) throw reject("client_nonce", "this session's nonce", "another");
    if (o.chainId !== c.chainId) throw reject("chain_id", c.chainId, o.chainId);
    if (o.registry !== c.registry) throw reject("registry", c.registry, o.registry);
    if (o.listingId !== c.listingId) throw reject("listing_id", c.listingId, o.listingId);
    if (o.seller !== c.seller) throw reject("seller", c.seller, o.seller);
    if (o.terms.license !== c.terms.license || !equalBytes(o.terms.termsHash, c.terms.termsHash))
      throw this.fail(CODES.TERMS_MISMATCH, `the listing's terms are ${c.terms.license}, the seller offers ${o.terms.license} with another hash or licence`);
    if (JSON.stringify(o.price.asset) !== JSON.stringify(c.price.asset) || o.price.amount !== c.price.amount || o.price.model !== c.price.model)
      throw reject("price", `${c.price.amount} ${c.price.model}`, `${o.price.amount} ${o.price.model}`);
    if (o.channel.contract !== c.channel.contract || o.channel.id !== c.channel.id || o.channel.scheme !== c.channel.scheme)
      throw this.fail(CODES.CHANNEL_INVALID, `channel is ${c.channel.id}, the seller says ${o.channel.id}`);
    const windowAmount = o.creditWindow * c.price.amount;
    if (!fitsU128(windowAmount)) throw this.fail(CODES.AMOUNT_OVERFLOW, "amount overflow");
    const minWindow = maxChunkUnits(c.price, o.maxPayload);
    if (o.creditWindow < minWindow) throw reject("credit_window", `at least ${minWindow}`, o.creditWindow);
    if (o.maxPayload > c.maxPayload) throw reject("max_payload", `at most ${c.maxPayload}`, o.maxPayload);
    if (o.limit > this.limit) throw reject("limit", `at most ${this.limit}`, o.limit);
    const r = this.stream_.received;
    const p = o.position;
    if (p.seq !== r.seq || p.units !== r.units || p.bytes !== r.bytes || p.paid > this.stream_.paid)
      throw this.fail(
        CODES.RESUME_MISMATCH,
        `resume refused: seller resumes at seq ${p.seq} (${p.units} units, ${p.bytes} bytes, ${p.paid} paid); buyer has ${r.seq} (${r.units}, ${r.bytes}, ${this.stream_.paid} signed)`,
      );
    return { windowAmount, limit: o.limit, maxPayload: o.maxPayload, maxInFlight: o.maxInFlight };
  }

  /** Handles one binary frame from the seller. */
  onFrame(bytes: Uint8Array, nowMs: number): BuyerEvent {
    if (this.phase_ === "closed") return { kind: "ignored" };
    let f;
    try {
      f = decode(bytes);
    } catch (e) {
      throw this.fail((e as { code: Code }).code ?? CODES.MALFORMED_FRAME, `malformed frame: ${(e as Error).message}`);
    }
    if (f.type === FRAME.DATA && this.phase_ === "streaming") return this.onData(f, nowMs);
    if (f.type === FRAME.DATA && this.phase_ === "closing") return { kind: "ignored" };
    if (f.type === FRAME.RECEIPT && (this.phase_ === "streaming" || this.phase_ === "closing")) {
      const s = this.stream_;
      if (f.amount > s.paid || f.amount <= s.receipted || f.ackSeq > s.received.seq)
        throw this.fail(CODES.BAD_RECEIPT, `receipt for ${f.amount} at ${f.ackSeq}; signed ${s.paid}, received up to ${s.received.seq}, receipted ${s.receipted}`);
      s.receipted = f.amount;
      return { kind: "receipt", frame: f };
    }
    if (f.type === FRAME.CLOSE) {
      if (this.phase_ === "streaming" && isGraceful(f.code)) this.finalPayment = true;
      this.queueClose(CODES.NORMAL, "");
      this.phase_ = "closed";
      return { kind: "closed", code: f.code, lastSeq: f.lastSeq, reason: f.reason };
    }
    const when = this.phase_ === "handshake" ? "during the handshake" : "from a seller";
    throw this.fail(CODES.UNEXPECTED_FRAME, `a ${frameName(f.type)} frame is not allowed ${when}`);
  }

  /** The checks on a chunk, in the order §7.2 gives. */
  private onData(d: DataFrame, nowMs: number): BuyerEvent {
    const a = this.agreed;
    if (!a) throw this.fail(CODES.UNEXPECTED_FRAME, "a DATA frame is not allowed before the offer");
    const r = this.stream_.received;
    const expected = r.seq + 1n;
    if (d.seq !== expected) throw this.fail(CODES.BAD_SEQUENCE, `chunk ${d.seq} received, ${expected} expected`);
    if (d.payload.length > a.maxPayload) throw this.fail(CODES.PAYLOAD_TOO_LARGE, `payload of ${d.payload.length} bytes exceeds the negotiated ${a.maxPayload}`);
    if (d.seq - this.acked > BigInt(a.maxInFlight)) throw this.fail(CODES.TOO_MANY_IN_FLIGHT, `chunk ${d.seq} with only ${this.acked} acknowledged exceeds ${a.maxInFlight} in flight`);
    const len = BigInt(d.payload.length);
    const units = BigInt(d.units);
    let allowed: bigint;
    let ok: boolean;
    if (this.cfg.price.model === "per_message") {
      allowed = 1n;
      ok = units === allowed;
    } else if (this.cfg.price.model === "per_kilobyte") {
      allowed = kilobytes(r.bytes + len) - kilobytes(r.bytes);
      ok = units === allowed;
    } else {
      // Seconds started on this connection, with 1 s of slack, less those billed.
      const elapsed = Math.max(0, nowMs - this.originMs) + PER_SECOND_SLACK_MS;
      const started = BigInt(Math.floor(elapsed / 1000) + 1);
      allowed = started > this.billedConn ? started - this.billedConn : 0n;
      ok = units <= allowed;
    }
    if (!ok) throw this.fail(CODES.BAD_UNITS, `chunk ${d.seq} charges ${d.units} units, the pricing rule allows ${allowed}`);
    const after = { seq: d.seq, units: r.units + units, bytes: r.bytes + len };
    if (!fitsU64(after.units) || !fitsU64(after.bytes)) throw this.fail(CODES.AMOUNT_OVERFLOW, "amount overflow");
    const owedAfter = after.units * this.cfg.price.amount;
    if (!fitsU128(owedAfter)) throw this.fail(CODES.AMOUNT_OVERFLOW, "amount overflow");
    if (owedAfter > a.limit)
      throw this.fail(CODES.CREDIT_EXCEEDED, `chunk ${d.seq} takes the amount owed to ${owedAfter}, above ${a.limit} (the stream limit)`);
    const credit = this.stream_.paid + a.windowAmount;
    if (owedAfter > credit)
      throw this.fail(CODES.CREDIT_EXCEEDED, `chunk ${d.seq} takes the amount owed to ${owedAfter}, above ${credit} (paid plus the credit window)`);
    this.stream_.received = after;
    if (this.cfg.price.model === "per_second") this.billedConn += units;
    this.lastDataMs = nowMs;
    return { kind: "data", frame: d };
  }

  /**
   * The next frame to send, or null: a voucher when one is due (the unpaid
   * amount reached the policy's share of the window, no chunk came for
   * `idlePayMs`, or a graceful close), else an ACK when half the in-flight
   * bound is unacknowledged (or idle), else a queued CLOSE.
   */
  async pollTransmit(nowMs: number, signer: ChannelSigner): Promise<{ type: FrameType; bytes: Uint8Array; code?: Code } | null> {
    const payment = await this.nextPayment(nowMs, signer);
    if (payment) return payment;
    const next = this.control.shift();
    if (next) {
      const [code, reason] = next;
      return { type: FRAME.CLOSE, code, bytes: encode({ type: FRAME.CLOSE, code, lastSeq: this.stream_.received.seq, reason }) };
    }
    return null;
  }

  private async nextPayment(nowMs: number, signer: ChannelSigner): Promise<{ type: FrameType; bytes: Uint8Array } | null> {
    const streaming = this.phase_ === "streaming";
    const a = this.agreed;
    if (!a || !(streaming || this.finalPayment)) return null;
    const s = this.stream_;
    const received = s.received.seq;
    const owed = this.owed();
    const unpaid = owed > s.paid ? owed - s.paid : 0n;
    const w = a.windowAmount;
    const pct = BigInt(this.cfg.payAtPercent);
    const threshold = [(w / 100n) * pct + ((w % 100n) * pct) / 100n, 1n].reduce((x, y) => (x > y ? x : y));
    const idle = nowMs - this.lastDataMs >= this.cfg.idlePayMs;
    const half = BigInt(Math.max(1, Math.floor(a.maxInFlight / 2)));
    const channelId = BigInt(this.cfg.channel.id);
    if (unpaid > 0n && (this.finalPayment || unpaid >= threshold || idle)) {
      let signature: Uint8Array;
      try {
        signature = await signer.signVoucher(owed);
      } catch (e) {
        throw this.fail(CODES.INTERNAL, `could not sign: ${(e as Error).message}`);
      }
      s.paid = owed;
      s.paidSignature = signature;
      this.acked = received;
      this.resendPaid = false;
      return { type: FRAME.VOUCHER, bytes: encode({ type: FRAME.VOUCHER, channelId, ackSeq: received, amount: owed, signature }) };
    }
    if (this.resendPaid && s.paidSignature) {
      // The seller lost this voucher in the disconnect: send it again.
      this.resendPaid = false;
      this.acked = received;
      return { type: FRAME.VOUCHER, bytes: encode({ type: FRAME.VOUCHER, channelId, ackSeq: received, amount: s.paid, signature: s.paidSignature }) };
    }
    this.finalPayment = false;
    if (streaming && received > this.acked && (received - this.acked >= half || idle)) {
      this.acked = received;
      return { type: FRAME.ACK, bytes: encode({ type: FRAME.ACK, ackSeq: received }) };
    }
    return null;
  }
}
