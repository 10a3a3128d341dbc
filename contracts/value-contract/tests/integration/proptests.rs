//! Conservation over random lifecycles: two concurrent tasks of random
//! kinds, random contributions (some below the goal), offers, solver
//! proposals, partial confirmations with bonds, oracles that agree, disagree,
//! stay silent or report in aggregate, owner voids, and claims in random
//! order. After every step the contract's bank balance equals the sum of
//! what each task still holds, no task promises more than it holds, and at
//! the end everything has been paid out: the contract holds nothing.

use cosmwasm_std::Uint128;
use proptest::prelude::*;
use value_contract::msg::{Assignment, ExecuteMsg, TaskResponse};
use value_contract::state::{TaskKind, TaskStatus};

use crate::suite::{params, template, Suite, SuiteBuilder, PHASE};

const SPONSORS: [&str; 3] = ["s0", "s1", "s2"];
const PARTICIPANTS: [&str; 5] = ["p0", "p1", "p2", "p3", "p4"];

#[derive(Clone, Debug)]
struct Oracle {
    /// 0 silent, 1 agree, 2 disagree, 3 aggregated report
    mode: u8,
    value: u128,
}

#[derive(Clone, Debug)]
struct Scenario {
    kind: u8,
    goal: u128,
    bond: u128,
    max_participants: u32,
    contributions: Vec<(usize, u128)>,
    offers: Vec<(usize, u128, u32)>,
    propose: Vec<bool>,
    confirm: Vec<Vec<bool>>,
    oracles: Vec<Oracle>,
    void: bool,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        0u8..4,
        1u128..800,
        prop_oneof![Just(0u128), 1u128..50],
        1u32..5,
        prop::collection::vec((0usize..3, 1u128..1_000), 0..5),
        prop::collection::vec((0usize..5, 1u128..400, 1u32..6), 1..7),
        prop::collection::vec(any::<bool>(), 5),
        prop::collection::vec(prop::collection::vec(prop::bool::weighted(0.7), 5), 3),
        prop::collection::vec(
            (0u8..4, 0u128..300).prop_map(|(mode, value)| Oracle { mode, value }),
            5,
        ),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(
                kind,
                goal,
                bond,
                max_participants,
                contributions,
                offers,
                propose,
                confirm,
                oracles,
                void,
            )| {
                Scenario {
                    kind,
                    goal,
                    bond,
                    max_participants,
                    contributions,
                    offers,
                    propose,
                    confirm,
                    oracles,
                    void,
                }
            },
        )
}

fn kind(k: u8) -> TaskKind {
    [
        TaskKind::Bounty,
        TaskKind::Competition,
        TaskKind::PerUnit,
        TaskKind::Crowdfunding,
    ][k as usize]
}

struct World {
    s: Suite,
    tasks: Vec<(u64, Scenario)>,
}

impl World {
    fn check(&self) {
        let mut held = 0u128;
        for (id, _) in &self.tasks {
            let t: TaskResponse = self.s.task(*id);
            held += t.held.u128();
            let mut promised = 0u128;
            for who in PARTICIPANTS.iter().chain(SPONSORS.iter()) {
                let c = self.s.claimable(*id, who);
                promised += c.reward.u128() + c.bond.u128() + c.refund.u128();
            }
            assert!(
                promised <= t.held.u128(),
                "task {id} promises {promised} but holds {}",
                t.held
            );
            if let Some(st) = &t.settlement {
                assert!(st.total_rewards <= t.funded);
            }
            if matches!(
                t.status,
                TaskStatus::Voided | TaskStatus::Expired | TaskStatus::FundingFailed
            ) {
                // Refunds are exact: whatever is left is exactly the unclaimed contributions and bonds.
                let mut left = 0u128;
                for who in PARTICIPANTS.iter().chain(SPONSORS.iter()) {
                    let c = self.s.claimable(*id, who);
                    left += c.bond.u128() + c.refund.u128();
                }
                assert_eq!(left, t.held.u128(), "task {id} refunds");
            }
        }
        assert_eq!(
            self.s.contract_balance(),
            held,
            "bank balance vs bookkeeping"
        );
    }
}

fn run(scenarios: Vec<Scenario>, claim_order: Vec<usize>) {
    let mut s = SuiteBuilder::new()
        .with_oracles(3, 2)
        .with_funded(&["s0", "s1", "s2", "p0", "p1", "p2", "p3", "p4"])
        .build();
    let mut tasks = vec![];
    for sc in scenarios {
        let k = kind(sc.kind);
        let tpl = s.create_template(template(k));
        let target = match k {
            TaskKind::Bounty | TaskKind::Crowdfunding => 100,
            _ => 0,
        };
        let mut p = params(sc.goal, target, sc.max_participants);
        p.bond = Uint128::new(sc.bond);
        let id = s.create_task(tpl, p);
        tasks.push((id, sc));
    }
    let mut w = World { s, tasks };
    let all: Vec<(u64, Scenario)> = w.tasks.clone();

    for (id, sc) in &all {
        for (who, amount) in &sc.contributions {
            w.s.contribute(SPONSORS[*who], *id, *amount);
        }
        for (who, price, cap) in &sc.offers {
            let k = kind(sc.kind);
            let (price, cap, min) = match k {
                TaskKind::Competition => (0, 1, 1),
                TaskKind::PerUnit => (*price % 50 + 1, *cap, 1),
                _ => (*price, 1, 1),
            };
            // Duplicate offers by one participant are refused; fine.
            let _ = w.s.offer_err(PARTICIPANTS[*who], *id, price, cap, min);
        }
    }
    w.check();
    w.s.wait(PHASE);
    for (id, sc) in &all {
        let offers = w.s.offers(*id).offers;
        let assignments: Vec<Assignment> = offers
            .iter()
            .zip(sc.propose.iter())
            .filter(|(_, take)| **take)
            .map(|(o, _)| Assignment {
                offer_id: o.offer_id,
                revision: o.revision,
                units: o.capacity,
            })
            .collect();
        let _ = w.s.propose_err(*id, assignments);
    }
    w.s.wait(PHASE);
    for round in 0..3 {
        for (id, sc) in &all {
            w.s.advance(*id);
            let slots = w.s.matching(*id).slots;
            for slot in slots.iter().filter(|x| !x.confirmed) {
                let i = PARTICIPANTS
                    .iter()
                    .position(|p| w.s.addr(p) == slot.participant)
                    .unwrap();
                if sc.confirm[round][i] {
                    w.s.confirm(PARTICIPANTS[i], *id, sc.bond);
                }
            }
            w.check();
        }
        w.s.wait(PHASE);
    }
    w.s.wait(PHASE);
    for (id, sc) in &all {
        w.s.advance(*id);
        if w.s.status(*id) != TaskStatus::Verifying {
            continue;
        }
        let slots = w.s.matching(*id).slots;
        let mut report = vec![];
        for slot in &slots {
            let i = PARTICIPANTS
                .iter()
                .position(|p| w.s.addr(p) == slot.participant)
                .unwrap();
            let o = &sc.oracles[i];
            match o.mode {
                1 => {
                    w.s.attest(0, *id, &[(PARTICIPANTS[i], o.value)]);
                    w.s.attest(1, *id, &[(PARTICIPANTS[i], o.value)]);
                }
                2 => {
                    w.s.attest(0, *id, &[(PARTICIPANTS[i], o.value)]);
                    w.s.attest(2, *id, &[(PARTICIPANTS[i], o.value * 2 + 10)]);
                }
                3 => report.push((PARTICIPANTS[i], o.value)),
                _ => {}
            }
            w.check();
        }
        if !report.is_empty() && w.s.status(*id) == TaskStatus::Verifying {
            let r = w.s.report(*id, &report);
            let sigs = w.s.sign(&r, &[2, 1]);
            w.s.submit_report_err(*id, r, sigs).unwrap();
        }
        if sc.void {
            let owner = w.s.owner.clone();
            let _ = w.s.void_err(&owner, *id);
        }
        w.check();
    }
    w.s.wait(3 * PHASE);
    let mut claimers: Vec<(u64, &str)> = vec![];
    for (id, _) in &all {
        for p in PARTICIPANTS.iter().chain(SPONSORS.iter()) {
            claimers.push((*id, p));
        }
    }
    // A random order: rotate and interleave by the generated permutation keys.
    let mut order: Vec<usize> = (0..claimers.len()).collect();
    order.sort_by_key(|i| claim_order.get(*i).copied().unwrap_or(*i));
    for i in order {
        let (id, who) = claimers[i];
        let addr = w.s.addr(who);
        let _ = w.s.execute(&addr, &ExecuteMsg::Claim { task_id: id }, &[]);
        let _ = w.s.execute(&addr, &ExecuteMsg::Refund { task_id: id }, &[]);
        w.check();
    }
    for (id, _) in &all {
        let t = w.s.task(*id);
        assert!(
            matches!(
                t.status,
                TaskStatus::Settled
                    | TaskStatus::Voided
                    | TaskStatus::Expired
                    | TaskStatus::FundingFailed
            ),
            "task {id} ended {:?}",
            t.status
        );
        assert_eq!(t.held, Uint128::zero(), "task {id} keeps {:?}", t);
    }
    assert_eq!(w.s.contract_balance(), 0);
    // Nobody lost or gained money overall.
    let total: u128 = PARTICIPANTS
        .iter()
        .chain(SPONSORS.iter())
        .map(|p| w.s.balance(p))
        .sum();
    assert_eq!(total, 8 * 1_000_000_000);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn funds_are_conserved_over_random_lifecycles(
        a in scenario(),
        b in scenario(),
        claim_order in prop::collection::vec(0usize..100, 16),
    ) {
        run(vec![a, b], claim_order);
    }
}
