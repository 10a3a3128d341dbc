//! The reference model the property test checks the contract against: the
//! README's rules written again, independently of the contract's code.
//! Every operation decides on its own whether the contract must accept the
//! message (and then applies its effects, payments included) or refuse it
//! (and with which error); the test asserts that the contract agrees.

use std::collections::{BTreeMap, BTreeSet};

use cosmwasm_std::{Addr, Uint128};
use value_contract::state::{TaskKind, TaskStatus};
use value_contract::ContractError;

use TaskStatus::*;

mod messages;

pub const ROUNDS: u32 = 3;
pub const MAX_OFFERS: usize = 64;

pub type Res<T = ()> = Result<T, ContractError>;

/// A proposal's assignment: (offer id, revision, units).
pub type Assignment = (u64, u32, u32);

#[derive(Clone, Debug)]
pub struct Offer {
    pub who: Addr,
    pub price: u128,
    pub cap: u32,
    pub min: u32,
    pub rev: u32,
}

#[derive(Clone, Debug)]
pub struct Slot {
    pub offer_id: u64,
    pub units: u32,
    pub price: u128,
    pub confirmed: bool,
    pub bond: u128,
    pub value: Option<u128>,
    pub reward: Option<u128>,
    pub claimed: bool,
}

/// The sponsors' pool of a final task: (pool, paid so far, sponsors paid).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pool {
    pub pool: u128,
    pub paid: u128,
    pub claimed: u32,
}

#[derive(Clone, Debug)]
pub struct Terms {
    pub kind: TaskKind,
    pub cw20: bool,
    pub goal: u128,
    pub target: u128,
    pub max_p: u32,
    pub bond: u128,
    pub deposit: u128,
    pub min_quorum: u32,
    pub tolerance: u32,
    pub funding_deadline: u64,
    pub matching_deadline: u64,
    pub round_secs: u64,
    pub execution_deadline: u64,
    pub verification_deadline: u64,
    pub dispute_secs: u64,
}

#[derive(Clone, Debug)]
pub struct Task {
    pub id: u64,
    pub t: Terms,
    pub status: TaskStatus,
    pub funded: u128,
    /// Sponsor → (amount, refunded).
    pub sponsors: BTreeMap<Addr, (u128, bool)>,
    pub offers: BTreeMap<u64, Offer>,
    pub next_offer: u64,
    /// Best proposal: assignments, units, cost.
    pub proposal: Option<(Vec<Assignment>, u64, u128)>,
    pub slots: BTreeMap<Addr, Slot>,
    pub released: BTreeSet<Addr>,
    pub round: u32,
    pub committed: u128,
    pub value_total: u128,
    /// (participant, config version) → oracle → value.
    pub attestations: BTreeMap<(Addr, u32), BTreeMap<Addr, u128>>,
    pub rounds_used: BTreeSet<u64>,
    pub dispute_start: Option<u64>,
    pub pool: Option<Pool>,
    pub slashed: u128,
    /// Everything in minus everything out.
    pub held: u128,
}

impl Task {
    pub fn new(id: u64, t: Terms) -> Self {
        Task {
            id,
            t,
            status: Funding,
            funded: 0,
            sponsors: BTreeMap::new(),
            offers: BTreeMap::new(),
            next_offer: 0,
            proposal: None,
            slots: BTreeMap::new(),
            released: BTreeSet::new(),
            round: 0,
            committed: 0,
            value_total: 0,
            attestations: BTreeMap::new(),
            rounds_used: BTreeSet::new(),
            dispute_start: None,
            pool: None,
            slashed: 0,
            held: 0,
        }
    }

    fn confirmed(&self) -> usize {
        self.slots.values().filter(|s| s.confirmed).count()
    }

    fn finals(&self) -> usize {
        self.slots.values().filter(|s| s.value.is_some()).count()
    }

    fn round_deadline(&self, round: u32) -> u64 {
        self.t.matching_deadline + self.t.round_secs * u64::from(round + 1)
    }

    fn wrong(&self, action: &'static str) -> ContractError {
        ContractError::WrongStatus {
            task_id: self.id,
            status: self.status,
            action,
        }
    }

    fn cost(&self, price: u128, units: u32) -> u128 {
        if self.t.kind == TaskKind::Competition {
            0
        } else {
            price * u128::from(units)
        }
    }
}

pub fn is_final(s: TaskStatus) -> bool {
    matches!(s, Settled | FundingFailed | Voided | Expired | Cancelled)
}

/// The oracle set: version, threshold, members (account, key index).
#[derive(Clone, Debug)]
pub struct Oracles {
    pub version: u32,
    pub threshold: u32,
    pub members: Vec<(Addr, usize)>,
}

pub struct Model {
    pub now: u64,
    pub owner: Addr,
    pub denom: String,
    pub token: Addr,
    pub oracles: Oracles,
    pub tasks: Vec<Task>,
}

fn better(a: (u64, u128), b: (u64, u128)) -> bool {
    a.0 > b.0 || (a.0 == b.0 && a.1 < b.1)
}

/// The README's agreement rule for single attestations.
pub fn agreed(values: &[u128], k: usize, bps: u32, complete: bool) -> Option<u128> {
    let mut v = values.to_vec();
    v.sort();
    if k == 0 || v.len() < k {
        return None;
    }
    let agree = |lo: u128, hi: u128| {
        Uint128::new(hi - lo).full_mul(10_000u128) <= Uint128::new(hi).full_mul(u128::from(bps))
    };
    let strong = 2 * k - 1;
    for i in 0..v.len() {
        if i + strong <= v.len() && agree(v[i], v[i + strong - 1]) {
            return Some(v[i + k - 1]);
        }
    }
    if !complete {
        return None;
    }
    let mut best: Option<(usize, usize)> = None;
    for i in 0..v.len() {
        for j in i..v.len() {
            let len = j - i + 1;
            if agree(v[i], v[j]) && len >= k && best.is_none_or(|(_, l)| len > l) {
                best = Some((i, len));
            }
        }
    }
    // Among equally large windows the lowest: the scan above keeps the first.
    best.map(|(i, len)| v[i + (len - 1) / 2])
}

impl Model {
    fn quorum(&self, t: &Task) -> usize {
        t.t.min_quorum.max(self.oracles.threshold) as usize
    }

    /// The on-chain rule: cheapest first, ties by id.
    fn greedy(
        t: &Task,
        exclude: &BTreeSet<u64>,
        mut budget: u128,
        slots: usize,
    ) -> Vec<(u64, u32)> {
        let mut order: Vec<(&u64, &Offer)> = t
            .offers
            .iter()
            .filter(|(id, _)| !exclude.contains(id))
            .collect();
        order.sort_by_key(|(id, o)| (o.price, **id));
        let mut out = vec![];
        for (id, o) in order {
            if out.len() >= slots {
                break;
            }
            let units = if t.t.kind == TaskKind::Competition || o.price == 0 {
                o.cap
            } else {
                (budget / o.price).min(u128::from(o.cap)) as u32
            };
            if units == 0 || units < o.min {
                continue;
            }
            budget -= t.cost(o.price, units);
            out.push((*id, units));
        }
        out
    }

    fn check_assignments(t: &Task, asg: &[(u64, u32, u32)]) -> Res<(u64, u128)> {
        if asg.is_empty() || asg.len() > t.t.max_p as usize {
            return Err(ContractError::InfeasibleProposal {
                index: asg.len(),
                reason: "1 to max_participants assignments are allowed",
            });
        }
        let (mut units, mut cost, mut last) = (0u64, 0u128, 0u64);
        for (index, (id, rev, u)) in asg.iter().enumerate() {
            let fail = |reason| ContractError::InfeasibleProposal { index, reason };
            if *id <= last {
                return Err(fail("offer ids must strictly increase"));
            }
            last = *id;
            let o = t.offers.get(id).ok_or(fail("offer withdrawn or unknown"))?;
            if o.rev != *rev {
                return Err(fail("offer was revised since"));
            }
            if *u < o.min || *u > o.cap {
                return Err(fail("units outside the offer's min_units..=capacity"));
            }
            units += u64::from(*u);
            cost += t.cost(o.price, *u);
        }
        if cost > t.funded {
            return Err(ContractError::OverBudget {
                cost: Uint128::new(cost),
                budget: Uint128::new(t.funded),
            });
        }
        Ok((units, cost))
    }

    fn make_slots(t: &mut Task, picks: &[(u64, u32)]) {
        for (id, units) in picks {
            let o = t.offers[id].clone();
            t.committed += t.cost(o.price, *units);
            t.slots.insert(
                o.who.clone(),
                Slot {
                    offer_id: *id,
                    units: *units,
                    price: o.price,
                    confirmed: false,
                    bond: 0,
                    value: None,
                    reward: None,
                    claimed: false,
                },
            );
        }
    }

    fn decide(t: &mut Task) {
        let mut picks = Self::greedy(t, &BTreeSet::new(), t.funded, t.t.max_p as usize);
        if let Some((asg, _, _)) = t.proposal.clone() {
            if let Ok(p) = Self::check_assignments(t, &asg) {
                let g_units = picks.iter().map(|(_, u)| u64::from(*u)).sum();
                let g_cost = picks
                    .iter()
                    .map(|(id, u)| t.cost(t.offers[id].price, *u))
                    .sum();
                if better(p, (g_units, g_cost)) {
                    picks = asg.iter().map(|(id, _, u)| (*id, *u)).collect();
                }
            }
        }
        Self::make_slots(t, &picks);
    }

    fn end_round(t: &mut Task, late: bool, refill: bool) {
        let pending: Vec<Addr> = t
            .slots
            .iter()
            .filter(|(_, s)| !s.confirmed)
            .map(|(a, _)| a.clone())
            .collect();
        for a in pending {
            let s = t.slots.remove(&a).unwrap();
            if !late {
                t.released.insert(a);
                t.slashed += t.t.deposit;
            }
            t.committed -= t.cost(s.price, s.units);
        }
        if refill {
            let taken: BTreeSet<u64> = t
                .offers
                .iter()
                .filter(|(_, o)| t.slots.contains_key(&o.who) || t.released.contains(&o.who))
                .map(|(id, _)| *id)
                .collect();
            let free = t.t.max_p as usize - t.slots.len();
            let picks = Self::greedy(t, &taken, t.funded - t.committed, free);
            Self::make_slots(t, &picks);
        }
    }

    fn reward(t: &Task, s: &Slot) -> u128 {
        let v = s.value.unwrap_or(0);
        match t.t.kind {
            TaskKind::Bounty => {
                if v >= t.t.target {
                    s.price
                } else {
                    0
                }
            }
            TaskKind::Crowdfunding => Uint128::new(s.price)
                .multiply_ratio(v.min(t.t.target), t.t.target)
                .u128(),
            TaskKind::PerUnit => s.price * v.min(u128::from(s.units)),
            TaskKind::Competition => {
                if t.value_total == 0 {
                    0
                } else {
                    Uint128::new(t.funded)
                        .multiply_ratio(v, t.value_total)
                        .u128()
                }
            }
        }
    }

    fn finish(t: &mut Task, status: TaskStatus) {
        let pool = if status == Settled {
            let mut rewards = 0;
            let mut forfeited = 0;
            let addrs: Vec<Addr> = t.slots.keys().cloned().collect();
            for a in addrs {
                let r = Self::reward(t, &t.slots[&a]);
                let s = t.slots.get_mut(&a).unwrap();
                s.reward = Some(r);
                rewards += r;
                if s.value == Some(0) {
                    forfeited += s.bond;
                }
            }
            t.funded - rewards + forfeited + t.slashed
        } else {
            t.funded + t.slashed
        };
        t.pool = Some(Pool {
            pool,
            paid: 0,
            claimed: 0,
        });
        t.status = status;
    }

    fn finalize(&self, t: &mut Task) {
        let k = self.quorum(t);
        let addrs: Vec<Addr> = t
            .slots
            .iter()
            .filter(|(_, s)| s.confirmed && s.value.is_none())
            .map(|(a, _)| a.clone())
            .collect();
        for a in addrs {
            let values: Vec<u128> = t
                .attestations
                .get(&(a.clone(), self.oracles.version))
                .map(|m| m.values().copied().collect())
                .unwrap_or_default();
            if let Some(v) = agreed(&values, k, t.t.tolerance, true) {
                t.slots.get_mut(&a).unwrap().value = Some(v);
                t.value_total += v;
            }
        }
    }

    /// Every transition due now, as the README's lifecycle describes it.
    pub fn advance(&self, t: &mut Task) {
        let now = self.now;
        let mut fresh: Option<u32> = None;
        loop {
            let before = (t.status, t.round);
            match t.status {
                Funding if now >= t.t.funding_deadline => {
                    if t.funded >= t.t.goal {
                        t.status = Matching;
                    } else {
                        Self::finish(t, FundingFailed);
                    }
                }
                Matching if now >= t.t.matching_deadline => {
                    Self::decide(t);
                    fresh = Some(0);
                    t.status = Accepting;
                }
                Accepting => {
                    if t.slots.is_empty() {
                        Self::finish(t, Expired);
                    } else if t.slots.len() == t.confirmed() {
                        t.status = Executing;
                    } else if now >= t.round_deadline(t.round) {
                        let late = fresh == Some(t.round);
                        let last = t.round + 1 >= ROUNDS;
                        Self::end_round(t, late, !last);
                        if !last {
                            t.round += 1;
                            fresh = Some(t.round);
                        } else if t.confirmed() == 0 {
                            Self::finish(t, Expired);
                        } else {
                            t.status = Executing;
                        }
                    }
                }
                Executing if now >= t.t.execution_deadline => t.status = Verifying,
                Verifying => {
                    if t.finals() == t.confirmed() {
                        t.status = Disputable;
                        t.dispute_start.get_or_insert(now);
                    } else if now >= t.t.verification_deadline {
                        self.finalize(t);
                        if t.finals() == 0 {
                            Self::finish(t, Expired);
                        } else {
                            t.status = Disputable;
                            t.dispute_start = Some(t.t.verification_deadline);
                        }
                    }
                }
                Disputable if now >= t.dispute_start.unwrap() + t.t.dispute_secs => {
                    Self::finish(t, Settled);
                }
                _ => {}
            }
            if (t.status, t.round) == before {
                break;
            }
        }
    }

    /// Runs `op` on a copy of task `i` advanced to now; keeps the copy only
    /// when the operation succeeds (a failed transaction changes nothing).
    pub fn with_task<T>(
        &mut self,
        i: usize,
        op: impl FnOnce(&Model, &mut Task) -> Res<T>,
    ) -> Res<T> {
        let mut t = self.tasks[i].clone();
        self.advance(&mut t);
        let out = op(self, &mut t)?;
        self.tasks[i] = t;
        Ok(out)
    }
}
