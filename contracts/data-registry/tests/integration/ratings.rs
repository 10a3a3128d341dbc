//! Ratings from buyers of the listing only: paid for that listing, in its
//! asset, at least its price × `min_rating_units`; revised, never doubled.

use cosmwasm_std::{Decimal, Uint128, Uint256};
use cw_multi_test::Executor;
use data_registry::msg::{ExecuteMsg, ListingUpdate};
use data_registry::ContractError;

use crate::mocks::total_paid_only_contract;
use crate::suite::{err, new_listing, price, Suite, SuiteBuilder, DENOM};

const REVIEW: &str = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG";

/// A registry whose first ratings need 10 units paid; listing 1 costs 100
/// ucity per message, so 1,000 ucity.
fn rated_suite() -> (Suite, u64) {
    let mut suite = SuiteBuilder::new()
        .with_verifier()
        .with_min_rating_units(10)
        .build();
    let id = suite.create("seller", new_listing(1));
    (suite, id)
}

fn not_a_buyer(suite: &Suite, id: u64, buyer: &str, paid: u128, required: u128) -> ContractError {
    ContractError::NotABuyer {
        id,
        buyer: suite.addr(buyer).to_string(),
        paid: Uint128::new(paid),
        required: Uint256::from(required),
        min_units: 10,
    }
}

#[test]
fn ratings_need_a_verifier() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.create("seller", new_listing(1));
    assert_eq!(
        suite.rate("buyer", id, 5, None).unwrap_err(),
        ContractError::RatingsDisabled
    );
}

#[test]
fn a_token_payment_to_the_seller_buys_no_rating() {
    let (mut suite, id) = rated_suite();
    // The attack: 1 micro-unit paid to the seller from a second address,
    // then a 5 for the listing. `total_paid` even reports a fortune paid to
    // the seller on other channels: only payments for this listing count.
    suite.set_paid("sybil", "seller", DENOM, 1_000_000_000);
    suite.set_paid_for("sybil", "seller", id, DENOM, 1);
    assert_eq!(
        suite.rate("sybil", id, 5, None).unwrap_err(),
        not_a_buyer(&suite, id, "sybil", 1, 1_000)
    );
    suite.set_paid_for("sybil", "seller", id, DENOM, 999);
    assert_eq!(
        suite.rate("sybil", id, 5, None).unwrap_err(),
        not_a_buyer(&suite, id, "sybil", 999, 1_000)
    );
    suite.set_paid_for("sybil", "seller", id, DENOM, 1_000);
    suite.rate("sybil", id, 5, None).unwrap();
    assert_eq!(suite.rating_summary(id).count, 1);
}

#[test]
fn a_purchase_vouches_only_for_its_own_listing() {
    let (mut suite, id) = rated_suite();
    let other = suite.create("seller", new_listing(2));
    let rival = suite.create("rival", new_listing(3));
    // A competitor bought one stream of the seller: it may rate that one
    // only, and none of the seller's other listings nor a third party's.
    suite.set_paid_for("competitor", "seller", id, DENOM, 5_000);
    suite.rate("competitor", id, 1, None).unwrap();
    assert_eq!(
        suite.rate("competitor", other, 1, None).unwrap_err(),
        not_a_buyer(&suite, other, "competitor", 0, 1_000)
    );
    assert_eq!(
        suite.rate("competitor", rival, 1, None).unwrap_err(),
        not_a_buyer(&suite, rival, "competitor", 0, 1_000)
    );
    // Paid for listing `other`, but to someone else than its seller.
    suite.set_paid_for("competitor", "rival", other, DENOM, 5_000);
    assert!(matches!(
        suite.rate("competitor", other, 1, None).unwrap_err(),
        ContractError::NotABuyer { .. }
    ));
    // Paid for a listing with the same id in another registry.
    let elsewhere = suite.addr("another-registry").to_string();
    suite.set_paid_for_in("competitor", "seller", &elsewhere, other, DENOM, 5_000);
    assert!(matches!(
        suite.rate("competitor", other, 1, None).unwrap_err(),
        ContractError::NotABuyer { .. }
    ));
}

#[test]
fn payments_count_in_the_listings_own_asset_at_its_current_price() {
    let (mut suite, id) = rated_suite();
    // Paid plenty, but in another asset.
    suite.set_paid_for("buyer", "seller", id, "uother", 1_000_000);
    assert_eq!(
        suite.rate("buyer", id, 4, None).unwrap_err(),
        not_a_buyer(&suite, id, "buyer", 0, 1_000)
    );
    suite.set_paid_for("buyer", "seller", id, DENOM, 1_000);
    // The seller raises the price tenfold before the buyer rates.
    let update = ListingUpdate {
        price: Some(price(DENOM, 1_000)),
        ..Default::default()
    };
    suite.update("seller", id, update).unwrap();
    assert_eq!(
        suite.rate("buyer", id, 4, None).unwrap_err(),
        not_a_buyer(&suite, id, "buyer", 1_000, 10_000)
    );
    // A price near u128::MAX × 10 units is compared exactly, in 256 bits.
    let update = ListingUpdate {
        price: Some(price(DENOM, u128::MAX)),
        ..Default::default()
    };
    suite.update("seller", id, update).unwrap();
    suite.set_paid_for("buyer", "seller", id, DENOM, u128::MAX);
    let e = suite.rate("buyer", id, 4, None).unwrap_err();
    assert_eq!(
        e,
        ContractError::NotABuyer {
            id,
            buyer: suite.addr("buyer").to_string(),
            paid: Uint128::MAX,
            required: Uint256::from(u128::MAX) * Uint256::from(10u8),
            min_units: 10,
        }
    );
}

#[test]
fn a_buyer_revises_a_rating_and_is_counted_once() {
    let (mut suite, id) = rated_suite();
    suite.set_paid_for("buyer", "seller", id, DENOM, 1_000);
    assert_eq!(
        suite.rate("seller", id, 5, None).unwrap_err(),
        ContractError::SelfRating
    );
    assert_eq!(
        suite.rate("buyer", id, 0, None).unwrap_err(),
        ContractError::InvalidScore { score: 0 }
    );
    assert_eq!(
        suite.rate("buyer", id, 6, None).unwrap_err(),
        ContractError::InvalidScore { score: 6 }
    );
    assert!(matches!(
        suite.rate("buyer", id, 3, Some("nope")).unwrap_err(),
        ContractError::InvalidCid { .. }
    ));
    assert_eq!(
        suite.rate("buyer", 9, 3, None).unwrap_err(),
        ContractError::ListingNotFound { id: 9 }
    );

    let res = suite.rate("buyer", id, 4, Some(REVIEW)).unwrap();
    let revision = res
        .events
        .iter()
        .flat_map(|e| &e.attributes)
        .find(|a| a.key == "revision");
    assert_eq!(revision.unwrap().value, "false");
    let r = suite.rating(id, "buyer").unwrap();
    assert_eq!((r.score, r.review_cid.as_deref()), (4, Some(REVIEW)));
    let s = suite.rating_summary(id);
    assert_eq!(
        (s.count, s.sum, s.average),
        (1, 4, Some(Decimal::percent(400)))
    );

    // Revisions replace the score, whatever the price does meanwhile: a
    // seller who raises the price cannot lock in a good rating.
    let update = ListingUpdate {
        price: Some(price(DENOM, 1_000_000)),
        ..Default::default()
    };
    suite.update("seller", id, update).unwrap();
    for score in [2, 1, 1, 5, 2] {
        suite.next_block();
        suite.rate("buyer", id, score, None).unwrap();
    }
    let s = suite.rating_summary(id);
    assert_eq!((s.count, s.sum), (1, 2));
    let r = suite.rating(id, "buyer").unwrap();
    assert_eq!(
        (r.score, r.review_cid, r.height),
        (2, None, suite.app.block_info().height)
    );

    suite.set_paid_for("buyer2", "seller", id, DENOM, 10_000_000);
    suite.rate("buyer2", id, 5, None).unwrap();
    let s = suite.rating_summary(id);
    assert_eq!(
        (s.count, s.sum, s.average),
        (2, 7, Some(Decimal::percent(350)))
    );
    let l = suite.listing(id);
    assert_eq!((l.rating_count, l.rating_sum), (2, 7));
}

#[test]
fn the_owner_sets_the_threshold_for_new_ratings_only() {
    let (mut suite, id) = rated_suite();
    suite.set_paid_for("early", "seller", id, DENOM, 1_000);
    suite.rate("early", id, 5, None).unwrap();
    let owner = suite.owner.clone();
    let mallory = suite.addr("mallory");
    let registry = suite.registry.clone();
    let mut run = |msg: &ExecuteMsg, sender: &cosmwasm_std::Addr| {
        suite
            .app
            .execute_contract(sender.clone(), registry.clone(), msg, &[])
            .map_err(err)
    };
    assert!(matches!(
        run(&ExecuteMsg::SetMinRatingUnits { units: 1 }, &mallory).unwrap_err(),
        ContractError::Ownership(_)
    ));
    assert_eq!(
        run(&ExecuteMsg::SetMinRatingUnits { units: 0 }, &owner).unwrap_err(),
        ContractError::ZeroRatingUnits
    );
    run(&ExecuteMsg::SetMinRatingUnits { units: 50 }, &owner).unwrap();
    assert_eq!(suite.config().min_rating_units, 50);
    suite.set_paid_for("late", "seller", id, DENOM, 1_000);
    assert!(matches!(
        suite.rate("late", id, 5, None).unwrap_err(),
        ContractError::NotABuyer { min_units: 50, .. }
    ));
    // The earlier rating stands and can still be revised.
    suite.rate("early", id, 3, None).unwrap();
    assert_eq!(suite.rating_summary(id).sum, 3);
}

#[test]
fn ratings_are_paginated_by_buyer() {
    let (mut suite, id) = rated_suite();
    let names: Vec<String> = (0..12).map(|i| format!("buyer{i}")).collect();
    for name in &names {
        suite.set_paid_for(name, "seller", id, DENOM, 1_000);
        suite.rate(name, id, 3, None).unwrap();
    }
    let first = suite.ratings(id, None, None).ratings;
    assert_eq!(first.len(), 10);
    let last = first.last().unwrap().buyer.to_string();
    let rest = suite.ratings(id, Some(last), None).ratings;
    assert_eq!(rest.len(), 2);
    let mut all: Vec<String> = first
        .iter()
        .chain(&rest)
        .map(|r| r.buyer.to_string())
        .collect();
    let mut expected: Vec<String> = names.iter().map(|n| suite.addr(n).to_string()).collect();
    expected.sort();
    all.sort();
    assert_eq!(all, expected);
    assert_eq!(suite.rating_summary(id).count, 12);
    assert!(suite
        .rating(id, "nobody")
        .unwrap_err()
        .to_string()
        .contains("has no rating by"));
    assert_eq!(
        suite.rating_summary(id).average,
        Some(Decimal::percent(300))
    );
}

#[test]
fn retired_listings_keep_their_ratings() {
    let (mut suite, id) = rated_suite();
    suite.set_paid_for("buyer", "seller", id, DENOM, 1_000);
    suite.rate("buyer", id, 5, None).unwrap();
    suite.retire("seller", id).unwrap();
    assert_eq!(suite.rating_summary(id).count, 1);
    // Buyers may still rate what they bought.
    suite.rate("buyer", id, 4, None).unwrap();
    assert_eq!(suite.rating_summary(id).sum, 4);
}

#[test]
fn a_verifier_without_paid_for_listing_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    let code = suite.app.store_code(total_paid_only_contract());
    let old = suite
        .app
        .instantiate_contract(
            code,
            suite.owner.clone(),
            &cosmwasm_std::Empty {},
            &[],
            "old",
            None,
        )
        .unwrap();
    let owner = suite.owner.clone();
    let registry = suite.registry.clone();
    let e = suite
        .app
        .execute_contract(
            owner,
            registry,
            &ExecuteMsg::SetPurchaseVerifier {
                address: Some(old.to_string()),
            },
            &[],
        )
        .map_err(err)
        .unwrap_err();
    assert!(
        matches!(
            e,
            ContractError::InterfaceProbeFailed {
                interface: "paid_for_listing",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(suite.config().purchase_verifier, None);
}
