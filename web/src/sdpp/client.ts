/**
 * One SDPP connection from the browser (the I/O around `BuyerSession`, as
 * relayer/gateway/src/buyer.rs is for the CLI): opens the listing's
 * WebSocket offering `sdpp.1`, does the handshake, then hands each counted
 * chunk on, pays and acknowledges, until the buyer stops, the seller
 * closes, a frame is refused or the connection drops. The stream record is
 * persisted before a chunk is handed on and before a voucher leaves, so a
 * reload resumes where the seller and the buyer agree.
 */

import { CODES, codeName, wsCloseCode, type Code } from "./codes";
import { FRAME, type DataFrame } from "./frame";
import { SUBPROTOCOL } from "./handshake";
import { BuyerSession, SessionError, type BuyerConfig, type BuyerStream, type ChannelSigner, type OfferVerifier } from "./session";

export interface Report {
  chunks: number;
  bytes: number;
  vouchers: number;
  /** The seller's CLOSE: code and reason. */
  sellerClose: { code: Code; reason: string } | null;
  /** The error this buyer refused the seller with. */
  refused: SessionError | null;
  /** The connection ended without a CLOSE. */
  dropped: boolean;
  /** The buyer ended the session (Stop). */
  stopped: boolean;
}

/** Why a connection could not run at all. */
export class ConnectError extends Error {
  constructor(
    message: string,
    /** The seller's refusal code, when it refused the handshake. */
    public readonly code: Code | null = null,
    /** Whether trying again later may work (unreachable, busy, restarting). */
    public readonly transient = false,
  ) {
    super(message);
  }
}

export interface Callbacks {
  /** Persists the record (awaited before the chunk is handed on or the voucher sent). */
  persist(stream: BuyerStream): Promise<void>;
  onData(frame: DataFrame, stream: BuyerStream): void;
  /** Vouchers signed and receipts held changed. */
  onPayment(stream: BuyerStream): void;
  /** The handshake is done: the credit window (amount) and the limit. */
  onAccepted(windowAmount: bigint, limit: bigint): void;
}

type Inbound = { kind: "binary"; data: Uint8Array } | { kind: "text"; data: string } | { kind: "closed"; code: number; reason: string } | { kind: "wake" };

/** Messages in arrival order; `next` waits up to a timeout (the session's tick). */
class Inbox {
  private items: Inbound[] = [];
  private waiter: ((m: Inbound | null) => void) | null = null;
  push(m: Inbound): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(m);
    } else this.items.push(m);
  }
  next(timeoutMs: number): Promise<Inbound | null> {
    const m = this.items.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiter = null;
        resolve(null);
      }, timeoutMs);
      this.waiter = (x) => {
        clearTimeout(t);
        resolve(x);
      };
    });
  }
}

const TICK_MS = 100;
const CLOSING_GRACE_MS = 5000;

/** A running connection: `done` resolves with the record to resume from and what happened. */
export class Connection {
  private inbox = new Inbox();
  private stopAsked = false;
  readonly done: Promise<{ stream: BuyerStream; report: Report }>;

  constructor(
    url: string,
    cfg: BuyerConfig,
    stream: BuyerStream | null,
    signer: ChannelSigner,
    verifier: OfferVerifier,
    cb: Callbacks,
    handshakeTimeoutMs = 10_000,
  ) {
    this.done = this.run(url, cfg, stream, signer, verifier, cb, handshakeTimeoutMs);
  }

  /** Ends the session gracefully: pays for everything received, then closes. */
  stop(): void {
    this.stopAsked = true;
    this.inbox.push({ kind: "wake" });
  }

  private async connect(url: string): Promise<WebSocket> {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, [SUBPROTOCOL]);
    } catch (e) {
      // A malformed URL, or ws:// from an https:// page (mixed content).
      throw new ConnectError(`cannot connect to ${url}: ${(e as Error).message}`);
    }
    ws.binaryType = "arraybuffer";
    ws.onmessage = (ev) => this.inbox.push(typeof ev.data === "string" ? { kind: "text", data: ev.data } : { kind: "binary", data: new Uint8Array(ev.data as ArrayBuffer) });
    ws.onclose = (ev) => this.inbox.push({ kind: "closed", code: ev.code, reason: ev.reason });
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      // The browser tells nothing more (by design): unreachable, refused, or not a WebSocket.
      ws.onerror = () => reject(new ConnectError(`the gateway at ${url} cannot be reached (or refused the WebSocket)`, null, true));
    });
    ws.onerror = null;
    if (ws.protocol !== SUBPROTOCOL) {
      ws.close(1000);
      throw new ConnectError(`the gateway did not select the subprotocol ${SUBPROTOCOL}`);
    }
    return ws;
  }

  private async run(
    url: string,
    cfg: BuyerConfig,
    initial: BuyerStream | null,
    signer: ChannelSigner,
    verifier: OfferVerifier,
    cb: Callbacks,
    handshakeTimeoutMs: number,
  ): Promise<{ stream: BuyerStream; report: Report }> {
    const session = new BuyerSession(cfg, initial);
    const ws = await this.connect(url);
    const epoch = performance.now();
    const now = () => Math.floor(performance.now() - epoch);
    const send = (b: Uint8Array) => ws.readyState === WebSocket.OPEN && (ws.send(b), true);
    try {
      ws.send(session.hello(crypto.getRandomValues(new Uint8Array(32))));
      const deadline = now() + handshakeTimeoutMs;
      let offer: string | null = null;
      while (offer === null) {
        if (this.stopAsked) throw new ConnectError("stopped before the seller answered");
        const m = await this.inbox.next(Math.max(1, deadline - now()));
        if (m === null) throw new ConnectError(`no OFFER within ${handshakeTimeoutMs / 1000} s`, null, true);
        if (m.kind === "closed") throw new ConnectError(`the gateway closed the connection before its OFFER (${m.code} ${m.reason})`, null, true);
        if (m.kind === "binary") {
          // A refusal is a CLOSE frame, even during the handshake.
          const ev = (() => {
            try {
              return session.onFrame(m.data, now());
            } catch (e) {
              return e as SessionError;
            }
          })();
          if ("kind" in ev && ev.kind === "closed") {
            const busy = ev.code === CODES.CHANNEL_IN_USE || ev.code === CODES.UNAVAILABLE || ev.code === CODES.SHUTTING_DOWN;
            throw new ConnectError(`the seller refused: ${codeName(ev.code)} ${ev.reason}`, ev.code, busy);
          }
          throw new ConnectError("the seller sent a binary frame instead of its OFFER", CODES.UNEXPECTED_FRAME);
        }
        if (m.kind === "text") offer = m.data;
      }
      let accept: string;
      try {
        accept = await session.onOffer(offer, now(), Math.floor(Date.now() / 1000), verifier, signer);
      } catch (e) {
        const out = await session.pollTransmit(now(), signer).catch(() => null);
        if (out) send(out.bytes);
        const code = e instanceof SessionError ? e.code : CODES.INTERNAL;
        ws.close(wsCloseCode(code), codeName(code));
        throw e instanceof SessionError ? new ConnectError(`the offer was refused: ${e.message}`, e.code) : e;
      }
      ws.send(accept);
      cb.onAccepted(session.windowAmount ?? 0n, session.limit);
      const report = await this.stream(ws, session, signer, cb, now, send);
      ws.close(wsCloseCode(report.closeSent ?? CODES.NORMAL), codeName(report.closeSent ?? CODES.NORMAL));
      await cb.persist(session.stream);
      return { stream: session.stream, report: report.report };
    } catch (e) {
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      throw e;
    }
  }

  private async stream(
    ws: WebSocket,
    session: BuyerSession,
    signer: ChannelSigner,
    cb: Callbacks,
    now: () => number,
    send: (b: Uint8Array) => boolean,
  ): Promise<{ report: Report; closeSent: Code | null }> {
    const report: Report = { chunks: 0, bytes: 0, vouchers: 0, sellerClose: null, refused: null, dropped: false, stopped: false };
    let closeSent: Code | null = null;
    let closingSince: number | null = null;
    const gone = () => closeSent === null && report.sellerClose === null;
    for (;;) {
      if (this.stopAsked && session.phase === "streaming") {
        session.close(CODES.NORMAL, "the buyer is done");
        report.stopped = true;
      }
      for (;;) {
        let out;
        try {
          out = await session.pollTransmit(now(), signer);
        } catch (e) {
          // A signing failure: the session queued its CLOSE.
          report.refused = e as SessionError;
          continue;
        }
        if (!out) break;
        if (out.type === FRAME.VOUCHER) {
          await cb.persist(session.stream);
          report.vouchers += 1;
          cb.onPayment(session.stream);
        }
        if (out.type === FRAME.CLOSE) closeSent ??= out.code ?? CODES.NORMAL;
        if (!send(out.bytes)) {
          report.dropped = gone();
          return { report, closeSent };
        }
      }
      if (session.phase === "closed" && closeSent !== null) return { report, closeSent };
      if (session.phase === "closing") {
        closingSince ??= now();
        if (now() - closingSince > CLOSING_GRACE_MS) return { report, closeSent };
      }
      const m = await this.inbox.next(TICK_MS);
      if (m === null || m.kind === "wake") continue;
      if (m.kind === "closed") {
        report.dropped = gone();
        return { report, closeSent };
      }
      if (m.kind === "text") {
        const msg = "a text message is not allowed while streaming";
        session.close(CODES.UNEXPECTED_FRAME, msg);
        report.refused = new SessionError(CODES.UNEXPECTED_FRAME, msg);
        continue;
      }
      let ev;
      try {
        ev = session.onFrame(m.data, now());
      } catch (e) {
        report.refused = e as SessionError;
        continue;
      }
      if (ev.kind === "data") {
        await cb.persist(session.stream);
        report.chunks += 1;
        report.bytes += ev.frame.payload.length;
        cb.onData(ev.frame, session.stream);
      } else if (ev.kind === "receipt") {
        cb.onPayment(session.stream);
      } else if (ev.kind === "closed") {
        report.sellerClose = { code: ev.code, reason: ev.reason };
      }
    }
  }
}
