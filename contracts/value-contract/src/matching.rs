//! Offers (each with a refundable deposit), solver proposals and the
//! on-chain matching rule.
//!
//! **Deposits**: an offer carries the task's `offer_deposit`. It is held by
//! the offer while unmatched (withdrawing returns it), by the slot once
//! matched (confirming returns it; letting the round pass unconfirmed
//! slashes it to the sponsors, see `acceptance`). A cancelled task frees the
//! deposits of slots still pending. So 64 throwaway offers cost 64 deposits
//! up front, and every matched one that never confirms is lost.
//!
//! **Objective** (the same for the on-chain rule and solver proposals): an
//! assignment is better when it assigns more units in total; among equal
//! totals, when it costs less (Σ price × units). A proposal replaces the
//! best one only when strictly better, so the earliest of equal proposals
//! stays. At the matching deadline the best proposal (re-checked against the
//! offers as they are then) is used if strictly better than the on-chain
//! rule's result, else the on-chain rule's result is used.
//!
//! **On-chain rule**: offers sorted by price ascending, ties by offer id
//! (submission order; a revision keeps its id); each offer in turn gets
//! `min(capacity, remaining budget / price)` units (its capacity when the
//! price is zero) if that is at least its `min_units` and a slot is left.
//! Competitions commit no budget (the whole budget is the prize pool).

use cosmwasm_std::{ensure, Addr, DepsMut, Env, MessageInfo, Order, Response, Storage, Uint128};
use cw_utils::{must_pay, nonpayable};
use wevalue_common::asset::AssetInfo;

use crate::error::ContractError;
use crate::lifecycle::{advance, load_task, save_task};
use crate::msg::Assignment;
use crate::state::{
    Offer, Proposal, Slot, Task, TaskKind, TaskStatus, MAX_OFFERS_PER_TASK, OFFERS, OFFER_OF,
    PROPOSALS, RELEASED, SLOTS,
};
use crate::templates::check_len;

/// Price × units, the budget an assignment commits (zero in competitions).
pub fn cost_of(kind: TaskKind, price: Uint128, units: u32) -> Result<Uint128, ContractError> {
    if kind == TaskKind::Competition {
        return Ok(Uint128::zero());
    }
    Ok(price
        .checked_mul(Uint128::from(units))
        .map_err(cosmwasm_std::StdError::from)?)
}

/// Whether (units_a, cost_a) is strictly better than (units_b, cost_b).
pub fn better(units_a: u64, cost_a: Uint128, units_b: u64, cost_b: Uint128) -> bool {
    units_a > units_b || (units_a == units_b && cost_a < cost_b)
}

/// What an offer asks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OfferTerms {
    pub price: Uint128,
    pub capacity: u32,
    pub min_units: u32,
}

fn check_offer_terms(kind: TaskKind, terms: OfferTerms) -> Result<(), ContractError> {
    let OfferTerms {
        price,
        capacity,
        min_units,
    } = terms;
    let err = |reason| Err(ContractError::InvalidOffer { reason });
    match kind {
        TaskKind::Competition if !price.is_zero() => {
            return err("competition entries ask no price (the prize pool is shared)")
        }
        TaskKind::Bounty | TaskKind::Crowdfunding | TaskKind::PerUnit if price.is_zero() => {
            return err("price must be greater than zero")
        }
        _ => {}
    }
    if kind == TaskKind::PerUnit {
        if capacity == 0 || capacity > 1_000_000 {
            return err("capacity must be 1 to 1,000,000 units");
        }
        if min_units == 0 || min_units > capacity {
            return err("min_units must be 1 to capacity");
        }
    } else if capacity != 1 || min_units != 1 {
        return err("capacity and min_units must be 1 for this kind of task");
    }
    Ok(())
}

pub(crate) fn open_task(
    store: &mut dyn Storage,
    env: &Env,
    task_id: u64,
) -> Result<(Task, TaskStatus), ContractError> {
    let task = load_task(store, task_id)?;
    advanced(store, env, task_id, task)
}

/// A task already loaded (to read its asset before taking payment),
/// advanced to now, with the status storage holds.
pub(crate) fn advanced(
    store: &mut dyn Storage,
    env: &Env,
    task_id: u64,
    mut task: Task,
) -> Result<(Task, TaskStatus), ContractError> {
    let prev = task.status;
    advance(store, env.block.time, task_id, &mut task)?;
    Ok((task, prev))
}

fn ensure_offers_open(
    task_id: u64,
    task: &Task,
    action: &'static str,
) -> Result<(), ContractError> {
    ensure!(
        matches!(task.status, TaskStatus::Funding | TaskStatus::Matching),
        ContractError::WrongStatus {
            task_id,
            status: task.status,
            action
        }
    );
    Ok(())
}

/// `submit_offer` with the deposit in native coins; cw20 deposits arrive
/// through the `submit_offer` hook.
#[inline(never)]
pub fn submit_offer(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
    terms: OfferTerms,
    reputation_ref: Option<String>,
) -> Result<Response, ContractError> {
    let task = load_task(deps.storage, task_id)?;
    let paid = match &task.terms.asset {
        AssetInfo::Native(denom) => must_pay(&info, denom)?,
        AssetInfo::Cw20(_) => {
            nonpayable(&info)?;
            return Err(ContractError::WrongAsset {
                task_id,
                expected: task.terms.asset.to_string(),
                received: "no funds (send the cw20 deposit with a submit_offer hook)".to_string(),
            });
        }
    };
    submit_offer_inner(
        deps,
        env,
        task_id,
        task,
        NewOffer {
            participant: info.sender,
            terms,
            reputation_ref,
            paid,
        },
    )
}

/// An offer as submitted, with the deposit paid.
pub struct NewOffer {
    pub participant: Addr,
    pub terms: OfferTerms,
    pub reputation_ref: Option<String>,
    pub paid: Uint128,
}

#[inline(never)]
pub fn submit_offer_inner(
    deps: DepsMut,
    env: Env,
    task_id: u64,
    task: Task,
    offer: NewOffer,
) -> Result<Response, ContractError> {
    let NewOffer {
        participant,
        terms,
        reputation_ref,
        paid,
    } = offer;
    let (mut task, prev) = advanced(deps.storage, &env, task_id, task)?;
    ensure_offers_open(task_id, &task, "submit_offer")?;
    check_offer_terms(task.terms.kind, terms)?;
    if let Some(r) = &reputation_ref {
        check_len("reputation_ref", r, 1, 128)?;
    }
    if let Some(offer_id) = OFFER_OF.may_load(deps.storage, (task_id, &participant))? {
        return Err(ContractError::OfferExists {
            task_id,
            participant: participant.to_string(),
            offer_id,
        });
    }
    ensure!(
        task.offer_count < MAX_OFFERS_PER_TASK,
        ContractError::TooManyOffers {
            task_id,
            max: MAX_OFFERS_PER_TASK
        }
    );
    ensure!(
        paid == task.terms.offer_deposit,
        ContractError::WrongDeposit {
            task_id,
            expected: task.terms.offer_deposit,
            received: paid
        }
    );
    task.next_offer_id += 1;
    task.offer_count += 1;
    task.deposits_in = task.deposits_in.checked_add(paid)?;
    let offer_id = task.next_offer_id;
    OFFERS.save(
        deps.storage,
        (task_id, offer_id),
        &Offer {
            participant: participant.clone(),
            price: terms.price,
            capacity: terms.capacity,
            min_units: terms.min_units,
            revision: 0,
            reputation_ref,
            matched: false,
        },
    )?;
    OFFER_OF.save(deps.storage, (task_id, &participant), &offer_id)?;
    save_task(deps.storage, task_id, prev, &task)?;
    Ok(Response::new()
        .add_attribute("action", "submit_offer")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("offer_id", offer_id.to_string())
        .add_attribute("participant", participant)
        .add_attribute("deposit", paid))
}

fn own_offer(
    store: &dyn Storage,
    task_id: u64,
    participant: &Addr,
) -> Result<(u64, Offer), ContractError> {
    let no_offer = || ContractError::NoOffer {
        task_id,
        participant: participant.to_string(),
    };
    let id = OFFER_OF
        .may_load(store, (task_id, participant))?
        .ok_or_else(no_offer)?;
    let offer = OFFERS
        .may_load(store, (task_id, id))?
        .ok_or_else(no_offer)?;
    Ok((id, offer))
}

#[inline(never)]
pub fn revise_offer(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
    terms: OfferTerms,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let (task, prev) = open_task(deps.storage, &env, task_id)?;
    ensure_offers_open(task_id, &task, "revise_offer")?;
    check_offer_terms(task.terms.kind, terms)?;
    let (offer_id, mut offer) = own_offer(deps.storage, task_id, &info.sender)?;
    let current = OfferTerms {
        price: offer.price,
        capacity: offer.capacity,
        min_units: offer.min_units,
    };
    // A revision invalidates proposals that used the offer; one that
    // changes nothing would only cancel a solver's work.
    ensure!(
        current != terms,
        ContractError::OfferUnchanged { task_id, offer_id }
    );
    offer.price = terms.price;
    offer.capacity = terms.capacity;
    offer.min_units = terms.min_units;
    offer.revision += 1;
    OFFERS.save(deps.storage, (task_id, offer_id), &offer)?;
    save_task(deps.storage, task_id, prev, &task)?;
    Ok(Response::new()
        .add_attribute("action", "revise_offer")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("offer_id", offer_id.to_string())
        .add_attribute("revision", offer.revision.to_string()))
}

/// Takes an offer back with its deposit, at any time while no pending slot
/// binds it: unmatched offers stay refillable during acceptance, so this is
/// also how a never-matched participant recovers the deposit afterwards.
#[inline(never)]
pub fn withdraw_offer(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let (mut task, prev) = open_task(deps.storage, &env, task_id)?;
    let (offer_id, _) = own_offer(deps.storage, task_id, &info.sender)?;
    let holds = |reason| ContractError::OfferHoldsSlot {
        task_id,
        participant: info.sender.to_string(),
        reason,
    };
    if let Some(slot) = SLOTS.may_load(deps.storage, (task_id, &info.sender))? {
        ensure!(
            !slot.confirmed,
            holds("confirmed (the deposit came back then)")
        );
        // Only a cancelled task leaves a slot pending for good.
        ensure!(task.status.is_final(), holds("pending confirmation"));
    }
    ensure!(
        !RELEASED.has(deps.storage, (task_id, &info.sender)),
        ContractError::DepositSlashed {
            task_id,
            participant: info.sender.to_string()
        }
    );
    OFFERS.remove(deps.storage, (task_id, offer_id));
    OFFER_OF.remove(deps.storage, (task_id, &info.sender));
    task.offer_count -= 1;
    let deposit = task.terms.offer_deposit;
    task.paid_out = task.paid_out.checked_add(deposit)?;
    save_task(deps.storage, task_id, prev, &task)?;
    let msgs = task
        .terms
        .asset
        .with_amount(deposit)
        .transfer_msg_if_positive(&info.sender)?;
    Ok(Response::new()
        .add_messages(msgs)
        .add_attribute("action", "withdraw_offer")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("offer_id", offer_id.to_string())
        .add_attribute("deposit_returned", deposit))
}

/// Checks an assignment against the offers and the budget; returns
/// (total units, total cost). `lookup` finds a live offer by id.
#[inline(never)]
fn check_assignments(
    task: &Task,
    assignments: &[Assignment],
    mut lookup: impl FnMut(u64) -> Result<Option<Offer>, ContractError>,
) -> Result<(u64, Uint128), ContractError> {
    ensure!(
        !assignments.is_empty() && assignments.len() <= task.terms.max_participants as usize,
        ContractError::InfeasibleProposal {
            index: assignments.len(),
            reason: "1 to max_participants assignments are allowed"
        }
    );
    let mut units_total = 0u64;
    let mut cost = Uint128::zero();
    let mut last_id = 0u64;
    for (index, a) in assignments.iter().enumerate() {
        let fail = |reason| ContractError::InfeasibleProposal { index, reason };
        ensure!(
            a.offer_id > last_id,
            fail("offer ids must strictly increase")
        );
        last_id = a.offer_id;
        let offer = lookup(a.offer_id)?.ok_or_else(|| fail("offer withdrawn or unknown"))?;
        ensure!(
            offer.revision == a.revision,
            fail("offer was revised since")
        );
        ensure!(
            a.units >= offer.min_units && a.units <= offer.capacity,
            fail("units outside the offer's min_units..=capacity")
        );
        units_total += u64::from(a.units);
        cost = cost
            .checked_add(cost_of(task.terms.kind, offer.price, a.units)?)
            .map_err(cosmwasm_std::StdError::from)?;
    }
    ensure!(
        cost <= task.funded,
        ContractError::OverBudget {
            cost,
            budget: task.funded
        }
    );
    Ok((units_total, cost))
}

#[inline(never)]
pub fn propose_matching(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
    assignments: Vec<Assignment>,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let (task, prev) = open_task(deps.storage, &env, task_id)?;
    ensure!(
        task.status == TaskStatus::Matching,
        ContractError::WrongStatus {
            task_id,
            status: task.status,
            action: "propose_matching"
        }
    );
    let store = deps.storage;
    let (units, cost) = check_assignments(&task, &assignments, |id| {
        Ok(OFFERS.may_load(store, (task_id, id))?)
    })?;
    if let Some(best) = PROPOSALS.may_load(store, task_id)? {
        if !better(units, cost, best.total_units, best.total_cost) {
            // A best proposal that no longer fits the offers is no bar.
            let still_valid = check_assignments(&task, &best.assignments, |id| {
                Ok(OFFERS.may_load(store, (task_id, id))?)
            })
            .is_ok();
            ensure!(
                !still_valid,
                ContractError::NotBetter {
                    units,
                    cost,
                    best_units: best.total_units,
                    best_cost: best.total_cost
                }
            );
        }
    }
    PROPOSALS.save(
        store,
        task_id,
        &Proposal {
            proposer: info.sender.clone(),
            assignments,
            total_units: units,
            total_cost: cost,
        },
    )?;
    save_task(store, task_id, prev, &task)?;
    Ok(Response::new()
        .add_attribute("action", "propose_matching")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("proposer", info.sender)
        .add_attribute("total_units", units.to_string())
        .add_attribute("total_cost", cost))
}

#[inline(never)]
pub(crate) fn load_offers(
    store: &dyn Storage,
    task_id: u64,
) -> Result<Vec<(u64, Offer)>, ContractError> {
    // At most MAX_OFFERS_PER_TASK live offers exist.
    OFFERS
        .prefix(task_id)
        .range(store, None, None, Order::Ascending)
        .take(MAX_OFFERS_PER_TASK as usize)
        .map(|r| r.map_err(Into::into))
        .collect()
}

/// The on-chain rule over the unmatched offers, with `budget` left and
/// `slots` free. Returns (offer id, units) pairs.
#[inline(never)]
pub(crate) fn greedy(
    kind: TaskKind,
    offers: &[(u64, Offer)],
    mut budget: Uint128,
    slots: u32,
) -> Result<Vec<(u64, u32)>, ContractError> {
    let mut order: Vec<&(u64, Offer)> = offers.iter().filter(|(_, o)| !o.matched).collect();
    order.sort_by(|a, b| a.1.price.cmp(&b.1.price).then(a.0.cmp(&b.0)));
    let mut out = vec![];
    for (id, offer) in order {
        if out.len() as u32 >= slots {
            break;
        }
        let units = if kind == TaskKind::Competition || offer.price.is_zero() {
            offer.capacity
        } else {
            let affordable = budget / offer.price;
            u32::try_from(affordable.u128().min(u128::from(offer.capacity))).unwrap_or(0)
        };
        if units == 0 || units < offer.min_units {
            continue;
        }
        budget = budget.checked_sub(cost_of(kind, offer.price, units)?)?;
        out.push((*id, units));
    }
    Ok(out)
}

#[inline(never)]
pub(crate) fn create_slots(
    store: &mut dyn Storage,
    task_id: u64,
    task: &mut Task,
    offers: &mut [(u64, Offer)],
    picks: &[(u64, u32)],
    round: u32,
) -> Result<(), ContractError> {
    for (offer_id, units) in picks {
        let Some((_, offer)) = offers.iter_mut().find(|(id, _)| id == offer_id) else {
            return Err(ContractError::Inconsistent {
                task_id,
                reason: "picked offer missing",
            });
        };
        offer.matched = true;
        SLOTS.save(
            store,
            (task_id, &offer.participant),
            &Slot {
                offer_id: *offer_id,
                units: *units,
                price: offer.price,
                round,
                confirmed: false,
                bond: Uint128::zero(),
                value: None,
                reward: None,
                claimed: false,
            },
        )?;
        task.committed =
            task.committed
                .checked_add(cost_of(task.terms.kind, offer.price, *units)?)?;
        task.slot_count += 1;
    }
    Ok(())
}

/// At the matching deadline: the best valid proposal if strictly better
/// than the on-chain rule, else the on-chain rule.
#[inline(never)]
pub fn decide_matching(
    store: &mut dyn Storage,
    task_id: u64,
    task: &mut Task,
) -> Result<(), ContractError> {
    let mut offers = load_offers(store, task_id)?;
    let mut picks = greedy(
        task.terms.kind,
        &offers,
        task.funded,
        task.terms.max_participants,
    )?;
    if let Some(best) = PROPOSALS.may_load(store, task_id)? {
        let lookup = |id: u64| {
            Ok(offers
                .iter()
                .find(|(oid, _)| *oid == id)
                .map(|(_, o)| o.clone()))
        };
        if let Ok((units, cost)) = check_assignments(task, &best.assignments, lookup) {
            let mut g_units = 0u64;
            let mut g_cost = Uint128::zero();
            for (id, u) in &picks {
                g_units += u64::from(*u);
                let price = lookup(*id)?.map(|o| o.price).unwrap_or_default();
                g_cost = g_cost.checked_add(cost_of(task.terms.kind, price, *u)?)?;
            }
            if better(units, cost, g_units, g_cost) {
                picks = best
                    .assignments
                    .iter()
                    .map(|a| (a.offer_id, a.units))
                    .collect();
                task.from_proposal = true;
            }
        }
    }
    create_slots(store, task_id, task, &mut offers, &picks, 0)?;
    task.matching_decided = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(price: u128, capacity: u32, min_units: u32, matched: bool) -> Offer {
        Offer {
            participant: Addr::unchecked("p"),
            price: Uint128::new(price),
            capacity,
            min_units,
            revision: 0,
            reputation_ref: None,
            matched,
        }
    }

    #[test]
    fn greedy_is_cheapest_first_ties_by_id_within_budget() {
        let offers = vec![
            (1, offer(3, 10, 1, false)),
            (2, offer(2, 10, 5, false)),
            (3, offer(2, 10, 1, false)),
            (4, offer(1, 10, 1, true)),
        ];
        // Budget 30: offer 2 takes 10 units (20), offer 3 gets 5 (10), offer 1 none.
        let picks = greedy(TaskKind::PerUnit, &offers, Uint128::new(30), 5).unwrap();
        assert_eq!(picks, vec![(2, 10), (3, 5)]);
        // Offer 2's minimum of 5 units does not fit 9: skipped.
        let picks = greedy(TaskKind::PerUnit, &offers, Uint128::new(9), 5).unwrap();
        assert_eq!(picks, vec![(3, 4)]);
        // The slot cap stops it.
        let picks = greedy(TaskKind::PerUnit, &offers, Uint128::new(1_000), 1).unwrap();
        assert_eq!(picks, vec![(2, 10)]);
    }

    #[test]
    fn objective_prefers_units_then_cost() {
        assert!(better(10, Uint128::new(100), 9, Uint128::new(1)));
        assert!(better(10, Uint128::new(99), 10, Uint128::new(100)));
        assert!(!better(10, Uint128::new(100), 10, Uint128::new(100)));
        assert_eq!(
            cost_of(TaskKind::Competition, Uint128::new(5), 3).unwrap(),
            Uint128::zero()
        );
        assert_eq!(
            cost_of(TaskKind::PerUnit, Uint128::new(5), 3).unwrap(),
            Uint128::new(15)
        );
    }
}
