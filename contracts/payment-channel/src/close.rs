//! Closing channels: the payee's cooperative close, the payer's close with
//! a challenge period, and finalize.

use cosmwasm_std::{ensure, CosmosMsg, DepsMut, Env, HexBinary, MessageInfo, Response, Storage};
use cw_utils::nonpayable;

use crate::claim::{chosen_payout, pay_out, redeem};
use crate::error::ContractError;
use crate::listing;
use crate::msg::{Payout, SignedVoucher};
use crate::open::{ensure_open, load_channel};
use crate::state::{add, claimed, reserve, Channel, CHANNELS, PAID, PAIR_OPEN};

/// Refunds the rest of the deposit to the payer and closes the channel,
/// which has `claimed` in total (its slot, if any, keeps that amount).
fn refund_and_close(
    storage: &mut dyn Storage,
    id: u64,
    mut channel: Channel,
    claimed: cosmwasm_std::Uint128,
) -> Result<(Option<CosmosMsg>, cosmwasm_std::Uint128), ContractError> {
    let refund = channel.balance(claimed);
    channel.closed = true;
    CHANNELS.save(storage, id, &channel)?;
    // Fold the channel into the pair's (and listing's) closed totals.
    PAIR_OPEN.remove(storage, (channel.pair, id));
    add(&PAID, storage, channel.pair, claimed)?;
    if let Some(group) = channel.listing {
        listing::close(storage, group, id, claimed)?;
    }
    // Its claims left earlier and its refund leaves now: nothing of the
    // deposit stays reserved.
    reserve(storage, &channel.asset, channel.deposit, true)?;
    let msg = channel
        .asset
        .with_amount(refund)
        .transfer_msg_if_positive(&channel.payer)?;
    Ok((msg, refund))
}

#[allow(clippy::too_many_arguments)]
pub fn close(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
    voucher: Option<SignedVoucher>,
    preimage: Option<HexBinary>,
    payout: Option<Payout>,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let mut channel = load_channel(deps.storage, id)?;
    ensure!(info.sender == channel.payee, ContractError::NotPayee { id });
    let mut response = Response::new()
        .add_attribute("action", "close")
        .add_attribute("channel_id", id.to_string());
    let claimed = match voucher {
        Some(voucher) => {
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
            response = response
                .add_submessage(msg)
                .add_attribute("amount", increase)
                .add_attributes(attrs);
            voucher.amount
        }
        None => {
            ensure!(!channel.closed, ContractError::ChannelClosed { id });
            claimed(deps.storage, &channel)?
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
    let window_end = env
        .block
        .time
        .seconds()
        .checked_add(channel.challenge_period)
        .ok_or(ContractError::InvalidConfig {
            reason: "challenge period overflows the clock".into(),
        })?;
    // A lodged hashlocked voucher stays claimable until its expiry: the
    // close cannot cut it off.
    let finalize_after = channel.hold_until.map_or(window_end, |h| h.max(window_end));
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
    let claimed = claimed(deps.storage, &channel)?;
    let (msg, refund) = refund_and_close(deps.storage, id, channel, claimed)?;
    Ok(Response::new()
        .add_messages(msg)
        .add_attribute("action", "finalize")
        .add_attribute("channel_id", id.to_string())
        .add_attribute("refund", refund))
}
