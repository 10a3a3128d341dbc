//! The data registry asks this registry whether a seller is listed: a seller
//! is refused until listed, lists a data stream, and once challenged and
//! removed anyone can suspend the stream.

mod suite;

use cosmwasm_std::{Addr, Empty, HexBinary, SignedDecimal, Uint128};
use cw_multi_test::{Contract, ContractWrapper, Executor};
use data_registry::msg::{
    DataTerms, ExecuteMsg as DrExecute, InstantiateMsg as DrInstantiate, ListingInfo, Location,
    NewListing, PriceMsg, QueryMsg as DrQuery,
};
use data_registry::state::{ListingStatus as DrStatus, PricingModel};
use std::str::FromStr;
use suite::*;
use token_curated_registry::state::Choice;
use wevalue_common::asset::AssetInfoUnchecked;

fn data_registry_contract() -> Box<dyn Contract<Empty>> {
    Box::new(ContractWrapper::new(
        data_registry::contract::execute,
        data_registry::contract::instantiate,
        data_registry::contract::query,
    ))
}

fn stream() -> NewListing {
    NewListing {
        title: "PM2.5 at Porta Nuova".into(),
        description: "One reading a minute".into(),
        category: "air-quality".into(),
        sensor_type: "pm2.5".into(),
        unit: "ug/m3".into(),
        location: Location {
            latitude: SignedDecimal::from_str("45.0703").unwrap(),
            longitude: SignedDecimal::from_str("7.6869").unwrap(),
        },
        price: PriceMsg {
            asset: AssetInfoUnchecked::Native(DENOM.into()),
            amount: Uint128::new(5),
            model: PricingModel::PerMessage,
        },
        metadata_cid: "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG".into(),
        endpoint: "wss://sensors.example.org/pm25".into(),
        terms: DataTerms {
            license: "CC-BY-4.0".into(),
            terms_hash: HexBinary::from(vec![7; 32]),
        },
    }
}

fn dr_err(res: Res) -> data_registry::ContractError {
    res.unwrap_err()
        .downcast::<data_registry::ContractError>()
        .unwrap()
}

#[test]
fn sellers_need_a_listing_in_the_tcr() {
    let mut s = SuiteBuilder::new().build();
    let owner = s.owner.clone();
    let seller = s.addr("alice");
    let challenger = s.addr("bob");
    let voter = s.addr("carol");
    let code = s.app.store_code(data_registry_contract());
    let dr: Addr = s
        .app
        .instantiate_contract(
            code,
            owner.clone(),
            &DrInstantiate {
                owner: None,
                listing_deposit: None,
                curation_registry: None,
                purchase_verifier: None,
                min_rating_units: None,
                allow_private_endpoints: None,
            },
            &[],
            "data-registry",
            None,
        )
        .unwrap();
    // The registry's owner points it at this TCR (it probes `is_listed`).
    s.app
        .execute_contract(
            owner.clone(),
            dr.clone(),
            &DrExecute::SetCurationRegistry {
                address: Some(s.tcr.to_string()),
            },
            &[],
        )
        .unwrap();

    // Not listed: refused.
    let res = s.app.execute_contract(
        seller.clone(),
        dr.clone(),
        &DrExecute::CreateListing(stream()),
        &[],
    );
    assert_eq!(
        dr_err(res),
        data_registry::ContractError::SellerNotListed {
            seller: seller.to_string()
        }
    );

    // Apply; still refused during the application period.
    s.apply_self(&seller, 2_000).unwrap();
    let res = s.app.execute_contract(
        seller.clone(),
        dr.clone(),
        &DrExecute::CreateListing(stream()),
        &[],
    );
    assert!(matches!(
        dr_err(res),
        data_registry::ContractError::SellerNotListed { .. }
    ));
    s.advance(APPLY);
    s.update(seller.as_str()).unwrap();
    let res = s
        .app
        .execute_contract(
            seller.clone(),
            dr.clone(),
            &DrExecute::CreateListing(stream()),
            &[],
        )
        .unwrap();
    let id: u64 = attr(&res, "listing_id").parse().unwrap();
    let info: ListingInfo = s
        .app
        .wrap()
        .query_wasm_smart(&dr, &DrQuery::Listing { id })
        .unwrap();
    assert_eq!(info.status, DrStatus::Active);

    // While listed, suspension is refused.
    let reporter = s.addr("reporter");
    let res = s.app.execute_contract(
        reporter.clone(),
        dr.clone(),
        &DrExecute::SuspendUncurated { id },
        &[],
    );
    assert!(matches!(
        dr_err(res),
        data_registry::ContractError::SellerStillListed { .. }
    ));

    // Challenged; voters remove the seller.
    let poll = s.challenge_ok(&challenger, seller.as_str());
    s.deposit_votes(&voter, 500).unwrap();
    s.commit(&voter, poll, Choice::Remove, 3, 500).unwrap();
    s.advance(COMMIT);
    s.reveal(&voter, poll, Choice::Remove, 3).unwrap();
    s.advance(REVEAL);
    // Still listed until someone resolves the challenge.
    assert!(s.is_listed(seller.as_str()));
    s.update(seller.as_str()).unwrap();
    assert!(!s.is_listed(seller.as_str()));

    // Anyone hides the uncurated seller's stream.
    s.app
        .execute_contract(
            reporter,
            dr.clone(),
            &DrExecute::SuspendUncurated { id },
            &[],
        )
        .unwrap();
    let info: ListingInfo = s
        .app
        .wrap()
        .query_wasm_smart(&dr, &DrQuery::Listing { id })
        .unwrap();
    assert_eq!(info.status, DrStatus::Paused);
    // And the seller cannot resume it.
    let res = s
        .app
        .execute_contract(seller.clone(), dr, &DrExecute::ResumeListing { id }, &[]);
    assert!(matches!(
        dr_err(res),
        data_registry::ContractError::SellerNotListed { .. }
    ));
    s.assert_conserved();
}
