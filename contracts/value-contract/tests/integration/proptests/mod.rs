//! Random message sequences against the reference model (`model`): two
//! tasks of random kinds (native or cw20), sponsors, participants with
//! offer deposits, solver proposals, confirmations with bonds, single
//! attestations and signed reports from a rotating oracle set, voids,
//! claims, refunds and withdrawals, interleaved with the clock. For every
//! message the model decides, on its own, whether it must be accepted; the
//! contract must agree — `Ok` when the model accepts, the same error when
//! it refuses — and pay exactly what the model pays. After every step the
//! contract's native and cw20 balances equal the model's liabilities and
//! each task's stored status and `held` match; at the end everything is
//! claimed, the contract holds nothing and every account's balance is what
//! the model says.

use std::collections::BTreeMap;

use cosmwasm_std::Uint128;
use proptest::prelude::*;
use value_contract::state::TaskKind;
use wevalue_common::asset::AssetInfoUnchecked;

use crate::model::{self, Model, Oracles, Terms};
use crate::suite::{params, template, SuiteBuilder, DENOM, PHASE};

mod world;
use world::{step, World};

const SPONSORS: [&str; 3] = ["s0", "s1", "s2"];
const PARTICIPANTS: [&str; 5] = ["p0", "p1", "p2", "p3", "p4"];
const POOL: usize = 5;
const START: u128 = 1_000_000_000;

#[derive(Clone, Copy, Debug)]
enum Paid {
    Exact,
    Nothing,
    OneMore,
}

#[derive(Clone, Debug)]
enum Act {
    Wait(u64),
    /// Waits until `start + seconds` (the next phase), if not already past it.
    WaitUntil(u64),
    Contribute {
        t: usize,
        s: usize,
        amount: u128,
        wrong_path: bool,
    },
    Offer {
        t: usize,
        p: usize,
        terms: (u128, u32, u32),
        valid: bool,
        paid: Paid,
        wrong_path: bool,
    },
    Revise {
        t: usize,
        p: usize,
        terms: (u128, u32, u32),
        valid: bool,
    },
    Withdraw {
        t: usize,
        p: usize,
    },
    Propose {
        t: usize,
        mask: u8,
        at_min: bool,
    },
    /// `aim`: `p` picks among the participants holding an unconfirmed slot.
    Confirm {
        t: usize,
        p: usize,
        aim: bool,
        paid: Paid,
        wrong_path: bool,
    },
    /// `aim`: `o` picks among the current members, `mask` among the
    /// confirmed participants.
    Attest {
        o: usize,
        t: usize,
        mask: u8,
        aim: bool,
        honest: bool,
        noise: [u8; 5],
    },
    /// `aim`: `signers` and `mask` pick among current members and confirmed participants.
    Report {
        t: usize,
        signers: u8,
        mask: u8,
        aim: bool,
        stale: bool,
        round: u64,
        honest: bool,
        noise: u8,
    },
    Rotate {
        mask: u8,
        threshold: u32,
        by_owner: bool,
    },
    Void {
        t: usize,
        by_owner: bool,
    },
    Advance {
        t: usize,
    },
    Claim {
        t: usize,
        p: usize,
    },
    Refund {
        t: usize,
        s: usize,
    },
}

#[derive(Clone, Debug)]
struct TaskSpec {
    kind: u8,
    cw20: bool,
    goal: u128,
    target: u128,
    max_p: u32,
    bond: u128,
    deposit: u128,
    min_quorum: u32,
    tolerance: u32,
    truth: [u128; 5],
}

fn task_spec() -> impl Strategy<Value = TaskSpec> {
    let goal = prop_oneof![9 => 1u128..120, 1 => 120u128..600];
    (
        (0u8..4, any::<bool>(), goal, 1u128..100, 1u32..=4),
        (
            prop_oneof![Just(0u128), 1u128..20],
            1u128..10,
            1u32..=3,
            0u32..=1_000,
        ),
        prop::array::uniform5(0u128..200),
    )
        .prop_map(
            |((kind, cw20, goal, target, max_p), (bond, deposit, min_quorum, tolerance), truth)| {
                TaskSpec {
                    kind,
                    cw20,
                    goal,
                    target,
                    max_p,
                    bond,
                    deposit,
                    min_quorum,
                    tolerance,
                    truth,
                }
            },
        )
}

fn paid() -> impl Strategy<Value = Paid> {
    prop_oneof![8 => Just(Paid::Exact), 1 => Just(Paid::Nothing), 1 => Just(Paid::OneMore)]
}

fn terms() -> impl Strategy<Value = (u128, u32, u32)> {
    (0u128..60, 1u32..6, 1u32..6)
}

/// The phases of the tasks' common timeline: (end, weights of contribute,
/// offer, revise, withdraw, propose, confirm, attest, report, rotate, void,
/// advance, claim, refund, wait). Every message can come in every phase;
/// the weights make the phase's own messages common.
const PHASES: [(u64, [u32; 14]); 8] = [
    (PHASE, [14, 16, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3]),
    (2 * PHASE, [1, 10, 3, 2, 6, 1, 1, 1, 1, 1, 1, 1, 1, 3]),
    (3 * PHASE, [1, 1, 1, 2, 1, 20, 1, 1, 1, 1, 2, 1, 2, 3]),
    (4 * PHASE, [1, 1, 1, 2, 1, 20, 1, 1, 1, 1, 2, 1, 3, 3]),
    (5 * PHASE, [1, 1, 1, 2, 1, 20, 1, 1, 1, 1, 2, 1, 3, 3]),
    (6 * PHASE, [1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 2, 1, 1, 2]),
    (7 * PHASE, [1, 1, 1, 1, 1, 1, 20, 6, 3, 1, 1, 1, 1, 3]),
    (8 * PHASE, [1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 5, 5, 3]),
];

fn act(w: [u32; 14]) -> impl Strategy<Value = Act> {
    let t = 0usize..2;
    let wrong = prop::bool::weighted(0.1);
    prop_oneof![
        w[0] => (t.clone(), 0usize..3, 1u128..200, wrong)
            .prop_map(|(t, s, amount, wrong_path)| Act::Contribute { t, s, amount, wrong_path }),
        w[1] => (t.clone(), 0usize..5, terms(), prop::bool::weighted(0.85), paid(), wrong)
            .prop_map(|(t, p, terms, valid, paid, wrong_path)| Act::Offer { t, p, terms, valid, paid, wrong_path }),
        w[2] => (t.clone(), 0usize..5, terms(), prop::bool::weighted(0.8))
            .prop_map(|(t, p, terms, valid)| Act::Revise { t, p, terms, valid }),
        w[3] => (t.clone(), 0usize..5).prop_map(|(t, p)| Act::Withdraw { t, p }),
        w[4] => (t.clone(), 1u8..32, any::<bool>()).prop_map(|(t, mask, at_min)| Act::Propose { t, mask, at_min }),
        w[5] => (t.clone(), 0usize..5, aim(), paid(), wrong)
            .prop_map(|(t, p, aim, paid, wrong_path)| Act::Confirm { t, p, aim, paid, wrong_path }),
        w[6] => (0usize..POOL, t.clone(), 1u8..32, aim(), prop::bool::weighted(0.75), prop::array::uniform5(any::<u8>()))
            .prop_map(|(o, t, mask, aim, honest, noise)| Act::Attest { o, t, mask, aim, honest, noise }),
        w[7] => (t.clone(), 1u8..32, 1u8..32, aim(), prop::bool::weighted(0.1), 1u64..6, prop::bool::weighted(0.75), any::<u8>())
            .prop_map(|(t, signers, mask, aim, stale, round, honest, noise)| Act::Report { t, signers, mask, aim, stale, round, honest, noise }),
        w[8] => (1u8..32, 1u32..=5, prop::bool::weighted(0.9))
            .prop_map(|(mask, threshold, by_owner)| Act::Rotate { mask, threshold, by_owner }),
        w[9] => (t.clone(), prop::bool::weighted(0.5)).prop_map(|(t, by_owner)| Act::Void { t, by_owner }),
        w[10] => t.clone().prop_map(|t| Act::Advance { t }),
        w[11] => (t.clone(), 0usize..5).prop_map(|(t, p)| Act::Claim { t, p }),
        w[12] => (t.clone(), 0usize..3).prop_map(|(t, s)| Act::Refund { t, s }),
        w[13] => (1u64..20).prop_map(Act::Wait),
    ]
}

fn aim() -> impl Strategy<Value = bool> {
    prop::bool::weighted(0.85)
}

/// A timeline: each phase's messages, then the clock moved to its end.
fn timeline() -> impl Strategy<Value = Vec<Act>> {
    PHASES
        .iter()
        .map(|(end, w)| {
            let end = *end;
            prop::collection::vec(act(*w), 6..24).prop_map(move |mut v| {
                v.push(Act::WaitUntil(end));
                v
            })
        })
        .collect::<Vec<_>>()
        .prop_map(|phases| phases.into_iter().flatten().collect())
}

fn kind(k: u8) -> TaskKind {
    [
        TaskKind::Bounty,
        TaskKind::Competition,
        TaskKind::PerUnit,
        TaskKind::Crowdfunding,
    ][k as usize]
}

fn run(specs: Vec<TaskSpec>, ed25519: bool, acts: Vec<Act>) {
    let mut names: Vec<&str> = SPONSORS.to_vec();
    names.extend(PARTICIPANTS);
    let mut b = SuiteBuilder::new()
        .with_oracles(POOL, 2)
        .with_funded(&names);
    if ed25519 {
        b = b.with_ed25519();
    }
    let mut s = b.build();
    let start = s.app.block_info().time.seconds();
    let mut tasks = vec![];
    let mut ids = [0u64; 2];
    for (i, spec) in specs.iter().enumerate() {
        let k = kind(spec.kind);
        let mut tpl = template(k);
        tpl.min_quorum = spec.min_quorum;
        tpl.tolerance_bps = spec.tolerance;
        tpl.offer_deposit = Uint128::new(spec.deposit);
        tpl.max_participants = 4;
        let tpl = s.create_template(tpl);
        let target = match k {
            TaskKind::Bounty | TaskKind::Crowdfunding => spec.target,
            _ => 0,
        };
        let mut p = params(spec.goal, target, spec.max_p);
        p.bond = Uint128::new(spec.bond);
        if spec.cw20 {
            p.asset = AssetInfoUnchecked::Cw20(s.token.to_string());
        }
        ids[i] = s.create_task(tpl, p);
        tasks.push(model::Task::new(
            ids[i],
            Terms {
                kind: k,
                cw20: spec.cw20,
                goal: spec.goal,
                target,
                max_p: spec.max_p,
                bond: spec.bond,
                deposit: spec.deposit,
                min_quorum: spec.min_quorum,
                tolerance: spec.tolerance,
                funding_deadline: start + PHASE,
                matching_deadline: start + 2 * PHASE,
                round_secs: PHASE,
                execution_deadline: start + 6 * PHASE,
                verification_deadline: start + 7 * PHASE,
                dispute_secs: PHASE,
            },
        ));
    }
    let m = Model {
        now: start,
        owner: s.owner.clone(),
        denom: DENOM.to_string(),
        token: s.token.clone(),
        oracles: Oracles {
            version: 1,
            threshold: 2,
            members: s
                .oracles
                .iter()
                .enumerate()
                .map(|(i, o)| (o.addr.clone(), i))
                .collect(),
        },
        tasks,
    };
    let mut w = World {
        s,
        m,
        start,
        ids,
        specs,
        delta: BTreeMap::new(),
    };
    w.check();
    for a in &acts {
        step(&mut w, a);
        w.check();
    }
    // Drain: past every deadline, everyone takes what is theirs.
    step(&mut w, &Act::Wait(20 * PHASE));
    for t in 0..2 {
        step(&mut w, &Act::Advance { t });
        assert!(
            model::is_final(w.m.tasks[t].status),
            "task {t} ends {:?}",
            w.m.tasks[t].status
        );
        for p in 0..5 {
            step(&mut w, &Act::Claim { t, p });
            step(&mut w, &Act::Withdraw { t, p });
        }
        for s in 0..3 {
            step(&mut w, &Act::Refund { t, s });
        }
        w.check();
        assert_eq!(w.m.tasks[t].held, 0, "task {t} keeps funds");
    }
    for name in SPONSORS.iter().chain(PARTICIPANTS.iter()) {
        let who = w.addr(name);
        for cw20 in [false, true] {
            let want = START as i128 + w.delta.get(&(who.clone(), cw20)).copied().unwrap_or(0);
            assert_eq!(w.balance(&who, cw20) as i128, want, "{name} (cw20: {cw20})");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_contract_does_what_the_model_decides(
        a in task_spec(),
        b in task_spec(),
        ed25519 in any::<bool>(),
        acts in timeline(),
    ) {
        run(vec![a, b], ed25519, acts);
    }
}
