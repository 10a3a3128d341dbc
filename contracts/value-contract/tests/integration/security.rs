//! The security review's findings, each as an attack or a failure it must
//! survive (these tests fail on the contract before the hardening).

use cosmwasm_std::{Binary, Uint128};
use value_contract::msg::{Assignment, ExecuteMsg, OracleSetMsg};
use value_contract::state::{TaskKind, TaskStatus};

use crate::suite::{params, template, Suite, SuiteBuilder, PHASE};

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
    for n in &names {
        s.offer(n, task, 0, 1, 1);
    }
    s.wait(2 * PHASE);
    s.advance(task);
    assert_eq!(s.task(task).slot_count, 3);
    // Nobody confirms the first round.
    s.wait(PHASE);
    let before = s.balance("city");
    s.refund("city", task);
    assert!(s.balance("city") >= before + 600, "the sponsor gets out");
    let lost: u128 = names
        .iter()
        .map(|n| 1_000_000_000 - s.balance(n).min(1_000_000_000))
        .sum();
    assert!(lost > 0, "lapsed throwaway offers cost their owners nothing");
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
    let _ = s.attest_err(2, task, &[("h1", 100)]);
    assert_eq!(s.attestations(task, "h1").accepted, Some(Uint128::new(100)));
}

#[test]
fn a_template_tolerance_of_100_percent_is_refused() {
    let mut s = SuiteBuilder::new().build();
    let owner = s.owner.clone();
    let mut t = template(TaskKind::Competition);
    t.tolerance_bps = 10_000;
    assert!(s
        .execute(&owner, &ExecuteMsg::CreateTemplate(t), &[])
        .is_err());
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
    second.pubkey = Binary::from(k.verifying_key().to_encoded_point(false).as_bytes());
    let set = OracleSetMsg {
        members: vec![s.oracles[0].member(), second],
        threshold: 2,
    };
    assert!(s
        .execute(&owner, &ExecuteMsg::SetOracles(set), &[])
        .is_err());
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
    assert!(s
        .execute(&owner, &ExecuteMsg::CreateTemplate(t), &[])
        .is_err());
    // A running task needs 3; the set may not shrink below it.
    let mut t = template(TaskKind::Competition);
    t.min_quorum = 3;
    let tpl = s.create_template(t);
    s.create_task(tpl, params(100, 0, 1));
    let set = OracleSetMsg {
        members: s.oracles[..2].iter().map(|o| o.member()).collect(),
        threshold: 2,
    };
    assert!(s
        .execute(&owner, &ExecuteMsg::SetOracles(set), &[])
        .is_err());
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
    assert_eq!(s.task(task).stored_status, TaskStatus::Expired);
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
    s.attest_err(2, task, &[("h1", 7), ("h2", 9)]).unwrap();
    assert_eq!(s.attestations(task, "h2").attestations.len(), 1);
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
    s.submit_report_err(task, r1, sigs1).unwrap();
    assert_eq!(s.status(task), TaskStatus::Disputable);
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
    let _ = s.execute(
        &c_addr,
        &ExecuteMsg::ReviseOffer {
            task_id: task,
            price: Uint128::new(1),
            capacity: 50,
            min_units: 50,
        },
        &[],
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
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.submit_report_err(task, r, sigs)
    }));
    assert!(matches!(res, Ok(Err(_))), "a typed error, not a panic");
}
