//! The optimized artifact (`artifacts/data-registry.wasm`) in cosmwasm-vm,
//! the VM wasmd embeds: the same flows as the multi-test suite, on the real
//! wasm, with gas reported.

use cosmwasm_std::{
    coin, to_json_binary, BankMsg, ContractResult, CosmosMsg, SystemResult, Uint128, WasmQuery,
};
use data_registry::msg::{
    ConfigResponse, ExecuteMsg, InstantiateMsg, ListingInfo, ListingUpdate, ListingsResponse,
    MigrateMsg, QueryMsg, RatingSummaryResponse,
};
use data_registry::state::ListingStatus;
use wevalue_common::asset::{Asset, AssetInfo};
use wevalue_common::curation::IsListedResponse;
use wevalue_common::purchase::{PaidForListingResponse, PurchaseQueryMsg};
use wevalue_vm_harness::VmContract;

#[path = "integration/mocks.rs"]
#[allow(dead_code)]
mod mocks;
#[path = "integration/suite.rs"]
#[allow(dead_code)]
mod suite;

fn registry(deposit: Option<u128>) -> (VmContract, cosmwasm_std::Addr) {
    let mut vm = VmContract::new("data-registry");
    let owner = vm.user_addr("owner");
    vm.instantiate(
        &owner,
        &[],
        &InstantiateMsg {
            owner: None,
            listing_deposit: deposit.map(|d| coin(d, suite::DENOM)),
            curation_registry: None,
            purchase_verifier: None,
            min_rating_units: None,
            allow_private_endpoints: None,
        },
    )
    .unwrap();
    (vm, owner)
}

#[test]
fn full_lifecycle_on_the_wasm_artifact() {
    let (mut vm, _owner) = registry(Some(1_000));
    let seller = vm.user_addr("seller");
    let created = vm
        .execute(
            &seller,
            &[coin(1_000, suite::DENOM)],
            &ExecuteMsg::CreateListing(suite::new_listing(1)),
        )
        .unwrap();
    assert_eq!(created.response.attributes[0].value, "create_listing");
    assert_eq!(created.attr("listing_id"), Some("1"));
    assert!(created.gas.sdk() > 0);
    println!("create_listing: {} SDK gas", created.gas.sdk());

    let (listing, _): (ListingInfo, _) = vm.query(&QueryMsg::Listing { id: 1 }).unwrap();
    assert_eq!(listing.location.geohash, "u0j2quv3t");
    assert_eq!(listing.deposit, Some(coin(1_000, suite::DENOM)));

    let update = ListingUpdate {
        category: Some("energy".into()),
        ..Default::default()
    };
    let updated = vm
        .execute(&seller, &[], &ExecuteMsg::UpdateListing { id: 1, update })
        .unwrap();
    assert_eq!(updated.attr("reindexed"), Some("true"));

    let (page, _): (ListingsResponse, _) = vm
        .query(&QueryMsg::ListingsByCategory {
            category: "energy".into(),
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(page.listings.len(), 1);

    vm.execute(&seller, &[], &ExecuteMsg::PauseListing { id: 1 })
        .unwrap();
    let (near, _): (ListingsResponse, _) = vm
        .query(&QueryMsg::ListingsNear {
            cell: "u0j".into(),
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert!(near.listings.is_empty());

    let retired = vm
        .execute(&seller, &[], &ExecuteMsg::RetireListing { id: 1 })
        .unwrap();
    assert_eq!(
        retired.response.messages[0].msg,
        CosmosMsg::Bank(BankMsg::Send {
            to_address: seller.to_string(),
            amount: vec![coin(1_000, suite::DENOM)]
        })
    );
    let (listing, _): (ListingInfo, _) = vm.query(&QueryMsg::Listing { id: 1 }).unwrap();
    assert_eq!(listing.status, ListingStatus::Retired);
}

#[test]
fn errors_come_back_typed_from_the_wasm() {
    let (mut vm, _) = registry(Some(1_000));
    let seller = vm.user_addr("seller");
    let mut bad = suite::new_listing(1);
    bad.metadata_cid = "QmBad".into();
    let err = vm
        .execute(
            &seller,
            &[coin(1_000, suite::DENOM)],
            &ExecuteMsg::CreateListing(bad),
        )
        .unwrap_err();
    assert!(err.contains("invalid IPFS CID \"QmBad\""), "{err}");
    let err = vm
        .execute(
            &seller,
            &[coin(999, suite::DENOM)],
            &ExecuteMsg::CreateListing(suite::new_listing(1)),
        )
        .unwrap_err();
    assert!(
        err.contains("wrong listing deposit: expected 1000ucity, received 999ucity"),
        "{err}"
    );
    let err = vm
        .execute(&seller, &[], &ExecuteMsg::PauseListing { id: 4 })
        .unwrap_err();
    assert!(err.contains("listing 4 not found"), "{err}");
    let err = vm
        .query::<_, ListingsResponse>(&QueryMsg::ListingsNear {
            cell: "a".into(),
            start_after: None,
            limit: None,
        })
        .unwrap_err();
    assert!(err.contains("invalid geohash cell"), "{err}");
}

#[test]
fn curation_is_enforced_through_a_wasm_query() {
    let mut vm = VmContract::new("data-registry");
    let owner = vm.user_addr("owner");
    let tcr = vm.addr("tcr");
    let listed = vm.user_addr("listed-seller");
    let tcr_for_querier = tcr.to_string();
    let listed_for_querier = listed.to_string();
    vm.set_wasm_querier(move |q| match q {
        WasmQuery::Smart { contract_addr, msg } if *contract_addr == tcr_for_querier => {
            let text = String::from_utf8_lossy(msg.as_slice()).to_string();
            let answer = IsListedResponse {
                listed: text.contains(&listed_for_querier),
            };
            SystemResult::Ok(ContractResult::Ok(to_json_binary(&answer).unwrap()))
        }
        _ => SystemResult::Err(cosmwasm_std::SystemError::NoSuchContract { addr: "?".into() }),
    });
    vm.instantiate(
        &owner,
        &[],
        &InstantiateMsg {
            owner: None,
            listing_deposit: None,
            curation_registry: Some(tcr.to_string()),
            purchase_verifier: None,
            min_rating_units: None,
            allow_private_endpoints: None,
        },
    )
    .unwrap();
    let stranger = vm.user_addr("stranger");
    let err = vm
        .execute(
            &stranger,
            &[],
            &ExecuteMsg::CreateListing(suite::new_listing(1)),
        )
        .unwrap_err();
    assert!(
        err.contains("is not listed in the curation registry"),
        "{err}"
    );
    vm.execute(
        &listed,
        &[],
        &ExecuteMsg::CreateListing(suite::new_listing(1)),
    )
    .unwrap();
    let (config, _): (ConfigResponse, _) = vm.query(&QueryMsg::Config {}).unwrap();
    assert_eq!(config.listing_count, 1);
    assert_eq!(config.curation_registry, Some(tcr));
}

#[test]
fn ratings_ask_the_verifier_about_the_listing_on_the_wasm() {
    let mut vm = VmContract::new("data-registry");
    let owner = vm.user_addr("owner");
    let verifier = vm.addr("verifier");
    let registry = vm.env().contract.address.to_string();
    let buyer = vm.user_addr("buyer");
    let paid_buyer = buyer.to_string();
    let verifier_for_querier = verifier.to_string();
    // The verifier reports 1,000 ucity paid by `buyer` for listing 1 of this
    // registry, and nothing for anything else.
    vm.set_wasm_querier(move |q| match q {
        WasmQuery::Smart { contract_addr, msg } if *contract_addr == verifier_for_querier => {
            let paid = match cosmwasm_std::from_json(msg).unwrap() {
                PurchaseQueryMsg::PaidForListing {
                    payer,
                    registry: r,
                    listing_id: 1,
                    ..
                } if payer == paid_buyer && r == registry => vec![Asset {
                    info: AssetInfo::Native(suite::DENOM.into()),
                    amount: Uint128::new(1_000),
                }],
                _ => vec![],
            };
            let answer = PaidForListingResponse { paid };
            SystemResult::Ok(ContractResult::Ok(to_json_binary(&answer).unwrap()))
        }
        _ => SystemResult::Err(cosmwasm_std::SystemError::NoSuchContract { addr: "?".into() }),
    });
    vm.instantiate(
        &owner,
        &[],
        &InstantiateMsg {
            owner: None,
            listing_deposit: None,
            curation_registry: None,
            purchase_verifier: Some(verifier.to_string()),
            min_rating_units: Some(10),
            allow_private_endpoints: None,
        },
    )
    .unwrap();
    let seller = vm.user_addr("seller");
    for n in 1..=2 {
        vm.execute(
            &seller,
            &[],
            &ExecuteMsg::CreateListing(suite::new_listing(n)),
        )
        .unwrap();
    }
    let rate = |id| ExecuteMsg::Rate {
        id,
        score: 4,
        review_cid: None,
    };
    let err = vm.execute(&buyer, &[], &rate(2)).unwrap_err();
    assert!(
        err.contains("paid 0 for listing 2 in its asset; a first rating needs at least 1000"),
        "{err}"
    );
    let first = vm.execute(&buyer, &[], &rate(1)).unwrap();
    assert_eq!(first.attr("revision"), Some("false"));
    println!("rate: {} SDK gas", first.gas.sdk());
    let again = vm.execute(&buyer, &[], &rate(1)).unwrap();
    assert_eq!(again.attr("revision"), Some("true"));
    let (summary, _): (RatingSummaryResponse, _) =
        vm.query(&QueryMsg::RatingSummary { id: 1 }).unwrap();
    assert_eq!((summary.count, summary.sum), (1, 4));
}

#[test]
fn hardened_validation_and_cursors_on_the_wasm() {
    let (mut vm, _) = registry(None);
    let seller = vm.user_addr("seller");
    for (n, endpoint, expected) in [
        (
            1,
            "ws://127.0.0.1:9000/s",
            "is on a private, loopback or local host",
        ),
        (2, "wss://sensors.example:+443/s", "port must be 1 to 65535"),
        (3, "wss://999.1.1.1/s", "invalid IPv4 address"),
    ] {
        let mut l = suite::new_listing(n);
        l.endpoint = endpoint.into();
        let err = vm
            .execute(&seller, &[], &ExecuteMsg::CreateListing(l))
            .unwrap_err();
        assert!(err.contains(expected), "{endpoint}: {err}");
    }
    let mut l = suite::new_listing(4);
    l.metadata_cid = "éafybeig".into();
    let err = vm
        .execute(&seller, &[], &ExecuteMsg::CreateListing(l))
        .unwrap_err();
    assert!(err.contains("invalid IPFS CID"), "{err}");
    let mut l = suite::new_listing(5);
    l.title = "report\u{202E}fdp.exe".into();
    let err = vm
        .execute(&seller, &[], &ExecuteMsg::CreateListing(l))
        .unwrap_err();
    assert!(
        err.contains("title contains the control or invisible character U+202E at position 6"),
        "{err}"
    );

    // Pages follow the index key the cursor carries.
    for n in 1..=4 {
        let mut l = suite::new_listing(n);
        l.price.amount = Uint128::new(n as u128 * 10);
        vm.execute(&seller, &[], &ExecuteMsg::CreateListing(l))
            .unwrap();
    }
    let page = |vm: &mut VmContract, start_after| {
        let (r, _): (ListingsResponse, _) = vm
            .query(&QueryMsg::ListingsByCategory {
                category: "air-quality".into(),
                start_after,
                limit: Some(2),
            })
            .unwrap();
        r.listings
    };
    let first = page(&mut vm, None);
    let cursor = first[1].category_cursor();
    let update = ListingUpdate {
        price: Some(suite::price(suite::DENOM, 1)),
        ..Default::default()
    };
    vm.execute(&seller, &[], &ExecuteMsg::UpdateListing { id: 2, update })
        .unwrap();
    let second: Vec<u64> = page(&mut vm, Some(cursor)).iter().map(|l| l.id).collect();
    assert_eq!(second, vec![3, 4]);
}

#[test]
fn migrate_runs_on_the_artifact() {
    let (mut vm, _) = registry(None);
    let res = vm.migrate(&MigrateMsg {}).unwrap();
    assert_eq!(res.attr("action"), Some("migrate"));
    assert_eq!(res.attr("to_version"), Some(env!("CARGO_PKG_VERSION")));
}
