/** The generated contract clients, bound to the configured addresses: queries read the chain, executes go through the fee dialog. */

import { config } from "./config";
import { chain, need, signer } from "./wallet";
import { DataRegistryClient, DataRegistryQueryClient } from "./contracts/DataRegistry.client";
import { TokenCuratedRegistryClient, TokenCuratedRegistryQueryClient } from "./contracts/TokenCuratedRegistry.client";
import { PaymentChannelClient, PaymentChannelQueryClient } from "./contracts/PaymentChannel.client";
import { ValueContractClient, ValueContractQueryClient } from "./contracts/ValueContract.client";

const c = () => config().contracts;

export const registry = async () => new DataRegistryQueryClient(await chain(), c().data_registry);
export const registryTx = () => new DataRegistryClient(signer(), need().address, c().data_registry);

export const tcr = async () => new TokenCuratedRegistryQueryClient(await chain(), c().token_curated_registry);
export const tcrTx = () => new TokenCuratedRegistryClient(signer(), need().address, c().token_curated_registry);

export const channels = async () => new PaymentChannelQueryClient(await chain(), c().payment_channel);
export const channelsTx = () => new PaymentChannelClient(signer(), need().address, c().payment_channel);

export const tasks = async () => new ValueContractQueryClient(await chain(), c().value_contract);
export const tasksTx = () => new ValueContractClient(signer(), need().address, c().value_contract);

/** Native coins to attach to a message. */
export const coins = (amount: string | bigint, denom: string) => [{ amount: amount.toString(), denom }];
