/** Big-endian binary writing and reading, and strict hex: the pieces every SDPP and voucher encoding is made of. */

const encoder = new TextEncoder();
const U64_MAX = (1n << 64n) - 1n;
const U128_MAX = (1n << 128n) - 1n;

export const utf8 = (s: string): Uint8Array => encoder.encode(s);

/** Appends big-endian integers, byte strings and u16-length-prefixed strings. */
export class Writer {
  private parts: number[] = [];

  bytes(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  u8(v: number): this {
    return this.uint(BigInt(v), 1);
  }
  u16(v: number): this {
    return this.uint(BigInt(v), 2);
  }
  u32(v: number): this {
    return this.uint(BigInt(v), 4);
  }
  u64(v: bigint | number): this {
    return this.uint(BigInt(v), 8);
  }
  u128(v: bigint): this {
    return this.uint(v, 16);
  }
  /** str(s): u16 length + UTF-8 bytes (the encodings' only variable-length field). */
  str(s: string): this {
    const b = utf8(s);
    if (b.length > 0xffff) throw new RangeError(`a string of ${b.length} bytes does not fit a u16 length`);
    return this.u16(b.length).bytes(b);
  }
  private uint(v: bigint, n: number): this {
    if (v < 0n || v >= 1n << BigInt(8 * n)) throw new RangeError(`${v} does not fit in ${8 * n} bits`);
    for (let i = n - 1; i >= 0; i--) this.parts.push(Number((v >> BigInt(8 * i)) & 0xffn));
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** Reads big-endian fields from a buffer whose length the caller checked. */
export class Reader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  uint(n: number): bigint {
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.buf[this.pos + i]);
    this.pos += n;
    return v;
  }
  u8(): number {
    return Number(this.uint(1));
  }
  u16(): number {
    return Number(this.uint(2));
  }
  u32(): number {
    return Number(this.uint(4));
  }
  u64(): bigint {
    return this.uint(8);
  }
  u128(): bigint {
    return this.uint(16);
  }
  take(n: number): Uint8Array {
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  rest(): Uint8Array {
    return this.take(this.buf.length - this.pos);
  }
}

export function toHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** Exactly `len` bytes of hex (either case), or null. */
export function fromHex(s: string, len?: number): Uint8Array | null {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return null;
  if (len !== undefined && s.length !== 2 * len) return null;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A canonical decimal amount ("0", "1500"; not "01", "+1", "") up to 2^128 − 1, or null. */
export function parseAmount(s: string): bigint | null {
  if (!/^(0|[1-9][0-9]*)$/.test(s)) return null;
  const v = BigInt(s);
  return v <= U128_MAX ? v : null;
}

export const fitsU64 = (v: bigint): boolean => v >= 0n && v <= U64_MAX;
export const fitsU128 = (v: bigint): boolean => v >= 0n && v <= U128_MAX;

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
