//! Pagination and the discovery indexes.

use cosmwasm_std::Uint128;
use data_registry::msg::{ListingsResponse, QueryMsg};
use data_registry::state::PricingModel;
use data_registry::ContractError;
use wevalue_common::asset::AssetInfoUnchecked;

use crate::suite::{loc, new_listing, price, Suite, SuiteBuilder, DENOM};

fn query_err(suite: &Suite, msg: QueryMsg) -> String {
    suite
        .query::<ListingsResponse>(&msg)
        .unwrap_err()
        .to_string()
}

#[test]
fn pages_default_to_10_and_cap_at_30() {
    let mut suite = SuiteBuilder::new().build();
    for n in 0..35 {
        suite.create(if n % 2 == 0 { "alice" } else { "bob" }, new_listing(n));
    }
    assert_eq!(
        Suite::ids(&suite.listings(None, None)),
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(suite.listings(None, Some(100)).len(), 30);
    assert_eq!(
        Suite::ids(&suite.listings(Some(30), Some(100))),
        (31..=35).collect::<Vec<_>>()
    );
    assert!(suite.listings(Some(35), None).is_empty());
    assert_eq!(suite.listings(None, Some(0)).len(), 1);
    assert_eq!(suite.by_category("air-quality", None, None).len(), 10);
    assert_eq!(suite.near("u0j2", None, Some(31)).len(), 30);
    let alice = suite.all_pages(|after| suite.by_seller("alice", after, Some(4)));
    assert_eq!(alice, (1..=35).step_by(2).collect::<Vec<_>>());
    assert_eq!(suite.by_seller("alice", Some(33), None), vec![35]);
    assert!(suite.by_seller("carol", None, None).is_empty());
}

#[test]
fn near_finds_listings_inside_a_cell() {
    let mut suite = SuiteBuilder::new().build();
    let turin = suite.create("s", new_listing(1));
    let mut berlin_listing = new_listing(2);
    berlin_listing.location = loc("52.52", "13.405");
    let berlin = suite.create("s", berlin_listing);
    let mut turin2 = new_listing(3);
    turin2.location = loc("45.0704", "7.6870");
    let turin_east = suite.create("s", turin2);
    assert_eq!(
        suite.near("u", None, None).len(),
        3,
        "both cities share the cell u"
    );
    assert_eq!(suite.near("u0j2quv", None, None), vec![turin, turin_east]);
    assert_eq!(suite.near("u0j2quv3t", None, None), vec![turin]);
    assert_eq!(suite.near("u33", None, None), vec![berlin]);
    assert!(suite.near("9q8", None, None).is_empty());
    assert_eq!(suite.near("u0j2quv", Some(turin), None), vec![turin_east]);
    assert!(query_err(
        &suite,
        QueryMsg::ListingsNear {
            cell: "u0a".into(),
            start_after: None,
            limit: None
        }
    )
    .contains("invalid geohash cell \"u0a\""));
    assert!(query_err(
        &suite,
        QueryMsg::ListingsNear {
            cell: "".into(),
            start_after: None,
            limit: None
        }
    )
    .contains("must be 1 to 9 characters"));
}

#[test]
fn category_pages_are_cheapest_first_within_asset_and_model() {
    let mut suite = SuiteBuilder::new().build();
    let mut ids = vec![];
    for (n, amount) in [(1, 500u128), (2, 20), (3, 300), (4, 20), (5, 1)] {
        let mut l = new_listing(n);
        l.price = price(DENOM, amount);
        ids.push(suite.create("s", l));
    }
    let mut other = new_listing(6);
    other.price = price("uother", 1);
    let other_id = suite.create("s", other);
    let mut per_second = new_listing(7);
    per_second.price.model = PricingModel::PerSecond;
    let per_second_id = suite.create("s", per_second);
    // Groups sort by asset key then model: native:ucity (m, s), native:uother.
    assert_eq!(
        suite.all_pages(|after| suite.by_category("air-quality", after, Some(2))),
        vec![5, 2, 4, 3, 1, per_second_id, other_id]
    );
    assert_eq!(
        suite.by_price("air-quality", DENOM, Some(20), Some(300), None),
        vec![2, 4, 3]
    );
    assert_eq!(
        suite.by_price("air-quality", DENOM, Some(20), Some(300), Some(2)),
        vec![4, 3]
    );
    assert_eq!(
        suite.by_price("air-quality", DENOM, None, Some(19), None),
        vec![5]
    );
    assert_eq!(
        suite.by_price("air-quality", DENOM, Some(501), None, None),
        Vec::<u64>::new()
    );
    assert_eq!(
        suite.by_price("air-quality", "uother", None, None, None),
        vec![other_id]
    );
    assert!(suite.by_price("energy", DENOM, None, None, None).is_empty());
    let bad_range = QueryMsg::ListingsByPrice {
        category: "air-quality".into(),
        asset: AssetInfoUnchecked::Native(DENOM.into()),
        model: PricingModel::PerMessage,
        min_price: Some(Uint128::new(10)),
        max_price: Some(Uint128::new(9)),
        start_after: None,
        limit: None,
    };
    assert!(query_err(&suite, bad_range).contains(
        &ContractError::InvalidPriceRange {
            min: "10".into(),
            max: "9".into()
        }
        .to_string()
    ));
    assert!(query_err(
        &suite,
        QueryMsg::ListingsByCategory {
            category: "Bad".into(),
            start_after: None,
            limit: None
        }
    )
    .contains("category \"Bad\" is invalid"));
}

#[test]
fn a_cursor_from_another_place_never_leaves_the_asked_range() {
    let mut suite = SuiteBuilder::new().build();
    let turin = suite.create("s", new_listing(1));
    let mut b = new_listing(2);
    b.location = loc("52.52", "13.405");
    let berlin = suite.create("s", b);
    // Berlin's key sorts after every Turin key: the page is empty, not Berlin.
    assert!(suite.near("u0j", Some(berlin), None).is_empty());
    // A cursor sorting before the cell starts at the cell's beginning.
    assert_eq!(suite.near("u33", Some(turin), None), vec![berlin]);
    assert!(query_err(
        &suite,
        QueryMsg::ListingsNear {
            cell: "u".into(),
            start_after: Some(77),
            limit: None
        }
    )
    .contains("listing 77 not found"));
}

#[test]
fn missing_listing_and_bad_seller_are_errors() {
    let suite = SuiteBuilder::new().build();
    assert!(suite
        .query::<data_registry::msg::ListingInfo>(&QueryMsg::Listing { id: 1 })
        .unwrap_err()
        .to_string()
        .contains("listing 1 not found"));
    assert!(query_err(
        &suite,
        QueryMsg::ListingsBySeller {
            seller: "Not-An-Address".into(),
            start_after: None,
            limit: None
        }
    )
    .contains("Error decoding bech32"));
}
