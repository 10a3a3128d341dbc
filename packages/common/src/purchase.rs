//! The purchase-verifier query interface.
//!
//! A contract through which buyers pay sellers (the payment channel) answers
//! [`PurchaseQueryMsg::TotalPaid`] with what `payer` has paid `payee` in one
//! asset, counting only funds the payee actually received. Its own `QueryMsg`
//! must contain a variant with the same name and fields:
//! `{"total_paid":{"payer":"...","payee":"...","asset":{...}}}`.

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
}

#[cw_serde]
pub struct TotalPaidResponse {
    /// Sum of all amounts redeemed by `payee` from channels funded by
    /// `payer` in this asset; zero when they never traded.
    pub total: Uint128,
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
