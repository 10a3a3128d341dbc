//! Rewards, refunds, voiding and the sponsors' way out of a stuck task.
//! Everything is pulled by its owner.
//!
//! Reward rules, with `v` the accepted value (0 when none was accepted):
//! * bounty: the asked reward if `v >= target`, else 0;
//! * crowdfunding: `ask × min(v, target) / target`, rounded down;
//! * per-unit: `price × min(v, assigned units)`;
//! * competition: `funded × v / Σv`, rounded down.
//!
//! Each is at most the budget the slot committed (the whole budget for a
//! competition, shared among the participants with a value), so rewards
//! never exceed `funded`. Sponsors share the pool `funded − Σ rewards +
//! forfeited bonds + slashed deposits`: each gets `pool × contribution /
//! funded` rounded down, except the last sponsor to claim, who gets what is
//! left of the pool — so the rounding dust of both the rewards and the
//! sponsor shares goes back to sponsors, and nothing is ever paid beyond
//! what the task holds. A bond is forfeited to the sponsors only when the
//! oracles accepted the value 0; a participant with no accepted value (a
//! silent or rotated oracle set) gets the bond back. Failed, expired,
//! cancelled and voided tasks return every bond, and share `funded +
//! slashed deposits` the same way (exactly each contribution when nothing
//! was slashed).

use cosmwasm_std::{
    ensure, Addr, Deps, DepsMut, Env, MessageInfo, Order, Response, Storage, Uint128,
};
use cw_utils::nonpayable;

use crate::error::ContractError;
use crate::lifecycle::{advance, clock_status, finish, load_task, save_task};
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

/// Whether a participant's bond goes to the sponsors: only when the oracles
/// accepted the value 0 (no value at all is not the participant's fault).
fn bond_forfeited(slot: &Slot) -> bool {
    slot.value == Some(cosmwasm_std::Uint128::zero())
}

/// The sponsors' pool of a task that refunds (failed, expired, cancelled,
/// voided): every contribution plus the slashed deposits.
pub fn refund_settlement(id: u64, task: &Task) -> Result<Settlement, ContractError> {
    Ok(Settlement {
        total_rewards: Uint128::zero(),
        forfeited_bonds: Uint128::zero(),
        sponsor_pool: task.funded.checked_add(task.slashed).map_err(|_| {
            ContractError::Inconsistent {
                task_id: id,
                reason: "sponsor pool overflows",
            }
        })?,
        sponsor_paid: Uint128::zero(),
        sponsors_claimed: 0,
    })
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
        if bond_forfeited(&slot) {
            forfeited = forfeited.checked_add(slot.bond)?;
        }
        total_rewards = total_rewards.checked_add(reward)?;
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
            sponsor_pool: left.checked_add(forfeited)?.checked_add(task.slashed)?,
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
            let bond = if bond_forfeited(slot) {
                Uint128::zero()
            } else {
                slot.bond
            };
            (reward, bond)
        }
        s if s.refunds_sponsors() => (Uint128::zero(), slot.bond),
        _ => (Uint128::zero(), Uint128::zero()),
    }
}

/// What a sponsor who put in `amount` may take back from a final task's
/// pool: a pro-rata share, or what is left for the last sponsor.
pub fn sponsor_due(
    task: &Task,
    status: TaskStatus,
    settlement: Option<&Settlement>,
    amount: Uint128,
) -> Result<Uint128, ContractError> {
    match settlement {
        Some(st) if status.is_final() => {
            if st.sponsors_claimed + 1 >= task.sponsor_count {
                Ok(st.sponsor_pool.checked_sub(st.sponsor_paid)?)
            } else {
                Ok(st.sponsor_pool.multiply_ratio(amount, task.funded))
            }
        }
        _ => Ok(Uint128::zero()),
    }
}

/// The pool a final task's sponsors share, as stored or, for a status the
/// clock projects but no call recorded yet, as it would be recorded.
fn projected_settlement(
    store: &dyn Storage,
    id: u64,
    task: &Task,
    status: TaskStatus,
) -> Result<Option<Settlement>, ContractError> {
    Ok(match (&task.settlement, status) {
        (Some(s), _) => Some(s.clone()),
        (None, TaskStatus::Settled) => Some(compute_settlement(store, id, task)?.0),
        (None, s) if s.refunds_sponsors() => Some(refund_settlement(id, task)?),
        _ => None,
    })
}

/// A task stuck before execution: its first acceptance round is over and
/// nobody has confirmed (the mark of throwaway offers, or of no interest).
fn stuck(task: &Task) -> bool {
    task.status == TaskStatus::Accepting && task.acceptance_round >= 1 && task.confirmed_count == 0
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
        task.status.is_final(),
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
    let total = reward.checked_add(bond)?;
    task.paid_out = task.paid_out.checked_add(total)?;
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
    let contribution = SPONSORS
        .may_load(deps.storage, (task_id, &info.sender))?
        .filter(|c| !c.refunded);
    let mut cancelled = false;
    if stuck(&task) && contribution.is_some() {
        // The sponsor's way out: the task ends and everyone pulls their part.
        finish(deps.storage, task_id, &mut task, TaskStatus::Cancelled)?;
        cancelled = true;
    }
    ensure!(
        task.status.is_final(),
        ContractError::WrongStatus {
            task_id,
            status: task.status,
            action: "refund"
        }
    );
    let mut c = contribution.ok_or_else(|| ContractError::NothingToClaim {
        task_id,
        address: info.sender.to_string(),
    })?;
    let amount = sponsor_due(&task, task.status, task.settlement.as_ref(), c.amount)?;
    let st = task
        .settlement
        .as_mut()
        .ok_or(ContractError::Inconsistent {
            task_id,
            reason: "final task without a sponsor pool",
        })?;
    // Zero shares are recorded too, so that the last sponsor's dust is reachable.
    st.sponsor_paid = st.sponsor_paid.checked_add(amount)?;
    st.sponsors_claimed += 1;
    c.refunded = true;
    SPONSORS.save(deps.storage, (task_id, &info.sender), &c)?;
    task.paid_out = task.paid_out.checked_add(amount)?;
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
        .add_attribute("amount", amount)
        .add_attribute("cancelled", cancelled.to_string()))
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
    finish(deps.storage, task_id, &mut task, TaskStatus::Voided)?;
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
    let settlement = projected_settlement(deps.storage, task_id, &task, status)?;
    let (reward, bond) = match SLOTS.may_load(deps.storage, (task_id, address))? {
        Some(slot) if slot.confirmed => participant_due(&task, status, &slot),
        _ => (Uint128::zero(), Uint128::zero()),
    };
    let refund = match SPONSORS.may_load(deps.storage, (task_id, address))? {
        Some(c) if !c.refunded => sponsor_due(&task, status, settlement.as_ref(), c.amount)?,
        _ => Uint128::zero(),
    };
    Ok((status, reward, bond, refund))
}
