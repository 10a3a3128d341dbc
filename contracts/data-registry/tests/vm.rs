//! The optimized artifact (`artifacts/data-registry.wasm`) in cosmwasm-vm,
//! the VM wasmd embeds: the same flows as the multi-test suite, on the real
//! wasm, with gas reported.

use cosmwasm_std::{
    coin, to_json_binary, BankMsg, ContractResult, CosmosMsg, SystemResult, WasmQuery,
};
use data_registry::msg::{
    ConfigResponse, ExecuteMsg, InstantiateMsg, ListingInfo, ListingUpdate, ListingsResponse,
    MigrateMsg, QueryMsg,
};
use data_registry::state::ListingStatus;
use wevalue_common::curation::IsListedResponse;
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
fn migrate_runs_on_the_artifact() {
    let (mut vm, _) = registry(None);
    let res = vm.migrate(&MigrateMsg {}).unwrap();
    assert_eq!(res.attr("action"), Some("migrate"));
    assert_eq!(res.attr("to_version"), Some(env!("CARGO_PKG_VERSION")));
}
