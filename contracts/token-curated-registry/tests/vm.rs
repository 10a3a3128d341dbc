//! The optimized wasm (`artifacts/token-curated-registry.wasm`, built by
//! `ci/build-wasm.sh token-curated-registry`) in cosmwasm-vm: a full
//! application → challenge → vote → resolution → claim cycle, the curation
//! interface and typed errors surfacing from the wasm.

use cosmwasm_std::{coins, Addr, BankMsg, Binary, CosmosMsg, Uint128};
use token_curated_registry::msg::{
    CommitmentResponse, ConfigResponse, ExecuteMsg, InstantiateMsg, ListingResponse, MigrateMsg,
    PollResponse, QueryMsg, VoterResponse,
};
use token_curated_registry::state::{Choice, ListingStatus, Params};
use wevalue_common::asset::AssetInfoUnchecked;
use wevalue_common::curation::{CurationQueryMsg, IsListedResponse};
use wevalue_vm_harness::{VmContract, BLOCK_SECONDS};

const DENOM: &str = "ucity";
const MIN: u128 = 1_000;
const APPLY: u64 = 600;
const COMMIT: u64 = 300;
const REVEAL: u64 = 300;

fn setup() -> (VmContract, Addr) {
    let mut vm = VmContract::new("token-curated-registry");
    let owner = vm.user_addr("owner");
    vm.instantiate(
        &owner,
        &[],
        &InstantiateMsg {
            owner: None,
            stake: AssetInfoUnchecked::Native(DENOM.into()),
            params: Params {
                min_deposit: Uint128::new(MIN),
                apply_stage_secs: APPLY,
                commit_stage_secs: COMMIT,
                reveal_stage_secs: REVEAL,
                dispensation_pct: 50,
                vote_quorum_pct: 50,
                exit_delay_secs: COMMIT + REVEAL,
                deposit_grace_secs: 3_600,
                min_survival_weight: Uint128::new(200),
                unrevealed_penalty_pct: 10,
            },
        },
    )
    .expect("instantiates");
    (vm, owner)
}

fn advance_secs(vm: &mut VmContract, secs: u64) {
    vm.advance_blocks(secs.div_ceil(BLOCK_SECONDS));
}

fn is_listed(vm: &mut VmContract, subject: &Addr) -> bool {
    let (r, _): (IsListedResponse, _) = vm
        .query(&CurationQueryMsg::IsListed {
            subject: subject.to_string(),
        })
        .unwrap();
    r.listed
}

fn commitment(
    vm: &mut VmContract,
    poll_id: u64,
    voter: &Addr,
    choice: Choice,
    salt: &Binary,
) -> cosmwasm_std::HexBinary {
    let (r, _): (CommitmentResponse, _) = vm
        .query(&QueryMsg::Commitment {
            poll_id,
            voter: voter.to_string(),
            choice,
            salt: salt.clone(),
        })
        .unwrap();
    r.commitment
}

#[test]
fn full_curation_cycle_in_the_vm() {
    let (mut vm, _owner) = setup();
    let seller = vm.user_addr("seller");
    let challenger = vm.user_addr("challenger");
    let voters: Vec<Addr> = (0..3).map(|i| vm.user_addr(&format!("voter{i}"))).collect();

    vm.execute(
        &seller,
        &coins(2_000, DENOM),
        &ExecuteMsg::Apply {
            subject: seller.to_string(),
            data: "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG".into(),
        },
    )
    .unwrap();
    assert!(!is_listed(&mut vm, &seller));
    let update = ExecuteMsg::UpdateStatus {
        subject: seller.to_string(),
    };
    let err = vm.execute(&challenger, &[], &update).unwrap_err();
    assert!(
        err.contains("the application period has not ended"),
        "{err}"
    );
    advance_secs(&mut vm, APPLY);
    vm.execute(&challenger, &[], &update).unwrap();
    // The data registry's exact query message is answered.
    assert!(is_listed(&mut vm, &seller));

    let out = vm
        .execute(
            &challenger,
            &coins(MIN, DENOM),
            &ExecuteMsg::Challenge {
                subject: seller.to_string(),
                reason: "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG".into(),
            },
        )
        .unwrap();
    let poll_id: u64 = out.attr("poll_id").unwrap().parse().unwrap();
    for (i, v) in voters.iter().enumerate() {
        vm.execute(v, &coins(100, DENOM), &ExecuteMsg::DepositVotingTokens {})
            .unwrap();
        let choice = if i < 2 { Choice::Keep } else { Choice::Remove };
        let salt = Binary::from(vec![i as u8 + 1; 32]);
        let c = commitment(&mut vm, poll_id, v, choice, &salt);
        vm.execute(
            v,
            &[],
            &ExecuteMsg::CommitVote {
                poll_id,
                commitment: c,
                weight: Uint128::new(100),
            },
        )
        .unwrap();
    }
    advance_secs(&mut vm, COMMIT);
    // A wrong salt is a typed error from the wasm.
    let err = vm
        .execute(
            &voters[0],
            &[],
            &ExecuteMsg::RevealVote {
                poll_id,
                choice: Choice::Keep,
                salt: Binary::from(vec![9; 32]),
            },
        )
        .unwrap_err();
    assert!(err.contains("do not match the commitment"), "{err}");
    for (i, v) in voters.iter().enumerate() {
        let choice = if i < 2 { Choice::Keep } else { Choice::Remove };
        vm.execute(
            v,
            &[],
            &ExecuteMsg::RevealVote {
                poll_id,
                choice,
                salt: Binary::from(vec![i as u8 + 1; 32]),
            },
        )
        .unwrap();
    }
    advance_secs(&mut vm, REVEAL);
    let out = vm.execute(&challenger, &[], &update).unwrap();
    assert_eq!(out.attr("result"), Some("kept"));
    let (poll, _): (PollResponse, _) = vm.query(&QueryMsg::Poll { poll_id }).unwrap();
    assert_eq!(poll.outcome, Some(Choice::Keep));
    assert_eq!(poll.reward_pool.u128(), 500);

    // Each winning voter pulls 250; the loser gets nothing.
    let out = vm
        .execute(&voters[0], &[], &ExecuteMsg::ClaimReward { poll_id })
        .unwrap();
    assert_eq!(
        out.response.messages[0].msg,
        CosmosMsg::Bank(BankMsg::Send {
            to_address: voters[0].to_string(),
            amount: coins(250, DENOM)
        })
    );
    let err = vm
        .execute(&voters[0], &[], &ExecuteMsg::ClaimReward { poll_id })
        .unwrap_err();
    assert!(err.contains("already claimed"), "{err}");
    let err = vm
        .execute(&voters[2], &[], &ExecuteMsg::ClaimReward { poll_id })
        .unwrap_err();
    assert!(err.contains("losing side"), "{err}");
    vm.execute(&voters[1], &[], &ExecuteMsg::ClaimReward { poll_id })
        .unwrap();
    let (cfg, _): (ConfigResponse, _) = vm.query(&QueryMsg::Config {}).unwrap();
    assert_eq!(cfg.dust, Uint128::zero());

    let (l, _): (ListingResponse, _) = vm
        .query(&QueryMsg::Listing {
            subject: seller.to_string(),
        })
        .unwrap();
    assert_eq!(l.status, ListingStatus::Listed);
    assert_eq!(l.deposit.u128(), 2_500);
    let (v, _): (VoterResponse, _) = vm
        .query(&QueryMsg::Voter {
            address: voters[2].to_string(),
        })
        .unwrap();
    assert_eq!((v.balance.u128(), v.locked.u128()), (100, 0));
}

#[test]
fn payments_and_migration_in_the_vm() {
    let (mut vm, owner) = setup();
    let alice = vm.user_addr("alice");
    let err = vm
        .execute(
            &alice,
            &coins(5, "uother"),
            &ExecuteMsg::DepositVotingTokens {},
        )
        .unwrap_err();
    assert!(err.contains("ucity"), "{err}");
    let err = vm
        .execute(
            &alice,
            &coins(5, DENOM),
            &ExecuteMsg::WithdrawVotingTokens {
                amount: Uint128::one(),
            },
        )
        .unwrap_err();
    assert!(
        err.to_lowercase().contains("does not accept funds") || err.contains("funds"),
        "{err}"
    );
    let err = vm
        .execute(
            &alice,
            &[],
            &ExecuteMsg::UpdateParams(token_curated_registry::msg::ParamsUpdate {
                min_deposit: Some(Uint128::new(1)),
                ..Default::default()
            }),
        )
        .unwrap_err();
    assert!(err.contains("owner"), "{err}");
    vm.execute(
        &owner,
        &[],
        &ExecuteMsg::UpdateParams(token_curated_registry::msg::ParamsUpdate {
            min_deposit: Some(Uint128::new(1)),
            ..Default::default()
        }),
    )
    .unwrap();
    let out = vm.migrate(&MigrateMsg {}).unwrap();
    assert_eq!(out.attr("action"), Some("migrate"));
}

#[test]
fn hardening_rules_hold_in_the_vm() {
    let (mut vm, _owner) = setup();
    let seller = vm.user_addr("seller");
    let bob = vm.user_addr("bob");
    let voter = vm.user_addr("voter");
    let apply = |subject: String| ExecuteMsg::Apply {
        subject,
        data: "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG".into(),
    };
    // Another spelling of the seller's address is refused (bech32 in wasm).
    let err = vm
        .execute(
            &bob,
            &coins(MIN, DENOM),
            &apply(seller.as_str().to_ascii_uppercase()),
        )
        .unwrap_err();
    assert!(err.contains("normalized (lowercase) form"), "{err}");
    vm.execute(&seller, &coins(MIN, DENOM), &apply(seller.to_string()))
        .unwrap();
    let challenge = ExecuteMsg::Challenge {
        subject: seller.to_string(),
        reason: "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG".into(),
    };
    let err = vm
        .execute(&seller, &coins(MIN, DENOM), &challenge)
        .unwrap_err();
    assert!(err.contains("may not challenge it"), "{err}");
    let out = vm.execute(&bob, &coins(MIN, DENOM), &challenge).unwrap();
    let poll_id: u64 = out.attr("poll_id").unwrap().parse().unwrap();
    // An unrevealed vote forfeits 10 %, taken at the next withdrawal.
    vm.execute(
        &voter,
        &coins(100, DENOM),
        &ExecuteMsg::DepositVotingTokens {},
    )
    .unwrap();
    let salt = Binary::from(vec![3; 32]);
    let c = commitment(&mut vm, poll_id, &voter, Choice::Keep, &salt);
    vm.execute(
        &voter,
        &[],
        &ExecuteMsg::CommitVote {
            poll_id,
            commitment: c,
            weight: Uint128::new(100),
        },
    )
    .unwrap();
    advance_secs(&mut vm, COMMIT + REVEAL);
    let (v, _): (VoterResponse, _) = vm
        .query(&QueryMsg::Voter {
            address: voter.to_string(),
        })
        .unwrap();
    assert_eq!((v.balance.u128(), v.forfeit.u128()), (90, 10));
    let out = vm
        .execute(
            &voter,
            &[],
            &ExecuteMsg::WithdrawVotingTokens {
                amount: Uint128::new(90),
            },
        )
        .unwrap();
    assert_eq!(out.attr("forfeited"), Some("10"));
    let (cfg, _): (ConfigResponse, _) = vm.query(&QueryMsg::Config {}).unwrap();
    assert_eq!(cfg.forfeited.u128(), 10);
}
