/** The TCR vote commitment, computed in the browser so the salt never leaves it before the reveal. */

import { sha256 } from "@cosmjs/crypto";
import { toAscii, toHex } from "@cosmjs/encoding";
import type { Choice } from "./contracts/TokenCuratedRegistry.types";

/**
 * sha256 of the contract's preimage (token-curated-registry/src/commitment.rs):
 * domain ‖ len‖chain_id ‖ len‖contract ‖ u64 poll_id (BE) ‖ len‖voter ‖ choice byte (keep 1, remove 0) ‖ len‖salt.
 */
export function commitment(chainId: string, contract: string, poll: number, voter: string, choice: Choice, salt: Uint8Array): string {
  const parts: number[] = [...toAscii("wevalue-tcr-commit-v1")];
  const prefixed = (b: Uint8Array) => parts.push(b.length, ...b);
  prefixed(toAscii(chainId));
  prefixed(toAscii(contract));
  const id = new DataView(new ArrayBuffer(8));
  id.setBigUint64(0, BigInt(poll));
  parts.push(...new Uint8Array(id.buffer));
  prefixed(toAscii(voter));
  parts.push(choice === "keep" ? 1 : 0);
  prefixed(salt);
  return toHex(sha256(new Uint8Array(parts)));
}

