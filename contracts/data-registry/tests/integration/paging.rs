//! Paging while listings move: random reprices and relocations between the
//! pages of the category and place indexes, checked against the index order
//! itself (the cursor carries the index key, so nothing that stays put is
//! skipped or repeated).

use data_registry::msg::{ListingInfo, ListingUpdate};
use proptest::prelude::*;

use crate::proptests::PLACES;
use crate::suite::{loc, new_listing, price, Suite, SuiteBuilder, DENOM};

/// A change made between two pages: a new price or a new place.
#[derive(Debug, Clone)]
enum Move {
    Reprice { listing: usize, price: u128 },
    Relocate { listing: usize, place: usize },
}

fn moves() -> impl Strategy<Value = Vec<Move>> {
    prop::collection::vec(
        prop_oneof![
            (0..12usize, 1..8u128).prop_map(|(listing, p)| Move::Reprice {
                listing,
                price: p * 10
            }),
            (0..12usize, 0..4usize).prop_map(|(listing, place)| Move::Relocate { listing, place }),
        ],
        0..3,
    )
}

/// Walks an index page by page, applying `moves[k]` after page k, and
/// checks the walk against the index order itself: every listing whose key
/// never changed during the walk is returned exactly once, the keys (as each
/// page showed them) strictly increase over the whole walk, and a listing
/// that moved is returned at most once more than the number of its moves.
fn walk(
    suite: &mut Suite,
    limit: u32,
    moves: &[Vec<Move>],
    page: impl Fn(&Suite, Option<&ListingInfo>) -> Vec<ListingInfo>,
    key: impl Fn(&ListingInfo) -> (String, u128, u64),
    count: usize,
) {
    let mut seen: Vec<ListingInfo> = vec![];
    let mut moved = vec![0usize; count];
    let mut pages = 0;
    loop {
        // Each page advances: a walk never takes more pages than results.
        assert!(
            pages <= count * 4 + 2,
            "paging does not end: {:?}",
            Suite::ids(&seen)
        );
        let listings = page(suite, seen.last());
        assert!(listings.len() <= limit as usize);
        if listings.is_empty() {
            break;
        }
        seen.extend(listings);
        for m in moves.get(pages).into_iter().flatten() {
            let (listing, update) = match *m {
                Move::Reprice { listing, price: p } => (
                    listing % count,
                    ListingUpdate {
                        price: Some(price(DENOM, p)),
                        ..Default::default()
                    },
                ),
                Move::Relocate { listing, place } => (
                    listing % count,
                    ListingUpdate {
                        location: Some(loc(PLACES[place].0, PLACES[place].1)),
                        ..Default::default()
                    },
                ),
            };
            let before = key(&suite.listing(listing as u64 + 1));
            suite.update("alice", listing as u64 + 1, update).unwrap();
            if key(&suite.listing(listing as u64 + 1)) != before {
                moved[listing] += 1;
            }
        }
        pages += 1;
    }
    let keys: Vec<_> = seen.iter().map(&key).collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "keys must strictly increase over the walk: {keys:?}"
    );
    for (i, &moves) in moved.iter().enumerate() {
        let times = seen.iter().filter(|l| l.id == i as u64 + 1).count();
        if moves == 0 {
            assert_eq!(times, 1, "listing {} never moved", i + 1);
        } else {
            assert!(
                times <= moves + 1,
                "listing {} moved {moves} times, seen {times}",
                i + 1
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn pages_see_every_listing_that_stays_put_exactly_once(
        listings in prop::collection::vec((1..8u128, 0..4usize), 1..12),
        limit in 1..5u32,
        moves in prop::collection::vec(moves(), 0..8),
    ) {
        let build = || {
            let mut suite = SuiteBuilder::new().build();
            for (n, (p, place)) in listings.iter().enumerate() {
                let mut l = new_listing(n as u32);
                l.price = price(DENOM, p * 10);
                l.location = loc(PLACES[*place].0, PLACES[*place].1);
                suite.create("alice", l);
            }
            suite
        };
        let count = listings.len();
        // The category index: (price, id) within the one category.
        let mut suite = build();
        walk(
            &mut suite,
            limit,
            &moves,
            |s, after| s.category_page("air-quality", after.map(ListingInfo::category_cursor), Some(limit)),
            |l| (String::new(), l.price.amount.u128(), l.id),
            count,
        );
        // The place index: (geohash, id) inside the cell `u` (all places).
        let mut suite = build();
        walk(
            &mut suite,
            limit,
            &moves,
            |s, after| s.near_page("u", after.map(ListingInfo::place_cursor), Some(limit)),
            |l| (l.location.geohash.clone(), 0, l.id),
            count,
        );
    }
}
