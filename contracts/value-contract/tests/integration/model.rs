//! The reference model the property test checks the contract against: the
//! README's rules written again, independently of the contract's code.
//! Every operation decides on its own whether the contract must accept the
//! message (and then applies its effects, payments included) or refuse it
//! (and with which error); the test asserts that the contract agrees.

use std::collections::{BTreeMap, BTreeSet};

use cosmwasm_std::{Addr, Uint128};
use cw_ownable::OwnershipError;
use cw_utils::PaymentError;
use value_contract::state::{TaskKind, TaskStatus};
use value_contract::ContractError;

use TaskStatus::*;

pub const ROUNDS: u32 = 3;
pub const MAX_OFFERS: usize = 64;

pub type Res<T = ()> = Result<T, ContractError>;

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
    /// Best proposal: (offer id, revision, units) list, units, cost.
    pub proposal: Option<(Vec<(u64, u32, u32)>, u64, u128)>,
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
                Disputable => {
                    if now >= t.dispute_start.unwrap() + t.t.dispute_secs {
                        Self::finish(t, Settled);
                    }
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

    // ------------------------------------------------------------ messages

    /// The cw20 hook on a natively paid task.
    fn wrong_asset(&self, t: &Task) -> ContractError {
        ContractError::WrongAsset {
            task_id: t.id,
            expected: format!("native:{}", self.denom),
            received: format!("cw20:{}", self.token),
        }
    }

    /// The payment checks of a message that carries the task's asset:
    /// `amount` natively (0 = no funds) or through the cw20 hook.
    fn payment(&self, i: usize, amount: u128, via_cw20: bool, hint: &str) -> Res {
        let t = &self.tasks[i];
        match (via_cw20, t.t.cw20) {
            (true, false) => Err(self.wrong_asset(t)),
            (false, true) if amount > 0 => Err(PaymentError::NonPayable {}.into()),
            (false, true) => Err(ContractError::WrongAsset {
                task_id: t.id,
                expected: format!("cw20:{}", self.token),
                received: hint.to_string(),
            }),
            (false, false) if amount == 0 => Err(PaymentError::NoFunds {}.into()),
            _ => Ok(()),
        }
    }

    /// `contribute` / the cw20 `contribute` hook with `amount` (0 = no funds).
    pub fn contribute(&mut self, i: usize, sponsor: &Addr, amount: u128, via_cw20: bool) -> Res {
        self.payment(
            i,
            amount,
            via_cw20,
            "no funds (send the cw20 with a contribute hook)",
        )?;
        self.with_task(i, |_, t| {
            if t.status != Funding {
                return Err(t.wrong("contribute"));
            }
            let e = t.sponsors.entry(sponsor.clone()).or_insert((0, false));
            e.0 += amount;
            t.funded += amount;
            t.held += amount;
            Ok(())
        })
    }

    fn offer_terms(kind: TaskKind, price: u128, cap: u32, min: u32) -> Res {
        let err = |reason| Err(ContractError::InvalidOffer { reason });
        match kind {
            TaskKind::Competition if price != 0 => {
                return err("competition entries ask no price (the prize pool is shared)")
            }
            TaskKind::Bounty | TaskKind::Crowdfunding | TaskKind::PerUnit if price == 0 => {
                return err("price must be greater than zero")
            }
            _ => {}
        }
        if kind == TaskKind::PerUnit {
            if cap == 0 || cap > 1_000_000 {
                return err("capacity must be 1 to 1,000,000 units");
            }
            if min == 0 || min > cap {
                return err("min_units must be 1 to capacity");
            }
        } else if cap != 1 || min != 1 {
            return err("capacity and min_units must be 1 for this kind of task");
        }
        Ok(())
    }

    /// `submit_offer` paying `paid` (0 = no funds), natively or by the cw20 hook.
    pub fn submit_offer(
        &mut self,
        i: usize,
        who: &Addr,
        (price, cap, min): (u128, u32, u32),
        paid: u128,
        via_cw20: bool,
    ) -> Res<u64> {
        self.payment(
            i,
            paid,
            via_cw20,
            "no funds (send the cw20 deposit with a submit_offer hook)",
        )?;
        self.with_task(i, |_, t| {
            if !matches!(t.status, Funding | Matching) {
                return Err(t.wrong("submit_offer"));
            }
            Self::offer_terms(t.t.kind, price, cap, min)?;
            if let Some((id, _)) = t.offers.iter().find(|(_, o)| &o.who == who) {
                return Err(ContractError::OfferExists {
                    task_id: t.id,
                    participant: who.to_string(),
                    offer_id: *id,
                });
            }
            if t.offers.len() >= MAX_OFFERS {
                return Err(ContractError::TooManyOffers {
                    task_id: t.id,
                    max: MAX_OFFERS as u32,
                });
            }
            if paid != t.t.deposit {
                return Err(ContractError::WrongDeposit {
                    task_id: t.id,
                    expected: Uint128::new(t.t.deposit),
                    received: Uint128::new(paid),
                });
            }
            t.next_offer += 1;
            let id = t.next_offer;
            t.offers.insert(
                id,
                Offer {
                    who: who.clone(),
                    price,
                    cap,
                    min,
                    rev: 0,
                },
            );
            t.held += paid;
            Ok(id)
        })
    }

    fn own_offer(t: &Task, who: &Addr) -> Res<u64> {
        t.offers
            .iter()
            .find(|(_, o)| &o.who == who)
            .map(|(id, _)| *id)
            .ok_or(ContractError::NoOffer {
                task_id: t.id,
                participant: who.to_string(),
            })
    }

    pub fn revise_offer(
        &mut self,
        i: usize,
        who: &Addr,
        (price, cap, min): (u128, u32, u32),
    ) -> Res {
        self.with_task(i, |_, t| {
            if !matches!(t.status, Funding | Matching) {
                return Err(t.wrong("revise_offer"));
            }
            Self::offer_terms(t.t.kind, price, cap, min)?;
            let id = Self::own_offer(t, who)?;
            let o = t.offers.get_mut(&id).unwrap();
            if (o.price, o.cap, o.min) == (price, cap, min) {
                return Err(ContractError::OfferUnchanged {
                    task_id: t.id,
                    offer_id: id,
                });
            }
            (o.price, o.cap, o.min) = (price, cap, min);
            o.rev += 1;
            Ok(())
        })
    }

    /// `withdraw_offer`: the deposit paid back.
    pub fn withdraw_offer(&mut self, i: usize, who: &Addr) -> Res<u128> {
        self.with_task(i, |_, t| {
            let id = Self::own_offer(t, who)?;
            let holds = |reason| ContractError::OfferHoldsSlot {
                task_id: t.id,
                participant: who.to_string(),
                reason,
            };
            if let Some(s) = t.slots.get(who) {
                if s.confirmed {
                    return Err(holds("confirmed (the deposit came back then)"));
                }
                if !is_final(t.status) {
                    return Err(holds("pending confirmation"));
                }
            }
            if t.released.contains(who) {
                return Err(ContractError::DepositSlashed {
                    task_id: t.id,
                    participant: who.to_string(),
                });
            }
            t.offers.remove(&id);
            t.held -= t.t.deposit;
            Ok(t.t.deposit)
        })
    }

    pub fn propose(&mut self, i: usize, asg: Vec<(u64, u32, u32)>) -> Res {
        self.with_task(i, |_, t| {
            if t.status != Matching {
                return Err(t.wrong("propose_matching"));
            }
            let (units, cost) = Self::check_assignments(t, &asg)?;
            if let Some((best, bu, bc)) = &t.proposal {
                if !better((units, cost), (*bu, *bc)) && Self::check_assignments(t, best).is_ok() {
                    return Err(ContractError::NotBetter {
                        units,
                        cost: Uint128::new(cost),
                        best_units: *bu,
                        best_cost: Uint128::new(*bc),
                    });
                }
            }
            t.proposal = Some((asg, units, cost));
            Ok(())
        })
    }

    /// `confirm` with `paid` as bond (native or cw20 hook); the deposit comes back.
    pub fn confirm(&mut self, i: usize, who: &Addr, paid: u128, via_cw20: bool) -> Res<u128> {
        let t = &self.tasks[i];
        if via_cw20 && !t.t.cw20 {
            return Err(self.wrong_asset(t));
        }
        if !via_cw20 {
            if t.t.bond == 0 || t.t.cw20 {
                if paid != 0 {
                    return Err(PaymentError::NonPayable {}.into());
                }
            } else if paid == 0 {
                return Err(PaymentError::NoFunds {}.into());
            }
        }
        self.with_task(i, |m, t| {
            if t.status != Accepting {
                return Err(t.wrong("confirm"));
            }
            if paid != t.t.bond {
                return Err(ContractError::WrongBond {
                    task_id: t.id,
                    expected: Uint128::new(t.t.bond),
                    received: Uint128::new(paid),
                });
            }
            let s = t.slots.get_mut(who).ok_or(ContractError::NotMatched {
                task_id: t.id,
                participant: who.to_string(),
            })?;
            if s.confirmed {
                return Err(ContractError::AlreadyConfirmed {
                    task_id: t.id,
                    participant: who.to_string(),
                });
            }
            s.confirmed = true;
            s.bond = paid;
            t.held += paid;
            t.held -= t.t.deposit;
            m.advance(t);
            Ok(t.t.deposit)
        })
    }

    fn participant_item(t: &Task, who: &Addr) -> Res<()> {
        let s = t
            .slots
            .get(who)
            .filter(|s| s.confirmed)
            .ok_or(ContractError::NotParticipant {
                task_id: t.id,
                participant: who.to_string(),
            })?;
        if s.value.is_some() {
            return Err(ContractError::AlreadyFinal {
                task_id: t.id,
                participant: who.to_string(),
            });
        }
        Ok(())
    }

    /// `attest` by `oracle` (account) with `values` sorted by participant.
    pub fn attest(&mut self, i: usize, oracle: &Addr, values: &[(Addr, u128)]) -> Res {
        if !self.oracles.members.iter().any(|(a, _)| a == oracle) {
            return Err(ContractError::NotOracle {
                address: oracle.to_string(),
                version: self.oracles.version,
            });
        }
        let version = self.oracles.version;
        let members = self.oracles.members.len();
        self.with_task(i, |m, t| {
            if t.status != Verifying {
                return Err(t.wrong("attest"));
            }
            let k = m.quorum(t);
            let mut first_err = None;
            let mut recorded = 0;
            for (p, v) in values {
                let item = Self::participant_item(t, p).and_then(|_| {
                    let group = t.attestations.entry((p.clone(), version)).or_default();
                    if group.contains_key(oracle) {
                        return Err(ContractError::DuplicateAttestation {
                            task_id: t.id,
                            participant: p.to_string(),
                            oracle: oracle.to_string(),
                        });
                    }
                    group.insert(oracle.clone(), *v);
                    Ok(group.values().copied().collect::<Vec<u128>>())
                });
                match item {
                    Ok(seen) => {
                        recorded += 1;
                        let complete = seen.len() >= members;
                        if let Some(a) = agreed(&seen, k, t.t.tolerance, complete) {
                            t.slots.get_mut(p).unwrap().value = Some(a);
                            t.value_total += a;
                        }
                    }
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            if recorded == 0 {
                return Err(first_err.unwrap());
            }
            m.advance(t);
            Ok(())
        })
    }

    /// `submit_report` for `version` and `round`, signed by `signers`
    /// (positions in the current set, all signatures valid).
    pub fn report(
        &mut self,
        i: usize,
        version: u32,
        round: u64,
        signers: &[usize],
        values: &[(Addr, u128)],
    ) -> Res {
        if version != self.oracles.version {
            return Err(ContractError::StaleConfig {
                current: self.oracles.version,
                found: version,
            });
        }
        let members = self.oracles.members.len();
        self.with_task(i, |m, t| {
            if t.status != Verifying {
                return Err(t.wrong("submit_report"));
            }
            if t.rounds_used.contains(&round) {
                return Err(ContractError::ReplayedRound {
                    task_id: t.id,
                    round,
                });
            }
            let k = m.quorum(t) as u32;
            if signers.len() > members {
                return Err(ContractError::NotEnoughSignatures {
                    valid: 0,
                    required: k,
                });
            }
            let mut seen = BTreeSet::new();
            for s in signers {
                if *s >= members || !seen.insert(*s) {
                    return Err(ContractError::BadSigner { index: *s as u32 });
                }
            }
            if (signers.len() as u32) < k {
                return Err(ContractError::NotEnoughSignatures {
                    valid: signers.len() as u32,
                    required: k,
                });
            }
            let mut first_err = None;
            let mut recorded = 0;
            for (p, v) in values {
                match Self::participant_item(t, p) {
                    Ok(()) => {
                        recorded += 1;
                        t.slots.get_mut(p).unwrap().value = Some(*v);
                        t.value_total += v;
                    }
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            if recorded == 0 {
                return Err(first_err.unwrap());
            }
            t.rounds_used.insert(round);
            m.advance(t);
            Ok(())
        })
    }

    /// `set_oracles` by `sender` with `members` (account, key index) and `threshold`.
    pub fn set_oracles(
        &mut self,
        sender: &Addr,
        members: Vec<(Addr, usize)>,
        threshold: u32,
    ) -> Res {
        if sender != &self.owner {
            return Err(OwnershipError::NotOwner.into());
        }
        let n = members.len() as u32;
        if !(1..=16).contains(&n) {
            return Err(ContractError::InvalidOracleSet {
                reason: "1 to 16 members are required",
            });
        }
        if !(1..=n).contains(&threshold) {
            return Err(ContractError::InvalidOracleSet {
                reason: "threshold must be 1 to the number of members",
            });
        }
        let mut running: BTreeMap<u32, u32> = BTreeMap::new();
        for t in self.tasks.iter().filter(|t| !is_final(t.status)) {
            *running.entry(t.t.min_quorum).or_default() += 1;
        }
        if let Some((q, tasks)) = running.iter().find(|(q, _)| **q > n) {
            return Err(ContractError::RotationStrandsTasks {
                min_quorum: *q,
                members: n,
                tasks: *tasks,
            });
        }
        self.oracles = Oracles {
            version: self.oracles.version + 1,
            threshold,
            members,
        };
        Ok(())
    }

    pub fn void(&mut self, i: usize, sender: &Addr) -> Res {
        if sender != &self.owner {
            return Err(OwnershipError::NotOwner.into());
        }
        self.with_task(i, |_, t| {
            if !matches!(t.status, Executing | Verifying | Disputable) {
                return Err(t.wrong("void"));
            }
            Self::finish(t, Voided);
            Ok(())
        })
    }

    pub fn advance_msg(&mut self, i: usize) -> Res {
        self.with_task(i, |_, _| Ok(()))
    }

    /// `claim`: reward plus bond paid.
    pub fn claim(&mut self, i: usize, who: &Addr) -> Res<u128> {
        self.with_task(i, |_, t| {
            if !is_final(t.status) {
                return Err(t.wrong("claim"));
            }
            let nothing = || ContractError::NothingToClaim {
                task_id: t.id,
                address: who.to_string(),
            };
            let status = t.status;
            let s = t.slots.get_mut(who).ok_or_else(nothing)?;
            if s.claimed || !s.confirmed {
                return Err(nothing());
            }
            let due = match status {
                Settled => s.reward.unwrap() + if s.value == Some(0) { 0 } else { s.bond },
                _ => s.bond,
            };
            s.claimed = true;
            t.held -= due;
            Ok(due)
        })
    }

    /// `refund`: the sponsor's share paid (cancelling a stuck task first).
    pub fn refund(&mut self, i: usize, who: &Addr) -> Res<u128> {
        self.with_task(i, |_, t| {
            let open = t.sponsors.get(who).filter(|(_, r)| !r).copied();
            let stuck = t.status == Accepting && t.round >= 1 && t.confirmed() == 0;
            if stuck && open.is_some() {
                Self::finish(t, Cancelled);
            }
            if !is_final(t.status) {
                return Err(t.wrong("refund"));
            }
            let (amount, _) = open.ok_or(ContractError::NothingToClaim {
                task_id: t.id,
                address: who.to_string(),
            })?;
            let sponsors = t.sponsors.len() as u32;
            let funded = t.funded;
            let p = t.pool.as_mut().unwrap();
            let due = if p.claimed + 1 >= sponsors {
                p.pool - p.paid
            } else {
                Uint128::new(p.pool).multiply_ratio(amount, funded).u128()
            };
            p.paid += due;
            p.claimed += 1;
            t.sponsors.get_mut(who).unwrap().1 = true;
            t.held -= due;
            Ok(due)
        })
    }
}
