//! The embedded chain: an in-process chain built on cw-multi-test with the
//! suite's contracts registered, bech32 addresses, real blocks (on an
//! interval or on demand), account sequences, a mempool, a tx index and an
//! event log per block, so that code written against it (signing at a
//! sequence, broadcasting, waiting for inclusion, following events from a
//! cursor, reconciling after a crash) behaves as it does against a node.
//!
//! The chain runs on its own thread (cw-multi-test's `App` is not `Send`);
//! [`EmbeddedChain`] is a cheap, cloneable handle that talks to it over a
//! channel, and [`EmbeddedClient`] binds a handle to one account.
//!
//! Differences from wasmd, on purpose: signatures are not checked (the
//! chain trusts the sender field, which is what a test chain is for); store
//! code is not a transaction (the native implementation is looked up by
//! name, the checksum is the artifact's sha256); gas is not metered, so
//! `gas_used` is an estimate after wasmd's cost model (per message, per byte
//! of message and per event attribute) and useful only for trends.
//!
//! Two test-chain powers a node does not have: [`EmbeddedChain::advance_time`]
//! moves block time forward (challenge windows, task deadlines), and
//! [`EmbeddedChain::inject`] injects [`Fault`]s (failed, lost and delayed
//! broadcasts, blocks not yet indexed, failing queries) for reliability tests.

mod faults;
mod natives;
mod node;

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use async_trait::async_trait;
use cosmwasm_std::Coin;
use relayer_core::chain::{
    tx_hash, BlockEventSource, BlockEvents, BlockRef, ChainMsg, ChainResult, ChainStatus,
    CodeClient, CodeInfo, CodeUpload, ContractInfo, SignedTx, SmartQuery, TxClient, TxOutcome,
};
use relayer_core::ChainError;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

pub use faults::{Fault, FaultCounts};
pub use natives::{native, NativeConstructor};
use node::Node;

/// When blocks are produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockMode {
    /// Every broadcast is committed in a block of its own right away
    /// (plus [`EmbeddedChain::produce_block`] on request).
    OnDemand,
    /// A block every interval with whatever is in the mempool (empty blocks too).
    Interval(Duration),
    /// Only [`EmbeddedChain::produce_block`] commits; for tests that need to
    /// hold transactions in the mempool.
    Manual,
}

/// How to start an embedded chain.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// Chain id, e.g. `wevalue-local`.
    pub chain_id: String,
    /// bech32 prefix of addresses, e.g. `wasm`.
    pub prefix: String,
    /// Block production.
    pub block_mode: BlockMode,
    /// Where `<name>.wasm` artifacts are (for checksums).
    pub artifacts_dir: Option<PathBuf>,
    /// Balances at genesis.
    pub genesis_balances: Vec<(String, Vec<Coin>)>,
    /// Gas limit given to every tx this chain's clients sign.
    pub gas_limit: u64,
    /// Committed blocks kept for event following; older ones are pruned.
    pub retain_blocks: usize,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        Self {
            chain_id: "wevalue-local".into(),
            prefix: "wasm".into(),
            block_mode: BlockMode::OnDemand,
            artifacts_dir: None,
            genesis_balances: vec![],
            gas_limit: 10_000_000,
            retain_blocks: 100_000,
        }
    }
}

/// The embedded chain's transaction encoding (JSON; what its "signature"
/// covers is the whole body, so the hash identifies the tx exactly).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct EmbeddedTx {
    pub(crate) chain_id: String,
    pub(crate) sender: String,
    pub(crate) sequence: u64,
    pub(crate) gas_limit: u64,
    pub(crate) memo: String,
    pub(crate) msgs: Vec<ChainMsg>,
}

pub(crate) type Reply<T> = oneshot::Sender<ChainResult<T>>;

pub(crate) enum Command {
    Latest(Reply<BlockRef>),
    Balance(String, String, Reply<u128>),
    Fund(String, Vec<Coin>, Reply<()>),
    Sequence(String, Reply<u64>),
    Broadcast(Vec<u8>, Reply<()>),
    FindTx(String, Reply<Option<TxOutcome>>),
    WaitTx(String, Reply<TxOutcome>),
    Query(String, Vec<u8>, Reply<Vec<u8>>),
    StoreCode(String, String, Option<Vec<u8>>, Reply<CodeInfo>),
    CodeInfo(u64, Reply<Option<CodeInfo>>),
    ContractInfo(String, Reply<Option<ContractInfo>>),
    BlockEvents(u64, Reply<BlockEvents>),
    ProduceBlock(Reply<BlockRef>),
    AddrMake(String, Reply<String>),
    AdvanceTime(Duration, Reply<BlockRef>),
    Inject(Fault, Reply<()>),
    FaultCounts(Reply<FaultCounts>),
    Shutdown,
}

/// Handle to a running embedded chain. Cloning is cheap; the chain stops
/// when [`EmbeddedChain::shutdown`] is called or every handle is dropped.
#[derive(Clone)]
pub struct EmbeddedChain {
    commands: mpsc::Sender<Command>,
    chain_id: String,
    prefix: String,
    gas_limit: u64,
}

impl std::fmt::Debug for EmbeddedChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedChain")
            .field("chain_id", &self.chain_id)
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl EmbeddedChain {
    /// Starts the chain thread and commits the genesis block (height 1).
    pub fn start(options: EmbeddedOptions) -> ChainResult<Self> {
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let chain = Self {
            commands: tx,
            chain_id: options.chain_id.clone(),
            prefix: options.prefix.clone(),
            gas_limit: options.gas_limit,
        };
        std::thread::Builder::new()
            .name(format!("embedded-chain-{}", options.chain_id))
            .spawn(move || match Node::new(options) {
                Ok(node) => {
                    let _ = ready_tx.send(Ok(()));
                    node.run(rx);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| ChainError::Rpc(format!("spawning the chain thread: {e}")))?;
        ready_rx.recv().map_err(|_| ChainError::ChainStopped)??;
        Ok(chain)
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> ChainResult<T> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .map_err(|_| ChainError::ChainStopped)?;
        rx.await.map_err(|_| ChainError::ChainStopped)?
    }

    /// The bech32 prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A client that signs as `address`.
    pub fn client(&self, address: impl Into<String>) -> EmbeddedClient {
        EmbeddedClient {
            chain: self.clone(),
            address: address.into(),
        }
    }

    /// A deterministic valid address for a label (like `MockApi::addr_make`).
    pub async fn addr_make(&self, label: &str) -> ChainResult<String> {
        let label = label.to_string();
        self.call(|r| Command::AddrMake(label, r)).await
    }

    /// Adds coins to an account (the test chain's faucet).
    pub async fn fund(&self, address: &str, coins: Vec<Coin>) -> ChainResult<()> {
        let address = address.to_string();
        self.call(|r| Command::Fund(address, coins, r)).await
    }

    /// Commits a block now with the mempool's transactions.
    pub async fn produce_block(&self) -> ChainResult<BlockRef> {
        self.call(Command::ProduceBlock).await
    }

    /// Moves block time forward by `by` and commits a block at the new time
    /// (with the mempool's transactions). Time never goes back.
    pub async fn advance_time(&self, by: Duration) -> ChainResult<BlockRef> {
        self.call(|r| Command::AdvanceTime(by, r)).await
    }

    /// Injects a fault (see [`Fault`]); budgets of the same kind add up.
    pub async fn inject(&self, fault: Fault) -> ChainResult<()> {
        self.call(|r| Command::Inject(fault, r)).await
    }

    /// Faults injected so far.
    pub async fn fault_counts(&self) -> ChainResult<FaultCounts> {
        self.call(Command::FaultCounts).await
    }

    /// Stops the chain thread.
    pub fn shutdown(&self) {
        let _ = self.commands.send(Command::Shutdown);
    }

    /// Stores code as `creator` (see the module docs: not a transaction).
    pub async fn store_code_as(&self, creator: &str, code: &CodeUpload) -> ChainResult<CodeInfo> {
        let (creator, name, wasm) = (creator.to_string(), code.name.clone(), code.wasm.clone());
        self.call(|r| Command::StoreCode(creator, name, wasm, r))
            .await
    }
}

/// An [`EmbeddedChain`] bound to a signing account; implements every
/// capability trait.
#[derive(Clone, Debug)]
pub struct EmbeddedClient {
    chain: EmbeddedChain,
    address: String,
}

impl EmbeddedClient {
    /// The chain handle.
    pub fn chain(&self) -> &EmbeddedChain {
        &self.chain
    }
}

#[async_trait]
impl SmartQuery for EmbeddedClient {
    async fn query_smart_raw(&self, contract: &str, msg: &[u8]) -> ChainResult<Vec<u8>> {
        let (contract, msg) = (contract.to_string(), msg.to_vec());
        self.chain.call(|r| Command::Query(contract, msg, r)).await
    }
}

#[async_trait]
impl ChainStatus for EmbeddedClient {
    fn chain_id(&self) -> &str {
        &self.chain.chain_id
    }

    async fn latest_block(&self) -> ChainResult<BlockRef> {
        self.chain.call(Command::Latest).await
    }

    async fn balance(&self, address: &str, denom: &str) -> ChainResult<u128> {
        let (address, denom) = (address.to_string(), denom.to_string());
        self.chain
            .call(|r| Command::Balance(address, denom, r))
            .await
    }
}

#[async_trait]
impl TxClient for EmbeddedClient {
    fn sender(&self) -> &str {
        &self.address
    }

    async fn account_sequence(&self) -> ChainResult<u64> {
        let address = self.address.clone();
        self.chain.call(|r| Command::Sequence(address, r)).await
    }

    async fn sign(&self, msgs: &[ChainMsg], memo: &str, sequence: u64) -> ChainResult<SignedTx> {
        let tx = EmbeddedTx {
            chain_id: self.chain.chain_id.clone(),
            sender: self.address.clone(),
            sequence,
            gas_limit: self.chain.gas_limit,
            memo: memo.to_string(),
            msgs: msgs.to_vec(),
        };
        let bytes = serde_json::to_vec(&tx)?;
        Ok(SignedTx {
            hash: tx_hash(&bytes),
            bytes,
            sequence,
            gas_limit: tx.gas_limit,
            // No timeout: the embedded chain's tx index is synchronous, so
            // the outbox's sequence rule is exact here.
            timeout_height: 0,
            signed_height: 0,
        })
    }

    async fn broadcast(&self, tx: &SignedTx) -> ChainResult<()> {
        let bytes = tx.bytes.clone();
        self.chain.call(|r| Command::Broadcast(bytes, r)).await
    }

    async fn find_tx(&self, hash: &str) -> ChainResult<Option<TxOutcome>> {
        let hash = hash.to_string();
        self.chain.call(|r| Command::FindTx(hash, r)).await
    }

    async fn latest_height(&self) -> ChainResult<u64> {
        Ok(self.latest_block().await?.height)
    }

    async fn tx_in_block(&self, hash: &str, height: u64) -> ChainResult<Option<TxOutcome>> {
        let block = self.block_events(height).await?;
        if !block.txs.iter().any(|t| t.hash.eq_ignore_ascii_case(hash)) {
            return Ok(None);
        }
        self.find_tx(hash).await
    }

    async fn wait_for_tx(&self, hash: &str, timeout: Duration) -> ChainResult<TxOutcome> {
        let owned = hash.to_string();
        match tokio::time::timeout(timeout, self.chain.call(|r| Command::WaitTx(owned, r))).await {
            Ok(result) => result,
            Err(_) => Err(ChainError::InclusionTimeout {
                hash: hash.to_string(),
                secs: timeout.as_secs(),
            }),
        }
    }
}

#[async_trait]
impl CodeClient for EmbeddedClient {
    async fn store_code(&self, code: &CodeUpload) -> ChainResult<CodeInfo> {
        self.chain.store_code_as(&self.address, code).await
    }

    async fn code_info(&self, code_id: u64) -> ChainResult<Option<CodeInfo>> {
        self.chain.call(|r| Command::CodeInfo(code_id, r)).await
    }

    async fn contract_info(&self, address: &str) -> ChainResult<Option<ContractInfo>> {
        let address = address.to_string();
        self.chain.call(|r| Command::ContractInfo(address, r)).await
    }

    async fn instantiate(
        &self,
        code_id: u64,
        msg: &serde_json::Value,
        label: &str,
        admin: Option<String>,
        funds: Vec<Coin>,
    ) -> ChainResult<(String, TxOutcome)> {
        let msgs = [ChainMsg::Instantiate {
            code_id,
            msg: serde_json::to_string(msg)?,
            funds,
            label: label.to_string(),
            admin,
        }];
        let outcome = relayer_core::chain::submit(self, &msgs, "", Duration::from_secs(60)).await?;
        let address =
            relayer_core::chain::find_attr(&outcome.events, "instantiate", "_contract_address")
                .ok_or(ChainError::Decode {
                    what: "instantiate events",
                    reason: "no _contract_address".into(),
                })?
                .to_string();
        Ok((address, outcome))
    }
}

#[async_trait]
impl BlockEventSource for EmbeddedClient {
    async fn block_events(&self, height: u64) -> ChainResult<BlockEvents> {
        self.chain.call(|r| Command::BlockEvents(height, r)).await
    }
}
