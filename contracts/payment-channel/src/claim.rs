//! Redeeming vouchers: single and batch claims, a channel's acceptance at
//! its first redemption, and lodging a hashlocked voucher that cannot be
//! redeemed yet.

use std::collections::{BTreeMap, BTreeSet};

use cosmwasm_std::{
    ensure, Addr, Attribute, DepsMut, Empty, Env, HexBinary, MessageInfo, Response, Storage,
    SubMsg, Uint128,
};
use cw_utils::nonpayable;
use wevalue_common::asset::AssetInfo;
use wevalue_voucher::SignedPayload;

use crate::error::ContractError;
use crate::ibc::payout::{send_payout, IbcTransfer};
use crate::listing;
use crate::msg::{BatchClaim, Payout, SignedVoucher};
use crate::open::load_channel;
use crate::state::{
    allocate_slot, load_page, set_slot, slot_amount, Channel, Page, PayoutShare, BY_PAYEE,
    CHANNELS, CONFIG, PAGES, PAIR_OPEN, WATCHTOWERS,
};
use crate::voucher;

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

/// The payee accepts channel `id` by redeeming on it for the first time:
/// it gets a claim slot in the payee's pages and joins the payee's index.
fn accept(
    storage: &mut dyn Storage,
    id: u64,
    channel: &mut Channel,
) -> Result<(u64, u32), ContractError> {
    let slot = allocate_slot(storage, &channel.payee)?;
    channel.slot = Some(slot);
    CHANNELS.save(storage, id, channel)?;
    PAIR_OPEN.save(storage, (channel.pair, id), &Some(slot))?;
    BY_PAYEE.save(storage, (&channel.payee, id), &Empty {})?;
    if let Some(group) = channel.listing {
        listing::accept(storage, group, id, slot)?;
    }
    Ok(slot)
}

fn share(channel: &Channel, amount: Uint128) -> PayoutShare {
    PayoutShare {
        pair: channel.pair,
        listing: channel.listing,
        amount,
    }
}

/// Pays `amount` of a channel's asset out as `payout` says.
pub fn pay_out(
    storage: &mut dyn Storage,
    env: &Env,
    id: u64,
    channel: &Channel,
    amount: Uint128,
    payout: Payout,
) -> Result<(SubMsg, Vec<Attribute>), ContractError> {
    match payout {
        Payout::Local => {
            let msg = channel
                .asset
                .with_amount(amount)
                .transfer_msg(&channel.payee)?;
            Ok((SubMsg::new(msg), vec![]))
        }
        Payout::Ibc {
            channel: ibc_channel,
            receiver,
            timeout_seconds,
        } => {
            let (msg, attr) = send_payout(
                storage,
                env,
                IbcTransfer {
                    channel_id: id,
                    payee: &channel.payee,
                    asset: &channel.asset,
                    shares: vec![share(channel, amount)],
                    ibc_channel,
                    receiver,
                    timeout_seconds,
                },
            )?;
            Ok((msg, vec![attr]))
        }
    }
}

/// Checks and records one voucher in the channel's claim page (accepting
/// the channel if this is its first redemption); returns the increase paid.
pub fn redeem(
    storage: &mut dyn Storage,
    api: &dyn cosmwasm_std::Api,
    env: &Env,
    id: u64,
    channel: &mut Channel,
    voucher: &SignedVoucher,
    preimage: Option<&HexBinary>,
) -> Result<Uint128, ContractError> {
    let loaded = match channel.slot {
        Some((page, slot)) => Some((page, slot, load_page(storage, page)?)),
        None => None,
    };
    let claimed = loaded
        .as_ref()
        .map(|(_, slot, page)| slot_amount(page, *slot))
        .unwrap_or_default();
    let increase = voucher::check_terms(env, id, channel, claimed, voucher, preimage)?;
    voucher::verify(api, env, id, channel, voucher)?;
    let (page_id, slot, mut page) = match loaded {
        Some(loaded) => loaded,
        None => {
            let (page_id, slot) = accept(storage, id, channel)?;
            (page_id, slot, load_page(storage, page_id)?)
        }
    };
    set_slot(&mut page, slot, voucher.amount);
    PAGES.save(storage, page_id, &page)?;
    Ok(increase)
}

pub fn chosen_payout(
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
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
    voucher: SignedVoucher,
    preimage: Option<HexBinary>,
    payout: Option<Payout>,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let mut channel = load_channel(deps.storage, id)?;
    ensure_claimant(deps.storage, id, &channel, &info.sender)?;
    let payout = chosen_payout(&info.sender, &channel, payout)?;
    let increase = redeem(
        deps.storage,
        deps.api,
        &env,
        id,
        &mut channel,
        &voucher,
        preimage.as_ref(),
    )?;
    let (msg, attrs) = pay_out(deps.storage, &env, id, &channel, increase, payout)?;
    Ok(Response::new()
        .add_submessage(msg)
        .add_attribute("action", "claim")
        .add_attribute("channel_id", id.to_string())
        .add_attribute("amount", increase)
        .add_attribute("claimed", voucher.amount)
        .add_attributes(attrs))
}

/// A batch's IBC payout in one denom: the asset, the first channel paid,
/// and the share of each pair and listing.
type IbcGroup = (AssetInfo, u64, Vec<PayoutShare>);

/// One checked batch item: id, channel, its page (index into the loaded
/// pages, if it has a slot), the new amount and the increase.
type Checked = (u64, Channel, Option<usize>, Uint128, Uint128);

/// Index of `page` among the loaded pages, loading it if needed.
fn page_index(
    storage: &dyn Storage,
    pages: &mut Vec<(u64, Page)>,
    page: u64,
) -> Result<usize, ContractError> {
    Ok(match pages.iter().position(|(p, _)| *p == page) {
        Some(i) => i,
        None => {
            pages.push((page, load_page(storage, page)?));
            pages.len() - 1
        }
    })
}

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
    let mut pages: Vec<(u64, Page)> = vec![];
    let mut seen = BTreeSet::new();
    let mut checked: Vec<Checked> = Vec::with_capacity(claims.len());
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
        let (at_page, claimed) = match channel.slot {
            Some((page, slot)) => {
                let i = page_index(deps.storage, &mut pages, page)?;
                (Some(i), slot_amount(&pages[i].1, slot))
            }
            None => (None, Uint128::zero()),
        };
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

    // Second pass: accept first-time channels, record in the pages, write
    // each page once, then pay out once per (payee, asset).
    let mut locals: BTreeMap<(Addr, AssetInfo), Uint128> = BTreeMap::new();
    // IBC: the sender is every channel's payee, so one transfer per asset,
    // remembering the first channel and each pair's share.
    let mut remote: Vec<IbcGroup> = vec![];
    let mut total = Uint128::zero();
    let count = checked.len();
    for (id, mut channel, at_page, amount, increase) in checked {
        let (at_page, slot) = match (at_page, channel.slot) {
            (Some(i), Some((_, slot))) => (i, slot),
            _ => {
                let (page, slot) = accept(deps.storage, id, &mut channel)?;
                (page_index(deps.storage, &mut pages, page)?, slot)
            }
        };
        set_slot(&mut pages[at_page].1, slot, amount);
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
                        remote.push((channel.asset.clone(), id, vec![]));
                        remote.len() - 1
                    }
                };
                let shares = &mut remote[group].2;
                match shares
                    .iter_mut()
                    .find(|s| s.pair == channel.pair && s.listing == channel.listing)
                {
                    Some(s) => s.amount = s.amount.checked_add(increase)?,
                    None => shares.push(share(&channel, increase)),
                }
            }
        }
    }
    for (page, amounts) in &pages {
        PAGES.save(deps.storage, *page, amounts)?;
    }
    let mut msgs = locals
        .into_iter()
        .map(|((payee, info), amount)| {
            info.with_amount(amount)
                .transfer_msg(&payee)
                .map(SubMsg::new)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut attrs = vec![];
    if let Payout::Ibc {
        channel: ibc_channel,
        receiver,
        timeout_seconds,
    } = payout
    {
        for (asset, first, shares) in remote {
            let (msg, attr) = send_payout(
                deps.storage,
                &env,
                IbcTransfer {
                    channel_id: first,
                    payee: &info.sender,
                    asset: &asset,
                    shares,
                    ibc_channel: ibc_channel.clone(),
                    receiver: receiver.clone(),
                    timeout_seconds,
                },
            )?;
            msgs.push(msg);
            attrs.push(attr);
        }
    }
    Ok(Response::new()
        .add_submessages(msgs)
        .add_attribute("action", "claim_batch")
        .add_attribute("count", count.to_string())
        .add_attribute("amount", total)
        .add_attributes(attrs))
}

/// The payee (or its watchtower) lodges a hashlocked voucher it cannot
/// redeem yet: the channel's challenge period then runs at least until the
/// voucher's expiry, whenever the payer starts a close.
pub fn lodge_voucher(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
    voucher: SignedVoucher,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let mut channel = load_channel(deps.storage, id)?;
    ensure_claimant(deps.storage, id, &channel, &info.sender)?;
    let (Some(_), Some(expiry)) = (voucher.hashlock, voucher.expiry) else {
        return Err(ContractError::NotLodgeable { id });
    };
    let claimed = crate::state::claimed(deps.storage, &channel)?;
    voucher::check_unlocked_terms(&env, id, &channel, claimed, &voucher)?;
    voucher::verify(deps.api, &env, id, &channel, &voucher)?;
    // A payer-signed expiry still bounds how long its refund can be held:
    // no further out than the longest challenge period.
    let max = CONFIG.load(deps.storage)?.max_challenge_period;
    let now = env.block.time.seconds();
    ensure!(
        expiry.saturating_sub(now) <= max,
        ContractError::HoldTooLong { id, expiry, max }
    );
    let hold = channel.hold_until.map_or(expiry, |h| h.max(expiry));
    channel.hold_until = Some(hold);
    if let Some(finalize_after) = channel.finalize_after {
        channel.finalize_after = Some(finalize_after.max(hold));
    }
    CHANNELS.save(deps.storage, id, &channel)?;
    let mut response = Response::new()
        .add_attribute("action", "lodge_voucher")
        .add_attribute("channel_id", id.to_string())
        .add_attribute("amount", voucher.amount)
        .add_attribute("hold_until", hold.to_string());
    if let Some(finalize_after) = channel.finalize_after {
        response = response.add_attribute("finalize_after", finalize_after.to_string());
    }
    Ok(response)
}
