//! The model's verdict on each message: the checks in the order the README
//! and the error types document them, then the effects and payments.

use std::collections::{BTreeMap, BTreeSet};

use cosmwasm_std::{Addr, Uint128};
use cw_ownable::OwnershipError;
use cw_utils::PaymentError;
use value_contract::state::TaskKind;
use value_contract::ContractError;

use super::*;

impl Model {
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
            if let Some((id, _)) = t.offers.iter().find(|(_, o)| o.who == *who) {
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
            .find(|(_, o)| o.who == *who)
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
        if *sender != self.owner {
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
        if *sender != self.owner {
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
