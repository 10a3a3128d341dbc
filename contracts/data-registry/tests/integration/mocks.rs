//! Stand-ins for the contracts the registry calls: a curation registry
//! answering `is_listed` and a purchase verifier answering `total_paid` and
//! `paid_for_listing`, whose answers the tests set directly.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{
    to_json_binary, Binary, Deps, DepsMut, Empty, Env, MessageInfo, Response, StdError, StdResult,
    Uint128,
};
use cw_multi_test::{Contract, ContractWrapper};
use cw_storage_plus::Map;
use wevalue_common::asset::{Asset, AssetInfo};
use wevalue_common::curation::{CurationQueryMsg, IsListedResponse};
use wevalue_common::purchase::{PaidForListingResponse, PurchaseQueryMsg, TotalPaidResponse};

const LISTED: Map<&str, bool> = Map::new("listed");
const PAID: Map<(&str, &str, String), Uint128> = Map::new("paid");
/// "payer payee registry listing-id" → amounts per asset.
const PAID_FOR_LISTING: Map<&str, Vec<Asset>> = Map::new("paid_for_listing");

fn listing_key(payer: &str, payee: &str, registry: &str, listing_id: u64) -> String {
    format!("{payer} {payee} {registry} {listing_id}")
}

#[cw_serde]
/// Sets what the mocks answer.
pub enum MockExecuteMsg {
    /// What `is_listed` answers for `subject`.
    Listed { subject: String, listed: bool },
    /// What `total_paid` answers (the registry no longer asks it).
    Paid {
        payer: String,
        payee: String,
        asset: AssetInfo,
        total: Uint128,
    },
    /// What `paid_for_listing` answers for one asset of one listing.
    PaidForListing {
        payer: String,
        payee: String,
        registry: String,
        listing_id: u64,
        asset: AssetInfo,
        amount: Uint128,
    },
}

fn instantiate(_: DepsMut, _: Env, _: MessageInfo, _: Empty) -> StdResult<Response> {
    Ok(Response::new())
}

fn execute(deps: DepsMut, _: Env, _: MessageInfo, msg: MockExecuteMsg) -> StdResult<Response> {
    match msg {
        MockExecuteMsg::Listed { subject, listed } => {
            LISTED.save(deps.storage, &subject, &listed)?
        }
        MockExecuteMsg::Paid {
            payer,
            payee,
            asset,
            total,
        } => PAID.save(deps.storage, (&payer, &payee, asset.key()), &total)?,
        MockExecuteMsg::PaidForListing {
            payer,
            payee,
            registry,
            listing_id,
            asset,
            amount,
        } => {
            let key = listing_key(&payer, &payee, &registry, listing_id);
            let mut paid = PAID_FOR_LISTING
                .may_load(deps.storage, &key)?
                .unwrap_or_default();
            paid.retain(|a| a.info != asset);
            paid.push(Asset {
                info: asset,
                amount,
            });
            PAID_FOR_LISTING.save(deps.storage, &key, &paid)?
        }
    }
    Ok(Response::new())
}

fn curation_query(deps: Deps, _: Env, msg: CurationQueryMsg) -> StdResult<Binary> {
    match msg {
        CurationQueryMsg::IsListed { subject } => to_json_binary(&IsListedResponse {
            listed: LISTED.may_load(deps.storage, &subject)?.unwrap_or(false),
        }),
    }
}

fn verifier_query(deps: Deps, _: Env, msg: PurchaseQueryMsg) -> StdResult<Binary> {
    match msg {
        PurchaseQueryMsg::TotalPaid {
            payer,
            payee,
            asset,
        } => to_json_binary(&TotalPaidResponse {
            total: PAID
                .may_load(deps.storage, (&payer, &payee, asset.key()))?
                .unwrap_or_default(),
        }),
        PurchaseQueryMsg::PaidForListing {
            payer,
            payee,
            registry,
            listing_id,
        } => to_json_binary(&PaidForListingResponse {
            paid: PAID_FOR_LISTING
                .may_load(
                    deps.storage,
                    &listing_key(&payer, &payee, &registry, listing_id),
                )?
                .unwrap_or_default(),
        }),
    }
}

/// A verifier from before `paid_for_listing`: it answers only `total_paid`.
fn total_paid_only_query(deps: Deps, env: Env, msg: PurchaseQueryMsg) -> StdResult<Binary> {
    match msg {
        PurchaseQueryMsg::PaidForListing { .. } => Err(StdError::generic_err(
            "unknown variant `paid_for_listing`, expected `total_paid`",
        )),
        other => verifier_query(deps, env, other),
    }
}

/// A contract that answers no query at all.
fn silent_query(_: Deps, _: Env, _: Empty) -> StdResult<Binary> {
    Err(StdError::not_found("any query"))
}

pub fn curation_contract() -> Box<dyn Contract<Empty>> {
    Box::new(ContractWrapper::new(execute, instantiate, curation_query))
}

pub fn verifier_contract() -> Box<dyn Contract<Empty>> {
    Box::new(ContractWrapper::new(execute, instantiate, verifier_query))
}

pub fn total_paid_only_contract() -> Box<dyn Contract<Empty>> {
    Box::new(ContractWrapper::new(
        execute,
        instantiate,
        total_paid_only_query,
    ))
}

pub fn silent_contract() -> Box<dyn Contract<Empty>> {
    Box::new(ContractWrapper::new(execute, instantiate, silent_query))
}
