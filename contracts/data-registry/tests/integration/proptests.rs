//! Random sequences of create / update / pause / resume / retire / deposit
//! changes, valid and invalid, checked against a model after every step:
//! the registry holds exactly the deposits of unretired listings, and every
//! index (seller, category/price, place) agrees with the primary store.

use cosmwasm_std::{coin, Coin};
use cw_multi_test::Executor;
use data_registry::msg::{ExecuteMsg, ListingUpdate};
use data_registry::state::ListingStatus;
use proptest::prelude::*;

use crate::suite::{loc, new_listing, price, Suite, SuiteBuilder, DENOM};

const SELLERS: [&str; 3] = ["alice", "bob", "carol"];
const CATEGORIES: [&str; 3] = ["air-quality", "energy", "mobility"];
/// (latitude, longitude, geohash): Turin, a point 10 m east of it, Berlin, Paris.
const PLACES: [(&str, &str, &str); 4] = [
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
    },
    Update {
        listing: usize,
        by_seller: bool,
        category: Option<usize>,
        place: Option<usize>,
        price: Option<u128>,
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
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (0..3usize, 0..3usize, 0..4usize, 0..4u128, prop::bool::weighted(0.9))
            .prop_map(|(seller, category, place, price, pay)| Action::Create { seller, category, place, price: price * 10, pay }),
        2 => (0..12usize, prop::bool::weighted(0.85), prop::option::of(0..3usize), prop::option::of(0..4usize), prop::option::of(0..4u128))
            .prop_map(|(listing, by_seller, category, place, price)| Action::Update { listing, by_seller, category, place, price: price.map(|p| p * 10) }),
        1 => (0..12usize, prop::bool::weighted(0.85)).prop_map(|(listing, by_seller)| Action::Pause { listing, by_seller }),
        1 => (0..12usize).prop_map(|listing| Action::Resume { listing }),
        1 => (0..12usize, prop::bool::weighted(0.85)).prop_map(|(listing, by_seller)| Action::Retire { listing, by_seller }),
        1 => prop::option::of(1..2_000u128).prop_map(|amount| Action::SetDeposit { amount }),
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
            } => {
                let mut l = new_listing(self.listings.len() as u32);
                l.category = CATEGORIES[category].into();
                l.location = loc(PLACES[place].0, PLACES[place].1);
                l.price = price(DENOM, p);
                let funds: Vec<Coin> = match (self.deposit, pay) {
                    (Some(d), true) => vec![coin(d, DENOM)],
                    (Some(d), false) => vec![coin(d + 1, DENOM)],
                    (None, true) => vec![],
                    (None, false) => vec![coin(1, DENOM)],
                };
                let res = self.suite.create_with(SELLERS[seller], l, &funds);
                let valid = pay && p > 0;
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
                    ..Default::default()
                };
                let res = self.suite.update(sender, id, update);
                let valid = by_seller
                    && m.status != ListingStatus::Retired
                    && (category.is_some() || place.is_some() || p.is_some())
                    && p != Some(0);
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
                let valid = m.status == ListingStatus::Paused;
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
        }
        self.suite.next_block();
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
            let got = s.all_pages(|after| s.by_seller(seller, after, Some(3)));
            assert_eq!(
                got,
                self.expected(|m| m.seller == seller_idx),
                "seller {seller}"
            );
        }
        for (c, category) in CATEGORIES.iter().enumerate() {
            let got = s.all_pages(|after| s.by_category(category, after, Some(3)));
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
            let got = s.all_pages(|after| s.near(place.2, after, Some(2)));
            assert_eq!(
                got,
                self.expected(|m| active(m) && m.place == p),
                "place {}",
                place.2
            );
        }
        // The two Turin points share a 7-character cell; pages sort by
        // geohash, then id.
        let got = s.all_pages(|after| s.near("u0j2quv", after, Some(2)));
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
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn indexes_and_deposits_stay_consistent(
        start_deposit in prop::option::of(1..2_000u128),
        actions in prop::collection::vec(action(), 1..30),
    ) {
        let mut builder = SuiteBuilder::new().with_funded(&SELLERS);
        if let Some(d) = start_deposit {
            builder = builder.with_deposit(d);
        }
        let mut world = World { suite: builder.build(), listings: vec![], deposit: start_deposit };
        for action in &actions {
            world.apply(action);
            world.check_invariants();
        }
    }
}
