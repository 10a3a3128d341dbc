//! Execute handlers: channel lifecycle, claims, watchtowers, configuration.

use std::collections::{BTreeMap, BTreeSet};

use cosmwasm_std::{
    ensure, from_json, Addr, Attribute, CosmosMsg, DepsMut, Empty, Env, HexBinary, MessageInfo,
    Response, Storage, Uint128,
};
use cw20::Cw20ReceiveMsg;
use cw_utils::{must_pay, nonpayable, one_coin};
use wevalue_common::asset::{validate_denom, Asset, AssetInfo};
use wevalue_voucher::SignedPayload;

use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::error::ContractError;
use crate::ibc;
use crate::msg::{BatchClaim, InstantiateMsg, OpenChannel, Payout, ReceiveMsg, SignedVoucher};
use crate::state::{
    allocate_slot, load_page, set_slot, slot_amount, Channel, Config, Page, BY_PAYEE, BY_PAYER,
    CHANNELS, CONFIG, CREDITS, LAST_CHANNEL_ID, LAST_PAIR_ID, MAX_BATCH_SIZE,
    MAX_CHALLENGE_CEILING, MAX_OPEN_PER_PAIR, MIN_CHALLENGE_FLOOR, PAGES, PAID, PAIRS, PAIR_OPEN,
    WATCHTOWERS,
};
use crate::voucher;

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

// ---------------------------------------------------------------- opening

pub fn open_native(
    deps: DepsMut,
    info: MessageInfo,
    open: OpenChannel,
) -> Result<Response, ContractError> {
    let coin = one_coin(&info)?;
    validate_denom(&coin.denom)?;
    let funds = AssetInfo::Native(coin.denom).with_amount(coin.amount);
    open_channel(deps, info.sender, funds, open)
}

pub fn receive(
    deps: DepsMut,
    info: MessageInfo,
    wrapper: Cw20ReceiveMsg,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    // The cw20 contract calling us is the asset; its `sender` is the payer.
    let funds = AssetInfo::Cw20(info.sender).with_amount(wrapper.amount);
    let payer = deps.api.addr_validate(&wrapper.sender)?;
    ensure!(
        !funds.amount.is_zero(),
        ContractError::Payment(cw_utils::PaymentError::NoFunds {})
    );
    match from_json(&wrapper.msg)? {
        ReceiveMsg::Open(open) => open_channel(deps, payer, funds, open),
        ReceiveMsg::TopUp { channel_id } => top_up(deps, payer, channel_id, funds),
    }
}

fn open_channel(
    deps: DepsMut,
    payer: Addr,
    funds: Asset,
    open: OpenChannel,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let payee = deps.api.addr_validate(&open.payee)?;
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

    let asset_key = funds.info.key();
    let pair_key = (&payer, &payee, asset_key.as_str());
    let pair = match PAIRS.may_load(deps.storage, pair_key)? {
        Some(pair) => pair,
        None => {
            let pair = LAST_PAIR_ID.load(deps.storage)? + 1;
            LAST_PAIR_ID.save(deps.storage, &pair)?;
            PAIRS.save(deps.storage, pair_key, &pair)?;
            pair
        }
    };
    let open_in_pair = PAIR_OPEN
        .prefix(pair)
        .keys_raw(deps.storage, None, None, cosmwasm_std::Order::Ascending)
        .take(MAX_OPEN_PER_PAIR)
        .count();
    ensure!(
        open_in_pair < MAX_OPEN_PER_PAIR,
        ContractError::TooManyOpenChannels {
            max: MAX_OPEN_PER_PAIR
        }
    );
    let id = LAST_CHANNEL_ID.load(deps.storage)? + 1;
    LAST_CHANNEL_ID.save(deps.storage, &id)?;
    // The page is not written: an unwritten slot reads as zero claimed.
    let (page, slot) = allocate_slot(deps.storage, &payee)?;
    PAIR_OPEN.save(deps.storage, (pair, id), &(page, slot))?;
    let channel = Channel {
        payer,
        payee,
        asset: funds.info,
        pubkey: open.pubkey,
        scheme: open.scheme,
        challenge_period,
        pair,
        page,
        slot,
        deposit: funds.amount,
        finalize_after: None,
        closed: false,
    };
    CHANNELS.save(deps.storage, id, &channel)?;
    BY_PAYER.save(deps.storage, (&channel.payer, id), &Empty {})?;
    BY_PAYEE.save(deps.storage, (&channel.payee, id), &Empty {})?;
    Ok(Response::new()
        .add_attribute("action", "open")
        .add_attribute("channel_id", id.to_string())
        .add_attribute("payer", channel.payer)
        .add_attribute("payee", channel.payee)
        .add_attribute("deposit", funds.amount)
        .add_attribute("asset", asset_key)
        .add_attribute("scheme", channel.scheme.to_string()))
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
    top_up(deps, info.sender, id, funds)
}

fn top_up(deps: DepsMut, payer: Addr, id: u64, funds: Asset) -> Result<Response, ContractError> {
    let mut channel = load_channel(deps.storage, id)?;
    ensure!(payer == channel.payer, ContractError::NotPayer { id });
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
    CHANNELS.save(deps.storage, id, &channel)?;
    Ok(Response::new()
        .add_attribute("action", "top_up")
        .add_attribute("channel_id", id.to_string())
        .add_attribute("amount", funds.amount)
        .add_attribute("deposit", channel.deposit))
}

// ---------------------------------------------------------------- claims

fn load_channel(storage: &dyn Storage, id: u64) -> Result<Channel, ContractError> {
    CHANNELS
        .may_load(storage, id)?
        .ok_or(ContractError::ChannelNotFound { id })
}

fn ensure_open(id: u64, channel: &Channel) -> Result<(), ContractError> {
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

/// The payee, or a watchtower the payee authorized.
fn ensure_claimant(
    storage: &dyn Storage,
    id: u64,
    channel: &Channel,
    sender: &Addr,
) -> Result<(), ContractError> {
    ensure!(
        *sender == channel.payee || WATCHTOWERS.has(storage, (&channel.payee, sender)),
        ContractError::NotPayeeOrWatchtower {
            id,
            sender: sender.to_string(),
        }
    );
    Ok(())
}

/// Pays `amount` of a channel's asset out as `payout` says, recording it.
fn pay_out(
    deps: &mut DepsMut,
    env: &Env,
    id: u64,
    channel: &Channel,
    amount: Uint128,
    payout: Payout,
) -> Result<(CosmosMsg, Vec<Attribute>), ContractError> {
    match payout {
        Payout::Local => {
            let msg = channel
                .asset
                .with_amount(amount)
                .transfer_msg(&channel.payee)?;
            Ok((msg, vec![]))
        }
        Payout::Ibc {
            channel: ibc_channel,
            receiver,
            timeout_seconds,
        } => {
            let (msg, attr) = ibc::send_payout(
                deps.storage,
                env,
                id,
                &channel.payee,
                &channel.asset,
                vec![(channel.pair, amount)],
                ibc_channel,
                receiver,
                timeout_seconds,
            )?;
            Ok((msg, vec![attr]))
        }
    }
}

/// Checks and records one voucher in the channel's claim page; returns the
/// increase paid.
fn redeem(
    deps: &mut DepsMut,
    env: &Env,
    id: u64,
    channel: &Channel,
    voucher: &SignedVoucher,
    preimage: Option<&HexBinary>,
) -> Result<Uint128, ContractError> {
    let mut page = load_page(deps.storage, channel.page)?;
    let claimed = slot_amount(&page, channel.slot);
    let increase = voucher::check_terms(env, id, channel, claimed, voucher, preimage)?;
    voucher::verify(deps.api, env, id, channel, voucher)?;
    set_slot(&mut page, channel.slot, voucher.amount);
    PAGES.save(deps.storage, channel.page, &page)?;
    Ok(increase)
}

fn chosen_payout(
    sender: &Addr,
    channel: &Channel,
    payout: Option<Payout>,
) -> Result<Payout, ContractError> {
    let payout = payout.unwrap_or_default();
    ensure!(
        payout == Payout::Local || *sender == channel.payee,
        ContractError::PayoutNotPayee
    );
    Ok(payout)
}

pub fn claim(
    mut deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
    voucher: SignedVoucher,
    preimage: Option<HexBinary>,
    payout: Option<Payout>,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let channel = load_channel(deps.storage, id)?;
    ensure_claimant(deps.storage, id, &channel, &info.sender)?;
    let payout = chosen_payout(&info.sender, &channel, payout)?;
    let increase = redeem(&mut deps, &env, id, &channel, &voucher, preimage.as_ref())?;
    let (msg, attrs) = pay_out(&mut deps, &env, id, &channel, increase, payout)?;
    Ok(Response::new()
        .add_message(msg)
        .add_attribute("action", "claim")
        .add_attribute("channel_id", id.to_string())
        .add_attribute("amount", increase)
        .add_attribute("claimed", voucher.amount)
        .add_attributes(attrs))
}

/// A batch's IBC payout in one denom: the asset, the first channel paid,
/// and the amount per (payer, payee, asset) pair.
type IbcGroup = (AssetInfo, u64, Vec<(u64, Uint128)>);

pub fn claim_batch(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    claims: Vec<BatchClaim>,
    payout: Option<Payout>,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    ensure!(
        !claims.is_empty() && claims.len() <= config.max_batch_size as usize,
        ContractError::BatchSize {
            count: claims.len(),
            max: config.max_batch_size,
        }
    );
    let payout = payout.unwrap_or_default();

    // First pass: every check except ed25519 signatures, which are
    // collected and verified together with the host's batch verification.
    // Each claim page is loaded once, however many of its channels appear.
    // (page id, amounts); a batch touches at most 50, so a Vec is enough.
    let mut pages: Vec<(u64, Page)> = vec![];
    let mut seen = BTreeSet::new();
    let mut checked = Vec::with_capacity(claims.len());
    let mut ed_messages: Vec<Vec<u8>> = vec![];
    let mut ed_items: Vec<usize> = vec![];
    for (index, claim) in claims.iter().enumerate() {
        let id = claim.channel_id;
        let at = |e: ContractError| e.in_batch(index);
        ensure!(seen.insert(id), at(ContractError::DuplicateChannel { id }));
        let channel = load_channel(deps.storage, id).map_err(at)?;
        ensure_claimant(deps.storage, id, &channel, &info.sender).map_err(at)?;
        if payout != Payout::Local {
            ensure!(
                info.sender == channel.payee,
                at(ContractError::PayoutNotPayee)
            );
            ensure!(
                matches!(channel.asset, AssetInfo::Native(_)),
                at(ContractError::Cw20OverIbc)
            );
        }
        let at_page = match pages.iter().position(|(page, _)| *page == channel.page) {
            Some(i) => i,
            None => {
                pages.push((channel.page, load_page(deps.storage, channel.page)?));
                pages.len() - 1
            }
        };
        let claimed = slot_amount(&pages[at_page].1, channel.slot);
        let increase = voucher::check_terms(
            &env,
            id,
            &channel,
            claimed,
            &claim.voucher,
            claim.preimage.as_ref(),
        )
        .map_err(at)?;
        match voucher::payload(deps.api, &env, id, &channel, &claim.voucher).map_err(at)? {
            SignedPayload::Ed25519Message(msg) => {
                ed_messages.push(msg);
                ed_items.push(index);
            }
            SignedPayload::Secp256k1Digest(digest) => {
                let ok = deps
                    .api
                    .secp256k1_verify(
                        &digest,
                        claim.voucher.signature.as_slice(),
                        channel.pubkey.as_slice(),
                    )
                    .unwrap_or(false);
                ensure!(ok, at(ContractError::InvalidSignature { id }));
            }
        }
        checked.push((id, channel, at_page, claim.voucher.amount, increase));
    }
    if !ed_items.is_empty() {
        let messages: Vec<&[u8]> = ed_messages.iter().map(Vec::as_slice).collect();
        let signatures: Vec<&[u8]> = ed_items
            .iter()
            .map(|&i| claims[i].voucher.signature.as_slice())
            .collect();
        let pubkeys: Vec<&[u8]> = ed_items
            .iter()
            .map(|&i| checked[i].1.pubkey.as_slice())
            .collect();
        let ok = deps
            .api
            .ed25519_batch_verify(&messages, &signatures, &pubkeys)
            .unwrap_or(false);
        if !ok {
            // Name the first bad voucher so the sender can drop it.
            for (k, &index) in ed_items.iter().enumerate() {
                let good = deps
                    .api
                    .ed25519_verify(messages[k], signatures[k], pubkeys[k])
                    .unwrap_or(false);
                ensure!(
                    good,
                    ContractError::InvalidSignature {
                        id: claims[index].channel_id
                    }
                    .in_batch(index)
                );
            }
        }
    }

    // Second pass: record in the pages, write each page once, then pay out
    // once per (payee, asset).
    let mut locals: BTreeMap<(Addr, AssetInfo), Uint128> = BTreeMap::new();
    // IBC: the sender is every channel's payee, so one transfer per asset,
    // remembering the first channel and the amount per pair.
    let mut remote: Vec<IbcGroup> = vec![];
    let mut total = Uint128::zero();
    for (id, channel, at_page, amount, increase) in checked {
        set_slot(&mut pages[at_page].1, channel.slot, amount);
        total = total.checked_add(increase)?;
        match payout {
            Payout::Local => {
                let sum = locals.entry((channel.payee, channel.asset)).or_default();
                *sum = sum.checked_add(increase)?;
            }
            Payout::Ibc { .. } => {
                let group = match remote.iter().position(|(a, _, _)| *a == channel.asset) {
                    Some(i) => i,
                    None => {
                        remote.push((channel.asset, id, vec![]));
                        remote.len() - 1
                    }
                };
                let pairs = &mut remote[group].2;
                match pairs.iter_mut().find(|(pair, _)| *pair == channel.pair) {
                    Some((_, sum)) => *sum = sum.checked_add(increase)?,
                    None => pairs.push((channel.pair, increase)),
                }
            }
        }
    }
    for (page, amounts) in &pages {
        PAGES.save(deps.storage, *page, amounts)?;
    }
    let mut msgs = locals
        .into_iter()
        .map(|((payee, info), amount)| info.with_amount(amount).transfer_msg(&payee))
        .collect::<Result<Vec<_>, _>>()?;
    let mut attrs = vec![];
    if let Payout::Ibc {
        channel: ibc_channel,
        receiver,
        timeout_seconds,
    } = payout
    {
        for (asset, first, pairs) in remote {
            let (msg, attr) = ibc::send_payout(
                deps.storage,
                &env,
                first,
                &info.sender,
                &asset,
                pairs,
                ibc_channel.clone(),
                receiver.clone(),
                timeout_seconds,
            )?;
            msgs.push(msg);
            attrs.push(attr);
        }
    }
    Ok(Response::new()
        .add_messages(msgs)
        .add_attribute("action", "claim_batch")
        .add_attribute("count", claims.len().to_string())
        .add_attribute("amount", total)
        .add_attributes(attrs))
}

// ---------------------------------------------------------------- closing

/// Refunds the rest of the deposit to the payer and closes the channel,
/// which has `claimed` in total (its slot keeps that amount for good).
fn refund_and_close(
    storage: &mut dyn Storage,
    id: u64,
    mut channel: Channel,
    claimed: Uint128,
) -> Result<(Option<CosmosMsg>, Uint128), ContractError> {
    let refund = channel.balance(claimed);
    channel.closed = true;
    CHANNELS.save(storage, id, &channel)?;
    // Fold the channel into the pair's closed total.
    PAIR_OPEN.remove(storage, (channel.pair, id));
    let closed_total = PAID.may_load(storage, channel.pair)?.unwrap_or_default();
    PAID.save(storage, channel.pair, &closed_total.checked_add(claimed)?)?;
    let msg = channel
        .asset
        .with_amount(refund)
        .transfer_msg_if_positive(&channel.payer)?;
    Ok((msg, refund))
}

pub fn close(
    mut deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
    voucher: Option<SignedVoucher>,
    preimage: Option<HexBinary>,
    payout: Option<Payout>,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let channel = load_channel(deps.storage, id)?;
    ensure!(info.sender == channel.payee, ContractError::NotPayee { id });
    let mut response = Response::new()
        .add_attribute("action", "close")
        .add_attribute("channel_id", id.to_string());
    let claimed = match voucher {
        Some(voucher) => {
            let payout = chosen_payout(&info.sender, &channel, payout)?;
            let increase = redeem(&mut deps, &env, id, &channel, &voucher, preimage.as_ref())?;
            let (msg, attrs) = pay_out(&mut deps, &env, id, &channel, increase, payout)?;
            response = response
                .add_message(msg)
                .add_attribute("amount", increase)
                .add_attributes(attrs);
            voucher.amount
        }
        None => {
            ensure!(!channel.closed, ContractError::ChannelClosed { id });
            crate::state::claimed(deps.storage, &channel)?
        }
    };
    let (msg, refund) = refund_and_close(deps.storage, id, channel, claimed)?;
    Ok(response.add_messages(msg).add_attribute("refund", refund))
}

pub fn start_close(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let mut channel = load_channel(deps.storage, id)?;
    ensure!(info.sender == channel.payer, ContractError::NotPayer { id });
    ensure_open(id, &channel)?;
    let finalize_after = env
        .block
        .time
        .seconds()
        .checked_add(channel.challenge_period)
        .ok_or(ContractError::InvalidConfig {
            reason: "challenge period overflows the clock".into(),
        })?;
    channel.finalize_after = Some(finalize_after);
    CHANNELS.save(deps.storage, id, &channel)?;
    Ok(Response::new()
        .add_attribute("action", "start_close")
        .add_attribute("channel_id", id.to_string())
        .add_attribute("payee", channel.payee)
        .add_attribute("finalize_after", finalize_after.to_string()))
}

pub fn finalize(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let channel = load_channel(deps.storage, id)?;
    ensure!(!channel.closed, ContractError::ChannelClosed { id });
    let now = env.block.time.seconds();
    let finalize_after = channel
        .finalize_after
        .ok_or(ContractError::ChannelNotOpen {
            id,
            status: "open (no close started)",
        })?;
    ensure!(
        now >= finalize_after,
        ContractError::ChallengePeriodRunning {
            id,
            finalize_after,
            now
        }
    );
    let claimed = crate::state::claimed(deps.storage, &channel)?;
    let (msg, refund) = refund_and_close(deps.storage, id, channel, claimed)?;
    Ok(Response::new()
        .add_messages(msg)
        .add_attribute("action", "finalize")
        .add_attribute("channel_id", id.to_string())
        .add_attribute("refund", refund))
}

// ---------------------------------------------------------------- watchtowers, credits, config

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
    let msg = AssetInfo::Native(denom)
        .with_amount(amount)
        .transfer_msg(&info.sender)?;
    Ok(Response::new()
        .add_message(msg)
        .add_attribute("action", "withdraw_credit")
        .add_attribute("payee", info.sender)
        .add_attribute("amount", amount))
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

pub fn update_ownership(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    action: cw_ownable::Action,
) -> Result<Response, ContractError> {
    wevalue_common::ownership::update_ownership(deps, &env.block, &info, action)
}
