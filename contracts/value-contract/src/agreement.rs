//! When single attestations settle a participant's value, and on what.
//!
//! A task needs `k = max(template min_quorum, set threshold)` oracles of the
//! current set; attested values agree when they lie in a window whose
//! spread satisfies `(max − min) × 10,000 ≤ tolerance_bps × max`, and the
//! tolerance is at most 10% (`MAX_TOLERANCE_BPS`).
//!
//! * **Early**: as soon as `2k − 1` attestations agree, their median (the
//!   k-th of the window) is accepted. With at most `k − 1` faulty members,
//!   at least k of those `2k − 1` values are honest, so the median lies
//!   between two honest values whatever the faulty ones report, and however
//!   early they report.
//! * **Complete**: once every member has attested, or at the verification
//!   deadline, the largest agreeing window of at least k values (the lowest
//!   of equally large ones) gives its median (the lower one for an even
//!   count). A window of k values from a set with at most `k − 1` faulty
//!   members holds an honest value, so the result is within the tolerance
//!   of an honest measurement; with an honest majority among those who
//!   attested, it lies between honest values.
//!
//! The old rule — the lower median of the first k agreeing values — let the
//! first of two reporters choose any value within the tolerance below the
//! honest one, and a 100% tolerance let any two values agree.

use cosmwasm_std::{Addr, Order, Storage, Uint128};

use crate::error::ContractError;
use crate::state::{
    attestation_group, OracleConfig, Slot, Task, ATTESTATIONS, MAX_ORACLES, MAX_PARTICIPANTS,
    ORACLES, SLOTS,
};

/// The number of agreeing oracles a task needs under the current set.
pub fn quorum(task: &Task, config: &OracleConfig) -> u32 {
    task.terms.min_quorum.max(config.threshold)
}

fn agree(window: &[Uint128], tolerance_bps: u32) -> bool {
    let (min, max) = (window[0], window[window.len() - 1]);
    let spread = (max - min).full_mul(10_000u128);
    spread <= max.full_mul(u128::from(tolerance_bps))
}

/// The value `values` (one participant's attestations of the current
/// version, at most `MAX_ORACLES`) settle on under quorum `k`, if any;
/// `complete` when every member has attested or the deadline has passed.
#[inline(never)]
pub fn agreed_value(
    values: &mut [Uint128],
    k: usize,
    tolerance_bps: u32,
    complete: bool,
) -> Option<Uint128> {
    if k == 0 || values.len() < k {
        return None;
    }
    values.sort();
    let strong = 2 * k - 1;
    if values.len() >= strong {
        if let Some(w) = values.windows(strong).find(|w| agree(w, tolerance_bps)) {
            return Some(w[k - 1]);
        }
    }
    if !complete {
        return None;
    }
    // The largest agreeing window (ends ascending, so the lowest of equal
    // size is kept); `start` only moves right as `end` does.
    let mut best: Option<(usize, usize)> = None;
    let mut start = 0;
    for end in 0..values.len() {
        while !agree(&values[start..=end], tolerance_bps) {
            start += 1;
        }
        let len = end - start + 1;
        if len >= k && best.is_none_or(|(_, l)| len > l) {
            best = Some((start, len));
        }
    }
    best.map(|(start, len)| values[start + (len - 1) / 2])
}

/// Records an accepted value.
pub fn accept_value(
    store: &mut dyn Storage,
    task_id: u64,
    task: &mut Task,
    participant: &Addr,
    mut slot: Slot,
    value: Uint128,
) -> Result<(), ContractError> {
    task.value_total = task.value_total.checked_add(value)?;
    slot.value = Some(value);
    SLOTS.save(store, (task_id, participant), &slot)?;
    task.final_count += 1;
    Ok(())
}

/// One participant's attestations of config `version` (at most `MAX_ORACLES`).
pub fn attested_values(
    store: &dyn Storage,
    task_id: u64,
    participant: &Addr,
    version: u32,
) -> Result<Vec<Uint128>, ContractError> {
    Ok(ATTESTATIONS
        .prefix((task_id, attestation_group(participant, version)))
        .range(store, None, None, Order::Ascending)
        .take(MAX_ORACLES as usize)
        .map(|r| r.map(|(_, a)| a.value))
        .collect::<Result<_, _>>()?)
}

/// At the verification deadline: settles every confirmed participant still
/// without a value on what the current set's attestations agree on (at most
/// `MAX_PARTICIPANTS` slots × `MAX_ORACLES` attestations). Participants
/// with no agreement keep no value: no reward, bond returned.
#[inline(never)]
pub fn finalize_pending_values(
    store: &mut dyn Storage,
    task_id: u64,
    task: &mut Task,
) -> Result<(), ContractError> {
    let config = ORACLES.may_load(store)?.unwrap_or_default();
    let k = quorum(task, &config) as usize;
    let open: Vec<(Addr, Slot)> = SLOTS
        .prefix(task_id)
        .range(store, None, None, Order::Ascending)
        .take(MAX_PARTICIPANTS as usize)
        .filter(|r| {
            r.as_ref()
                .map(|(_, s)| s.confirmed && s.value.is_none())
                .unwrap_or(true)
        })
        .collect::<Result<_, _>>()?;
    for (participant, slot) in open {
        let mut values = attested_values(store, task_id, &participant, config.version)?;
        if let Some(v) = agreed_value(&mut values, k, task.terms.tolerance_bps, true) {
            accept_value(store, task_id, task, &participant, slot, v)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[u128]) -> Vec<Uint128> {
        xs.iter().copied().map(Uint128::new).collect()
    }

    fn agreed(xs: &[u128], k: usize, bps: u32, complete: bool) -> Option<u128> {
        agreed_value(&mut v(xs), k, bps, complete).map(|x| x.u128())
    }

    #[test]
    fn early_acceptance_needs_2k_minus_1_agreeing_values_and_takes_their_median() {
        // k = 2: two agreeing values are not enough early on.
        assert_eq!(agreed(&[95, 100], 2, 500, false), None);
        // Three agree: the median is an honest value even if 95 is faulty.
        assert_eq!(agreed(&[95, 100, 100], 2, 500, false), Some(100));
        assert_eq!(agreed(&[100, 95, 100], 2, 500, false), Some(100));
        // k = 1: any single value.
        assert_eq!(agreed(&[7], 1, 0, false), Some(7));
        // k = 3 needs five; the first agreeing window of five wins.
        assert_eq!(
            agreed(&[10, 100, 101, 102, 103, 104], 3, 500, false),
            Some(102)
        );
        assert_eq!(agreed(&[100, 101, 102, 103], 3, 500, false), None);
    }

    #[test]
    fn complete_sets_take_the_median_of_the_largest_agreeing_window() {
        // Everyone attested (2-of-2): both must agree; the lower median.
        assert_eq!(agreed(&[95, 100], 2, 500, true), Some(95));
        assert_eq!(agreed(&[94, 100], 2, 500, true), None);
        // 2-of-4, complete: {100, 101, 102} beats {10, 10}.
        assert_eq!(
            agreed(&[10, 10, 100, 101, 102, 300], 2, 500, true),
            Some(101)
        );
        // Equal sizes: the lowest window.
        assert_eq!(agreed(&[10, 10, 100, 100], 2, 0, true), Some(10));
        // Fewer than k values never settle.
        assert_eq!(agreed(&[7, 7], 3, 1_000, true), None);
        assert_eq!(agreed(&[0, 0], 2, 0, true), Some(0));
    }

    #[test]
    fn the_tolerance_is_relative_to_the_larger_value() {
        // 5%: 100 and 105 agree (5 × 10,000 ≤ 500 × 105), 100 and 106 do not.
        assert_eq!(agreed(&[105, 100], 2, 500, true), Some(100));
        assert_eq!(agreed(&[100, 106], 2, 500, true), None);
        assert_eq!(
            agreed(&[u128::MAX, u128::MAX], 2, 1_000, true),
            Some(u128::MAX)
        );
    }
}
