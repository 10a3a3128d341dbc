/**
 * The payment-channel voucher as `wevalue-voucher` defines it
 * (packages/voucher/src/lib.rs): the sign bytes every scheme signs, and the
 * ADR-036 sign doc wallets sign arbitrary data with (the gateway
 * certificate is one).
 */

import { toBase64 } from "@cosmjs/encoding";
import { Writer, utf8 } from "./bytes";

/** Domain tag of every voucher's sign bytes. */
export const VOUCHER_DOMAIN = "wevalue/payment-channel/voucher/v1";

export interface Voucher {
  chainId: string;
  /** The payment-channel contract (bech32). */
  contract: string;
  channelId: number | bigint;
  /** Cumulative amount owed, in the channel asset's smallest unit. */
  amount: bigint;
  /** sha256 hashlock, exactly 32 bytes, or none. */
  hashlock?: Uint8Array | null;
  /** Unix seconds, or none. */
  expiry?: number | bigint | null;
}

/**
 * DOMAIN ‖ str(chain_id) ‖ str(contract) ‖ u64 channel_id ‖ u128 amount ‖
 * (0 | 1 ‖ hashlock[32]) ‖ (0 | 1 ‖ u64 expiry). SDPP vouchers have neither
 * hashlock nor expiry.
 */
export function voucherSignBytes(v: Voucher): Uint8Array {
  const w = new Writer().bytes(utf8(VOUCHER_DOMAIN)).str(v.chainId).str(v.contract).u64(v.channelId).u128(v.amount);
  if (v.hashlock) {
    if (v.hashlock.length !== 32) throw new RangeError(`hashlock must be 32 bytes (sha256), got ${v.hashlock.length}`);
    w.u8(1).bytes(v.hashlock);
  } else {
    w.u8(0);
  }
  if (v.expiry !== null && v.expiry !== undefined) w.u8(1).u64(v.expiry);
  else w.u8(0);
  return w.done();
}

/**
 * The amino JSON sign doc of ADR-036 `signArbitrary`, exactly as wallets
 * serialize it (sorted keys, no whitespace, empty fee, zero numbers, empty
 * chain id). Base64 and bech32 need no JSON escaping, so plain text is canonical.
 */
export function adr036SignDoc(signer: string, data: Uint8Array): string {
  return (
    `{"account_number":"0","chain_id":"","fee":{"amount":[],"gas":"0"},"memo":"",` +
    `"msgs":[{"type":"sign/MsgSignData","value":{"data":"${toBase64(data)}","signer":"${signer}"}}],"sequence":"0"}`
  );
}
