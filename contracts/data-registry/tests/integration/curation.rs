//! The curation hook: only listed sellers may list, and anyone may hide the
//! listings of a seller the registry removed.

use cw_multi_test::Executor;
use data_registry::msg::{ExecuteMsg, ListingUpdate};
use data_registry::state::ListingStatus;
use data_registry::ContractError;

use crate::suite::{err, new_listing, price, SuiteBuilder};

#[test]
fn only_listed_sellers_create() {
    let mut suite = SuiteBuilder::new().with_curation().build();
    let seller = suite.addr("seller");
    assert_eq!(
        suite.create_err("seller", new_listing(1)),
        ContractError::SellerNotListed {
            seller: seller.to_string()
        }
    );
    suite.set_listed("seller", true);
    let id = suite.create("seller", new_listing(1));
    assert_eq!(suite.listing(id).seller, seller);
}

#[test]
fn delisted_sellers_are_suspended_by_anyone_and_cannot_resume() {
    let mut suite = SuiteBuilder::new().with_curation().build();
    suite.set_listed("seller", true);
    let id = suite.create("seller", new_listing(1));
    let suspend = ExecuteMsg::SuspendUncurated { id };
    assert_eq!(
        suite.execute("watcher", &suspend, &[]).unwrap_err(),
        ContractError::SellerStillListed {
            seller: suite.addr("seller").to_string()
        }
    );
    suite.set_listed("seller", false);
    let res = suite.execute("watcher", &suspend, &[]).unwrap();
    let reporter = res
        .events
        .iter()
        .flat_map(|e| &e.attributes)
        .find(|a| a.key == "reporter");
    assert_eq!(reporter.unwrap().value, suite.addr("watcher").to_string());
    suite.assert_status(id, ListingStatus::Paused);
    assert!(suite.near("u", None, None).is_empty());
    assert_eq!(
        suite.execute("watcher", &suspend, &[]).unwrap_err(),
        ContractError::AlreadyInStatus {
            id,
            status: "paused".into()
        }
    );
    assert!(matches!(
        suite.resume("seller", id).unwrap_err(),
        ContractError::SellerNotListed { .. }
    ));
    suite.set_listed("seller", true);
    suite.resume("seller", id).unwrap();
    suite.assert_status(id, ListingStatus::Active);
}

#[test]
fn a_delisted_seller_may_pause_and_retire_but_not_edit() {
    let mut suite = SuiteBuilder::new()
        .with_curation()
        .with_deposit(1_000)
        .with_funded(&["seller"])
        .build();
    suite.set_listed("seller", true);
    let deposit = [cosmwasm_std::coin(1_000, crate::suite::DENOM)];
    let id = suite
        .create_with("seller", new_listing(1), &deposit)
        .unwrap();
    let other = suite
        .create_with("seller", new_listing(2), &deposit)
        .unwrap();
    suite.set_listed("seller", false);
    let not_listed = ContractError::SellerNotListed {
        seller: suite.addr("seller").to_string(),
    };
    // The review's attack: removed from the registry, the seller rewrites
    // its still-active listing (a new endpoint, a bait title).
    for update in [
        ListingUpdate {
            title: Some("Free data, click here".into()),
            ..Default::default()
        },
        ListingUpdate {
            endpoint: Some("wss://phish.example/s".into()),
            ..Default::default()
        },
        ListingUpdate {
            price: Some(price(crate::suite::DENOM, 1)),
            ..Default::default()
        },
    ] {
        assert_eq!(suite.update("seller", id, update).unwrap_err(), not_listed);
    }
    assert_eq!(suite.listing(id).title, "Air quality sensor 1");
    // Hiding and withdrawing stay possible, with the deposit back.
    suite.pause("seller", id).unwrap();
    suite.assert_status(id, ListingStatus::Paused);
    // A paused (or suspended) listing cannot be edited either.
    assert_eq!(
        suite
            .update(
                "seller",
                id,
                ListingUpdate {
                    title: Some("x".into()),
                    ..Default::default()
                }
            )
            .unwrap_err(),
        not_listed
    );
    assert_eq!(suite.resume("seller", id).unwrap_err(), not_listed);
    let before = suite.balance(&suite.addr("seller"), crate::suite::DENOM);
    suite.retire("seller", id).unwrap();
    suite.retire("seller", other).unwrap();
    assert_eq!(
        suite.balance(&suite.addr("seller"), crate::suite::DENOM),
        before + 2_000
    );
    assert_eq!(suite.registry_balance(), 0);
    // Listed again, the seller edits as before.
    suite.set_listed("seller", true);
    let fresh = suite
        .create_with("seller", new_listing(3), &deposit)
        .unwrap();
    suite
        .update(
            "seller",
            fresh,
            ListingUpdate {
                title: Some("Renamed".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(suite.listing(fresh).title, "Renamed");
}

#[test]
fn suspension_needs_a_registry() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.create("seller", new_listing(1));
    assert_eq!(
        suite
            .execute("watcher", &ExecuteMsg::SuspendUncurated { id }, &[])
            .unwrap_err(),
        ContractError::CurationDisabled
    );
}

#[test]
fn registry_and_verifier_must_answer_their_interface() {
    let mut suite = SuiteBuilder::new().build();
    let silent = suite.silent_contract();
    let owner = suite.owner.clone();
    let registry = suite.registry.clone();
    let e = suite
        .app
        .execute_contract(
            owner.clone(),
            registry.clone(),
            &ExecuteMsg::SetCurationRegistry {
                address: Some(silent.to_string()),
            },
            &[],
        )
        .map_err(err)
        .unwrap_err();
    assert!(
        matches!(
            e,
            ContractError::InterfaceProbeFailed {
                interface: "is_listed",
                ..
            }
        ),
        "{e:?}"
    );
    let e = suite
        .app
        .execute_contract(
            owner.clone(),
            registry.clone(),
            &ExecuteMsg::SetPurchaseVerifier {
                address: Some(silent.to_string()),
            },
            &[],
        )
        .map_err(err)
        .unwrap_err();
    assert!(
        matches!(
            e,
            ContractError::InterfaceProbeFailed {
                interface: "paid_for_listing",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(suite.config().curation_registry, None);
    assert_eq!(suite.config().purchase_verifier, None);
}
