//! Chain access: small async capability traits, so a service asks only for
//! what it uses (a watchtower needs events and txs, a dashboard only queries).
//! Both backends (`relayer-chain-embedded`, `relayer-chain-cosmos`) implement all of them.
//!
//! Transactions are signed before they are broadcast and identified by the
//! hash of their signed bytes. That is what makes the outbox safe: it stores
//! the signed tx and its hash first, and after a crash asks the chain whether
//! that exact tx landed; a Cosmos chain never includes the same signed tx (same
//! account sequence) twice.

use std::time::Duration;

use async_trait::async_trait;
use cosmwasm_std::Coin;
use serde::{Deserialize, Serialize};

use crate::error::ChainError;

/// Result alias for chain calls.
pub type ChainResult<T> = Result<T, ChainError>;

/// One attribute of an ABCI event (CometBFT 0.37+ strings).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// An ABCI event as a node reports it, e.g. `wasm`, `wasm-listing_created`,
/// `instantiate`, `store_code`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Event type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Attributes in emission order.
    pub attributes: Vec<Attribute>,
}

impl Event {
    /// First value of an attribute.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    }

    /// The contract that emitted this event (`_contract_address`), if any.
    pub fn contract(&self) -> Option<&str> {
        self.attr("_contract_address")
    }
}

/// Finds the first attribute `key` in the first event of type `ty`.
pub fn find_attr<'a>(events: &'a [Event], ty: &str, key: &str) -> Option<&'a str> {
    events
        .iter()
        .filter(|e| e.ty == ty)
        .find_map(|e| e.attr(key))
}

/// What a message does; serialisable so the outbox can store it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainMsg {
    /// `MsgExecuteContract`.
    Execute {
        /// Contract address.
        contract: String,
        /// JSON message bytes (UTF-8).
        msg: String,
        /// Funds sent along.
        funds: Vec<Coin>,
    },
    /// `MsgInstantiateContract`.
    Instantiate {
        /// Code id.
        code_id: u64,
        /// JSON instantiate message.
        msg: String,
        /// Funds sent along.
        funds: Vec<Coin>,
        /// Human label (wasmd requires one).
        label: String,
        /// Admin allowed to migrate; `None` = no admin.
        admin: Option<String>,
    },
    /// `MsgStoreCode` (the Cosmos backend gzips the wasm).
    StoreCode {
        /// The wasm bytes.
        wasm: cosmwasm_std::Binary,
    },
    /// `MsgInstantiateContract2`: the address follows from the code's
    /// checksum, the sender and the salt, so it is known before the tx is
    /// sent (`deploy` checks it to stay idempotent across crashes).
    Instantiate2 {
        /// Code id.
        code_id: u64,
        /// JSON instantiate message.
        msg: String,
        /// Funds sent along.
        funds: Vec<Coin>,
        /// Human label.
        label: String,
        /// Admin allowed to migrate; `None` = no admin.
        admin: Option<String>,
        /// Salt (1 to 64 bytes).
        salt: cosmwasm_std::Binary,
    },
    /// Bank `MsgSend` (funding accounts: the localnet's benchmarks and
    /// scenario actors).
    BankSend {
        /// Recipient address.
        to_address: String,
        /// Coins sent.
        amount: Vec<Coin>,
    },
    /// ICS-20 `MsgTransfer` on the `transfer` port (ibc-go v10), e.g. a hub
    /// buyer's deposit into a payment channel on the city chain. Only a node
    /// backend can send it; the embedded chain has no IBC.
    IbcTransfer {
        /// The channel on the sending chain (`channel-<n>`).
        source_channel: String,
        /// What is sent.
        token: Coin,
        /// The receiver's address on the other chain.
        receiver: String,
        /// The ICS-20 memo (e.g. an ADR-8 callback request), may be empty.
        memo: String,
        /// Absolute timeout, ns since the Unix epoch, by the receiving
        /// chain's clock.
        timeout_timestamp_nanos: u64,
    },
}

/// A message with the sender's funds, built from typed messages.
impl ChainMsg {
    /// `MsgExecuteContract` from any serialisable message.
    pub fn execute<T: Serialize>(
        contract: impl Into<String>,
        msg: &T,
        funds: Vec<Coin>,
    ) -> ChainResult<Self> {
        Ok(ChainMsg::Execute {
            contract: contract.into(),
            msg: serde_json::to_string(msg)?,
            funds,
        })
    }
}

/// A signed transaction ready to broadcast.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTx {
    /// sha256 of `bytes`, upper-case hex (CometBFT's tx hash).
    pub hash: String,
    /// Encoded `TxRaw` (Cosmos) or the embedded chain's encoding.
    pub bytes: Vec<u8>,
    /// Account sequence the tx consumes.
    pub sequence: u64,
    /// Gas limit it carries.
    pub gas_limit: u64,
    /// Last height at which a block may include it (`timeout_height`; 0 =
    /// none, the embedded chain). Once the chain is past it and the tx is in
    /// none of the blocks up to it, the tx can never land and may be signed again.
    #[serde(default)]
    pub timeout_height: u64,
    /// Latest height when it was signed: it cannot be in a block at or below this.
    #[serde(default)]
    pub signed_height: u64,
}

/// The result of an included transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxOutcome {
    /// Transaction hash.
    pub hash: String,
    /// Block height it was included in.
    pub height: u64,
    /// ABCI code, 0 = success.
    pub code: u32,
    /// ABCI codespace of a failure (`sdk`, `wasm`, ...); codes are only
    /// meaningful within their codespace.
    #[serde(default)]
    pub codespace: String,
    /// Error log when `code != 0`.
    pub log: String,
    /// Gas the chain charged (embedded chain: an estimate, see its docs).
    pub gas_used: u64,
    /// Gas limit of the tx.
    pub gas_wanted: u64,
    /// Events of the tx.
    pub events: Vec<Event>,
}

impl TxOutcome {
    /// Turns a failed result into [`ChainError::TxFailed`].
    pub fn into_result(self) -> ChainResult<Self> {
        if self.code == 0 {
            Ok(self)
        } else {
            Err(ChainError::TxFailed {
                hash: self.hash,
                codespace: self.codespace,
                code: self.code,
                log: self.log,
            })
        }
    }
}

/// Latest block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRef {
    /// Height.
    pub height: u64,
    /// Block time, nanoseconds since the Unix epoch.
    pub time_nanos: u64,
}

/// Events of one transaction in a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxEvents {
    /// Tx hash.
    pub hash: String,
    /// Index in the block.
    pub index: u32,
    /// ABCI code; failed txs have no contract events worth following.
    pub code: u32,
    /// The tx's events.
    pub events: Vec<Event>,
}

/// Everything a block emitted that event followers care about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockEvents {
    /// Height.
    pub height: u64,
    /// Block time, nanoseconds since the Unix epoch.
    pub time_nanos: u64,
    /// Per-transaction events, in block order.
    pub txs: Vec<TxEvents>,
    /// Events outside any tx (CometBFT 0.38 `finalize_block_events`, 0.34/0.37
    /// `begin_block_events` + `end_block_events`), e.g. contracts called from
    /// an end blocker; delivered after the block's txs.
    #[serde(default)]
    pub block_events: Vec<Event>,
}

/// Stored code as the chain reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeInfo {
    /// Code id.
    pub code_id: u64,
    /// sha256 of the wasm, lower-case hex.
    pub checksum: String,
}

/// A contract instance as the chain reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractInfo {
    /// Address.
    pub address: String,
    /// Code id it runs.
    pub code_id: u64,
    /// Admin, if any.
    pub admin: Option<String>,
    /// Label.
    pub label: String,
}

/// Code to upload: the registry name and the optimized wasm.
#[derive(Clone, Debug)]
pub struct CodeUpload {
    /// Name in the contract registry (`data-registry`, `cw20-base`).
    pub name: String,
    /// The wasm bytes (Cosmos uploads them gzipped; the embedded chain
    /// records their sha256 as the checksum when present).
    pub wasm: Option<Vec<u8>>,
}

/// Smart queries.
#[async_trait]
pub trait SmartQuery: Send + Sync {
    /// Runs a smart query and returns the raw JSON answer.
    async fn query_smart_raw(&self, contract: &str, msg: &[u8]) -> ChainResult<Vec<u8>>;
}

/// Typed convenience over [`SmartQuery`].
pub async fn query_smart<Q, T>(chain: &Q, contract: &str, msg: &impl Serialize) -> ChainResult<T>
where
    Q: SmartQuery + ?Sized,
    T: for<'de> Deserialize<'de>,
{
    let raw = chain
        .query_smart_raw(contract, &serde_json::to_vec(msg)?)
        .await?;
    serde_json::from_slice(&raw).map_err(|e| ChainError::Decode {
        what: "smart query response",
        reason: e.to_string(),
    })
}

/// Latest height and time.
#[async_trait]
pub trait ChainStatus: Send + Sync {
    /// The chain id.
    fn chain_id(&self) -> &str;
    /// Latest committed block.
    async fn latest_block(&self) -> ChainResult<BlockRef>;
    /// Bank balance of an address in one denom.
    async fn balance(&self, address: &str, denom: &str) -> ChainResult<u128>;
}

/// Signing, broadcasting and looking up transactions for one account.
#[async_trait]
pub trait TxClient: Send + Sync {
    /// The signer's address.
    fn sender(&self) -> &str;
    /// The next sequence the chain expects from the signer.
    async fn account_sequence(&self) -> ChainResult<u64>;
    /// Signs messages at a given sequence (gas estimated by the backend).
    async fn sign(&self, msgs: &[ChainMsg], memo: &str, sequence: u64) -> ChainResult<SignedTx>;
    /// Hands a signed tx to the chain (mempool); does not wait for a block.
    async fn broadcast(&self, tx: &SignedTx) -> ChainResult<()>;
    /// A tx by hash if it is in a block (the node's tx indexer: it may lag
    /// behind the blocks, be off, or be another node behind a load balancer).
    async fn find_tx(&self, hash: &str) -> ChainResult<Option<TxOutcome>>;
    /// Latest committed height.
    async fn latest_height(&self) -> ChainResult<u64>;
    /// The tx's result if the block at `height` itself contains it (read from
    /// the block and its results, not from the indexer).
    async fn tx_in_block(&self, hash: &str, height: u64) -> ChainResult<Option<TxOutcome>>;
    /// Polls [`TxClient::find_tx`] until the tx is in a block or `timeout` passes.
    async fn wait_for_tx(&self, hash: &str, timeout: Duration) -> ChainResult<TxOutcome>;
}

/// Signs at the current sequence, broadcasts and waits for inclusion,
/// refetching the sequence and retrying once on a mismatch (as Hermes does).
/// Returns the successful outcome or [`ChainError::TxFailed`].
pub async fn submit<C: TxClient + ?Sized>(
    client: &C,
    msgs: &[ChainMsg],
    memo: &str,
    timeout: Duration,
) -> ChainResult<TxOutcome> {
    let mut retried = false;
    loop {
        let sequence = client.account_sequence().await?;
        let tx = client.sign(msgs, memo, sequence).await?;
        match client.broadcast(&tx).await {
            Ok(()) => return client.wait_for_tx(&tx.hash, timeout).await?.into_result(),
            Err(e) if e.is_sequence_mismatch() && !retried => {
                tracing::warn!(error = %e, "sequence mismatch, refetching and retrying once");
                retried = true;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Executes one contract message and waits for it (see [`submit`]).
pub async fn execute<C: TxClient + ?Sized>(
    client: &C,
    contract: &str,
    msg: &impl Serialize,
    funds: Vec<Coin>,
    timeout: Duration,
) -> ChainResult<TxOutcome> {
    submit(
        client,
        &[ChainMsg::execute(contract, msg, funds)?],
        "",
        timeout,
    )
    .await
}

/// Uploading and instantiating code.
#[async_trait]
pub trait CodeClient: Send + Sync {
    /// Stores code; returns its id and checksum.
    async fn store_code(&self, code: &CodeUpload) -> ChainResult<CodeInfo>;
    /// Code info by id (`None` if there is no such code).
    async fn code_info(&self, code_id: u64) -> ChainResult<Option<CodeInfo>>;
    /// Contract info by address (`None` if there is no contract there).
    async fn contract_info(&self, address: &str) -> ChainResult<Option<ContractInfo>>;
    /// Instantiates code; returns the new address and the tx outcome.
    async fn instantiate(
        &self,
        code_id: u64,
        msg: &serde_json::Value,
        label: &str,
        admin: Option<String>,
        funds: Vec<Coin>,
    ) -> ChainResult<(String, TxOutcome)>;
}

/// Block-by-block events, the primitive event following is built on.
#[async_trait]
pub trait BlockEventSource: Send + Sync {
    /// Events of one committed block (`BlockUnavailable` if not yet produced).
    async fn block_events(&self, height: u64) -> ChainResult<BlockEvents>;
}

/// What a service that only reads needs (queries, status, block events),
/// for `Arc<dyn ChainReader>`; its transactions go through an outbox.
pub trait ChainReader: SmartQuery + ChainStatus + BlockEventSource {}
impl<T: SmartQuery + ChainStatus + BlockEventSource + ?Sized> ChainReader for T {}

/// Everything a full relayer needs, for `Arc<dyn Chain>`.
pub trait Chain: SmartQuery + ChainStatus + TxClient + CodeClient + BlockEventSource {}
impl<T: SmartQuery + ChainStatus + TxClient + CodeClient + BlockEventSource> Chain for T {}

/// sha256 hex (upper case), CometBFT's tx hash format.
pub fn tx_hash(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode_upper(Sha256::digest(bytes))
}
