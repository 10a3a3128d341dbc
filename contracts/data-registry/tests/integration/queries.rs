//! Pagination and the discovery indexes.

use cosmwasm_std::Uint128;
use data_registry::msg::{
    CategoryCursor, ListingInfo, ListingUpdate, ListingsResponse, PlaceCursor, QueryMsg,
};
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
    let alice = suite.all_pages(|after| suite.seller_page("alice", after.map(|l| l.id), Some(4)));
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
        suite.all_pages(|after| suite.category_page(
            "air-quality",
            after.map(ListingInfo::category_cursor),
            Some(2)
        )),
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
    // A cursor names a place in the index, not a listing: it need not exist.
    let nowhere = PlaceCursor {
        geohash: "u0j2quv3s".into(),
        id: 77,
    };
    assert_eq!(
        Suite::ids(&suite.near_page("u0j", Some(nowhere), None)),
        vec![turin]
    );
    for (geohash, error) in [
        (
            "u0j",
            "a place cursor carries a listing's 9-character geohash",
        ),
        ("u0j2quv3a", "invalid geohash cell \"u0j2quv3a\""),
    ] {
        let e = query_err(
            &suite,
            QueryMsg::ListingsNear {
                cell: "u".into(),
                start_after: Some(PlaceCursor {
                    geohash: geohash.into(),
                    id: 1,
                }),
                limit: None,
            },
        );
        assert!(e.contains(error), "{e}");
    }
    let e = query_err(
        &suite,
        QueryMsg::ListingsByCategory {
            category: "air-quality".into(),
            start_after: Some(CategoryCursor {
                asset: AssetInfoUnchecked::Native("u".into()),
                model: PricingModel::PerMessage,
                price: Uint128::new(1),
                id: 1,
            }),
            limit: None,
        },
    );
    assert!(e.contains("invalid native denom \"u\""), "{e}");
}

/// Six listings priced 10, 20, …, 60 (ids 1 to 6) in `air-quality`.
fn six_priced() -> Suite {
    let mut suite = SuiteBuilder::new().build();
    for n in 1..=6u32 {
        let mut l = new_listing(n);
        l.price = price(DENOM, n as u128 * 10);
        suite.create("s", l);
    }
    suite
}

fn reprice(suite: &mut Suite, id: u64, amount: u128) {
    let update = ListingUpdate {
        price: Some(price(DENOM, amount)),
        ..Default::default()
    };
    suite.update("s", id, update).unwrap();
}

/// Ids of every page after `first`, each page following the previous one.
fn rest_of_category(suite: &Suite, first: &[ListingInfo]) -> Vec<u64> {
    let mut seen = Suite::ids(first);
    let mut cursor = first.last().map(ListingInfo::category_cursor);
    for _ in 0..100 {
        let page = suite.category_page("air-quality", cursor, Some(3));
        if page.is_empty() {
            return seen;
        }
        seen.extend(Suite::ids(&page));
        cursor = page.last().map(ListingInfo::category_cursor);
    }
    panic!("paging did not end");
}

#[test]
fn repricing_the_cursor_listing_down_repeats_nothing() {
    let mut suite = six_priced();
    let first = suite.category_page("air-quality", None, Some(3));
    assert_eq!(Suite::ids(&first), vec![1, 2, 3]);
    // Listing 3 (the cursor) drops from 30 to 5, before everything seen.
    // A cursor rebuilt from the listing's new price would start the next
    // page after (5, #3) and show 1 and 2 again.
    reprice(&mut suite, 3, 5);
    assert_eq!(rest_of_category(&suite, &first), vec![1, 2, 3, 4, 5, 6]);
}

#[test]
fn repricing_the_cursor_listing_up_skips_nothing() {
    let mut suite = six_priced();
    let first = suite.category_page("air-quality", None, Some(3));
    // Listing 3 jumps from 30 to 1,000, after everything unseen. A cursor
    // rebuilt from the new price would skip 4, 5 and 6; this one continues
    // after (30, #3), and shows listing 3 again at its new place.
    reprice(&mut suite, 3, 1_000);
    assert_eq!(rest_of_category(&suite, &first), vec![1, 2, 3, 4, 5, 6, 3]);
}

#[test]
fn listings_repriced_between_pages_shift_no_other_listing() {
    let mut suite = six_priced();
    let first = suite.category_page("air-quality", None, Some(3));
    // Seen listings move up among the unseen, unseen ones move down among
    // the seen: each moved listing shows up where it is now (1 again, 5 not
    // at all), every listing that stayed shows up exactly once.
    reprice(&mut suite, 1, 45);
    reprice(&mut suite, 5, 15);
    reprice(&mut suite, 2, 25);
    assert_eq!(rest_of_category(&suite, &first), vec![1, 2, 3, 4, 1, 6]);
}

#[test]
fn price_and_place_pages_follow_their_cursor_too() {
    let mut suite = six_priced();
    let first = suite.price_page("air-quality", DENOM, (Some(20), None), None, Some(2));
    assert_eq!(Suite::ids(&first), vec![2, 3]);
    reprice(&mut suite, 3, 12);
    let cursor = first.last().map(ListingInfo::price_cursor);
    let rest = suite.price_page("air-quality", DENOM, (Some(20), None), cursor, None);
    assert_eq!(Suite::ids(&rest), vec![4, 5, 6]);

    // Listings 1..=6 sit in Turin; 7 and 8 in Berlin share the cell u.
    for n in 7..=8 {
        let mut l = new_listing(n);
        l.location = loc("52.52", &format!("13.40{n}"));
        suite.create("s", l);
    }
    let first = suite.near_page("u", None, Some(4));
    assert_eq!(Suite::ids(&first), vec![1, 2, 3, 4]);
    // The cursor listing moves to Berlin, after every Turin listing.
    let update = ListingUpdate {
        location: Some(loc("52.52", "13.409")),
        ..Default::default()
    };
    suite.update("s", 4, update).unwrap();
    let cursor = first.last().map(ListingInfo::place_cursor);
    // Then the Berlin listings in (geohash, id) order, 4 among them.
    let mut berlin: Vec<(String, u64)> = [4, 7, 8]
        .into_iter()
        .map(|id| (suite.listing(id).location.geohash, id))
        .collect();
    berlin.sort();
    let mut want = vec![5, 6];
    want.extend(berlin.into_iter().map(|(_, id)| id));
    assert_eq!(Suite::ids(&suite.near_page("u", cursor, None)), want);
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
