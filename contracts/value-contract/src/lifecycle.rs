//! The task state machine. Transitions are lazy: every call on a task first
//! runs [`advance`], which records every transition due at the block time,
//! one after the other — every acceptance round included, so a task
//! untouched for months catches up in one call. Each step does bounded work:
//! at most [`MAX_OFFERS_PER_TASK`] offers, [`MAX_PARTICIPANTS`] slots (each
//! with at most [`MAX_ORACLES`] attestations at the verification deadline),
//! and at most [`ACCEPTANCE_ROUNDS`] rounds.
//!
//! ```text
//! Funding ──goal missed──▶ FundingFailed
//!    │ goal met
//!    ▼
//! Matching ──(matching deadline: decide)──▶ Accepting ──no slot / nobody confirmed──▶ Expired
//!                                              │ all confirmed, or last round over
//!                                              │        (a sponsor's refund after round 1 with
//!                                              ▼         nobody confirmed ──▶ Cancelled)
//!                                          Executing ──(execution deadline)──▶ Verifying
//!                      Verifying ──all values known, or verification deadline──▶ Disputable
//!                      (no value at all by the verification deadline ──▶ Expired)
//!                      Disputable ──(dispute window over)──▶ Settled
//!            Executing / Verifying / Disputable ──owner void──▶ Voided
//! ```
//!
//! Slots recorded by a call that is already past their round's deadline
//! (a stale task catching up) could never have been confirmed: at the end
//! of that round they are dropped without slashing, and their offers stay
//! in the pool for the next round.
//!
//! [`MAX_OFFERS_PER_TASK`]: crate::state::MAX_OFFERS_PER_TASK
//! [`MAX_PARTICIPANTS`]: crate::state::MAX_PARTICIPANTS
//! [`MAX_ORACLES`]: crate::state::MAX_ORACLES

use cosmwasm_std::{Storage, Timestamp};

use crate::acceptance::end_acceptance_round;
use crate::agreement::finalize_pending_values;
use crate::error::ContractError;
use crate::matching::decide_matching;
use crate::settlement::{compute_settlement, refund_settlement};
use crate::state::{Task, TaskStatus, ACCEPTANCE_ROUNDS, BY_STATUS, QUORUMS, SLOTS, TASKS, TERMS};

pub fn load_task(store: &dyn Storage, id: u64) -> Result<Task, ContractError> {
    let mut task = TASKS
        .may_load(store, id)?
        .ok_or(ContractError::TaskNotFound { id })?;
    task.terms = TERMS.load(store, id)?;
    Ok(task)
}

/// Stores a new task and counts its quorum among the running tasks'.
pub fn save_new_task(store: &mut dyn Storage, id: u64, task: &Task) -> Result<(), ContractError> {
    TERMS.save(store, id, &task.terms)?;
    TASKS.save(store, id, task)?;
    BY_STATUS.save(store, (task.status.byte(), id), &())?;
    let q = task.terms.min_quorum;
    let running = QUORUMS.may_load(store, q)?.unwrap_or_default();
    QUORUMS.save(store, q, &(running + 1))?;
    Ok(())
}

/// Saves the task and moves it in the status index when its status changed
/// since `prev`; a task that became final no longer holds its quorum.
pub fn save_task(
    store: &mut dyn Storage,
    id: u64,
    prev: TaskStatus,
    task: &Task,
) -> Result<(), ContractError> {
    if prev != task.status {
        BY_STATUS.remove(store, (prev.byte(), id));
        BY_STATUS.save(store, (task.status.byte(), id), &())?;
        if !prev.is_final() && task.status.is_final() {
            let q = task.terms.min_quorum;
            match QUORUMS.may_load(store, q)?.unwrap_or_default() {
                0 => {
                    return Err(ContractError::Inconsistent {
                        task_id: id,
                        reason: "running task not counted under its quorum",
                    })
                }
                1 => QUORUMS.remove(store, q),
                n => QUORUMS.save(store, q, &(n - 1))?,
            }
        }
    }
    TASKS.save(store, id, task)?;
    Ok(())
}

/// Moves the task to a final status and records what the sponsors share.
#[inline(never)]
pub fn finish(
    store: &mut dyn Storage,
    id: u64,
    task: &mut Task,
    status: TaskStatus,
) -> Result<(), ContractError> {
    if status == TaskStatus::Settled {
        let (settlement, rewards) = compute_settlement(store, id, task)?;
        for (addr, reward) in rewards {
            SLOTS.update(store, (id, &addr), |slot| -> Result<_, ContractError> {
                let mut slot = slot.ok_or(ContractError::Inconsistent {
                    task_id: id,
                    reason: "slot vanished during settlement",
                })?;
                slot.reward = Some(reward);
                Ok(slot)
            })?;
        }
        task.settlement = Some(settlement);
    } else {
        task.settlement = Some(refund_settlement(id, task)?);
    }
    task.status = status;
    Ok(())
}

/// Applies every transition due at `now`. Returns whether anything changed.
#[inline(never)]
pub fn advance(
    store: &mut dyn Storage,
    now: Timestamp,
    id: u64,
    task: &mut Task,
) -> Result<bool, ContractError> {
    let start = task.clone();
    // The acceptance round whose slots this call recorded.
    let mut fresh_round: Option<u32> = None;
    loop {
        let before = (task.status, task.acceptance_round);
        match task.status {
            TaskStatus::Funding if now >= task.terms.funding_deadline => {
                if task.funded >= task.terms.funding_goal {
                    task.status = TaskStatus::Matching;
                } else {
                    finish(store, id, task, TaskStatus::FundingFailed)?;
                }
            }
            TaskStatus::Matching if now >= task.terms.matching_deadline => {
                decide_matching(store, id, task)?;
                fresh_round = Some(0);
                task.status = TaskStatus::Accepting;
            }
            TaskStatus::Accepting => {
                let round = task.acceptance_round;
                if task.slot_count == 0 {
                    finish(store, id, task, TaskStatus::Expired)?;
                } else if task.slot_count == task.confirmed_count {
                    task.status = TaskStatus::Executing;
                } else if now >= task.round_deadline(round) {
                    let late = fresh_round == Some(round);
                    let last = round + 1 >= ACCEPTANCE_ROUNDS;
                    end_acceptance_round(store, id, task, late, !last)?;
                    if !last {
                        task.acceptance_round += 1;
                        fresh_round = Some(task.acceptance_round);
                    } else if task.confirmed_count == 0 {
                        finish(store, id, task, TaskStatus::Expired)?;
                    } else {
                        task.status = TaskStatus::Executing;
                    }
                }
            }
            TaskStatus::Executing if now >= task.terms.execution_deadline => {
                task.status = TaskStatus::Verifying;
            }
            TaskStatus::Verifying => {
                if task.final_count == task.confirmed_count {
                    task.status = TaskStatus::Disputable;
                    task.dispute_start.get_or_insert(now);
                } else if now >= task.terms.verification_deadline {
                    finalize_pending_values(store, id, task)?;
                    if task.final_count == 0 {
                        finish(store, id, task, TaskStatus::Expired)?;
                    } else {
                        task.status = TaskStatus::Disputable;
                        task.dispute_start = Some(task.terms.verification_deadline);
                    }
                }
            }
            TaskStatus::Disputable => {
                let start = task
                    .dispute_start
                    .unwrap_or(task.terms.verification_deadline);
                if now >= start.plus_seconds(task.terms.dispute_secs) {
                    finish(store, id, task, TaskStatus::Settled)?;
                }
            }
            _ => {}
        }
        if (task.status, task.acceptance_round) == before {
            break;
        }
    }
    Ok(*task != start)
}

/// The status a task would have after [`advance`] at `now`, computed
/// without storage (for queries), and whether an `advance` is due. Steps
/// whose outcome needs storage (deciding the matching, ending an acceptance
/// round, the agreement on values still open at the verification deadline)
/// stop the walk with `advance_due = true`.
pub fn clock_status(task: &Task, now: Timestamp) -> (TaskStatus, bool) {
    let mut status = task.status;
    let mut due = false;
    loop {
        let next = match status {
            TaskStatus::Funding if now >= task.terms.funding_deadline => {
                if task.funded >= task.terms.funding_goal {
                    TaskStatus::Matching
                } else {
                    TaskStatus::FundingFailed
                }
            }
            TaskStatus::Matching if now >= task.terms.matching_deadline => return (status, true),
            TaskStatus::Accepting => {
                if task.slot_count == 0 {
                    TaskStatus::Expired
                } else if task.slot_count == task.confirmed_count {
                    TaskStatus::Executing
                } else if now >= task.round_deadline(task.acceptance_round) {
                    return (status, true);
                } else {
                    status
                }
            }
            TaskStatus::Executing if now >= task.terms.execution_deadline => TaskStatus::Verifying,
            TaskStatus::Verifying => {
                if task.final_count == task.confirmed_count {
                    TaskStatus::Disputable
                } else if now >= task.terms.verification_deadline {
                    return (status, true);
                } else {
                    status
                }
            }
            TaskStatus::Disputable => {
                let start = task.dispute_start.unwrap_or(now);
                if now >= start.plus_seconds(task.terms.dispute_secs) {
                    TaskStatus::Settled
                } else {
                    status
                }
            }
            _ => status,
        };
        if next == status {
            break;
        }
        status = next;
        due = true;
    }
    (status, due)
}
