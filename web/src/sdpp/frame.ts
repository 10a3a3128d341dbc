/**
 * SDPP binary frames (docs/sdpp.md §5): a 5-byte header (type u8, body
 * length u32) and a body, big-endian. Decoding checks the declared length
 * against the type's range before anything else, refuses trailing or missing
 * bytes, unknown types, unknown CLOSE codes and non-UTF-8 reasons.
 */

import { Reader, Writer, utf8 } from "./bytes";
import { CODES, codeOf, type Code } from "./codes";

export const HEADER_LEN = 5;
/** Largest payload sdpp/1 allows (1 MiB); an offer may lower it. */
export const MAX_PAYLOAD = 1 << 20;
export const DATA_FIXED_LEN = 20;
export const MAX_BODY_LEN = DATA_FIXED_LEN + MAX_PAYLOAD;
export const MAX_REASON_LEN = 123;
export const SIGNATURE_LEN = 64;

export const FRAME = { DATA: 1, VOUCHER: 2, ACK: 3, RECEIPT: 4, CLOSE: 5 } as const;
export type FrameType = (typeof FRAME)[keyof typeof FRAME];
const TYPE_NAMES: Record<FrameType, string> = { 1: "DATA", 2: "VOUCHER", 3: "ACK", 4: "RECEIPT", 5: "CLOSE" };
export const frameName = (t: FrameType): string => TYPE_NAMES[t];

/** Allowed body lengths per type, inclusive. */
const BODY: Record<FrameType, [number, number]> = {
  1: [DATA_FIXED_LEN, MAX_BODY_LEN],
  2: [8 + 8 + 16 + SIGNATURE_LEN, 8 + 8 + 16 + SIGNATURE_LEN],
  3: [8, 8],
  4: [24, 24],
  5: [10, 10 + MAX_REASON_LEN],
};

export interface DataFrame {
  type: 1;
  seq: bigint;
  timestampMs: bigint;
  units: number;
  payload: Uint8Array;
}
export interface VoucherFrame {
  type: 2;
  channelId: bigint;
  ackSeq: bigint;
  amount: bigint;
  signature: Uint8Array;
}
export interface AckFrame {
  type: 3;
  ackSeq: bigint;
}
export interface ReceiptFrame {
  type: 4;
  ackSeq: bigint;
  amount: bigint;
}
export interface CloseFrame {
  type: 5;
  code: Code;
  lastSeq: bigint;
  reason: string;
}
export type Frame = DataFrame | VoucherFrame | AckFrame | ReceiptFrame | CloseFrame;

/** Why bytes are not a frame, with the code to close the session with. */
export class DecodeError extends Error {
  constructor(
    message: string,
    public readonly code: Code = CODES.MALFORMED_FRAME,
  ) {
    super(message);
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes one WebSocket binary message holding exactly one frame. */
export function decode(buf: Uint8Array): Frame {
  if (buf.length < HEADER_LEN) throw new DecodeError(`truncated frame: ${HEADER_LEN} bytes needed, ${buf.length} available`);
  const t = buf[0];
  if (!(t in BODY)) throw new DecodeError(`unknown frame type 0x${t.toString(16).padStart(2, "0")}`);
  const type = t as FrameType;
  const declared = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(1);
  if (declared > MAX_BODY_LEN) throw new DecodeError(`frame body of ${declared} bytes exceeds the maximum of ${MAX_BODY_LEN}`, CODES.FRAME_TOO_LARGE);
  const [min, max] = BODY[type];
  if (declared < min || declared > max) throw new DecodeError(`${TYPE_NAMES[type]} body of ${declared} bytes; allowed ${min} to ${max}`);
  const len = HEADER_LEN + declared;
  if (buf.length < len) throw new DecodeError(`truncated frame: ${len} bytes needed, ${buf.length} available`);
  if (buf.length > len) throw new DecodeError(`message of ${buf.length} bytes holds a frame of ${len} bytes`);
  const r = new Reader(buf.subarray(HEADER_LEN));
  switch (type) {
    case FRAME.DATA:
      return { type, seq: r.u64(), timestampMs: r.u64(), units: r.u32(), payload: r.rest() };
    case FRAME.VOUCHER:
      return { type, channelId: r.u64(), ackSeq: r.u64(), amount: r.u128(), signature: r.take(SIGNATURE_LEN) };
    case FRAME.ACK:
      return { type, ackSeq: r.u64() };
    case FRAME.RECEIPT:
      return { type, ackSeq: r.u64(), amount: r.u128() };
    case FRAME.CLOSE: {
      const raw = r.u16();
      const code = codeOf(raw);
      if (code === null) throw new DecodeError(`unknown close code ${raw}`);
      const lastSeq = r.u64();
      let reason: string;
      try {
        reason = strictUtf8.decode(r.rest());
      } catch {
        throw new DecodeError("close reason is not UTF-8");
      }
      return { type, code, lastSeq, reason };
    }
  }
}

/** Encodes a frame (the buyer sends VOUCHER, ACK and CLOSE; DATA and RECEIPT are for tests). */
export function encode(f: Frame): Uint8Array {
  const body = new Writer();
  switch (f.type) {
    case FRAME.DATA:
      if (f.payload.length > MAX_PAYLOAD) throw new RangeError(`payload of ${f.payload.length} bytes exceeds ${MAX_PAYLOAD}`);
      body.u64(f.seq).u64(f.timestampMs).u32(f.units).bytes(f.payload);
      break;
    case FRAME.VOUCHER:
      if (f.signature.length !== SIGNATURE_LEN) throw new RangeError(`a signature is ${SIGNATURE_LEN} bytes, got ${f.signature.length}`);
      body.u64(f.channelId).u64(f.ackSeq).u128(f.amount).bytes(f.signature);
      break;
    case FRAME.ACK:
      body.u64(f.ackSeq);
      break;
    case FRAME.RECEIPT:
      body.u64(f.ackSeq).u128(f.amount);
      break;
    case FRAME.CLOSE: {
      const reason = utf8(f.reason);
      if (reason.length > MAX_REASON_LEN) throw new RangeError(`close reason of ${reason.length} bytes exceeds ${MAX_REASON_LEN}`);
      body.u16(f.code).u64(f.lastSeq).bytes(reason);
      break;
    }
  }
  const b = body.done();
  return new Writer().u8(f.type).u32(b.length).bytes(b).done();
}

/** An error's text cut at a character boundary to fit a CLOSE reason. */
export function closeReason(text: string): string {
  let out = text;
  while (utf8(out).length > MAX_REASON_LEN) out = Array.from(out).slice(0, -1).join("");
  return out;
}
