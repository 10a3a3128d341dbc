//! Templates (registered by the owner) and task generation from them.

use cosmwasm_std::{ensure, Addr, Deps, DepsMut, Env, MessageInfo, Response, Uint128};
use cw_utils::nonpayable;

use crate::error::ContractError;
use crate::lifecycle::save_new_task;
use crate::msg::{Durations, TaskParams, TaskTerms, TemplateMsg};
use crate::state::{
    Task, TaskKind, TaskStatus, Template, MAX_DURATION, MAX_ORACLES, MAX_PARTICIPANTS,
    MAX_TOLERANCE_BPS, ORACLE_COUNT, TASK_COUNT, TEMPLATES, TEMPLATE_COUNT,
};

#[inline(never)]
pub fn create_template(
    deps: DepsMut,
    info: MessageInfo,
    msg: TemplateMsg,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    check_len("name", &msg.name, 1, 64)?;
    check_slug("metric", &msg.metric)?;
    check_len("unit", &msg.unit, 1, 16)?;
    check_durations(&msg.durations)?;
    check_range("min_quorum", msg.min_quorum.into(), 1, MAX_ORACLES.into())?;
    check_quorum_reachable(deps.as_ref(), msg.min_quorum)?;
    check_range(
        "tolerance_bps",
        msg.tolerance_bps.into(),
        0,
        MAX_TOLERANCE_BPS.into(),
    )?;
    check_range(
        "max_participants",
        msg.max_participants.into(),
        1,
        MAX_PARTICIPANTS.into(),
    )?;
    ensure!(
        !msg.offer_deposit.is_zero(),
        ContractError::ZeroAmount {
            what: "offer_deposit"
        }
    );
    let asset = msg.asset.map(|a| a.check(deps.api)).transpose()?;
    let id = TEMPLATE_COUNT.may_load(deps.storage)?.unwrap_or_default() + 1;
    TEMPLATE_COUNT.save(deps.storage, &id)?;
    TEMPLATES.save(
        deps.storage,
        id,
        &Template {
            active: true,
            name: msg.name,
            kind: msg.kind,
            metric: msg.metric,
            unit: msg.unit,
            asset,
            durations: msg.durations,
            min_quorum: msg.min_quorum,
            tolerance_bps: msg.tolerance_bps,
            max_participants: msg.max_participants,
            offer_deposit: msg.offer_deposit,
        },
    )?;
    Ok(Response::new()
        .add_attribute("action", "create_template")
        .add_attribute("template_id", id.to_string()))
}

#[inline(never)]
pub fn set_template_active(
    deps: DepsMut,
    info: MessageInfo,
    id: u64,
    active: bool,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    let mut template = load_template(deps.as_ref(), id)?;
    template.active = active;
    TEMPLATES.save(deps.storage, id, &template)?;
    Ok(Response::new()
        .add_attribute("action", "set_template_active")
        .add_attribute("template_id", id.to_string())
        .add_attribute("active", active.to_string()))
}

/// A template's quorum must be reachable by the current oracle set (the
/// effective quorum is the larger of it and the set's threshold, which is
/// never above the set's size).
fn check_quorum_reachable(deps: Deps, min_quorum: u32) -> Result<(), ContractError> {
    let members = ORACLE_COUNT.may_load(deps.storage)?.unwrap_or_default();
    ensure!(
        min_quorum <= members,
        ContractError::QuorumUnreachable {
            min_quorum,
            members
        }
    );
    Ok(())
}

pub fn load_template(deps: Deps, id: u64) -> Result<Template, ContractError> {
    TEMPLATES
        .may_load(deps.storage, id)?
        .ok_or(ContractError::TemplateNotFound { id })
}

#[inline(never)]
pub fn create_task(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    template_id: u64,
    params: TaskParams,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let task = build_task(deps.as_ref(), &env, &info.sender, template_id, params)?;
    let id = TASK_COUNT.may_load(deps.storage)?.unwrap_or_default() + 1;
    TASK_COUNT.save(deps.storage, &id)?;
    save_new_task(deps.storage, id, &task)?;
    Ok(Response::new()
        .add_attribute("action", "create_task")
        .add_attribute("task_id", id.to_string())
        .add_attribute("template_id", template_id.to_string())
        .add_attribute(
            "funding_deadline",
            task.terms.funding_deadline.seconds().to_string(),
        ))
}

/// Validates the parameters against the template and computes the terms
/// (shared by `create_task` and the `preview_task` query).
#[inline(never)]
pub fn build_task(
    deps: Deps,
    env: &Env,
    creator: &Addr,
    template_id: u64,
    params: TaskParams,
) -> Result<Task, ContractError> {
    let template = load_template(deps, template_id)?;
    ensure!(
        template.active,
        ContractError::TemplateInactive { id: template_id }
    );
    // The set may have shrunk since the template was registered.
    check_quorum_reachable(deps, template.min_quorum)?;
    check_len("title", &params.title, 1, 100)?;
    check_cid(&params.description_cid)?;
    let asset = params.asset.check(deps.api)?;
    if let Some(allowed) = &template.asset {
        ensure!(
            *allowed == asset,
            ContractError::AssetNotAllowed {
                template_id,
                allowed: allowed.to_string()
            }
        );
    }
    ensure!(
        !params.funding_goal.is_zero(),
        ContractError::ZeroAmount {
            what: "funding_goal"
        }
    );
    check_range(
        "max_participants",
        params.max_participants.into(),
        1,
        template.max_participants.into(),
    )?;
    match template.kind {
        TaskKind::Bounty | TaskKind::Crowdfunding => ensure!(
            !params.target.is_zero(),
            ContractError::InvalidParams {
                reason: "bounties and crowdfunding need a target above zero"
            }
        ),
        TaskKind::Competition | TaskKind::PerUnit => ensure!(
            params.target.is_zero(),
            ContractError::InvalidParams {
                reason: "competitions and per-unit tasks take no target"
            }
        ),
    }
    let o = params.durations;
    let t = template.durations;
    let d = Durations {
        funding: o.funding.unwrap_or(t.funding),
        matching: o.matching.unwrap_or(t.matching),
        acceptance: o.acceptance.unwrap_or(t.acceptance),
        execution: o.execution.unwrap_or(t.execution),
        verification: o.verification.unwrap_or(t.verification),
        dispute: o.dispute.unwrap_or(t.dispute),
    };
    check_durations(&d)?;
    ensure!(
        d.dispute >= t.dispute,
        ContractError::InvalidParams {
            reason: "the dispute window cannot be shorter than the template's"
        }
    );
    let now = env.block.time;
    let funding_deadline = now.plus_seconds(d.funding);
    let matching_deadline = funding_deadline.plus_seconds(d.matching);
    let acceptance_end =
        matching_deadline.plus_seconds(d.acceptance * u64::from(crate::state::ACCEPTANCE_ROUNDS));
    let execution_deadline = acceptance_end.plus_seconds(d.execution);
    let acceptance_deadline = acceptance_end;
    Ok(Task {
        terms: TaskTerms {
            template_id,
            creator: creator.clone(),
            title: params.title,
            description_cid: params.description_cid,
            kind: template.kind,
            metric: template.metric,
            unit: template.unit,
            asset,
            funding_goal: params.funding_goal,
            target: params.target,
            max_participants: params.max_participants,
            bond: params.bond,
            min_quorum: template.min_quorum,
            tolerance_bps: template.tolerance_bps,
            offer_deposit: template.offer_deposit,
            funding_deadline,
            matching_deadline,
            acceptance_round_secs: d.acceptance,
            acceptance_deadline,
            execution_deadline,
            verification_deadline: execution_deadline.plus_seconds(d.verification),
            dispute_secs: d.dispute,
        },
        status: TaskStatus::Funding,
        funded: Uint128::zero(),
        sponsor_count: 0,
        offer_count: 0,
        next_offer_id: 0,
        matching_decided: false,
        from_proposal: false,
        acceptance_round: 0,
        slot_count: 0,
        confirmed_count: 0,
        final_count: 0,
        value_total: Uint128::zero(),
        committed: Uint128::zero(),
        bonds_in: Uint128::zero(),
        deposits_in: Uint128::zero(),
        slashed: Uint128::zero(),
        last_report_round: 0,
        dispute_start: None,
        settlement: None,
        void_reason: None,
        paid_out: Uint128::zero(),
    })
}

pub fn terms(task: &Task) -> TaskTerms {
    task.terms.clone()
}

fn check_durations(d: &Durations) -> Result<(), ContractError> {
    for (field, v) in [
        ("durations.funding", d.funding),
        ("durations.matching", d.matching),
        ("durations.acceptance", d.acceptance),
        ("durations.execution", d.execution),
        ("durations.verification", d.verification),
        ("durations.dispute", d.dispute),
    ] {
        check_range(field, v, 1, MAX_DURATION)?;
    }
    Ok(())
}

pub fn check_range(
    field: &'static str,
    actual: u64,
    min: u64,
    max: u64,
) -> Result<(), ContractError> {
    ensure!(
        (min..=max).contains(&actual),
        ContractError::OutOfRange {
            field,
            min,
            max,
            actual
        }
    );
    Ok(())
}

pub fn check_len(
    field: &'static str,
    s: &str,
    min: usize,
    max: usize,
) -> Result<(), ContractError> {
    let actual = s.chars().count();
    ensure!(
        (min..=max).contains(&actual),
        ContractError::FieldLength {
            field,
            min,
            max,
            actual
        }
    );
    ensure!(
        !s.chars().any(char::is_control),
        ContractError::InvalidField {
            field,
            value: s.to_string(),
            reason: "control characters are not allowed"
        }
    );
    Ok(())
}

fn check_slug(field: &'static str, s: &str) -> Result<(), ContractError> {
    check_len(field, s, 1, 32)?;
    ensure!(
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        ContractError::InvalidField {
            field,
            value: s.to_string(),
            reason: "only a-z, 0-9 and _ are allowed"
        }
    );
    Ok(())
}

/// Accepts CIDv0 (`Qm` + 44 base58 characters) and CIDv1 in base32 (`b` +
/// 58 or more of a-z2-7).
pub fn check_cid(cid: &str) -> Result<(), ContractError> {
    let err = |reason| ContractError::InvalidCid {
        cid: cid.to_string(),
        reason,
    };
    if let Some(rest) = cid.strip_prefix("Qm") {
        ensure!(rest.len() == 44, err("a CIDv0 is 46 characters"));
        ensure!(
            rest.bytes()
                .all(|b| b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l')),
            err("a CIDv0 is base58")
        );
        Ok(())
    } else if let Some(rest) = cid.strip_prefix('b') {
        ensure!(
            (58..=120).contains(&rest.len()),
            err("a base32 CIDv1 is 59 to 121 characters")
        );
        ensure!(
            rest.bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)),
            err("a CIDv1 must be lower-case base32")
        );
        Ok(())
    } else {
        Err(err("expected a CIDv0 (Qm…) or a base32 CIDv1 (b…)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cids_v0_and_base32_v1_only() {
        assert!(check_cid("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG").is_ok());
        assert!(check_cid("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi").is_ok());
        for bad in [
            "",
            "Qm123",
            "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbd0",
            "BAFY",
            "zdj7W",
        ] {
            assert!(
                matches!(check_cid(bad), Err(ContractError::InvalidCid { .. })),
                "{bad}"
            );
        }
    }
}
