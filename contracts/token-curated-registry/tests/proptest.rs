//! Model-based property test. A plain-Rust model of the registry
//! (`tests/model/`) decides, for every message of a random sequence,
//! whether it must be accepted and with which error it must be refused
//! (phase windows, stakes, locks, who may call, the minimum-deposit grace
//! period, forfeits of unrevealed votes, parameter changes); the contract
//! must agree, Ok for Ok and the same `ContractError`. After every step the
//! registry's token balance must equal the model's liabilities, every
//! wallet must hold what the model says, and every listing, poll, voter,
//! claimable reward and treasury account the queries show must match the
//! model. Runs with a native and with a cw20 stake.

mod model;
mod suite;

use std::collections::BTreeMap;

use model::ops::{ops, Op};
use model::world::World;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use token_curated_registry::state::Choice;

fn run(ops: Vec<Op>, cw20: bool) {
    let mut w = World::new(cw20);
    w.check();
    for op in &ops {
        w.step(op);
        w.check();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn model_native(ops in ops(1..250)) {
        run(ops, false);
    }

    #[test]
    fn model_cw20(ops in ops(1..200)) {
        run(ops, true);
    }
}

/// The generator reaches the states the properties are about: a fixed seed
/// run counts how often each interesting outcome happens.
#[test]
fn the_generator_reaches_every_phase() {
    use proptest::test_runner::{Config, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    let strategy = ops(250..251);
    let mut seen = BTreeMap::<&str, u32>::new();
    for _ in 0..30 {
        let ops = strategy.new_tree(&mut runner).unwrap().current();
        let mut w = World::new(false);
        for op in &ops {
            let before = w.m.clone();
            w.step(op);
            let m = &w.m;
            let mut hit = |k| *seen.entry(k).or_default() += 1;
            if m.polls.len() > before.polls.len() {
                hit("poll started");
            }
            for (p, q) in before.polls.iter().zip(&m.polls) {
                match (p.outcome, q.outcome) {
                    (None, Some(Choice::Keep)) => hit("kept"),
                    (None, Some(Choice::Remove)) => hit("removed"),
                    _ => {}
                }
                if q.nkeep + q.nremove > p.nkeep + p.nremove {
                    hit("revealed");
                }
                if q.claims > p.claims {
                    hit("claimed");
                }
            }
            if m.dust > before.dust {
                hit("dust");
            }
            if m.forfeited > before.forfeited {
                hit("forfeit taken");
            }
            if m.p != before.p {
                hit("params changed");
            }
            if m.floor != before.floor && m.floor.0 < m.floor.1 {
                hit("increase in grace");
            }
            if m.underfunded_removals > before.underfunded_removals {
                hit("removed underfunded");
            }
            if m.exits > before.exits {
                hit("exited");
            }
        }
    }
    println!("{seen:#?}");
    for k in [
        "poll started",
        "kept",
        "removed",
        "revealed",
        "claimed",
        "dust",
        "forfeit taken",
        "params changed",
        "increase in grace",
        "removed underfunded",
        "exited",
    ] {
        assert!(seen.get(k).copied().unwrap_or(0) > 0, "never reached: {k}");
    }
}
