/** Formatting of amounts, assets, addresses and chain timestamps. */

/** A cosmwasm Timestamp (nanoseconds as a string) in unix seconds, to the millisecond. */
export const secs = (ts: string): number => Number(BigInt(ts) / 1_000_000n) / 1000;

/** A chain timestamp as local date and time. */
export function when(ts: string | null | undefined): string {
  if (!ts) return "—";
  return new Date(secs(ts) * 1000).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "medium" });
}

/** "in 12 s" / "3 min ago" relative to `now` (unix seconds). */
export function relative(ts: string, now: number): string {
  const d = Math.round(secs(ts) - now);
  const abs = Math.abs(d);
  const s = abs < 120 ? `${abs} s` : abs < 7200 ? `${Math.round(abs / 60)} min` : `${Math.round(abs / 3600)} h`;
  return d >= 0 ? `in ${s}` : `${s} ago`;
}

type AssetLike = { native: string } | { cw20: string };

export function assetName(a: AssetLike): string {
  return "native" in a ? a.native : `cw20 ${short(a.cw20)}`;
}

export function amount(n: string | bigint, a?: AssetLike | string): string {
  const v = BigInt(n).toLocaleString("en-US");
  if (!a) return v;
  return `${v} ${typeof a === "string" ? a : assetName(a)}`;
}

/** wasm1abcd…wxyz */
export function short(addr: string): string {
  return addr.length > 20 ? `${addr.slice(0, 10)}…${addr.slice(-6)}` : addr;
}

export const MODEL_TEXT: Record<string, string> = {
  per_message: "per message",
  per_second: "per second of streaming",
  per_kilobyte: "per kilobyte",
};
