//! [`CosmosClient`]: one signing account on a wasmd chain over CometBFT
//! JSON-RPC, implementing every capability trait of the core.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use cosmrs::proto::cosmos::auth::v1beta1::{
    BaseAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmrs::proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
use cosmrs::proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
use cosmrs::proto::cosmwasm::wasm::v1::{
    QueryCodeRequest, QueryCodeResponse, QueryContractInfoRequest, QueryContractInfoResponse,
    QuerySmartContractStateRequest, QuerySmartContractStateResponse,
};
use cosmrs::proto::prost::Message;
use cosmrs::rpc::{Client, HttpClient};
use cosmrs::Any;
use cosmwasm_std::Coin;
use relayer_core::chain::{
    find_attr, tx_hash, BlockEventSource, BlockEvents, BlockRef, ChainMsg, ChainResult,
    ChainStatus, CodeClient, CodeInfo, CodeUpload, ContractInfo, SignedTx, SmartQuery, TxClient,
    TxOutcome,
};
use relayer_core::ChainError;

use crate::keys::Signer;
use crate::rpc::{
    block_error, block_events, block_tx_outcome, broadcast_error, compat, decode_abci,
    is_tx_not_found, tx_outcome, RpcCompat,
};
use crate::tx::{
    check_broadcast, fee_for, gas_limit, msg_to_any, sign_tx, simulation_error, store_code_any,
};

/// Connection and fee settings.
#[derive(Clone, Debug)]
pub struct CosmosOptions {
    /// Chain id.
    pub chain_id: String,
    /// CometBFT RPC URL.
    pub rpc_url: String,
    /// RPC dialect.
    pub compat: RpcCompat,
    /// Fee denom.
    pub fee_denom: String,
    /// Fee per gas unit.
    pub gas_price: f64,
    /// Multiplier on simulated gas.
    pub gas_multiplier: f64,
    /// Ceiling on the gas limit.
    pub max_gas: u64,
    /// Wait for inclusion at most this long.
    pub inclusion_timeout: Duration,
    /// Poll interval while waiting.
    pub poll_interval: Duration,
    /// Every tx carries `timeout_height` = the latest height when signed +
    /// this (0 = no timeout): after it, the tx can never land, which is what
    /// lets the outbox sign a lost tx again safely.
    pub timeout_blocks: u64,
}

fn decode_err(what: &'static str) -> impl Fn(String) -> ChainError {
    move |reason| ChainError::Decode { what, reason }
}

/// A signing client for one account on one chain.
pub struct CosmosClient {
    rpc: HttpClient,
    signer: Signer,
    options: CosmosOptions,
}

impl std::fmt::Debug for CosmosClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CosmosClient")
            .field("chain_id", &self.options.chain_id)
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

fn rpc_err(e: impl std::fmt::Display) -> ChainError {
    ChainError::Rpc(e.to_string())
}

impl CosmosClient {
    /// Connects lazily (no request is made here).
    pub fn new(options: CosmosOptions, signer: Signer) -> ChainResult<Self> {
        let url = options
            .rpc_url
            .parse()
            .map_err(|e| ChainError::Rpc(format!("rpc_url: {e}")))?;
        let rpc = HttpClient::builder(url)
            .compat_mode(compat(options.compat))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(rpc_err)?;
        Ok(Self {
            rpc,
            signer,
            options,
        })
    }

    /// The settings.
    pub fn options(&self) -> &CosmosOptions {
        &self.options
    }

    /// The signer's address.
    pub fn signer_address(&self) -> &str {
        self.signer.address()
    }

    pub(crate) fn rpc(&self) -> &HttpClient {
        &self.rpc
    }

    /// Switches the RPC dialect (to the one the node was detected to speak).
    pub fn set_compat(&mut self, mode: RpcCompat) -> ChainResult<()> {
        let url = self
            .options
            .rpc_url
            .parse()
            .map_err(|e| ChainError::Rpc(format!("rpc_url: {e}")))?;
        self.rpc = HttpClient::builder(url)
            .compat_mode(compat(mode))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(rpc_err)?;
        self.options.compat = mode;
        Ok(())
    }

    pub(crate) async fn abci_query<Req: Message, Resp: Message + Default>(
        &self,
        path: &str,
        req: Req,
    ) -> ChainResult<Result<Resp, (u32, String, String)>> {
        self.abci(path, req).await
    }

    async fn abci<Req: Message, Resp: Message + Default>(
        &self,
        path: &str,
        req: Req,
    ) -> ChainResult<Result<Resp, (u32, String, String)>> {
        let resp = self
            .rpc
            .abci_query(Some(path.to_string()), req.encode_to_vec(), None, false)
            .await
            .map_err(rpc_err)?;
        decode_abci(path, &resp)
    }

    /// Account number and next sequence of the signer.
    pub async fn account(&self) -> ChainResult<(u64, u64)> {
        let resp: QueryAccountResponse = self
            .abci(
                "/cosmos.auth.v1beta1.Query/Account",
                QueryAccountRequest {
                    address: self.signer.address().to_string(),
                },
            )
            .await?
            .map_err(|(code, log, codespace)| {
                ChainError::Rpc(format!(
                    "account query code {code} (codespace {codespace}): {log} (is the account funded?)"
                ))
            })?;
        let any = resp.account.ok_or_else(|| ChainError::Decode {
            what: "account",
            reason: "empty".into(),
        })?;
        let base = BaseAccount::decode(any.value.as_slice())
            .map_err(|e| decode_err("BaseAccount")(e.to_string()))?;
        Ok((base.account_number, base.sequence))
    }

    async fn simulate(
        &self,
        msgs: &[Any],
        memo: &str,
        account_number: u64,
        sequence: u64,
        timeout_height: u64,
    ) -> ChainResult<u64> {
        // Simulation skips signature checks but wants one signature slot;
        // the fee is empty, as CosmJS sends it (gas is what we ask for).
        let probe = sign_tx(
            &self.signer,
            &self.options.chain_id,
            account_number,
            sequence,
            msgs.to_vec(),
            memo,
            fee_for(0, 0.0, &self.options.fee_denom)?,
            timeout_height,
        )?;
        #[allow(deprecated)]
        let req = SimulateRequest {
            tx: None,
            tx_bytes: probe.tx_bytes,
        };
        let resp: SimulateResponse = self
            .abci("/cosmos.tx.v1beta1.Service/Simulate", req)
            .await?
            .map_err(|(code, log, codespace)| simulation_error(code, &codespace, &log))?;
        Ok(resp.gas_info.map(|g| g.gas_used).unwrap_or_default())
    }

    async fn sign_anys(&self, msgs: Vec<Any>, memo: &str, sequence: u64) -> ChainResult<SignedTx> {
        let (account_number, _) = self.account().await?;
        let (signed_height, timeout_height) = if self.options.timeout_blocks == 0 {
            (0, 0)
        } else {
            let latest = self.latest_height().await?;
            (latest, latest + self.options.timeout_blocks)
        };
        let simulated = self
            .simulate(&msgs, memo, account_number, sequence, timeout_height)
            .await?;
        let limit = gas_limit(simulated, self.options.gas_multiplier, self.options.max_gas)?;
        let fee = fee_for(limit, self.options.gas_price, &self.options.fee_denom)?;
        let parts = sign_tx(
            &self.signer,
            &self.options.chain_id,
            account_number,
            sequence,
            msgs,
            memo,
            fee,
            timeout_height,
        )?;
        Ok(SignedTx {
            hash: tx_hash(&parts.tx_bytes),
            bytes: parts.tx_bytes,
            sequence,
            gas_limit: limit,
            timeout_height,
            signed_height,
        })
    }

    async fn submit_anys(&self, msgs: Vec<Any>) -> ChainResult<TxOutcome> {
        let mut retried = false;
        loop {
            let (_, sequence) = self.account().await?;
            let tx = self.sign_anys(msgs.clone(), "", sequence).await?;
            match self.broadcast(&tx).await {
                Ok(()) => {
                    return self
                        .wait_for_tx(&tx.hash, self.options.inclusion_timeout)
                        .await?
                        .into_result()
                }
                Err(e) if e.is_sequence_mismatch() && !retried => retried = true,
                Err(e) => return Err(e),
            }
        }
    }
}

#[async_trait]
impl SmartQuery for CosmosClient {
    async fn query_smart_raw(&self, contract: &str, msg: &[u8]) -> ChainResult<Vec<u8>> {
        let resp: QuerySmartContractStateResponse = self
            .abci(
                "/cosmwasm.wasm.v1.Query/SmartContractState",
                QuerySmartContractStateRequest {
                    address: contract.to_string(),
                    query_data: msg.to_vec(),
                },
            )
            .await?
            .map_err(|(code, log, codespace)| ChainError::Query {
                contract: contract.to_string(),
                reason: format!("code {code} (codespace {codespace}): {log}"),
            })?;
        Ok(resp.data)
    }
}

#[async_trait]
impl ChainStatus for CosmosClient {
    fn chain_id(&self) -> &str {
        &self.options.chain_id
    }

    async fn latest_block(&self) -> ChainResult<BlockRef> {
        let status = self.rpc.status().await.map_err(rpc_err)?;
        Ok(BlockRef {
            height: status.sync_info.latest_block_height.value(),
            time_nanos: status
                .sync_info
                .latest_block_time
                .unix_timestamp_nanos()
                .max(0) as u64,
        })
    }

    async fn balance(&self, address: &str, denom: &str) -> ChainResult<u128> {
        let resp: QueryBalanceResponse = self
            .abci(
                "/cosmos.bank.v1beta1.Query/Balance",
                QueryBalanceRequest {
                    address: address.to_string(),
                    denom: denom.to_string(),
                },
            )
            .await?
            .map_err(|(code, log, codespace)| {
                ChainError::Rpc(format!(
                    "balance query code {code} (codespace {codespace}): {log}"
                ))
            })?;
        resp.balance
            .map(|c| {
                c.amount
                    .parse::<u128>()
                    .map_err(|e| decode_err("balance")(e.to_string()))
            })
            .transpose()
            .map(Option::unwrap_or_default)
    }
}

#[async_trait]
impl TxClient for CosmosClient {
    fn sender(&self) -> &str {
        self.signer.address()
    }

    async fn account_sequence(&self) -> ChainResult<u64> {
        Ok(self.account().await?.1)
    }

    async fn sign(&self, msgs: &[ChainMsg], memo: &str, sequence: u64) -> ChainResult<SignedTx> {
        let anys = msgs
            .iter()
            .map(|m| msg_to_any(m, self.signer.address()))
            .collect::<ChainResult<Vec<_>>>()?;
        self.sign_anys(anys, memo, sequence).await
    }

    async fn broadcast(&self, tx: &SignedTx) -> ChainResult<()> {
        let resp = self
            .rpc
            .broadcast_tx_sync(tx.bytes.clone())
            .await
            .map_err(|e| broadcast_error(&tx.hash, &e))?;
        check_broadcast(&tx.hash, &resp.codespace, resp.code.value(), &resp.log)
    }

    async fn find_tx(&self, hash: &str) -> ChainResult<Option<TxOutcome>> {
        let h = cosmrs::tendermint::Hash::from_str(hash).map_err(|e| ChainError::Decode {
            what: "tx hash",
            reason: e.to_string(),
        })?;
        match self.rpc.tx(h, false).await {
            Ok(resp) => Ok(Some(tx_outcome(&resp))),
            // CometBFT answers a JSON-RPC error "tx (HASH) not found".
            Err(e) if is_tx_not_found(&e) => Ok(None),
            Err(e) => Err(rpc_err(e)),
        }
    }

    async fn latest_height(&self) -> ChainResult<u64> {
        Ok(self.latest_block().await?.height)
    }

    async fn tx_in_block(&self, hash: &str, height: u64) -> ChainResult<Option<TxOutcome>> {
        let h = cosmrs::tendermint::block::Height::try_from(height).map_err(rpc_err)?;
        let block = self
            .rpc
            .block(h)
            .await
            .map_err(|e| block_error(height, &e))?;
        let Some(index) = block
            .block
            .data
            .iter()
            .position(|tx| tx_hash(tx).eq_ignore_ascii_case(hash))
        else {
            return Ok(None);
        };
        let results = self
            .rpc
            .block_results(h)
            .await
            .map_err(|e| block_error(height, &e))?;
        block_tx_outcome(&results, index, &tx_hash(&block.block.data[index]))
            .map(Some)
            .ok_or_else(|| ChainError::BlockMissing {
                height,
                reason: format!("no result for tx {index} of the block"),
            })
    }

    async fn wait_for_tx(&self, hash: &str, timeout: Duration) -> ChainResult<TxOutcome> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(outcome) = self.find_tx(hash).await? {
                return Ok(outcome);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ChainError::InclusionTimeout {
                    hash: hash.to_string(),
                    secs: timeout.as_secs(),
                });
            }
            tokio::time::sleep(self.options.poll_interval).await;
        }
    }
}

#[async_trait]
impl CodeClient for CosmosClient {
    async fn store_code(&self, code: &CodeUpload) -> ChainResult<CodeInfo> {
        let wasm = code.wasm.as_deref().ok_or_else(|| {
            ChainError::Signer(format!(
                "{}: a Cosmos chain needs the wasm bytes",
                code.name
            ))
        })?;
        let outcome = self
            .submit_anys(vec![store_code_any(self.signer.address(), wasm)?])
            .await?;
        let code_id = find_attr(&outcome.events, "store_code", "code_id")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| decode_err("store_code events")("no code_id".into()))?;
        let checksum = find_attr(&outcome.events, "store_code", "code_checksum")
            .map(str::to_lowercase)
            .unwrap_or_else(|| cosmwasm_std::Checksum::generate(wasm).to_hex());
        Ok(CodeInfo { code_id, checksum })
    }

    async fn code_info(&self, code_id: u64) -> ChainResult<Option<CodeInfo>> {
        let resp: Result<QueryCodeResponse, _> = self
            .abci("/cosmwasm.wasm.v1.Query/Code", QueryCodeRequest { code_id })
            .await?;
        Ok(resp.ok().and_then(|r| r.code_info).map(|info| CodeInfo {
            code_id: info.code_id,
            checksum: hex::encode(info.data_hash),
        }))
    }

    async fn contract_info(&self, address: &str) -> ChainResult<Option<ContractInfo>> {
        let resp: Result<QueryContractInfoResponse, _> = self
            .abci(
                "/cosmwasm.wasm.v1.Query/ContractInfo",
                QueryContractInfoRequest {
                    address: address.to_string(),
                },
            )
            .await?;
        Ok(resp
            .ok()
            .and_then(|r| r.contract_info)
            .map(|info| ContractInfo {
                address: address.to_string(),
                code_id: info.code_id,
                admin: Some(info.admin).filter(|a| !a.is_empty()),
                label: info.label,
            }))
    }

    async fn instantiate(
        &self,
        code_id: u64,
        msg: &serde_json::Value,
        label: &str,
        admin: Option<String>,
        funds: Vec<Coin>,
    ) -> ChainResult<(String, TxOutcome)> {
        let any = msg_to_any(
            &ChainMsg::Instantiate {
                code_id,
                msg: serde_json::to_string(msg)?,
                funds,
                label: label.to_string(),
                admin,
            },
            self.signer.address(),
        )?;
        let outcome = self.submit_anys(vec![any]).await?;
        let address = find_attr(&outcome.events, "instantiate", "_contract_address")
            .ok_or_else(|| decode_err("instantiate events")("no _contract_address".into()))?
            .to_string();
        Ok((address, outcome))
    }
}

#[async_trait]
impl BlockEventSource for CosmosClient {
    async fn block_events(&self, height: u64) -> ChainResult<BlockEvents> {
        let h = cosmrs::tendermint::block::Height::try_from(height).map_err(rpc_err)?;
        let block = self
            .rpc
            .block(h)
            .await
            .map_err(|e| block_error(height, &e))?;
        let hashes: Vec<String> = block.block.data.iter().map(|tx| tx_hash(tx)).collect();
        let time_nanos = block.block.header.time.unix_timestamp_nanos().max(0) as u64;
        let results = self
            .rpc
            .block_results(h)
            .await
            .map_err(|e| block_error(height, &e))?;
        Ok(block_events(&results, &hashes, time_nanos))
    }
}
