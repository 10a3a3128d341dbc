/** The sdpp/1 close and error codes (docs/sdpp.md §11), as CLOSE frames carry them. */

export const CODES = {
  NORMAL: 0,
  MALFORMED_FRAME: 100,
  UNEXPECTED_FRAME: 101,
  FRAME_TOO_LARGE: 102,
  BAD_HANDSHAKE: 103,
  UNKNOWN_LISTING: 200,
  TERMS_MISMATCH: 201,
  CHANNEL_INVALID: 202,
  CHANNEL_IN_USE: 203,
  OFFER_REJECTED: 204,
  BAD_PROOF: 205,
  BAD_ACCEPTANCE: 206,
  RESUME_MISMATCH: 207,
  BAD_SIGNATURE: 300,
  WRONG_CHANNEL: 301,
  VOUCHER_NOT_INCREASING: 302,
  VOUCHER_EXCEEDS_OWED: 303,
  LIMIT_REACHED: 304,
  AMOUNT_OVERFLOW: 305,
  PAYMENT_TIMEOUT: 306,
  CREDIT_EXCEEDED: 400,
  BAD_SEQUENCE: 401,
  BAD_UNITS: 402,
  PAYLOAD_TOO_LARGE: 403,
  BAD_ACK: 404,
  TOO_MANY_IN_FLIGHT: 405,
  BAD_RECEIPT: 406,
  INTERNAL: 500,
  UNAVAILABLE: 501,
  SHUTTING_DOWN: 502,
} as const;

export type CodeName = keyof typeof CODES;
export type Code = (typeof CODES)[CodeName];

const NAMES = new Map<number, CodeName>(Object.entries(CODES).map(([k, v]) => [v, k as CodeName]));

/** The code for a wire value, if sdpp/1 defines it. */
export const codeOf = (v: number): Code | null => (NAMES.has(v) ? (v as Code) : null);

export const codeName = (c: Code): CodeName => NAMES.get(c) ?? "INTERNAL";

/** Graceful codes end the data but not the payments (§10). */
export const isGraceful = (c: Code): boolean =>
  c === CODES.NORMAL || c === CODES.LIMIT_REACHED || c === CODES.PAYMENT_TIMEOUT || c === CODES.SHUTTING_DOWN || c === CODES.UNAVAILABLE;

/** Whether the stream may be resumed on a new connection after this code. */
export const isResumable = (c: Code): boolean =>
  !(
    [CODES.UNKNOWN_LISTING, CODES.TERMS_MISMATCH, CODES.CHANNEL_INVALID, CODES.RESUME_MISMATCH, CODES.BAD_PROOF, CODES.OFFER_REJECTED] as number[]
  ).includes(c);

/** The WebSocket close code after a CLOSE frame: 1000 for NORMAL, else 4000 + the code. */
export const wsCloseCode = (c: Code): number => (c === CODES.NORMAL ? 1000 : 4000 + c);
