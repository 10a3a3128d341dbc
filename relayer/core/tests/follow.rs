//! The event follower on a scripted chain: the cursor moves only when the
//! caller commits a handled batch, a block's own (`finalize_block_events`)
//! events are delivered, and pruned or result-less blocks are a reported gap,
//! never a stall.

use std::collections::HashSet;

use async_trait::async_trait;
use relayer_core::chain::{
    Attribute, BlockEventSource, BlockEvents, BlockRef, ChainResult, ChainStatus, Event, TxEvents,
};
use relayer_core::follow::{EventFilter, EventFollower};
use relayer_core::ChainError;

const CONTRACT: &str = "wasm1contract";

struct Chain {
    latest: u64,
    earliest: u64,
    missing_results: HashSet<u64>,
}

fn event(ty: &str, height: u64) -> Event {
    Event {
        ty: ty.into(),
        attributes: vec![
            Attribute {
                key: "_contract_address".into(),
                value: CONTRACT.into(),
            },
            Attribute {
                key: "height".into(),
                value: height.to_string(),
            },
        ],
    }
}

#[async_trait]
impl ChainStatus for Chain {
    fn chain_id(&self) -> &str {
        "c"
    }
    async fn latest_block(&self) -> ChainResult<BlockRef> {
        Ok(BlockRef {
            height: self.latest,
            time_nanos: 0,
        })
    }
    async fn balance(&self, _: &str, _: &str) -> ChainResult<u128> {
        Ok(0)
    }
}

#[async_trait]
impl BlockEventSource for Chain {
    async fn block_events(&self, height: u64) -> ChainResult<BlockEvents> {
        if height < self.earliest {
            return Err(ChainError::BlockPruned {
                height,
                earliest: self.earliest,
            });
        }
        if self.missing_results.contains(&height) {
            return Err(ChainError::BlockMissing {
                height,
                reason: format!("could not find results for height #{height}"),
            });
        }
        if height > self.latest {
            return Err(ChainError::BlockUnavailable {
                height,
                latest: self.latest,
            });
        }
        Ok(BlockEvents {
            height,
            time_nanos: height,
            txs: vec![TxEvents {
                hash: format!("TX{height}"),
                index: 0,
                code: 0,
                events: vec![event("wasm", height)],
            }],
            block_events: vec![event("wasm-sudo", height)],
        })
    }
}

fn heights(batch: &relayer_core::follow::Batch) -> Vec<(u64, String)> {
    batch
        .events
        .iter()
        .map(|e| (e.height, e.event.ty.clone()))
        .collect()
}

#[tokio::test]
async fn the_cursor_moves_only_when_a_handled_batch_is_committed() {
    let chain = Chain {
        latest: 3,
        earliest: 1,
        missing_results: HashSet::new(),
    };
    let mut follower = EventFollower::new(EventFilter::contracts([CONTRACT]), 0, 10);
    let first = follower.next_batch(&chain).await.unwrap();
    assert_eq!(first.cursor, 3);
    assert_eq!(follower.cursor(), 0, "not committed yet");
    // Handling failed: the same events come again.
    let again = follower.next_batch(&chain).await.unwrap();
    assert_eq!(heights(&again), heights(&first));
    assert_eq!(
        heights(&first),
        [1, 1, 2, 2, 3, 3]
            .iter()
            .zip(["wasm", "wasm-sudo"].iter().cycle())
            .map(|(h, t)| (*h, t.to_string()))
            .collect::<Vec<_>>(),
        "each block's tx events, then its own"
    );
    let own = &first.events[1];
    assert_eq!((own.tx_hash.as_str(), own.tx_index), ("", u32::MAX));
    follower.commit(&first);
    assert_eq!(follower.cursor(), 3);
    assert!(follower.next_batch(&chain).await.unwrap().events.is_empty());
}

#[tokio::test]
async fn pruned_and_result_less_blocks_are_a_gap_not_a_stall() {
    let chain = Chain {
        latest: 10,
        earliest: 4,
        missing_results: HashSet::from([6, 7]),
    };
    let mut follower = EventFollower::new(EventFilter::contracts([CONTRACT]), 0, 100);
    let batch = follower.poll(&chain).await.unwrap();
    assert_eq!(batch.cursor, 10);
    assert_eq!(follower.cursor(), 10);
    assert_eq!(batch.gap, Some((1, 7)), "first and last block skipped");
    assert_eq!(batch.gap_blocks, 5, "1..=3 pruned, 6 and 7 without results");
    let seen: Vec<u64> = batch.events.iter().map(|e| e.height).collect();
    assert_eq!(seen, [4, 4, 5, 5, 8, 8, 9, 9, 10, 10]);
    // A block not produced yet is no gap: the poll stops before it.
    let mut ahead = EventFollower::new(EventFilter::contracts([CONTRACT]), 10, 100);
    let none = ahead.poll(&chain).await.unwrap();
    assert_eq!((none.cursor, none.gap_blocks, none.gap), (10, 0, None));
}

/// A node answers "could not find results" for its newest block for a
/// moment after committing it: that block is read at the next poll, never
/// skipped as a gap (its events would be lost).
#[tokio::test]
async fn the_newest_blocks_results_not_yet_stored_are_waited_for_not_skipped() {
    let mut chain = Chain {
        latest: 5,
        earliest: 1,
        missing_results: HashSet::from([5]),
    };
    let mut follower = EventFollower::new(EventFilter::contracts([CONTRACT]), 0, 100);
    let batch = follower.poll(&chain).await.unwrap();
    assert_eq!((batch.cursor, batch.gap, batch.gap_blocks), (4, None, 0));
    assert_eq!(batch.events.len(), 8, "blocks 1 to 4, two events each");
    // Nothing new while the results are still missing: no error, no gap.
    let waiting = follower.poll(&chain).await.unwrap();
    assert_eq!(
        (waiting.cursor, waiting.gap, waiting.events.len()),
        (4, None, 0)
    );
    // Stored now: block 5 is delivered.
    chain.missing_results.clear();
    let next = follower.poll(&chain).await.unwrap();
    assert_eq!(next.cursor, 5);
    assert_eq!(
        heights(&next),
        vec![(5, "wasm".to_string()), (5, "wasm-sudo".to_string())]
    );
    // A block below the head without results is still a gap.
    chain.latest = 7;
    chain.missing_results.insert(6);
    let gap = follower.poll(&chain).await.unwrap();
    assert_eq!((gap.cursor, gap.gap, gap.gap_blocks), (7, Some((6, 6)), 1));
}
