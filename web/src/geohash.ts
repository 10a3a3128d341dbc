/** Geohash cells (the data registry indexes listings by 9-character geohash). */

export const BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz";

export interface Box {
  south: number;
  west: number;
  north: number;
  east: number;
}

/** The cell's bounding box; throws on a character outside the geohash alphabet. */
export function bounds(cell: string): Box {
  let lat: [number, number] = [-90, 90];
  let lon: [number, number] = [-180, 180];
  let even = true;
  for (const ch of cell) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new Error(`“${ch}” is not a geohash character`);
    for (let bit = 4; bit >= 0; bit--) {
      const r = even ? lon : lat;
      const mid = (r[0] + r[1]) / 2;
      if ((v >> bit) & 1) r[0] = mid;
      else r[1] = mid;
      even = !even;
    }
  }
  return { south: lat[0], north: lat[1], west: lon[0], east: lon[1] };
}

/** The geohash of a point, `len` characters. */
export function encode(latitude: number, longitude: number, len: number): string {
  let lat: [number, number] = [-90, 90];
  let lon: [number, number] = [-180, 180];
  let even = true;
  let out = "";
  let v = 0;
  let bits = 0;
  while (out.length < len) {
    const r = even ? lon : lat;
    const x = even ? longitude : latitude;
    const mid = (r[0] + r[1]) / 2;
    v <<= 1;
    if (x >= mid) {
      v |= 1;
      r[0] = mid;
    } else r[1] = mid;
    even = !even;
    if (++bits === 5) {
      out += BASE32[v];
      v = 0;
      bits = 0;
    }
  }
  return out;
}

export const isCell = (s: string): boolean => /^[0-9b-hjkmnp-z]{1,9}$/.test(s);

/** Approximate size of a cell in km (north-south × east-west at its centre). */
export function sizeKm(cell: string): string {
  const b = bounds(cell);
  const ns = (b.north - b.south) * 111.2;
  const ew = (b.east - b.west) * 111.2 * Math.cos((((b.north + b.south) / 2) * Math.PI) / 180);
  const f = (x: number) => (x >= 10 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1));
  return `${f(ns)} km × ${f(ew)} km`;
}
