//! Entry points: each destructures its message and forwards to the feature
//! module that handles it.

#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response, StdResult};
use cw_utils::nonpayable;

use crate::error::ContractError;
use crate::msg::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};
use crate::state::{TASK_COUNT, TEMPLATE_COUNT};
use crate::{acceptance, funding, matching, migrations, oracle, query as q, settlement, templates};

pub const CONTRACT_NAME: &str = concat!("crates.io:wevalue-", env!("CARGO_PKG_NAME"));
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    _env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    let owner = msg.owner.unwrap_or_else(|| info.sender.to_string());
    let ownership = cw_ownable::initialize_owner(deps.storage, deps.api, Some(&owner))?;
    TEMPLATE_COUNT.save(deps.storage, &0)?;
    TASK_COUNT.save(deps.storage, &0)?;
    let version = match msg.oracles {
        Some(set) => oracle::store_oracle_set(deps.storage, deps.api, set)?.version,
        None => 0,
    };
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attributes(ownership.into_attributes())
        .add_attribute("oracle_config_version", version.to_string()))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::CreateTemplate(t) => templates::create_template(deps, info, t),
        ExecuteMsg::SetTemplateActive { id, active } => {
            templates::set_template_active(deps, info, id, active)
        }
        ExecuteMsg::SetOracles(set) => oracle::set_oracles(deps, info, set),
        ExecuteMsg::CreateTask {
            template_id,
            params,
        } => templates::create_task(deps, env, info, template_id, params),
        ExecuteMsg::Contribute { task_id } => funding::contribute(deps, env, info, task_id),
        ExecuteMsg::Receive(msg) => funding::receive(deps, env, info, msg),
        ExecuteMsg::SubmitOffer {
            task_id,
            price,
            capacity,
            min_units,
            reputation_ref,
        } => matching::submit_offer(
            deps,
            env,
            info,
            task_id,
            matching::OfferTerms {
                price,
                capacity,
                min_units,
            },
            reputation_ref,
        ),
        ExecuteMsg::ReviseOffer {
            task_id,
            price,
            capacity,
            min_units,
        } => matching::revise_offer(
            deps,
            env,
            info,
            task_id,
            matching::OfferTerms {
                price,
                capacity,
                min_units,
            },
        ),
        ExecuteMsg::WithdrawOffer { task_id } => matching::withdraw_offer(deps, env, info, task_id),
        ExecuteMsg::ProposeMatching {
            task_id,
            assignments,
        } => matching::propose_matching(deps, env, info, task_id, assignments),
        ExecuteMsg::Confirm { task_id } => acceptance::confirm(deps, env, info, task_id),
        ExecuteMsg::Attest {
            task_id,
            values,
            evidence_cid,
        } => oracle::attest(deps, env, info, task_id, values, evidence_cid),
        ExecuteMsg::SubmitReport {
            task_id,
            report,
            signatures,
        } => oracle::submit_report(deps, env, info, task_id, report, signatures),
        ExecuteMsg::Void { task_id, reason } => settlement::void(deps, env, info, task_id, reason),
        ExecuteMsg::Advance { task_id } => settlement::advance_task(deps, env, info, task_id),
        ExecuteMsg::Claim { task_id } => settlement::claim(deps, env, info, task_id),
        ExecuteMsg::Refund { task_id } => settlement::refund(deps, env, info, task_id),
        ExecuteMsg::UpdateOwnership(action) => {
            wevalue_common::ownership::update_ownership(deps, &env.block, &info, action)
        }
    }
}

/// Serializes a query answer out of line: inlining every response's
/// serializer into `query` would exceed Wasm's 100-locals limit per function.
#[inline(never)]
fn bin<T: serde::Serialize>(value: &T) -> StdResult<Binary> {
    to_json_binary(value)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    Ok(match msg {
        QueryMsg::Config {} => bin(&q::config(deps)?)?,
        QueryMsg::Oracles {} => bin(&q::oracles(deps)?)?,
        QueryMsg::Template { id } => bin(&q::template(deps, id)?)?,
        QueryMsg::Templates { start_after, limit } => {
            bin(&q::templates(deps, start_after, limit)?)?
        }
        QueryMsg::PreviewTask {
            template_id,
            params,
        } => bin(&q::preview_task(deps, &env, template_id, params)?)?,
        QueryMsg::Task { id } => bin(&q::task(deps, &env, id)?)?,
        QueryMsg::Tasks { start_after, limit } => bin(&q::tasks(deps, &env, start_after, limit)?)?,
        QueryMsg::TasksByStatus {
            status,
            start_after,
            limit,
        } => bin(&q::tasks_by_status(deps, &env, status, start_after, limit)?)?,
        QueryMsg::Offers {
            task_id,
            start_after,
            limit,
        } => bin(&q::offers(deps, task_id, start_after, limit)?)?,
        QueryMsg::Matching {
            task_id,
            start_after,
            limit,
        } => bin(&q::matching(deps, task_id, start_after, limit)?)?,
        QueryMsg::Attestations {
            task_id,
            participant,
            start_after,
            limit,
        } => bin(&q::attestations(
            deps,
            task_id,
            participant,
            start_after,
            limit,
        )?)?,
        QueryMsg::Claimable { task_id, address } => {
            bin(&q::claimable(deps, &env, task_id, address)?)?
        }
        QueryMsg::Contribution { task_id, sponsor } => {
            bin(&q::contribution(deps, task_id, sponsor)?)?
        }
        QueryMsg::ReportSignBytes {
            task_id,
            config_version,
            round,
            evidence_cid,
            values,
        } => bin(&q::report_sign_bytes(
            deps,
            &env,
            task_id,
            config_version,
            round,
            evidence_cid,
            values,
        )?)?,
        QueryMsg::Ownership {} => bin(&cw_ownable::get_ownership(deps.storage)?)?,
    })
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    migrations::migrate(deps)
}
