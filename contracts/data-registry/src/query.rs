//! Queries. Every list query reads one bounded page of one index: its cost
//! does not depend on how many listings the registry holds.

use cosmwasm_std::{ensure, Decimal, Deps, Order, Uint128};
use cw_storage_plus::Bound;
use wevalue_common::asset::AssetInfoUnchecked;
use wevalue_common::pagination::page_limit;

use crate::error::ContractError;
use crate::msg::{
    CategoryCursor, ConfigResponse, DataTerms, ListingInfo, ListingsResponse, PlaceCursor,
    PlaceInfo, Price, PriceCursor, RatingResponse, RatingSummaryResponse, RatingsResponse,
};
use crate::state::{
    after, category_position_key, category_prefix, geohash_position_key, geohash_prefix,
    index_page, last_id, load_listing, may_load_listing, prefix_end, price_group_prefix,
    price_position, seller_prefix, Listing, PricingModel, CONFIG, RATINGS,
};
use crate::validate;

pub fn config(deps: Deps) -> Result<ConfigResponse, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    Ok(ConfigResponse {
        listing_deposit: config.listing_deposit,
        curation_registry: config.curation_registry,
        purchase_verifier: config.purchase_verifier,
        min_rating_units: config.min_rating_units,
        allow_private_endpoints: config.allow_private_endpoints,
        listing_count: last_id(deps.storage)?,
    })
}

pub fn to_info(id: u64, l: Listing) -> ListingInfo {
    ListingInfo {
        id,
        seller: l.seller,
        title: l.title,
        description: l.description,
        category: l.category,
        sensor_type: l.sensor_type,
        unit: l.unit,
        location: PlaceInfo {
            latitude: validate::e7_to_decimal(l.lat_e7),
            longitude: validate::e7_to_decimal(l.lon_e7),
            geohash: l.geohash,
        },
        price: l.price,
        metadata_cid: l.metadata_cid.to_text(),
        endpoint: l.endpoint,
        terms: DataTerms {
            license: l.license,
            terms_hash: l.terms_hash.0.to_vec().into(),
        },
        status: l.status,
        deposit: l.deposit,
        created_height: l.created_height,
        updated_height: l.updated_height,
        rating_count: l.rating_count,
        rating_sum: l.rating_sum,
    }
}

pub fn listing(deps: Deps, id: u64) -> Result<ListingInfo, ContractError> {
    Ok(to_info(id, load_listing(deps.storage, deps.api, id)?))
}

fn load_page(deps: Deps, ids: Vec<u64>) -> Result<ListingsResponse, ContractError> {
    let listings = ids
        .into_iter()
        .map(|id| load_listing(deps.storage, deps.api, id).map(|l| to_info(id, l)))
        .collect::<Result<_, _>>()?;
    Ok(ListingsResponse { listings })
}

pub fn listings(
    deps: Deps,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<ListingsResponse, ContractError> {
    // Ids are dense (1..=last), so a page is a run of ids: no scan needed.
    let last = last_id(deps.storage)?;
    let first = start_after.unwrap_or(0).saturating_add(1);
    let end = last.min(first.saturating_add(page_limit(limit) as u64 - 1));
    let mut listings = vec![];
    for id in first..=end {
        if let Some(l) = may_load_listing(deps.storage, deps.api, id)? {
            listings.push(to_info(id, l));
        }
    }
    Ok(ListingsResponse { listings })
}

pub fn listings_by_seller(
    deps: Deps,
    seller: String,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<ListingsResponse, ContractError> {
    let seller = deps.api.addr_validate(&seller)?;
    let prefix = seller_prefix(deps.api.addr_canonicalize(seller.as_str())?.as_slice());
    let start = match start_after {
        Some(id) => {
            let mut key = prefix.clone();
            key.extend_from_slice(&id.to_be_bytes());
            after(key)
        }
        None => prefix.clone(),
    };
    let ids = index_page(
        deps.storage,
        &start,
        prefix_end(&prefix).as_deref(),
        page_limit(limit),
    )?;
    load_page(deps, ids)
}

/// The start of a page inside `[from, ..)`: just after the index key the
/// cursor carries, or `from`. The cursor is where the previous page ended in
/// the index, not a listing whose key is looked up again, so a listing that
/// moves between pages (a new price or place) shifts no other listing; a
/// cursor from elsewhere is clamped into the range, so a page never leaves
/// the prefix the query asked for.
fn page_start(from: Vec<u8>, cursor_key: Option<Vec<u8>>) -> Vec<u8> {
    match cursor_key {
        Some(key) => after(key).max(from),
        None => from,
    }
}

pub fn listings_by_category(
    deps: Deps,
    category: String,
    start_after: Option<CategoryCursor>,
    limit: Option<u32>,
) -> Result<ListingsResponse, ContractError> {
    validate::slug("category", &category)?;
    let cursor_key = start_after
        .map(|c| -> Result<_, ContractError> {
            let price = Price {
                asset: c.asset.check(deps.api)?,
                amount: c.price,
                model: c.model,
            };
            Ok(category_position_key(&category, &price, c.id))
        })
        .transpose()?;
    let prefix = category_prefix(&category);
    let end = prefix_end(&prefix);
    let start = page_start(prefix, cursor_key);
    let ids = index_page(deps.storage, &start, end.as_deref(), page_limit(limit))?;
    load_page(deps, ids)
}

pub struct PriceFilter {
    pub category: String,
    pub asset: AssetInfoUnchecked,
    pub model: PricingModel,
    pub min_price: Option<Uint128>,
    pub max_price: Option<Uint128>,
}

pub fn listings_by_price(
    deps: Deps,
    filter: PriceFilter,
    start_after: Option<PriceCursor>,
    limit: Option<u32>,
) -> Result<ListingsResponse, ContractError> {
    validate::slug("category", &filter.category)?;
    let min = filter.min_price.unwrap_or_default();
    if let Some(max) = filter.max_price {
        if min > max {
            return Err(ContractError::InvalidPriceRange {
                min: min.to_string(),
                max: max.to_string(),
            });
        }
    }
    let group = Price {
        asset: filter.asset.check(deps.api)?,
        amount: Uint128::zero(),
        model: filter.model,
    };
    let from = price_position(&filter.category, &group, min);
    let end = match filter.max_price {
        Some(max) => prefix_end(&price_position(&filter.category, &group, max)),
        None => prefix_end(&price_group_prefix(&filter.category, &group)),
    };
    let cursor_key = start_after.map(|c| {
        let at = Price {
            amount: c.price,
            ..group.clone()
        };
        category_position_key(&filter.category, &at, c.id)
    });
    let start = page_start(from, cursor_key);
    let ids = index_page(deps.storage, &start, end.as_deref(), page_limit(limit))?;
    load_page(deps, ids)
}

pub fn listings_near(
    deps: Deps,
    cell: String,
    start_after: Option<PlaceCursor>,
    limit: Option<u32>,
) -> Result<ListingsResponse, ContractError> {
    validate::cell(&cell)?;
    let cursor_key = start_after
        .map(|c| -> Result<_, ContractError> {
            validate::cell(&c.geohash)?;
            ensure!(
                c.geohash.len() == validate::GEOHASH_PRECISION,
                ContractError::InvalidCursor {
                    reason: "a place cursor carries a listing's 9-character geohash"
                }
            );
            Ok(geohash_position_key(&c.geohash, c.id))
        })
        .transpose()?;
    let prefix = geohash_prefix(&cell);
    let end = prefix_end(&prefix);
    let start = page_start(prefix, cursor_key);
    let ids = index_page(deps.storage, &start, end.as_deref(), page_limit(limit))?;
    load_page(deps, ids)
}

pub fn rating_summary(deps: Deps, id: u64) -> Result<RatingSummaryResponse, ContractError> {
    let listing = load_listing(deps.storage, deps.api, id)?;
    Ok(RatingSummaryResponse {
        id,
        count: listing.rating_count,
        sum: listing.rating_sum,
        average: (listing.rating_count > 0)
            .then(|| Decimal::from_ratio(listing.rating_sum, listing.rating_count)),
    })
}

pub fn rating(deps: Deps, id: u64, buyer: String) -> Result<RatingResponse, ContractError> {
    let buyer = deps.api.addr_validate(&buyer)?;
    let rating = RATINGS
        .may_load(deps.storage, (id, &buyer))?
        .ok_or_else(|| ContractError::RatingNotFound {
            id,
            buyer: buyer.to_string(),
        })?;
    Ok(RatingResponse {
        id,
        buyer,
        score: rating.score,
        review_cid: rating.review_cid,
        height: rating.height,
    })
}

pub fn ratings(
    deps: Deps,
    id: u64,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<RatingsResponse, ContractError> {
    let start = start_after
        .map(|a| deps.api.addr_validate(&a))
        .transpose()?;
    let ratings = RATINGS
        .prefix(id)
        .range(
            deps.storage,
            start.as_ref().map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .map(|item| {
            item.map(|(buyer, r)| RatingResponse {
                id,
                buyer,
                score: r.score,
                review_cid: r.review_cid,
                height: r.height,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(RatingsResponse { ratings })
}
