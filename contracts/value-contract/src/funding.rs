//! Contributions in the task's asset: native coins directly, cw20 through
//! the `Receive` hook (which also carries cw20 offer deposits and bonds).
//! Each sponsor's total is recorded so that a refund returns exactly what
//! they put in.

use cosmwasm_std::{ensure, from_json, Addr, DepsMut, Env, MessageInfo, Response, Uint128};
use cw20::Cw20ReceiveMsg;
use cw_utils::{must_pay, nonpayable};
use wevalue_common::asset::AssetInfo;

use crate::acceptance::confirm_inner;
use crate::error::ContractError;
use crate::lifecycle::{load_task, save_task};
use crate::matching::{advanced, submit_offer_inner, NewOffer, OfferTerms};
use crate::msg::ReceiveMsg;
use crate::state::Task;
use crate::state::{Contribution, TaskStatus, SPONSORS};

#[inline(never)]
pub fn contribute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
) -> Result<Response, ContractError> {
    let task = load_task(deps.storage, task_id)?;
    let amount = match &task.terms.asset {
        AssetInfo::Native(denom) => must_pay(&info, denom)?,
        AssetInfo::Cw20(_) => {
            // cw20 contributions arrive through `receive`.
            nonpayable(&info)?;
            return Err(ContractError::WrongAsset {
                task_id,
                expected: task.terms.asset.to_string(),
                received: "no funds (send the cw20 with a contribute hook)".to_string(),
            });
        }
    };
    contribute_inner(deps, env, task_id, task, info.sender, amount)
}

#[inline(never)]
pub fn receive(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: Cw20ReceiveMsg,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let hook: ReceiveMsg = from_json(&msg.msg)?;
    let sender = deps.api.addr_validate(&msg.sender)?;
    let task_id = match hook {
        ReceiveMsg::Contribute { task_id }
        | ReceiveMsg::Confirm { task_id }
        | ReceiveMsg::SubmitOffer { task_id, .. } => task_id,
    };
    let task = load_task(deps.storage, task_id)?;
    let token = AssetInfo::Cw20(info.sender.clone());
    ensure!(
        task.terms.asset == token,
        ContractError::WrongAsset {
            task_id,
            expected: task.terms.asset.to_string(),
            received: token.to_string(),
        }
    );
    match hook {
        ReceiveMsg::Contribute { .. } => {
            contribute_inner(deps, env, task_id, task, sender, msg.amount)
        }
        ReceiveMsg::Confirm { .. } => confirm_inner(deps, env, task_id, task, sender, msg.amount),
        ReceiveMsg::SubmitOffer {
            price,
            capacity,
            min_units,
            reputation_ref,
            ..
        } => submit_offer_inner(
            deps,
            env,
            task_id,
            task,
            NewOffer {
                participant: sender,
                terms: OfferTerms {
                    price,
                    capacity,
                    min_units,
                },
                reputation_ref,
                paid: msg.amount,
            },
        ),
    }
}

#[inline(never)]
fn contribute_inner(
    deps: DepsMut,
    env: Env,
    task_id: u64,
    task: Task,
    sponsor: Addr,
    amount: Uint128,
) -> Result<Response, ContractError> {
    ensure!(
        !amount.is_zero(),
        ContractError::ZeroAmount {
            what: "contribution"
        }
    );
    let (mut task, prev) = advanced(deps.storage, &env, task_id, task)?;
    ensure!(
        task.status == TaskStatus::Funding,
        ContractError::WrongStatus {
            task_id,
            status: task.status,
            action: "contribute"
        }
    );
    let mut c = SPONSORS
        .may_load(deps.storage, (task_id, &sponsor))?
        .unwrap_or(Contribution {
            amount: Uint128::zero(),
            refunded: false,
        });
    if c.amount.is_zero() {
        task.sponsor_count += 1;
    }
    c.amount = c.amount.checked_add(amount)?;
    task.funded = task.funded.checked_add(amount)?;
    SPONSORS.save(deps.storage, (task_id, &sponsor), &c)?;
    save_task(deps.storage, task_id, prev, &task)?;
    Ok(Response::new()
        .add_attribute("action", "contribute")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("sponsor", sponsor)
        .add_attribute("amount", amount)
        .add_attribute("funded", task.funded))
}
