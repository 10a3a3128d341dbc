//! Rewards, refunds and voiding. Everything is pulled by its owner.
//!
//! Reward rules, with `v` the accepted value (0 when none was accepted):
//! * bounty: the asked reward if `v >= target`, else 0;
//! * crowdfunding: `ask × min(v, target) / target`, rounded down;
//! * per-unit: `price × min(v, assigned units)`;
//! * competition: `funded × v / Σv`, rounded down.
//!
//! Each is at most the budget the slot committed (the whole budget for a
//! competition, shared), so rewards never exceed `funded`. Sponsors share
//! the pool `funded − Σ rewards + forfeited bonds`: each gets
//! `pool × contribution / funded` rounded down, except the last sponsor to
//! claim, who gets what is left of the pool — so the rounding dust of both
//! the rewards and the sponsor shares goes back to sponsors, and nothing is
//! ever paid beyond what the task holds. A bond comes back to its
//! participant with the reward when they delivered (`v > 0`); otherwise it
//! goes to the sponsors' pool. Failed, expired and voided tasks return every
//! contribution and every bond exactly.

use cosmwasm_std::{
    ensure, Addr, Deps, DepsMut, Env, MessageInfo, Order, Response, Storage, Uint128,
};
use cw_utils::nonpayable;

use crate::error::ContractError;
use crate::lifecycle::{advance, clock_status, load_task, save_task};
use crate::state::{
    Settlement, Slot, Task, TaskKind, TaskStatus, MAX_PARTICIPANTS, SLOTS, SPONSORS,
};
use crate::templates::check_len;

/// The reward of one slot under the task's rule.
pub fn reward_for(task: &Task, slot: &Slot) -> Uint128 {
    let v = slot.value.unwrap_or_default();
    match task.terms.kind {
        TaskKind::Bounty => {
            if v >= task.terms.target {
                slot.price
            } else {
                Uint128::zero()
            }
        }
        TaskKind::Crowdfunding => slot
            .price
            .multiply_ratio(v.min(task.terms.target), task.terms.target),
        TaskKind::PerUnit => slot
            .price
            .multiply_ratio(v.min(Uint128::from(slot.units)), 1u128),
        TaskKind::Competition => {
            if task.value_total.is_zero() {
                Uint128::zero()
            } else {
                task.funded.multiply_ratio(v, task.value_total)
            }
        }
    }
}

/// Computes every slot's reward and the sponsors' pool (reads at most
/// `MAX_PARTICIPANTS` slots).
#[inline(never)]
pub fn compute_settlement(
    store: &dyn Storage,
    id: u64,
    task: &Task,
) -> Result<(Settlement, Vec<(Addr, Uint128)>), ContractError> {
    let mut total_rewards = Uint128::zero();
    let mut forfeited = Uint128::zero();
    let mut rewards = vec![];
    for item in SLOTS
        .prefix(id)
        .range(store, None, None, Order::Ascending)
        .take(MAX_PARTICIPANTS as usize)
    {
        let (addr, slot) = item?;
        let reward = reward_for(task, &slot);
        if slot.value.unwrap_or_default().is_zero() {
            forfeited += slot.bond;
        }
        total_rewards += reward;
        rewards.push((addr, reward));
    }
    let left = task
        .funded
        .checked_sub(total_rewards)
        .map_err(|_| ContractError::Inconsistent {
            task_id: id,
            reason: "rewards exceed the budget",
        })?;
    Ok((
        Settlement {
            total_rewards,
            forfeited_bonds: forfeited,
            sponsor_pool: left + forfeited,
            sponsor_paid: Uint128::zero(),
            sponsors_claimed: 0,
        },
        rewards,
    ))
}

/// (reward, bond back) a slot's owner may claim in `status`.
pub fn participant_due(task: &Task, status: TaskStatus, slot: &Slot) -> (Uint128, Uint128) {
    if slot.claimed {
        return (Uint128::zero(), Uint128::zero());
    }
    match status {
        TaskStatus::Settled => {
            let reward = slot.reward.unwrap_or_else(|| reward_for(task, slot));
            let delivered = !slot.value.unwrap_or_default().is_zero();
            (
                reward,
                if delivered {
                    slot.bond
                } else {
                    Uint128::zero()
                },
            )
        }
        s if s.refunds_sponsors() => (Uint128::zero(), slot.bond),
        _ => (Uint128::zero(), Uint128::zero()),
    }
}

/// What a sponsor who put in `amount` may take back in `status`.
pub fn sponsor_due(
    task: &Task,
    status: TaskStatus,
    settlement: Option<&Settlement>,
    amount: Uint128,
) -> Uint128 {
    match status {
        s if s.refunds_sponsors() => amount,
        TaskStatus::Settled => match settlement {
            Some(st) if st.sponsors_claimed + 1 >= task.sponsor_count => {
                st.sponsor_pool - st.sponsor_paid
            }
            Some(st) => st.sponsor_pool.multiply_ratio(amount, task.funded),
            None => Uint128::zero(),
        },
        _ => Uint128::zero(),
    }
}

fn open(
    store: &mut dyn Storage,
    env: &Env,
    task_id: u64,
) -> Result<(Task, TaskStatus), ContractError> {
    let mut task = load_task(store, task_id)?;
    let prev = task.status;
    advance(store, env.block.time, task_id, &mut task)?;
    Ok((task, prev))
}

#[inline(never)]
pub fn claim(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let (mut task, prev) = open(deps.storage, &env, task_id)?;
    ensure!(
        task.status == TaskStatus::Settled || task.status.refunds_sponsors(),
        ContractError::WrongStatus {
            task_id,
            status: task.status,
            action: "claim"
        }
    );
    let nothing = || ContractError::NothingToClaim {
        task_id,
        address: info.sender.to_string(),
    };
    let mut slot = SLOTS
        .may_load(deps.storage, (task_id, &info.sender))?
        .ok_or_else(nothing)?;
    let (reward, bond) = participant_due(&task, task.status, &slot);
    ensure!(!slot.claimed && slot.confirmed, nothing());
    slot.claimed = true;
    SLOTS.save(deps.storage, (task_id, &info.sender), &slot)?;
    let total = reward + bond;
    task.paid_out += total;
    save_task(deps.storage, task_id, prev, &task)?;
    let msgs = task
        .terms
        .asset
        .with_amount(total)
        .transfer_msg_if_positive(&info.sender)?;
    Ok(Response::new()
        .add_messages(msgs)
        .add_attribute("action", "claim")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("participant", info.sender)
        .add_attribute("reward", reward)
        .add_attribute("bond", bond))
}

#[inline(never)]
pub fn refund(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let (mut task, prev) = open(deps.storage, &env, task_id)?;
    ensure!(
        task.status == TaskStatus::Settled || task.status.refunds_sponsors(),
        ContractError::WrongStatus {
            task_id,
            status: task.status,
            action: "refund"
        }
    );
    let mut c = SPONSORS
        .may_load(deps.storage, (task_id, &info.sender))?
        .filter(|c| !c.refunded)
        .ok_or_else(|| ContractError::NothingToClaim {
            task_id,
            address: info.sender.to_string(),
        })?;
    let amount = sponsor_due(&task, task.status, task.settlement.as_ref(), c.amount);
    let settled = task.status == TaskStatus::Settled;
    if let Some(st) = task.settlement.as_mut().filter(|_| settled) {
        // Zero shares are recorded too, so that the last sponsor's dust is reachable.
        st.sponsor_paid += amount;
        st.sponsors_claimed += 1;
    }
    c.refunded = true;
    SPONSORS.save(deps.storage, (task_id, &info.sender), &c)?;
    task.paid_out += amount;
    save_task(deps.storage, task_id, prev, &task)?;
    let msgs = task
        .terms
        .asset
        .with_amount(amount)
        .transfer_msg_if_positive(&info.sender)?;
    Ok(Response::new()
        .add_messages(msgs)
        .add_attribute("action", "refund")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("sponsor", info.sender)
        .add_attribute("amount", amount))
}

#[inline(never)]
pub fn void(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
    reason: String,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    check_len("reason", &reason, 1, 256)?;
    let (mut task, prev) = open(deps.storage, &env, task_id)?;
    ensure!(
        matches!(
            task.status,
            TaskStatus::Executing | TaskStatus::Verifying | TaskStatus::Disputable
        ),
        ContractError::WrongStatus {
            task_id,
            status: task.status,
            action: "void"
        }
    );
    task.status = TaskStatus::Voided;
    task.void_reason = Some(reason.clone());
    save_task(deps.storage, task_id, prev, &task)?;
    Ok(Response::new()
        .add_attribute("action", "void")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("reason", reason))
}

#[inline(never)]
pub fn advance_task(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let (task, prev) = open(deps.storage, &env, task_id)?;
    save_task(deps.storage, task_id, prev, &task)?;
    Ok(Response::new()
        .add_attribute("action", "advance")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("from_status", format!("{prev:?}"))
        .add_attribute("status", format!("{:?}", task.status)))
}

/// The claimable amounts of `address` at `env`'s block, read-only.
pub fn claimable(
    deps: Deps,
    env: &Env,
    task_id: u64,
    address: &Addr,
) -> Result<(TaskStatus, Uint128, Uint128, Uint128), ContractError> {
    let task = load_task(deps.storage, task_id)?;
    let (status, _) = clock_status(&task, env.block.time);
    let settlement = match (&task.settlement, status) {
        (Some(s), _) => Some(s.clone()),
        (None, TaskStatus::Settled) => Some(compute_settlement(deps.storage, task_id, &task)?.0),
        _ => None,
    };
    let (reward, bond) = match SLOTS.may_load(deps.storage, (task_id, address))? {
        Some(slot) if slot.confirmed => participant_due(&task, status, &slot),
        _ => (Uint128::zero(), Uint128::zero()),
    };
    let refund = match SPONSORS.may_load(deps.storage, (task_id, address))? {
        Some(c) if !c.refunded => sponsor_due(&task, status, settlement.as_ref(), c.amount),
        _ => Uint128::zero(),
    };
    Ok((status, reward, bond, refund))
}
