//! A cw3 fixed multisig (2 of 3) owns the registry and changes a parameter
//! through a passed proposal; a poll already running keeps its rules.

mod suite;

use cosmwasm_std::{to_json_binary, Addr, CosmosMsg, Empty, Uint128, WasmMsg};
use cw3::Vote;
use cw_multi_test::{Contract, ContractWrapper, Executor};
use cw_utils::{Duration, Threshold};
use suite::*;
use token_curated_registry::msg::{ExecuteMsg, ParamsUpdate};
use token_curated_registry::state::Choice;
use token_curated_registry::ContractError;

fn multisig_contract() -> Box<dyn Contract<Empty>> {
    Box::new(ContractWrapper::new(
        cw3_fixed_multisig::contract::execute,
        cw3_fixed_multisig::contract::instantiate,
        cw3_fixed_multisig::contract::query,
    ))
}

struct Dao {
    addr: Addr,
    members: [Addr; 3],
}

impl Dao {
    /// Proposes `msg` to the registry (the proposer votes yes), has a second
    /// member vote yes, and executes it.
    fn pass(&self, s: &mut Suite, msg: ExecuteMsg) -> u64 {
        let proposal: CosmosMsg = WasmMsg::Execute {
            contract_addr: s.tcr.to_string(),
            msg: to_json_binary(&msg).unwrap(),
            funds: vec![],
        }
        .into();
        let res = s
            .app
            .execute_contract(
                self.members[0].clone(),
                self.addr.clone(),
                &cw3_fixed_multisig::msg::ExecuteMsg::Propose {
                    title: "registry".into(),
                    description: "change the registry".into(),
                    msgs: vec![proposal],
                    latest: None,
                },
                &[],
            )
            .unwrap();
        let id: u64 = attr(&res, "proposal_id").parse().unwrap();
        // One vote of three is not enough: execution fails.
        assert!(s
            .app
            .execute_contract(
                self.members[2].clone(),
                self.addr.clone(),
                &cw3_fixed_multisig::msg::ExecuteMsg::Execute { proposal_id: id },
                &[],
            )
            .is_err());
        s.app
            .execute_contract(
                self.members[1].clone(),
                self.addr.clone(),
                &cw3_fixed_multisig::msg::ExecuteMsg::Vote {
                    proposal_id: id,
                    vote: Vote::Yes,
                },
                &[],
            )
            .unwrap();
        s.app
            .execute_contract(
                self.members[2].clone(),
                self.addr.clone(),
                &cw3_fixed_multisig::msg::ExecuteMsg::Execute { proposal_id: id },
                &[],
            )
            .unwrap();
        id
    }
}

fn dao(s: &mut Suite) -> Dao {
    let members = ["m1", "m2", "m3"].map(|m| s.addr(m));
    let code = s.app.store_code(multisig_contract());
    let addr = s
        .app
        .instantiate_contract(
            code,
            s.owner.clone(),
            &cw3_fixed_multisig::msg::InstantiateMsg {
                voters: members
                    .iter()
                    .map(|m| cw3_fixed_multisig::msg::Voter {
                        addr: m.to_string(),
                        weight: 1,
                    })
                    .collect(),
                threshold: Threshold::AbsoluteCount { weight: 2 },
                max_voting_period: Duration::Time(7 * 24 * 3600),
            },
            &[],
            "dao",
            None,
        )
        .unwrap();
    Dao { addr, members }
}

#[test]
fn multisig_dao_governs_parameters() {
    let mut s = SuiteBuilder::new().build();
    let dao = dao(&mut s);
    let owner = s.owner.clone();
    // The deployer hands ownership to the DAO (two-step: the DAO accepts by proposal).
    s.exec(
        &owner,
        ExecuteMsg::UpdateOwnership(cw_ownable::Action::TransferOwnership {
            new_owner: dao.addr.to_string(),
            expiry: None,
        }),
    )
    .unwrap();
    dao.pass(
        &mut s,
        ExecuteMsg::UpdateOwnership(cw_ownable::Action::AcceptOwnership),
    );
    let ownership: cw_ownable::Ownership<Addr> =
        s.query(&token_curated_registry::msg::QueryMsg::Ownership {});
    assert_eq!(ownership.owner, Some(dao.addr.clone()));

    // A poll starts under the old rules.
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    let carol = s.addr("carol");
    s.apply_self(&alice, 2_000).unwrap();
    s.advance(APPLY);
    s.update(alice.as_str()).unwrap();
    let poll = s.challenge_ok(&bob, alice.as_str());

    // Neither the old owner nor a DAO member may change parameters directly.
    for who in [&owner, &dao.members[0]] {
        assert_eq!(
            contract_err(s.update_params(
                who,
                ParamsUpdate {
                    dispensation_pct: Some(80),
                    ..Default::default()
                }
            )),
            ContractError::Ownership(cw_ownable::OwnershipError::NotOwner)
        );
    }
    // The DAO passes a proposal.
    dao.pass(
        &mut s,
        ExecuteMsg::UpdateParams(ParamsUpdate {
            dispensation_pct: Some(80),
            min_deposit: Some(Uint128::new(3_000)),
            ..Default::default()
        }),
    );
    let p = s.params();
    assert_eq!((p.dispensation_pct, p.min_deposit.u128()), (80, 3_000));

    // The running poll keeps 50 % and its 1,000 stake.
    s.deposit_votes(&carol, 10).unwrap();
    s.commit(&carol, poll, Choice::Keep, 1, 10).unwrap();
    s.advance(COMMIT);
    s.reveal(&carol, poll, Choice::Keep, 1).unwrap();
    s.advance(REVEAL);
    let res = s.update(alice.as_str()).unwrap();
    assert_eq!(attr(&res, "winner_reward"), "500");
    assert_eq!(attr(&res, "reward_pool"), "500");
    // The increase applies to existing listings (and to challenges) only
    // after the grace period: until then the stake is the old 1,000.
    let cfg = s.config();
    assert_eq!(cfg.min_deposit_in_force.u128(), 1_000);
    let applies_at = cfg.pending_min_deposit.unwrap().applies_at;
    assert_eq!(
        contract_err(s.challenge(&bob, alice.as_str(), 3_000)),
        ContractError::WrongChallengeStake {
            expected: Uint128::new(1_000),
            received: Uint128::new(3_000)
        }
    );
    // Then alice's 2,500 no longer backs a stake of 3,000.
    s.advance(applies_at.seconds() - s.now().seconds());
    assert_eq!(s.config().pending_min_deposit, None);
    let res = s.challenge(&bob, alice.as_str(), 3_000).unwrap();
    assert_eq!(attr(&res, "result"), "removed_underfunded");
    s.assert_conserved();
}
