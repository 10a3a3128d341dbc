/** The signing stack (CosmJS signing client, HD wallet), loaded only when a wallet connects: the first render does not need it. */

import { SigningCosmWasmClient } from "@cosmjs/cosmwasm";
import { DirectSecp256k1HdWallet, type OfflineSigner } from "@cosmjs/proto-signing";
import { GasPrice } from "@cosmjs/stargate";

export async function signingClient(rpc: string, gasPrice: string, signer: OfflineSigner): Promise<SigningCosmWasmClient> {
  return SigningCosmWasmClient.connectWithSigner(rpc, signer, {
    gasPrice: GasPrice.fromString(gasPrice),
    // Blocks come every ~300 ms on the localnet; CosmJS polls every 3 s by default.
    broadcastPollIntervalMs: 400,
  });
}

/** A wallet from a test mnemonic (the development wallet). */
export async function mnemonicWallet(mnemonic: string, prefix: string): Promise<{ wallet: OfflineSigner; address: string }> {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic.trim(), { prefix });
  const [account] = await wallet.getAccounts();
  return { wallet, address: account.address };
}
