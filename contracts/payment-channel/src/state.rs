//! Storage layout.
//!
//! A claim is the hot path (thousands of vouchers a day per channel, and
//! batches of 50), and every byte written costs 30 SDK gas, so a channel is
//! split: the parameters fixed at open (`c`, JSON, written once) and the
//! small mutable state (`s`, short field names) that a claim rewrites. The
//! purchase-verifier total is not written by claims at all: it is the sum of
//! the pair's closed channels (`t`, folded in at close) plus the claimed
//! amounts of its open channels (`o`, at most [`MAX_OPEN_PER_PAIR`], so the
//! query reads a bounded set) minus IBC payouts still in flight (`u`). A
//! claim therefore reads the channel and rewrites only its small state.
//!
//! | key | value |
//! |---|---|
//! | `config`, `n` (last channel id), `m` (last pair id), `k` (last payout id) | items |
//! | `c` id | [`Channel`] |
//! | `s` id | [`ChannelState`] |
//! | `p` payer id, `e` payee id | `{}` (indexes for the paginated queries) |
//! | `q` payer payee asset-key | pair id |
//! | `t` pair id | total claimed on the pair's closed channels |
//! | `o` pair id, channel id | `{}` (the pair's open channels) |
//! | `u` pair id | IBC payouts of the pair not yet acknowledged |
//! | `w` payee watchtower | `{}` |
//! | `i` payout id | [`PendingPayout`] (in-flight IBC payouts) |
//! | `r` payee denom | credited refunds of failed IBC payouts |

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Binary, Empty, Timestamp, Uint128};
use cw_storage_plus::{Item, Map};
use wevalue_common::asset::AssetInfo;
use wevalue_voucher::VoucherScheme;

use crate::msg::ChannelStatus;

/// Hard cap on a batch, whatever the configuration says.
pub const MAX_BATCH_SIZE: u32 = 50;
/// Most channels one (payer, payee, asset) pair may have open at once; keeps
/// the `total_paid` query bounded. Top up instead of opening more.
pub const MAX_OPEN_PER_PAIR: usize = 8;
/// Bounds on the configurable challenge period, seconds.
pub const MIN_CHALLENGE_FLOOR: u64 = 60;
pub const MAX_CHALLENGE_CEILING: u64 = 90 * 24 * 3600;
/// Bounds on an IBC payout's timeout, seconds.
pub const MIN_IBC_TIMEOUT: u64 = 60;
pub const MAX_IBC_TIMEOUT: u64 = 7 * 24 * 3600;

#[cw_serde]
pub struct Config {
    pub min_challenge_period: u64,
    pub max_challenge_period: u64,
    pub max_batch_size: u32,
}

/// What is fixed when a channel opens.
#[cw_serde]
pub struct Channel {
    pub payer: Addr,
    pub payee: Addr,
    pub asset: AssetInfo,
    pub pubkey: Binary,
    pub scheme: VoucherScheme,
    pub challenge_period: u64,
    /// Id of the (payer, payee, asset) pair in `PAIRS`/`PAID`.
    pub pair: u64,
}

/// What claims, top-ups and closes change. Short names: rewritten by every claim.
#[cw_serde]
#[derive(Default)]
pub struct ChannelState {
    /// Everything deposited.
    #[serde(rename = "d")]
    pub deposit: Uint128,
    /// Cumulative amount redeemed.
    #[serde(rename = "c")]
    pub claimed: Uint128,
    /// Set by `start_close`: unix seconds when the challenge period ends.
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    pub finalize_after: Option<u64>,
    /// Set once the remainder was refunded.
    #[serde(rename = "z", default, skip_serializing_if = "std::ops::Not::not")]
    pub closed: bool,
}

impl ChannelState {
    /// What the contract still holds for this channel.
    pub fn balance(&self) -> Uint128 {
        if self.closed {
            Uint128::zero()
        } else {
            self.deposit.saturating_sub(self.claimed)
        }
    }

    pub fn status(&self) -> ChannelStatus {
        match (self.closed, self.finalize_after) {
            (true, _) => ChannelStatus::Closed,
            (false, Some(t)) => ChannelStatus::Closing {
                finalize_after: Timestamp::from_seconds(t),
            },
            (false, None) => ChannelStatus::Open,
        }
    }
}

/// An ICS-20 payout sent but not yet acknowledged.
#[cw_serde]
pub struct PendingPayout {
    pub channel_id: u64,
    pub payee: Addr,
    pub pair: u64,
    pub denom: String,
    pub amount: Uint128,
    pub ibc_channel: String,
    pub receiver: String,
    pub timeout: Timestamp,
}

pub const CONFIG: Item<Config> = Item::new("config");
pub const LAST_CHANNEL_ID: Item<u64> = Item::new("n");
pub const LAST_PAIR_ID: Item<u64> = Item::new("m");
pub const LAST_PAYOUT_ID: Item<u64> = Item::new("k");
pub const CHANNELS: Map<u64, Channel> = Map::new("c");
pub const STATES: Map<u64, ChannelState> = Map::new("s");
pub const BY_PAYER: Map<(&Addr, u64), Empty> = Map::new("p");
pub const BY_PAYEE: Map<(&Addr, u64), Empty> = Map::new("e");
pub const PAIRS: Map<(&Addr, &Addr, &str), u64> = Map::new("q");
pub const PAID: Map<u64, Uint128> = Map::new("t");
pub const PAIR_OPEN: Map<(u64, u64), Empty> = Map::new("o");
pub const PAIR_PENDING: Map<u64, Uint128> = Map::new("u");
pub const WATCHTOWERS: Map<(&Addr, &Addr), Empty> = Map::new("w");
pub const PAYOUTS: Map<u64, PendingPayout> = Map::new("i");
pub const CREDITS: Map<(&Addr, &str), Uint128> = Map::new("r");
