//! Entry points: each destructures its message and forwards to the feature
//! modules (`open`, `claim`, `close`, `admin`, `ibc`), `query` or
//! `migrations`.

#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    to_json_binary, Binary, Deps, DepsMut, Env, IbcBasicResponse, IbcDestinationCallbackMsg,
    IbcSourceCallbackMsg, MessageInfo, Reply, Response,
};

use crate::admin::{self, Allowlists};
use crate::error::ContractError;
use crate::ibc::{deposit, payout};
use crate::msg::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};
use crate::{claim, close, listing, migrations, open, query as q};

pub const CONTRACT_NAME: &str = concat!("crates.io:wevalue-", env!("CARGO_PKG_NAME"));
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    _env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    admin::instantiate(deps, info, msg)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::Open(o) => open::open_native(deps, info, o),
        ExecuteMsg::Receive(wrapper) => open::receive(deps, info, wrapper),
        ExecuteMsg::TopUp { channel_id } => open::top_up_native(deps, info, channel_id),
        ExecuteMsg::Claim {
            channel_id,
            voucher,
            preimage,
            payout,
        } => claim::claim(deps, env, info, channel_id, voucher, preimage, payout),
        ExecuteMsg::ClaimBatch { claims, payout } => {
            claim::claim_batch(deps, env, info, claims, payout)
        }
        ExecuteMsg::LodgeVoucher {
            channel_id,
            voucher,
        } => claim::lodge_voucher(deps, env, info, channel_id, voucher),
        ExecuteMsg::Close {
            channel_id,
            voucher,
            preimage,
            payout,
        } => close::close(deps, env, info, channel_id, voucher, preimage, payout),
        ExecuteMsg::StartClose { channel_id } => close::start_close(deps, env, info, channel_id),
        ExecuteMsg::Finalize { channel_id } => close::finalize(deps, env, info, channel_id),
        ExecuteMsg::AuthorizeWatchtower { watchtower } => {
            admin::authorize_watchtower(deps, info, watchtower)
        }
        ExecuteMsg::RevokeWatchtower { watchtower } => {
            admin::revoke_watchtower(deps, info, watchtower)
        }
        ExecuteMsg::WithdrawCredit { denom } => admin::withdraw_credit(deps, info, denom),
        ExecuteMsg::ConfirmPayout { payout_id } => payout::confirm_payout(deps, info, payout_id),
        ExecuteMsg::AuthorizeHubSender { channel, sender } => {
            admin::authorize_hub_sender(deps, info, channel, sender)
        }
        ExecuteMsg::RevokeHubSender { channel, sender } => {
            admin::revoke_hub_sender(deps, info, channel, sender)
        }
        ExecuteMsg::UpdateConfig {
            min_challenge_period,
            max_challenge_period,
            max_batch_size,
        } => admin::update_config(
            deps,
            info,
            min_challenge_period,
            max_challenge_period,
            max_batch_size,
        ),
        ExecuteMsg::UpdateAllowlists {
            add_cw20s,
            remove_cw20s,
            add_ibc_channels,
            remove_ibc_channels,
        } => admin::update_allowlists(
            deps,
            info,
            Allowlists {
                add_cw20s,
                remove_cw20s,
                add_ibc_channels,
                remove_ibc_channels,
            },
        ),
        ExecuteMsg::Sweep { asset, recipient } => admin::sweep(deps, env, info, asset, recipient),
        ExecuteMsg::UpdateOwnership(action) => admin::update_ownership(deps, env, info, action),
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
        QueryMsg::PaidForListing {
            payer,
            payee,
            registry,
            listing_id,
        } => to_json_binary(&listing::paid_for_listing(
            deps, payer, payee, registry, listing_id,
        )?)?,
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
        QueryMsg::HubSenders {
            payer,
            start_after,
            limit,
        } => to_json_binary(&q::hub_senders(deps, payer, start_after, limit)?)?,
        QueryMsg::AcceptedCw20s { start_after, limit } => {
            to_json_binary(&q::accepted_cw20s(deps, start_after, limit)?)?
        }
        QueryMsg::IbcChannels { start_after, limit } => {
            to_json_binary(&q::ibc_channels(deps, start_after, limit)?)?
        }
        QueryMsg::Reserves { asset } => to_json_binary(&q::reserves(deps, env, asset)?)?,
        QueryMsg::Ownership {} => to_json_binary(&cw_ownable::get_ownership(deps.storage)?)?,
    })
}

/// The reply of an IBC payout's transfer: records the packet's sequence.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn reply(deps: DepsMut, _env: Env, msg: Reply) -> Result<Response, ContractError> {
    payout::reply(deps, msg)
}

/// ICS-20 source callbacks (ibc-go callbacks middleware): settles an IBC
/// payout on its acknowledgement or timeout.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_source_callback(
    deps: DepsMut,
    _env: Env,
    msg: IbcSourceCallbackMsg,
) -> Result<IbcBasicResponse, ContractError> {
    payout::source_callback(deps, msg)
}

/// ICS-20 destination callbacks: a deposit from the hub opens or tops up a
/// channel (`HubDeposit`); a refused one is refunded to the hub sender.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_destination_callback(
    deps: DepsMut,
    env: Env,
    msg: IbcDestinationCallbackMsg,
) -> Result<IbcBasicResponse, ContractError> {
    deposit::destination_callback(deps, env, msg)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    migrations::migrate(deps)
}
