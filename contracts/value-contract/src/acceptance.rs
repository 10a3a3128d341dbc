//! Acceptance: matched participants confirm (with the task's bond, if any,
//! and get their offer deposit back); at the end of each round the
//! unconfirmed slots are released — their deposits slashed to the sponsors —
//! and the freed budget is refilled from the offers never matched, by the
//! on-chain rule (see `matching`). Each round reads at most
//! `MAX_PARTICIPANTS` slots and `MAX_OFFERS_PER_TASK` offers.

use cosmwasm_std::{ensure, Addr, DepsMut, Env, MessageInfo, Order, Response, Storage, Uint128};
use cw_utils::{must_pay, nonpayable};
use wevalue_common::asset::AssetInfo;

use crate::error::ContractError;
use crate::lifecycle::{advance, load_task, save_task};
use crate::matching::{advanced, cost_of, create_slots, greedy, load_offers};
use crate::state::{Slot, Task, TaskStatus, MAX_PARTICIPANTS, RELEASED, SLOTS};

/// At the end of an acceptance round: releases the unconfirmed slots and,
/// with `refill`, fills the freed places from the offers never matched.
/// A released slot's deposit goes to the sponsors, unless the slot was
/// `late` (recorded by this same call, after its round had ended): then its
/// participant never had a chance to confirm, and the offer goes back to
/// the pool with its deposit.
#[inline(never)]
pub fn end_acceptance_round(
    store: &mut dyn Storage,
    task_id: u64,
    task: &mut Task,
    late: bool,
    refill: bool,
) -> Result<(), ContractError> {
    let pending: Vec<(Addr, Slot)> = SLOTS
        .prefix(task_id)
        .range(store, None, None, Order::Ascending)
        .take(MAX_PARTICIPANTS as usize)
        .filter(|r| r.as_ref().map(|(_, s)| !s.confirmed).unwrap_or(true))
        .collect::<Result<_, _>>()?;
    for (addr, slot) in pending {
        SLOTS.remove(store, (task_id, &addr));
        if !late {
            RELEASED.save(store, (task_id, &addr), &())?;
            task.slashed = task.slashed.checked_add(task.terms.offer_deposit)?;
        }
        task.committed =
            task.committed
                .checked_sub(cost_of(task.terms.kind, slot.price, slot.units)?)?;
        task.slot_count -= 1;
    }
    if refill {
        let mut offers = load_offers(store, task_id)?;
        for (_, offer) in offers.iter_mut() {
            offer.matched = SLOTS.has(store, (task_id, &offer.participant))
                || RELEASED.has(store, (task_id, &offer.participant));
        }
        let free = task.terms.max_participants - task.slot_count;
        let budget = task.funded.checked_sub(task.committed)?;
        let picks = greedy(task.terms.kind, &offers, budget, free)?;
        create_slots(
            store,
            task_id,
            task,
            &mut offers,
            &picks,
            task.acceptance_round + 1,
        )?;
    }
    Ok(())
}

#[inline(never)]
pub fn confirm(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
) -> Result<Response, ContractError> {
    let task = load_task(deps.storage, task_id)?;
    let paid = if task.terms.bond.is_zero() {
        nonpayable(&info)?;
        Uint128::zero()
    } else {
        match &task.terms.asset {
            AssetInfo::Native(denom) => must_pay(&info, denom)?,
            AssetInfo::Cw20(_) => {
                nonpayable(&info)?;
                Uint128::zero()
            }
        }
    };
    confirm_inner(deps, env, task_id, task, info.sender, paid)
}

#[inline(never)]
pub fn confirm_inner(
    deps: DepsMut,
    env: Env,
    task_id: u64,
    task: Task,
    participant: Addr,
    paid: Uint128,
) -> Result<Response, ContractError> {
    let (mut task, prev) = advanced(deps.storage, &env, task_id, task)?;
    ensure!(
        task.status == TaskStatus::Accepting,
        ContractError::WrongStatus {
            task_id,
            status: task.status,
            action: "confirm"
        }
    );
    ensure!(
        paid == task.terms.bond,
        ContractError::WrongBond {
            task_id,
            expected: task.terms.bond,
            received: paid
        }
    );
    let mut slot = SLOTS
        .may_load(deps.storage, (task_id, &participant))?
        .ok_or_else(|| ContractError::NotMatched {
            task_id,
            participant: participant.to_string(),
        })?;
    ensure!(
        !slot.confirmed,
        ContractError::AlreadyConfirmed {
            task_id,
            participant: participant.to_string()
        }
    );
    slot.confirmed = true;
    slot.bond = paid;
    SLOTS.save(deps.storage, (task_id, &participant), &slot)?;
    task.confirmed_count += 1;
    task.bonds_in = task.bonds_in.checked_add(paid)?;
    // The offer did its job: its deposit comes back now.
    let deposit = task.terms.offer_deposit;
    task.paid_out = task.paid_out.checked_add(deposit)?;
    advance(deps.storage, env.block.time, task_id, &mut task)?;
    save_task(deps.storage, task_id, prev, &task)?;
    let msgs = task
        .terms
        .asset
        .with_amount(deposit)
        .transfer_msg_if_positive(&participant)?;
    Ok(Response::new()
        .add_messages(msgs)
        .add_attribute("action", "confirm")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("participant", participant)
        .add_attribute("bond", paid)
        .add_attribute("deposit_returned", deposit)
        .add_attribute("status", format!("{:?}", task.status)))
}
