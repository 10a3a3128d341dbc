//! Stand-ins for the contracts the registry calls: a curation registry
//! answering `is_listed` and a purchase verifier answering `total_paid`,
//! whose answers the tests set directly.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{
    to_json_binary, Binary, Deps, DepsMut, Empty, Env, MessageInfo, Response, StdError, StdResult,
    Uint128,
};
use cw_multi_test::{Contract, ContractWrapper};
use cw_storage_plus::Map;
use wevalue_common::asset::AssetInfo;
use wevalue_common::curation::{CurationQueryMsg, IsListedResponse};
use wevalue_common::purchase::{PurchaseQueryMsg, TotalPaidResponse};

const LISTED: Map<&str, bool> = Map::new("listed");
const PAID: Map<(&str, &str, String), Uint128> = Map::new("paid");

#[cw_serde]
pub enum MockExecuteMsg {
    SetListed {
        subject: String,
        listed: bool,
    },
    SetPaid {
        payer: String,
        payee: String,
        asset: AssetInfo,
        total: Uint128,
    },
}

fn instantiate(_: DepsMut, _: Env, _: MessageInfo, _: Empty) -> StdResult<Response> {
    Ok(Response::new())
}

fn execute(deps: DepsMut, _: Env, _: MessageInfo, msg: MockExecuteMsg) -> StdResult<Response> {
    match msg {
        MockExecuteMsg::SetListed { subject, listed } => {
            LISTED.save(deps.storage, &subject, &listed)?
        }
        MockExecuteMsg::SetPaid {
            payer,
            payee,
            asset,
            total,
        } => PAID.save(deps.storage, (&payer, &payee, asset.key()), &total)?,
    }
    Ok(Response::new())
}

fn curation_query(deps: Deps, _: Env, msg: CurationQueryMsg) -> StdResult<Binary> {
    match msg {
        CurationQueryMsg::IsListed { subject } => to_json_binary(&IsListedResponse {
            listed: LISTED.may_load(deps.storage, &subject)?.unwrap_or(false),
        }),
    }
}

fn verifier_query(deps: Deps, _: Env, msg: PurchaseQueryMsg) -> StdResult<Binary> {
    match msg {
        PurchaseQueryMsg::TotalPaid {
            payer,
            payee,
            asset,
        } => to_json_binary(&TotalPaidResponse {
            total: PAID
                .may_load(deps.storage, (&payer, &payee, asset.key()))?
                .unwrap_or_default(),
        }),
        // Not used by the registry yet.
        PurchaseQueryMsg::PaidForListing { .. } => Err(StdError::not_found("paid_for_listing")),
    }
}

/// A contract that answers no query at all.
fn silent_query(_: Deps, _: Env, _: Empty) -> StdResult<Binary> {
    Err(StdError::not_found("any query"))
}

pub fn curation_contract() -> Box<dyn Contract<Empty>> {
    Box::new(ContractWrapper::new(execute, instantiate, curation_query))
}

pub fn verifier_contract() -> Box<dyn Contract<Empty>> {
    Box::new(ContractWrapper::new(execute, instantiate, verifier_query))
}

pub fn silent_contract() -> Box<dyn Contract<Empty>> {
    Box::new(ContractWrapper::new(execute, instantiate, silent_query))
}
