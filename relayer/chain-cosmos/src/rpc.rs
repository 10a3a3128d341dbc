//! Decoding what a CometBFT node answers (events in the 0.34/0.37/0.38
//! dialects, `/tx`, `/block_results`, ABCI queries) into the core's types.

use cosmrs::proto::prost::Message;
use cosmrs::rpc::client::CompatMode;
use cosmrs::tendermint::abci;
use relayer_core::chain::{Attribute, BlockEvents, ChainResult, Event, TxEvents, TxOutcome};
use relayer_core::ChainError;
use serde::{Deserialize, Serialize};

/// CometBFT RPC dialect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RpcCompat {
    /// CometBFT 0.34 (base64 event attributes, `begin/end_block_events`).
    #[serde(rename = "0.34")]
    V0_34,
    /// CometBFT 0.37 (plain attributes, `begin/end_block_events`).
    #[serde(rename = "0.37")]
    V0_37,
    /// CometBFT 0.38 (`finalize_block_events`), wasmd 0.50 and later.
    #[default]
    #[serde(rename = "0.38")]
    V0_38,
}

/// CometBFT's JSON-RPC "internal error" code, which it answers for a tx or
/// block it does not have (the `data` field says which).
pub const JSONRPC_INTERNAL_ERROR: i32 = -32603;

/// The node's own JSON-RPC error, `(code, data)`, when it answered with one;
/// `None` for a transport failure (a proxy's 404 is not "tx not found").
pub fn node_error(e: &tendermint_rpc::Error) -> Option<(i32, String)> {
    match e.detail() {
        tendermint_rpc::error::ErrorDetail::Response(d) => Some((
            d.source.code().value(),
            d.source
                .data()
                .unwrap_or_else(|| d.source.message())
                .to_string(),
        )),
        _ => None,
    }
}

/// A `/tx` error that means "not in a block (yet)": the node's internal
/// error whose data is `tx (HASH) not found`.
pub fn is_tx_not_found(e: &tendermint_rpc::Error) -> bool {
    matches!(node_error(e), Some((JSONRPC_INTERNAL_ERROR, data)) if data.contains("not found"))
}

/// CometBFT's answer to a broadcast of a tx its mempool cache already holds
/// (a JSON-RPC error, not a CheckTx code).
pub const TX_IN_CACHE: &str = "tx already exists in cache";

/// A `broadcast_tx_sync` transport or node error as a typed one: the
/// node's "tx already exists in cache" means it has our tx (accepted), so it
/// becomes the SDK's own `sdk`/19 rejection, which the outbox treats as accepted.
pub fn broadcast_error(hash: &str, e: &tendermint_rpc::Error) -> ChainError {
    match node_error(e) {
        Some((_, data)) if data.contains(TX_IN_CACHE) => ChainError::Rejected {
            hash: hash.to_string(),
            codespace: relayer_core::error::SDK_CODESPACE.into(),
            code: relayer_core::error::SDK_TX_IN_MEMPOOL_CACHE,
            log: data,
        },
        _ => ChainError::Rpc(e.to_string()),
    }
}

/// A `/block` or `/block_results` error as a typed one: the node's "height H
/// must be less than or equal to the current blockchain height" is
/// [`ChainError::BlockUnavailable`], "height H is not available, lowest
/// height is E" [`ChainError::BlockPruned`], "could not find results for
/// height" (results pruned or not persisted) [`ChainError::BlockMissing`].
pub fn block_error(height: u64, e: &tendermint_rpc::Error) -> ChainError {
    match node_error(e) {
        Some((JSONRPC_INTERNAL_ERROR, data)) if data.contains("must be less than or equal") => {
            ChainError::BlockUnavailable { height, latest: 0 }
        }
        Some((JSONRPC_INTERNAL_ERROR, data))
            if data.contains("could not find results")
                || data.contains("not persisting abci responses") =>
        {
            ChainError::BlockMissing {
                height,
                reason: data,
            }
        }
        Some((JSONRPC_INTERNAL_ERROR, data)) => match parse_lowest_height(&data) {
            Some(earliest) => ChainError::BlockPruned { height, earliest },
            None => ChainError::Rpc(e.to_string()),
        },
        _ => ChainError::Rpc(e.to_string()),
    }
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
        codespace: resp.tx_result.codespace.clone(),
        log: resp.tx_result.log.clone(),
        gas_used: resp.tx_result.gas_used.max(0) as u64,
        gas_wanted: resp.tx_result.gas_wanted.max(0) as u64,
        events: convert_events(&resp.tx_result.events),
    }
}

/// The outcome of the tx at `index` in a block's results (read from the
/// block, not the tx indexer).
pub fn block_tx_outcome(
    results: &cosmrs::rpc::endpoint::block_results::Response,
    index: usize,
    hash: &str,
) -> Option<TxOutcome> {
    let r = results.txs_results.as_deref()?.get(index)?;
    Some(TxOutcome {
        hash: hash.to_string(),
        height: results.height.value(),
        code: r.code.value(),
        codespace: r.codespace.clone(),
        log: r.log.clone(),
        gas_used: r.gas_used.max(0) as u64,
        gas_wanted: r.gas_wanted.max(0) as u64,
        events: convert_events(&r.events),
    })
}

/// A block's events from `/block_results` plus the tx hashes from `/block`:
/// per tx, and the block's own (0.38 `finalize_block_events`, 0.34/0.37
/// `begin_block_events` then `end_block_events`).
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
    let mut own = convert_events(results.begin_block_events.as_deref().unwrap_or_default());
    own.extend(convert_events(
        results.end_block_events.as_deref().unwrap_or_default(),
    ));
    own.extend(convert_events(&results.finalize_block_events));
    BlockEvents {
        height: results.height.value(),
        time_nanos,
        txs,
        block_events: own,
    }
}

/// Decodes an ABCI query answer: `Ok(Err((code, log, codespace)))` when the
/// app refused the query (e.g. `wasm` code 9, contract query failed).
pub fn decode_abci<Resp: Message + Default>(
    path: &str,
    resp: &cosmrs::rpc::endpoint::abci_query::AbciQuery,
) -> ChainResult<Result<Resp, (u32, String, String)>> {
    if resp.code.is_err() {
        return Ok(Err((
            resp.code.value(),
            resp.log.clone(),
            resp.codespace.clone(),
        )));
    }
    Resp::decode(resp.value.as_slice())
        .map(Ok)
        .map_err(|e| ChainError::Decode {
            what: "abci_query response",
            reason: format!("{path}: {e}"),
        })
}

pub(crate) fn compat(mode: RpcCompat) -> CompatMode {
    match mode {
        RpcCompat::V0_34 => CompatMode::V0_34,
        RpcCompat::V0_37 => CompatMode::V0_37,
        RpcCompat::V0_38 => CompatMode::V0_38,
    }
}
