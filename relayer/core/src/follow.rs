//! Following contract events block by block from a cursor, the same way
//! against the embedded chain and a node (which serves them from
//! `block_results`). The cursor is the last fully processed height; callers
//! persist it (see [`crate::store::Store::set_cursor`]) after handling a
//! batch, which gives at-least-once delivery across restarts.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::chain::{BlockEventSource, ChainResult, ChainStatus, Event};
use crate::error::ChainError;

/// Which events to deliver.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter {
    /// Only events emitted by these contracts (`_contract_address`); empty = any contract.
    pub contracts: BTreeSet<String>,
    /// Only these event types (`wasm`, `wasm-listing_created`, ...); empty = any
    /// event that carries a `_contract_address`.
    pub types: BTreeSet<String>,
}

impl EventFilter {
    /// Events of the given contracts.
    pub fn contracts<I: IntoIterator<Item = S>, S: Into<String>>(contracts: I) -> Self {
        Self {
            contracts: contracts.into_iter().map(Into::into).collect(),
            types: BTreeSet::new(),
        }
    }

    /// Restricts to event types.
    pub fn with_types<I: IntoIterator<Item = S>, S: Into<String>>(mut self, types: I) -> Self {
        self.types = types.into_iter().map(Into::into).collect();
        self
    }

    fn matches(&self, event: &Event) -> bool {
        let Some(contract) = event.contract() else {
            return false;
        };
        (self.contracts.is_empty() || self.contracts.contains(contract))
            && (self.types.is_empty() || self.types.contains(&event.ty))
    }
}

/// A contract event with its position on the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractEvent {
    /// Block height.
    pub height: u64,
    /// Block time, ns since the Unix epoch.
    pub time_nanos: u64,
    /// Tx hash.
    pub tx_hash: String,
    /// Index of the tx in the block.
    pub tx_index: u32,
    /// Index of the event in the tx.
    pub event_index: u32,
    /// Emitting contract.
    pub contract: String,
    /// The event.
    pub event: Event,
}

/// One poll's result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// Matching events in chain order.
    pub events: Vec<ContractEvent>,
    /// Blocks scanned.
    pub blocks: u64,
    /// Cursor after this batch (last scanned height).
    pub cursor: u64,
    /// Latest height seen; `latest - cursor` is the lag.
    pub latest: u64,
    /// Heights the node had pruned and that were skipped (first, last).
    /// Events in them were not delivered: services re-read contract state
    /// after a gap.
    pub gap: Option<(u64, u64)>,
}

/// Reads blocks after a cursor and extracts matching contract events.
#[derive(Clone, Debug)]
pub struct EventFollower {
    filter: EventFilter,
    cursor: u64,
    max_blocks: u64,
}

impl EventFollower {
    /// Starts after `cursor` (0 = from genesis), scanning at most
    /// `max_blocks` blocks per poll.
    pub fn new(filter: EventFilter, cursor: u64, max_blocks: u64) -> Self {
        Self {
            filter,
            cursor,
            max_blocks: max_blocks.max(1),
        }
    }

    /// Last scanned height.
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Replaces the filter (e.g. after a deploy adds contracts).
    pub fn set_filter(&mut self, filter: EventFilter) {
        self.filter = filter;
    }

    /// Scans the next blocks up to the chain's latest and returns the
    /// matching events, advancing the in-memory cursor. Failed txs are skipped.
    pub async fn poll<C>(&mut self, chain: &C) -> ChainResult<Batch>
    where
        C: BlockEventSource + ChainStatus + ?Sized,
    {
        let latest = chain.latest_block().await?.height;
        let end = latest.min(self.cursor.saturating_add(self.max_blocks));
        let mut batch = Batch {
            latest,
            cursor: self.cursor,
            ..Batch::default()
        };
        let mut height = self.cursor + 1;
        while height <= end {
            let block = match chain.block_events(height).await {
                Ok(block) => block,
                Err(ChainError::BlockPruned { earliest, .. }) if earliest > height => {
                    tracing::warn!(
                        from = height,
                        to = earliest - 1,
                        "blocks pruned by the node; skipping"
                    );
                    batch.gap = Some((height, earliest - 1));
                    self.cursor = earliest - 1;
                    batch.cursor = self.cursor;
                    height = earliest;
                    continue;
                }
                // Blocks scanned so far are returned with their events (the
                // cursor already moved past them); the rest waits for the
                // next poll. Only a poll that made no progress is an error.
                Err(e) if batch.blocks > 0 => {
                    tracing::debug!(height, error = %e, "block not available yet; returning what was scanned");
                    break;
                }
                Err(e) => return Err(e),
            };
            for tx in block.txs.iter().filter(|t| t.code == 0) {
                for (i, event) in tx.events.iter().enumerate() {
                    if self.filter.matches(event) {
                        batch.events.push(ContractEvent {
                            height,
                            time_nanos: block.time_nanos,
                            tx_hash: tx.hash.clone(),
                            tx_index: tx.index,
                            event_index: i as u32,
                            contract: event.contract().unwrap_or_default().to_string(),
                            event: event.clone(),
                        });
                    }
                }
            }
            batch.blocks += 1;
            self.cursor = height;
            batch.cursor = height;
            height += 1;
        }
        Ok(batch)
    }
}
