//! The chain itself, owned by its thread: cw-multi-test with blocks, a
//! mempool with CheckTx sequences, a tx index and an event log per block.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use cosmwasm_std::{
    to_json_vec, Addr, Api, BlockInfo, Coin, ContractResult, Empty, Querier, QueryRequest,
    SystemResult, Timestamp, WasmQuery,
};
use cw_multi_test::{App, AppBuilder, MockApiBech32};
use relayer_core::chain::{
    tx_hash, Attribute, BlockEvents, BlockRef, ChainResult, CodeInfo, ContractInfo, Event,
    TxEvents, TxOutcome,
};
use relayer_core::contracts;
use relayer_core::ChainError;

use crate::faults::{take, Fault, Faults};
use crate::{BlockMode, Command, EmbeddedOptions, EmbeddedTx, Reply};

mod blocks;

type NodeApp = App<cw_multi_test::BankKeeper, MockApiBech32>;

/// The chain itself, owned by its thread.
pub(crate) struct Node {
    app: NodeApp,
    options: EmbeddedOptions,
    /// Committed height.
    height: u64,
    time_nanos: u64,
    blocks: VecDeque<BlockEvents>,
    /// Accepted txs with the first height that may include them.
    mempool: Vec<(String, EmbeddedTx, u64)>,
    /// Added to the wall clock (`advance_time`).
    time_offset_nanos: u64,
    /// Floor for the next block's time (`advance_time`).
    min_next_time: u64,
    faults: Faults,
    /// Next sequence per account in committed state.
    sequences: HashMap<String, u64>,
    /// Next sequence per account counting the mempool (CheckTx state).
    check_sequences: HashMap<String, u64>,
    txs: HashMap<String, TxOutcome>,
    waiters: HashMap<String, Vec<Reply<TxOutcome>>>,
    codes: HashMap<u64, CodeInfo>,
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
}

impl Node {
    pub(crate) fn new(options: EmbeddedOptions) -> ChainResult<Self> {
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
            time_offset_nanos: 0,
            min_next_time: 0,
            faults: Faults::default(),
            sequences: HashMap::new(),
            check_sequences: HashMap::new(),
            txs: HashMap::new(),
            waiters: HashMap::new(),
            codes: HashMap::new(),
        };
        node.commit_block();
        Ok(node)
    }

    pub(crate) fn run(mut self, rx: mpsc::Receiver<Command>) {
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
                if take(&mut self.faults.fail_broadcasts) {
                    self.faults.counts.failed_broadcasts += 1;
                    let _ = r.send(Err(ChainError::Rpc(
                        "injected fault: connection reset during broadcast".into(),
                    )));
                    return;
                }
                if take(&mut self.faults.drop_broadcasts) {
                    self.faults.counts.dropped_broadcasts += 1;
                    let _ = r.send(Ok(()));
                    return;
                }
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
                if take(&mut self.faults.fail_queries) {
                    self.faults.counts.failed_queries += 1;
                    let _ = r.send(Err(ChainError::Rpc(
                        "injected fault: query connection reset".into(),
                    )));
                    return;
                }
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
                if height <= self.height && take(&mut self.faults.missing_blocks) {
                    self.faults.counts.missing_blocks += 1;
                    let _ = r.send(Err(ChainError::BlockUnavailable {
                        height,
                        latest: height.saturating_sub(1),
                    }));
                    return;
                }
                let _ = r.send(self.block_events(height));
            }
            Command::ProduceBlock(r) => {
                self.commit_block();
                let _ = r.send(Ok(self.latest()));
            }
            Command::AddrMake(label, r) => {
                let _ = r.send(Ok(self.app.api().addr_make(&label).into_string()));
            }
            Command::AdvanceTime(by, r) => {
                let by = by.as_nanos().min(u64::MAX as u128) as u64;
                self.time_offset_nanos = self.time_offset_nanos.saturating_add(by);
                // At least `by` after the last block, whatever the wall clock did.
                self.min_next_time = self.time_nanos.saturating_add(by);
                self.commit_block();
                let _ = r.send(Ok(self.latest()));
            }
            Command::Inject(fault, r) => {
                let f = &mut self.faults;
                match fault {
                    Fault::FailBroadcasts(n) => f.fail_broadcasts += n,
                    Fault::DropBroadcasts(n) => f.drop_broadcasts += n,
                    Fault::DelayTxs { count, blocks } => {
                        f.delay_count += count;
                        f.delay_blocks = blocks;
                    }
                    Fault::MissingBlocks(n) => f.missing_blocks += n,
                    Fault::FailQueries(n) => f.fail_queries += n,
                }
                let _ = r.send(Ok(()));
            }
            Command::FaultCounts(r) => {
                let _ = r.send(Ok(self.faults.counts));
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
        let unknown = || ChainError::UnknownContract {
            name: name.to_string(),
        };
        let entry = contracts::lookup(name).ok_or_else(unknown)?;
        let native = crate::natives::native(name).ok_or_else(unknown)?;
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
            .store_code_with_creator(creator.clone(), native(checksum));
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
