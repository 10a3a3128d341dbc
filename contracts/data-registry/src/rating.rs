//! Ratings: only a buyer who paid for *this* listing (as the purchase
//! verifier reports, in the listing's asset) at least its price × the
//! configured number of units may rate it; one rating per buyer per listing,
//! revised in place and never counted twice.

use cosmwasm_std::{ensure, DepsMut, Env, MessageInfo, Response, Uint256};
use cw_utils::nonpayable;
use wevalue_common::purchase::query_paid_for_listing;

use crate::error::ContractError;
use crate::state::{load_listing, save_listing, Rating, CONFIG, RATINGS};
use crate::validate;

pub fn rate(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
    score: u8,
    review_cid: Option<String>,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let verifier = config
        .purchase_verifier
        .ok_or(ContractError::RatingsDisabled)?;
    ensure!(
        (1..=5).contains(&score),
        ContractError::InvalidScore { score }
    );
    if let Some(cid) = &review_cid {
        validate::cid(cid)?;
    }
    let mut listing = load_listing(deps.storage, deps.api, id)?;
    let buyer = info.sender;
    ensure!(buyer != listing.seller, ContractError::SelfRating);

    let corrupt = || ContractError::CorruptRecord { kind: "listing" };
    let revision = match RATINGS.may_load(deps.storage, (id, &buyer))? {
        Some(previous) => {
            // The buyer qualified when first rating, and payments are final:
            // a revision needs no new purchase (a seller raising its price
            // cannot stop a buyer from changing a rating).
            listing.rating_sum = listing
                .rating_sum
                .checked_sub(previous.score as u64)
                .and_then(|sum| sum.checked_add(score as u64))
                .ok_or_else(corrupt)?;
            true
        }
        None => {
            let paid = query_paid_for_listing(
                &deps.querier,
                &verifier,
                &buyer,
                &listing.seller,
                &env.contract.address,
                id,
                &listing.price.asset,
            )?;
            // Exact in 256 bits: a price near u128::MAX × units cannot wrap.
            let required = listing.price.amount.full_mul(config.min_rating_units);
            ensure!(
                !paid.is_zero() && Uint256::from(paid) >= required,
                ContractError::NotABuyer {
                    id,
                    buyer: buyer.to_string(),
                    paid,
                    required,
                    min_units: config.min_rating_units,
                }
            );
            listing.rating_count = listing.rating_count.checked_add(1).ok_or_else(corrupt)?;
            listing.rating_sum = listing
                .rating_sum
                .checked_add(score as u64)
                .ok_or_else(corrupt)?;
            false
        }
    };
    RATINGS.save(
        deps.storage,
        (id, &buyer),
        &Rating {
            score,
            review_cid,
            height: env.block.height,
        },
    )?;
    save_listing(deps.storage, id, &listing);
    Ok(Response::new()
        .add_attribute("action", "rate")
        .add_attribute("listing_id", id.to_string())
        .add_attribute("buyer", buyer)
        .add_attribute("score", score.to_string())
        .add_attribute("revision", revision.to_string()))
}
