//! IBC payouts: a payee's proceeds sent over ICS-20, and settling them.
//!
//! The transfer goes out as a submessage; its reply carries the packet's
//! sequence (`MsgTransferResponse`), recorded with the payout, so the
//! source callbacks of the ibc-go callbacks middleware are matched by
//! (source channel, sequence): never by the memo or the packet data, which
//! a counterparty chain or a relayer could shape. ibc-go's ICS-20 refunds
//! the escrowed tokens to the sender (this contract) only on an **error
//! acknowledgement** or a **timeout**, so only those credit the payee; any
//! other acknowledgement (`{"result":…}`, `{}`, anything) means the tokens
//! stay with the counterparty and the payout is settled as delivered. A
//! callback for a packet we do not know, or for a payout already settled,
//! changes nothing. The handler never fails on what a packet contains, so a
//! callback can only fail by running out of gas, which ibc-go reverts (the
//! relayer retries with more) below the gas the memo asks for,
//! [`CALLBACK_GAS_LIMIT`]. Were a callback lost anyway, a refund it did not
//! credit shows up as balance above what the contract reserves, which the
//! owner's `sweep` can move (and nothing else); the payee may confirm a
//! payout as delivered, which never credits anything.

use cosmwasm_std::{
    ensure, from_json, to_json_binary, to_json_string, Addr, Attribute, Coin, DepsMut, Env,
    IbcBasicResponse, IbcMsg, IbcSourceCallbackMsg, IbcSrcCallback, IbcTimeout, MessageInfo, Reply,
    Response, Storage, SubMsg, SubMsgResponse, Uint128, Uint64,
};
use serde::{Deserialize, Serialize};
use wevalue_common::asset::AssetInfo;

use crate::error::ContractError;
use crate::ibc::{ensure_allowed, TRANSFER_PORT};
use crate::listing;
use crate::state::{
    add, reserve, sub, PayoutShare, PendingPayout, CREDITS, LAST_PAYOUT_ID, MAX_IBC_TIMEOUT,
    MIN_IBC_TIMEOUT, PAIR_PENDING, PAYOUTS, PAYOUT_BY_PACKET,
};

/// Reply id of an IBC payout's transfer.
pub const REPLY_PAYOUT: u64 = 1;
/// SDK gas the memo asks the callbacks middleware to give the source
/// callback: several times what it costs (`payment-channel-gas`), and
/// within wasmd's default maximum (1,000,000).
pub const CALLBACK_GAS_LIMIT: u64 = 400_000;
const TRANSFER_RESPONSE: &str = "/ibc.applications.transfer.v1.MsgTransferResponse";

/// The ICS-20 memo: the callback request (and the payout id, for people
/// reading the packet; it is never trusted).
#[derive(Serialize)]
struct Memo {
    src_callback: IbcSrcCallback,
    wevalue_payout: Uint64,
}

/// An acknowledgement that carries an error: the only kind ICS-20 refunds on.
#[derive(Deserialize)]
struct ErrorAck {
    #[allow(dead_code)]
    error: String,
}

/// What ibc-go's ICS-20 does with an acknowledgement: refund (error) or not.
pub fn is_error_ack(data: &[u8]) -> bool {
    from_json::<ErrorAck>(data).is_ok()
}

/// One payout to send.
pub struct IbcTransfer<'a> {
    /// The channel claimed (the first, for a batch).
    pub channel_id: u64,
    pub payee: &'a Addr,
    pub asset: &'a AssetInfo,
    pub shares: Vec<PayoutShare>,
    pub ibc_channel: String,
    pub receiver: String,
    pub timeout_seconds: u64,
}

/// Sends the shares' proceeds over ICS-20 as one transfer, recording the
/// payout as pending for each pair and listing.
pub fn send_payout(
    storage: &mut dyn Storage,
    env: &Env,
    t: IbcTransfer,
) -> Result<(SubMsg, Attribute), ContractError> {
    let AssetInfo::Native(denom) = t.asset else {
        return Err(ContractError::Cw20OverIbc);
    };
    ensure_allowed(storage, &t.ibc_channel)?;
    ensure!(
        !t.receiver.is_empty() && t.receiver.len() <= 256 && t.receiver.trim() == t.receiver,
        ContractError::InvalidIbcPayout {
            reason: "receiver must be 1 to 256 characters without surrounding spaces".into(),
        }
    );
    ensure!(
        (MIN_IBC_TIMEOUT..=MAX_IBC_TIMEOUT).contains(&t.timeout_seconds),
        ContractError::InvalidIbcPayout {
            reason: format!(
                "timeout_seconds must be {MIN_IBC_TIMEOUT} to {MAX_IBC_TIMEOUT}, got {}",
                t.timeout_seconds
            ),
        }
    );
    let id = LAST_PAYOUT_ID.may_load(storage)?.unwrap_or_default() + 1;
    LAST_PAYOUT_ID.save(storage, &id)?;
    let timeout = env.block.time.plus_seconds(t.timeout_seconds);
    let mut amount = Uint128::zero();
    for s in &t.shares {
        add(&PAIR_PENDING, storage, s.pair, s.amount)?;
        if let Some(group) = s.listing {
            listing::pending(storage, group, t.asset, s.amount, false)?;
        }
        amount = amount.checked_add(s.amount)?;
    }
    PAYOUTS.save(
        storage,
        id,
        &PendingPayout {
            channel_id: t.channel_id,
            payee: t.payee.clone(),
            shares: t.shares,
            denom: denom.clone(),
            amount,
            ibc_channel: t.ibc_channel.clone(),
            sequence: None,
            receiver: t.receiver.clone(),
            timeout,
            confirmed: false,
        },
    )?;
    let memo = to_json_string(&Memo {
        src_callback: IbcSrcCallback {
            address: env.contract.address.clone(),
            gas_limit: Some(Uint64::new(CALLBACK_GAS_LIMIT)),
        },
        wevalue_payout: Uint64::new(id),
    })?;
    let msg = IbcMsg::Transfer {
        channel_id: t.ibc_channel,
        to_address: t.receiver,
        amount: Coin::new(amount, denom),
        timeout: IbcTimeout::with_timestamp(timeout),
        memo: Some(memo),
    };
    // The reply records the packet's sequence; if it cannot, the whole
    // claim fails rather than leave a payout no callback could match.
    let msg = SubMsg::reply_on_success(msg, REPLY_PAYOUT).with_payload(to_json_binary(&id)?);
    Ok((msg, Attribute::new("payout_id", id.to_string())))
}

/// Reads a varint at `at`; returns it and the position after it.
fn varint(bytes: &[u8], mut at: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(at)?;
        at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some((value, at));
        }
    }
    None
}

/// The `sequence` (field 1, varint) of a protobuf `MsgTransferResponse`.
pub fn decode_transfer_sequence(bytes: &[u8]) -> Option<u64> {
    let mut at = 0;
    let mut sequence = None;
    while at < bytes.len() {
        let (key, next) = varint(bytes, at)?;
        at = next;
        match (key >> 3, key & 7) {
            (1, 0) => {
                let (v, next) = varint(bytes, at)?;
                sequence = Some(v);
                at = next;
            }
            (_, 0) => at = varint(bytes, at)?.1,
            (_, 1) => at = at.checked_add(8)?,
            (_, 2) => {
                let (len, next) = varint(bytes, at)?;
                at = next.checked_add(usize::try_from(len).ok()?)?;
            }
            (_, 5) => at = at.checked_add(4)?,
            _ => return None,
        }
    }
    sequence.filter(|s| *s > 0 && at == bytes.len())
}

/// The packet sequence a transfer's reply reports.
fn transfer_sequence(response: &SubMsgResponse) -> Option<u64> {
    if let Some(r) = response
        .msg_responses
        .iter()
        .find(|r| r.type_url == TRANSFER_RESPONSE)
    {
        return decode_transfer_sequence(r.value.as_slice());
    }
    // Chains before CosmWasm 2.0 fill only `data`.
    #[allow(deprecated)]
    response
        .data
        .as_ref()
        .and_then(|d| decode_transfer_sequence(d.as_slice()))
}

/// Records the sequence of a payout's packet.
pub fn reply(deps: DepsMut, msg: Reply) -> Result<Response, ContractError> {
    let id: u64 = from_json(&msg.payload)?;
    let fail = |reason: String| ContractError::PayoutReply { id, reason };
    ensure!(
        msg.id == REPLY_PAYOUT,
        fail(format!("unexpected reply id {}", msg.id))
    );
    let response = msg.result.into_result().map_err(fail)?;
    let sequence = transfer_sequence(&response)
        .ok_or_else(|| fail("no MsgTransferResponse with a sequence".into()))?;
    let mut payout = PAYOUTS
        .may_load(deps.storage, id)?
        .ok_or(ContractError::PayoutNotFound { id })?;
    let key = (payout.ibc_channel.as_str(), sequence);
    ensure!(
        payout.sequence.is_none() && !PAYOUT_BY_PACKET.has(deps.storage, key),
        fail(format!("sequence {sequence} is already recorded"))
    );
    PAYOUT_BY_PACKET.save(deps.storage, key, &id)?;
    payout.sequence = Some(sequence);
    PAYOUTS.save(deps.storage, id, &payout)?;
    // The whole payout in the event, so a follower (the relayer's bridge)
    // records it without a query that could come after it settled.
    Ok(Response::new()
        .add_attribute("action", "payout_sent")
        .add_attribute("payout_id", id.to_string())
        .add_attribute("ibc_channel", payout.ibc_channel)
        .add_attribute("sequence", sequence.to_string())
        .add_attribute("payee", payout.payee)
        .add_attribute("receiver", payout.receiver)
        .add_attribute("amount", Coin::new(payout.amount, payout.denom).to_string())
        .add_attribute("timeout", payout.timeout.nanos().to_string()))
}

/// Releases a payout's shares from the pending totals: it now counts as paid.
fn release(storage: &mut dyn Storage, payout: &PendingPayout) -> Result<(), ContractError> {
    let asset = AssetInfo::Native(payout.denom.clone());
    for s in &payout.shares {
        sub(&PAIR_PENDING, storage, s.pair, s.amount)?;
        if let Some(group) = s.listing {
            listing::pending(storage, group, &asset, s.amount, true)?;
        }
    }
    Ok(())
}

/// Settles a payout for good: credited to its payee if ICS-20 refunded it.
fn settle(
    storage: &mut dyn Storage,
    id: u64,
    refunded: bool,
) -> Result<PendingPayout, ContractError> {
    let payout = PAYOUTS.load(storage, id)?;
    PAYOUTS.remove(storage, id);
    if let Some(sequence) = payout.sequence {
        PAYOUT_BY_PACKET.remove(storage, (&payout.ibc_channel, sequence));
    }
    if !payout.confirmed {
        release(storage, &payout)?;
    }
    if refunded {
        let key = (&payout.payee, payout.denom.as_str());
        let credit = CREDITS.may_load(storage, key)?.unwrap_or_default();
        CREDITS.save(storage, key, &credit.checked_add(payout.amount)?)?;
        reserve(
            storage,
            &AssetInfo::Native(payout.denom.clone()),
            payout.amount,
            false,
        )?;
    }
    Ok(payout)
}

pub fn source_callback(
    deps: DepsMut,
    msg: IbcSourceCallbackMsg,
) -> Result<IbcBasicResponse, ContractError> {
    let (packet, refunded, outcome) = match &msg {
        IbcSourceCallbackMsg::Acknowledgement(ack) => {
            let refunded = is_error_ack(ack.acknowledgement.data.as_slice());
            let outcome = if refunded { "error_ack" } else { "delivered" };
            (&ack.original_packet, refunded, outcome)
        }
        IbcSourceCallbackMsg::Timeout(timeout) => (&timeout.packet, true, "timeout"),
    };
    let response = IbcBasicResponse::new()
        .add_attribute("action", "ibc_payout_callback")
        .add_attribute("ibc_channel", packet.src.channel_id.clone())
        .add_attribute("sequence", packet.sequence.to_string());
    let id = if packet.src.port_id == TRANSFER_PORT {
        PAYOUT_BY_PACKET.may_load(deps.storage, (&packet.src.channel_id, packet.sequence))?
    } else {
        None
    };
    // Not a payout in flight (never one, or settled already): nothing to do.
    let Some(id) = id else {
        return Ok(response.add_attribute("outcome", "unknown_packet"));
    };
    let payout = settle(deps.storage, id, refunded)?;
    Ok(response
        .add_attribute("payout_id", id.to_string())
        .add_attribute("outcome", outcome)
        .add_attribute("payee", payout.payee)
        .add_attribute("amount", payout.amount))
}

pub fn confirm_payout(
    deps: DepsMut,
    info: MessageInfo,
    id: u64,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let mut payout = PAYOUTS
        .may_load(deps.storage, id)?
        .ok_or(ContractError::PayoutNotFound { id })?;
    ensure!(
        info.sender == payout.payee,
        ContractError::NotPayoutPayee { id }
    );
    if !payout.confirmed {
        release(deps.storage, &payout)?;
        payout.confirmed = true;
        PAYOUTS.save(deps.storage, id, &payout)?;
    }
    Ok(Response::new()
        .add_attribute("action", "confirm_payout")
        .add_attribute("payout_id", id.to_string())
        .add_attribute("amount", payout.amount))
}
