//! Creating, updating, pausing, resuming and retiring listings.

use cosmwasm_std::{coin, HexBinary, SignedDecimal, Uint128};
use cw_utils::PaymentError;
use data_registry::msg::{DataTerms, ExecuteMsg, ListingUpdate, Price};
use data_registry::state::{ListingStatus, PricingModel};
use data_registry::ContractError;
use std::str::FromStr;
use wevalue_common::asset::{AssetError, AssetInfo, AssetInfoUnchecked};

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

type Mutation = Box<dyn Fn(&mut data_registry::msg::NewListing)>;

#[test]
fn invalid_fields_are_refused_with_typed_errors() {
    let mut suite = SuiteBuilder::new().build();
    let base = new_listing(1);
    let cases: Vec<(Mutation, ContractError)> = vec![
        (
            Box::new(|l| l.title = String::new()),
            ContractError::FieldLength {
                field: "title",
                min: 1,
                max: 100,
                actual: 0,
            },
        ),
        (
            Box::new(|l| l.title = "t".repeat(101)),
            ContractError::FieldLength {
                field: "title",
                min: 1,
                max: 100,
                actual: 101,
            },
        ),
        (
            Box::new(|l| l.description = "d".repeat(1_001)),
            ContractError::FieldLength {
                field: "description",
                min: 0,
                max: 1_000,
                actual: 1_001,
            },
        ),
        (
            Box::new(|l| l.category = "Air Quality".into()),
            ContractError::InvalidField {
                field: "category",
                value: "Air Quality".into(),
                reason: "only a-z, 0-9 and - are allowed",
            },
        ),
        (
            Box::new(|l| l.sensor_type = String::new()),
            ContractError::FieldLength {
                field: "sensor_type",
                min: 1,
                max: 64,
                actual: 0,
            },
        ),
        (
            Box::new(|l| l.unit = "kilowatt hours per day".into()),
            ContractError::FieldLength {
                field: "unit",
                min: 1,
                max: 16,
                actual: 22,
            },
        ),
        (
            Box::new(|l| l.location = loc("91", "0")),
            ContractError::InvalidCoordinates {
                reason: "latitude must be between -90 and 90",
            },
        ),
        (
            Box::new(|l| l.location = loc("0", "-180.0000001")),
            ContractError::InvalidCoordinates {
                reason: "longitude must be between -180 and 180",
            },
        ),
        (
            Box::new(|l| l.price = price(DENOM, 0)),
            ContractError::ZeroPrice,
        ),
        (
            Box::new(|l| l.price = price("u", 1)),
            ContractError::Asset(AssetError::InvalidDenom {
                denom: "u".into(),
                reason: "length must be 3 to 128 characters",
            }),
        ),
        (
            Box::new(|l| l.metadata_cid = "QmNotACid".into()),
            ContractError::InvalidCid {
                cid: "QmNotACid".into(),
                reason: "expected a CIDv0 (Qm…) or a CIDv1 in base32 (b…) or base58btc (z…)",
            },
        ),
        (
            Box::new(|l| l.endpoint = "https://sensors.example".into()),
            ContractError::InvalidEndpoint {
                endpoint: "https://sensors.example".into(),
                reason: "scheme must be ws:// or wss://",
            },
        ),
        (
            Box::new(|l| {
                l.terms = DataTerms {
                    license: "ODbL-1.0".into(),
                    terms_hash: HexBinary::from([1u8; 31]),
                }
            }),
            ContractError::InvalidField {
                field: "terms_hash",
                value: "01".repeat(31),
                reason: "must be a 32-byte sha256 digest",
            },
        ),
        (
            Box::new(|l| l.terms.license = "CC BY".into()),
            ContractError::InvalidField {
                field: "license",
                value: "CC BY".into(),
                reason: "only letters, digits and . - + _ are allowed",
            },
        ),
    ];
    let more: Vec<(Mutation, ContractError)> = vec![
        (
            // Used to panic (`split_at(1)` inside the 'é').
            Box::new(|l| l.metadata_cid = "éafybeig".into()),
            ContractError::InvalidCid {
                cid: "éafybeig".into(),
                reason: "expected a CIDv0 (Qm…) or a CIDv1 in base32 (b…) or base58btc (z…)",
            },
        ),
        (
            Box::new(|l| l.title = "Air quality \u{202E}gpj.exe".into()),
            ContractError::ForbiddenCharacter {
                field: "title",
                code_point: "U+202E".into(),
                position: 12,
            },
        ),
        (
            Box::new(|l| l.description = "ok\n\u{2066}hidden\u{2069}".into()),
            ContractError::ForbiddenCharacter {
                field: "description",
                code_point: "U+2066".into(),
                position: 3,
            },
        ),
        (
            Box::new(|l| l.unit = "kWh\u{200B}".into()),
            ContractError::ForbiddenCharacter {
                field: "unit",
                code_point: "U+200B".into(),
                position: 3,
            },
        ),
        (
            Box::new(|l| l.sensor_type = "pm2.5\u{1B}[31m".into()),
            ContractError::ForbiddenCharacter {
                field: "sensor_type",
                code_point: "U+001B".into(),
                position: 5,
            },
        ),
        (
            Box::new(|l| l.title = "Two\nlines".into()),
            ContractError::ForbiddenCharacter {
                field: "title",
                code_point: "U+000A".into(),
                position: 3,
            },
        ),
        (
            Box::new(|l| l.endpoint = "wss://sensors.example:+443/s".into()),
            ContractError::InvalidEndpoint {
                endpoint: "wss://sensors.example:+443/s".into(),
                reason: "port must be 1 to 65535 in decimal digits, without sign or leading zero",
            },
        ),
        (
            Box::new(|l| l.endpoint = "wss://999.1.1.1/s".into()),
            ContractError::InvalidEndpoint {
                endpoint: "wss://999.1.1.1/s".into(),
                reason: "invalid IPv4 address: four numbers 0 to 255",
            },
        ),
        (
            Box::new(|l| l.endpoint = "ws://localhost:9000/s".into()),
            ContractError::PrivateEndpoint {
                endpoint: "ws://localhost:9000/s".into(),
            },
        ),
        (
            Box::new(|l| l.endpoint = "ws://192.168.1.20/s".into()),
            ContractError::PrivateEndpoint {
                endpoint: "ws://192.168.1.20/s".into(),
            },
        ),
    ];
    for (i, (mutate, expected)) in cases.into_iter().chain(more).enumerate() {
        let mut listing = base.clone();
        mutate(&mut listing);
        assert_eq!(suite.create_err("seller", listing), expected, "case {i}");
    }
    assert_eq!(suite.config().listing_count, 0, "nothing was stored");
}

#[test]
fn private_endpoints_are_an_owner_allowance() {
    let local = "ws://127.0.0.1:9000/sdpp/air";
    let mut with_local = new_listing(1);
    with_local.endpoint = local.into();
    let private = ContractError::PrivateEndpoint {
        endpoint: local.into(),
    };

    // A local network (the devnet) is configured to allow them.
    let mut suite = SuiteBuilder::new().allow_private_endpoints().build();
    assert!(suite.config().allow_private_endpoints);
    let id = suite.create("seller", with_local.clone());
    assert_eq!(suite.listing(id).endpoint, local);

    // The default refuses them, in new listings and endpoint changes.
    let mut suite = SuiteBuilder::new().build();
    assert!(!suite.config().allow_private_endpoints);
    assert_eq!(suite.create_err("seller", with_local.clone()), private);
    let id = suite.create("seller", new_listing(1));
    let to_local = ListingUpdate {
        endpoint: Some(local.into()),
        ..Default::default()
    };
    assert_eq!(
        suite.update("seller", id, to_local.clone()).unwrap_err(),
        private
    );
    let allow = |allow| ExecuteMsg::SetAllowPrivateEndpoints { allow };
    assert!(matches!(
        suite.execute("seller", &allow(true), &[]).unwrap_err(),
        ContractError::Ownership(_)
    ));
    let owner = suite.owner.clone();
    let registry = suite.registry.clone();
    let res = suite
        .app
        .execute_contract(owner.clone(), registry.clone(), &allow(true), &[])
        .unwrap();
    let attr = res
        .events
        .iter()
        .flat_map(|e| &e.attributes)
        .find(|a| a.key == "allow_private_endpoints");
    assert_eq!(attr.unwrap().value, "true");
    suite.update("seller", id, to_local).unwrap();
    let local_id = suite.create("seller", with_local.clone());
    // Turned off again: stored endpoints stay, new ones are refused, and
    // other fields of a listing with a private endpoint still change.
    suite
        .app
        .execute_contract(owner, registry, &allow(false), &[])
        .unwrap();
    assert_eq!(suite.create_err("seller", with_local), private);
    assert_eq!(suite.listing(local_id).endpoint, local);
    suite
        .update(
            "seller",
            local_id,
            ListingUpdate {
                title: Some("Renamed".into()),
                ..Default::default()
            },
        )
        .unwrap();
    // Broken URLs stay broken with the allowance.
    let mut broken = new_listing(9);
    broken.endpoint = "ws://0.0.0.0:9000/".into();
    assert!(matches!(
        suite.create_err("seller", broken),
        ContractError::InvalidEndpoint { .. }
    ));
}

#[test]
fn cw20_prices_need_a_valid_lowercase_address() {
    let mut suite = SuiteBuilder::new().build();
    let token = suite.addr("token");
    let mut listing = new_listing(1);
    listing.price.asset = AssetInfoUnchecked::Cw20(token.as_str().to_uppercase());
    assert!(matches!(
        suite.create_err("seller", listing.clone()),
        ContractError::Asset(AssetError::InvalidCw20 { .. })
    ));
    listing.price.asset = AssetInfoUnchecked::Cw20("not-an-address".into());
    assert!(matches!(
        suite.create_err("seller", listing.clone()),
        ContractError::Asset(AssetError::InvalidCw20 { .. })
    ));
    listing.price.asset = AssetInfoUnchecked::Cw20(token.to_string());
    let id = suite.create("seller", listing);
    assert_eq!(suite.listing(id).price.asset, AssetInfo::Cw20(token));
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

use cw_multi_test::Executor;
