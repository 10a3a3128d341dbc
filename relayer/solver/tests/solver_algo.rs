//! The matching solver's algorithm against exhaustive search and the
//! contract's own rule, plus edge cases.

use proptest::prelude::*;
use relayer_solver::algo::{brute_force, DEFAULT_NODE_LIMIT};
use relayer_solver::{
    evaluate, rule, solve, solve_with_limit, Infeasible, OfferInput, Problem, Score,
};
use value_contract::msg::Assignment;
use value_contract::state::TaskKind;

fn offer(id: u64, price: u128, cap: u32, min: u32) -> OfferInput {
    OfferInput {
        offer_id: id,
        revision: 0,
        price,
        capacity: cap,
        min_units: min,
    }
}

fn per_unit(budget: u128, max: u32, offers: Vec<OfferInput>) -> Problem {
    Problem {
        kind: TaskKind::PerUnit,
        budget,
        max_participants: max,
        offers,
    }
}

fn ids(a: &[Assignment]) -> Vec<(u64, u32)> {
    a.iter().map(|x| (x.offer_id, x.units)).collect()
}

#[test]
fn no_offers_or_nothing_affordable_is_none() {
    assert_eq!(solve(&per_unit(100, 3, vec![])), None);
    // Every minimum lump is above the budget.
    assert_eq!(
        solve(&per_unit(
            10,
            3,
            vec![offer(1, 3, 5, 4), offer(2, 11, 1, 1)]
        )),
        None
    );
    assert_eq!(brute_force(&per_unit(10, 3, vec![offer(1, 3, 5, 4)])), None);
    // A price whose lump overflows 128 bits is simply unusable.
    let s = solve(&per_unit(
        100,
        3,
        vec![offer(1, u128::MAX, 2, 2), offer(2, 10, 20, 1)],
    ))
    .unwrap();
    assert_eq!(ids(&s.assignments), vec![(2, 10)]);
}

#[test]
fn more_slots_than_offers_takes_every_offer_that_helps() {
    let p = per_unit(
        1_000,
        64,
        vec![offer(1, 2, 10, 1), offer(2, 1, 10, 5), offer(3, 5, 10, 10)],
    );
    let s = solve(&p).unwrap();
    assert_eq!(
        s.score,
        Score {
            units: 30,
            cost: 80
        }
    );
    assert_eq!(ids(&s.assignments), vec![(1, 10), (2, 10), (3, 10)]);
    assert!(s.proven_optimal);
}

#[test]
fn the_slot_cap_binds() {
    // Two slots: the two largest capacities within budget, not the cheapest.
    let p = per_unit(
        100,
        2,
        vec![
            offer(1, 1, 5, 5),
            offer(2, 1, 6, 6),
            offer(3, 2, 30, 30),
            offer(4, 2, 20, 1),
        ],
    );
    let s = solve(&p).unwrap();
    assert_eq!(brute_force(&p), Some(s.score));
    assert_eq!(
        s.score,
        Score {
            units: 50,
            cost: 100
        }
    );
    assert_eq!(ids(&s.assignments), vec![(3, 30), (4, 20)]);
}

#[test]
fn lumps_make_it_a_knapsack_that_greedy_misses() {
    // The contract's own lifecycle example: greedy a (70), optimum b + c.
    let p = per_unit(
        100,
        3,
        vec![
            offer(1, 1, 70, 70),
            offer(2, 1, 50, 50),
            offer(3, 1, 50, 50),
            offer(4, 2, 40, 10),
        ],
    );
    let greedy = evaluate(&p, &rule(&p)).unwrap();
    assert_eq!(
        greedy,
        Score {
            units: 85,
            cost: 100
        }
    );
    let s = solve(&p).unwrap();
    assert_eq!(
        s.score,
        Score {
            units: 100,
            cost: 100
        }
    );
    assert_eq!(ids(&s.assignments), vec![(2, 50), (3, 50)]);
}

#[test]
fn ties_are_broken_deterministically_like_the_rule() {
    // Identical offers: the rule's pick (lowest id) is kept whatever the input order.
    let offers = vec![offer(7, 3, 4, 1), offer(2, 3, 4, 1), offer(5, 3, 4, 1)];
    let p = per_unit(24, 2, offers.clone());
    let s = solve(&p).unwrap();
    assert_eq!(ids(&s.assignments), vec![(2, 4), (5, 4)]);
    assert_eq!(ids(&s.assignments), ids(&rule(&p)));
    let mut reversed = offers;
    reversed.reverse();
    assert_eq!(solve(&per_unit(24, 2, reversed)).unwrap(), s);
    // An equal score never counts as better (the contract's strict rule).
    assert!(!s.score.better_than(&s.score));
    assert!(Score { units: 8, cost: 23 }.better_than(&s.score));
    assert!(Score {
        units: 9,
        cost: 1_000
    }
    .better_than(&s.score));
}

#[test]
fn competitions_cost_nothing_and_fill_every_slot() {
    let p = Problem {
        kind: TaskKind::Competition,
        budget: 0,
        max_participants: 2,
        offers: vec![offer(3, 0, 1, 1), offer(1, 0, 1, 1), offer(2, 0, 1, 1)],
    };
    let s = solve(&p).unwrap();
    assert_eq!(s.score, Score { units: 2, cost: 0 });
    assert_eq!(ids(&s.assignments), vec![(1, 1), (2, 1)]);
}

#[test]
fn bounties_take_the_cheapest_asks_that_fit() {
    let p = Problem {
        kind: TaskKind::Bounty,
        budget: 100,
        max_participants: 5,
        offers: vec![offer(1, 60, 1, 1), offer(2, 30, 1, 1), offer(3, 45, 1, 1)],
    };
    let s = solve(&p).unwrap();
    assert_eq!(s.score, Score { units: 2, cost: 75 });
    assert_eq!(ids(&s.assignments), vec![(2, 1), (3, 1)]);
}

#[test]
fn evaluate_mirrors_the_contract_checks() {
    let mut p = per_unit(100, 2, vec![offer(1, 1, 70, 70), offer(2, 1, 50, 50)]);
    p.offers[1].revision = 1;
    let a = |offer_id, revision, units| Assignment {
        offer_id,
        revision,
        units,
    };
    assert_eq!(evaluate(&p, &[]), Err(Infeasible::Count));
    assert_eq!(
        evaluate(&p, &[a(1, 0, 70), a(2, 1, 50), a(3, 0, 1)]),
        Err(Infeasible::Count)
    );
    assert_eq!(
        evaluate(&p, &[a(2, 1, 50), a(1, 0, 70)]),
        Err(Infeasible::Order(1))
    );
    assert_eq!(
        evaluate(&p, &[a(9, 0, 1)]),
        Err(Infeasible::UnknownOffer(0))
    );
    assert_eq!(evaluate(&p, &[a(2, 0, 50)]), Err(Infeasible::Revised(0)));
    assert_eq!(evaluate(&p, &[a(2, 1, 49)]), Err(Infeasible::Units(0)));
    assert_eq!(
        evaluate(&p, &[a(1, 0, 70), a(2, 1, 50)]),
        Err(Infeasible::OverBudget)
    );
    assert_eq!(
        evaluate(&p, &[a(2, 1, 50)]),
        Ok(Score {
            units: 50,
            cost: 50
        })
    );
}

#[test]
fn a_node_limit_still_returns_a_valid_solution() {
    let offers = (1..=30)
        .map(|i| offer(i, 1 + (i as u128 % 7), 10 + (i as u32 * 37) % 90, 5))
        .collect();
    let p = per_unit(1_500, 10, offers);
    let full = solve(&p).unwrap();
    assert!(full.proven_optimal);
    let cut = solve_with_limit(&p, 3).unwrap();
    assert!(!cut.proven_optimal);
    assert_eq!(evaluate(&p, &cut.assignments), Ok(cut.score));
    assert!(!cut.score.better_than(&full.score));
    assert!(full.nodes <= DEFAULT_NODE_LIMIT);
}

fn kind_strategy() -> impl Strategy<Value = TaskKind> {
    prop_oneof![
        4 => Just(TaskKind::PerUnit),
        1 => Just(TaskKind::Bounty),
        1 => Just(TaskKind::Competition),
        1 => Just(TaskKind::Crowdfunding),
    ]
}

/// Contract-valid random instances small enough for exhaustive search.
fn problem_strategy() -> impl Strategy<Value = Problem> {
    (
        kind_strategy(),
        0u128..120,
        1u32..6,
        prop::collection::vec((1u64..4, 0u32..3, 1u128..25, 1u32..6, 0u32..6), 0..7),
    )
        .prop_map(|(kind, budget, max_participants, raw)| {
            let mut next_id = 0;
            let offers = raw
                .into_iter()
                .map(|(gap, revision, price, cap, min)| {
                    next_id += gap;
                    let (price, capacity, min_units) = match kind {
                        TaskKind::PerUnit => (price, cap, 1 + min % cap),
                        TaskKind::Competition => (0, 1, 1),
                        _ => (price * 4, 1, 1),
                    };
                    OfferInput {
                        offer_id: next_id,
                        revision,
                        price,
                        capacity,
                        min_units,
                    }
                })
                .collect();
            Problem {
                kind,
                budget,
                max_participants,
                offers,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn solve_matches_brute_force(p in problem_strategy(), seed in any::<u64>()) {
        let exact = brute_force(&p);
        let got = solve(&p);
        prop_assert_eq!(got.as_ref().map(|s| s.score), exact);
        if let Some(s) = &got {
            prop_assert!(s.proven_optimal);
            // Valid as the contract checks it, and its score is what it claims.
            prop_assert_eq!(evaluate(&p, &s.assignments), Ok(s.score));
            // Never worse than the contract's own rule.
            if let Ok(r) = evaluate(&p, &rule(&p)) {
                prop_assert!(!r.better_than(&s.score));
            }
            // Independent of the order the offers arrive in.
            let mut shuffled = p.clone();
            let n = shuffled.offers.len();
            if n > 1 {
                shuffled.offers.rotate_left((seed as usize) % n);
                shuffled.offers.swap(0, n - 1);
            }
            let again = solve(&shuffled);
            prop_assert_eq!(again.as_ref(), Some(s));
        }
    }
}

#[test]
fn config_defaults_and_unknown_fields() {
    use relayer_solver::SolverConfig;
    let c: SolverConfig = toml::from_str("poll_interval_secs = 5\nnode_limit = 1000").unwrap();
    assert_eq!(c.poll_interval_secs, 5);
    assert_eq!(c.node_limit, 1000);
    assert_eq!(
        c.max_tasks_per_tick,
        SolverConfig::default().max_tasks_per_tick
    );
    assert!(c.enabled);
    let err = toml::from_str::<SolverConfig>("pol_interval = 5").unwrap_err();
    assert!(
        err.to_string().contains("unknown field `pol_interval`"),
        "{err}"
    );
}
