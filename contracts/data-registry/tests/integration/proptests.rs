//! Random sequences of create / update / pause / resume / retire / deposit
//! changes, curation removals and suspensions, purchases and ratings,
//! endpoint allowance changes, valid and invalid, checked against a model
//! after every step. The model alone decides whether an action must succeed
//! (never the contract's answer); after each step the registry holds exactly
//! the deposits of unretired listings, every index (seller, category/price,
//! place) agrees with the primary store, and each listing's rating count and
//! sum are those of the distinct buyers the model let rate it. Paging while
//! listings move is in `paging.rs`.

use std::collections::BTreeMap;

use cosmwasm_std::{coin, Coin};
use cw_multi_test::Executor;
use data_registry::msg::{ExecuteMsg, ListingInfo, ListingUpdate};
use data_registry::state::ListingStatus;
use proptest::prelude::*;

use crate::suite::{loc, new_listing, price, Suite, SuiteBuilder, DENOM};

const SELLERS: [&str; 3] = ["alice", "bob", "carol"];
/// Who rates: the three sellers (rating each other) and two plain buyers.
const RATERS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];
/// (endpoint, public): a public host, then non-public ones.
const ENDPOINTS: [(&str, bool); 4] = [
    ("wss://sensors.turin.example/air", true),
    ("ws://127.0.0.1:9000/sdpp", false),
    ("ws://10.1.2.3/sdpp", false),
    ("wss://meter.local/sdpp", false),
];
const CATEGORIES: [&str; 3] = ["air-quality", "energy", "mobility"];
/// (latitude, longitude, geohash): Turin, a point 10 m east of it, Berlin, Paris.
pub(crate) const PLACES: [(&str, &str, &str); 4] = [
    ("45.0703", "7.6869", "u0j2quv3t"),
    ("45.0704", "7.6870", "u0j2quvd0"),
    ("52.52", "13.405", "u33dc0cpp"),
    ("48.8566", "2.3522", "u09tvw0f6"),
];

#[derive(Debug, Clone)]
enum Action {
    Create {
        seller: usize,
        category: usize,
        place: usize,
        price: u128,
        pay: bool,
        endpoint: usize,
    },
    Update {
        listing: usize,
        by_seller: bool,
        category: Option<usize>,
        place: Option<usize>,
        price: Option<u128>,
        endpoint: Option<usize>,
    },
    Pause {
        listing: usize,
        by_seller: bool,
    },
    Resume {
        listing: usize,
    },
    Retire {
        listing: usize,
        by_seller: bool,
    },
    SetDeposit {
        amount: Option<u128>,
    },
    SetListed {
        seller: usize,
        listed: bool,
    },
    Suspend {
        listing: usize,
    },
    /// The verifier now reports `amount` paid by `rater` for `listing`.
    Pay {
        rater: usize,
        listing: usize,
        amount: u128,
        other_asset: bool,
    },
    Rate {
        rater: usize,
        listing: usize,
        score: u8,
    },
    SetMinUnits {
        units: u64,
    },
    AllowPrivate {
        allow: bool,
    },
}

/// Mostly public endpoints, sometimes a private one.
fn endpoint_choice() -> impl Strategy<Value = usize> {
    prop_oneof![4 => Just(0usize), 1 => 1..4usize]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (0..3usize, 0..3usize, 0..4usize, 0..4u128, prop::bool::weighted(0.9), endpoint_choice())
            .prop_map(|(seller, category, place, price, pay, endpoint)| Action::Create { seller, category, place, price: price * 10, pay, endpoint }),
        2 => (0..12usize, prop::bool::weighted(0.85), prop::option::of(0..3usize), prop::option::of(0..4usize), prop::option::of(0..4u128), prop::option::weighted(0.2, endpoint_choice()))
            .prop_map(|(listing, by_seller, category, place, price, endpoint)| Action::Update { listing, by_seller, category, place, price: price.map(|p| p * 10), endpoint }),
        1 => (0..12usize, prop::bool::weighted(0.85)).prop_map(|(listing, by_seller)| Action::Pause { listing, by_seller }),
        1 => (0..12usize).prop_map(|listing| Action::Resume { listing }),
        1 => (0..12usize, prop::bool::weighted(0.85)).prop_map(|(listing, by_seller)| Action::Retire { listing, by_seller }),
        1 => prop::option::of(1..2_000u128).prop_map(|amount| Action::SetDeposit { amount }),
        1 => (0..3usize, prop::bool::weighted(0.6)).prop_map(|(seller, listed)| Action::SetListed { seller, listed }),
        1 => (0..12usize).prop_map(|listing| Action::Suspend { listing }),
        2 => (0..5usize, 0..12usize, prop_oneof![Just(0u128), 1..200u128, 100..2_000u128], prop::bool::weighted(0.15))
            .prop_map(|(rater, listing, amount, other_asset)| Action::Pay { rater, listing, amount, other_asset }),
        3 => (0..5usize, 0..12usize, 0..=6u8).prop_map(|(rater, listing, score)| Action::Rate { rater, listing, score }),
        1 => (0..=12u64).prop_map(|units| Action::SetMinUnits { units }),
        1 => prop::bool::ANY.prop_map(|allow| Action::AllowPrivate { allow }),
    ]
}

#[derive(Debug, Clone)]
struct Model {
    seller: usize,
    category: usize,
    place: usize,
    price: u128,
    status: ListingStatus,
    deposit: u128,
}

struct World {
    suite: Suite,
    listings: Vec<Model>,
    deposit: Option<u128>,
    /// Sellers the curation registry lists.
    listed: [bool; 3],
    /// What the verifier reports paid for a listing in the listing's asset,
    /// by (rater, listing index).
    paid: BTreeMap<(usize, usize), u128>,
    /// Scores given, by (listing index, rater).
    ratings: BTreeMap<(usize, usize), u8>,
    min_units: u64,
    allow_private: bool,
}

impl World {
    fn apply(&mut self, action: &Action) {
        match *action {
            Action::Create {
                seller,
                category,
                place,
                price: p,
                pay,
                endpoint,
            } => {
                let mut l = new_listing(self.listings.len() as u32);
                l.category = CATEGORIES[category].into();
                l.location = loc(PLACES[place].0, PLACES[place].1);
                l.price = price(DENOM, p);
                l.endpoint = ENDPOINTS[endpoint].0.into();
                let funds: Vec<Coin> = match (self.deposit, pay) {
                    (Some(d), true) => vec![coin(d, DENOM)],
                    (Some(d), false) => vec![coin(d + 1, DENOM)],
                    (None, true) => vec![],
                    (None, false) => vec![coin(1, DENOM)],
                };
                let res = self.suite.create_with(SELLERS[seller], l, &funds);
                let valid = pay && p > 0 && self.listed[seller] && self.endpoint_ok(endpoint);
                assert_eq!(res.is_ok(), valid, "{action:?}: {res:?}");
                if let Ok(id) = res {
                    assert_eq!(id as usize, self.listings.len() + 1);
                    self.listings.push(Model {
                        seller,
                        category,
                        place,
                        price: p,
                        status: ListingStatus::Active,
                        deposit: self.deposit.unwrap_or(0),
                    });
                }
            }
            Action::Update {
                listing,
                by_seller,
                category,
                place,
                price: p,
                endpoint,
            } => {
                let Some((id, m)) = self.pick(listing) else {
                    return;
                };
                let sender = if by_seller {
                    SELLERS[m.seller]
                } else {
                    "mallory"
                };
                let update = ListingUpdate {
                    category: category.map(|c| CATEGORIES[c].to_string()),
                    location: place.map(|pl| loc(PLACES[pl].0, PLACES[pl].1)),
                    price: p.map(|p| price(DENOM, p)),
                    endpoint: endpoint.map(|e| ENDPOINTS[e].0.to_string()),
                    ..Default::default()
                };
                let res = self.suite.update(sender, id, update);
                let valid = by_seller
                    && m.status != ListingStatus::Retired
                    && (category.is_some() || place.is_some() || p.is_some() || endpoint.is_some())
                    && self.listed[m.seller]
                    && p != Some(0)
                    && endpoint.is_none_or(|e| self.endpoint_ok(e));
                assert_eq!(res.is_ok(), valid, "{action:?}: {res:?}");
                if valid {
                    let m = self.model_mut(listing);
                    m.category = category.unwrap_or(m.category);
                    m.place = place.unwrap_or(m.place);
                    m.price = p.unwrap_or(m.price);
                }
            }
            Action::Pause { listing, by_seller } => {
                let Some((id, m)) = self.pick(listing) else {
                    return;
                };
                let sender = if by_seller {
                    SELLERS[m.seller]
                } else {
                    "mallory"
                };
                let res = self.suite.pause(sender, id);
                let valid = by_seller && m.status == ListingStatus::Active;
                assert_eq!(res.is_ok(), valid, "{action:?}: {res:?}");
                if valid {
                    self.model_mut(listing).status = ListingStatus::Paused;
                }
            }
            Action::Resume { listing } => {
                let Some((id, m)) = self.pick(listing) else {
                    return;
                };
                let res = self.suite.resume(SELLERS[m.seller], id);
                let valid = m.status == ListingStatus::Paused && self.listed[m.seller];
                assert_eq!(res.is_ok(), valid, "{action:?}: {res:?}");
                if valid {
                    self.model_mut(listing).status = ListingStatus::Active;
                }
            }
            Action::Retire { listing, by_seller } => {
                let Some((id, m)) = self.pick(listing) else {
                    return;
                };
                let sender = if by_seller {
                    SELLERS[m.seller]
                } else {
                    "mallory"
                };
                let res = self.suite.retire(sender, id);
                let valid = by_seller && m.status != ListingStatus::Retired;
                assert_eq!(res.is_ok(), valid, "{action:?}: {res:?}");
                if valid {
                    self.model_mut(listing).status = ListingStatus::Retired;
                }
            }
            Action::SetDeposit { amount } => {
                let owner = self.suite.owner.clone();
                let registry = self.suite.registry.clone();
                self.suite
                    .app
                    .execute_contract(
                        owner,
                        registry,
                        &ExecuteMsg::SetListingDeposit {
                            deposit: amount.map(|a| coin(a, DENOM)),
                        },
                        &[],
                    )
                    .unwrap();
                self.deposit = amount;
            }
            Action::SetListed { seller, listed } => {
                self.suite.set_listed(SELLERS[seller], listed);
                self.listed[seller] = listed;
            }
            Action::Suspend { listing } => {
                let Some((id, m)) = self.pick(listing) else {
                    return;
                };
                let res = self
                    .suite
                    .execute("watcher", &ExecuteMsg::SuspendUncurated { id }, &[]);
                let valid = m.status == ListingStatus::Active && !self.listed[m.seller];
                assert_eq!(res.is_ok(), valid, "{action:?}: {res:?}");
                if valid {
                    self.model_mut(listing).status = ListingStatus::Paused;
                }
            }
            Action::Pay {
                rater,
                listing,
                amount,
                other_asset,
            } => {
                let Some((id, m)) = self.pick(listing) else {
                    return;
                };
                let denom = if other_asset { "uother" } else { DENOM };
                self.suite
                    .set_paid_for(RATERS[rater], SELLERS[m.seller], id, denom, amount);
                if !other_asset {
                    self.paid.insert((rater, self.index(listing)), amount);
                }
            }
            Action::Rate {
                rater,
                listing,
                score,
            } => {
                let Some((id, m)) = self.pick(listing) else {
                    return;
                };
                let i = self.index(listing);
                let res = self.suite.rate(RATERS[rater], id, score, None);
                let paid = self.paid.get(&(rater, i)).copied().unwrap_or(0);
                let first_ok = paid > 0 && paid >= m.price * self.min_units as u128;
                let valid = RATERS[rater] != SELLERS[m.seller]
                    && (1..=5).contains(&score)
                    && (self.ratings.contains_key(&(i, rater)) || first_ok);
                assert_eq!(res.is_ok(), valid, "{action:?} paid {paid}: {res:?}");
                if valid {
                    self.ratings.insert((i, rater), score);
                }
            }
            Action::SetMinUnits { units } => {
                let res = self.owner_exec(&ExecuteMsg::SetMinRatingUnits { units });
                assert_eq!(res.is_ok(), units >= 1, "{action:?}: {res:?}");
                if units >= 1 {
                    self.min_units = units;
                }
            }
            Action::AllowPrivate { allow } => {
                self.owner_exec(&ExecuteMsg::SetAllowPrivateEndpoints { allow })
                    .unwrap();
                self.allow_private = allow;
            }
        }
        self.suite.next_block();
    }

    fn endpoint_ok(&self, endpoint: usize) -> bool {
        ENDPOINTS[endpoint].1 || self.allow_private
    }

    fn owner_exec(&mut self, msg: &ExecuteMsg) -> anyhow::Result<cw_multi_test::AppResponse> {
        let owner = self.suite.owner.clone();
        let registry = self.suite.registry.clone();
        self.suite.app.execute_contract(owner, registry, msg, &[])
    }

    fn index(&self, n: usize) -> usize {
        n % self.listings.len()
    }

    fn pick(&self, n: usize) -> Option<(u64, Model)> {
        if self.listings.is_empty() {
            return None;
        }
        let i = n % self.listings.len();
        Some((i as u64 + 1, self.listings[i].clone()))
    }

    fn model_mut(&mut self, n: usize) -> &mut Model {
        let len = self.listings.len();
        &mut self.listings[n % len]
    }

    fn expected(&self, keep: impl Fn(&Model) -> bool) -> Vec<u64> {
        self.listings
            .iter()
            .enumerate()
            .filter(|(_, m)| keep(m))
            .map(|(i, _)| i as u64 + 1)
            .collect()
    }

    fn check_invariants(&self) {
        let s = &self.suite;
        // Deposits are conserved: held == owed back to unretired listings.
        let owed: u128 = self
            .listings
            .iter()
            .filter(|m| m.status != ListingStatus::Retired)
            .map(|m| m.deposit)
            .sum();
        assert_eq!(
            s.registry_balance(),
            owed,
            "registry balance vs deposits owed"
        );

        // Primary store agrees with the model.
        for (i, m) in self.listings.iter().enumerate() {
            let l = s.listing(i as u64 + 1);
            assert_eq!(l.status, m.status);
            assert_eq!(l.category, CATEGORIES[m.category]);
            assert_eq!(l.location.geohash, PLACES[m.place].2);
            assert_eq!(l.price.amount.u128(), m.price);
        }
        let active = |m: &Model| m.status == ListingStatus::Active;
        for (seller_idx, seller) in SELLERS.iter().enumerate() {
            let got = s.all_pages(|after| s.seller_page(seller, after.map(|l| l.id), Some(3)));
            assert_eq!(
                got,
                self.expected(|m| m.seller == seller_idx),
                "seller {seller}"
            );
        }
        for (c, category) in CATEGORIES.iter().enumerate() {
            let got = s.all_pages(|after| {
                s.category_page(category, after.map(ListingInfo::category_cursor), Some(3))
            });
            let mut want: Vec<(u128, u64)> = self
                .listings
                .iter()
                .enumerate()
                .filter(|(_, m)| active(m) && m.category == c)
                .map(|(i, m)| (m.price, i as u64 + 1))
                .collect();
            want.sort();
            let want: Vec<u64> = want.into_iter().map(|(_, id)| id).collect();
            assert_eq!(got, want, "category {category}");
        }
        for (p, place) in PLACES.iter().enumerate() {
            let got = s.all_pages(|after| {
                s.near_page(place.2, after.map(ListingInfo::place_cursor), Some(2))
            });
            assert_eq!(
                got,
                self.expected(|m| active(m) && m.place == p),
                "place {}",
                place.2
            );
        }
        // The two Turin points share a 7-character cell; pages sort by
        // geohash, then id.
        let got = s.all_pages(|after| {
            s.near_page("u0j2quv", after.map(ListingInfo::place_cursor), Some(2))
        });
        let mut want: Vec<(&str, u64)> = self
            .listings
            .iter()
            .enumerate()
            .filter(|(_, m)| active(m) && m.place <= 1)
            .map(|(i, m)| (PLACES[m.place].2, i as u64 + 1))
            .collect();
        want.sort();
        assert_eq!(got, want.into_iter().map(|(_, id)| id).collect::<Vec<_>>());
        assert_eq!(s.config().listing_count, self.listings.len() as u64);

        // Ratings: one per (listing, rater) the model accepted, with the
        // last score given.
        for i in 0..self.listings.len() {
            let scores: Vec<u8> = self
                .ratings
                .iter()
                .filter(|((l, _), _)| *l == i)
                .map(|(_, &score)| score)
                .collect();
            let summary = s.rating_summary(i as u64 + 1);
            assert_eq!(
                (summary.count, summary.sum),
                (
                    scores.len() as u32,
                    scores.iter().map(|&x| x as u64).sum::<u64>()
                ),
                "ratings of listing {}",
                i + 1
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn indexes_deposits_and_ratings_stay_consistent(
        start_deposit in prop::option::of(1..2_000u128),
        min_units in 1..=10u64,
        actions in prop::collection::vec(action(), 1..40),
    ) {
        let mut builder = SuiteBuilder::new()
            .with_funded(&SELLERS)
            .with_curation()
            .with_verifier()
            .with_min_rating_units(min_units);
        if let Some(d) = start_deposit {
            builder = builder.with_deposit(d);
        }
        let mut suite = builder.build();
        for seller in SELLERS {
            suite.set_listed(seller, true);
        }
        let mut world = World {
            suite,
            listings: vec![],
            deposit: start_deposit,
            listed: [true; 3],
            paid: BTreeMap::new(),
            ratings: BTreeMap::new(),
            min_units,
            allow_private: false,
        };
        for action in &actions {
            world.apply(action);
            world.check_invariants();
        }
    }
}
