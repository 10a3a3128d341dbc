//! Time to solve the contract's largest matching instances (64 live
//! offers, up to 64 participants) with the solver's branch and bound.
//!
//! `cargo run --release -p relayer --example solver_bench [instances per family]`

use std::time::{Duration, Instant};

use relayer::services::solver::algo::DEFAULT_NODE_LIMIT;
use relayer::services::solver::{evaluate, rule, solve, OfferInput, Problem};
use value_contract::state::TaskKind;

/// xorshift64*: deterministic instances without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

type Family = (&'static str, fn(&mut Rng) -> Problem);

fn offers(rng: &mut Rng, f: impl Fn(&mut Rng) -> (u128, u32, u32)) -> Vec<OfferInput> {
    (1..=64)
        .map(|id| {
            let (price, capacity, min_units) = f(rng);
            OfferInput {
                offer_id: id,
                revision: 0,
                price,
                capacity,
                min_units,
            }
        })
        .collect()
}

fn full_cost(o: &[OfferInput]) -> u128 {
    o.iter().map(|o| o.price * u128::from(o.capacity)).sum()
}

/// 64 offers with random prices, capacities and minimums.
fn random_offers(rng: &mut Rng) -> Vec<OfferInput> {
    offers(rng, |r| {
        let cap = r.range(1, 1_000_000) as u32;
        (
            r.range(1, 1_000) as u128,
            cap,
            r.range(1, cap as u64) as u32,
        )
    })
}

fn per_unit(budget: u128, max_participants: u32, offers: Vec<OfferInput>) -> Problem {
    Problem {
        kind: TaskKind::PerUnit,
        budget,
        max_participants,
        offers,
    }
}

fn families() -> Vec<Family> {
    vec![
        ("random, 64 slots", |rng| {
            let o = random_offers(rng);
            let budget = full_cost(&o) * 3 / 10;
            per_unit(budget, 64, o)
        }),
        ("random, 8 slots", |rng| {
            let o = random_offers(rng);
            let budget = full_cost(&o) / 10;
            per_unit(budget, 8, o)
        }),
        ("fixed lumps, price 1 (subset sum)", |rng| {
            let o = offers(rng, |r| {
                let cap = r.range(1, 1_000_000) as u32;
                (1, cap, cap)
            });
            let budget = full_cost(&o) / 2;
            per_unit(budget, 64, o)
        }),
        ("fixed lumps, prices 1-3, 16 slots", |rng| {
            let o = offers(rng, |r| {
                let cap = r.range(1_000, 1_000_000) as u32;
                (r.range(1, 3) as u128, cap, cap)
            });
            let budget = full_cost(&o) / 4;
            per_unit(budget, 16, o)
        }),
        ("bounty asks", |rng| {
            let o = offers(rng, |r| (r.range(1, 1_000_000) as u128, 1, 1));
            let budget = full_cost(&o) / 3;
            Problem {
                kind: TaskKind::Bounty,
                budget,
                max_participants: 64,
                offers: o,
            }
        }),
    ]
}

fn main() {
    let per_family: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    println!("{per_family} instances per family, 64 offers each, node limit {DEFAULT_NODE_LIMIT}");
    println!(
        "{:<36} {:>10} {:>10} {:>10} {:>10} {:>8} {:>9}",
        "family", "median", "p95", "max", "max nodes", "proven", "beat rule"
    );
    for (name, make) in families() {
        let mut times: Vec<Duration> = Vec::with_capacity(per_family);
        let mut max_nodes = 0;
        let mut proven = 0;
        let mut beat = 0;
        for _ in 0..per_family {
            let p = make(&mut rng);
            let t = Instant::now();
            let s = solve(&p).expect("some offer fits");
            times.push(t.elapsed());
            assert_eq!(evaluate(&p, &s.assignments), Ok(s.score));
            max_nodes = max_nodes.max(s.nodes);
            proven += usize::from(s.proven_optimal);
            if let Ok(r) = evaluate(&p, &rule(&p)) {
                beat += usize::from(s.score.better_than(&r));
            }
        }
        times.sort();
        let pct = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
        println!(
            "{:<36} {:>10.2?} {:>10.2?} {:>10.2?} {:>10} {:>5}/{:<2} {:>6}/{:<2}",
            name,
            pct(0.5),
            pct(0.95),
            times[times.len() - 1],
            max_nodes,
            proven,
            per_family,
            beat,
            per_family
        );
    }
}
