//! Ratings from real buyers only.

use cosmwasm_std::Decimal;
use data_registry::ContractError;

use crate::suite::{new_listing, SuiteBuilder, DENOM};

const REVIEW: &str = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG";

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
fn only_paying_buyers_rate_once_each() {
    let mut suite = SuiteBuilder::new().with_verifier().build();
    let id = suite.create("seller", new_listing(1));
    let buyer = suite.addr("buyer");
    let seller = suite.addr("seller");
    assert_eq!(
        suite.rate("buyer", id, 4, None).unwrap_err(),
        ContractError::NotABuyer {
            buyer: buyer.to_string(),
            seller: seller.to_string()
        }
    );
    // Paid in another asset: not a buyer of this listing.
    suite.set_paid("buyer", "seller", "uother", 50);
    assert!(matches!(
        suite.rate("buyer", id, 4, None).unwrap_err(),
        ContractError::NotABuyer { .. }
    ));
    suite.set_paid("buyer", "seller", DENOM, 50);
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

    suite.rate("buyer", id, 4, Some(REVIEW)).unwrap();
    let r = suite.rating(id, "buyer").unwrap();
    assert_eq!((r.score, r.review_cid.as_deref()), (4, Some(REVIEW)));
    let s = suite.rating_summary(id);
    assert_eq!(
        (s.count, s.sum, s.average),
        (1, 4, Some(Decimal::percent(400)))
    );

    // Rating again replaces the score without adding a rating.
    suite.next_block();
    suite.rate("buyer", id, 2, None).unwrap();
    let s = suite.rating_summary(id);
    assert_eq!((s.count, s.sum), (1, 2));
    assert_eq!(suite.rating(id, "buyer").unwrap().review_cid, None);

    suite.set_paid("buyer2", "seller", DENOM, 1);
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
fn ratings_are_paginated_by_buyer() {
    let mut suite = SuiteBuilder::new().with_verifier().build();
    let id = suite.create("seller", new_listing(1));
    let names: Vec<String> = (0..12).map(|i| format!("buyer{i}")).collect();
    for name in &names {
        suite.set_paid(name, "seller", DENOM, 10);
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
    let mut suite = SuiteBuilder::new().with_verifier().build();
    let id = suite.create("seller", new_listing(1));
    suite.set_paid("buyer", "seller", DENOM, 1);
    suite.rate("buyer", id, 5, None).unwrap();
    suite.retire("seller", id).unwrap();
    assert_eq!(suite.rating_summary(id).count, 1);
    // Buyers may still rate what they bought.
    suite.rate("buyer", id, 4, None).unwrap();
    assert_eq!(suite.rating_summary(id).sum, 4);
}
