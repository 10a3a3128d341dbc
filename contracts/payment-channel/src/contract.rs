//! Entry points: each destructures its message and forwards to `execute`,
//! `ibc`, `query` or `migrations`.

#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    to_json_binary, Binary, Deps, DepsMut, Env, IbcBasicResponse, IbcSourceCallbackMsg,
    MessageInfo, Response,
};

use crate::error::ContractError;
use crate::msg::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};
use crate::{execute as exec, ibc, migrations, query as q};

pub const CONTRACT_NAME: &str = concat!("crates.io:wevalue-", env!("CARGO_PKG_NAME"));
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    _env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    exec::instantiate(deps, info, msg)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::Open(open) => exec::open_native(deps, info, open),
        ExecuteMsg::Receive(wrapper) => exec::receive(deps, info, wrapper),
        ExecuteMsg::TopUp { channel_id } => exec::top_up_native(deps, info, channel_id),
        ExecuteMsg::Claim {
            channel_id,
            voucher,
            preimage,
            payout,
        } => exec::claim(deps, env, info, channel_id, voucher, preimage, payout),
        ExecuteMsg::ClaimBatch { claims, payout } => {
            exec::claim_batch(deps, env, info, claims, payout)
        }
        ExecuteMsg::Close {
            channel_id,
            voucher,
            preimage,
            payout,
        } => exec::close(deps, env, info, channel_id, voucher, preimage, payout),
        ExecuteMsg::StartClose { channel_id } => exec::start_close(deps, env, info, channel_id),
        ExecuteMsg::Finalize { channel_id } => exec::finalize(deps, env, info, channel_id),
        ExecuteMsg::AuthorizeWatchtower { watchtower } => {
            exec::authorize_watchtower(deps, info, watchtower)
        }
        ExecuteMsg::RevokeWatchtower { watchtower } => {
            exec::revoke_watchtower(deps, info, watchtower)
        }
        ExecuteMsg::WithdrawCredit { denom } => exec::withdraw_credit(deps, info, denom),
        ExecuteMsg::ResolvePayout {
            payout_id,
            delivered,
        } => ibc::resolve_payout(deps, env, info, payout_id, delivered),
        ExecuteMsg::UpdateConfig {
            min_challenge_period,
            max_challenge_period,
            max_batch_size,
        } => exec::update_config(
            deps,
            info,
            min_challenge_period,
            max_challenge_period,
            max_batch_size,
        ),
        ExecuteMsg::UpdateOwnership(action) => exec::update_ownership(deps, env, info, action),
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    Ok(match msg {
        QueryMsg::Config {} => to_json_binary(&q::config(deps)?)?,
        QueryMsg::Channel { channel_id } => to_json_binary(&q::channel(deps, channel_id)?)?,
        QueryMsg::ChannelsByPayer {
            payer,
            start_after,
            limit,
        } => to_json_binary(&q::channels_by_payer(deps, payer, start_after, limit)?)?,
        QueryMsg::ChannelsByPayee {
            payee,
            start_after,
            limit,
        } => to_json_binary(&q::channels_by_payee(deps, payee, start_after, limit)?)?,
        QueryMsg::TotalPaid {
            payer,
            payee,
            asset,
        } => to_json_binary(&q::total_paid(deps, payer, payee, asset)?)?,
        QueryMsg::VoucherSignBytes {
            channel_id,
            amount,
            hashlock,
            expiry,
        } => to_json_binary(&q::voucher_sign_bytes(
            deps, env, channel_id, amount, hashlock, expiry,
        )?)?,
        QueryMsg::Watchtowers {
            payee,
            start_after,
            limit,
        } => to_json_binary(&q::watchtowers(deps, payee, start_after, limit)?)?,
        QueryMsg::Payout { payout_id } => to_json_binary(&q::payout(deps, payout_id)?)?,
        QueryMsg::Credit { payee, denom } => to_json_binary(&q::credit(deps, payee, denom)?)?,
        QueryMsg::Ownership {} => to_json_binary(&cw_ownable::get_ownership(deps.storage)?)?,
    })
}

/// ICS-20 source callbacks (ibc-go callbacks middleware): settles an IBC
/// payout on its acknowledgement or timeout.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_source_callback(
    deps: DepsMut,
    env: Env,
    msg: IbcSourceCallbackMsg,
) -> Result<IbcBasicResponse, ContractError> {
    ibc::source_callback(deps, env, msg)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    migrations::migrate(deps)
}
