//! The security review's findings, each as the attack or failure it
//! describes (every test here failed on the contract before the hardening).

use cosmwasm_std::{coin, Binary, Uint128};
use value_contract::msg::{Assignment, ExecuteMsg, OracleSetMsg, ReceiveMsg};
use value_contract::state::{TaskKind, TaskStatus};
use value_contract::ContractError;
use wevalue_common::asset::AssetInfoUnchecked;

use crate::suite::{attr, params, template, Suite, SuiteBuilder, DENOM, DEPOSIT, PHASE};

/// A competition with `households` confirmed and the clock at the
/// execution deadline.
fn verifying(s: &mut Suite, households: &[&str], bond: u128) -> u64 {
    let tpl = s.create_template(template(TaskKind::Competition));
    let mut p = params(1_000, 0, households.len() as u32);
    p.bond = Uint128::new(bond);
    let task = s.create_task(tpl, p);
    s.contribute("city", task, 1_000);
    for h in households {
        s.offer(h, task, 0, 1, 1);
    }
    s.wait(2 * PHASE);
    for h in households {
        s.confirm(h, task, bond);
    }
    s.wait(4 * PHASE);
    task
}

#[test]
fn sixty_four_throwaway_offers_cost_the_attacker_and_let_sponsors_out() {
    let names: Vec<String> = (0..64).map(|i| format!("sybil{i}")).collect();
    let mut funded: Vec<&str> = names.iter().map(String::as_str).collect();
    funded.extend(["city", "brand", "honest"]);
    let mut s = SuiteBuilder::new().with_funded(&funded).build();
    let tpl = s.create_template(template(TaskKind::Competition));
    let task = s.create_task(tpl, params(1_000, 0, 3));
    s.contribute("city", task, 600);
    s.contribute("brand", task, 400);
    // 64 throwaway accounts fill the offer cap at price 0, each paying the deposit.
    for n in &names {
        s.offer(n, task, 0, 1, 1);
    }
    assert_eq!(
        s.offer_err("honest", task, 0, 1, 1).unwrap_err(),
        ContractError::TooManyOffers {
            task_id: task,
            max: 64
        }
    );
    assert_eq!(s.contract_balance(), 1_000 + 64 * DEPOSIT);
    s.wait(2 * PHASE);
    s.advance(task);
    assert_eq!(s.task(task).slot_count, 3);
    // Before the first round is over the sponsors are bound.
    assert!(matches!(
        s.refund_err("city", task).unwrap_err(),
        ContractError::WrongStatus {
            status: TaskStatus::Accepting,
            ..
        }
    ));
    // Nobody confirms the first round: its three matched deposits are slashed.
    s.wait(PHASE);
    let outsider = s.addr("outsider");
    assert!(matches!(
        s.execute(&outsider, &ExecuteMsg::Refund { task_id: task }, &[])
            .unwrap_err(),
        ContractError::WrongStatus { .. }
    ));
    // A sponsor pulls out: the task is cancelled, the sponsors share
    // their contributions plus the slashed deposits.
    let res = s.refund_err("city", task).unwrap();
    assert_eq!(attr(&res, "cancelled"), "true");
    let t = s.task(task);
    assert_eq!(
        (t.status, t.slashed.u128()),
        (TaskStatus::Cancelled, 3 * DEPOSIT)
    );
    // 600 back plus 600/1,000 of the 30 slashed.
    assert_eq!(s.balance("city"), 1_000_000_000 + 3 * DEPOSIT * 600 / 1_000);
    assert_eq!(s.refund("brand", task), 400 + 3 * DEPOSIT * 400 / 1_000);
    // Everyone else takes their deposit back, except the three who lapsed.
    let mut lost = 0;
    for n in &names {
        match s.withdraw_err(n, task) {
            Ok(back) => assert_eq!(back, DEPOSIT),
            Err(ContractError::DepositSlashed { .. }) => lost += DEPOSIT,
            Err(e) => panic!("{n}: {e}"),
        }
    }
    assert_eq!(lost, 3 * DEPOSIT);
    assert_eq!(s.contract_balance(), 0);
}

#[test]
fn one_faulty_oracle_of_two_of_three_cannot_shade_the_value() {
    let mut s = SuiteBuilder::new()
        .with_oracles(3, 2)
        .with_funded(&["city", "h1"])
        .build();
    let task = verifying(&mut s, &["h1"], 0);
    // The faulty oracle reports first, 5% low (inside the tolerance).
    s.attest(0, task, &[("h1", 95)]);
    s.attest(1, task, &[("h1", 100)]);
    assert_eq!(s.attestations(task, "h1").accepted, None);
    s.attest(2, task, &[("h1", 100)]);
    assert_eq!(s.attestations(task, "h1").accepted, Some(Uint128::new(100)));
}

#[test]
fn a_template_tolerance_above_10_percent_is_refused() {
    let mut s = SuiteBuilder::new().build();
    let owner = s.owner.clone();
    let mut t = template(TaskKind::Competition);
    t.tolerance_bps = 10_000;
    assert_eq!(
        s.execute(&owner, &ExecuteMsg::CreateTemplate(t), &[])
            .unwrap_err(),
        ContractError::OutOfRange {
            field: "tolerance_bps",
            min: 0,
            max: 1_000,
            actual: 10_000
        }
    );
    let mut t = template(TaskKind::Competition);
    t.offer_deposit = Uint128::zero();
    assert_eq!(
        s.execute(&owner, &ExecuteMsg::CreateTemplate(t), &[])
            .unwrap_err(),
        ContractError::ZeroAmount {
            what: "offer_deposit"
        }
    );
}

#[test]
fn a_participant_the_oracles_never_measured_keeps_the_bond() {
    let mut s = SuiteBuilder::new()
        .with_oracles(2, 2)
        .with_funded(&["city", "h1", "h2"])
        .build();
    let task = verifying(&mut s, &["h1", "h2"], 10);
    // Oracle 1 withholds h2's value (n = k).
    s.attest(0, task, &[("h1", 5), ("h2", 7)]);
    s.attest(1, task, &[("h1", 5)]);
    s.wait(PHASE);
    s.advance(task);
    s.wait(PHASE);
    s.advance(task);
    assert_eq!(s.status(task), TaskStatus::Settled);
    assert_eq!(s.claim("h2", task), 10, "the unmeasured participant's bond");
    assert_eq!(s.claim("h1", task), 1_000 + 10);
    assert_eq!(s.refund("city", task), 0);
    assert_eq!(s.contract_balance(), 0);
}

#[test]
fn one_key_in_two_encodings_is_one_member() {
    let mut s = SuiteBuilder::new().build();
    let owner = s.owner.clone();
    let mut second = s.oracles[0].member();
    second.address = s.oracles[1].addr.to_string();
    let crate::suite::OracleKey::Secp(k) = &s.oracles[0].key else {
        unreachable!()
    };
    let uncompressed = Binary::from(k.verifying_key().to_encoded_point(false).as_bytes());
    second.pubkey = uncompressed.clone();
    let set = OracleSetMsg {
        members: vec![s.oracles[0].member(), second],
        threshold: 2,
    };
    assert_eq!(
        s.execute(&owner, &ExecuteMsg::SetOracles(set), &[])
            .unwrap_err(),
        ContractError::InvalidOracleSet {
            reason: "duplicate member address or key"
        }
    );
    // Registered uncompressed, a key is stored (and reported) compressed.
    let mut alone = s.oracles[0].member();
    alone.pubkey = uncompressed;
    let set = OracleSetMsg {
        members: vec![alone],
        threshold: 1,
    };
    s.execute(&owner, &ExecuteMsg::SetOracles(set), &[])
        .unwrap();
    let o: value_contract::msg::OraclesResponse =
        s.query(&value_contract::msg::QueryMsg::Oracles {});
    assert_eq!(o.members[0].pubkey, s.oracles[0].member().pubkey);
}

#[test]
fn a_quorum_the_oracle_set_cannot_reach_is_refused() {
    let mut s = SuiteBuilder::new()
        .with_oracles(3, 2)
        .with_funded(&["city"])
        .build();
    let owner = s.owner.clone();
    let mut t = template(TaskKind::Competition);
    t.min_quorum = 5;
    assert_eq!(
        s.execute(&owner, &ExecuteMsg::CreateTemplate(t), &[])
            .unwrap_err(),
        ContractError::QuorumUnreachable {
            min_quorum: 5,
            members: 3
        }
    );
    // A running task needs 3; the set may not shrink below it.
    let mut t = template(TaskKind::Competition);
    t.min_quorum = 3;
    let tpl = s.create_template(t);
    let task = s.create_task(tpl, params(100, 0, 1));
    let two = OracleSetMsg {
        members: s.oracles[..2].iter().map(|o| o.member()).collect(),
        threshold: 2,
    };
    assert_eq!(
        s.execute(&owner, &ExecuteMsg::SetOracles(two.clone()), &[])
            .unwrap_err(),
        ContractError::RotationStrandsTasks {
            min_quorum: 3,
            members: 2,
            tasks: 1
        }
    );
    // Once the task is final (its funding failed), the set may shrink,
    // and the template's quorum is then out of reach for new tasks.
    s.wait(PHASE);
    s.advance(task);
    assert_eq!(s.status(task), TaskStatus::FundingFailed);
    s.execute(&owner, &ExecuteMsg::SetOracles(two), &[])
        .unwrap();
    assert_eq!(
        s.create_task_err(tpl, params(100, 0, 1)).unwrap_err(),
        ContractError::QuorumUnreachable {
            min_quorum: 3,
            members: 2
        }
    );
}

#[test]
fn a_stale_task_catches_up_every_acceptance_round_at_once() {
    let mut s = SuiteBuilder::new()
        .with_funded(&["city", "p1", "p2", "p3"])
        .build();
    let tpl = s.create_template(template(TaskKind::Bounty));
    let task = s.create_task(tpl, params(300, 1, 1));
    s.contribute("city", task, 300);
    s.offer("p1", task, 100, 1, 1);
    s.offer("p2", task, 200, 1, 1);
    s.offer("p3", task, 300, 1, 1);
    s.wait(2 * PHASE);
    s.advance(task);
    // Nobody touches the task for all three rounds.
    s.wait(3 * PHASE);
    s.advance(task);
    let t = s.task(task);
    assert_eq!(t.stored_status, TaskStatus::Expired);
    // p1 had its round and lapsed; the refills were recorded after their
    // rounds had ended, so nobody could have confirmed them: not slashed.
    assert_eq!(t.slashed.u128(), DEPOSIT);
    assert_eq!(
        s.withdraw_err("p1", task).unwrap_err(),
        ContractError::DepositSlashed {
            task_id: task,
            participant: s.addr("p1").to_string()
        }
    );
    assert_eq!(s.withdraw("p2", task), DEPOSIT);
    assert_eq!(s.withdraw("p3", task), DEPOSIT);
    assert_eq!(s.refund("city", task), 300 + DEPOSIT);
    assert_eq!(s.contract_balance(), 0);
}

#[test]
fn one_stale_item_does_not_abort_a_batch_attestation() {
    let mut s = SuiteBuilder::new()
        .with_oracles(3, 2)
        .with_funded(&["city", "h1", "h2"])
        .build();
    let task = verifying(&mut s, &["h1", "h2"], 0);
    let r = s.report(task, &[("h1", 7)]);
    let sigs = s.sign(&r, &[0, 1]);
    s.submit_report_err(task, r, sigs).unwrap();
    // The oracle's batch still lists h1, now final.
    let res = s.attest_err(2, task, &[("h1", 7), ("h2", 9)]).unwrap();
    assert_eq!(
        attr(&res, "skipped"),
        format!(
            "{}: the value of {} on task {task} is already accepted",
            s.addr("h1"),
            s.addr("h1")
        )
    );
    assert_eq!(s.attestations(task, "h2").attestations.len(), 1);
    // A batch of nothing but stale items fails with the first one's error.
    assert_eq!(
        s.attest_err(2, task, &[("h1", 7)]).unwrap_err(),
        ContractError::AlreadyFinal {
            task_id: task,
            participant: s.addr("h1").to_string()
        }
    );
}

#[test]
fn a_later_round_does_not_invalidate_an_unsubmitted_report() {
    let mut s = SuiteBuilder::new()
        .with_oracles(3, 2)
        .with_funded(&["city", "h1", "h2"])
        .build();
    let task = verifying(&mut s, &["h1", "h2"], 0);
    let r1 = s.report(task, &[("h1", 7)]);
    let r2 = s.report(task, &[("h2", 9)]);
    let sigs2 = s.sign(&r2, &[0, 1]);
    let sigs1 = s.sign(&r1, &[1, 2]);
    s.submit_report_err(task, r2, sigs2).unwrap();
    s.submit_report_err(task, r1.clone(), sigs1.clone())
        .unwrap();
    assert_eq!(s.status(task), TaskStatus::Disputable);
    assert_eq!(s.task(task).last_report_round, 2);
    assert_eq!(
        s.submit_report_err(task, r1, sigs1).unwrap_err(),
        ContractError::WrongStatus {
            task_id: task,
            status: TaskStatus::Disputable,
            action: "submit_report"
        }
    );
}

#[test]
fn a_no_op_revision_keeps_the_solvers_proposal() {
    let mut s = SuiteBuilder::new()
        .with_funded(&["city", "a", "b", "c"])
        .build();
    let tpl = s.create_template(template(TaskKind::PerUnit));
    let task = s.create_task(tpl, params(100, 0, 3));
    s.contribute("city", task, 100);
    s.offer("a", task, 1, 70, 70);
    let b = s.offer("b", task, 1, 50, 50);
    let c = s.offer("c", task, 1, 50, 50);
    s.wait(PHASE);
    let asg = |offer_id, units| Assignment {
        offer_id,
        revision: 0,
        units,
    };
    s.propose_err(task, vec![asg(b, 50), asg(c, 50)]).unwrap();
    let c_addr = s.addr("c");
    assert_eq!(
        s.execute(
            &c_addr,
            &ExecuteMsg::ReviseOffer {
                task_id: task,
                price: Uint128::new(1),
                capacity: 50,
                min_units: 50,
            },
            &[],
        )
        .unwrap_err(),
        ContractError::OfferUnchanged {
            task_id: task,
            offer_id: c
        }
    );
    s.wait(PHASE);
    s.advance(task);
    assert!(s.matching(task).from_proposal);
}

#[test]
fn value_totals_that_overflow_are_refused_with_an_error() {
    let mut s = SuiteBuilder::new()
        .with_oracles(3, 2)
        .with_funded(&["city", "h1", "h2"])
        .build();
    let task = verifying(&mut s, &["h1", "h2"], 0);
    let half = u128::MAX / 2 + 1;
    let r = s.report(task, &[("h1", half), ("h2", half)]);
    let sigs = s.sign(&r, &[0, 1]);
    assert!(matches!(
        s.submit_report_err(task, r, sigs).unwrap_err(),
        ContractError::Overflow(_)
    ));
}

#[test]
fn offer_deposits_are_exact_and_come_back_unless_a_matched_offer_lapses() {
    let mut s = SuiteBuilder::new()
        .with_funded(&["city", "p1", "p2", "p3"])
        .build();
    let tpl = s.create_template(template(TaskKind::Bounty));
    let task = s.create_task(tpl, params(300, 1, 1));
    let p1 = s.addr("p1");
    let msg = ExecuteMsg::SubmitOffer {
        task_id: task,
        price: Uint128::new(100),
        capacity: 1,
        min_units: 1,
        reputation_ref: None,
    };
    assert_eq!(
        s.execute(&p1, &msg, &[coin(DEPOSIT - 1, DENOM)])
            .unwrap_err(),
        ContractError::WrongDeposit {
            task_id: task,
            expected: Uint128::new(DEPOSIT),
            received: Uint128::new(DEPOSIT - 1)
        }
    );
    assert!(matches!(
        s.execute(&p1, &msg, &[]).unwrap_err(),
        ContractError::Payment(_)
    ));
    s.offer("p1", task, 100, 1, 1);
    s.offer("p2", task, 200, 1, 1);
    s.offer("p3", task, 250, 1, 1);
    // Withdrawn before matching: the deposit comes back, the place frees up.
    assert_eq!(s.withdraw("p3", task), DEPOSIT);
    s.contribute("city", task, 300);
    s.wait(2 * PHASE);
    s.advance(task);
    // p1 holds the slot: the deposit is bound until it confirms.
    assert_eq!(
        s.withdraw_err("p1", task).unwrap_err(),
        ContractError::OfferHoldsSlot {
            task_id: task,
            participant: s.addr("p1").to_string(),
            reason: "pending confirmation"
        }
    );
    let before = s.balance("p1");
    s.confirm("p1", task, 0);
    assert_eq!(s.balance("p1"), before + DEPOSIT);
    assert!(matches!(
        s.withdraw_err("p1", task).unwrap_err(),
        ContractError::OfferHoldsSlot { .. }
    ));
    // p2 was never matched; once the task executes its deposit is free.
    assert_eq!(s.withdraw("p2", task), DEPOSIT);
    assert_eq!(s.task(task).slashed, Uint128::zero());
}

#[test]
fn cw20_offers_pay_their_deposit_through_the_hook() {
    let mut s = SuiteBuilder::new().with_funded(&["city", "h1"]).build();
    let tpl = s.create_template(template(TaskKind::Competition));
    let mut p = params(500, 0, 1);
    p.asset = AssetInfoUnchecked::Cw20(s.token.to_string());
    let task = s.create_task(tpl, p);
    let h1 = s.addr("h1");
    assert!(matches!(
        s.execute(
            &h1,
            &ExecuteMsg::SubmitOffer {
                task_id: task,
                price: Uint128::zero(),
                capacity: 1,
                min_units: 1,
                reputation_ref: None,
            },
            &[],
        )
        .unwrap_err(),
        ContractError::WrongAsset { .. }
    ));
    assert_eq!(
        s.send_cw20(
            "h1",
            DEPOSIT + 1,
            &ReceiveMsg::SubmitOffer {
                task_id: task,
                price: Uint128::zero(),
                capacity: 1,
                min_units: 1,
                reputation_ref: None,
            },
        )
        .unwrap_err(),
        ContractError::WrongDeposit {
            task_id: task,
            expected: Uint128::new(DEPOSIT),
            received: Uint128::new(DEPOSIT + 1)
        }
    );
    s.offer("h1", task, 0, 1, 1);
    let contract = s.contract.clone();
    assert_eq!(s.cw20_balance(&contract), DEPOSIT);
    // The funding goal is missed: the deposit comes back in cw20.
    s.wait(PHASE);
    assert_eq!(s.withdraw("h1", task), DEPOSIT);
    assert_eq!(s.cw20_balance(&contract), 0);
    assert_eq!(s.cw20_balance(&h1), 1_000_000_000);
}
