//! Instantiation, the owner's configuration, allowlists and sweep, and the
//! per-user authorizations (watchtowers, hub senders) and credit withdrawals.

use cosmwasm_std::{ensure, Addr, Deps, DepsMut, Empty, Env, MessageInfo, Response, Uint128};
use cw_utils::nonpayable;
use wevalue_common::asset::{AssetInfo, AssetInfoUnchecked};

use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::error::ContractError;
use crate::ibc::check_channel_id;
use crate::msg::InstantiateMsg;
use crate::state::{
    reserve, Config, CONFIG, CREDITS, CW20S, HUB_SENDERS, IBC_CHANNELS, LAST_CHANNEL_ID,
    LAST_PAIR_ID, MAX_BATCH_SIZE, MAX_CHALLENGE_CEILING, MIN_CHALLENGE_FLOOR, RESERVED,
    WATCHTOWERS,
};

fn check_config(config: &Config) -> Result<(), ContractError> {
    let invalid = |reason: String| Err(ContractError::InvalidConfig { reason });
    if config.min_challenge_period < MIN_CHALLENGE_FLOOR {
        return invalid(format!(
            "min_challenge_period must be at least {MIN_CHALLENGE_FLOOR}s"
        ));
    }
    if config.max_challenge_period > MAX_CHALLENGE_CEILING {
        return invalid(format!(
            "max_challenge_period must be at most {MAX_CHALLENGE_CEILING}s"
        ));
    }
    if config.min_challenge_period > config.max_challenge_period {
        return invalid(format!(
            "min_challenge_period {} is above max_challenge_period {}",
            config.min_challenge_period, config.max_challenge_period
        ));
    }
    if config.max_batch_size == 0 || config.max_batch_size > MAX_BATCH_SIZE {
        return invalid(format!("max_batch_size must be 1 to {MAX_BATCH_SIZE}"));
    }
    Ok(())
}

pub fn instantiate(
    deps: DepsMut,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    let owner = msg.owner.unwrap_or_else(|| info.sender.to_string());
    let ownership = cw_ownable::initialize_owner(deps.storage, deps.api, Some(&owner))?;
    let config = Config {
        min_challenge_period: msg.min_challenge_period,
        max_challenge_period: msg.max_challenge_period,
        max_batch_size: msg.max_batch_size.unwrap_or(MAX_BATCH_SIZE),
    };
    check_config(&config)?;
    CONFIG.save(deps.storage, &config)?;
    LAST_CHANNEL_ID.save(deps.storage, &0)?;
    LAST_PAIR_ID.save(deps.storage, &0)?;
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attributes(ownership.into_attributes()))
}

pub fn update_config(
    deps: DepsMut,
    info: MessageInfo,
    min_challenge_period: Option<u64>,
    max_challenge_period: Option<u64>,
    max_batch_size: Option<u32>,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    let mut config = CONFIG.load(deps.storage)?;
    if let Some(v) = min_challenge_period {
        config.min_challenge_period = v;
    }
    if let Some(v) = max_challenge_period {
        config.max_challenge_period = v;
    }
    if let Some(v) = max_batch_size {
        config.max_batch_size = v;
    }
    check_config(&config)?;
    CONFIG.save(deps.storage, &config)?;
    // Open channels keep the challenge period they were opened with.
    Ok(Response::new()
        .add_attribute("action", "update_config")
        .add_attribute(
            "min_challenge_period",
            config.min_challenge_period.to_string(),
        )
        .add_attribute(
            "max_challenge_period",
            config.max_challenge_period.to_string(),
        )
        .add_attribute("max_batch_size", config.max_batch_size.to_string()))
}

pub struct Allowlists {
    pub add_cw20s: Vec<String>,
    pub remove_cw20s: Vec<String>,
    pub add_ibc_channels: Vec<String>,
    pub remove_ibc_channels: Vec<String>,
}

pub fn update_allowlists(
    deps: DepsMut,
    info: MessageInfo,
    lists: Allowlists,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    let cw20 = |a: &String| deps.api.addr_validate(a);
    let (add_cw20s, remove_cw20s) = (
        lists
            .add_cw20s
            .iter()
            .map(cw20)
            .collect::<Result<Vec<Addr>, _>>()?,
        lists
            .remove_cw20s
            .iter()
            .map(cw20)
            .collect::<Result<Vec<Addr>, _>>()?,
    );
    for channel in lists
        .add_ibc_channels
        .iter()
        .chain(&lists.remove_ibc_channels)
    {
        check_channel_id(channel)?;
    }
    for token in &remove_cw20s {
        CW20S.remove(deps.storage, token);
    }
    for token in &add_cw20s {
        CW20S.save(deps.storage, token, &Empty {})?;
    }
    for channel in &lists.remove_ibc_channels {
        IBC_CHANNELS.remove(deps.storage, channel);
    }
    for channel in &lists.add_ibc_channels {
        IBC_CHANNELS.save(deps.storage, channel, &Empty {})?;
    }
    let join = |v: &[String]| v.join(",");
    Ok(Response::new()
        .add_attribute("action", "update_allowlists")
        .add_attribute("add_cw20s", join(&lists.add_cw20s))
        .add_attribute("remove_cw20s", join(&lists.remove_cw20s))
        .add_attribute("add_ibc_channels", join(&lists.add_ibc_channels))
        .add_attribute("remove_ibc_channels", join(&lists.remove_ibc_channels)))
}

/// The contract's balance of `asset`, what it reserves, and the difference.
pub fn reserves(
    deps: Deps,
    env: &Env,
    asset: &AssetInfo,
) -> Result<(Uint128, Uint128, Uint128), ContractError> {
    let balance = match asset {
        AssetInfo::Native(denom) => {
            deps.querier
                .query_balance(&env.contract.address, denom)?
                .amount
        }
        AssetInfo::Cw20(token) => {
            let r: cw20::BalanceResponse = deps.querier.query_wasm_smart(
                token,
                &cw20::Cw20QueryMsg::Balance {
                    address: env.contract.address.to_string(),
                },
            )?;
            r.balance
        }
    };
    let reserved = RESERVED
        .may_load(deps.storage, &asset.key())?
        .unwrap_or_default();
    Ok((balance, reserved, balance.saturating_sub(reserved)))
}

pub fn sweep(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    asset: AssetInfoUnchecked,
    recipient: String,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    let asset = asset.check(deps.api)?;
    let recipient = deps.api.addr_validate(&recipient)?;
    let (_, _, sweepable) = reserves(deps.as_ref(), &env, &asset)?;
    ensure!(
        !sweepable.is_zero(),
        ContractError::NothingToSweep {
            asset: asset.to_string()
        }
    );
    let msg = asset.with_amount(sweepable).transfer_msg(&recipient)?;
    Ok(Response::new()
        .add_message(msg)
        .add_attribute("action", "sweep")
        .add_attribute("asset", asset.key())
        .add_attribute("amount", sweepable)
        .add_attribute("recipient", recipient))
}

pub fn authorize_watchtower(
    deps: DepsMut,
    info: MessageInfo,
    watchtower: String,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let watchtower_addr = deps.api.addr_validate(&watchtower)?;
    WATCHTOWERS.save(deps.storage, (&info.sender, &watchtower_addr), &Empty {})?;
    Ok(Response::new()
        .add_attribute("action", "authorize_watchtower")
        .add_attribute("payee", info.sender)
        .add_attribute("watchtower", watchtower_addr))
}

pub fn revoke_watchtower(
    deps: DepsMut,
    info: MessageInfo,
    watchtower: String,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let watchtower_addr = deps.api.addr_validate(&watchtower)?;
    ensure!(
        WATCHTOWERS.has(deps.storage, (&info.sender, &watchtower_addr)),
        ContractError::NotAWatchtower {
            address: watchtower,
            payee: info.sender.to_string(),
        }
    );
    WATCHTOWERS.remove(deps.storage, (&info.sender, &watchtower_addr));
    Ok(Response::new()
        .add_attribute("action", "revoke_watchtower")
        .add_attribute("payee", info.sender)
        .add_attribute("watchtower", watchtower_addr))
}

/// A hub sender as the ICS-20 packet names it: non-empty, no spaces.
fn check_hub_sender(sender: &str) -> Result<(), ContractError> {
    ensure!(
        !sender.is_empty() && sender.len() <= 128 && !sender.contains(char::is_whitespace),
        ContractError::HubDeposit {
            reason: format!("{sender:?} is not a hub address"),
        }
    );
    Ok(())
}

pub fn authorize_hub_sender(
    deps: DepsMut,
    info: MessageInfo,
    channel: String,
    sender: String,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    check_channel_id(&channel)?;
    check_hub_sender(&sender)?;
    HUB_SENDERS.save(deps.storage, (&info.sender, &channel, &sender), &Empty {})?;
    Ok(Response::new()
        .add_attribute("action", "authorize_hub_sender")
        .add_attribute("payer", info.sender)
        .add_attribute("channel", channel)
        .add_attribute("sender", sender))
}

pub fn revoke_hub_sender(
    deps: DepsMut,
    info: MessageInfo,
    channel: String,
    sender: String,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let key = (&info.sender, channel.as_str(), sender.as_str());
    ensure!(
        HUB_SENDERS.has(deps.storage, key),
        ContractError::HubSenderNotAuthorized {
            payer: info.sender.to_string(),
            channel: channel.clone(),
            sender: sender.clone(),
        }
    );
    HUB_SENDERS.remove(deps.storage, key);
    Ok(Response::new()
        .add_attribute("action", "revoke_hub_sender")
        .add_attribute("payer", info.sender)
        .add_attribute("channel", channel)
        .add_attribute("sender", sender))
}

pub fn withdraw_credit(
    deps: DepsMut,
    info: MessageInfo,
    denom: String,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let amount = CREDITS
        .may_load(deps.storage, (&info.sender, &denom))?
        .unwrap_or_default();
    ensure!(!amount.is_zero(), ContractError::NoCredit { denom });
    CREDITS.remove(deps.storage, (&info.sender, &denom));
    let asset = AssetInfo::Native(denom);
    reserve(deps.storage, &asset, amount, true)?;
    let msg = asset.with_amount(amount).transfer_msg(&info.sender)?;
    Ok(Response::new()
        .add_message(msg)
        .add_attribute("action", "withdraw_credit")
        .add_attribute("payee", info.sender)
        .add_attribute("amount", amount))
}

pub fn update_ownership(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    action: cw_ownable::Action,
) -> Result<Response, ContractError> {
    wevalue_common::ownership::update_ownership(deps, &env.block, &info, action)
}
