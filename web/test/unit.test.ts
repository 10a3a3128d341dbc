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

// Errors as CosmJS 0.38 reports them from wasmd 0.61 (captured from the localnet).
const SIMULATED_RATE =
  "Query failed with (6): rpc error: code = Unknown desc = failed to execute message; message index: 0: wasm1305zcnckz5a7au6kedxr2jfnhl5e3356cs9zan paid 0 for listing 1 in its asset; a first rating needs at least 1000 (its price × 100 units): execute wasm contract failed [CosmWasm/wasmd/x/wasm/keeper/keeper.go:452] with gas used: '181557': unknown request";
const SIMULATED_SELLER =
  "Query failed with (6): rpc error: code = Unknown desc = failed to execute message; message index: 0: only the seller of listing 1 may do this: execute wasm contract failed [CosmWasm/wasmd/x/wasm/keeper/keeper.go:452] with gas used: '112348': unknown request";
const QUERY_NOT_FOUND = "Query failed with (6): listing 999 not found: query wasm contract failed: unknown request";
const QUERY_CELL =
  'Query failed with (6): invalid geohash cell "ua": only geohash base32 characters (0-9, b-h, j, k, m, n, p-z) are allowed: query wasm contract failed: unknown request';

test("the contract's own words are cut out of wasmd's and CosmJS's wrappers", () => {
  assert.equal(contractText(new Error(SIMULATED_RATE)), "wasm1305zcnckz5a7au6kedxr2jfnhl5e3356cs9zan paid 0 for listing 1 in its asset; a first rating needs at least 1000 (its price × 100 units)");
  assert.equal(contractText(new Error(SIMULATED_SELLER)), "only the seller of listing 1 may do this");
  assert.equal(contractText(new Error(QUERY_NOT_FOUND)), "listing 999 not found");
  assert.equal(contractText(new Error(QUERY_CELL)), 'invalid geohash cell "ua": only geohash base32 characters (0-9, b-h, j, k, m, n, p-z) are allowed');
  assert.equal(contractText("plain text"), "plain text");
});

test("contract errors read as sentences, naming the field they concern", () => {
  const rate = explain(new Error(SIMULATED_RATE));
  assert.equal(rate.text, "Only buyers can rate: you paid 0 for listing #1, and a rating needs a purchase of at least 1000 (100 units at its price).");
  assert.equal(rate.field, null);
  assert.equal(explain(new Error(SIMULATED_SELLER)).text, "Only the seller of listing #1 can do this.");
  assert.equal(explain(new Error(QUERY_NOT_FOUND)).text, "There is no listing #999.");
  const cell = explain(new Error(QUERY_CELL));
  assert.equal(cell.field, "cell");
  const cid = explain(new Error('invalid IPFS CID "not-a-cid": not a CIDv0 (Qm…) or a base32 CIDv1 (b…)'));
  assert.equal(cid.field, "cid");
  assert.match(cid.text, /^“not-a-cid” is not a valid IPFS content id/);
  const len = explain(new Error("title must be 1 to 200 characters long, got 0"));
  assert.deepEqual([len.text, len.field], ["Title must be 1 to 200 characters long (it has 0).", "title"]);
  const range = explain(new Error("max_participants must be 1 to 16, got 40"));
  assert.deepEqual([range.text, range.field], ["Max participants must be 1 to 16 (got 40).", "max_participants"]);
  // Unknown text is passed on as it is.
  assert.equal(explain(new Error("something new")).text, "something new");
});
