//! Storage layout.
//!
//! A claim is the hot path (thousands of vouchers a day per channel, and
//! batches of 50), and every byte written costs 30 SDK gas plus 2,000 per
//! write, so what a claim rewrites is shared: the claimed amounts live in
//! *claim pages* (`s`), each holding the cumulative claimed amount of up to
//! [`PAGE_SLOTS`] channels of one payee. A single claim reads its channel
//! (`c`) and its page and writes the page back; a seller's batch claim loads
//! and writes each distinct page once, so its channels share the flat write
//! cost. Everything else about a channel (parameters, deposit, close state,
//! its page and slot; short field names) is the channel record `c`, written
//! at open, top-up, start of a close and close.
//!
//! Pages are allocated at open from a per-payee cursor (`f`: the payee's
//! current page and how many of its slots are taken); a full page starts a
//! new one (`h`, the last page id). A slot never written reads as zero, so
//! opening a channel does not write its page. Slots are not reused when a
//! channel closes: the closed channel's final claimed amount stays in its
//! slot, and its neighbours keep theirs (a payee's later channels go to new
//! pages).
//!
//! The purchase-verifier total is not written by claims: it is the sum of
//! the pair's closed channels (`t`, folded in at close) plus the claimed
//! amounts of its open channels (`o`, at most [`MAX_OPEN_PER_PAIR`], each
//! with its page and slot, so the query reads a bounded set of pages) minus
//! IBC payouts still in flight (`u`).
//!
//! | key | value |
//! |---|---|
//! | `config`, `n` (last channel id), `m` (last pair id), `k` (last payout id), `h` (last page id) | items |
//! | `c` id | [`Channel`] (parameters, deposit, close state, page and slot) |
//! | `s` page id | claimed amount per slot (`Vec<Uint128>`, missing slots are zero) |
//! | `f` payee | the payee's current page and slots used |
//! | `p` payer id, `e` payee id | `{}` (indexes for the paginated queries) |
//! | `q` payer payee asset-key | pair id |
//! | `t` pair id | total claimed on the pair's closed channels |
//! | `o` pair id, channel id | the open channel's (page, slot) |
//! | `u` pair id | IBC payouts of the pair not yet acknowledged |
//! | `w` payee watchtower | `{}` |
//! | `i` payout id | [`PendingPayout`] (in-flight IBC payouts) |
//! | `r` payee denom | credited refunds of failed IBC payouts |

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Binary, Empty, StdResult, Storage, Timestamp, Uint128};
use cw_storage_plus::{Item, Map};
use wevalue_common::asset::AssetInfo;
use wevalue_voucher::VoucherScheme;

use crate::msg::ChannelStatus;

/// Hard cap on a batch, whatever the configuration says.
pub const MAX_BATCH_SIZE: u32 = 50;
/// Most channels one (payer, payee, asset) pair may have open at once; keeps
/// the `total_paid` query bounded. Top up instead of opening more.
pub const MAX_OPEN_PER_PAIR: usize = 8;
/// Channels per claim page. Measured (`payment-channel-gas`): with 4 a
/// voucher in a 50-voucher batch costs 0.50 of a single claim (6,487 SDK
/// gas); with 8, 0.38 but the single claim, which rewrites the whole page,
/// grows to 7,433.
pub const PAGE_SLOTS: u32 = 4;
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

/// A channel, except its claimed amount (in its claim page). Short field
/// names: every read costs 3 SDK gas a byte, every write 30.
#[cw_serde]
pub struct Channel {
    #[serde(rename = "a")]
    pub payer: Addr,
    #[serde(rename = "b")]
    pub payee: Addr,
    #[serde(rename = "t")]
    pub asset: AssetInfo,
    #[serde(rename = "k")]
    pub pubkey: Binary,
    #[serde(rename = "v")]
    pub scheme: VoucherScheme,
    /// Seconds.
    #[serde(rename = "w")]
    pub challenge_period: u64,
    /// Id of the (payer, payee, asset) pair in `PAIRS`/`PAID`.
    #[serde(rename = "q")]
    pub pair: u64,
    /// The claim page holding this channel's claimed amount.
    #[serde(rename = "g")]
    pub page: u64,
    /// Its slot in the page.
    #[serde(rename = "i")]
    pub slot: u32,
    /// Everything deposited.
    #[serde(rename = "d")]
    pub deposit: Uint128,
    /// Set by `start_close`: unix seconds when the challenge period ends.
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    pub finalize_after: Option<u64>,
    /// Set once the remainder was refunded.
    #[serde(rename = "z", default, skip_serializing_if = "std::ops::Not::not")]
    pub closed: bool,
}

impl Channel {
    /// What the contract still holds for this channel, given its claimed amount.
    pub fn balance(&self, claimed: Uint128) -> Uint128 {
        if self.closed {
            Uint128::zero()
        } else {
            self.deposit.saturating_sub(claimed)
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

/// A claim page: the claimed amount of each slot; slots past the end are zero.
pub type Page = Vec<Uint128>;

/// The amount in `slot` of `page`.
pub fn slot_amount(page: &[Uint128], slot: u32) -> Uint128 {
    page.get(slot as usize).copied().unwrap_or_default()
}

/// Sets `slot` of `page`, growing the page with zeros as needed.
pub fn set_slot(page: &mut Page, slot: u32, amount: Uint128) {
    let slot = slot as usize;
    if page.len() <= slot {
        page.resize(slot + 1, Uint128::zero());
    }
    page[slot] = amount;
}

/// A page as stored; a page no claim has written yet is empty.
pub fn load_page(storage: &dyn Storage, page: u64) -> StdResult<Page> {
    Ok(PAGES.may_load(storage, page)?.unwrap_or_default())
}

/// What `channel` has claimed so far.
pub fn claimed(storage: &dyn Storage, channel: &Channel) -> StdResult<Uint128> {
    Ok(slot_amount(
        &load_page(storage, channel.page)?,
        channel.slot,
    ))
}

/// Gives a new channel of `payee` the next slot of the payee's current page,
/// or the first slot of a new page if that one is full.
pub fn allocate_slot(storage: &mut dyn Storage, payee: &Addr) -> StdResult<(u64, u32)> {
    let (page, slot) = match PAGE_CURSOR.may_load(storage, payee)? {
        Some((page, used)) if used < PAGE_SLOTS => (page, used),
        _ => {
            let page = LAST_PAGE_ID.may_load(storage)?.unwrap_or_default() + 1;
            LAST_PAGE_ID.save(storage, &page)?;
            (page, 0)
        }
    };
    PAGE_CURSOR.save(storage, payee, &(page, slot + 1))?;
    Ok((page, slot))
}

/// An ICS-20 payout sent but not yet acknowledged. One payout may carry the
/// proceeds of several channels (a batch claim), so it records the amount
/// per pair to release from `PAIR_PENDING` when it settles.
#[cw_serde]
pub struct PendingPayout {
    /// The channel claimed (the first of the group, for a batch claim).
    pub channel_id: u64,
    pub payee: Addr,
    /// (pair id, amount) for each pair the payout pays; sums to `amount`.
    pub pairs: Vec<(u64, Uint128)>,
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
pub const LAST_PAGE_ID: Item<u64> = Item::new("h");
pub const CHANNELS: Map<u64, Channel> = Map::new("c");
pub const PAGES: Map<u64, Page> = Map::new("s");
pub const PAGE_CURSOR: Map<&Addr, (u64, u32)> = Map::new("f");
pub const BY_PAYER: Map<(&Addr, u64), Empty> = Map::new("p");
pub const BY_PAYEE: Map<(&Addr, u64), Empty> = Map::new("e");
pub const PAIRS: Map<(&Addr, &Addr, &str), u64> = Map::new("q");
pub const PAID: Map<u64, Uint128> = Map::new("t");
pub const PAIR_OPEN: Map<(u64, u64), (u64, u32)> = Map::new("o");
pub const PAIR_PENDING: Map<u64, Uint128> = Map::new("u");
pub const WATCHTOWERS: Map<(&Addr, &Addr), Empty> = Map::new("w");
pub const PAYOUTS: Map<u64, PendingPayout> = Map::new("i");
pub const CREDITS: Map<(&Addr, &str), Uint128> = Map::new("r");
