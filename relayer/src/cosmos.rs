//! The Cosmos backend: a wasmd chain over CometBFT JSON-RPC with cosmrs 0.22
//! and tendermint-rpc 0.40.
//!
//! * Keys: BIP39 mnemonic, coin type 118 ([`crate::keys`]).
//! * Txs: SIGN_MODE_DIRECT; gas = simulate × `gas_multiplier`, refused above
//!   `max_gas`; fee = ceil(gas × `gas_price`). Broadcast with
//!   `broadcast_tx_sync`, then poll `/tx` until included or timed out. The
//!   account sequence is refetched before each signature, and
//!   [`crate::chain::submit`] retries once on a mismatch (wasmd code 32).
//! * Queries: ABCI `/cosmwasm.wasm.v1.Query/SmartContractState`, `Code`,
//!   `ContractInfo`, auth `Account`, bank `Balance`.
//! * Events: `/block` (for tx hashes) and `/block_results` per height,
//!   decoded in the configured CometBFT dialect (0.34 base64 attributes,
//!   0.37, 0.38 `finalize_block_events`).
//!
//! The pure parts (messages, fees, sign doc, signature, tx bytes, RPC
//! decoding) are free functions so they are tested without a node: against
//! CosmJS vectors and against recorded CometBFT responses.

use std::io::Write;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use cosmrs::cosmwasm::{MsgExecuteContract, MsgInstantiateContract, MsgStoreCode};
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
use cosmrs::rpc::client::CompatMode;
use cosmrs::rpc::{Client, HttpClient};
use cosmrs::tendermint::abci;
use cosmrs::tendermint::chain::Id as ChainId;
use cosmrs::tx::{Body, Fee, Msg, SignDoc, SignerInfo};
use cosmrs::{AccountId, Any, Coin as SdkCoin, Denom};
use cosmwasm_std::Coin;
use flate2::write::GzEncoder;

use crate::chain::{
    find_attr, tx_hash, Attribute, BlockEventSource, BlockEvents, BlockRef, ChainMsg, ChainResult,
    ChainStatus, CodeClient, CodeInfo, CodeUpload, ContractInfo, Event, SignedTx, SmartQuery,
    TxClient, TxEvents, TxOutcome,
};
use crate::config::RpcCompat;
use crate::error::ChainError;
use crate::keys::Signer;

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
}

fn signer_err(e: impl std::fmt::Display) -> ChainError {
    ChainError::Signer(e.to_string())
}

fn decode_err(what: &'static str) -> impl Fn(String) -> ChainError {
    move |reason| ChainError::Decode { what, reason }
}

fn account_id(address: &str) -> ChainResult<AccountId> {
    AccountId::from_str(address).map_err(|e| ChainError::InvalidAddress {
        address: address.to_string(),
        reason: e.to_string(),
    })
}

fn sdk_coins(funds: &[Coin]) -> ChainResult<Vec<SdkCoin>> {
    // The SDK requires coins sorted by denom.
    let mut sorted = funds.to_vec();
    sorted.sort_by(|a, b| a.denom.cmp(&b.denom));
    sorted
        .iter()
        .map(|c| {
            Ok(SdkCoin {
                denom: Denom::from_str(&c.denom).map_err(signer_err)?,
                amount: c.amount.u128(),
            })
        })
        .collect()
}

/// Encodes a [`ChainMsg`] as a protobuf `Any` from `sender`.
pub fn msg_to_any(msg: &ChainMsg, sender: &str) -> ChainResult<Any> {
    let sender = account_id(sender)?;
    match msg {
        ChainMsg::Execute {
            contract,
            msg,
            funds,
        } => MsgExecuteContract {
            sender,
            contract: account_id(contract)?,
            msg: msg.as_bytes().to_vec(),
            funds: sdk_coins(funds)?,
        }
        .to_any(),
        ChainMsg::Instantiate {
            code_id,
            msg,
            funds,
            label,
            admin,
        } => MsgInstantiateContract {
            sender,
            admin: admin.as_deref().map(account_id).transpose()?,
            code_id: *code_id,
            label: Some(label.clone()),
            msg: msg.as_bytes().to_vec(),
            funds: sdk_coins(funds)?,
        }
        .to_any(),
    }
    .map_err(signer_err)
}

/// `MsgStoreCode` with gzip-compressed wasm (wasmd accepts gzip and it
/// roughly thirds the tx size).
pub fn store_code_any(sender: &str, wasm: &[u8]) -> ChainResult<Any> {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(wasm)
        .and_then(|_| gz.finish())
        .map_err(|e| ChainError::Signer(format!("gzip: {e}")))
        .and_then(|bytes| {
            MsgStoreCode {
                sender: account_id(sender)?,
                wasm_byte_code: bytes,
                instantiate_permission: None,
            }
            .to_any()
            .map_err(signer_err)
        })
}

/// Gas limit from a simulation: `ceil(simulated × multiplier)`, refused above `max_gas`.
pub fn gas_limit(simulated: u64, multiplier: f64, max_gas: u64) -> ChainResult<u64> {
    let estimated = (simulated as f64 * multiplier).ceil() as u64;
    if estimated > max_gas {
        return Err(ChainError::GasAboveMax {
            estimated,
            max: max_gas,
        });
    }
    Ok(estimated)
}

/// The fee for a gas limit: `ceil(gas_limit × gas_price)` of `denom`. A zero
/// fee carries no coin at all: the SDK rejects zero-amount coins.
pub fn fee_for(gas_limit: u64, gas_price: f64, denom: &str) -> ChainResult<Fee> {
    let amount = (gas_limit as f64 * gas_price).ceil() as u128;
    if amount == 0 {
        return Ok(Fee {
            amount: vec![],
            gas_limit,
            payer: None,
            granter: None,
        });
    }
    Ok(Fee::from_amount_and_gas(
        SdkCoin {
            denom: Denom::from_str(denom).map_err(signer_err)?,
            amount,
        },
        gas_limit,
    ))
}

/// Everything signing produced, for vectors and broadcast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedParts {
    /// `TxBody` bytes.
    pub body_bytes: Vec<u8>,
    /// `AuthInfo` bytes.
    pub auth_info_bytes: Vec<u8>,
    /// `SignDoc` bytes (what is signed).
    pub sign_bytes: Vec<u8>,
    /// 64-byte r‖s secp256k1 signature (low-s, RFC 6979).
    pub signature: Vec<u8>,
    /// `TxRaw` bytes.
    pub tx_bytes: Vec<u8>,
}

/// Builds and signs a tx (SIGN_MODE_DIRECT). Deterministic: the same inputs
/// give the same bytes as CosmJS's `DirectSecp256k1HdWallet`.
pub fn sign_tx(
    signer: &Signer,
    chain_id: &str,
    account_number: u64,
    sequence: u64,
    msgs: Vec<Any>,
    memo: &str,
    fee: Fee,
) -> ChainResult<SignedParts> {
    let body = Body::new(msgs, memo, 0u32);
    let auth_info = SignerInfo::single_direct(Some(signer.public_key()), sequence).auth_info(fee);
    let chain_id = ChainId::try_from(chain_id.to_string()).map_err(signer_err)?;
    let doc = SignDoc::new(&body, &auth_info, &chain_id, account_number).map_err(signer_err)?;
    let body_bytes = doc.body_bytes.clone();
    let auth_info_bytes = doc.auth_info_bytes.clone();
    let sign_bytes = doc.clone().into_bytes().map_err(signer_err)?;
    let raw = doc.sign(signer.signing_key()).map_err(signer_err)?;
    let tx_bytes = raw.to_bytes().map_err(signer_err)?;
    let proto =
        cosmrs::proto::cosmos::tx::v1beta1::TxRaw::decode(tx_bytes.as_slice()).map_err(|e| {
            ChainError::Decode {
                what: "own TxRaw",
                reason: e.to_string(),
            }
        })?;
    Ok(SignedParts {
        body_bytes,
        auth_info_bytes,
        sign_bytes,
        signature: proto.signatures.first().cloned().unwrap_or_default(),
        tx_bytes,
    })
}

/// Maps a `broadcast_tx_sync` (CheckTx) result to our errors.
pub fn check_broadcast(hash: &str, code: u32, log: &str) -> ChainResult<()> {
    match code {
        0 => Ok(()),
        // sdkerrors.ErrWrongSequence
        32 => Err(
            parse_sequence_mismatch(log).unwrap_or(ChainError::Rejected {
                hash: hash.to_string(),
                code,
                log: log.to_string(),
            }),
        ),
        _ => Err(ChainError::Rejected {
            hash: hash.to_string(),
            code,
            log: log.to_string(),
        }),
    }
}

/// Parses wasmd's "account sequence mismatch, expected 5, got 4".
pub fn parse_sequence_mismatch(log: &str) -> Option<ChainError> {
    let rest = &log[log.find("expected ")? + "expected ".len()..];
    let expected: u64 = rest
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    let got_at = rest.find("got ")? + "got ".len();
    let got: u64 = rest[got_at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some(ChainError::SequenceMismatch { expected, got })
}

/// The lowest height from CometBFT's "height H is not available, lowest height is E".
pub fn parse_lowest_height(msg: &str) -> Option<u64> {
    let rest = &msg[msg.find("lowest height is ")? + "lowest height is ".len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Converts CometBFT events (either attribute encoding) to ours.
pub fn convert_events(events: &[abci::Event]) -> Vec<Event> {
    events
        .iter()
        .map(|e| Event {
            ty: e.kind.clone(),
            attributes: e
                .attributes
                .iter()
                .map(|a| Attribute {
                    key: a
                        .key_str()
                        .map(str::to_string)
                        .unwrap_or_else(|_| String::from_utf8_lossy(a.key_bytes()).into_owned()),
                    value: a
                        .value_str()
                        .map(str::to_string)
                        .unwrap_or_else(|_| String::from_utf8_lossy(a.value_bytes()).into_owned()),
                })
                .collect(),
        })
        .collect()
}

/// A `/tx` response as a [`TxOutcome`].
pub fn tx_outcome(resp: &cosmrs::rpc::endpoint::tx::Response) -> TxOutcome {
    TxOutcome {
        hash: resp.hash.to_string(),
        height: resp.height.value(),
        code: resp.tx_result.code.value(),
        log: resp.tx_result.log.clone(),
        gas_used: resp.tx_result.gas_used.max(0) as u64,
        gas_wanted: resp.tx_result.gas_wanted.max(0) as u64,
        events: convert_events(&resp.tx_result.events),
    }
}

/// A block's events from `/block_results` plus the tx hashes from `/block`.
pub fn block_events(
    results: &cosmrs::rpc::endpoint::block_results::Response,
    tx_hashes: &[String],
    time_nanos: u64,
) -> BlockEvents {
    let txs = results
        .txs_results
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, r)| TxEvents {
            hash: tx_hashes.get(i).cloned().unwrap_or_default(),
            index: i as u32,
            code: r.code.value(),
            events: convert_events(&r.events),
        })
        .collect();
    BlockEvents {
        height: results.height.value(),
        time_nanos,
        txs,
    }
}

/// Decodes an ABCI query answer: `Ok(Err((code, log)))` when the app refused
/// the query (e.g. wasmd code 9, contract query failed).
pub fn decode_abci<Resp: Message + Default>(
    path: &str,
    resp: &cosmrs::rpc::endpoint::abci_query::AbciQuery,
) -> ChainResult<Result<Resp, (u32, String)>> {
    if resp.code.is_err() {
        return Ok(Err((resp.code.value(), resp.log.clone())));
    }
    Resp::decode(resp.value.as_slice())
        .map(Ok)
        .map_err(|e| ChainError::Decode {
            what: "abci_query response",
            reason: format!("{path}: {e}"),
        })
}

fn compat(mode: RpcCompat) -> CompatMode {
    match mode {
        RpcCompat::V0_34 => CompatMode::V0_34,
        RpcCompat::V0_37 => CompatMode::V0_37,
        RpcCompat::V0_38 => CompatMode::V0_38,
    }
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

    async fn abci<Req: Message, Resp: Message + Default>(
        &self,
        path: &str,
        req: Req,
    ) -> ChainResult<Result<Resp, (u32, String)>> {
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
            .map_err(|(code, log)| {
                ChainError::Rpc(format!(
                    "account query code {code}: {log} (is the account funded?)"
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
        )?;
        #[allow(deprecated)]
        let req = SimulateRequest {
            tx: None,
            tx_bytes: probe.tx_bytes,
        };
        let resp: SimulateResponse = self
            .abci("/cosmos.tx.v1beta1.Service/Simulate", req)
            .await?
            .map_err(|(code, log)| match parse_sequence_mismatch(&log) {
                Some(e) if code == 32 => e,
                _ => ChainError::TxFailed {
                    hash: "simulation".into(),
                    code,
                    log,
                },
            })?;
        Ok(resp.gas_info.map(|g| g.gas_used).unwrap_or_default())
    }

    async fn sign_anys(&self, msgs: Vec<Any>, memo: &str, sequence: u64) -> ChainResult<SignedTx> {
        let (account_number, _) = self.account().await?;
        let simulated = self.simulate(&msgs, memo, account_number, sequence).await?;
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
        )?;
        Ok(SignedTx {
            hash: tx_hash(&parts.tx_bytes),
            bytes: parts.tx_bytes,
            sequence,
            gas_limit: limit,
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
            .map_err(|(code, log)| ChainError::Query {
                contract: contract.to_string(),
                reason: format!("code {code}: {log}"),
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
            .map_err(|(code, log)| ChainError::Rpc(format!("balance query code {code}: {log}")))?;
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
            .map_err(rpc_err)?;
        check_broadcast(&tx.hash, resp.code.value(), &resp.log)
    }

    async fn find_tx(&self, hash: &str) -> ChainResult<Option<TxOutcome>> {
        let h = cosmrs::tendermint::Hash::from_str(hash).map_err(|e| ChainError::Decode {
            what: "tx hash",
            reason: e.to_string(),
        })?;
        match self.rpc.tx(h, false).await {
            Ok(resp) => Ok(Some(tx_outcome(&resp))),
            // CometBFT answers an RPC error "tx (HASH) not found".
            Err(e) if e.to_string().contains("not found") => Ok(None),
            Err(e) => Err(rpc_err(e)),
        }
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
        let block = self.rpc.block(h).await.map_err(|e| {
            let msg = e.to_string();
            // CometBFT: "height H must be less than or equal to the current
            // blockchain height L" and "height H is not available, lowest height is E".
            if msg.contains("must be less than or equal") {
                ChainError::BlockUnavailable { height, latest: 0 }
            } else if let Some(earliest) = parse_lowest_height(&msg) {
                ChainError::BlockPruned { height, earliest }
            } else {
                rpc_err(msg)
            }
        })?;
        let hashes: Vec<String> = block.block.data.iter().map(|tx| tx_hash(tx)).collect();
        let time_nanos = block.block.header.time.unix_timestamp_nanos().max(0) as u64;
        let results = self.rpc.block_results(h).await.map_err(rpc_err)?;
        Ok(block_events(&results, &hashes, time_nanos))
    }
}
