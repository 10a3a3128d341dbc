/** Wallets (Keplr-compatible, or the localnet's development wallet) and the signing path every transaction takes. */

// CosmJS is imported on demand (a chunk of its own): the app shell renders without it.
import type { CosmWasmClient, SigningCosmWasmClient } from "@cosmjs/cosmwasm";
import type { OfflineSigner } from "@cosmjs/proto-signing";
import type { StdFee } from "@cosmjs/stargate";
import { toUtf8 } from "@cosmjs/encoding";
import { config } from "./config";
import { Cancelled, TxError, explain } from "./errors";
import { confirmFee } from "./fee-dialog";
import type { ISigningCosmWasmClient } from "./contracts/baseClient";

/** The part of Keplr's injected API the app uses (other wallets inject the same). */
interface KeplrLike {
  enable(chainId: string): Promise<void>;
  experimentalSuggestChain?(info: unknown): Promise<void>;
  getOfflineSigner(chainId: string): OfflineSigner;
  getKey(chainId: string): Promise<{ name: string; bech32Address: string }>;
}
declare global {
  interface Window {
    keplr?: KeplrLike;
    leap?: KeplrLike;
  }
}

export interface Session {
  address: string;
  /** What the header shows: the wallet and the account. */
  label: string;
  kind: "keplr" | "dev";
  client: SigningCosmWasmClient;
}

let reader: Promise<CosmWasmClient> | null = null;
let session: Session | null = null;
const listeners = new Set<() => void>();

/** A read-only client for queries (shared). */
export function chain(): Promise<CosmWasmClient> {
  reader ??= import("@cosmjs/cosmwasm").then((m) => m.CosmWasmClient.connect(config().chain.rpc)).catch((e) => {
    reader = null;
    throw e;
  });
  return reader;
}

export const current = (): Session | null => session;
export function onWalletChange(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}
function set(s: Session | null): void {
  session = s;
  listeners.forEach((f) => f());
}

export function injectedWallet(): KeplrLike | null {
  return window.keplr ?? window.leap ?? null;
}

async function signingClient(signer: OfflineSigner): Promise<SigningCosmWasmClient> {
  const c = config().chain;
  const { signingClient: connect } = await import("./signing");
  return connect(c.rpc, c.gas_price, signer);
}

/** Connects Keplr (or a wallet with its API), suggesting the chain first where the wallet can. */
export async function connectKeplr(): Promise<void> {
  const k = injectedWallet();
  if (!k) throw new TxError("No Keplr-compatible wallet is installed in this browser.", "no window.keplr");
  const c = config().chain;
  const denom = { coinDenom: c.denom.replace(/^u/, "").toUpperCase(), coinMinimalDenom: c.denom, coinDecimals: 6 };
  const { GasPrice } = await import("@cosmjs/stargate");
  const price = Number(GasPrice.fromString(c.gas_price).amount.toString());
  if (k.experimentalSuggestChain) {
    await k.experimentalSuggestChain({
      chainId: c.chain_id,
      chainName: c.name,
      rpc: c.rpc,
      rest: c.rest ?? c.rpc,
      bip44: { coinType: 118 },
      bech32Config: {
        bech32PrefixAccAddr: c.prefix,
        bech32PrefixAccPub: `${c.prefix}pub`,
        bech32PrefixValAddr: `${c.prefix}valoper`,
        bech32PrefixValPub: `${c.prefix}valoperpub`,
        bech32PrefixConsAddr: `${c.prefix}valcons`,
        bech32PrefixConsPub: `${c.prefix}valconspub`,
      },
      currencies: [denom],
      feeCurrencies: [{ ...denom, gasPriceStep: { low: price, average: price * 1.2, high: price * 2 } }],
      stakeCurrency: denom,
      features: ["cosmwasm"],
    });
  }
  await k.enable(c.chain_id);
  const key = await k.getKey(c.chain_id);
  const client = await signingClient(k.getOfflineSigner(c.chain_id));
  set({ address: key.bech32Address, label: `Keplr: ${key.name}`, kind: "keplr", client });
}

/** The development wallet: a test mnemonic held in this page's memory only (localnet). */
export async function connectDev(name: string, mnemonic: string): Promise<void> {
  const { mnemonicWallet } = await import("./signing");
  const { wallet, address } = await mnemonicWallet(mnemonic, config().chain.prefix);
  const client = await signingClient(wallet);
  set({ address, label: `Development wallet: ${name}`, kind: "dev", client });
}

export function disconnect(): void {
  session?.client.disconnect();
  set(null);
}

/** The connected session, or an error in words. */
export function need(): Session {
  if (!session) throw new TxError("Connect a wallet first (top right).", "no wallet");
  return session;
}

const GAS_ADJUST = 1.5;

/**
 * What the generated clients sign with: simulates the message (a contract
 * error surfaces here, before anything is signed), shows the fee and waits
 * for the user, then signs and broadcasts. Failures become TxError.
 */
export function signer(): ISigningCosmWasmClient {
  const s = need();
  return {
    queryContractSmart: (addr, q) => s.client.queryContractSmart(addr, q),
    async execute(sender, contract, msg, _fee, memo, funds) {
      const m = {
        typeUrl: "/cosmwasm.wasm.v1.MsgExecuteContract",
        value: { sender, contract, msg: toUtf8(JSON.stringify(msg)), funds: funds ?? [] },
      };
      let gas: number;
      try {
        gas = await s.client.simulate(sender, [m], memo ?? "");
      } catch (e) {
        throw explain(e);
      }
      // Lazy state transitions can cost more when a deadline passes between the simulation and the block.
      const { GasPrice, calculateFee } = await import("@cosmjs/stargate");
      const fee: StdFee = calculateFee(Math.ceil(gas * GAS_ADJUST), GasPrice.fromString(config().chain.gas_price));
      const action = Object.keys(msg as object)[0] ?? "execute";
      if (!(await confirmFee({ action, contract, funds: funds ?? [], fee }))) throw new Cancelled();
      let res;
      try {
        res = await s.client.signAndBroadcast(sender, [m], fee, memo ?? "");
      } catch (e) {
        throw explain(e);
      }
      if (res.code !== 0) throw explain(new Error(res.rawLog ?? `transaction failed with code ${res.code}`));
      return res;
    },
  };
}

/** A wasm event attribute of a transaction result (ids of created things). */
export function attribute(res: { events: readonly { type: string; attributes: readonly { key: string; value: string }[] }[] }, key: string): string | null {
  for (const ev of res.events) {
    if (!ev.type.startsWith("wasm")) continue;
    const a = ev.attributes.find((x) => x.key === key);
    if (a) return a.value;
  }
  return null;
}

/** The chain's latest block time, in unix seconds. */
export async function chainTime(): Promise<number> {
  const b = await (await chain()).getBlock();
  return Date.parse(b.header.time) / 1000;
}
