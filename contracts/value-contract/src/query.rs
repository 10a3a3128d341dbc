//! Read-only answers: config, oracle set, templates, tasks (with their
//! clock-projected status), offers, matching, attestations and claims.

use cosmwasm_std::{Addr, Deps, Env, Order};
use cw_storage_plus::Bound;
use wevalue_common::pagination::page_limit;

use crate::error::ContractError;
use crate::lifecycle::{clock_status, load_task};
use crate::msg::{
    AttestationResponse, AttestationsResponse, ClaimableResponse, ConfigResponse,
    ContributionResponse, MatchingResponse, OfferResponse, OffersResponse, OracleMemberResponse,
    OraclesResponse, ParticipantValue, ProposalResponse, SettlementResponse, SignBytesResponse,
    SlotResponse, TaskParams, TaskResponse, TaskTerms, TasksResponse, TemplateResponse,
    TemplatesResponse,
};
use crate::oracle::sign_bytes;
use crate::settlement::claimable as compute_claimable;
use crate::state::{
    Task, TaskStatus, Template, ACCEPTANCE_ROUNDS, ATTESTATIONS, BY_STATUS, MAX_OFFERS_PER_TASK,
    MAX_ORACLES, MAX_PARTICIPANTS, MAX_REPORT_VALUES, MAX_TOLERANCE_BPS, OFFERS, ORACLES,
    PROPOSALS, RELEASED, SLOTS, SPONSORS, TASKS, TASK_COUNT, TEMPLATES, TEMPLATE_COUNT,
};
use crate::templates::{build_task, load_template, terms};

#[inline(never)]
pub fn config(deps: Deps) -> Result<ConfigResponse, ContractError> {
    Ok(ConfigResponse {
        template_count: TEMPLATE_COUNT.may_load(deps.storage)?.unwrap_or_default(),
        task_count: TASK_COUNT.may_load(deps.storage)?.unwrap_or_default(),
        max_offers_per_task: MAX_OFFERS_PER_TASK,
        max_participants: MAX_PARTICIPANTS,
        max_oracles: MAX_ORACLES,
        max_report_values: MAX_REPORT_VALUES,
        acceptance_rounds: ACCEPTANCE_ROUNDS,
        max_tolerance_bps: MAX_TOLERANCE_BPS,
    })
}

#[inline(never)]
pub fn oracles(deps: Deps) -> Result<OraclesResponse, ContractError> {
    let c = ORACLES.may_load(deps.storage)?.unwrap_or_default();
    Ok(OraclesResponse {
        version: c.version,
        threshold: c.threshold,
        members: c
            .members
            .into_iter()
            .enumerate()
            .map(|(i, m)| OracleMemberResponse {
                index: i as u32,
                address: m.address,
                pubkey: m.pubkey,
                scheme: m.scheme,
            })
            .collect(),
    })
}

fn template_response(id: u64, t: Template) -> TemplateResponse {
    TemplateResponse {
        id,
        active: t.active,
        name: t.name,
        kind: t.kind,
        metric: t.metric,
        unit: t.unit,
        asset: t.asset,
        durations: t.durations,
        min_quorum: t.min_quorum,
        tolerance_bps: t.tolerance_bps,
        max_participants: t.max_participants,
        offer_deposit: t.offer_deposit,
    }
}

#[inline(never)]
pub fn template(deps: Deps, id: u64) -> Result<TemplateResponse, ContractError> {
    Ok(template_response(id, load_template(deps, id)?))
}

#[inline(never)]
pub fn templates(
    deps: Deps,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<TemplatesResponse, ContractError> {
    let templates = TEMPLATES
        .range(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .map(|r| r.map(|(id, t)| template_response(id, t)))
        .collect::<Result<_, _>>()?;
    Ok(TemplatesResponse { templates })
}

#[inline(never)]
pub fn preview_task(
    deps: Deps,
    env: &Env,
    template_id: u64,
    params: TaskParams,
) -> Result<TaskTerms, ContractError> {
    // The creator is unknown in a query; the contract itself stands in.
    let task = build_task(deps, env, &env.contract.address, template_id, params)?;
    Ok(terms(&task))
}

#[inline(never)]
pub fn task_response(env: &Env, id: u64, task: Task) -> Result<TaskResponse, ContractError> {
    let (status, advance_due) = clock_status(&task, env.block.time);
    let held = task.held(id)?;
    Ok(TaskResponse {
        id,
        status,
        stored_status: task.status,
        advance_due,
        terms: terms(&task),
        funded: task.funded,
        sponsor_count: task.sponsor_count,
        offer_count: task.offer_count,
        acceptance_round: task.acceptance_round,
        slot_count: task.slot_count,
        confirmed_count: task.confirmed_count,
        final_count: task.final_count,
        value_total: task.value_total,
        committed: task.committed,
        bonds_in: task.bonds_in,
        deposits_in: task.deposits_in,
        slashed: task.slashed,
        last_report_round: task.last_report_round,
        dispute_start: task.dispute_start,
        held,
        settlement: task.settlement.map(|s| SettlementResponse {
            total_rewards: s.total_rewards,
            forfeited_bonds: s.forfeited_bonds,
            sponsor_pool: s.sponsor_pool,
            sponsor_paid: s.sponsor_paid,
            sponsors_claimed: s.sponsors_claimed,
        }),
        void_reason: task.void_reason,
    })
}

#[inline(never)]
pub fn task(deps: Deps, env: &Env, id: u64) -> Result<TaskResponse, ContractError> {
    task_response(env, id, load_task(deps.storage, id)?)
}

#[inline(never)]
pub fn tasks(
    deps: Deps,
    env: &Env,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<TasksResponse, ContractError> {
    let ids: Vec<u64> = TASKS
        .keys(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .collect::<Result<_, _>>()?;
    load_tasks(deps, env, ids)
}

/// One page of tasks, by the ids an index page returned.
fn load_tasks(deps: Deps, env: &Env, ids: Vec<u64>) -> Result<TasksResponse, ContractError> {
    let tasks = ids
        .into_iter()
        .map(|id| task_response(env, id, load_task(deps.storage, id)?))
        .collect::<Result<_, ContractError>>()?;
    Ok(TasksResponse { tasks })
}

#[inline(never)]
pub fn tasks_by_status(
    deps: Deps,
    env: &Env,
    status: TaskStatus,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<TasksResponse, ContractError> {
    let ids: Vec<u64> = BY_STATUS
        .prefix(status.byte())
        .keys(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .collect::<Result<_, _>>()?;
    load_tasks(deps, env, ids)
}

#[inline(never)]
pub fn offers(
    deps: Deps,
    task_id: u64,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<OffersResponse, ContractError> {
    load_task(deps.storage, task_id)?;
    let offers = OFFERS
        .prefix(task_id)
        .range(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .map(|r| {
            r.map(|(offer_id, o)| OfferResponse {
                matched: SLOTS.has(deps.storage, (task_id, &o.participant))
                    || RELEASED.has(deps.storage, (task_id, &o.participant)),
                offer_id,
                participant: o.participant,
                price: o.price,
                capacity: o.capacity,
                min_units: o.min_units,
                revision: o.revision,
                reputation_ref: o.reputation_ref,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(OffersResponse { offers })
}

#[inline(never)]
pub fn matching(
    deps: Deps,
    task_id: u64,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<MatchingResponse, ContractError> {
    let task = load_task(deps.storage, task_id)?;
    let start = start_after
        .map(|s| deps.api.addr_validate(&s))
        .transpose()?;
    let slots = SLOTS
        .prefix(task_id)
        .range(
            deps.storage,
            start.as_ref().map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .map(|r| {
            r.map(|(participant, s)| SlotResponse {
                participant,
                offer_id: s.offer_id,
                units: s.units,
                price: s.price,
                round: s.round,
                confirmed: s.confirmed,
                bond: s.bond,
                value: s.value,
                reward: s.reward,
                claimed: s.claimed,
            })
        })
        .collect::<Result<_, _>>()?;
    let best_proposal = PROPOSALS
        .may_load(deps.storage, task_id)?
        .map(|p| ProposalResponse {
            proposer: p.proposer,
            assignments: p.assignments,
            total_units: p.total_units,
            total_cost: p.total_cost,
        });
    Ok(MatchingResponse {
        status: task.status,
        decided: task.matching_decided,
        from_proposal: task.from_proposal,
        best_proposal,
        slots,
    })
}

#[inline(never)]
pub fn attestations(
    deps: Deps,
    task_id: u64,
    participant: String,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<AttestationsResponse, ContractError> {
    load_task(deps.storage, task_id)?;
    let participant = deps.api.addr_validate(&participant)?;
    let start: Option<Addr> = start_after
        .map(|s| deps.api.addr_validate(&s))
        .transpose()?;
    let version = ORACLES.may_load(deps.storage)?.unwrap_or_default().version;
    let attestations = ATTESTATIONS
        .prefix((
            task_id,
            crate::state::attestation_group(&participant, version),
        ))
        .range(
            deps.storage,
            start.as_ref().map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .map(|r| {
            r.map(|(oracle, a)| AttestationResponse {
                oracle,
                value: a.value,
                evidence_cid: a.evidence_cid,
            })
        })
        .collect::<Result<_, _>>()?;
    let accepted = SLOTS
        .may_load(deps.storage, (task_id, &participant))?
        .and_then(|s| s.value);
    Ok(AttestationsResponse {
        config_version: version,
        accepted,
        attestations,
    })
}

#[inline(never)]
pub fn claimable(
    deps: Deps,
    env: &Env,
    task_id: u64,
    address: String,
) -> Result<ClaimableResponse, ContractError> {
    let address = deps.api.addr_validate(&address)?;
    let (status, reward, bond, refund) = compute_claimable(deps, env, task_id, &address)?;
    Ok(ClaimableResponse {
        status,
        reward,
        bond,
        refund,
    })
}

#[inline(never)]
pub fn contribution(
    deps: Deps,
    task_id: u64,
    sponsor: String,
) -> Result<ContributionResponse, ContractError> {
    load_task(deps.storage, task_id)?;
    let sponsor = deps.api.addr_validate(&sponsor)?;
    let c = SPONSORS.may_load(deps.storage, (task_id, &sponsor))?;
    Ok(ContributionResponse {
        amount: c.as_ref().map(|c| c.amount).unwrap_or_default(),
        refunded: c.map(|c| c.refunded).unwrap_or(false),
    })
}

#[inline(never)]
pub fn report_sign_bytes(
    deps: Deps,
    env: &Env,
    task_id: u64,
    config_version: u32,
    round: u64,
    evidence_cid: String,
    values: Vec<ParticipantValue>,
) -> Result<SignBytesResponse, ContractError> {
    let (bytes, digest) = sign_bytes(
        deps,
        env,
        task_id,
        config_version,
        round,
        &evidence_cid,
        &values,
    )?;
    Ok(SignBytesResponse { bytes, digest })
}
