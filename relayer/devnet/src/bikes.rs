//! The bike-rebalancing task, paid per bike moved: four riders offer to
//! move bikes from full docks to empty ones, the city has two cargo-bike
//! permits (two participants) and 2,000,000 ustake. The contract's rule
//! takes the cheapest offers first — two small cargo bikes, 8 bikes — and
//! the permits are gone; the solver finds the van and the trailer, 38 bikes
//! within the budget, and its proposal is strictly better, so the contract
//! uses it at the matching deadline. The dock stations log every bike
//! docked (a JSON line each), which the oracles read.

use std::io::Write;
use std::path::{Path, PathBuf};

use relayer_solver::{evaluate, rule, OfferInput, Problem};
use value_contract::msg::{MatchingResponse, OffersResponse};
use value_contract::state::TaskKind;

use super::net::{check, Net, Tx};
use super::scenario::coins;
use super::DevnetError;

/// The riders, in offer order.
pub const RIDERS: [&str; 4] = ["rider-1", "rider-2", "rider-3", "rider-4"];
/// Their offers: (price per bike, capacity, fewest bikes worth the trip).
pub const OFFERS: [(u128, u32, u32); 4] = [
    (40_000, 4, 1),   // a small cargo bike
    (45_000, 4, 1),   // another one
    (50_000, 30, 10), // a van, worth it from 10 bikes
    (60_000, 10, 1),  // a bike trailer
];
/// The task's budget (one sponsor: the city).
pub const BUDGET: u128 = 2_000_000;
/// Cargo-bike permits: participants at most.
pub const PERMITS: u32 = 2;
/// A participant's bond, back after settlement.
pub const BOND: u128 = 100_000;
/// (bikes, cost) the contract's rule assigns: riders 1 and 2, 4 bikes each.
pub const RULE: (u64, u128) = (8, 340_000);
/// (bikes, cost) of the optimum: the van 30 bikes, the trailer 8 (28 and
/// 10 are also 38 bikes but cost 2,000,000).
pub const OPTIMUM: (u64, u128) = (38, 1_980_000);
/// Bikes each matched rider moves: the van all 30, the trailer one short
/// of its 8 (paid per bike actually moved).
pub const MOVED: [(&str, u64); 2] = [("rider-3", 30), ("rider-4", 7)];

/// The dock stations' log the oracles read (`dock-log` source).
pub fn dock_log(state_dir: &Path) -> PathBuf {
    state_dir.join("dock-log.jsonl")
}

/// The riders' offers on `task` (one tx each, sent together).
pub fn offers(task: u64, deposit: u128) -> Vec<Tx> {
    RIDERS
        .iter()
        .zip(OFFERS)
        .map(|(rider, (price, capacity, min_units))| Tx {
            actor: rider.to_string(),
            contract: "value-contract".into(),
            msg: serde_json::json!({ "submit_offer": {
                "task_id": task, "price": price.to_string(), "capacity": capacity,
                "min_units": min_units, "reputation_ref": null
            } }),
            funds: coins(deposit),
        })
        .collect()
}

/// The matching as decided on chain, checked against the contract's rule
/// computed over the same offers: the solver's proposal was used and is
/// strictly better. Returns (rule, matched) as (bikes, cost) and the
/// riders left without a slot.
pub async fn check_matching(
    net: &Net,
    task: u64,
) -> Result<((u64, u128), (u64, u128), Vec<&'static str>), DevnetError> {
    let offers: OffersResponse = net
        .query(
            "value-contract",
            &serde_json::json!({ "offers": { "task_id": task, "start_after": null, "limit": 30 } }),
        )
        .await?;
    let problem = Problem {
        kind: TaskKind::PerUnit,
        budget: BUDGET,
        max_participants: PERMITS,
        offers: offers
            .offers
            .iter()
            .map(|o| OfferInput {
                offer_id: o.offer_id,
                revision: o.revision,
                price: o.price.u128(),
                capacity: o.capacity,
                min_units: o.min_units,
            })
            .collect(),
    };
    let greedy = evaluate(&problem, &rule(&problem))
        .map_err(|e| DevnetError::Check(format!("the contract's rule is infeasible: {e:?}")))?;
    let m: MatchingResponse = net
        .query(
            "value-contract",
            &serde_json::json!({ "matching": { "task_id": task, "start_after": null, "limit": 30 } }),
        )
        .await?;
    let matched = m.slots.iter().fold((0u64, 0u128), |(u, c), s| {
        (
            u + u64::from(s.units),
            c + s.price.u128() * u128::from(s.units),
        )
    });
    let rule_score = (greedy.units, greedy.cost);
    check(m.decided && m.from_proposal, || {
        format!("the bike matching should come from the solver's proposal: {m:?}")
    })?;
    check(rule_score == RULE && matched == OPTIMUM, || {
        format!("expected the rule's {RULE:?} and the solver's {OPTIMUM:?} (bikes, cost); got {rule_score:?} and {matched:?}")
    })?;
    let mut unmatched = vec![];
    for rider in RIDERS {
        let addr = net.addr(rider)?;
        let slot = m.slots.iter().find(|s| s.participant.as_str() == addr);
        let want = MOVED.iter().any(|(r, _)| *r == rider);
        check(slot.is_some() == want, || {
            format!(
                "{rider} should {}hold a slot: {m:?}",
                if want { "" } else { "not " }
            )
        })?;
        if !want {
            unmatched.push(rider);
        }
    }
    Ok((rule_score, matched, unmatched))
}

/// The dock stations log each bike a matched rider docks, at times inside
/// the execution period `[from, to)` (Unix seconds) the oracles measure.
pub fn log_moves(net: &Net, state_dir: &Path, from: u64, to: u64) -> Result<u64, DevnetError> {
    let path = dock_log(state_dir);
    let io = |source| DevnetError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = std::fs::File::create(&path).map_err(io)?;
    let span = to.saturating_sub(from).max(1);
    let mut total = 0;
    for (rider, bikes) in MOVED {
        let addr = net.addr(rider)?;
        for i in 0..bikes {
            let at = from + (i * span) / bikes.max(1);
            let dock = format!("porta-nuova-{}", i % 3 + 1);
            writeln!(
                file,
                r#"{{"participant":"{addr}","timestamp":{at},"value":1,"dock":"{dock}"}}"#
            )
            .map_err(io)?;
        }
        total += bikes;
    }
    file.sync_all().map_err(io)?;
    Ok(total)
}

/// What the task pays a rider: price × min(moved, assigned).
pub fn expected_reward(rider: &str) -> u128 {
    let moved = MOVED
        .iter()
        .find(|(r, _)| *r == rider)
        .map_or(0, |(_, m)| *m);
    let (price, assigned) = match rider {
        "rider-3" => (OFFERS[2].0, 30),
        "rider-4" => (OFFERS[3].0, 8),
        _ => (0, 0),
    };
    price * u128::from(moved.min(assigned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use relayer_solver::solve;

    fn problem() -> Problem {
        Problem {
            kind: TaskKind::PerUnit,
            budget: BUDGET,
            max_participants: PERMITS,
            offers: OFFERS
                .iter()
                .enumerate()
                .map(|(i, (price, capacity, min_units))| OfferInput {
                    offer_id: i as u64 + 1,
                    revision: 0,
                    price: *price,
                    capacity: *capacity,
                    min_units: *min_units,
                })
                .collect(),
        }
    }

    #[test]
    fn the_solver_beats_the_contracts_rule_on_these_offers() {
        let p = problem();
        let greedy = evaluate(&p, &rule(&p)).unwrap();
        assert_eq!((greedy.units, greedy.cost), RULE);
        let best = solve(&p).unwrap();
        assert!(best.proven_optimal);
        assert_eq!((best.score.units, best.score.cost), OPTIMUM);
        // The van 30 bikes, the trailer 8.
        let picked: Vec<(u64, u32)> = best
            .assignments
            .iter()
            .map(|a| (a.offer_id, a.units))
            .collect();
        assert_eq!(picked, vec![(3, 30), (4, 8)]);
    }

    #[test]
    fn riders_are_paid_per_bike_moved_up_to_their_assignment() {
        assert_eq!(expected_reward("rider-3"), 30 * 50_000);
        assert_eq!(expected_reward("rider-4"), 7 * 60_000);
        assert_eq!(expected_reward("rider-1"), 0);
        assert!(expected_reward("rider-3") + expected_reward("rider-4") <= BUDGET);
    }
}
