// Unit tests of the app's pure parts (node:test): geohash cells, the TCR
// vote commitment (expected digests computed independently from the
// contract's documented preimage), and the reading of chain errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { bounds, encode, isCell, sizeKm } from "../src/geohash";
import { commitment } from "../src/commitment";
import { contractText, explain } from "../src/errors";

test("geohash: the reference point encodes to its published hash, and lies in its cell", () => {
  // The classic example: 57.64911 N, 10.40744 E is u4pruydqqvj.
  assert.equal(encode(57.64911, 10.40744, 11), "u4pruydqqvj");
  const b = bounds("u4pruydqqvj");
  assert.ok(b.south <= 57.64911 && 57.64911 <= b.north && b.west <= 10.40744 && 10.40744 <= b.east);
  // Turin's centre, as the data registry indexes it.
  assert.equal(encode(45.0625, 7.678, 6), "u0j2qe");
  assert.deepEqual(bounds(""), { south: -90, north: 90, west: -180, east: 180 });
  // One character splits longitude in 8 and latitude in 4.
  assert.deepEqual(bounds("u"), { south: 45, north: 90, west: 0, east: 45 });
  // 5 characters: 180/2^12 degrees of latitude (4.9 km), 360/2^13 of longitude × cos 45.07° (3.5 km).
  assert.equal(sizeKm("u0j2q"), "4.9 km × 3.5 km");
});

test("geohash: cells are 1 to 9 characters of the geohash alphabet", () => {
  for (const ok of ["u", "u0j2q", "zzzzzzzzz", "0123456789".slice(0, 9)]) assert.equal(isCell(ok), true, ok);
  for (const bad of ["", "a", "ui", "ul", "uo", "u0j2q0000x", "U0J", "u0 j"]) assert.equal(isCell(bad), false, bad);
  assert.throws(() => bounds("ua"), /not a geohash character/);
});

test("the vote commitment is sha256 of the contract's length-prefixed preimage", () => {
  const contract = "wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s0phg4d";
  const voter = "wasm1vdahvezr9fletej4phz5rg73auzr4uhdshjgs5";
  const salt = Uint8Array.from({ length: 32 }, (_, i) => i);
  // Computed with Python's hashlib from the preimage documented in commitment.rs.
  assert.equal(commitment("wevalue-city-1", contract, 7, voter, "keep", salt), "9e2adc4a3936811f195b3f6019615ebcbe38f85b98b4f5eee258e9eaf853278f");
  assert.equal(commitment("wevalue-city-1", contract, 7, voter, "remove", salt), "fe7e7a7b4a2f7b008135381b0284803553075f07f076e2dcac7f368645046e10");
  // A poll id above 2^32 (big-endian u64) and a 16-byte salt.
  assert.equal(commitment("wevalue-city-1", contract, 2 ** 40 + 3, voter, "keep", new Uint8Array(16).fill(9)), "22eb11c7a8d86a5aa79e300ae6140b1d42ac5dc3e3007435701e4ec86f9e3584");
});
