//! Applications, deposits, exits, challenges' admission rules, parameters
//! and the cw20 stake path.

mod suite;

use cosmwasm_std::{coins, Uint128};
use cw_multi_test::Executor;
use cw_utils::PaymentError;
use suite::*;
use token_curated_registry::msg::{ExecuteMsg, InstantiateMsg, ParamsUpdate};
use token_curated_registry::state::ListingStatus;
use token_curated_registry::ContractError;
use wevalue_common::asset::AssetInfoUnchecked;

#[test]
fn application_is_listed_lazily_after_its_period() {
    let mut s = SuiteBuilder::new().build();
    let alice = s.addr("alice");
    let subject = alice.to_string();
    s.apply_self(&alice, 1_500).unwrap();
    let l = s.listing(&subject);
    assert_eq!(l.status, ListingStatus::Application);
    assert!(!l.listed);
    assert_eq!(l.deposit.u128(), 1_500);
    assert_eq!(l.application_end, s.now().plus_seconds(APPLY));
    assert!(!s.is_listed(&subject));

    // Too early: a typed error, nothing changes.
    s.advance(APPLY - 1);
    assert_eq!(
        contract_err(s.update(&subject)),
        ContractError::NothingToUpdate {
            subject: subject.clone(),
            reason: "the application period has not ended"
        }
    );
    s.advance(1);
    // The period ended but nobody updated: still not listed (lazy status).
    assert!(!s.is_listed(&subject));
    s.update(&subject).unwrap();
    assert!(s.is_listed(&subject));
    let l = s.listing(&subject);
    assert_eq!(l.status, ListingStatus::Listed);
    assert_eq!(l.listed_since, Some(s.now()));
    assert_eq!(
        contract_err(s.update(&subject)),
        ContractError::NothingToUpdate {
            subject: subject.clone(),
            reason: "already listed and not challenged"
        }
    );
    assert_eq!(s.held(), 1_500);
    s.assert_conserved();
}

#[test]
fn application_admission_errors() {
    let mut s = SuiteBuilder::new().build();
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    assert_eq!(
        contract_err(s.apply_self(&alice, MIN_DEPOSIT - 1)),
        ContractError::DepositTooLow {
            received: Uint128::new(MIN_DEPOSIT - 1),
            min_deposit: Uint128::new(MIN_DEPOSIT)
        }
    );
    // Nobody may apply for another address.
    assert_eq!(
        contract_err(s.apply(&bob, alice.as_str(), MIN_DEPOSIT)),
        ContractError::NotSubject {
            subject: alice.to_string()
        }
    );
    // Any other id may be applied for by anyone, once.
    s.apply(&bob, "station-42", MIN_DEPOSIT).unwrap();
    assert_eq!(
        contract_err(s.apply(&alice, "station-42", MIN_DEPOSIT)),
        ContractError::AlreadyApplied {
            subject: "station-42".into()
        }
    );
    assert!(matches!(
        contract_err(s.apply(&bob, "has space", MIN_DEPOSIT)),
        ContractError::InvalidSubject { .. }
    ));
    assert!(matches!(
        contract_err(s.apply(&bob, "", MIN_DEPOSIT)),
        ContractError::InvalidSubject { .. }
    ));
    assert!(matches!(
        contract_err(s.apply(&bob, &"x".repeat(129), MIN_DEPOSIT)),
        ContractError::InvalidSubject { .. }
    ));
    let bad_cid = s.app.execute_contract(
        bob.clone(),
        s.tcr.clone(),
        &ExecuteMsg::Apply {
            subject: "station-7".into(),
            data: "not-a-cid".into(),
        },
        &coins(MIN_DEPOSIT, DENOM),
    );
    assert!(matches!(
        contract_err(bad_cid),
        ContractError::InvalidCid { .. }
    ));
    // Payment checks.
    assert_eq!(
        contract_err(s.apply(&bob, "station-8", 0)),
        ContractError::Payment(PaymentError::NoFunds {})
    );
    let wrong = s.app.execute_contract(
        bob.clone(),
        s.tcr.clone(),
        &ExecuteMsg::Withdraw {
            subject: "station-42".into(),
            amount: Uint128::one(),
        },
        &coins(5, DENOM),
    );
    assert!(matches!(contract_err(wrong), ContractError::Payment(_)));
    s.assert_conserved();
}

#[test]
fn top_up_and_withdraw_surplus() {
    let mut s = SuiteBuilder::new().build();
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    let subject = alice.to_string();
    s.apply_self(&alice, MIN_DEPOSIT).unwrap();
    assert_eq!(
        contract_err(s.top_up(&bob, &subject, 10)),
        ContractError::NotListingOwner {
            subject: subject.clone()
        }
    );
    s.top_up(&alice, &subject, 700).unwrap();
    assert_eq!(s.listing(&subject).deposit.u128(), 1_700);
    assert_eq!(
        contract_err(s.withdraw(&alice, &subject, 701)),
        ContractError::WithdrawTooMuch {
            subject: subject.clone(),
            requested: Uint128::new(701),
            available: Uint128::new(700)
        }
    );
    assert_eq!(
        contract_err(s.withdraw(&alice, &subject, 0)),
        ContractError::ZeroAmount
    );
    let before = s.balance(&alice);
    s.withdraw(&alice, &subject, 300).unwrap();
    assert_eq!(s.balance(&alice), before + 300);
    assert_eq!(s.listing(&subject).deposit.u128(), 1_400);

    // A challenge holds min_deposit of the deposit.
    let carol = s.addr("carol");
    s.challenge_ok(&carol, &subject);
    let l = s.listing(&subject);
    assert_eq!((l.deposit.u128(), l.free_deposit.u128()), (1_400, 400));
    assert_eq!(
        contract_err(s.withdraw(&alice, &subject, 1)),
        ContractError::WithdrawTooMuch {
            subject: subject.clone(),
            requested: Uint128::one(),
            available: Uint128::zero()
        }
    );
    s.assert_conserved();
}

#[test]
fn voluntary_exit_with_delay() {
    let mut s = SuiteBuilder::new().build();
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    let subject = alice.to_string();
    s.apply_self(&alice, 1_200).unwrap();
    assert_eq!(
        contract_err(s.init_exit(&alice, &subject)),
        ContractError::ExitNotListed {
            subject: subject.clone()
        }
    );
    s.advance(APPLY);
    s.update(&subject).unwrap();
    assert_eq!(
        contract_err(s.finalize_exit(&alice, &subject)),
        ContractError::ExitNotRequested {
            subject: subject.clone()
        }
    );
    assert_eq!(
        contract_err(s.init_exit(&bob, &subject)),
        ContractError::NotListingOwner {
            subject: subject.clone()
        }
    );
    s.init_exit(&alice, &subject).unwrap();
    let exit_at = s.now().plus_seconds(EXIT_DELAY);
    assert_eq!(
        contract_err(s.init_exit(&alice, &subject)),
        ContractError::ExitAlreadyRequested {
            subject: subject.clone()
        }
    );
    // Still listed during the delay.
    assert_eq!(s.listing(&subject).status, ListingStatus::Exiting);
    assert!(s.is_listed(&subject));
    s.advance(EXIT_DELAY - 1);
    assert_eq!(
        contract_err(s.finalize_exit(&alice, &subject)),
        ContractError::ExitNotReady {
            subject: subject.clone(),
            at: exit_at
        }
    );
    s.advance(1);
    assert_eq!(s.listing(&subject).status, ListingStatus::Exited);
    assert!(!s.is_listed(&subject));
    // Challenging an exited listing is a typed error.
    assert_eq!(
        contract_err(s.challenge(&bob, &subject, MIN_DEPOSIT)),
        ContractError::ChallengeDuringExit {
            subject: subject.clone(),
            at: exit_at
        }
    );
    let before = s.balance(&alice);
    s.finalize_exit(&alice, &subject).unwrap();
    assert_eq!(s.balance(&alice), before + 1_200);
    assert!(!s.has_listing(&subject));
    assert_eq!(s.held(), 0);
    s.assert_conserved();
}

#[test]
fn exit_is_refused_while_challenged_and_challenge_blocks_finalize() {
    let mut s = SuiteBuilder::new().build();
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    let subject = alice.to_string();
    s.apply_self(&alice, 2_000).unwrap();
    s.advance(APPLY);
    s.update(&subject).unwrap();
    // A challenge in the exit delay is allowed (exits cannot dodge curation)…
    s.init_exit(&alice, &subject).unwrap();
    let poll = s.challenge_ok(&bob, &subject);
    s.advance(EXIT_DELAY);
    // …and blocks the exit until it is resolved.
    assert_eq!(
        contract_err(s.finalize_exit(&alice, &subject)),
        ContractError::ChallengeOpen {
            subject: subject.clone(),
            poll_id: poll
        }
    );
    let carol = s.addr("carol");
    let poll2_subject = carol.to_string();
    s.apply_self(&carol, 2_000).unwrap();
    s.advance(APPLY);
    s.update(&poll2_subject).unwrap();
    let poll2 = s.challenge_ok(&bob, &poll2_subject);
    assert_eq!(
        contract_err(s.init_exit(&carol, &poll2_subject)),
        ContractError::ChallengeOpen {
            subject: poll2_subject.clone(),
            poll_id: poll2
        }
    );
    s.assert_conserved();
}

#[test]
fn challenge_admission() {
    let mut s = SuiteBuilder::new().build();
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    let carol = s.addr("carol");
    let subject = alice.to_string();
    assert_eq!(
        contract_err(s.challenge(&bob, &subject, MIN_DEPOSIT)),
        ContractError::ListingNotFound {
            subject: subject.clone()
        }
    );
    s.apply_self(&alice, MIN_DEPOSIT).unwrap();
    assert_eq!(
        contract_err(s.challenge(&bob, &subject, MIN_DEPOSIT + 1)),
        ContractError::WrongChallengeStake {
            expected: Uint128::new(MIN_DEPOSIT),
            received: Uint128::new(MIN_DEPOSIT + 1)
        }
    );
    // Applications can be challenged.
    let poll = s.challenge_ok(&bob, &subject);
    assert_eq!(poll, 1);
    assert_eq!(
        contract_err(s.challenge(&carol, &subject, MIN_DEPOSIT)),
        ContractError::ChallengeOpen {
            subject: subject.clone(),
            poll_id: 1
        }
    );
    let c = s.challenge_info(1);
    assert_eq!(c.challenger, bob);
    assert_eq!(c.stake.u128(), MIN_DEPOSIT);
    assert_eq!(c.reason, cid(2));
    assert!(!c.resolved);
    s.assert_conserved();
}

#[test]
fn parameters_are_owner_only_validated_and_snapshotted() {
    let mut s = SuiteBuilder::new().build();
    let alice = s.addr("alice");
    let owner = s.owner.clone();
    assert_eq!(
        contract_err(s.update_params(
            &alice,
            ParamsUpdate {
                min_deposit: Some(Uint128::new(5)),
                ..Default::default()
            }
        )),
        ContractError::Ownership(cw_ownable::OwnershipError::NotOwner)
    );
    assert_eq!(
        contract_err(s.update_params(&owner, ParamsUpdate::default())),
        ContractError::EmptyUpdate
    );
    assert_eq!(
        contract_err(s.update_params(
            &owner,
            ParamsUpdate {
                dispensation_pct: Some(101),
                ..Default::default()
            }
        )),
        ContractError::InvalidParam {
            param: "dispensation_pct",
            reason: "must be a percentage, 0 to 100"
        }
    );
    assert_eq!(
        contract_err(s.update_params(
            &owner,
            ParamsUpdate {
                commit_stage_secs: Some(0),
                ..Default::default()
            }
        )),
        ContractError::InvalidParam {
            param: "commit_stage_secs",
            reason: "must be at least one second"
        }
    );
    assert_eq!(
        contract_err(s.update_params(
            &owner,
            ParamsUpdate {
                min_deposit: Some(Uint128::zero()),
                ..Default::default()
            }
        )),
        ContractError::InvalidParam {
            param: "min_deposit",
            reason: "must be greater than zero"
        }
    );
    // A running application keeps its end.
    let subject = alice.to_string();
    s.apply_self(&alice, MIN_DEPOSIT).unwrap();
    let end = s.listing(&subject).application_end;
    s.update_params(
        &owner,
        ParamsUpdate {
            apply_stage_secs: Some(APPLY * 10),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.params().apply_stage_secs, APPLY * 10);
    assert_eq!(s.listing(&subject).application_end, end);
    s.advance(APPLY);
    s.update(&subject).unwrap();
    assert!(s.is_listed(&subject));
}

#[test]
fn instantiate_validates() {
    let mut s = SuiteBuilder::new().build();
    let owner = s.owner.clone();
    let code = s.tcr_code;
    let mut params = default_params();
    params.vote_quorum_pct = 150;
    let err = s
        .app
        .instantiate_contract(
            code,
            owner.clone(),
            &InstantiateMsg {
                owner: None,
                stake: AssetInfoUnchecked::Native(DENOM.into()),
                params,
            },
            &[],
            "bad",
            None,
        )
        .unwrap_err()
        .downcast::<ContractError>()
        .unwrap();
    assert_eq!(
        err,
        ContractError::InvalidParam {
            param: "vote_quorum_pct",
            reason: "must be a percentage, 0 to 100"
        }
    );
    let err = s
        .app
        .instantiate_contract(
            code,
            owner,
            &InstantiateMsg {
                owner: None,
                stake: AssetInfoUnchecked::Native("x".into()),
                params: default_params(),
            },
            &[],
            "bad",
            None,
        )
        .unwrap_err()
        .downcast::<ContractError>()
        .unwrap();
    assert!(matches!(err, ContractError::Asset(_)));
}

#[test]
fn listings_are_paginated() {
    let mut s = SuiteBuilder::new().build();
    let alice = s.addr("alice");
    for i in 0..35 {
        s.apply(&alice, &format!("sensor-{i:02}"), MIN_DEPOSIT)
            .unwrap();
    }
    let first = s.listings(None, None).listings;
    assert_eq!(first.len(), 10);
    assert_eq!(first[0].subject, "sensor-00");
    let page = s.listings(Some("sensor-09".into()), Some(100)).listings;
    assert_eq!(page.len(), 25);
    assert_eq!(page[0].subject, "sensor-10");
    s.assert_conserved();
}

#[test]
fn cw20_stake_works_through_receive() {
    let mut s = SuiteBuilder::new().with_cw20().build();
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    let subject = alice.to_string();
    s.apply_self(&alice, 1_500).unwrap();
    s.top_up(&alice, &subject, 500).unwrap();
    s.deposit_votes(&bob, 700).unwrap();
    assert_eq!(s.held(), 2_700);
    s.assert_conserved();
    s.withdraw(&alice, &subject, 1_000).unwrap();
    s.withdraw_votes(&bob, 700).unwrap();
    assert_eq!(s.balance(&alice), FUNDS - 1_000);
    assert_eq!(s.held(), 1_000);
    // Native coins are refused when the stake is a cw20.
    s.app
        .sudo(cw_multi_test::SudoMsg::Bank(
            cw_multi_test::BankSudo::Mint {
                to_address: bob.to_string(),
                amount: coins(10, DENOM),
            },
        ))
        .unwrap();
    let err = s.app.execute_contract(
        bob.clone(),
        s.tcr.clone(),
        &ExecuteMsg::DepositVotingTokens {},
        &coins(10, DENOM),
    );
    assert_eq!(
        contract_err(err),
        ContractError::Cw20Only {
            token: s.token.clone().unwrap().to_string()
        }
    );
    // A cw20 that is not the stake token is refused.
    let fake_code = s.app.store_code(cw20_contract());
    let fake = s
        .app
        .instantiate_contract(
            fake_code,
            bob.clone(),
            &cw20_base::msg::InstantiateMsg {
                name: "Fake".into(),
                symbol: "FAKE".into(),
                decimals: 6,
                initial_balances: vec![cw20::Cw20Coin {
                    address: bob.to_string(),
                    amount: Uint128::new(1_000),
                }],
                mint: None,
                marketing: None,
            },
            &[],
            "fake",
            None,
        )
        .unwrap();
    let err = s.app.execute_contract(
        bob.clone(),
        fake.clone(),
        &cw20::Cw20ExecuteMsg::Send {
            contract: s.tcr.to_string(),
            amount: Uint128::new(100),
            msg: cosmwasm_std::to_json_binary(
                &token_curated_registry::msg::ReceiveMsg::DepositVotingTokens {},
            )
            .unwrap(),
        },
        &[],
    );
    assert_eq!(
        contract_err(err),
        ContractError::WrongToken {
            token: fake.to_string(),
            expected: s.token.clone().unwrap().to_string()
        }
    );
    s.assert_conserved();
}

#[test]
fn cw20_hook_refused_when_stake_is_native() {
    let mut s = SuiteBuilder::new().build();
    let bob = s.addr("bob");
    let err = s.exec(
        &bob,
        ExecuteMsg::Receive(cw20::Cw20ReceiveMsg {
            sender: bob.to_string(),
            amount: Uint128::new(5),
            msg: cosmwasm_std::to_json_binary(
                &token_curated_registry::msg::ReceiveMsg::DepositVotingTokens {},
            )
            .unwrap(),
        }),
    );
    assert_eq!(
        contract_err(err),
        ContractError::NativeOnly {
            denom: DENOM.into()
        }
    );
}
