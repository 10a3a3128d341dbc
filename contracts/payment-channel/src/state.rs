//! Storage layout.
//!
//! A claim is the hot path (thousands of vouchers a day per channel, and
//! batches of 50), and every byte written costs 30 SDK gas plus 2,000 per
//! write, so what a claim rewrites is shared: the claimed amounts live in
//! *claim pages* (`s`), each holding the cumulative claimed amount of up to
//! [`PAGE_SLOTS`] channels of one payee. A steady-state claim reads its
//! channel (`c`) and its page and writes the page back; a seller's batch
//! claim loads and writes each distinct page once, so its channels share the
//! flat write cost. Everything else about a channel (parameters, deposit,
//! close state, its page and slot; short field names) is the channel record
//! `c`, written at open, top-up, first redemption, lodge, start of a close
//! and close.
//!
//! A channel gets its slot at its **first redemption**, not at open: only
//! channels the payee accepted (claimed on) share its pages and appear in
//! its `channels_by_payee` index (`e`), so channels opened unasked by
//! throwaway accounts take neither. Slots come from a per-payee cursor
//! (`f`: the payee's current page and slots used; a full page starts a new
//! one, `h` is the last page id). A slot never written reads as zero. Slots
//! are not reused when a channel closes.
//!
//! The purchase-verifier totals are not written by claims. `total_paid` is
//! the pair's closed-channel total (`t`, folded in at close) plus the
//! claimed amounts of its open channels (`o`, at most [`MAX_OPEN_PER_PAIR`],
//! each with its slot once accepted) minus IBC payouts in flight (`u`).
//! `paid_for_listing` is the same per listing (see `listing.rs`).
//!
//! | key | value |
//! |---|---|
//! | `config`, `n` (last channel id), `m` (last pair id), `k` (last payout id), `h` (last page id), `g` (last listing id) | items |
//! | `c` id | [`Channel`] |
//! | `s` page id | claimed amount per slot (`Vec<Uint128>`, missing slots are zero) |
//! | `f` payee | the payee's current page and slots used |
//! | `p` payer id, `e` payee id | `{}` (indexes; `e` holds accepted channels only) |
//! | `q` payer payee asset-key | pair id |
//! | `t` pair id | total claimed on the pair's closed channels |
//! | `o` pair id, channel id | the open channel's slot once accepted |
//! | `u` pair id | IBC payouts of the pair not yet settled |
//! | `l` payer payee registry listing-id, `lg` id, `lo` id channel, `lt` id | listing groups (`listing.rs`) |
//! | `w` payee watchtower | `{}` |
//! | `i` payout id | [`PendingPayout`]; `j` (ICS-20 channel, sequence) → payout id |
//! | `r` payee denom | credited refunds of failed IBC payouts |
//! | `v` asset-key | [`RESERVED`]: deposits of channels not closed plus credits |
//! | `cw20` address, `ibc` channel | owner allowlists |
//! | `hub` payer channel sender | hub senders a payer authorized |

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Binary, Empty, StdResult, Storage, Timestamp, Uint128};
use cw_storage_plus::{Item, Map};
use wevalue_common::asset::AssetInfo;
use wevalue_voucher::VoucherScheme;

use crate::error::ContractError;
use crate::msg::ChannelStatus;

/// Hard cap on a batch, whatever the configuration says.
pub const MAX_BATCH_SIZE: u32 = 50;
/// Most channels one (payer, payee, asset) pair may have open at once; keeps
/// the `total_paid` query bounded. Top up instead of opening more.
pub const MAX_OPEN_PER_PAIR: usize = 8;
/// Channels per claim page. Measured (`payment-channel-gas`): with 4 a
/// voucher in a 50-voucher batch costs half a single claim; with 8 less,
/// but the single claim, which rewrites the whole page, grows.
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
    /// Id of the listing group (payer, payee, registry, listing), if the
    /// channel buys a listing.
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<u64>,
    /// The claim page and slot holding this channel's claimed amount, from
    /// its first redemption on.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<(u64, u32)>,
    /// Everything deposited.
    #[serde(rename = "d")]
    pub deposit: Uint128,
    /// Set by `start_close`: unix seconds when the challenge period ends.
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    pub finalize_after: Option<u64>,
    /// The latest expiry of a hashlocked voucher the payee lodged: the
    /// challenge period never ends before it.
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub hold_until: Option<u64>,
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

/// What a channel with this slot has claimed so far (nothing before its
/// first redemption).
pub fn claimed_in(storage: &dyn Storage, slot: Option<(u64, u32)>) -> StdResult<Uint128> {
    match slot {
        Some((page, slot)) => Ok(slot_amount(&load_page(storage, page)?, slot)),
        None => Ok(Uint128::zero()),
    }
}

/// What `channel` has claimed so far.
pub fn claimed(storage: &dyn Storage, channel: &Channel) -> StdResult<Uint128> {
    claimed_in(storage, channel.slot)
}

/// Gives a newly accepted channel of `payee` the next slot of the payee's
/// current page, or the first slot of a new page if that one is full.
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

/// One pair's (and listing's) share of an IBC payout.
#[cw_serde]
pub struct PayoutShare {
    pub pair: u64,
    pub listing: Option<u64>,
    pub amount: Uint128,
}

/// An ICS-20 payout sent and not settled yet. One payout may carry the
/// proceeds of several channels (a batch claim), so it records the amount
/// per pair and listing to release from the pending totals when it settles.
#[cw_serde]
pub struct PendingPayout {
    /// The channel claimed (the first of the group, for a batch claim).
    pub channel_id: u64,
    pub payee: Addr,
    pub shares: Vec<PayoutShare>,
    pub denom: String,
    pub amount: Uint128,
    pub ibc_channel: String,
    /// The packet's sequence, recorded by the transfer's reply.
    pub sequence: Option<u64>,
    pub receiver: String,
    pub timeout: Timestamp,
    /// The payee confirmed delivery: no longer pending in the totals, but a
    /// refund that still arrives is credited.
    pub confirmed: bool,
}

/// Adds `amount` to a running counter.
pub fn add(
    map: &Map<u64, Uint128>,
    s: &mut dyn Storage,
    key: u64,
    amount: Uint128,
) -> Result<(), ContractError> {
    let v = map.may_load(s, key)?.unwrap_or_default();
    map.save(s, key, &v.checked_add(amount)?)?;
    Ok(())
}

/// Subtracts `amount` from a running counter (removing it at zero).
pub fn sub(
    map: &Map<u64, Uint128>,
    s: &mut dyn Storage,
    key: u64,
    amount: Uint128,
) -> Result<(), ContractError> {
    let v = map
        .may_load(s, key)?
        .unwrap_or_default()
        .checked_sub(amount)?;
    if v.is_zero() {
        map.remove(s, key);
    } else {
        map.save(s, key, &v)?;
    }
    Ok(())
}

/// Adds to (or, with `sub`, takes from) what the contract reserves of `asset`.
pub fn reserve(
    s: &mut dyn Storage,
    asset: &AssetInfo,
    amount: Uint128,
    sub: bool,
) -> Result<(), ContractError> {
    let key = asset.key();
    let v = RESERVED.may_load(s, &key)?.unwrap_or_default();
    let v = if sub {
        v.checked_sub(amount)?
    } else {
        v.checked_add(amount)?
    };
    RESERVED.save(s, &key, &v)?;
    Ok(())
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
pub const PAIR_OPEN: Map<(u64, u64), Option<(u64, u32)>> = Map::new("o");
pub const PAIR_PENDING: Map<u64, Uint128> = Map::new("u");
pub const WATCHTOWERS: Map<(&Addr, &Addr), Empty> = Map::new("w");
pub const PAYOUTS: Map<u64, PendingPayout> = Map::new("i");
pub const PAYOUT_BY_PACKET: Map<(&str, u64), u64> = Map::new("j");
pub const CREDITS: Map<(&Addr, &str), Uint128> = Map::new("r");
/// Per asset key: deposits of channels not closed plus credits not withdrawn.
pub const RESERVED: Map<&str, Uint128> = Map::new("v");
pub const CW20S: Map<&Addr, Empty> = Map::new("cw20");
pub const IBC_CHANNELS: Map<&str, Empty> = Map::new("ibc");
pub const HUB_SENDERS: Map<(&Addr, &str, &str), Empty> = Map::new("hub");
