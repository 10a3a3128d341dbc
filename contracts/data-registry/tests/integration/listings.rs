//! Creating, updating, pausing, resuming and retiring listings.

use cosmwasm_std::{coin, HexBinary, SignedDecimal, Uint128};
use cw_multi_test::Executor;
use cw_utils::PaymentError;
use data_registry::msg::{ListingUpdate, Price};
use data_registry::state::{ListingStatus, PricingModel};
use data_registry::ContractError;
use std::str::FromStr;
use wevalue_common::asset::AssetInfo;

use crate::suite::{loc, new_listing, price, SuiteBuilder, DENOM, FEE_DENOM};

#[test]
fn create_stores_every_field_and_indexes_it() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.create("seller", new_listing(1));
    assert_eq!(id, 1);
    let l = suite.listing(1);
    assert_eq!(l.seller, suite.addr("seller"));
    assert_eq!(l.title, "Air quality sensor 1");
    assert_eq!(l.category, "air-quality");
    assert_eq!(l.unit, "µg/m³");
    assert_eq!(
        l.location.latitude,
        SignedDecimal::from_str("45.0703").unwrap()
    );
    assert_eq!(
        l.location.longitude,
        SignedDecimal::from_str("7.6869").unwrap()
    );
    assert_eq!(l.location.geohash, "u0j2quv3t");
    assert_eq!(
        l.price,
        Price {
            asset: AssetInfo::Native(DENOM.into()),
            amount: Uint128::new(100),
            model: PricingModel::PerMessage
        }
    );
    assert_eq!(l.terms.terms_hash, HexBinary::from([7u8; 32]));
    assert_eq!(l.status, ListingStatus::Active);
    assert_eq!(l.deposit, None);
    assert_eq!(l.created_height, suite.app.block_info().height);
    assert_eq!(l.updated_height, l.created_height);
    assert_eq!((l.rating_count, l.rating_sum), (0, 0));
    assert_eq!(suite.config().listing_count, 1);
    assert_eq!(suite.by_seller("seller", None, None), vec![1]);
    assert_eq!(suite.by_category("air-quality", None, None), vec![1]);
    assert_eq!(suite.near("u0j2", None, None), vec![1]);
    assert_eq!(suite.create("seller", new_listing(2)), 2);
}

#[test]
fn create_event_starts_with_action() {
    let mut suite = SuiteBuilder::new().build();
    let res = suite
        .execute(
            "seller",
            &data_registry::msg::ExecuteMsg::CreateListing(new_listing(1)),
            &[],
        )
        .unwrap();
    let wasm = res.events.iter().find(|e| e.ty == "wasm").unwrap();
    // multi-test puts _contract_address first, as wasmd does.
    assert_eq!(wasm.attributes[1].key, "action");
    assert_eq!(wasm.attributes[1].value, "create_listing");
    assert_eq!(wasm.attributes[2].value, "1");
}

#[test]
fn deposit_must_be_exact() {
    let mut suite = SuiteBuilder::new()
        .with_deposit(1_000)
        .with_funded(&["seller"])
        .build();
    assert_eq!(
        suite
            .create_with("seller", new_listing(1), &[])
            .unwrap_err(),
        ContractError::Payment(PaymentError::NoFunds {})
    );
    assert_eq!(
        suite
            .create_with("seller", new_listing(1), &[coin(999, DENOM)])
            .unwrap_err(),
        ContractError::WrongDeposit {
            expected: coin(1_000, DENOM),
            received: "999ucity".into()
        }
    );
    assert_eq!(
        suite
            .create_with(
                "seller",
                new_listing(1),
                &[coin(1_000, DENOM), coin(1, FEE_DENOM)]
            )
            .unwrap_err(),
        ContractError::Payment(PaymentError::MultipleDenoms {})
    );
    assert_eq!(
        suite
            .create_with("seller", new_listing(1), &[coin(1_000, FEE_DENOM)])
            .unwrap_err(),
        ContractError::Payment(PaymentError::MissingDenom(DENOM.into()))
    );
    let id = suite
        .create_with("seller", new_listing(1), &[coin(1_000, DENOM)])
        .unwrap();
    assert_eq!(suite.listing(id).deposit, Some(coin(1_000, DENOM)));
    assert_eq!(suite.registry_balance(), 1_000);
}

#[test]
fn free_registry_refuses_funds_everywhere() {
    let mut suite = SuiteBuilder::new().with_funded(&["seller"]).build();
    let nonpayable = ContractError::Payment(PaymentError::NonPayable {});
    assert_eq!(
        suite
            .create_with("seller", new_listing(1), &[coin(1, DENOM)])
            .unwrap_err(),
        nonpayable
    );
    let id = suite.create("seller", new_listing(1));
    for msg in [
        data_registry::msg::ExecuteMsg::PauseListing { id },
        data_registry::msg::ExecuteMsg::RetireListing { id },
        data_registry::msg::ExecuteMsg::UpdateListing {
            id,
            update: ListingUpdate {
                title: Some("x".into()),
                ..Default::default()
            },
        },
        data_registry::msg::ExecuteMsg::Rate {
            id,
            score: 5,
            review_cid: None,
        },
    ] {
        assert_eq!(
            suite
                .execute("seller", &msg, &[coin(1, DENOM)])
                .unwrap_err(),
            nonpayable,
            "{msg:?}"
        );
    }
}

#[test]
fn update_is_partial_and_seller_only() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.create("seller", new_listing(1));
    suite.next_block();
    assert_eq!(
        suite
            .update(
                "mallory",
                id,
                ListingUpdate {
                    title: Some("mine".into()),
                    ..Default::default()
                }
            )
            .unwrap_err(),
        ContractError::NotSeller { id }
    );
    assert_eq!(
        suite
            .update("seller", id, ListingUpdate::default())
            .unwrap_err(),
        ContractError::EmptyUpdate
    );
    assert_eq!(
        suite
            .update(
                "seller",
                99,
                ListingUpdate {
                    title: Some("x".into()),
                    ..Default::default()
                }
            )
            .unwrap_err(),
        ContractError::ListingNotFound { id: 99 }
    );
    let before = suite.listing(id);
    let res = suite
        .update(
            "seller",
            id,
            ListingUpdate {
                title: Some("Renamed".into()),
                endpoint: Some("wss://new.example/air".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let after = suite.listing(id);
    assert_eq!(after.title, "Renamed");
    assert_eq!(after.endpoint, "wss://new.example/air");
    assert_eq!(after.description, before.description);
    assert_eq!(after.price, before.price);
    assert_eq!(after.created_height, before.created_height);
    assert_eq!(after.updated_height, before.created_height + 1);
    let reindexed = res
        .events
        .iter()
        .flat_map(|e| &e.attributes)
        .find(|a| a.key == "reindexed");
    assert_eq!(reindexed.unwrap().value, "false");
    // An invalid field leaves the listing untouched.
    assert_eq!(
        suite
            .update(
                "seller",
                id,
                ListingUpdate {
                    title: Some("ok".into()),
                    metadata_cid: Some("bad".into()),
                    ..Default::default()
                }
            )
            .unwrap_err(),
        ContractError::InvalidCid {
            cid: "bad".into(),
            reason: "not multibase base32 (lower case)"
        }
    );
    assert_eq!(suite.listing(id).title, "Renamed");
}

#[test]
fn update_moves_the_listing_between_indexes() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.create("seller", new_listing(1));
    suite
        .update(
            "seller",
            id,
            ListingUpdate {
                category: Some("energy".into()),
                location: Some(loc("52.52", "13.405")),
                price: Some(price(DENOM, 7)),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(suite.by_category("air-quality", None, None).is_empty());
    assert!(suite.near("u0j", None, None).is_empty());
    assert_eq!(suite.by_category("energy", None, None), vec![id]);
    assert_eq!(suite.near("u33d", None, None), vec![id]);
    assert_eq!(
        suite.by_price("energy", DENOM, Some(7), Some(7), None),
        vec![id]
    );
    assert!(suite
        .by_price("energy", DENOM, Some(100), None, None)
        .is_empty());
    assert_eq!(suite.listing(id).location.geohash, "u33dc0cpp");
}

#[test]
fn pause_resume_retire_lifecycle() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.create("seller", new_listing(1));
    assert_eq!(
        suite.pause("mallory", id).unwrap_err(),
        ContractError::NotSeller { id }
    );
    suite.pause("seller", id).unwrap();
    suite.assert_status(id, ListingStatus::Paused);
    assert!(suite.near("u0j", None, None).is_empty());
    assert!(suite.by_category("air-quality", None, None).is_empty());
    assert_eq!(
        suite.by_seller("seller", None, None),
        vec![id],
        "sellers still see it"
    );
    assert_eq!(
        suite.pause("seller", id).unwrap_err(),
        ContractError::AlreadyInStatus {
            id,
            status: "paused".into()
        }
    );
    // Updating a paused listing does not make it searchable.
    suite
        .update(
            "seller",
            id,
            ListingUpdate {
                category: Some("energy".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(suite.by_category("energy", None, None).is_empty());
    suite.resume("seller", id).unwrap();
    suite.assert_status(id, ListingStatus::Active);
    assert_eq!(suite.by_category("energy", None, None), vec![id]);
    assert_eq!(
        suite.resume("seller", id).unwrap_err(),
        ContractError::AlreadyInStatus {
            id,
            status: "active".into()
        }
    );
    suite.retire("seller", id).unwrap();
    suite.assert_status(id, ListingStatus::Retired);
    assert!(suite.by_category("energy", None, None).is_empty());
    for e in [
        suite.retire("seller", id).unwrap_err(),
        suite.pause("seller", id).unwrap_err(),
        suite.resume("seller", id).unwrap_err(),
        suite
            .update(
                "seller",
                id,
                ListingUpdate {
                    title: Some("x".into()),
                    ..Default::default()
                },
            )
            .unwrap_err(),
    ] {
        assert_eq!(e, ContractError::ListingRetired { id });
    }
}

#[test]
fn retire_refunds_the_deposit_the_listing_paid() {
    let mut suite = SuiteBuilder::new()
        .with_deposit(1_000)
        .with_funded(&["seller"])
        .build();
    let seller = suite.addr("seller");
    let first = suite
        .create_with("seller", new_listing(1), &[coin(1_000, DENOM)])
        .unwrap();
    // The owner raises the deposit: the first listing keeps its terms.
    let owner = suite.owner.clone();
    suite
        .app
        .execute_contract(
            owner,
            suite.registry.clone(),
            &data_registry::msg::ExecuteMsg::SetListingDeposit {
                deposit: Some(coin(5_000, DENOM)),
            },
            &[],
        )
        .map_err(crate::suite::err)
        .unwrap();
    let second = suite
        .create_with("seller", new_listing(2), &[coin(5_000, DENOM)])
        .unwrap();
    assert_eq!(suite.registry_balance(), 6_000);
    let before = suite.balance(&seller, DENOM);
    let res = suite.retire("seller", first).unwrap();
    let refund = res
        .events
        .iter()
        .flat_map(|e| &e.attributes)
        .find(|a| a.key == "refund");
    assert_eq!(refund.unwrap().value, "1000ucity");
    assert_eq!(suite.balance(&seller, DENOM), before + 1_000);
    assert_eq!(suite.registry_balance(), 5_000);
    suite.retire("seller", second).unwrap();
    assert_eq!(suite.balance(&seller, DENOM), before + 6_000);
    assert_eq!(suite.registry_balance(), 0);
}
