//! Following contract events block by block from a cursor, the same way
//! against the embedded chain and a node (which serves them from
//! `block_results`, tx results and the block's own `finalize_block_events`).
//! The cursor is the last fully processed height: [`EventFollower::next_batch`]
//! reads without moving it, and the caller [`EventFollower::commit`]s (and
//! persists, see [`crate::store::Store::set_cursor`]) only after it handled
//! the batch, so a failure redelivers the whole batch: at-least-once delivery
//! across errors and restarts. A block the node no longer has (pruned, or its
//! results discarded) is a gap, reported in the batch and skipped: a
//! follower never stalls on it. Only the newest block, whose results a node
//! stores just after the block, is waited for when they are not there yet.

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
    /// Tx hash (empty for a block's own events).
    pub tx_hash: String,
    /// Index of the tx in the block (`u32::MAX` for a block's own events).
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
    /// Heights the node no longer had and that were skipped (first and last
    /// of them). Events in them were not delivered: services re-read
    /// contract state after a gap.
    pub gap: Option<(u64, u64)>,
    /// How many blocks were skipped as gaps.
    pub gap_blocks: u64,
}

impl Batch {
    fn add_gap(&mut self, from: u64, to: u64) {
        tracing::warn!(
            from,
            to,
            "event gap: blocks no longer available on the node; skipped"
        );
        self.gap = Some(match self.gap {
            Some((first, _)) => (first, to),
            None => (from, to),
        });
        self.gap_blocks += to + 1 - from;
    }
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

    /// Moves the cursor past a batch once its events are handled.
    pub fn commit(&mut self, batch: &Batch) {
        self.cursor = self.cursor.max(batch.cursor);
    }

    /// [`EventFollower::next_batch`] and [`EventFollower::commit`] at once,
    /// for callers whose handling cannot fail (logging, counting).
    pub async fn poll<C>(&mut self, chain: &C) -> ChainResult<Batch>
    where
        C: BlockEventSource + ChainStatus + ?Sized,
    {
        let batch = self.next_batch(chain).await?;
        self.commit(&batch);
        Ok(batch)
    }

    /// Scans the next blocks up to the chain's latest and returns the
    /// matching events, without moving the cursor (see
    /// [`EventFollower::commit`]). Failed txs are skipped; a block's own
    /// events (outside txs) come after its txs' events.
    pub async fn next_batch<C>(&self, chain: &C) -> ChainResult<Batch>
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
                    let to = (earliest - 1).min(end);
                    batch.add_gap(height, to);
                    batch.cursor = to;
                    height = to + 1;
                    continue;
                }
                // The newest block's results can trail its header for a
                // moment (CometBFT stores them just after the block): not a
                // gap, it is read at the next poll.
                Err(ChainError::BlockMissing { .. }) if height >= latest => break,
                Err(ChainError::BlockMissing { reason, .. }) => {
                    tracing::warn!(height, reason, "block results missing on the node");
                    batch.add_gap(height, height);
                    batch.cursor = height;
                    height += 1;
                    continue;
                }
                // Blocks scanned so far are returned with their events; the
                // rest waits for the next poll. Only a poll that made no
                // progress is an error.
                Err(e) if batch.cursor > self.cursor => {
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
            for (i, event) in block.block_events.iter().enumerate() {
                if self.filter.matches(event) {
                    batch.events.push(ContractEvent {
                        height,
                        time_nanos: block.time_nanos,
                        tx_hash: String::new(),
                        tx_index: u32::MAX,
                        event_index: i as u32,
                        contract: event.contract().unwrap_or_default().to_string(),
                        event: event.clone(),
                    });
                }
            }
            batch.blocks += 1;
            batch.cursor = height;
            height += 1;
        }
        Ok(batch)
    }
}
