// Signs the relayer's test vector with CosmJS and prints the result as JSON.
// Usage: node vectors.mjs input.json
// The Rust test (relayer/tests/cosmjs_vectors.rs) signs the same input with
// cosmrs and compares every field byte for byte.
import { readFileSync } from "node:fs";
import {
  DirectSecp256k1HdWallet,
  Registry,
  encodePubkey,
  makeAuthInfoBytes,
  makeSignDoc,
} from "@cosmjs/proto-signing";
import { wasmTypes } from "@cosmjs/cosmwasm-stargate";
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import { fromBase64, toHex, toUtf8 } from "@cosmjs/encoding";
import { sha256, stringToPath } from "@cosmjs/crypto";
import { TxRaw, SignDoc } from "cosmjs-types/cosmos/tx/v1beta1/tx";

const input = JSON.parse(readFileSync(process.argv[2] ?? "input.json", "utf8"));

const wallet = await DirectSecp256k1HdWallet.fromMnemonic(input.mnemonic, {
  prefix: input.prefix,
  hdPaths: [stringToPath(`m/44'/118'/0'/0/${input.account_index}`)],
});
const [account] = await wallet.getAccounts();

const registry = new Registry(wasmTypes);
// The SDK wants coins sorted by denom.
const funds = [...input.execute.funds].sort((a, b) => (a.denom < b.denom ? -1 : a.denom > b.denom ? 1 : 0));
const bodyBytes = registry.encode({
  typeUrl: "/cosmos.tx.v1beta1.TxBody",
  value: {
    messages: [
      {
        typeUrl: "/cosmwasm.wasm.v1.MsgExecuteContract",
        value: {
          sender: account.address,
          contract: input.execute.contract,
          msg: toUtf8(input.execute.msg),
          funds,
        },
      },
    ],
    memo: input.memo,
  },
});
const pubkey = encodePubkey(encodeSecp256k1Pubkey(account.pubkey));
const authInfoBytes = makeAuthInfoBytes(
  [{ pubkey, sequence: BigInt(input.sequence) }],
  [{ denom: input.fee.denom, amount: input.fee.amount }],
  input.fee.gas_limit,
  undefined,
  undefined,
);
const signDoc = makeSignDoc(bodyBytes, authInfoBytes, input.chain_id, input.account_number);
const { signed, signature } = await wallet.signDirect(account.address, signDoc);
const sig = fromBase64(signature.signature);
const txBytes = TxRaw.encode(
  TxRaw.fromPartial({
    bodyBytes: signed.bodyBytes,
    authInfoBytes: signed.authInfoBytes,
    signatures: [sig],
  }),
).finish();

console.log(
  JSON.stringify(
    {
      address: account.address,
      pubkey: toHex(account.pubkey),
      body_bytes: toHex(signed.bodyBytes),
      auth_info_bytes: toHex(signed.authInfoBytes),
      sign_bytes: toHex(SignDoc.encode(signed).finish()),
      signature: toHex(sig),
      tx_bytes: toHex(txBytes),
      tx_hash: toHex(sha256(txBytes)).toUpperCase(),
    },
    null,
    2,
  ),
);
