//! Owner-only configuration, two-step ownership and migrations.

use cosmwasm_std::testing::{message_info, mock_dependencies, mock_env};
use cosmwasm_std::{coin, from_json, Empty, Storage};
use cw_multi_test::Executor;
use cw_ownable::{Action, OwnershipError};
use data_registry::msg::{
    ConfigResponse, ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg, DEFAULT_MIN_RATING_UNITS,
};
use data_registry::ContractError;
use wevalue_common::migration::MigrationError;

use crate::mocks::{curation_contract, verifier_contract};
use crate::suite::{err, new_listing, SuiteBuilder, DENOM};

#[test]
fn only_the_owner_configures() {
    let mut suite = SuiteBuilder::new().build();
    for msg in [
        ExecuteMsg::SetListingDeposit {
            deposit: Some(coin(1, DENOM)),
        },
        ExecuteMsg::SetCurationRegistry { address: None },
        ExecuteMsg::SetPurchaseVerifier { address: None },
        ExecuteMsg::SetMinRatingUnits { units: 5 },
        ExecuteMsg::SetAllowPrivateEndpoints { allow: true },
    ] {
        assert_eq!(
            suite.execute("mallory", &msg, &[]).unwrap_err(),
            ContractError::Ownership(OwnershipError::NotOwner),
            "{msg:?}"
        );
    }
}

#[test]
fn owner_sets_and_clears_configuration() {
    let mut suite = SuiteBuilder::new().build();
    let owner = suite.owner.clone();
    let registry = suite.registry.clone();
    let curation_id = suite.app.store_code(curation_contract());
    let curation = suite
        .app
        .instantiate_contract(curation_id, owner.clone(), &Empty {}, &[], "c", None)
        .unwrap();
    let verifier_id = suite.app.store_code(verifier_contract());
    let verifier = suite
        .app
        .instantiate_contract(verifier_id, owner.clone(), &Empty {}, &[], "v", None)
        .unwrap();
    let mut run = |msg: ExecuteMsg| {
        suite
            .app
            .execute_contract(owner.clone(), registry.clone(), &msg, &[])
            .map_err(err)
    };
    run(ExecuteMsg::SetListingDeposit {
        deposit: Some(coin(10, DENOM)),
    })
    .unwrap();
    run(ExecuteMsg::SetCurationRegistry {
        address: Some(curation.to_string()),
    })
    .unwrap();
    run(ExecuteMsg::SetPurchaseVerifier {
        address: Some(verifier.to_string()),
    })
    .unwrap();
    assert_eq!(
        run(ExecuteMsg::SetListingDeposit {
            deposit: Some(coin(0, DENOM))
        })
        .unwrap_err(),
        ContractError::ZeroDeposit
    );
    assert!(matches!(
        run(ExecuteMsg::SetCurationRegistry {
            address: Some("Bad".into())
        })
        .unwrap_err(),
        ContractError::Std(_)
    ));
    let config = suite.config();
    assert_eq!(config.listing_deposit, Some(coin(10, DENOM)));
    assert_eq!(config.curation_registry, Some(curation));
    assert_eq!(config.purchase_verifier, Some(verifier));

    let mut run = |msg: ExecuteMsg| {
        suite
            .app
            .execute_contract(owner.clone(), registry.clone(), &msg, &[])
            .map_err(err)
    };
    run(ExecuteMsg::SetListingDeposit { deposit: None }).unwrap();
    run(ExecuteMsg::SetCurationRegistry { address: None }).unwrap();
    run(ExecuteMsg::SetPurchaseVerifier { address: None }).unwrap();
    let config = suite.config();
    assert_eq!(
        (
            config.listing_deposit,
            config.curation_registry,
            config.purchase_verifier
        ),
        (None, None, None)
    );
    // Without a registry anyone may list again.
    suite.create("anyone", new_listing(1));
}

#[test]
fn ownership_moves_in_two_steps() {
    let mut suite = SuiteBuilder::new().build();
    let dao = suite.addr("dao");
    let owner = suite.owner.clone();
    let registry = suite.registry.clone();
    suite
        .app
        .execute_contract(
            owner.clone(),
            registry.clone(),
            &ExecuteMsg::UpdateOwnership(Action::TransferOwnership {
                new_owner: dao.to_string(),
                expiry: None,
            }),
            &[],
        )
        .unwrap();
    // Not yet the owner.
    assert_eq!(
        suite
            .execute("dao", &ExecuteMsg::SetListingDeposit { deposit: None }, &[])
            .unwrap_err(),
        ContractError::Ownership(OwnershipError::NotOwner)
    );
    suite
        .execute(
            "dao",
            &ExecuteMsg::UpdateOwnership(Action::AcceptOwnership),
            &[],
        )
        .unwrap();
    suite
        .execute("dao", &ExecuteMsg::SetListingDeposit { deposit: None }, &[])
        .unwrap();
    let ownership: cw_ownable::Ownership<String> = suite
        .query(&data_registry::msg::QueryMsg::Ownership {})
        .unwrap();
    assert_eq!(ownership.owner, Some(dao.to_string()));
}

#[test]
fn instantiate_refuses_funds_and_bad_config() {
    let mut deps = mock_dependencies();
    let creator = deps.api.addr_make("creator");
    let msg = InstantiateMsg {
        owner: None,
        listing_deposit: None,
        curation_registry: None,
        purchase_verifier: None,
        min_rating_units: None,
        allow_private_endpoints: None,
    };
    let e = data_registry::contract::instantiate(
        deps.as_mut(),
        mock_env(),
        message_info(&creator, &[coin(1, DENOM)]),
        msg.clone(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        ContractError::Payment(cw_utils::PaymentError::NonPayable {})
    );
    let e = data_registry::contract::instantiate(
        deps.as_mut(),
        mock_env(),
        message_info(&creator, &[]),
        InstantiateMsg {
            listing_deposit: Some(coin(5, "x")),
            ..msg.clone()
        },
    )
    .unwrap_err();
    assert!(matches!(e, ContractError::Asset(_)));
    let e = data_registry::contract::instantiate(
        deps.as_mut(),
        mock_env(),
        message_info(&creator, &[]),
        InstantiateMsg {
            min_rating_units: Some(0),
            ..msg.clone()
        },
    )
    .unwrap_err();
    assert_eq!(e, ContractError::ZeroRatingUnits);
    let e = data_registry::contract::instantiate(
        deps.as_mut(),
        mock_env(),
        message_info(&creator, &[]),
        InstantiateMsg {
            owner: Some("NotBech32".into()),
            ..msg
        },
    )
    .unwrap_err();
    assert!(
        matches!(e, ContractError::Ownership(_) | ContractError::Std(_)),
        "{e:?}"
    );
}

#[test]
fn migrate_refuses_downgrades_and_other_contracts() {
    let mut deps = mock_dependencies();
    let creator = deps.api.addr_make("creator");
    data_registry::contract::instantiate(
        deps.as_mut(),
        mock_env(),
        message_info(&creator, &[]),
        InstantiateMsg {
            owner: None,
            listing_deposit: None,
            curation_registry: None,
            purchase_verifier: None,
            min_rating_units: None,
            allow_private_endpoints: None,
        },
    )
    .unwrap();
    let res = data_registry::contract::migrate(deps.as_mut(), mock_env(), MigrateMsg {}).unwrap();
    assert_eq!(res.attributes[0].value, "migrate");
    cw2::set_contract_version(
        &mut deps.storage,
        data_registry::contract::CONTRACT_NAME,
        "99.0.0",
    )
    .unwrap();
    assert_eq!(
        data_registry::contract::migrate(deps.as_mut(), mock_env(), MigrateMsg {}).unwrap_err(),
        ContractError::Migration(MigrationError::Downgrade {
            from: "99.0.0".into(),
            to: data_registry::contract::CONTRACT_VERSION.into()
        })
    );
    cw2::set_contract_version(&mut deps.storage, "crates.io:cw20-base", "0.1.0").unwrap();
    assert!(matches!(
        data_registry::contract::migrate(deps.as_mut(), mock_env(), MigrateMsg {}).unwrap_err(),
        ContractError::Migration(MigrationError::WrongContract { .. })
    ));
}

#[test]
fn defaults_and_configs_stored_before_the_new_fields() {
    let suite = SuiteBuilder::new().build();
    let config = suite.config();
    assert_eq!(config.min_rating_units, DEFAULT_MIN_RATING_UNITS);
    assert_eq!(DEFAULT_MIN_RATING_UNITS, 100);
    assert!(!config.allow_private_endpoints);
    // Defaults are not written: create and update read the config.
    let raw = |suite: &crate::suite::Suite| {
        let bytes = suite
            .app
            .wrap()
            .query_wasm_raw(&suite.registry, b"config".as_slice())
            .unwrap()
            .unwrap();
        String::from_utf8(bytes).unwrap()
    };
    assert_eq!(
        raw(&suite),
        r#"{"listing_deposit":null,"curation_registry":null,"purchase_verifier":null}"#
    );
    let custom = SuiteBuilder::new()
        .with_min_rating_units(3)
        .allow_private_endpoints()
        .build();
    assert!(raw(&custom).ends_with(r#""min_rating_units":3,"allow_private_endpoints":true}"#));
    assert_eq!(custom.config().min_rating_units, 3);

    // A config written before `min_rating_units` and
    // `allow_private_endpoints` existed loads with their defaults.
    let mut deps = mock_dependencies();
    let creator = deps.api.addr_make("creator");
    data_registry::contract::instantiate(
        deps.as_mut(),
        mock_env(),
        message_info(&creator, &[]),
        InstantiateMsg {
            owner: None,
            listing_deposit: Some(coin(5, DENOM)),
            curation_registry: None,
            purchase_verifier: None,
            min_rating_units: Some(7),
            allow_private_endpoints: Some(true),
        },
    )
    .unwrap();
    deps.storage.set(
        b"config",
        br#"{"listing_deposit":{"denom":"ucity","amount":"5"},"curation_registry":null,"purchase_verifier":null}"#,
    );
    data_registry::contract::migrate(deps.as_mut(), mock_env(), MigrateMsg {}).unwrap();
    let config: ConfigResponse = from_json(
        data_registry::contract::query(deps.as_ref(), mock_env(), QueryMsg::Config {}).unwrap(),
    )
    .unwrap();
    assert_eq!(config.listing_deposit, Some(coin(5, DENOM)));
    assert_eq!(config.min_rating_units, DEFAULT_MIN_RATING_UNITS);
    assert!(!config.allow_private_endpoints);
}

#[test]
fn migrate_through_the_chain_keeps_listings() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.create("seller", new_listing(1));
    let owner = suite.owner.clone();
    let registry = suite.registry.clone();
    let code_id = suite.code_id;
    suite
        .app
        .migrate_contract(owner, registry, &MigrateMsg {}, code_id)
        .unwrap();
    assert_eq!(suite.listing(id).title, "Air quality sensor 1");
}
