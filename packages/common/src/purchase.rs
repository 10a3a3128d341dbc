//! The purchase-verifier query interface.
//!
//! A contract through which buyers pay sellers (the payment channel) answers
//! two queries, each counting only funds the payee actually received:
//! - [`PurchaseQueryMsg::TotalPaid`]: what `payer` has paid `payee` in one
//!   asset, over every channel between them;
//! - [`PurchaseQueryMsg::PaidForListing`]: what `payer` has paid `payee` on
//!   channels opened *for one listing* of one data registry (a channel names
//!   the listing it buys when it is opened). Ratings use this one, so a
//!   payment for one stream never vouches for another.
//!
//! Its own `QueryMsg` must contain variants with the same names and fields:
//! `{"total_paid":{"payer":"...","payee":"...","asset":{...}}}` and
//! `{"paid_for_listing":{"payer":"...","payee":"...","registry":"...","listing_id":1}}`.

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, QuerierWrapper, StdResult, Uint128};

use crate::asset::AssetInfo;

#[cw_serde]
#[derive(QueryResponses)]
pub enum PurchaseQueryMsg {
    /// Total amount of `asset` that `payer` has paid to `payee`.
    #[returns(TotalPaidResponse)]
    TotalPaid {
        /// The buyer's address.
        payer: String,
        /// The seller's address.
        payee: String,
        /// The asset to total; payments in other assets are not counted.
        asset: AssetInfo,
    },
    /// What `payer` has paid `payee` on channels opened for listing
    /// `listing_id` of the data registry `registry`, per asset.
    #[returns(PaidForListingResponse)]
    PaidForListing {
        /// The buyer's address.
        payer: String,
        /// The seller's address.
        payee: String,
        /// The data registry the listing belongs to.
        registry: String,
        /// The listing's id in that registry.
        listing_id: u64,
    },
}

#[cw_serde]
pub struct TotalPaidResponse {
    /// Sum of all amounts redeemed by `payee` from channels funded by
    /// `payer` in this asset; zero when they never traded.
    pub total: Uint128,
}

#[cw_serde]
pub struct PaidForListingResponse {
    /// Amounts redeemed by `payee` from channels that `payer` opened for the
    /// listing, one entry per asset (empty when nothing was paid).
    pub paid: Vec<crate::asset::Asset>,
}

/// Asks the verifier at `verifier` how much `payer` has paid `payee` in `asset`.
pub fn query_total_paid(
    querier: &QuerierWrapper,
    verifier: &Addr,
    payer: &Addr,
    payee: &Addr,
    asset: &AssetInfo,
) -> StdResult<Uint128> {
    let resp: TotalPaidResponse = querier.query_wasm_smart(
        verifier,
        &PurchaseQueryMsg::TotalPaid {
            payer: payer.to_string(),
            payee: payee.to_string(),
            asset: asset.clone(),
        },
    )?;
    Ok(resp.total)
}

/// Asks the verifier at `verifier` how much of `asset` `payer` has paid
/// `payee` on channels opened for `listing_id` of `registry`.
pub fn query_paid_for_listing(
    querier: &QuerierWrapper,
    verifier: &Addr,
    payer: &Addr,
    payee: &Addr,
    registry: &Addr,
    listing_id: u64,
    asset: &AssetInfo,
) -> StdResult<Uint128> {
    let resp: PaidForListingResponse = querier.query_wasm_smart(
        verifier,
        &PurchaseQueryMsg::PaidForListing {
            payer: payer.to_string(),
            payee: payee.to_string(),
            registry: registry.to_string(),
            listing_id,
        },
    )?;
    resp.paid
        .into_iter()
        .filter(|a| &a.info == asset)
        .try_fold(Uint128::zero(), |acc, a| acc.checked_add(a.amount))
        .map_err(Into::into)
}
