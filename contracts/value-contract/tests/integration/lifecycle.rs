//! Whole lifecycles: the three scenarios of the issue plus per-unit
//! matching, refills, voiding and cw20 funding.

use cosmwasm_std::Uint128;
use value_contract::msg::{Assignment, ReceiveMsg};
use value_contract::state::{TaskKind, TaskStatus};
use value_contract::ContractError;
use wevalue_common::asset::AssetInfoUnchecked;

use crate::suite::{params, template, SuiteBuilder, DEPOSIT, PHASE};

#[test]
fn energy_saving_competition_with_three_households() {
    let mut s = SuiteBuilder::new()
        .with_oracles(3, 2)
        .with_funded(&["utility", "brand", "house1", "house2", "house3"])
        .build();
    let tpl = s.create_template(template(TaskKind::Competition));
    let mut p = params(9_000, 0, 3);
    p.bond = Uint128::new(50);
    let task = s.create_task(tpl, p);
    assert_eq!(s.status(task), TaskStatus::Funding);

    s.contribute("utility", task, 6_000);
    s.contribute("brand", task, 3_001);
    for h in ["house1", "house2", "house3"] {
        s.offer(h, task, 0, 1, 1);
    }
    s.wait(PHASE);
    assert_eq!(s.status(task), TaskStatus::Matching);
    s.wait(PHASE);
    let t = s.task(task);
    assert_eq!((t.status, t.advance_due), (TaskStatus::Matching, true));
    s.advance(task);
    assert_eq!(s.status(task), TaskStatus::Accepting);
    let m = s.matching(task);
    assert!(m.decided && !m.from_proposal);
    assert_eq!(m.slots.len(), 3);

    // Bonds are exact.
    assert_eq!(
        s.confirm_err("house1", task, 49).unwrap_err(),
        ContractError::WrongBond {
            task_id: task,
            expected: Uint128::new(50),
            received: Uint128::new(49)
        }
    );
    for h in ["house1", "house2", "house3"] {
        s.confirm(h, task, 50);
    }
    assert_eq!(s.status(task), TaskStatus::Executing);
    assert_eq!(s.contract_balance(), 9_001 + 150);

    // Attestations before the execution deadline are refused.
    assert!(matches!(
        s.attest_err(0, task, &[("house1", 120)]).unwrap_err(),
        ContractError::WrongStatus {
            status: TaskStatus::Executing,
            ..
        }
    ));
    s.wait(4 * PHASE);
    // The oracles measure slightly differently (within 5%). With k = 2 of 3,
    // a value settles when all three agree (or at the deadline).
    s.attest(0, task, &[("house1", 120), ("house2", 80), ("house3", 50)]);
    s.attest(1, task, &[("house1", 123), ("house2", 80)]);
    assert_eq!(s.attestations(task, "house1").accepted, None);
    s.attest(2, task, &[("house1", 121), ("house2", 80), ("house3", 51)]);
    assert_eq!(
        s.attestations(task, "house1").accepted,
        Some(Uint128::new(121))
    );
    assert_eq!(s.attestations(task, "house3").accepted, None);
    assert_eq!(s.status(task), TaskStatus::Verifying);
    s.attest(1, task, &[("house3", 50)]);
    let t = s.task(task);
    assert_eq!(t.status, TaskStatus::Disputable);
    assert_eq!(t.value_total, Uint128::new(251));

    // Rewards are not claimable during the dispute window.
    assert!(matches!(
        s.claim_err("house1", task).unwrap_err(),
        ContractError::WrongStatus {
            status: TaskStatus::Disputable,
            ..
        }
    ));
    s.wait(PHASE);
    assert_eq!(s.status(task), TaskStatus::Settled);
    // 9,001 × 121/251 = 4,339.2; × 80/251 = 2,868.8; × 50/251 = 1,793.0.
    let c = s.claimable(task, "house1");
    assert_eq!((c.reward.u128(), c.bond.u128()), (4_339, 50));
    assert_eq!(s.claim("house1", task), 4_389);
    assert_eq!(s.claim("house2", task), 2_918);
    assert_eq!(s.claim("house3", task), 1_843);
    assert!(matches!(
        s.claim_err("house3", task).unwrap_err(),
        ContractError::NothingToClaim { .. }
    ));
    // The one unit of rounding dust goes to the last sponsor to claim.
    let st = s.task(task).settlement.unwrap();
    assert_eq!(st.sponsor_pool, Uint128::new(1));
    assert_eq!(s.refund("utility", task), 0);
    assert_eq!(s.refund("brand", task), 1);
    assert_eq!(s.contract_balance(), 0);
    assert_eq!(s.task(task).held, Uint128::zero());
}

#[test]
fn crowdfunding_that_misses_its_goal_refunds_every_sponsor() {
    let mut s = SuiteBuilder::new()
        .with_funded(&["brand", "neighbour", "builder"])
        .build();
    let tpl = s.create_template(template(TaskKind::Crowdfunding));
    let task = s.create_task(tpl, params(10_000, 100, 1));
    s.contribute("brand", task, 3_000);
    s.contribute("neighbour", task, 1_500);
    s.contribute("neighbour", task, 500);
    s.offer("builder", task, 9_000, 1, 1);
    assert!(matches!(
        s.refund_err("brand", task).unwrap_err(),
        ContractError::WrongStatus {
            status: TaskStatus::Funding,
            ..
        }
    ));
    s.wait(PHASE);
    assert_eq!(s.status(task), TaskStatus::FundingFailed);
    assert!(matches!(
        s.contribute_err("brand", task, 5_000).unwrap_err(),
        ContractError::WrongStatus {
            status: TaskStatus::FundingFailed,
            ..
        }
    ));
    assert_eq!(s.claimable(task, "neighbour").refund.u128(), 2_000);
    assert_eq!(s.refund("brand", task), 3_000);
    assert_eq!(s.refund("neighbour", task), 2_000);
    assert_eq!(
        s.refund_err("neighbour", task).unwrap_err(),
        ContractError::NothingToClaim {
            task_id: task,
            address: s.addr("neighbour").to_string()
        }
    );
    assert!(matches!(
        s.claim_err("builder", task).unwrap_err(),
        ContractError::NothingToClaim { .. }
    ));
    assert_eq!(s.withdraw("builder", task), DEPOSIT);
    assert_eq!(s.contract_balance(), 0);
    assert_eq!(s.balance("brand"), 1_000_000_000);
    assert_eq!(s.balance("builder"), 1_000_000_000);
}

#[test]
fn bounty_pays_the_cheapest_painter_through_an_aggregated_report() {
    let mut s = SuiteBuilder::new()
        .with_oracles(3, 2)
        .with_funded(&["council", "painter1", "painter2"])
        .build();
    let tpl = s.create_template(template(TaskKind::Bounty));
    let task = s.create_task(tpl, params(600, 1, 1));
    s.contribute("council", task, 600);
    s.offer("painter1", task, 500, 1, 1);
    s.offer("painter2", task, 400, 1, 1);
    s.wait(2 * PHASE);
    s.advance(task);
    let m = s.matching(task);
    assert_eq!(m.slots.len(), 1);
    assert_eq!(m.slots[0].participant, s.addr("painter2"));
    assert!(matches!(
        s.confirm_err("painter1", task, 0).unwrap_err(),
        ContractError::NotMatched { .. }
    ));
    s.confirm("painter2", task, 0);
    s.wait(4 * PHASE);
    let report = s.report(task, &[("painter2", 1)]);
    let sigs = s.sign(&report, &[0, 2]);
    s.submit_report_err(task, report, sigs).unwrap();
    assert_eq!(s.status(task), TaskStatus::Disputable);
    s.wait(PHASE);
    assert_eq!(s.claim("painter2", task), 400);
    assert_eq!(s.refund("council", task), 200);
    assert_eq!(s.withdraw("painter1", task), DEPOSIT);
    assert_eq!(s.contract_balance(), 0);
}

#[test]
fn a_bounty_not_done_goes_back_to_the_sponsors_with_the_bond() {
    let mut s = SuiteBuilder::new()
        .with_oracles(1, 1)
        .with_funded(&["council", "painter"])
        .build();
    let tpl = s.create_template(template(TaskKind::Bounty));
    let mut p = params(600, 1, 1);
    p.bond = Uint128::new(100);
    let task = s.create_task(tpl, p);
    s.contribute("council", task, 600);
    s.offer("painter", task, 500, 1, 1);
    s.wait(2 * PHASE);
    s.confirm("painter", task, 100);
    s.wait(4 * PHASE);
    s.attest(0, task, &[("painter", 0)]);
    s.wait(PHASE);
    assert_eq!(s.claim("painter", task), 0);
    assert_eq!(s.refund("council", task), 700);
    assert_eq!(s.contract_balance(), 0);
}

#[test]
fn per_unit_solver_proposal_beats_the_greedy_rule() {
    let mut s = SuiteBuilder::new()
        .with_oracles(1, 1)
        .with_funded(&["city", "a", "b", "c"])
        .build();
    let tpl = s.create_template(template(TaskKind::PerUnit));
    let task = s.create_task(tpl, params(100, 0, 3));
    s.contribute("city", task, 100);
    let a = s.offer("a", task, 1, 70, 70);
    let b = s.offer("b", task, 1, 50, 50);
    let c = s.offer("c", task, 1, 50, 50);
    // Proposals are only accepted once the budget is known.
    assert!(matches!(
        s.propose_err(task, vec![]).unwrap_err(),
        ContractError::WrongStatus {
            status: TaskStatus::Funding,
            ..
        }
    ));
    s.wait(PHASE);
    let asg = |offer_id, units| Assignment {
        offer_id,
        revision: 0,
        units,
    };
    assert_eq!(
        s.propose_err(task, vec![asg(a, 70), asg(b, 50)])
            .unwrap_err(),
        ContractError::OverBudget {
            cost: Uint128::new(120),
            budget: Uint128::new(100)
        }
    );
    assert_eq!(
        s.propose_err(task, vec![asg(b, 50), asg(b, 50)])
            .unwrap_err(),
        ContractError::InfeasibleProposal {
            index: 1,
            reason: "offer ids must strictly increase"
        }
    );
    assert_eq!(
        s.propose_err(task, vec![asg(b, 40)]).unwrap_err(),
        ContractError::InfeasibleProposal {
            index: 0,
            reason: "units outside the offer's min_units..=capacity"
        }
    );
    s.propose_err(task, vec![asg(a, 70)]).unwrap();
    assert!(matches!(
        s.propose_err(task, vec![asg(b, 50)]).unwrap_err(),
        ContractError::NotBetter { .. }
    ));
    s.propose_err(task, vec![asg(b, 50), asg(c, 50)]).unwrap();
    s.wait(PHASE);
    s.advance(task);
    let m = s.matching(task);
    assert!(m.from_proposal);
    assert_eq!(m.best_proposal.unwrap().total_units, 100);
    let matched: Vec<_> = m
        .slots
        .iter()
        .map(|x| (x.participant.clone(), x.units))
        .collect();
    assert_eq!(matched.len(), 2);
    assert!(matched.contains(&(s.addr("b"), 50)) && matched.contains(&(s.addr("c"), 50)));
    s.confirm("b", task, 0);
    s.confirm("c", task, 0);
    s.wait(4 * PHASE);
    // c moved more bikes than assigned: paid for the assigned 50 only.
    s.attest(0, task, &[("b", 30), ("c", 70)]);
    s.wait(PHASE);
    assert_eq!(s.claim("b", task), 30);
    assert_eq!(s.claim("c", task), 50);
    assert_eq!(s.refund("city", task), 20);
    assert_eq!(s.withdraw("a", task), DEPOSIT);
    assert_eq!(s.contract_balance(), 0);
}

#[test]
fn a_revised_offer_invalidates_the_proposal_and_greedy_decides() {
    let mut s = SuiteBuilder::new()
        .with_funded(&["city", "a", "b", "c"])
        .build();
    let tpl = s.create_template(template(TaskKind::PerUnit));
    let task = s.create_task(tpl, params(100, 0, 3));
    s.contribute("city", task, 100);
    let a = s.offer("a", task, 1, 70, 70);
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
    s.execute(
        &c_addr,
        &value_contract::msg::ExecuteMsg::ReviseOffer {
            task_id: task,
            price: Uint128::new(2),
            capacity: 50,
            min_units: 50,
        },
        &[],
    )
    .unwrap();
    s.wait(PHASE);
    s.advance(task);
    let m = s.matching(task);
    assert!(!m.from_proposal);
    assert_eq!(m.slots.len(), 1);
    assert_eq!(m.slots[0].offer_id, a);
    assert_eq!(m.slots[0].units, 70);
}

#[test]
fn unconfirmed_slots_are_refilled_then_released() {
    let mut s = SuiteBuilder::new()
        .with_oracles(1, 1)
        .with_funded(&["city", "p1", "p2", "p3", "p4"])
        .build();
    let tpl = s.create_template(template(TaskKind::Bounty));
    let task = s.create_task(tpl, params(400, 1, 2));
    s.contribute("city", task, 400);
    s.offer("p1", task, 100, 1, 1);
    s.offer("p2", task, 200, 1, 1);
    s.offer("p3", task, 300, 1, 1);
    s.offer("p4", task, 350, 1, 1);
    s.wait(2 * PHASE);
    s.advance(task);
    assert_eq!(s.task(task).committed, Uint128::new(300));
    s.confirm("p1", task, 0);
    // p2 lets the round pass: its slot is released and p3 gets a chance.
    s.wait(PHASE);
    s.advance(task);
    let t = s.task(task);
    assert_eq!(
        (t.status, t.acceptance_round, t.slot_count),
        (TaskStatus::Accepting, 1, 2)
    );
    assert!(matches!(
        s.confirm_err("p2", task, 0).unwrap_err(),
        ContractError::NotMatched { .. }
    ));
    // p3 does not confirm either and p4 (350) does not fit the 300 left:
    // nothing to refill, so execution starts with p1 alone.
    s.wait(PHASE);
    s.advance(task);
    let t = s.task(task);
    assert_eq!(
        (t.status, t.confirmed_count, t.slot_count, t.committed),
        (TaskStatus::Executing, 1, 1, Uint128::new(100))
    );
    s.wait(2 * PHASE);
    s.attest(0, task, &[("p1", 1)]);
    s.wait(PHASE);
    assert_eq!(s.claim("p1", task), 100);
    // p2 and p3 let their rounds pass: their deposits joined the pool.
    assert_eq!(s.task(task).slashed.u128(), 2 * DEPOSIT);
    assert_eq!(s.refund("city", task), 300 + 2 * DEPOSIT);
    assert!(matches!(
        s.withdraw_err("p2", task).unwrap_err(),
        ContractError::DepositSlashed { .. }
    ));
    assert_eq!(s.withdraw("p4", task), DEPOSIT);
    assert_eq!(s.contract_balance(), 0);
}

#[test]
fn nobody_confirming_expires_the_task_and_refunds() {
    let mut s = SuiteBuilder::new().with_funded(&["city", "p1"]).build();
    let tpl = s.create_template(template(TaskKind::Bounty));
    let task = s.create_task(tpl, params(400, 1, 2));
    s.contribute("city", task, 400);
    s.offer("p1", task, 100, 1, 1);
    s.wait(5 * PHASE);
    assert_eq!(s.refund("city", task), 400);
    assert_eq!(s.status(task), TaskStatus::Expired);
    // Nobody touched the task during acceptance: every slot was recorded
    // after its round had ended, so p1 never had a chance and keeps the deposit.
    assert_eq!(s.withdraw("p1", task), DEPOSIT);
    assert_eq!(s.contract_balance(), 0);
}

#[test]
fn no_offers_expires_at_the_matching_deadline() {
    let mut s = SuiteBuilder::new().with_funded(&["city"]).build();
    let tpl = s.create_template(template(TaskKind::Competition));
    let task = s.create_task(tpl, params(400, 0, 2));
    s.contribute("city", task, 400);
    s.wait(2 * PHASE);
    s.advance(task);
    assert_eq!(s.status(task), TaskStatus::Expired);
    assert_eq!(s.refund("city", task), 400);
}

#[test]
fn silent_oracles_expire_the_task_and_return_bonds() {
    let mut s = SuiteBuilder::new().with_funded(&["city", "h1"]).build();
    let tpl = s.create_template(template(TaskKind::Competition));
    let mut p = params(400, 0, 2);
    p.bond = Uint128::new(10);
    let task = s.create_task(tpl, p);
    s.contribute("city", task, 400);
    s.offer("h1", task, 0, 1, 1);
    s.wait(2 * PHASE);
    s.confirm("h1", task, 10);
    s.wait(5 * PHASE);
    // Whether any value settles at the deadline is a storage step.
    let t = s.task(task);
    assert_eq!((t.status, t.advance_due), (TaskStatus::Verifying, true));
    s.advance(task);
    assert_eq!(s.status(task), TaskStatus::Expired);
    assert_eq!(s.claim("h1", task), 10);
    assert_eq!(s.refund("city", task), 400);
    assert_eq!(s.contract_balance(), 0);
}

#[test]
fn the_owner_voids_during_the_dispute_window() {
    let mut s = SuiteBuilder::new()
        .with_oracles(1, 1)
        .with_funded(&["city", "h1", "h2"])
        .build();
    let tpl = s.create_template(template(TaskKind::Competition));
    let mut p = params(1_000, 0, 2);
    p.bond = Uint128::new(10);
    let task = s.create_task(tpl, p);
    s.contribute("city", task, 1_000);
    s.offer("h1", task, 0, 1, 1);
    s.offer("h2", task, 0, 1, 1);
    s.wait(2 * PHASE);
    s.confirm("h1", task, 10);
    s.confirm("h2", task, 10);
    s.wait(4 * PHASE);
    s.attest(0, task, &[("h1", 5), ("h2", 7)]);
    assert_eq!(s.status(task), TaskStatus::Disputable);
    let stranger = s.addr("stranger");
    assert!(matches!(
        s.void_err(&stranger, task).unwrap_err(),
        ContractError::Ownership(_)
    ));
    let owner = s.owner.clone();
    s.void_err(&owner, task).unwrap();
    let t = s.task(task);
    assert_eq!(t.status, TaskStatus::Voided);
    assert_eq!(t.void_reason.as_deref(), Some("meter tampering reported"));
    assert_eq!(s.claim("h1", task), 10);
    assert_eq!(s.claim("h2", task), 10);
    assert_eq!(s.refund("city", task), 1_000);
    // Too late to void once settled.
    let task2 = s.create_task(tpl, params(10, 0, 1));
    s.contribute("city", task2, 10);
    s.wait(PHASE);
    assert!(matches!(
        s.void_err(&owner, task2).unwrap_err(),
        ContractError::WrongStatus {
            status: TaskStatus::Matching,
            ..
        }
    ));
}

#[test]
fn cw20_funded_task_with_cw20_bond() {
    let mut s = SuiteBuilder::new()
        .with_oracles(1, 1)
        .with_funded(&["city", "h1"])
        .build();
    let tpl = s.create_template(template(TaskKind::Competition));
    let mut p = params(500, 0, 1);
    p.asset = AssetInfoUnchecked::Cw20(s.token.to_string());
    p.bond = Uint128::new(5);
    let task = s.create_task(tpl, p);
    assert!(matches!(
        s.contribute_err("city", task, 500).unwrap_err(),
        ContractError::Payment(_)
    ));
    s.send_cw20("city", 500, &ReceiveMsg::Contribute { task_id: task })
        .unwrap();
    s.offer("h1", task, 0, 1, 1);
    s.wait(2 * PHASE);
    assert!(matches!(
        s.send_cw20("h1", 4, &ReceiveMsg::Confirm { task_id: task })
            .unwrap_err(),
        ContractError::WrongBond { .. }
    ));
    s.send_cw20("h1", 5, &ReceiveMsg::Confirm { task_id: task })
        .unwrap();
    assert_eq!(s.cw20_balance(&s.contract.clone()), 505);
    s.wait(4 * PHASE);
    s.attest(0, task, &[("h1", 9)]);
    s.wait(PHASE);
    let h1 = s.addr("h1");
    s.claim_err("h1", task).unwrap();
    assert_eq!(s.cw20_balance(&h1), 1_000_000_000 + 500);
    s.refund_err("city", task).unwrap();
    assert_eq!(s.cw20_balance(&s.contract.clone()), 0);
}
