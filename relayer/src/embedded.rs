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

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use cosmwasm_std::{
    to_json_vec, Addr, Api, BlockInfo, Coin, ContractResult, CosmosMsg, Empty, Querier,
    QueryRequest, SystemResult, Timestamp, WasmMsg, WasmQuery,
};
use cw_multi_test::{App, AppBuilder, MockApiBech32};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::chain::{
    tx_hash, Attribute, BlockEventSource, BlockEvents, BlockRef, ChainMsg, ChainResult,
    ChainStatus, CodeClient, CodeInfo, CodeUpload, ContractInfo, Event, SignedTx, SmartQuery,
    TxClient, TxEvents, TxOutcome,
};
use crate::contracts;
use crate::error::ChainError;

type NodeApp = App<cw_multi_test::BankKeeper, MockApiBech32>;

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
struct EmbeddedTx {
    chain_id: String,
    sender: String,
    sequence: u64,
    gas_limit: u64,
    memo: String,
    msgs: Vec<ChainMsg>,
}

type Reply<T> = oneshot::Sender<ChainResult<T>>;

enum Command {
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
    AdvanceTime(u64, Reply<()>),
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

    /// Moves the clock of later blocks forward (tests of challenge periods
    /// and deadlines); block times stay monotonic.
    pub async fn advance_time(&self, by: Duration) -> ChainResult<()> {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.call(|r| Command::AdvanceTime(nanos, r)).await
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
        let outcome = crate::chain::submit(self, &msgs, "", Duration::from_secs(60)).await?;
        let address = crate::chain::find_attr(&outcome.events, "instantiate", "_contract_address")
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

/// The chain itself, owned by its thread.
struct Node {
    app: NodeApp,
    options: EmbeddedOptions,
    /// Committed height.
    height: u64,
    time_nanos: u64,
    blocks: VecDeque<BlockEvents>,
    mempool: Vec<(String, EmbeddedTx)>,
    /// Next sequence per account in committed state.
    sequences: HashMap<String, u64>,
    /// Next sequence per account counting the mempool (CheckTx state).
    check_sequences: HashMap<String, u64>,
    txs: HashMap<String, TxOutcome>,
    waiters: HashMap<String, Vec<Reply<TxOutcome>>>,
    codes: HashMap<u64, CodeInfo>,
    /// Added to the wall clock for block times ([`EmbeddedChain::advance_time`]).
    time_offset_nanos: u64,
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
}

fn convert_events(events: &[cosmwasm_std::Event]) -> Vec<Event> {
    events
        .iter()
        .map(|e| Event {
            ty: e.ty.clone(),
            attributes: e
                .attributes
                .iter()
                .map(|a| Attribute {
                    key: a.key.clone(),
                    value: a.value.clone(),
                })
                .collect(),
        })
        .collect()
}

/// wasmd-like gas estimate (module docs): a base per tx and per message,
/// message bytes and emitted attributes.
fn estimate_gas(tx: &EmbeddedTx, events: &[Event]) -> u64 {
    let msg_bytes: usize = tx
        .msgs
        .iter()
        .map(|m| match m {
            ChainMsg::Execute { msg, .. } | ChainMsg::Instantiate { msg, .. } => msg.len(),
        })
        .sum();
    let attrs: usize = events.iter().map(|e| e.attributes.len()).sum();
    60_000 + 20_000 * tx.msgs.len() as u64 + 30 * msg_bytes as u64 + 10 * attrs as u64
}

impl Node {
    fn new(options: EmbeddedOptions) -> ChainResult<Self> {
        // cw-multi-test wants a 'static prefix; one small leak per chain.
        let prefix: &'static str = Box::leak(options.prefix.clone().into_boxed_str());
        let api = MockApiBech32::new(prefix);
        let mut genesis = Vec::new();
        for (address, coins) in &options.genesis_balances {
            let addr = api
                .addr_validate(address)
                .map_err(|e| ChainError::InvalidAddress {
                    address: address.clone(),
                    reason: e.to_string(),
                })?;
            genesis.push((addr, coins.clone()));
        }
        let time_nanos = now_nanos();
        let chain_id = options.chain_id.clone();
        let app = AppBuilder::new()
            .with_api(api)
            .with_block(BlockInfo {
                height: 1,
                time: Timestamp::from_nanos(time_nanos),
                chain_id,
            })
            .build(|router, _api, storage| {
                for (addr, coins) in genesis {
                    router
                        .bank
                        .init_balance(storage, &addr, coins)
                        .expect("genesis balances are valid coins");
                }
            });
        let mut node = Self {
            app,
            options,
            height: 0,
            time_nanos,
            blocks: VecDeque::new(),
            mempool: vec![],
            sequences: HashMap::new(),
            check_sequences: HashMap::new(),
            txs: HashMap::new(),
            waiters: HashMap::new(),
            codes: HashMap::new(),
            time_offset_nanos: 0,
        };
        node.commit_block();
        Ok(node)
    }

    fn run(mut self, rx: mpsc::Receiver<Command>) {
        let interval = match self.options.block_mode {
            BlockMode::Interval(d) => Some(d),
            _ => None,
        };
        let mut next_block = interval.map(|d| Instant::now() + d);
        loop {
            let cmd = match next_block {
                Some(deadline) => {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match rx.recv_timeout(wait) {
                        Ok(cmd) => Some(cmd),
                        Err(mpsc::RecvTimeoutError::Timeout) => None,
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
                None => match rx.recv() {
                    Ok(cmd) => Some(cmd),
                    Err(_) => return,
                },
            };
            match cmd {
                Some(Command::Shutdown) => return,
                Some(cmd) => self.handle(cmd),
                None => {
                    self.commit_block();
                    next_block = interval.map(|d| Instant::now() + d);
                }
            }
        }
    }

    fn latest(&self) -> BlockRef {
        BlockRef {
            height: self.height,
            time_nanos: self.time_nanos,
        }
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Latest(r) => {
                let _ = r.send(Ok(self.latest()));
            }
            Command::Balance(address, denom, r) => {
                let _ = r.send(
                    self.app
                        .wrap()
                        .query_balance(address, denom)
                        .map(|c| c.amount.u128())
                        .map_err(|e| ChainError::Query {
                            contract: "bank".into(),
                            reason: e.to_string(),
                        }),
                );
            }
            Command::Fund(address, coins, r) => {
                let _ = r.send(self.fund(&address, coins));
            }
            Command::Sequence(address, r) => {
                let _ = r.send(Ok(self.sequences.get(&address).copied().unwrap_or(0)));
            }
            Command::Broadcast(bytes, r) => {
                let result = self.check_tx(&bytes);
                let ok = result.is_ok();
                let _ = r.send(result);
                if ok && self.options.block_mode == BlockMode::OnDemand {
                    self.commit_block();
                }
            }
            Command::FindTx(hash, r) => {
                let _ = r.send(Ok(self.txs.get(&hash).cloned()));
            }
            Command::WaitTx(hash, r) => match self.txs.get(&hash) {
                Some(outcome) => {
                    let _ = r.send(Ok(outcome.clone()));
                }
                None => self.waiters.entry(hash).or_default().push(r),
            },
            Command::Query(contract, msg, r) => {
                let _ = r.send(self.query(contract, msg));
            }
            Command::StoreCode(creator, name, wasm, r) => {
                let _ = r.send(self.store_code(&creator, &name, wasm.as_deref()));
            }
            Command::CodeInfo(code_id, r) => {
                let _ = r.send(Ok(self.codes.get(&code_id).cloned()));
            }
            Command::ContractInfo(address, r) => {
                let info = self
                    .app
                    .contract_data(&Addr::unchecked(&address))
                    .ok()
                    .map(|d| ContractInfo {
                        address,
                        code_id: d.code_id,
                        admin: d.admin.map(Addr::into_string),
                        label: d.label,
                    });
                let _ = r.send(Ok(info));
            }
            Command::BlockEvents(height, r) => {
                let _ = r.send(self.block_events(height));
            }
            Command::ProduceBlock(r) => {
                self.commit_block();
                let _ = r.send(Ok(self.latest()));
            }
            Command::AddrMake(label, r) => {
                let _ = r.send(Ok(self.app.api().addr_make(&label).into_string()));
            }
            Command::AdvanceTime(nanos, r) => {
                self.time_offset_nanos = self.time_offset_nanos.saturating_add(nanos);
                let _ = r.send(Ok(()));
            }
            Command::Shutdown => {}
        }
    }

    fn validate(&self, address: &str) -> ChainResult<Addr> {
        self.app
            .api()
            .addr_validate(address)
            .map_err(|e| ChainError::InvalidAddress {
                address: address.to_string(),
                reason: e.to_string(),
            })
    }

    fn fund(&mut self, address: &str, coins: Vec<Coin>) -> ChainResult<()> {
        let addr = self.validate(address)?;
        let mut balances = Vec::new();
        for coin in &coins {
            let current = self
                .app
                .wrap()
                .query_balance(addr.as_str(), &coin.denom)
                .map_err(|e| ChainError::Query {
                    contract: "bank".into(),
                    reason: e.to_string(),
                })?;
            balances.push(current);
        }
        // init_balance replaces the whole balance: keep the other denoms.
        #[allow(deprecated)]
        let others = self
            .app
            .wrap()
            .query_all_balances(addr.as_str())
            .unwrap_or_default();
        for other in others {
            if !balances.iter().any(|c| c.denom == other.denom) {
                balances.push(other);
            }
        }
        for coin in coins {
            match balances.iter_mut().find(|c| c.denom == coin.denom) {
                Some(existing) => existing.amount += coin.amount,
                None => balances.push(coin),
            }
        }
        self.app
            .init_modules(|router, _, storage| router.bank.init_balance(storage, &addr, balances))
            .map_err(|e| ChainError::Rpc(format!("funding {address}: {e}")))
    }

    /// CheckTx: decode, chain id, sequence against the mempool state, duplicates.
    fn check_tx(&mut self, bytes: &[u8]) -> ChainResult<()> {
        let hash = tx_hash(bytes);
        let tx: EmbeddedTx = serde_json::from_slice(bytes).map_err(|e| ChainError::Rejected {
            hash: hash.clone(),
            code: 2,
            log: format!("tx parse error: {e}"),
        })?;
        if self.txs.contains_key(&hash) || self.mempool.iter().any(|(h, _)| *h == hash) {
            return Err(ChainError::Rejected {
                hash,
                code: 19,
                log: "tx already exists in cache".into(),
            });
        }
        if tx.chain_id != self.options.chain_id {
            return Err(ChainError::Rejected {
                hash,
                code: 4,
                log: format!(
                    "signature verification failed: chain-id {} is not {}",
                    tx.chain_id, self.options.chain_id
                ),
            });
        }
        self.validate(&tx.sender)?;
        let expected = self.check_sequences.get(&tx.sender).copied().unwrap_or(0);
        if tx.sequence != expected {
            return Err(ChainError::SequenceMismatch {
                expected,
                got: tx.sequence,
            });
        }
        self.check_sequences.insert(tx.sender.clone(), expected + 1);
        self.mempool.push((hash, tx));
        Ok(())
    }

    fn commit_block(&mut self) {
        let height = self.height + 1;
        self.time_nanos = now_nanos()
            .saturating_add(self.time_offset_nanos)
            .max(self.time_nanos + 1_000_000);
        self.app.set_block(BlockInfo {
            height,
            time: Timestamp::from_nanos(self.time_nanos),
            chain_id: self.options.chain_id.clone(),
        });
        let mut txs = Vec::new();
        for (index, (hash, tx)) in std::mem::take(&mut self.mempool).into_iter().enumerate() {
            // The ante handler consumed the sequence whatever DeliverTx does.
            let next = self.sequences.get(&tx.sender).copied().unwrap_or(0) + 1;
            self.sequences.insert(tx.sender.clone(), next);
            let outcome = self.deliver(height, &hash, &tx);
            txs.push(TxEvents {
                hash: hash.clone(),
                index: index as u32,
                code: outcome.code,
                events: outcome.events.clone(),
            });
            if let Some(waiters) = self.waiters.remove(&hash) {
                for w in waiters {
                    let _ = w.send(Ok(outcome.clone()));
                }
            }
            self.txs.insert(hash, outcome);
        }
        // CheckTx state restarts from the committed state, as after Commit.
        self.check_sequences = self.sequences.clone();
        self.height = height;
        self.blocks.push_back(BlockEvents {
            height,
            time_nanos: self.time_nanos,
            txs,
        });
        while self.blocks.len() > self.options.retain_blocks.max(1) {
            self.blocks.pop_front();
        }
    }

    fn deliver(&mut self, height: u64, hash: &str, tx: &EmbeddedTx) -> TxOutcome {
        let mut outcome = TxOutcome {
            hash: hash.to_string(),
            height,
            code: 0,
            log: String::new(),
            gas_used: 0,
            gas_wanted: tx.gas_limit,
            events: vec![],
        };
        let msgs: Vec<CosmosMsg<Empty>> = tx
            .msgs
            .iter()
            .map(|m| match m.clone() {
                ChainMsg::Execute {
                    contract,
                    msg,
                    funds,
                } => CosmosMsg::Wasm(WasmMsg::Execute {
                    contract_addr: contract,
                    msg: msg.into_bytes().into(),
                    funds,
                }),
                ChainMsg::Instantiate {
                    code_id,
                    msg,
                    funds,
                    label,
                    admin,
                } => CosmosMsg::Wasm(WasmMsg::Instantiate {
                    admin,
                    code_id,
                    msg: msg.into_bytes().into(),
                    funds,
                    label,
                }),
            })
            .collect();
        // Refuse before running what the estimate already puts over the
        // limit (the ante handler's job on a real chain).
        let floor = estimate_gas(tx, &[]);
        if floor > tx.gas_limit {
            outcome.code = 11;
            outcome.log = format!("out of gas: limit {}, needs at least {floor}", tx.gas_limit);
            outcome.gas_used = tx.gas_limit;
            return outcome;
        }
        let sender = Addr::unchecked(&tx.sender);
        match self.app.execute_multi(sender, msgs) {
            Ok(responses) => {
                let mut events = vec![Event {
                    ty: "tx".into(),
                    attributes: vec![Attribute {
                        key: "acc_seq".into(),
                        value: format!("{}/{}", tx.sender, tx.sequence),
                    }],
                }];
                for r in &responses {
                    events.extend(convert_events(&r.events));
                }
                outcome.gas_used = estimate_gas(tx, &events);
                outcome.events = events;
            }
            Err(e) => {
                outcome.code = 5;
                outcome.log = format!("{e:#}");
                outcome.gas_used = floor;
            }
        }
        outcome
    }

    fn query(&self, contract: String, msg: Vec<u8>) -> ChainResult<Vec<u8>> {
        let request: QueryRequest<Empty> = QueryRequest::Wasm(WasmQuery::Smart {
            contract_addr: contract.clone(),
            msg: msg.into(),
        });
        let raw = to_json_vec(&request).map_err(|e| ChainError::Query {
            contract: contract.clone(),
            reason: e.to_string(),
        })?;
        match self.app.raw_query(&raw) {
            SystemResult::Ok(ContractResult::Ok(bin)) => Ok(bin.to_vec()),
            SystemResult::Ok(ContractResult::Err(reason)) => {
                Err(ChainError::Query { contract, reason })
            }
            SystemResult::Err(e) => Err(ChainError::Query {
                contract,
                reason: e.to_string(),
            }),
        }
    }

    fn store_code(
        &mut self,
        creator: &str,
        name: &str,
        wasm: Option<&[u8]>,
    ) -> ChainResult<CodeInfo> {
        let entry = contracts::lookup(name).ok_or_else(|| ChainError::UnknownContract {
            name: name.to_string(),
        })?;
        let creator = self.validate(creator)?;
        let from_disk;
        let wasm = match (wasm, &self.options.artifacts_dir) {
            (Some(w), _) => Some(w),
            (None, Some(dir)) => {
                from_disk = entry.read_wasm(dir).ok().flatten();
                from_disk.as_deref()
            }
            (None, None) => None,
        };
        let checksum = contracts::embedded_checksum(name, wasm);
        let code_id = self
            .app
            .store_code_with_creator(creator.clone(), (entry.native)(checksum));
        let info = CodeInfo {
            code_id,
            checksum: checksum.to_hex(),
        };
        self.codes.insert(code_id, info.clone());
        // Record it in the block log as wasmd's store_code event would be.
        self.commit_block();
        if let Some(block) = self.blocks.back_mut() {
            block.txs.push(TxEvents {
                hash: tx_hash(format!("store_code/{code_id}/{creator}").as_bytes()),
                index: 0,
                code: 0,
                events: vec![Event {
                    ty: "store_code".into(),
                    attributes: vec![
                        Attribute {
                            key: "code_checksum".into(),
                            value: info.checksum.clone(),
                        },
                        Attribute {
                            key: "code_id".into(),
                            value: code_id.to_string(),
                        },
                    ],
                }],
            });
        }
        Ok(info)
    }

    fn block_events(&self, height: u64) -> ChainResult<BlockEvents> {
        let first = self.blocks.front().map(|b| b.height).unwrap_or(1);
        if height < first && height >= 1 {
            return Err(ChainError::BlockPruned {
                height,
                earliest: first,
            });
        }
        if height < first || height > self.height {
            return Err(ChainError::BlockUnavailable {
                height,
                latest: self.height,
            });
        }
        Ok(self.blocks[(height - first) as usize].clone())
    }
}
