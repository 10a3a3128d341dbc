//! Opening and funding channels: native coins, accepted cw20s, and the
//! checks every open shares (hub deposits over IBC use them too, from
//! `ibc/deposit.rs`).

use cosmwasm_std::{
    ensure, from_json, Addr, Api, Attribute, DepsMut, Empty, MessageInfo, Order, Response, Storage,
};
use cw20::Cw20ReceiveMsg;
use cw_utils::{must_pay, nonpayable, one_coin, PaymentError};
use wevalue_common::asset::{validate_denom, Asset, AssetInfo};

use crate::error::ContractError;
use crate::listing;
use crate::msg::{OpenChannel, ReceiveMsg};
use crate::state::{
    reserve, Channel, BY_PAYER, CHANNELS, CONFIG, CW20S, LAST_CHANNEL_ID, LAST_PAIR_ID,
    MAX_OPEN_PER_PAIR, PAIRS, PAIR_OPEN,
};

pub fn open_native(
    deps: DepsMut,
    info: MessageInfo,
    open: OpenChannel,
) -> Result<Response, ContractError> {
    let coin = one_coin(&info)?;
    validate_denom(&coin.denom)?;
    let funds = AssetInfo::Native(coin.denom).with_amount(coin.amount);
    let attrs = open_channel(deps.storage, deps.api, info.sender, funds, open)?;
    Ok(Response::new()
        .add_attribute("action", "open")
        .add_attributes(attrs))
}

pub fn receive(
    deps: DepsMut,
    info: MessageInfo,
    wrapper: Cw20ReceiveMsg,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    // The caller claims to be a cw20 contract that moved `amount` from
    // `sender` to us. Only a contract the owner accepted is believed: any
    // other could name any payer without moving a token.
    ensure!(
        CW20S.has(deps.storage, &info.sender),
        ContractError::Cw20NotAccepted {
            token: info.sender.to_string()
        }
    );
    let funds = AssetInfo::Cw20(info.sender).with_amount(wrapper.amount);
    let payer = deps.api.addr_validate(&wrapper.sender)?;
    ensure!(
        !funds.amount.is_zero(),
        ContractError::Payment(PaymentError::NoFunds {})
    );
    let (action, attrs) = match from_json(&wrapper.msg)? {
        ReceiveMsg::Open(open) => (
            "open",
            open_channel(deps.storage, deps.api, payer, funds, open)?,
        ),
        ReceiveMsg::TopUp { channel_id } => {
            ("top_up", top_up(deps.storage, &payer, channel_id, funds)?)
        }
    };
    Ok(Response::new()
        .add_attribute("action", action)
        .add_attributes(attrs))
}

/// Opens a channel of `payer` funded with `funds`; returns its attributes.
pub fn open_channel(
    storage: &mut dyn Storage,
    api: &dyn Api,
    payer: Addr,
    funds: Asset,
    open: OpenChannel,
) -> Result<Vec<Attribute>, ContractError> {
    let config = CONFIG.load(storage)?;
    let payee = api.addr_validate(&open.payee)?;
    ensure!(payee != payer, ContractError::SelfChannel);
    open.scheme
        .check_pubkey(&open.pubkey)
        .map_err(|source| ContractError::InvalidPubkey {
            scheme: open.scheme.to_string(),
            source,
        })?;
    let challenge_period = open.challenge_period.unwrap_or(config.min_challenge_period);
    ensure!(
        (config.min_challenge_period..=config.max_challenge_period).contains(&challenge_period),
        ContractError::ChallengePeriodOutOfRange {
            period: challenge_period,
            min: config.min_challenge_period,
            max: config.max_challenge_period,
        }
    );
    let registry = open
        .listing
        .as_ref()
        .map(|l| api.addr_validate(&l.registry))
        .transpose()?;

    let asset_key = funds.info.key();
    let pair_key = (&payer, &payee, asset_key.as_str());
    let pair = match PAIRS.may_load(storage, pair_key)? {
        Some(pair) => pair,
        None => {
            let pair = LAST_PAIR_ID.load(storage)? + 1;
            LAST_PAIR_ID.save(storage, &pair)?;
            PAIRS.save(storage, pair_key, &pair)?;
            pair
        }
    };
    let open_in_pair = PAIR_OPEN
        .prefix(pair)
        .keys_raw(storage, None, None, Order::Ascending)
        .take(MAX_OPEN_PER_PAIR)
        .count();
    ensure!(
        open_in_pair < MAX_OPEN_PER_PAIR,
        ContractError::TooManyOpenChannels {
            max: MAX_OPEN_PER_PAIR
        }
    );
    let id = LAST_CHANNEL_ID.load(storage)? + 1;
    LAST_CHANNEL_ID.save(storage, &id)?;
    let listing = match (&open.listing, &registry) {
        (Some(l), Some(registry)) => Some(listing::register_open(
            storage,
            registry,
            l,
            &payer,
            &payee,
            id,
            &funds.info,
        )?),
        _ => None,
    };
    // No claim slot yet: the channel gets one when the payee first redeems
    // a voucher on it (a slot nobody claimed reads as zero).
    PAIR_OPEN.save(storage, (pair, id), &None)?;
    reserve(storage, &funds.info, funds.amount, false)?;
    let channel = Channel {
        payer,
        payee,
        asset: funds.info,
        pubkey: open.pubkey,
        scheme: open.scheme,
        challenge_period,
        pair,
        listing,
        slot: None,
        deposit: funds.amount,
        finalize_after: None,
        hold_until: None,
        closed: false,
    };
    CHANNELS.save(storage, id, &channel)?;
    BY_PAYER.save(storage, (&channel.payer, id), &Empty {})?;
    let mut attrs = vec![
        Attribute::new("channel_id", id.to_string()),
        Attribute::new("payer", channel.payer),
        Attribute::new("payee", channel.payee),
        Attribute::new("deposit", funds.amount),
        Attribute::new("asset", asset_key),
        Attribute::new("scheme", channel.scheme.to_string()),
    ];
    if let (Some(l), Some(registry)) = (open.listing, registry) {
        attrs.push(Attribute::new("registry", registry));
        attrs.push(Attribute::new("listing_id", l.listing_id.to_string()));
    }
    Ok(attrs)
}

pub fn top_up_native(deps: DepsMut, info: MessageInfo, id: u64) -> Result<Response, ContractError> {
    let channel = load_channel(deps.storage, id)?;
    let AssetInfo::Native(denom) = &channel.asset else {
        return Err(ContractError::WrongAsset {
            id,
            asset: channel.asset.to_string(),
            sent: "native coins".into(),
        });
    };
    let amount = must_pay(&info, denom)?;
    let funds = channel.asset.with_amount(amount);
    let attrs = top_up(deps.storage, &info.sender, id, funds)?;
    Ok(Response::new()
        .add_attribute("action", "top_up")
        .add_attributes(attrs))
}

/// Adds `funds` from `payer` to channel `id`; returns its attributes.
pub fn top_up(
    storage: &mut dyn Storage,
    payer: &Addr,
    id: u64,
    funds: Asset,
) -> Result<Vec<Attribute>, ContractError> {
    let mut channel = load_channel(storage, id)?;
    ensure!(*payer == channel.payer, ContractError::NotPayer { id });
    ensure!(
        funds.info == channel.asset,
        ContractError::WrongAsset {
            id,
            asset: channel.asset.to_string(),
            sent: funds.info.to_string(),
        }
    );
    ensure_open(id, &channel)?;
    channel.deposit = channel.deposit.checked_add(funds.amount)?;
    CHANNELS.save(storage, id, &channel)?;
    reserve(storage, &channel.asset, funds.amount, false)?;
    Ok(vec![
        Attribute::new("channel_id", id.to_string()),
        Attribute::new("amount", funds.amount),
        Attribute::new("deposit", channel.deposit),
    ])
}

pub fn load_channel(storage: &dyn Storage, id: u64) -> Result<Channel, ContractError> {
    CHANNELS
        .may_load(storage, id)?
        .ok_or(ContractError::ChannelNotFound { id })
}

/// Open: neither closing nor closed.
pub fn ensure_open(id: u64, channel: &Channel) -> Result<(), ContractError> {
    match (channel.closed, channel.finalize_after) {
        (false, None) => Ok(()),
        (true, _) => Err(ContractError::ChannelNotOpen {
            id,
            status: "closed",
        }),
        (false, Some(_)) => Err(ContractError::ChannelNotOpen {
            id,
            status: "closing",
        }),
    }
}
