//! Runs the optimized contract artifacts (`artifacts/<name>.wasm`) in
//! `cosmwasm-vm`, the VM wasmd embeds, and reports gas the way wasmd charges it.
//!
//! Gas accounting follows wasmd's defaults so that figures are comparable with
//! a real chain:
//! * Wasm execution is metered by the VM in CosmWasm gas and converted to SDK
//!   gas with wasmd's `DefaultGasMultiplier` ([`GAS_MULTIPLIER`]).
//! * Storage is charged with the Cosmos SDK `KVGasConfig` ([`KvGasConfig`]) by
//!   [`WasmdStorage`], reported to the VM as externally used gas.
//! * Events are charged per attribute and per byte above a free tier
//!   ([`event_gas`]).
//! * The flat per-instance cost wasmd adds (60,000 SDK gas, discounted for
//!   pinned code) is the same for every call and is *not* included.
//!
//! A missing artifact is a hard failure that says how to build it: VM tests
//! are never skipped silently.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};

use cosmwasm_std::{
    Addr, Attribute, Binary, BlockInfo, Coin, ContractInfo, ContractResult, Empty, Env, Event,
    IbcBasicResponse, IbcDestinationCallbackMsg, IbcSourceCallbackMsg, MessageInfo, Order,
    QuerierResult, Record, Reply, Response, Timestamp, TransactionInfo, WasmQuery,
};
use cosmwasm_vm::internals::{check_wasm, Logger};
use cosmwasm_vm::testing::{MockApi, MockQuerier};
use cosmwasm_vm::{
    call_execute, call_ibc_destination_callback, call_ibc_source_callback, call_instantiate,
    call_migrate, call_query, call_reply, capabilities_from_csv, Backend, BackendError,
    BackendResult, GasInfo, Instance, InstanceOptions, Size, Storage, WasmLimits,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// CosmWasm gas per SDK gas in wasmd (`DefaultGasMultiplier`). CosmWasm 2.0
/// divided all VM gas by 1,000 (1 Teragas per second instead of per
/// millisecond: `GAS_PER_US = 1_000_000` in cosmwasm-vm), and wasmd for
/// wasmvm 2 divided its multiplier to match: 140,000,000 became 140,000.
/// Sanity check: a secp256k1 verification (96 µs) costs 686 SDK gas, close
/// to the SDK's own 1,000 for a signature.
pub const GAS_MULTIPLIER: u64 = 140_000;
/// The SDK gas wasmd charges for loading an instance (not included in reports).
pub const WASMD_INSTANCE_COST: u64 = 60_000;
/// Bech32 prefix of the harness's addresses (wasmd's).
pub const BECH32_PREFIX: &str = "wasm";
/// Chain id of the harness's environment.
pub const CHAIN_ID: &str = "wevalue-vm-1";
/// Memory limit per instance, as wasmd's default (16 MiB).
const MEMORY_LIMIT_MIB: usize = 16;
/// Block time between heights when blocks are advanced.
pub const BLOCK_SECONDS: u64 = 5;

/// The Cosmos SDK's default `KVGasConfig`, in SDK gas.
#[derive(Clone, Copy, Debug)]
pub struct KvGasConfig {
    pub has_cost: u64,
    pub delete_cost: u64,
    pub read_cost_flat: u64,
    pub read_cost_per_byte: u64,
    pub write_cost_flat: u64,
    pub write_cost_per_byte: u64,
    pub iter_next_cost_flat: u64,
}

impl Default for KvGasConfig {
    fn default() -> Self {
        Self {
            has_cost: 1_000,
            delete_cost: 1_000,
            read_cost_flat: 1_000,
            read_cost_per_byte: 3,
            write_cost_flat: 2_000,
            write_cost_per_byte: 30,
            iter_next_cost_flat: 30,
        }
    }
}

/// An in-memory KV store charged like wasmd's gas KV store.
///
/// Unlike cosmwasm-vm's `MockStorage`, whose `scan` copies every record in
/// range up front, iterators here are lazy (each step is one B-tree seek
/// from the last key returned), as on a real node: a contract that reads one
/// entry of a large range costs the host one seek, not a copy of the range.
#[derive(Default)]
pub struct WasmdStorage {
    data: BTreeMap<Vec<u8>, Vec<u8>>,
    iterators: Vec<LazyIter>,
    config: KvGasConfig,
}

struct LazyIter {
    start: Option<Vec<u8>>,
    end: Option<Vec<u8>>,
    order: Order,
    /// The last key returned; the next step continues after it.
    last: Option<Vec<u8>>,
}

fn sdk(gas: u64) -> GasInfo {
    GasInfo::with_externally_used(gas * GAS_MULTIPLIER)
}

impl WasmdStorage {
    fn seek_cost(&self, record: &Option<Record>) -> u64 {
        match record {
            Some((k, v)) => {
                self.config.iter_next_cost_flat
                    + self.config.read_cost_per_byte * (k.len() + v.len()) as u64
            }
            None => self.config.iter_next_cost_flat,
        }
    }

    fn step(&self, it: &LazyIter) -> Option<Record> {
        let lower = match (&it.order, &it.last, &it.start) {
            (Order::Ascending, Some(last), _) => Bound::Excluded(last.clone()),
            (_, _, Some(start)) => Bound::Included(start.clone()),
            (_, _, None) => Bound::Unbounded,
        };
        let upper = match (&it.order, &it.last, &it.end) {
            (Order::Descending, Some(last), _) => Bound::Excluded(last.clone()),
            (_, _, Some(end)) => Bound::Excluded(end.clone()),
            (_, _, None) => Bound::Unbounded,
        };
        // BTreeMap::range panics on an empty or inverted range.
        if let (Bound::Included(l) | Bound::Excluded(l), Bound::Excluded(u)) = (&lower, &upper) {
            if l >= u {
                return None;
            }
        }
        let mut range = self.data.range::<Vec<u8>, _>((lower, upper));
        let found = match it.order {
            Order::Ascending => range.next(),
            Order::Descending => range.next_back(),
        };
        found.map(|(k, v)| (k.clone(), v.clone()))
    }
}

impl Storage for WasmdStorage {
    fn get(&self, key: &[u8]) -> BackendResult<Option<Vec<u8>>> {
        let value = self.data.get(key).cloned();
        let len = (key.len() + value.as_ref().map_or(0, Vec::len)) as u64;
        (
            Ok(value),
            sdk(self.config.read_cost_flat + self.config.read_cost_per_byte * len),
        )
    }

    fn scan(
        &mut self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> BackendResult<u32> {
        self.iterators.push(LazyIter {
            start: start.map(<[u8]>::to_vec),
            end: end.map(<[u8]>::to_vec),
            order,
            last: None,
        });
        // The SDK charges each position an iterator visits, in `next`.
        (Ok(self.iterators.len() as u32 - 1), GasInfo::free())
    }

    fn next(&mut self, iterator_id: u32) -> BackendResult<Option<Record>> {
        let Some(it) = self.iterators.get(iterator_id as usize) else {
            return (
                Err(BackendError::iterator_does_not_exist(iterator_id)),
                GasInfo::free(),
            );
        };
        let record = self.step(it);
        if let Some((key, _)) = &record {
            self.iterators[iterator_id as usize].last = Some(key.clone());
        }
        let cost = self.seek_cost(&record);
        (Ok(record), sdk(cost))
    }

    fn set(&mut self, key: &[u8], value: &[u8]) -> BackendResult<()> {
        let cost = self.config.write_cost_flat
            + self.config.write_cost_per_byte * (key.len() + value.len()) as u64;
        self.data.insert(key.to_vec(), value.to_vec());
        (Ok(()), sdk(cost))
    }

    fn remove(&mut self, key: &[u8]) -> BackendResult<()> {
        self.data.remove(key);
        (Ok(()), sdk(self.config.delete_cost))
    }
}

/// wasmd's event charge in SDK gas: 10 per attribute and 20 per custom event,
/// plus 1 per byte of attribute data beyond a free tier of 100 bytes.
pub fn event_gas(response: &Response) -> u64 {
    events_gas(&response.attributes, &response.events)
}

/// [`event_gas`] of an IBC entry point's response.
pub fn ibc_event_gas(response: &IbcBasicResponse) -> u64 {
    events_gas(&response.attributes, &response.events)
}

fn events_gas(attributes: &[Attribute], events: &[Event]) -> u64 {
    const PER_ATTRIBUTE: u64 = 10;
    const PER_EVENT: u64 = 20;
    const FREE_BYTES: u64 = 100;
    let attr_bytes = |attrs: &[cosmwasm_std::Attribute]| -> (u64, u64) {
        let bytes = attrs
            .iter()
            .map(|a| (a.key.len() + a.value.len()) as u64)
            .sum();
        (attrs.len() as u64, bytes)
    };
    let (mut count, mut bytes) = attr_bytes(attributes);
    let mut custom = 0;
    for Event { attributes, .. } in events {
        let (c, b) = attr_bytes(attributes);
        count += c;
        bytes += b;
        custom += 1;
    }
    count * PER_ATTRIBUTE + custom * PER_EVENT + bytes.saturating_sub(FREE_BYTES)
}

/// Gas one call used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gas {
    /// CosmWasm gas of Wasm execution and host calls metered by the VM.
    pub vm_internal: u64,
    /// CosmWasm gas of storage, charged with the SDK's KV gas config.
    pub vm_external: u64,
    /// SDK gas of the emitted events.
    pub events: u64,
}

impl Gas {
    /// Total SDK gas as wasmd would charge it, without the flat instance cost.
    pub fn sdk(&self) -> u64 {
        (self.vm_internal + self.vm_external).div_ceil(GAS_MULTIPLIER) + self.events
    }
    /// The Wasm execution part in SDK gas.
    pub fn sdk_compute(&self) -> u64 {
        self.vm_internal.div_ceil(GAS_MULTIPLIER)
    }
    /// The storage part in SDK gas.
    pub fn sdk_storage(&self) -> u64 {
        self.vm_external.div_ceil(GAS_MULTIPLIER)
    }
}

/// A successful call: the contract's response and the gas it used.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub response: Response,
    pub gas: Gas,
}

impl Outcome {
    /// The value of the first attribute named `key`, on the response or any event.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.response
            .attributes
            .iter()
            .chain(
                self.response
                    .events
                    .iter()
                    .flat_map(|e| e.attributes.iter()),
            )
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    }
}

/// A successful IBC entry point call: its response and the gas it used.
#[derive(Clone, Debug)]
pub struct IbcOutcome {
    pub response: IbcBasicResponse,
    pub gas: Gas,
}

impl IbcOutcome {
    /// The value of the first attribute named `key`.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.response
            .attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    }
}

/// The workspace's `artifacts/` directory (override with `WEVALUE_ARTIFACTS`).
pub fn artifacts_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("WEVALUE_ARTIFACTS") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts")
}

/// The chain capabilities the artifacts are checked against (`ci/capabilities.txt`).
pub fn chain_capabilities() -> HashSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ci/capabilities.txt");
    let csv = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    capabilities_from_csv(csv.trim())
}

/// Reads `artifacts/<name>.wasm`, failing with instructions when it is missing.
pub fn load_artifact(name: &str) -> Vec<u8> {
    let path = artifacts_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "missing wasm artifact {} ({e}).\n\
             The VM tests run the optimized contracts; build them first with:\n    \
             ci/build-wasm.sh\n(or run the whole suite with ci/test.sh)",
            path.display()
        )
    })
}

type VmInstance = Instance<MockApi, WasmdStorage, MockQuerier>;

/// One contract instance running its optimized artifact in the VM.
pub struct VmContract {
    instance: VmInstance,
    api: MockApi,
    /// Name of the artifact (`data-registry`, …).
    pub name: String,
    /// sha256 of the artifact, hex.
    pub checksum: String,
    /// Size of the artifact in bytes.
    pub wasm_size: usize,
    /// The contract's own address.
    pub address: Addr,
    /// The current block.
    pub block: BlockInfo,
}

impl VmContract {
    /// Loads `artifacts/<name>.wasm`, checks it as wasmd would against the
    /// chain capabilities, and creates an instance with wasmd's memory limit.
    pub fn new(name: &str) -> Self {
        let code = load_artifact(name);
        Self::from_code(name, &code)
    }

    /// Like [`VmContract::new`], with the code given directly.
    pub fn from_code(name: &str, code: &[u8]) -> Self {
        check_wasm(
            code,
            &chain_capabilities(),
            &WasmLimits::default(),
            Logger::Off,
        )
        .unwrap_or_else(|e| panic!("{name}.wasm fails the VM's static checks: {e}"));
        let api = MockApi::default().with_prefix(BECH32_PREFIX);
        let address = Addr::unchecked(api.addr_make(&format!("contract:{name}")));
        let backend = Backend {
            api,
            storage: WasmdStorage::default(),
            querier: MockQuerier::new(&[]),
        };
        let instance = Instance::from_code(
            code,
            backend,
            InstanceOptions {
                gas_limit: u64::MAX / 4,
            },
            Some(Size::mebi(MEMORY_LIMIT_MIB)),
        )
        .unwrap_or_else(|e| panic!("cannot instantiate {name}.wasm in the VM: {e}"));
        Self {
            instance,
            api,
            name: name.to_string(),
            checksum: hex::encode(Sha256::digest(code)),
            wasm_size: code.len(),
            address,
            block: BlockInfo {
                height: 12_345,
                time: Timestamp::from_seconds(1_700_000_000),
                chain_id: CHAIN_ID.to_string(),
            },
        }
    }

    /// A valid 32-byte bech32 address derived from `label` (contract-style).
    pub fn addr(&self, label: &str) -> Addr {
        Addr::unchecked(self.api.addr_make(label))
    }

    /// A 20-byte bech32 account address derived from `label`, the length of
    /// a wallet address on a real chain (and so of real storage keys).
    pub fn user_addr(&self, label: &str) -> Addr {
        user_addr(label)
    }

    /// The environment of the next call.
    pub fn env(&self) -> Env {
        Env {
            block: self.block.clone(),
            transaction: Some(TransactionInfo { index: 0 }),
            contract: ContractInfo {
                address: self.address.clone(),
            },
        }
    }

    /// Moves `n` blocks forward, [`BLOCK_SECONDS`] each.
    pub fn advance_blocks(&mut self, n: u64) {
        self.block.height += n;
        self.block.time = self.block.time.plus_seconds(n * BLOCK_SECONDS);
    }

    /// Answers the contract's wasm queries (to other contracts) with `handler`.
    pub fn set_wasm_querier<F>(&mut self, handler: F)
    where
        F: Fn(&WasmQuery) -> QuerierResult + 'static,
    {
        self.instance
            .with_querier(|q| {
                q.update_wasm(handler);
                Ok(())
            })
            .expect("querier is available");
    }

    /// Sets the bank balance of `addr` as the contract's queries see it.
    pub fn set_balance(&mut self, addr: &Addr, coins: Vec<Coin>) {
        self.instance
            .with_querier(|q| {
                q.update_balance(addr.as_str(), coins);
                Ok(())
            })
            .expect("querier is available");
    }

    fn gas_snapshot(&mut self) -> (u64, u64) {
        let r = self.instance.create_gas_report();
        (r.used_internally, r.used_externally)
    }

    fn measure<T>(&mut self, call: impl FnOnce(&mut VmInstance, &Env) -> T) -> (T, u64, u64) {
        let env = self.env();
        let (i0, e0) = self.gas_snapshot();
        let out = call(&mut self.instance, &env);
        let (i1, e1) = self.gas_snapshot();
        (out, i1 - i0, e1 - e0)
    }

    fn finish(
        &mut self,
        result: cosmwasm_vm::VmResult<ContractResult<Response<Empty>>>,
        vm_internal: u64,
        vm_external: u64,
    ) -> Result<Outcome, String> {
        match result {
            Ok(ContractResult::Ok(response)) => {
                let gas = Gas {
                    vm_internal,
                    vm_external,
                    events: event_gas(&response),
                };
                Ok(Outcome { response, gas })
            }
            Ok(ContractResult::Err(err)) => Err(err),
            Err(vm_err) => panic!("{}: VM error: {vm_err}", self.name),
        }
    }

    /// Instantiates the contract; `Err` carries the contract's error text.
    pub fn instantiate<M: Serialize>(
        &mut self,
        sender: &Addr,
        funds: &[Coin],
        msg: &M,
    ) -> Result<Outcome, String> {
        let info = MessageInfo {
            sender: sender.clone(),
            funds: funds.to_vec(),
        };
        let msg = serde_json::to_vec(msg).expect("message serializes");
        let (res, i, e) = self.measure(|inst, env| call_instantiate(inst, env, &info, &msg));
        self.finish(res, i, e)
    }

    /// Executes a message; `Err` carries the contract's error text.
    pub fn execute<M: Serialize>(
        &mut self,
        sender: &Addr,
        funds: &[Coin],
        msg: &M,
    ) -> Result<Outcome, String> {
        let info = MessageInfo {
            sender: sender.clone(),
            funds: funds.to_vec(),
        };
        let msg = serde_json::to_vec(msg).expect("message serializes");
        let (res, i, e) = self.measure(|inst, env| call_execute(inst, env, &info, &msg));
        self.finish(res, i, e)
    }

    /// Runs the contract's `migrate` entry point.
    pub fn migrate<M: Serialize>(&mut self, msg: &M) -> Result<Outcome, String> {
        let msg = serde_json::to_vec(msg).expect("message serializes");
        let (res, i, e) = self.measure(|inst, env| call_migrate(inst, env, &msg));
        self.finish(res, i, e)
    }

    /// Runs the contract's `reply` entry point (what wasmd calls after a
    /// submessage).
    pub fn reply(&mut self, msg: &Reply) -> Result<Outcome, String> {
        let (res, i, e) = self.measure(|inst, env| call_reply(inst, env, msg));
        self.finish(res, i, e)
    }

    /// Runs `ibc_source_callback` (the ibc-go callbacks middleware after an
    /// acknowledgement or a timeout).
    pub fn ibc_source_callback(
        &mut self,
        msg: &IbcSourceCallbackMsg,
    ) -> Result<IbcOutcome, String> {
        let (res, i, e) = self.measure(|inst, env| call_ibc_source_callback(inst, env, msg));
        self.finish_ibc(res, i, e)
    }

    /// Runs `ibc_destination_callback` (the middleware after a receive).
    pub fn ibc_destination_callback(
        &mut self,
        msg: &IbcDestinationCallbackMsg,
    ) -> Result<IbcOutcome, String> {
        let (res, i, e) = self.measure(|inst, env| call_ibc_destination_callback(inst, env, msg));
        self.finish_ibc(res, i, e)
    }

    fn finish_ibc(
        &mut self,
        result: cosmwasm_vm::VmResult<ContractResult<IbcBasicResponse<Empty>>>,
        vm_internal: u64,
        vm_external: u64,
    ) -> Result<IbcOutcome, String> {
        match result {
            Ok(ContractResult::Ok(response)) => {
                let gas = Gas {
                    vm_internal,
                    vm_external,
                    events: ibc_event_gas(&response),
                };
                Ok(IbcOutcome { response, gas })
            }
            Ok(ContractResult::Err(err)) => Err(err),
            Err(vm_err) => panic!("{}: VM error: {vm_err}", self.name),
        }
    }

    /// Runs a smart query and decodes its answer.
    pub fn query<M: Serialize, T: DeserializeOwned>(
        &mut self,
        msg: &M,
    ) -> Result<(T, Gas), String> {
        let msg = serde_json::to_vec(msg).expect("message serializes");
        let (res, vm_internal, vm_external) = self.measure(|inst, env| call_query(inst, env, &msg));
        let gas = Gas {
            vm_internal,
            vm_external,
            events: 0,
        };
        match res {
            Ok(ContractResult::Ok(bin)) => {
                let value = serde_json::from_slice(bin.as_slice()).map_err(|e| {
                    format!(
                        "cannot decode query answer {}: {e}",
                        String::from_utf8_lossy(bin.as_slice())
                    )
                })?;
                Ok((value, gas))
            }
            Ok(ContractResult::Err(err)) => Err(err),
            Err(vm_err) => panic!("{}: VM error: {vm_err}", self.name),
        }
    }

    /// Runs a smart query and returns the raw JSON answer.
    pub fn query_raw<M: Serialize>(&mut self, msg: &M) -> Result<(Binary, Gas), String> {
        self.query::<M, serde_json::Value>(msg).map(|(v, gas)| {
            (
                Binary::from(serde_json::to_vec(&v).expect("json value serializes")),
                gas,
            )
        })
    }
}

/// A 20-byte bech32 account address with the harness prefix, derived from `label`.
pub fn user_addr(label: &str) -> Addr {
    let digest = Sha256::digest(label.as_bytes());
    let hrp = bech32::Hrp::parse(BECH32_PREFIX).expect("valid prefix");
    Addr::unchecked(bech32::encode::<bech32::Bech32>(hrp, &digest[..20]).expect("20 bytes encode"))
}

/// Gas of one cw20-base 2.0 transfer between two 20-byte accounts that both
/// already hold tokens, run on `artifacts/cw20-base.wasm`: the yardstick the
/// issues' gas targets are stated against.
pub fn cw20_transfer_baseline() -> Gas {
    let mut token = VmContract::new("cw20-base");
    let alice = user_addr("baseline-alice");
    let bob = user_addr("baseline-bob");
    token
        .instantiate(
            &alice,
            &[],
            &serde_json::json!({
                "name": "City Token",
                "symbol": "CITY",
                "decimals": 6,
                "initial_balances": [{ "address": alice, "amount": "1000000000" }],
            }),
        )
        .expect("cw20-base instantiates");
    let transfer = serde_json::json!({ "transfer": { "recipient": bob, "amount": "1000" } });
    token
        .execute(&alice, &[], &transfer)
        .expect("first transfer succeeds");
    token
        .execute(&alice, &[], &transfer)
        .expect("second transfer succeeds")
        .gas
}

/// A table of gas figures, printed as Markdown.
#[derive(Default)]
pub struct GasTable {
    title: String,
    rows: Vec<(String, Gas)>,
}

impl GasTable {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            rows: vec![],
        }
    }

    /// Records one measurement.
    pub fn add(&mut self, label: impl Into<String>, gas: Gas) -> Gas {
        self.rows.push((label.into(), gas));
        gas
    }

    /// The SDK gas of the row labelled `label`.
    pub fn sdk(&self, label: &str) -> Option<u64> {
        self.rows
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, g)| g.sdk())
    }

    /// Renders the table as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "### {}\n\n| operation | SDK gas | compute | storage | events | CosmWasm gas |\n|---|---:|---:|---:|---:|---:|\n",
            self.title
        );
        for (label, gas) in &self.rows {
            out.push_str(&format!(
                "| {label} | {} | {} | {} | {} | {} |\n",
                gas.sdk(),
                gas.sdk_compute(),
                gas.sdk_storage(),
                gas.events,
                gas.vm_internal + gas.vm_external
            ));
        }
        out
    }
}

/// Asserts a ratio target and prints it; benchmarks call this so that a missed
/// target is visible in the output and fails the run.
pub fn check_target(what: &str, value: f64, limit: f64) -> bool {
    let ok = value <= limit;
    println!(
        "target {}: {what} = {value:.3} (limit {limit:.2})",
        if ok { "met" } else { "MISSED" }
    );
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(keys: &[&[u8]]) -> WasmdStorage {
        let mut s = WasmdStorage::default();
        for k in keys {
            s.set(k, b"v").0.unwrap();
        }
        s
    }

    fn collect(
        s: &mut WasmdStorage,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> Vec<Vec<u8>> {
        let id = s.scan(start, end, order).0.unwrap();
        let mut out = vec![];
        while let (Ok(Some((k, _))), _) = s.next(id) {
            out.push(k);
        }
        out
    }

    #[test]
    fn lazy_iterators_follow_bounds_and_order() {
        let mut s = store(&[b"a", b"b", b"c", b"d"]);
        assert_eq!(
            collect(&mut s, Some(b"b"), Some(b"d"), Order::Ascending),
            [b"b".to_vec(), b"c".to_vec()]
        );
        assert_eq!(
            collect(&mut s, Some(b"b"), Some(b"d"), Order::Descending),
            [b"c".to_vec(), b"b".to_vec()]
        );
        assert_eq!(collect(&mut s, None, None, Order::Descending).len(), 4);
        assert!(collect(&mut s, Some(b"c"), Some(b"c"), Order::Ascending).is_empty());
        assert!(collect(&mut s, Some(b"d"), Some(b"a"), Order::Descending).is_empty());
        assert!(s.next(99).0.is_err());
    }

    #[test]
    fn gas_follows_the_sdk_kv_schedule() {
        let mut s = WasmdStorage::default();
        let (_, gas) = s.set(b"key", b"value");
        assert_eq!(gas.externally_used, (2_000 + 30 * 8) * GAS_MULTIPLIER);
        let (_, gas) = s.get(b"key");
        assert_eq!(gas.externally_used, (1_000 + 3 * 8) * GAS_MULTIPLIER);
        let id = s.scan(None, None, Order::Ascending).0.unwrap();
        assert_eq!(s.next(id).1.externally_used, (30 + 3 * 8) * GAS_MULTIPLIER);
        assert_eq!(s.next(id).1.externally_used, 30 * GAS_MULTIPLIER);
        assert_eq!(s.remove(b"key").1.externally_used, 1_000 * GAS_MULTIPLIER);
    }
}
