//! The listing lifecycle: create, update, pause, resume, retire, and the
//! suspension of listings whose seller the curation registry removed.

use cosmwasm_std::{
    ensure, ensure_eq, Addr, Api, BankMsg, Coin, Deps, DepsMut, Env, MessageInfo, Response,
};
use cw_utils::{must_pay, nonpayable};
use wevalue_common::curation::query_is_listed;

use crate::error::ContractError;
use crate::msg::{DataTerms, ListingUpdate, Location, NewListing, Price, PriceMsg};
use crate::state::{
    add_discovery_indexes, add_seller_index, last_id, load_listing, remove_discovery_indexes,
    save_listing, Config, Hash32, Listing, ListingStatus, CONFIG,
};
use crate::validate;

fn ensure_curated(deps: Deps, config: &Config, seller: &Addr) -> Result<(), ContractError> {
    if let Some(registry) = &config.curation_registry {
        ensure!(
            query_is_listed(&deps.querier, registry, seller.as_str())?,
            ContractError::SellerNotListed {
                seller: seller.to_string()
            }
        );
    }
    Ok(())
}

fn check_price(api: &dyn Api, price: PriceMsg) -> Result<Price, ContractError> {
    ensure!(!price.amount.is_zero(), ContractError::ZeroPrice);
    Ok(Price {
        asset: price.asset.check(api)?,
        amount: price.amount,
        model: price.model,
    })
}

fn check_terms(terms: DataTerms) -> Result<(String, Hash32), ContractError> {
    validate::license(&terms.license)?;
    let hash = terms
        .terms_hash
        .as_slice()
        .try_into()
        .map_err(|_| ContractError::InvalidField {
            field: "terms_hash",
            value: terms.terms_hash.to_hex(),
            reason: "must be a 32-byte sha256 digest",
        })?;
    Ok((terms.license, Hash32(hash)))
}

fn check_location(location: &Location) -> Result<(i32, i32, String), ContractError> {
    let lat = validate::latitude_e7(location.latitude)?;
    let lon = validate::longitude_e7(location.longitude)?;
    Ok((lat, lon, validate::geohash(lat, lon)))
}

fn check_title(title: &str) -> Result<(), ContractError> {
    validate::line("title", title, 1, validate::TITLE_MAX)
}

fn check_description(description: &str) -> Result<(), ContractError> {
    validate::text("description", description, 0, validate::DESCRIPTION_MAX)
}

fn check_sensor_type(sensor_type: &str) -> Result<(), ContractError> {
    validate::label("sensor_type", sensor_type, validate::SENSOR_TYPE_MAX)
}

fn check_unit(unit: &str) -> Result<(), ContractError> {
    validate::label("unit", unit, validate::UNIT_MAX)
}

pub fn create_listing(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    new: NewListing,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let deposit = match &config.listing_deposit {
        Some(expected) => {
            let paid = must_pay(&info, &expected.denom)?;
            ensure!(
                paid == expected.amount,
                ContractError::WrongDeposit {
                    expected: expected.clone(),
                    received: Coin::new(paid, &expected.denom).to_string(),
                }
            );
            Some(expected.clone())
        }
        None => {
            nonpayable(&info)?;
            None
        }
    };

    check_title(&new.title)?;
    check_description(&new.description)?;
    validate::slug("category", &new.category)?;
    check_sensor_type(&new.sensor_type)?;
    check_unit(&new.unit)?;
    let (lat_e7, lon_e7, geohash) = check_location(&new.location)?;
    let price = check_price(deps.api, new.price)?;
    let metadata_cid = validate::cid(&new.metadata_cid)?;
    validate::endpoint(&new.endpoint, config.allow_private_endpoints)?;
    let (license, terms_hash) = check_terms(new.terms)?;
    ensure_curated(deps.as_ref(), &config, &info.sender)?;

    let id = last_id(deps.storage)? + 1;
    let listing = Listing {
        seller_raw: deps.api.addr_canonicalize(info.sender.as_str())?,
        seller: info.sender,
        title: new.title,
        description: new.description,
        category: new.category,
        sensor_type: new.sensor_type,
        unit: new.unit,
        lat_e7,
        lon_e7,
        geohash,
        price,
        metadata_cid,
        endpoint: new.endpoint,
        license,
        terms_hash,
        status: ListingStatus::Active,
        deposit,
        created_height: env.block.height,
        updated_height: env.block.height,
        rating_count: 0,
        rating_sum: 0,
    };
    save_listing(deps.storage, id, &listing);
    add_seller_index(deps.storage, &listing, id);
    add_discovery_indexes(deps.storage, &listing, id);

    Ok(Response::new()
        .add_attribute("action", "create_listing")
        .add_attribute("listing_id", id.to_string())
        .add_attribute("seller", listing.seller)
        .add_attribute("category", listing.category)
        .add_attribute("geohash", listing.geohash))
}

/// Loads a listing its seller wants to change; retired listings cannot change.
fn load_own_listing(deps: Deps, sender: &Addr, id: u64) -> Result<Listing, ContractError> {
    let listing = load_listing(deps.storage, deps.api, id)?;
    ensure_eq!(&listing.seller, sender, ContractError::NotSeller { id });
    ensure!(
        listing.status != ListingStatus::Retired,
        ContractError::ListingRetired { id }
    );
    Ok(listing)
}

pub fn update_listing(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
    update: ListingUpdate,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    ensure!(
        update != ListingUpdate::default(),
        ContractError::EmptyUpdate
    );
    let old = load_own_listing(deps.as_ref(), &info.sender, id)?;
    // A seller the registry removed may still pause and retire (and get the
    // deposit back), but not edit what buyers see.
    let config = CONFIG.load(deps.storage)?;
    ensure_curated(deps.as_ref(), &config, &info.sender)?;
    let mut new = old.clone();
    if let Some(title) = update.title {
        check_title(&title)?;
        new.title = title;
    }
    if let Some(description) = update.description {
        check_description(&description)?;
        new.description = description;
    }
    if let Some(category) = update.category {
        validate::slug("category", &category)?;
        new.category = category;
    }
    if let Some(sensor_type) = update.sensor_type {
        check_sensor_type(&sensor_type)?;
        new.sensor_type = sensor_type;
    }
    if let Some(unit) = update.unit {
        check_unit(&unit)?;
        new.unit = unit;
    }
    if let Some(location) = update.location {
        (new.lat_e7, new.lon_e7, new.geohash) = check_location(&location)?;
    }
    if let Some(price) = update.price {
        new.price = check_price(deps.api, price)?;
    }
    if let Some(cid) = update.metadata_cid {
        new.metadata_cid = validate::cid(&cid)?;
    }
    if let Some(endpoint) = update.endpoint {
        validate::endpoint(&endpoint, config.allow_private_endpoints)?;
        new.endpoint = endpoint;
    }
    if let Some(terms) = update.terms {
        (new.license, new.terms_hash) = check_terms(terms)?;
    }
    new.updated_height = env.block.height;

    let moved =
        new.category != old.category || new.price != old.price || new.geohash != old.geohash;
    if moved && old.status == ListingStatus::Active {
        remove_discovery_indexes(deps.storage, &old, id);
        add_discovery_indexes(deps.storage, &new, id);
    }
    save_listing(deps.storage, id, &new);
    Ok(Response::new()
        .add_attribute("action", "update_listing")
        .add_attribute("listing_id", id.to_string())
        .add_attribute("reindexed", moved.to_string()))
}

fn set_status(
    deps: DepsMut,
    env: &Env,
    id: u64,
    mut listing: Listing,
    status: ListingStatus,
) -> Result<Listing, ContractError> {
    match (listing.status, status) {
        (ListingStatus::Active, ListingStatus::Paused | ListingStatus::Retired) => {
            remove_discovery_indexes(deps.storage, &listing, id)
        }
        (ListingStatus::Paused, ListingStatus::Active) => {
            add_discovery_indexes(deps.storage, &listing, id)
        }
        _ => {}
    }
    listing.status = status;
    listing.updated_height = env.block.height;
    save_listing(deps.storage, id, &listing);
    Ok(listing)
}

fn status_response(action: &str, id: u64) -> Response {
    Response::new()
        .add_attribute("action", action)
        .add_attribute("listing_id", id.to_string())
}

pub fn pause_listing(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let listing = load_own_listing(deps.as_ref(), &info.sender, id)?;
    ensure!(
        listing.status == ListingStatus::Active,
        ContractError::AlreadyInStatus {
            id,
            status: listing.status.to_string()
        }
    );
    set_status(deps, &env, id, listing, ListingStatus::Paused)?;
    Ok(status_response("pause_listing", id))
}

pub fn resume_listing(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let listing = load_own_listing(deps.as_ref(), &info.sender, id)?;
    ensure!(
        listing.status == ListingStatus::Paused,
        ContractError::AlreadyInStatus {
            id,
            status: listing.status.to_string()
        }
    );
    let config = CONFIG.load(deps.storage)?;
    ensure_curated(deps.as_ref(), &config, &listing.seller)?;
    set_status(deps, &env, id, listing, ListingStatus::Active)?;
    Ok(status_response("resume_listing", id))
}

pub fn retire_listing(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let listing = load_own_listing(deps.as_ref(), &info.sender, id)?;
    let listing = set_status(deps, &env, id, listing, ListingStatus::Retired)?;
    let mut response = status_response("retire_listing", id);
    if let Some(deposit) = listing.deposit {
        response = response
            .add_attribute("refund", deposit.to_string())
            .add_message(BankMsg::Send {
                to_address: listing.seller.into_string(),
                amount: vec![deposit],
            });
    }
    Ok(response)
}

pub fn suspend_uncurated(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let registry = config
        .curation_registry
        .ok_or(ContractError::CurationDisabled)?;
    let listing = load_listing(deps.storage, deps.api, id)?;
    ensure!(
        listing.status == ListingStatus::Active,
        ContractError::AlreadyInStatus {
            id,
            status: listing.status.to_string()
        }
    );
    ensure!(
        !query_is_listed(&deps.querier, &registry, listing.seller.as_str())?,
        ContractError::SellerStillListed {
            seller: listing.seller.to_string()
        }
    );
    set_status(deps, &env, id, listing, ListingStatus::Paused)?;
    Ok(status_response("suspend_uncurated", id).add_attribute("reporter", info.sender))
}
