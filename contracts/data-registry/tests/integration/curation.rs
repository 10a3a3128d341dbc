//! The curation hook: only listed sellers may list, and anyone may hide the
//! listings of a seller the registry removed.

use cw_multi_test::Executor;
use data_registry::msg::ExecuteMsg;
use data_registry::state::ListingStatus;
use data_registry::ContractError;

use crate::suite::{err, new_listing, SuiteBuilder};

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
                interface: "total_paid",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(suite.config().curation_registry, None);
    assert_eq!(suite.config().purchase_verifier, None);
}
