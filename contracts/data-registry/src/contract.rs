//! Entry points: each destructures its message and forwards to `config`,
//! `execute` (listings), `rating`, `query` or `migrations`.

#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response};

use crate::error::ContractError;
use crate::msg::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};
use crate::{config as cfg, execute as exec, migrations, query as q, rating};

pub const CONTRACT_NAME: &str = concat!("crates.io:wevalue-", env!("CARGO_PKG_NAME"));
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    cfg::instantiate(deps, env, info, msg)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::CreateListing(listing) => exec::create_listing(deps, env, info, listing),
        ExecuteMsg::UpdateListing { id, update } => {
            exec::update_listing(deps, env, info, id, update)
        }
        ExecuteMsg::PauseListing { id } => exec::pause_listing(deps, env, info, id),
        ExecuteMsg::ResumeListing { id } => exec::resume_listing(deps, env, info, id),
        ExecuteMsg::RetireListing { id } => exec::retire_listing(deps, env, info, id),
        ExecuteMsg::SuspendUncurated { id } => exec::suspend_uncurated(deps, env, info, id),
        ExecuteMsg::Rate {
            id,
            score,
            review_cid,
        } => rating::rate(deps, env, info, id, score, review_cid),
        ExecuteMsg::SetListingDeposit { deposit } => cfg::set_listing_deposit(deps, info, deposit),
        ExecuteMsg::SetCurationRegistry { address } => {
            cfg::set_curation_registry(deps, info, address)
        }
        ExecuteMsg::SetPurchaseVerifier { address } => {
            cfg::set_purchase_verifier(deps, env, info, address)
        }
        ExecuteMsg::SetMinRatingUnits { units } => cfg::set_min_rating_units(deps, info, units),
        ExecuteMsg::SetAllowPrivateEndpoints { allow } => {
            cfg::set_allow_private_endpoints(deps, info, allow)
        }
        ExecuteMsg::UpdateOwnership(action) => cfg::update_ownership(deps, env, info, action),
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    Ok(match msg {
        QueryMsg::Config {} => to_json_binary(&q::config(deps)?)?,
        QueryMsg::Listing { id } => to_json_binary(&q::listing(deps, id)?)?,
        QueryMsg::Listings { start_after, limit } => {
            to_json_binary(&q::listings(deps, start_after, limit)?)?
        }
        QueryMsg::ListingsBySeller {
            seller,
            start_after,
            limit,
        } => to_json_binary(&q::listings_by_seller(deps, seller, start_after, limit)?)?,
        QueryMsg::ListingsByCategory {
            category,
            start_after,
            limit,
        } => to_json_binary(&q::listings_by_category(
            deps,
            category,
            start_after,
            limit,
        )?)?,
        QueryMsg::ListingsByPrice {
            category,
            asset,
            model,
            min_price,
            max_price,
            start_after,
            limit,
        } => to_json_binary(&q::listings_by_price(
            deps,
            q::PriceFilter {
                category,
                asset,
                model,
                min_price,
                max_price,
            },
            start_after,
            limit,
        )?)?,
        QueryMsg::ListingsNear {
            cell,
            start_after,
            limit,
        } => to_json_binary(&q::listings_near(deps, cell, start_after, limit)?)?,
        QueryMsg::RatingSummary { id } => to_json_binary(&q::rating_summary(deps, id)?)?,
        QueryMsg::Rating { id, buyer } => to_json_binary(&q::rating(deps, id, buyer)?)?,
        QueryMsg::Ratings {
            id,
            start_after,
            limit,
        } => to_json_binary(&q::ratings(deps, id, start_after, limit)?)?,
        QueryMsg::Ownership {} => to_json_binary(&cw_ownable::get_ownership(deps.storage)?)?,
    })
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    migrations::migrate(deps)
}
