//! State migrations between contract versions.
//!
//! Every migration first refuses another contract's state and downgrades.
//! A registry instantiated before the security hardening stores parameters
//! without `deposit_grace_secs`, `min_survival_weight` and
//! `unrevealed_penalty_pct`, and has no minimum-deposit floor or forfeit
//! account; it is recognised by that shape (the crate version did not
//! change) and given the defaults below. Its polls and votes read the new
//! fields as zero: running polls keep the rules they started with.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{DepsMut, Env, Response, Uint128};
use cw_storage_plus::Item;
use wevalue_common::migration::ensure_upgrade;

use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::error::ContractError;
use crate::params::{check_params, MAX_PERIOD_SECS};
use crate::state::{MinDepositFloor, Params, FORFEITED, MIN_DEPOSIT_FLOOR, PARAMS};

/// Grace period given to a migrated registry, unless its exit delay is longer.
pub const DEFAULT_GRACE_SECS: u64 = 7 * 24 * 3600;
/// Penalty of unrevealed votes in a migrated registry.
pub const DEFAULT_UNREVEALED_PENALTY_PCT: u8 = 10;

/// The parameters as stored before the hardening.
#[cw_serde]
struct ParamsV1 {
    min_deposit: Uint128,
    apply_stage_secs: u64,
    commit_stage_secs: u64,
    reveal_stage_secs: u64,
    dispensation_pct: u8,
    vote_quorum_pct: u8,
    exit_delay_secs: u64,
}

const PARAMS_V1: Item<ParamsV1> = Item::new("params");

/// What a pre-hardening registry becomes: the exit delay is raised to a
/// whole poll if it was shorter, the grace period is a week (or the exit
/// delay), a survival needs one minimum deposit of revealed weight, and an
/// unrevealed vote forfeits 10 %.
fn upgrade_params(old: ParamsV1) -> Params {
    let exit_delay_secs = old
        .exit_delay_secs
        .max(old.commit_stage_secs + old.reveal_stage_secs)
        .min(MAX_PERIOD_SECS);
    Params {
        min_deposit: old.min_deposit,
        apply_stage_secs: old.apply_stage_secs,
        commit_stage_secs: old.commit_stage_secs,
        reveal_stage_secs: old.reveal_stage_secs,
        dispensation_pct: old.dispensation_pct,
        vote_quorum_pct: old.vote_quorum_pct,
        exit_delay_secs,
        deposit_grace_secs: DEFAULT_GRACE_SECS.max(exit_delay_secs),
        min_survival_weight: old.min_deposit,
        unrevealed_penalty_pct: DEFAULT_UNREVEALED_PENALTY_PCT,
    }
}

pub fn migrate(deps: DepsMut, env: Env) -> Result<Response, ContractError> {
    let from = ensure_upgrade(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    let mut response = Response::new()
        .add_attribute("action", "migrate")
        .add_attribute("from_version", from.to_string())
        .add_attribute("to_version", CONTRACT_VERSION);
    if PARAMS.load(deps.storage).is_err() {
        let params = upgrade_params(PARAMS_V1.load(deps.storage)?);
        // A registry whose old periods cannot satisfy the new rules (a
        // commit plus reveal period over a year) is refused, not guessed at.
        check_params(&params)?;
        PARAMS.save(deps.storage, &params)?;
        response = response.add_attribute("params", "upgraded");
    }
    if !MIN_DEPOSIT_FLOOR.exists(deps.storage) {
        let min_deposit = PARAMS.load(deps.storage)?.min_deposit;
        MIN_DEPOSIT_FLOOR.save(
            deps.storage,
            &MinDepositFloor::flat(min_deposit, env.block.time),
        )?;
    }
    if !FORFEITED.exists(deps.storage) {
        FORFEITED.save(deps.storage, &Uint128::zero())?;
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_parameters_get_safe_defaults() {
        let old = ParamsV1 {
            min_deposit: Uint128::new(1_000),
            apply_stage_secs: 600,
            commit_stage_secs: 600,
            reveal_stage_secs: 600,
            dispensation_pct: 50,
            vote_quorum_pct: 50,
            exit_delay_secs: 0,
        };
        let p = upgrade_params(old);
        assert_eq!(p.exit_delay_secs, 1_200);
        assert_eq!(p.deposit_grace_secs, DEFAULT_GRACE_SECS);
        assert_eq!(p.min_survival_weight, Uint128::new(1_000));
        assert_eq!(p.unrevealed_penalty_pct, 10);
        check_params(&p).unwrap();
    }
}
