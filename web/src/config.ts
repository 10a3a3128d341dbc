/** The runtime config: chain endpoints and contract addresses, read from config.json beside index.html. */

export interface ChainConfig {
  /** Chain id, e.g. wevalue-city-1. */
  chain_id: string;
  /** Human name shown in the header and offered to Keplr. */
  name: string;
  /** CometBFT RPC URL (absolute, or relative to the page). */
  rpc: string;
  /** REST (LCD) URL, for wallets that need one; optional. */
  rest?: string | null;
  /** Bech32 address prefix. */
  prefix: string;
  /** Fee and staking denom. */
  denom: string;
  /** Minimum gas price, e.g. 0.025ustake. */
  gas_price: string;
}

export interface Contracts {
  data_registry: string;
  token_curated_registry: string;
  payment_channel: string;
  value_contract: string;
}

export interface DevAccount {
  name: string;
  mnemonic: string;
  address: string;
}

export interface AppConfig {
  chain: ChainConfig;
  contracts: Contracts;
  /** Test-only accounts offered by the development wallet (localnet only). */
  dev_accounts?: DevAccount[];
}

let current: AppConfig | null = null;

export function config(): AppConfig {
  if (!current) throw new Error("config.json is not loaded yet");
  return current;
}

function need(obj: Record<string, unknown>, key: string, where: string): string {
  const v = obj[key];
  if (typeof v !== "string" || v === "") throw new Error(`config.json: ${where}.${key} is missing`);
  return v;
}

/** Loads and checks config.json; the app shows the error in words when it is wrong. */
export async function loadConfig(): Promise<AppConfig> {
  const res = await fetch("./config.json", { cache: "no-store" });
  if (!res.ok) throw new Error(`config.json could not be read (HTTP ${res.status}); serve the app with scripts/serve.mjs`);
  const raw = (await res.json()) as Record<string, unknown>;
  const chain = (raw.chain ?? {}) as Record<string, unknown>;
  const contracts = (raw.contracts ?? {}) as Record<string, unknown>;
  for (const k of ["chain_id", "name", "rpc", "prefix", "denom", "gas_price"]) need(chain, k, "chain");
  for (const k of ["data_registry", "token_curated_registry", "payment_channel", "value_contract"]) need(contracts, k, "contracts");
  const cfg = raw as unknown as AppConfig;
  cfg.chain.rpc = new URL(cfg.chain.rpc, location.href).toString().replace(/\/$/, "");
  current = cfg;
  return cfg;
}
