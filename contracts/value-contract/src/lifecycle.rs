//! The task state machine. Transitions are lazy: every call on a task first
//! runs [`advance`], which records every transition due at the block time,
//! one after the other (a task untouched for months catches up in one call).
//! Each step does bounded work: at most [`MAX_OFFERS_PER_TASK`] offers and
//! [`MAX_PARTICIPANTS`] slots, and at most [`ACCEPTANCE_ROUNDS`] rounds.
//!
//! ```text
//! Funding ──goal missed──▶ FundingFailed
//!    │ goal met
//!    ▼
//! Matching ──(matching deadline: decide)──▶ Accepting ──no slot / nobody confirmed──▶ Expired
//!                                              │ all confirmed, or last round over
//!                                              ▼
//!                                          Executing ──(execution deadline)──▶ Verifying
//!                      Verifying ──all values known, or verification deadline──▶ Disputable
//!                      (no value at all by the verification deadline ──▶ Expired)
//!                      Disputable ──(dispute window over)──▶ Settled
//!            Executing / Verifying / Disputable ──owner void──▶ Voided
//! ```
//!
//! [`MAX_OFFERS_PER_TASK`]: crate::state::MAX_OFFERS_PER_TASK
//! [`MAX_PARTICIPANTS`]: crate::state::MAX_PARTICIPANTS

use cosmwasm_std::{Storage, Timestamp};

use crate::acceptance::end_acceptance_round;
use crate::error::ContractError;
use crate::matching::decide_matching;
use crate::settlement::compute_settlement;
use crate::state::{Task, TaskStatus, ACCEPTANCE_ROUNDS, BY_STATUS, SLOTS, TASKS, TERMS};

pub fn load_task(store: &dyn Storage, id: u64) -> Result<Task, ContractError> {
    let mut task = TASKS
        .may_load(store, id)?
        .ok_or(ContractError::TaskNotFound { id })?;
    task.terms = TERMS.load(store, id)?;
    Ok(task)
}

pub fn save_new_task(store: &mut dyn Storage, id: u64, task: &Task) -> Result<(), ContractError> {
    TERMS.save(store, id, &task.terms)?;
    TASKS.save(store, id, task)?;
    BY_STATUS.save(store, (task.status.byte(), id), &())?;
    Ok(())
}

/// Saves the task and moves it in the status index when its status changed
/// since `prev`.
pub fn save_task(
    store: &mut dyn Storage,
    id: u64,
    prev: TaskStatus,
    task: &Task,
) -> Result<(), ContractError> {
    if prev != task.status {
        BY_STATUS.remove(store, (prev.byte(), id));
        BY_STATUS.save(store, (task.status.byte(), id), &())?;
    }
    TASKS.save(store, id, task)?;
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
    loop {
        let before = task.status;
        match task.status {
            TaskStatus::Funding if now >= task.terms.funding_deadline => {
                task.status = if task.funded >= task.terms.funding_goal {
                    TaskStatus::Matching
                } else {
                    TaskStatus::FundingFailed
                };
            }
            TaskStatus::Matching if now >= task.terms.matching_deadline => {
                decide_matching(store, id, task)?;
                task.status = TaskStatus::Accepting;
            }
            TaskStatus::Accepting => {
                if task.slot_count == 0 {
                    task.status = TaskStatus::Expired;
                } else if task.slot_count == task.confirmed_count {
                    task.status = TaskStatus::Executing;
                } else if now >= task.round_deadline(task.acceptance_round) {
                    end_acceptance_round(store, id, task)?;
                    let last = task.acceptance_round + 1 >= ACCEPTANCE_ROUNDS;
                    if task.slot_count == task.confirmed_count || last {
                        task.status = if task.confirmed_count == 0 {
                            TaskStatus::Expired
                        } else {
                            TaskStatus::Executing
                        };
                    } else {
                        task.acceptance_round += 1;
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
                    if task.final_count == 0 {
                        task.status = TaskStatus::Expired;
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
                    settle(store, id, task)?;
                    task.status = TaskStatus::Settled;
                }
            }
            _ => {}
        }
        if task.status == before {
            break;
        }
    }
    Ok(*task != start)
}

/// Records each slot's reward and the sponsors' pool.
#[inline(never)]
fn settle(store: &mut dyn Storage, id: u64, task: &mut Task) -> Result<(), ContractError> {
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
    Ok(())
}

/// The status a task would have after [`advance`] at `now`, computed
/// without storage (for queries), and whether an `advance` is due. Steps
/// whose outcome needs the offers (deciding the matching, ending an
/// acceptance round) stop the walk with `advance_due = true`.
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
                } else if task.slot_count == task.confirmed_count && task.slot_count > 0 {
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
                    if task.final_count == 0 {
                        TaskStatus::Expired
                    } else {
                        TaskStatus::Disputable
                    }
                } else {
                    status
                }
            }
            TaskStatus::Disputable => {
                let start =
                    task.dispute_start
                        .unwrap_or(if task.final_count == task.confirmed_count {
                            now
                        } else {
                            task.terms.verification_deadline
                        });
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
