//! Purchases tied to a listing: a channel may name the data-registry
//! listing it buys when it is opened, and `paid_for_listing` answers what
//! the payee redeemed on the channels a payer opened for that listing.
//!
//! Like `total_paid`, nothing here is written by a claim (the hot path):
//! each (payer, payee, registry, listing) is a *listing group* with, per
//! asset, the total claimed on its closed channels and its IBC payouts in
//! flight (`lt`, one record of at most [`MAX_LISTING_ASSETS`] entries), and
//! its open channels with their claim slots (`lo`, at most
//! [`MAX_OPEN_PER_LISTING`]). The query reads the group record and at most
//! that many claim pages: O(1) in everything users can grow.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Deps, Order, Storage, Uint128};
use cw_storage_plus::{Item, Map};
use wevalue_common::asset::{Asset, AssetInfo};
use wevalue_common::purchase::PaidForListingResponse;

use crate::error::ContractError;
use crate::msg::{ListingRef, ListingResponse};
use crate::state::{load_page, slot_amount, Page};

/// Most channels open at once for one (payer, payee, registry, listing).
pub const MAX_OPEN_PER_LISTING: usize = 8;
/// Most distinct assets the channels of one listing group may use.
pub const MAX_LISTING_ASSETS: usize = 4;

/// Which listing a group buys.
#[cw_serde]
pub struct ListingInfo {
    pub registry: Addr,
    pub listing_id: u64,
}

/// A group's totals in one asset.
#[cw_serde]
pub struct ListingAsset {
    pub asset: AssetInfo,
    /// Claimed on the group's closed channels in this asset.
    pub closed: Uint128,
    /// IBC payouts of the group's channels in this asset not settled yet.
    pub pending: Uint128,
}

/// An open channel of a group: its asset (an index into the group's
/// assets) and its claim slot once accepted.
#[cw_serde]
pub struct ListingSlot {
    pub asset: u8,
    pub slot: Option<(u64, u32)>,
}

pub const LAST_LISTING_ID: Item<u64> = Item::new("g");
/// Keyed by payer, payee and `<registry>/<listing id>`.
pub const LISTINGS: Map<(&Addr, &Addr, &str), u64> = Map::new("l");

fn listing_key(registry: &Addr, listing_id: u64) -> String {
    format!("{registry}/{listing_id}")
}
pub const LISTING_INFO: Map<u64, ListingInfo> = Map::new("lg");
pub const LISTING_OPEN: Map<(u64, u64), ListingSlot> = Map::new("lo");
pub const LISTING_TOTALS: Map<u64, Vec<ListingAsset>> = Map::new("lt");

/// Records that channel `id` of `payer` to `payee` in `asset` buys
/// `listing`; returns its group id.
pub fn register_open(
    storage: &mut dyn Storage,
    registry: &Addr,
    listing: &ListingRef,
    payer: &Addr,
    payee: &Addr,
    id: u64,
    asset: &AssetInfo,
) -> Result<u64, ContractError> {
    let listing_key = listing_key(registry, listing.listing_id);
    let key = (payer, payee, listing_key.as_str());
    let group = match LISTINGS.may_load(storage, key)? {
        Some(group) => group,
        None => {
            let group = LAST_LISTING_ID.may_load(storage)?.unwrap_or_default() + 1;
            LAST_LISTING_ID.save(storage, &group)?;
            LISTINGS.save(storage, key, &group)?;
            LISTING_INFO.save(
                storage,
                group,
                &ListingInfo {
                    registry: registry.clone(),
                    listing_id: listing.listing_id,
                },
            )?;
            group
        }
    };
    let open = LISTING_OPEN
        .prefix(group)
        .keys_raw(storage, None, None, Order::Ascending)
        .take(MAX_OPEN_PER_LISTING)
        .count();
    ensure_room(
        open < MAX_OPEN_PER_LISTING,
        MAX_OPEN_PER_LISTING,
        "open channels",
    )?;
    let mut totals = LISTING_TOTALS.may_load(storage, group)?.unwrap_or_default();
    let index = match totals.iter().position(|t| t.asset == *asset) {
        Some(i) => i,
        None => {
            ensure_room(
                totals.len() < MAX_LISTING_ASSETS,
                MAX_LISTING_ASSETS,
                "assets",
            )?;
            totals.push(ListingAsset {
                asset: asset.clone(),
                closed: Uint128::zero(),
                pending: Uint128::zero(),
            });
            LISTING_TOTALS.save(storage, group, &totals)?;
            totals.len() - 1
        }
    };
    LISTING_OPEN.save(
        storage,
        (group, id),
        &ListingSlot {
            asset: index as u8,
            slot: None,
        },
    )?;
    Ok(group)
}

fn ensure_room(ok: bool, max: usize, what: &'static str) -> Result<(), ContractError> {
    if ok {
        Ok(())
    } else {
        Err(ContractError::ListingFull { max, what })
    }
}

/// Notes the claim slot a channel of `group` got at its first redemption.
pub fn accept(
    storage: &mut dyn Storage,
    group: u64,
    id: u64,
    slot: (u64, u32),
) -> Result<(), ContractError> {
    let mut open = LISTING_OPEN.load(storage, (group, id))?;
    open.slot = Some(slot);
    LISTING_OPEN.save(storage, (group, id), &open)?;
    Ok(())
}

/// Folds a closing channel of `group` that claimed `claimed` into the totals.
pub fn close(
    storage: &mut dyn Storage,
    group: u64,
    id: u64,
    claimed: Uint128,
) -> Result<(), ContractError> {
    let open = LISTING_OPEN.load(storage, (group, id))?;
    LISTING_OPEN.remove(storage, (group, id));
    if !claimed.is_zero() {
        let mut totals = LISTING_TOTALS.load(storage, group)?;
        if let Some(t) = totals.get_mut(open.asset as usize) {
            t.closed = t.closed.checked_add(claimed)?;
        }
        LISTING_TOTALS.save(storage, group, &totals)?;
    }
    Ok(())
}

/// Adds to or releases (`release`) a group's IBC payouts in flight in `asset`.
pub fn pending(
    storage: &mut dyn Storage,
    group: u64,
    asset: &AssetInfo,
    amount: Uint128,
    release: bool,
) -> Result<(), ContractError> {
    let mut totals = LISTING_TOTALS.load(storage, group)?;
    if let Some(t) = totals.iter_mut().find(|t| t.asset == *asset) {
        t.pending = if release {
            t.pending.checked_sub(amount)?
        } else {
            t.pending.checked_add(amount)?
        };
        LISTING_TOTALS.save(storage, group, &totals)?;
    }
    Ok(())
}

/// The listing a group buys, for the channel query.
pub fn info(storage: &dyn Storage, group: u64) -> Result<ListingResponse, ContractError> {
    let info = LISTING_INFO.load(storage, group)?;
    Ok(ListingResponse {
        registry: info.registry,
        listing_id: info.listing_id,
    })
}

pub fn paid_for_listing(
    deps: Deps,
    payer: String,
    payee: String,
    registry: String,
    listing_id: u64,
) -> Result<PaidForListingResponse, ContractError> {
    let payer = deps.api.addr_validate(&payer)?;
    let payee = deps.api.addr_validate(&payee)?;
    let registry = deps.api.addr_validate(&registry)?;
    let key = listing_key(&registry, listing_id);
    let Some(group) = LISTINGS.may_load(deps.storage, (&payer, &payee, key.as_str()))? else {
        return Ok(PaidForListingResponse { paid: vec![] });
    };
    let totals = LISTING_TOTALS
        .may_load(deps.storage, group)?
        .unwrap_or_default();
    let mut sums: Vec<Uint128> = totals.iter().map(|t| t.closed).collect();
    // Open channels, at most MAX_OPEN_PER_LISTING, each page read once.
    let mut pages: Vec<(u64, Page)> = vec![];
    for entry in LISTING_OPEN
        .prefix(group)
        .range(deps.storage, None, None, Order::Ascending)
        .take(MAX_OPEN_PER_LISTING)
    {
        let (_, open) = entry?;
        let Some((page, slot)) = open.slot else {
            continue;
        };
        let amount = match pages.iter().find(|(id, _)| *id == page) {
            Some((_, amounts)) => slot_amount(amounts, slot),
            None => {
                let amounts = load_page(deps.storage, page)?;
                let amount = slot_amount(&amounts, slot);
                pages.push((page, amounts));
                amount
            }
        };
        if let Some(sum) = sums.get_mut(open.asset as usize) {
            *sum = sum.checked_add(amount)?;
        }
    }
    let paid = totals
        .into_iter()
        .zip(sums)
        .map(|(t, sum)| t.asset.with_amount(sum.saturating_sub(t.pending)))
        .filter(|a: &Asset| !a.amount.is_zero())
        .collect();
    Ok(PaidForListingResponse { paid })
}
