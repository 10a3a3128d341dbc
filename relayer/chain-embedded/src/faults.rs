//! Faults the embedded chain can inject for reliability tests.

/// A fault to inject into the embedded chain; each applies to the next
/// `count` matching requests, then the chain behaves normally again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Broadcasts fail with a transport error before reaching the mempool.
    FailBroadcasts(u32),
    /// Broadcasts are acknowledged but the tx never reaches a block (a node
    /// that crashed before gossiping it).
    DropBroadcasts(u32),
    /// Accepted txs wait `blocks` extra blocks in the mempool (with every
    /// later tx of the same sender, as a mempool orders by sequence).
    DelayTxs {
        /// How many txs.
        count: u32,
        /// Extra blocks each waits.
        blocks: u64,
    },
    /// Block-events requests fail as if the node had not indexed the block.
    MissingBlocks(u32),
    /// Smart queries fail with a transport error.
    FailQueries(u32),
}

/// How many faults the chain has injected so far, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Broadcasts failed.
    pub failed_broadcasts: u64,
    /// Broadcasts acknowledged and dropped.
    pub dropped_broadcasts: u64,
    /// Txs delayed.
    pub delayed_txs: u64,
    /// Block-events requests refused.
    pub missing_blocks: u64,
    /// Queries failed.
    pub failed_queries: u64,
}

#[derive(Default)]
pub(crate) struct Faults {
    pub(crate) fail_broadcasts: u32,
    pub(crate) drop_broadcasts: u32,
    pub(crate) delay_count: u32,
    pub(crate) delay_blocks: u64,
    pub(crate) missing_blocks: u32,
    pub(crate) fail_queries: u32,
    pub(crate) counts: FaultCounts,
}

/// Takes one from a fault budget; true if the fault applies now.
pub(crate) fn take(budget: &mut u32) -> bool {
    if *budget > 0 {
        *budget -= 1;
        true
    } else {
        false
    }
}
