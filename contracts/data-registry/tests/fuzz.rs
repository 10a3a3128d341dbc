//! Fuzzing with proptest: the validators get arbitrary strings (any Unicode,
//! and strings built near what they accept) and the listing decoder gets
//! arbitrary and mutated bytes. Nothing may panic; everything accepted must
//! satisfy what the validator promises; a decoded record re-encodes to the
//! very bytes it came from.

use cosmwasm_std::testing::MockApi;
use cosmwasm_std::{Addr, Api, Coin, SignedDecimal, Uint128};
use data_registry::codec::{decode, encode};
use data_registry::msg::Price;
use data_registry::state::{Hash32, Listing, ListingStatus, PricingModel};
use data_registry::validate::{self, Cid, CidText};
use data_registry::ContractError;
use proptest::prelude::*;
use wevalue_common::asset::AssetInfo;

/// Any string: arbitrary Unicode scalars, short and long.
fn any_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(any::<char>(), 0..300).prop_map(|v| v.into_iter().collect()),
        // Arbitrary bytes made UTF-8 (invalid sequences become U+FFFD).
        prop::collection::vec(any::<u8>(), 0..300)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// Strings close to an endpoint: a scheme, then a mix of URL-ish pieces.
fn endpoint_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("a".to_string()),
        Just("example".to_string()),
        Just(".".to_string()),
        Just(":".to_string()),
        Just("/".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("@".to_string()),
        Just("?".to_string()),
        Just("#".to_string()),
        Just("-".to_string()),
        Just("+".to_string()),
        Just("%".to_string()),
        Just("\\".to_string()),
        Just("localhost".to_string()),
        Just("local".to_string()),
        Just("::".to_string()),
        Just("ffff".to_string()),
        (0..=999u32).prop_map(|n| n.to_string()),
        (0..=99_999u32).prop_map(|n| format!(":{n}")),
        any::<char>().prop_map(|c| c.to_string()),
    ];
    (
        prop_oneof![Just("ws://"), Just("wss://"), Just("http://"), Just("")],
        prop::collection::vec(piece, 0..24),
    )
        .prop_map(|(scheme, pieces)| format!("{scheme}{}", pieces.concat()))
}

/// Strings close to a CID: a multibase prefix and alphabet characters.
fn cid_like() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just("Qm"),
            Just("b"),
            Just("z"),
            Just("B"),
            Just("é"),
            Just("")
        ],
        prop::collection::vec(
            prop_oneof![
                prop::sample::select(
                    b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz234567".to_vec()
                )
                .prop_map(char::from),
                any::<char>(),
            ],
            0..140,
        ),
    )
        .prop_map(|(prefix, body)| format!("{prefix}{}", body.into_iter().collect::<String>()))
}

fn is_forbidden(c: char, newlines: bool) -> bool {
    (c.is_control() && !(newlines && c == '\n')) || validate::is_invisible_or_directional(c)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn text_validators_never_panic_and_keep_their_promises(s in any_string()) {
        let chars = s.chars().count();
        match validate::text("description", &s, 0, validate::DESCRIPTION_MAX) {
            Ok(()) => {
                prop_assert!(chars <= validate::DESCRIPTION_MAX);
                prop_assert!(!s.chars().any(|c| is_forbidden(c, true)));
            }
            Err(ContractError::FieldLength { actual, .. }) => prop_assert_eq!(actual, chars),
            Err(ContractError::ForbiddenCharacter { code_point, position, .. }) => {
                // It names the first forbidden character, where it is.
                let (at, c) = s.chars().enumerate().find(|&(_, c)| is_forbidden(c, true)).unwrap();
                prop_assert_eq!(position, at);
                prop_assert_eq!(code_point, format!("U+{:04X}", c as u32));
            }
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
        for result in [
            validate::line("title", &s, 1, validate::TITLE_MAX),
            validate::label("unit", &s, validate::UNIT_MAX),
        ] {
            if result.is_ok() {
                prop_assert!((1..=validate::TITLE_MAX).contains(&chars));
                prop_assert!(!s.chars().any(|c| is_forbidden(c, false)));
                prop_assert_eq!(s.trim(), s.as_str());
            }
        }
        if validate::slug("category", &s).is_ok() {
            prop_assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            prop_assert!(!s.starts_with('-') && !s.ends_with('-') && !s.contains("--"));
        }
        if validate::license(&s).is_ok() {
            prop_assert!(s.is_ascii() && !s.is_empty() && s.len() <= validate::LICENSE_MAX);
        }
        if validate::cell(&s).is_ok() {
            prop_assert!((1..=9).contains(&s.len()) && s.is_ascii());
        }
    }

    #[test]
    fn cid_never_panics_and_round_trips(s in prop_oneof![any_string(), cid_like()]) {
        match validate::cid(&s) {
            Ok(cid) => {
                prop_assert_eq!(cid.to_text(), s.clone());
                prop_assert!(cid.bytes.len() <= validate::CID_MAX);
            }
            Err(ContractError::InvalidCid { cid, .. }) => prop_assert_eq!(cid, s),
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    #[test]
    fn endpoint_never_panics_and_accepts_only_websocket_urls(
        s in prop_oneof![any_string(), endpoint_like()],
        allow in any::<bool>(),
    ) {
        match validate::endpoint(&s, allow) {
            Ok(()) => {
                prop_assert!(s.starts_with("ws://") || s.starts_with("wss://"));
                prop_assert!(s.len() <= validate::ENDPOINT_MAX);
                prop_assert!(s.bytes().all(|b| b > b' ' && b < 0x7f));
                prop_assert!(!s.contains('#') && !s.contains('\\'));
                // The same URL is refused as private only for want of the
                // allowance: a private host passes when allowed.
                if !allow {
                    prop_assert_eq!(validate::endpoint(&s, true), Ok(()));
                }
            }
            Err(ContractError::PrivateEndpoint { endpoint }) => {
                prop_assert!(!allow);
                prop_assert_eq!(&endpoint, &s);
                prop_assert_eq!(validate::endpoint(&s, true), Ok(()));
            }
            Err(ContractError::InvalidEndpoint { endpoint, .. }) => {
                prop_assert_eq!(&endpoint, &s);
                // Broken is broken, allowance or not.
                prop_assert!(validate::endpoint(&s, !allow).is_err());
            }
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    #[test]
    fn coordinates_never_panic(atomics in any::<i128>()) {
        let value = SignedDecimal::new(atomics.into());
        if let Ok(lat) = validate::latitude_e7(value) {
            prop_assert!(lat.unsigned_abs() <= 900_000_000);
        }
        if let Ok(lon) = validate::longitude_e7(value) {
            prop_assert!(lon.unsigned_abs() <= 1_800_000_000);
        }
    }

    #[test]
    fn geohash_is_total(lat in any::<i32>(), lon in any::<i32>()) {
        let hash = validate::geohash(lat, lon);
        prop_assert_eq!(hash.len(), validate::GEOHASH_PRECISION);
        prop_assert_eq!(validate::cell(&hash), Ok(()));
    }
}

// ------------------------------------------------------------------ codec

fn listing() -> impl Strategy<Value = Listing> {
    let text = || any_string();
    let cid = prop_oneof![
        Just("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"),
        Just("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"),
        Just("zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA"),
    ]
    .prop_map(|c| validate::cid(c).unwrap());
    let strings = (
        text(),
        text(),
        text(),
        text(),
        text(),
        text(),
        text(),
        text(),
    );
    let numbers = (
        -900_000_000..=900_000_000i32,
        -1_800_000_000..=1_800_000_000i32,
        any::<u128>(),
        0..3u8,
        0..3u8,
        prop::option::of((text(), any::<u128>())),
        (any::<u64>(), any::<u64>(), any::<u32>(), any::<u64>()),
    );
    (
        prop::collection::vec(any::<u8>(), 20..=32),
        strings,
        numbers,
        cid,
        any::<[u8; 32]>(),
        any::<bool>(),
    )
        .prop_map(|(raw, s, n, metadata_cid, hash, cw20)| {
            let api = MockApi::default();
            let seller_raw = raw.into();
            let seller = api.addr_humanize(&seller_raw).unwrap();
            let (lat_e7, lon_e7, amount, model, status, deposit, heights) = n;
            Listing {
                seller,
                seller_raw,
                title: s.0,
                description: s.1,
                category: s.2,
                sensor_type: s.3,
                unit: s.4,
                lat_e7,
                lon_e7,
                geohash: validate::geohash(lat_e7, lon_e7),
                price: Price {
                    asset: if cw20 {
                        AssetInfo::Cw20(Addr::unchecked(s.5))
                    } else {
                        AssetInfo::Native(s.5)
                    },
                    amount: Uint128::new(amount),
                    model: [
                        PricingModel::PerMessage,
                        PricingModel::PerSecond,
                        PricingModel::PerKilobyte,
                    ][model as usize],
                },
                metadata_cid,
                endpoint: s.6,
                license: s.7,
                terms_hash: Hash32(hash),
                status: [
                    ListingStatus::Active,
                    ListingStatus::Paused,
                    ListingStatus::Retired,
                ][status as usize],
                deposit: deposit.map(|(denom, amount)| Coin::new(amount, denom)),
                created_height: heights.0,
                updated_height: heights.1,
                rating_count: heights.2,
                rating_sum: heights.3,
            }
        })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Set { at: usize, byte: u8 },
    Insert { at: usize, byte: u8 },
    Remove { at: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0..8u8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Remove { at }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn mutate(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len().max(1);
    match *m {
        Mutation::Flip { at, bit } if !bytes.is_empty() => bytes[at % len] ^= 1 << bit,
        Mutation::Set { at, byte } if !bytes.is_empty() => bytes[at % len] = byte,
        Mutation::Insert { at, byte } => bytes.insert(at % (bytes.len() + 1), byte),
        Mutation::Remove { at } if !bytes.is_empty() => {
            bytes.remove(at % len);
        }
        Mutation::Truncate { at } => bytes.truncate(at % (bytes.len() + 1)),
        _ => {}
    }
}

/// Decoding is total, and canonical: whatever decodes re-encodes to itself.
fn check_decode(bytes: &[u8]) -> Result<(), TestCaseError> {
    match decode(bytes, &MockApi::default()) {
        Ok(listing) => prop_assert_eq!(encode(&listing), bytes.to_vec()),
        Err(e) => prop_assert_eq!(e, ContractError::CorruptRecord { kind: "listing" }),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn decoding_random_bytes_never_panics(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..400),
            // A version byte in front gets past the first check.
            prop::collection::vec(any::<u8>(), 0..400).prop_map(|mut b| { b.insert(0, 1); b }),
        ]
    ) {
        check_decode(&bytes)?;
    }

    #[test]
    fn records_round_trip_and_survive_mutation(
        listing in listing(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let bytes = encode(&listing);
        prop_assert_eq!(decode(&bytes, &MockApi::default()).unwrap(), listing);
        let mut damaged = bytes.clone();
        for m in &mutations {
            mutate(&mut damaged, m);
        }
        check_decode(&damaged)?;
    }
}

#[test]
fn cid_text_tags_are_all_exercised() {
    // The strategy above covers the three CID spellings the codec tags.
    let tags: Vec<CidText> = [
        "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
        "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
        "zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA",
    ]
    .iter()
    .map(|c| validate::cid(c).map(|Cid { text, .. }| text).unwrap())
    .collect();
    assert_eq!(tags, [CidText::V0, CidText::Base32, CidText::Base58]);
}
