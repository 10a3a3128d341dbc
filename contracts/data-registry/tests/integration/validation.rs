//! Every malformed field gets its typed error through the contract (text,
//! CIDs, endpoints, coordinates, prices, terms), and endpoints on private
//! hosts are an owner allowance.

use cosmwasm_std::HexBinary;
use cw_multi_test::Executor;
use data_registry::msg::{DataTerms, ExecuteMsg, ListingUpdate};
use data_registry::ContractError;
use wevalue_common::asset::{AssetError, AssetInfo, AssetInfoUnchecked};

use crate::suite::{loc, new_listing, price, SuiteBuilder, DENOM};

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
