//! Instantiation and the owner's configuration: deposit, curation registry,
//! purchase verifier (each probed for its query interface), the rating
//! threshold and the private-endpoint allowance.

use cosmwasm_std::{ensure, Addr, Coin, Deps, DepsMut, Env, MessageInfo, Response};
use cw_utils::nonpayable;
use wevalue_common::asset::{validate_denom, AssetInfo};
use wevalue_common::curation::query_is_listed;
use wevalue_common::purchase::query_paid_for_listing;

use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::error::ContractError;
use crate::msg::{InstantiateMsg, DEFAULT_MIN_RATING_UNITS};
use crate::state::{Config, CONFIG};

pub fn instantiate(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    let owner = msg.owner.unwrap_or_else(|| info.sender.to_string());
    let ownership = cw_ownable::initialize_owner(deps.storage, deps.api, Some(&owner))?;
    let config = Config {
        listing_deposit: msg.listing_deposit.map(check_deposit).transpose()?,
        min_rating_units: check_rating_units(
            msg.min_rating_units.unwrap_or(DEFAULT_MIN_RATING_UNITS),
        )?,
        allow_private_endpoints: msg.allow_private_endpoints.unwrap_or(false),
        curation_registry: msg
            .curation_registry
            .map(|a| probe_curation(deps.as_ref(), &a))
            .transpose()?,
        purchase_verifier: msg
            .purchase_verifier
            .map(|a| probe_verifier(deps.as_ref(), &env, &a))
            .transpose()?,
    };
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("min_rating_units", config.min_rating_units.to_string())
        .add_attribute(
            "allow_private_endpoints",
            config.allow_private_endpoints.to_string(),
        )
        .add_attributes(ownership.into_attributes()))
}

fn check_rating_units(units: u64) -> Result<u64, ContractError> {
    ensure!(units >= 1, ContractError::ZeroRatingUnits);
    Ok(units)
}

fn check_deposit(deposit: Coin) -> Result<Coin, ContractError> {
    validate_denom(&deposit.denom)?;
    ensure!(!deposit.amount.is_zero(), ContractError::ZeroDeposit);
    Ok(deposit)
}

/// Validates a curation registry address and checks that it answers `is_listed`.
fn probe_curation(deps: Deps, address: &str) -> Result<Addr, ContractError> {
    let addr = deps.api.addr_validate(address)?;
    query_is_listed(&deps.querier, &addr, addr.as_str()).map_err(|e| {
        ContractError::InterfaceProbeFailed {
            contract: address.to_string(),
            interface: "is_listed",
            reason: e.to_string(),
        }
    })?;
    Ok(addr)
}

/// Validates a purchase verifier address and checks that it answers
/// `paid_for_listing`, the query ratings depend on.
fn probe_verifier(deps: Deps, env: &Env, address: &str) -> Result<Addr, ContractError> {
    let addr = deps.api.addr_validate(address)?;
    let probe = AssetInfo::Native("probe".to_string());
    query_paid_for_listing(
        &deps.querier,
        &addr,
        &addr,
        &addr,
        &env.contract.address,
        0,
        &probe,
    )
    .map_err(|e| ContractError::InterfaceProbeFailed {
        contract: address.to_string(),
        interface: "paid_for_listing",
        reason: e.to_string(),
    })?;
    Ok(addr)
}

pub fn set_listing_deposit(
    deps: DepsMut,
    info: MessageInfo,
    deposit: Option<Coin>,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    let deposit = deposit.map(check_deposit).transpose()?;
    let shown = deposit.as_ref().map_or("none".to_string(), Coin::to_string);
    CONFIG.update(deps.storage, |mut c| -> Result<_, ContractError> {
        c.listing_deposit = deposit;
        Ok(c)
    })?;
    Ok(Response::new()
        .add_attribute("action", "set_listing_deposit")
        .add_attribute("deposit", shown))
}

pub fn set_curation_registry(
    deps: DepsMut,
    info: MessageInfo,
    address: Option<String>,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    let registry = address
        .map(|a| probe_curation(deps.as_ref(), &a))
        .transpose()?;
    let shown = registry
        .as_ref()
        .map_or("none".to_string(), Addr::to_string);
    CONFIG.update(deps.storage, |mut c| -> Result<_, ContractError> {
        c.curation_registry = registry;
        Ok(c)
    })?;
    Ok(Response::new()
        .add_attribute("action", "set_curation_registry")
        .add_attribute("curation_registry", shown))
}

pub fn set_purchase_verifier(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    address: Option<String>,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    let verifier = address
        .map(|a| probe_verifier(deps.as_ref(), &env, &a))
        .transpose()?;
    let shown = verifier
        .as_ref()
        .map_or("none".to_string(), Addr::to_string);
    CONFIG.update(deps.storage, |mut c| -> Result<_, ContractError> {
        c.purchase_verifier = verifier;
        Ok(c)
    })?;
    Ok(Response::new()
        .add_attribute("action", "set_purchase_verifier")
        .add_attribute("purchase_verifier", shown))
}

pub fn set_min_rating_units(
    deps: DepsMut,
    info: MessageInfo,
    units: u64,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    let units = check_rating_units(units)?;
    CONFIG.update(deps.storage, |mut c| -> Result<_, ContractError> {
        c.min_rating_units = units;
        Ok(c)
    })?;
    Ok(Response::new()
        .add_attribute("action", "set_min_rating_units")
        .add_attribute("min_rating_units", units.to_string()))
}

pub fn set_allow_private_endpoints(
    deps: DepsMut,
    info: MessageInfo,
    allow: bool,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    CONFIG.update(deps.storage, |mut c| -> Result<_, ContractError> {
        c.allow_private_endpoints = allow;
        Ok(c)
    })?;
    Ok(Response::new()
        .add_attribute("action", "set_allow_private_endpoints")
        .add_attribute("allow_private_endpoints", allow.to_string()))
}

pub fn update_ownership(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    action: cw_ownable::Action,
) -> Result<Response, ContractError> {
    wevalue_common::ownership::update_ownership(deps, &env.block, &info, action)
}
