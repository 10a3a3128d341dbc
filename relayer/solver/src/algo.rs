//! The matching problem and its exact solver, free of chain I/O.
//!
//! # The contract's objective (value-contract `matching.rs`)
//!
//! A proposal is a list of assignments (offer id, offer revision, units)
//! with strictly increasing offer ids, 1 to `max_participants` of them,
//! each with `min_units ≤ units ≤ capacity`, and a total cost
//! Σ price × units (zero in competitions) within the task's funded budget.
//! It is better than another when it assigns **more units in total**, or
//! as many units at a **lower total cost**; the contract keeps a new
//! proposal only when it is strictly better than the best one still valid,
//! and at the deadline uses it only when strictly better than its own
//! greedy rule ([`rule`]). [`evaluate`] re-implements those checks.
//!
//! # Why not an assignment algorithm
//!
//! With minimum units the problem is a knapsack with set-up lumps and a
//! cardinality cap, NP-hard in general: with every price 1 and
//! `min_units = capacity`, "most units within the budget" is subset sum.
//! No polynomial algorithm (Hungarian, min-cost flow) is exact for it, and
//! a dynamic programme over units (up to 64 × 10⁶) × participants (64) is
//! too large. The solver is therefore an exact **branch and bound**.
//!
//! # Algorithm
//!
//! 1. *Allocation lemma.* Once the set S of assigned offers is fixed, the
//!    best units are: every offer its `min_units`, then the remaining budget
//!    buys extra units one by one, cheapest first. Every
//!    extra unit is worth the same (one unit), so the cheapest k units are
//!    the most units for the budget and, among as many units, the cheapest.
//!    So only S has to be searched.
//! 2. *Search.* Offers sorted by price, then larger minimum, larger
//!    capacity, offer id (large lumps first find tight fills of the budget
//!    early); depth-first over "include offer i at its minimum" then "skip
//!    it". Each set is scored once, at the node that added its last offer,
//!    with the lemma (extras in the same order).
//! 3. *Bounds.* At a node with set S (minimums paid, budget `rem` left) and
//!    offers i.. undecided, any completion adds units bought from a pool:
//!    S's extra units and the undecided offers' whole capacities, each unit
//!    at its offer's price. Units added ≤ the units of the pool the budget
//!    buys cheapest first, and ≤ S's extras plus the largest capacities of
//!    as many undecided offers as slots remain. A completion reaching the
//!    incumbent's units pays at least the pool's cheapest units for the
//!    difference. The node is cut when the units bound is below the
//!    incumbent, or equal with a cost bound not below its cost: no strictly
//!    better completion exists, so cutting keeps the search exact.
//! 4. *Start.* The incumbent starts as the contract's own greedy result, so
//!    the search only looks for strictly better sets.
//!
//! **Complexity**: O(n log n) to sort, then O(n) per search node; the worst
//! case is 2ⁿ nodes (NP-hardness), n ≤ 64 live offers per task. In practice
//! the bounds cut almost everything (see the report's benchmark); a node
//! limit guards the worst case, and a search that hits it returns its best
//! valid solution with [`Solution::proven_optimal`] = false.
//!
//! **Tie-breaking** (deterministic, independent of the offers' input
//! order): when the contract's greedy result is optimal it is returned;
//! otherwise the first optimal set (and allocation) in the search order
//! above. The contract itself never replaces a proposal by an equal one,
//! so the service never sends a solution that only ties the current best.

use value_contract::msg::Assignment;
use value_contract::state::TaskKind;

/// Search nodes [`solve`] explores before giving up on proving optimality.
pub const DEFAULT_NODE_LIMIT: u64 = 2_000_000;

/// One live offer as the solver sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferInput {
    /// Offer id (submission order).
    pub offer_id: u64,
    /// Revision the assignment must name.
    pub revision: u32,
    /// Price per unit (per-unit tasks) or the whole ask (capacity 1).
    pub price: u128,
    /// Most units.
    pub capacity: u32,
    /// Fewest units.
    pub min_units: u32,
}

/// A task's matching problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Task kind: competitions cost nothing.
    pub kind: TaskKind,
    /// Funded budget.
    pub budget: u128,
    /// Most assignments.
    pub max_participants: u32,
    /// Live offers (any order).
    pub offers: Vec<OfferInput>,
}

/// The contract's objective value of an assignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Score {
    /// Total units (maximised first).
    pub units: u64,
    /// Total cost (minimised second).
    pub cost: u128,
}

impl Score {
    /// The contract's `better`: more units, or as many for less.
    pub fn better_than(&self, other: &Score) -> bool {
        self.units > other.units || (self.units == other.units && self.cost < other.cost)
    }
}

/// An assignment and its score.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// Assignments, offer ids strictly increasing.
    pub assignments: Vec<Assignment>,
    /// Its objective value.
    pub score: Score,
    /// Whether the search finished (false only when the node limit was hit).
    pub proven_optimal: bool,
    /// Search nodes explored.
    pub nodes: u64,
}

/// Why the contract would refuse an assignment (its `check_assignments`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Infeasible {
    /// Empty or more than `max_participants` assignments.
    #[error("1 to max_participants assignments are allowed")]
    Count,
    /// Offer ids not strictly increasing.
    #[error("offer ids must strictly increase (index {0})")]
    Order(usize),
    /// No live offer with that id.
    #[error("offer withdrawn or unknown (index {0})")]
    UnknownOffer(usize),
    /// The offer was revised since.
    #[error("offer was revised since (index {0})")]
    Revised(usize),
    /// Units outside `min_units..=capacity`.
    #[error("units outside the offer's min_units..=capacity (index {0})")]
    Units(usize),
    /// Cost above the budget (or beyond 128 bits).
    #[error("over budget")]
    OverBudget,
}

/// Whether `score` beats `incumbent` (anything beats nothing).
fn improves(score: &Score, incumbent: Option<&Score>) -> bool {
    match incumbent {
        None => true,
        Some(b) => score.better_than(b),
    }
}

fn unit_price(kind: TaskKind, price: u128) -> u128 {
    if kind == TaskKind::Competition {
        0
    } else {
        price
    }
}

/// The contract's validity check and score of an assignment.
pub fn evaluate(problem: &Problem, assignments: &[Assignment]) -> Result<Score, Infeasible> {
    if assignments.is_empty() || assignments.len() > problem.max_participants as usize {
        return Err(Infeasible::Count);
    }
    let mut units = 0u64;
    let mut cost = 0u128;
    let mut last_id = 0u64;
    for (index, a) in assignments.iter().enumerate() {
        if a.offer_id <= last_id {
            return Err(Infeasible::Order(index));
        }
        last_id = a.offer_id;
        let offer = problem
            .offers
            .iter()
            .find(|o| o.offer_id == a.offer_id)
            .ok_or(Infeasible::UnknownOffer(index))?;
        if offer.revision != a.revision {
            return Err(Infeasible::Revised(index));
        }
        if a.units < offer.min_units || a.units > offer.capacity {
            return Err(Infeasible::Units(index));
        }
        units += u64::from(a.units);
        let c = unit_price(problem.kind, offer.price)
            .checked_mul(u128::from(a.units))
            .ok_or(Infeasible::OverBudget)?;
        cost = cost.checked_add(c).ok_or(Infeasible::OverBudget)?;
    }
    if cost > problem.budget {
        return Err(Infeasible::OverBudget);
    }
    Ok(Score { units, cost })
}

/// The contract's on-chain rule (its `greedy`): cheapest first, ties by
/// offer id, each offer as many units as the budget left affords up to its
/// capacity if at least its minimum, until the slots run out. Returns the
/// assignments sorted by offer id (empty when nothing fits).
pub fn rule(problem: &Problem) -> Vec<Assignment> {
    let mut order: Vec<&OfferInput> = problem.offers.iter().collect();
    order.sort_by(|a, b| a.price.cmp(&b.price).then(a.offer_id.cmp(&b.offer_id)));
    let mut budget = problem.budget;
    let mut out = Vec::new();
    for o in order {
        if out.len() as u32 >= problem.max_participants {
            break;
        }
        let units = if problem.kind == TaskKind::Competition || o.price == 0 {
            o.capacity
        } else {
            u32::try_from((budget / o.price).min(u128::from(o.capacity))).unwrap_or(0)
        };
        if units == 0 || units < o.min_units {
            continue;
        }
        // Cannot underflow: units ≤ budget / price (or the cost is zero).
        budget -= unit_price(problem.kind, o.price) * u128::from(units);
        out.push(Assignment {
            offer_id: o.offer_id,
            revision: o.revision,
            units,
        });
    }
    out.sort_by_key(|a| a.offer_id);
    out
}

/// An offer in search order, with its lump (minimum) cost precomputed.
#[derive(Clone, Copy, Debug)]
struct Item {
    offer_id: u64,
    revision: u32,
    price: u128,
    min: u32,
    cap: u32,
    /// price × min.
    lump: u128,
}

struct Search<'a> {
    items: &'a [Item],
    slots: usize,
    budget: u128,
    best: Option<(Score, Vec<(usize, u32)>)>,
    chosen: Vec<usize>,
    nodes: u64,
    node_limit: u64,
    aborted: bool,
    scratch: Vec<u32>,
}

impl Search<'_> {
    /// Scores the current set with the allocation lemma; keeps it if strictly better.
    fn score_current(&mut self, rem: u128, u_min: u64, c_min: u128) {
        let mut rem = rem;
        let mut units = u_min;
        let mut cost = c_min;
        let mut alloc = Vec::with_capacity(self.chosen.len());
        // `chosen` is in search order, i.e. cheapest first.
        for &i in &self.chosen {
            let it = &self.items[i];
            let room = it.cap - it.min;
            // A free unit (price 0) always fits.
            let extra = match rem.checked_div(it.price) {
                None => room,
                Some(q) => u32::try_from(q.min(u128::from(room))).unwrap_or(room),
            };
            let c = it.price * u128::from(extra);
            rem -= c;
            cost += c;
            units += u64::from(extra);
            alloc.push((i, it.min + extra));
        }
        let score = Score { units, cost };
        if improves(&score, self.best.as_ref().map(|(b, _)| b)) {
            self.best = Some((score, alloc));
        }
    }

    /// Whether a strictly better completion of the current set may exist.
    fn promising(&mut self, next: usize, rem: u128, u_min: u64, c_min: u128) -> bool {
        let Some((best, _)) = &self.best else {
            return true;
        };
        let target = best.units.saturating_sub(u_min);
        // Pool in price order: the chosen offers' extras, then the undecided
        // offers' capacities (all at least as expensive).
        let pool = self
            .chosen
            .iter()
            .map(|&i| {
                (
                    self.items[i].price,
                    u64::from(self.items[i].cap - self.items[i].min),
                )
            })
            .chain(
                self.items[next..]
                    .iter()
                    .map(|it| (it.price, u64::from(it.cap))),
            );
        let mut budget_left = rem;
        let mut by_budget = 0u64;
        let mut need = target;
        let mut cost_lb = c_min;
        for (price, qty) in pool {
            let take = match budget_left.checked_div(price) {
                None => qty,
                Some(q) => u64::try_from(q.min(u128::from(qty))).unwrap_or(qty),
            };
            budget_left -= price * u128::from(take);
            by_budget += take;
            let t = need.min(qty);
            cost_lb = cost_lb.saturating_add(price.saturating_mul(u128::from(t)));
            need -= t;
        }
        // Units bound by the remaining slots.
        let slots_left = self.slots - self.chosen.len();
        let extras: u64 = self
            .chosen
            .iter()
            .map(|&i| u64::from(self.items[i].cap - self.items[i].min))
            .sum();
        let undecided = self.items.len() - next;
        let by_count = if slots_left >= undecided {
            u64::MAX
        } else {
            self.scratch.clear();
            self.scratch
                .extend(self.items[next..].iter().map(|it| it.cap));
            self.scratch.sort_unstable_by(|a, b| b.cmp(a));
            extras
                + self.scratch[..slots_left]
                    .iter()
                    .map(|&c| u64::from(c))
                    .sum::<u64>()
        };
        let ub = u_min + by_budget.min(by_count);
        let best = *best;
        ub > best.units || (ub == best.units && need == 0 && cost_lb < best.cost)
    }

    fn dfs(&mut self, next: usize, rem: u128, u_min: u64, c_min: u128) {
        self.nodes += 1;
        if self.nodes > self.node_limit {
            self.aborted = true;
            return;
        }
        if next == self.items.len() || self.chosen.len() == self.slots {
            return;
        }
        if !self.promising(next, rem, u_min, c_min) {
            return;
        }
        let it = self.items[next];
        if it.lump <= rem {
            self.chosen.push(next);
            let (rem2, u2, c2) = (rem - it.lump, u_min + u64::from(it.min), c_min + it.lump);
            self.score_current(rem2, u2, c2);
            self.dfs(next + 1, rem2, u2, c2);
            self.chosen.pop();
            if self.aborted {
                return;
            }
        }
        self.dfs(next + 1, rem, u_min, c_min);
    }
}

/// [`solve_with_limit`] with [`DEFAULT_NODE_LIMIT`].
pub fn solve(problem: &Problem) -> Option<Solution> {
    solve_with_limit(problem, DEFAULT_NODE_LIMIT)
}

/// The best assignment under the contract's objective (module docs), or
/// `None` when no offer fits the budget (or there are no offers or slots).
pub fn solve_with_limit(problem: &Problem, node_limit: u64) -> Option<Solution> {
    let mut items: Vec<Item> = problem
        .offers
        .iter()
        .filter_map(|o| {
            let price = unit_price(problem.kind, o.price);
            let min = o.min_units.max(1);
            if min > o.capacity {
                return None;
            }
            let lump = price.checked_mul(u128::from(min))?;
            (lump <= problem.budget).then_some(Item {
                offer_id: o.offer_id,
                revision: o.revision,
                price,
                min,
                cap: o.capacity,
                lump,
            })
        })
        .collect();
    // Price first (the bounds need it); among equal prices larger lumps
    // first, which finds tight fills of the budget early; then offer id.
    items.sort_by(|a, b| {
        a.price
            .cmp(&b.price)
            .then(b.min.cmp(&a.min))
            .then(b.cap.cmp(&a.cap))
            .then(a.offer_id.cmp(&b.offer_id))
    });
    let slots = (problem.max_participants as usize).min(items.len());
    if slots == 0 {
        return None;
    }
    let mut search = Search {
        items: &items,
        slots,
        budget: problem.budget,
        best: None,
        chosen: Vec::with_capacity(slots),
        nodes: 0,
        node_limit,
        aborted: false,
        scratch: Vec::with_capacity(items.len()),
    };
    // Start from the contract's own rule (valid by construction).
    let greedy = rule(problem);
    if let Ok(score) = evaluate(problem, &greedy) {
        let alloc = greedy
            .iter()
            .filter_map(|a| {
                items
                    .iter()
                    .position(|it| it.offer_id == a.offer_id)
                    .map(|i| (i, a.units))
            })
            .collect();
        search.best = Some((score, alloc));
    }
    search.dfs(0, search.budget, 0, 0);
    let (score, alloc) = search.best?;
    let mut assignments: Vec<Assignment> = alloc
        .into_iter()
        .map(|(i, units)| Assignment {
            offer_id: items[i].offer_id,
            revision: items[i].revision,
            units,
        })
        .collect();
    assignments.sort_by_key(|a| a.offer_id);
    Some(Solution {
        assignments,
        score,
        proven_optimal: !search.aborted,
        nodes: search.nodes,
    })
}

/// Exhaustive reference for tests: every subset of at most
/// `max_participants` offers and every unit count of each (no lemma, no
/// bounds). Exponential; only for a handful of offers with small capacities.
pub fn brute_force(problem: &Problem) -> Option<Score> {
    fn rec(p: &Problem, i: usize, picked: &mut Vec<Assignment>, best: &mut Option<Score>) {
        if i == p.offers.len() {
            if let Ok(s) = evaluate(p, picked) {
                if improves(&s, best.as_ref()) {
                    *best = Some(s);
                }
            }
            return;
        }
        rec(p, i + 1, picked, best);
        let o = &p.offers[i];
        for units in o.min_units.max(1)..=o.capacity {
            picked.push(Assignment {
                offer_id: o.offer_id,
                revision: o.revision,
                units,
            });
            rec(p, i + 1, picked, best);
            picked.pop();
        }
    }
    let mut sorted = problem.clone();
    sorted.offers.sort_by_key(|o| o.offer_id);
    let mut best = None;
    rec(&sorted, 0, &mut Vec::new(), &mut best);
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(id: u64, price: u128, cap: u32, min: u32) -> OfferInput {
        OfferInput {
            offer_id: id,
            revision: 0,
            price,
            capacity: cap,
            min_units: min,
        }
    }

    #[test]
    fn lump_knapsack_beats_greedy() {
        // The contract's lifecycle test: greedy takes a (70), optimum b + c (100).
        let p = Problem {
            kind: TaskKind::PerUnit,
            budget: 100,
            max_participants: 3,
            offers: vec![
                offer(1, 1, 70, 70),
                offer(2, 1, 50, 50),
                offer(3, 1, 50, 50),
            ],
        };
        assert_eq!(evaluate(&p, &rule(&p)).unwrap().units, 70);
        let s = solve(&p).unwrap();
        assert_eq!(
            s.score,
            Score {
                units: 100,
                cost: 100
            }
        );
        assert_eq!(
            s.assignments.iter().map(|a| a.offer_id).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert!(s.proven_optimal);
    }
}
