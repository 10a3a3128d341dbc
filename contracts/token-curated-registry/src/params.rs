//! Governed parameters: their validation, the owner's `update_params`, and
//! the minimum-deposit floor that gives existing listings a grace period.

use cosmwasm_std::{ensure, DepsMut, Env, MessageInfo, Response, Storage, Timestamp, Uint128};
use cw_utils::nonpayable;

use crate::error::ContractError;
use crate::msg::ParamsUpdate;
use crate::state::{MinDepositFloor, Params, MIN_DEPOSIT_FLOOR, PARAMS};

/// Longest period a parameter may set: one year.
pub const MAX_PERIOD_SECS: u64 = 365 * 24 * 3600;

fn invalid(param: &'static str, reason: &'static str) -> ContractError {
    ContractError::InvalidParam { param, reason }
}

/// Checks a full parameter set, in field order, then the cross-field rules.
pub fn check_params(p: &Params) -> Result<(), ContractError> {
    let period = |param, secs: u64, min| -> Result<(), ContractError> {
        ensure!(secs >= min, invalid(param, "must be at least one second"));
        ensure!(
            secs <= MAX_PERIOD_SECS,
            invalid(param, "must be at most one year")
        );
        Ok(())
    };
    ensure!(
        !p.min_deposit.is_zero(),
        invalid("min_deposit", "must be greater than zero")
    );
    period("apply_stage_secs", p.apply_stage_secs, 1)?;
    period("commit_stage_secs", p.commit_stage_secs, 1)?;
    period("reveal_stage_secs", p.reveal_stage_secs, 1)?;
    period("exit_delay_secs", p.exit_delay_secs, 0)?;
    period("deposit_grace_secs", p.deposit_grace_secs, 0)?;
    for (param, pct) in [
        ("dispensation_pct", p.dispensation_pct),
        ("vote_quorum_pct", p.vote_quorum_pct),
        ("unrevealed_penalty_pct", p.unrevealed_penalty_pct),
    ] {
        ensure!(pct <= 100, invalid(param, "must be a percentage, 0 to 100"));
    }
    // A seller who sees a challenge coming cannot exit before a whole poll
    // could run: the exit stays challengeable at least that long.
    ensure!(
        p.exit_delay_secs >= p.commit_stage_secs + p.reveal_stage_secs,
        invalid(
            "exit_delay_secs",
            "must be at least commit_stage_secs + reveal_stage_secs"
        )
    );
    // A seller who will not top up after an increase can still leave with
    // the whole deposit before the increase applies to it.
    ensure!(
        p.deposit_grace_secs >= p.exit_delay_secs,
        invalid("deposit_grace_secs", "must be at least exit_delay_secs")
    );
    Ok(())
}

/// The floor after `min_deposit` becomes `new` at `now`: an increase over
/// what is in force applies after `grace_secs`, anything else at once.
pub fn next_floor(
    floor: &MinDepositFloor,
    new: Uint128,
    now: Timestamp,
    grace_secs: u64,
) -> MinDepositFloor {
    let in_force = floor.at(now);
    if new > in_force {
        MinDepositFloor {
            before: in_force,
            after: new,
            at: now.plus_seconds(grace_secs),
        }
    } else {
        MinDepositFloor::flat(new, now)
    }
}

/// The minimum deposit existing listings must hold now (and the stake of
/// a challenge started now).
pub fn min_deposit_in_force(
    storage: &dyn Storage,
    now: Timestamp,
) -> Result<Uint128, ContractError> {
    Ok(MIN_DEPOSIT_FLOOR.load(storage)?.at(now))
}

pub fn update_params(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    update: ParamsUpdate,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    let mut p = PARAMS.load(deps.storage)?;
    let before = p.clone();
    let ParamsUpdate {
        min_deposit,
        apply_stage_secs,
        commit_stage_secs,
        reveal_stage_secs,
        dispensation_pct,
        vote_quorum_pct,
        exit_delay_secs,
        deposit_grace_secs,
        min_survival_weight,
        unrevealed_penalty_pct,
    } = update;
    p.min_deposit = min_deposit.unwrap_or(p.min_deposit);
    p.apply_stage_secs = apply_stage_secs.unwrap_or(p.apply_stage_secs);
    p.commit_stage_secs = commit_stage_secs.unwrap_or(p.commit_stage_secs);
    p.reveal_stage_secs = reveal_stage_secs.unwrap_or(p.reveal_stage_secs);
    p.dispensation_pct = dispensation_pct.unwrap_or(p.dispensation_pct);
    p.vote_quorum_pct = vote_quorum_pct.unwrap_or(p.vote_quorum_pct);
    p.exit_delay_secs = exit_delay_secs.unwrap_or(p.exit_delay_secs);
    p.deposit_grace_secs = deposit_grace_secs.unwrap_or(p.deposit_grace_secs);
    p.min_survival_weight = min_survival_weight.unwrap_or(p.min_survival_weight);
    p.unrevealed_penalty_pct = unrevealed_penalty_pct.unwrap_or(p.unrevealed_penalty_pct);
    ensure!(p != before, ContractError::EmptyUpdate);
    check_params(&p)?;
    let now = env.block.time;
    let mut floor = MIN_DEPOSIT_FLOOR.load(deps.storage)?;
    if p.min_deposit != before.min_deposit {
        // Sellers get at least the grace period that was in force when the
        // increase was announced, even if this update shortens it.
        let grace = p.deposit_grace_secs.max(before.deposit_grace_secs);
        floor = next_floor(&floor, p.min_deposit, now, grace);
        MIN_DEPOSIT_FLOOR.save(deps.storage, &floor)?;
    }
    PARAMS.save(deps.storage, &p)?;
    Ok(Response::new()
        .add_attribute("action", "update_params")
        .add_attribute("min_deposit", p.min_deposit)
        .add_attribute("min_deposit_in_force", floor.at(now))
        .add_attribute("min_deposit_applies_at", floor.at.seconds().to_string())
        .add_attribute("apply_stage_secs", p.apply_stage_secs.to_string())
        .add_attribute("commit_stage_secs", p.commit_stage_secs.to_string())
        .add_attribute("reveal_stage_secs", p.reveal_stage_secs.to_string())
        .add_attribute("dispensation_pct", p.dispensation_pct.to_string())
        .add_attribute("vote_quorum_pct", p.vote_quorum_pct.to_string())
        .add_attribute("exit_delay_secs", p.exit_delay_secs.to_string())
        .add_attribute("deposit_grace_secs", p.deposit_grace_secs.to_string())
        .add_attribute("min_survival_weight", p.min_survival_weight)
        .add_attribute(
            "unrevealed_penalty_pct",
            p.unrevealed_penalty_pct.to_string(),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floor(before: u128, after: u128, at: u64) -> MinDepositFloor {
        MinDepositFloor {
            before: Uint128::new(before),
            after: Uint128::new(after),
            at: Timestamp::from_seconds(at),
        }
    }

    #[test]
    fn increases_wait_for_the_grace_period_decreases_do_not() {
        let t = Timestamp::from_seconds;
        let flat = MinDepositFloor::flat(Uint128::new(100), t(10));
        // An increase: the old minimum holds until the grace period ends.
        let up = next_floor(&flat, Uint128::new(300), t(20), 50);
        assert_eq!(up, floor(100, 300, 70));
        assert_eq!(up.at(t(69)), Uint128::new(100));
        assert_eq!(up.at(t(70)), Uint128::new(300));
        // A second increase during the grace period starts from what is in
        // force (100), with a new grace period.
        assert_eq!(
            next_floor(&up, Uint128::new(200), t(40), 50),
            floor(100, 200, 90)
        );
        // A decrease, even below a pending increase, applies at once.
        assert_eq!(
            next_floor(&up, Uint128::new(80), t(40), 50),
            floor(80, 80, 40)
        );
        assert_eq!(
            next_floor(&up, Uint128::new(100), t(40), 50),
            floor(100, 100, 40)
        );
        // After the grace period the new minimum is what is in force.
        assert_eq!(
            next_floor(&up, Uint128::new(400), t(80), 50),
            floor(300, 400, 130)
        );
    }
}
