// Derives addresses and public keys with CosmJS for BIP39 phrases of every
// length (12, 15, 18, 21, 24 words) and prints them as JSON.
// Usage: node mnemonics.mjs mnemonics.json
// The Rust test (relayer/tests/cosmjs_vectors.rs) derives the same with the
// relayer's key code and compares.
import { readFileSync } from "node:fs";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { stringToPath } from "@cosmjs/crypto";
import { toHex } from "@cosmjs/encoding";

const input = JSON.parse(readFileSync(process.argv[2] ?? "mnemonics.json", "utf8"));
const out = [];
for (const mnemonic of input.mnemonics) {
  for (const index of input.account_indexes) {
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, {
      prefix: input.prefix,
      hdPaths: [stringToPath(`m/44'/118'/0'/0/${index}`)],
    });
    const [account] = await wallet.getAccounts();
    out.push({
      words: mnemonic.split(" ").length,
      account_index: index,
      address: account.address,
      pubkey: toHex(account.pubkey),
    });
  }
}
console.log(JSON.stringify(out, null, 2));
