//! Deposits from the hub: a buyer whose money lives on the hub opens or
//! tops up a channel here with one ICS-20 transfer to this contract whose
//! memo asks the ibc-go callbacks middleware for a destination callback
//! (ADR-8) and carries a [`HubDeposit`] under `payment_channel`.
//!
//! Who pays: a payer on this chain that proved it controls the deposit by
//! authorizing the hub sender beforehand (`authorize_hub_sender`, a
//! transaction signed by the payer here). Nobody can open or fund a channel
//! in someone else's name, and every refund of the channel (a close,
//! finalize) goes to that payer here, never to an address a packet names.
//! A deposit this callback refuses (unauthorized sender, bad memo, wrong
//! denom, closed channel…) fails the callback, which makes the middleware
//! write an error acknowledgement: the receive is reverted and ICS-20
//! refunds the tokens to the hub sender. Nothing is kept that no channel
//! owns.
//!
//! The callback is invoked for any transfer whose memo names this contract,
//! so it trusts nothing the sender chose: the transfer must have been
//! received by this contract, on the transfer port, over an allowlisted
//! channel, with a success acknowledgement; the denom credited here is
//! derived as ICS-20 does (the `ibc/<hash>` voucher denom of the path, or
//! the native denom of a token coming home), and the contract's balance
//! must hold at least the amount.

use cosmwasm_std::{
    ensure, from_json, DepsMut, Env, HexBinary, IbcBasicResponse, IbcDestinationCallbackMsg,
    IbcPacket, Uint128,
};
use serde::Deserialize;
use wevalue_common::asset::{validate_denom, AssetInfo};
use wevalue_voucher::sha256;

use crate::error::ContractError;
use crate::ibc::{ensure_allowed, is_channel_id, TRANSFER_PORT};
use crate::msg::HubDeposit;
use crate::open::{load_channel, open_channel, top_up};
use crate::state::HUB_SENDERS;

/// ICS-20 `FungibleTokenPacketData` (v1, JSON).
#[derive(Deserialize)]
struct Ics20Packet {
    denom: String,
    amount: Uint128,
    sender: String,
    receiver: String,
    #[serde(default)]
    memo: String,
}

/// The memo's part for this contract (other keys, such as `dest_callback`,
/// belong to the middleware).
#[derive(Deserialize)]
struct Memo {
    payment_channel: Option<HubDeposit>,
}

/// A success acknowledgement: `{"result": …}`.
#[derive(Deserialize)]
struct ResultAck {
    #[allow(dead_code)]
    result: serde::de::IgnoredAny,
}

/// The denom ICS-20 credits on this chain for a packet carrying `denom`:
/// a token that left this chain through the packet's source end comes home
/// without that hop; anything else gains this end's hop. A denom with a
/// trace is the `ibc/` + upper-case hex sha256 of its path.
pub fn receive_denom(packet: &IbcPacket, denom: &str) -> String {
    let source_hop = format!("{}/{}/", packet.src.port_id, packet.src.channel_id);
    match denom.strip_prefix(&source_hop) {
        Some(unwound) => ibc_denom(unwound),
        None => ibc_denom(&format!(
            "{}/{}/{}",
            packet.dest.port_id, packet.dest.channel_id, denom
        )),
    }
}

/// `ibc/<HASH>` for a path with at least one hop (`port/channel-n/…`), the
/// base denom otherwise (ibc-go's rule: a hop needs a channel identifier).
pub fn ibc_denom(path: &str) -> String {
    let mut parts = path.split('/');
    let has_hop = matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(_), Some(channel), Some(_)) if is_channel_id(channel)
    );
    if has_hop {
        format!(
            "ibc/{}",
            HexBinary::from(sha256(path.as_bytes()).as_slice())
                .to_hex()
                .to_uppercase()
        )
    } else {
        path.to_string()
    }
}

fn bad(reason: impl Into<String>) -> ContractError {
    ContractError::HubDeposit {
        reason: reason.into(),
    }
}

pub fn destination_callback(
    deps: DepsMut,
    env: Env,
    msg: IbcDestinationCallbackMsg,
) -> Result<IbcBasicResponse, ContractError> {
    let packet = &msg.packet;
    ensure!(
        packet.dest.port_id == TRANSFER_PORT,
        bad(format!("port {} is not ICS-20", packet.dest.port_id))
    );
    ensure_allowed(deps.storage, &packet.dest.channel_id)?;
    // Only a received transfer credited tokens (an error acknowledgement
    // reverted the receive).
    if from_json::<ResultAck>(&msg.ack.data).is_err() {
        return Ok(IbcBasicResponse::new()
            .add_attribute("action", "hub_deposit")
            .add_attribute("outcome", "not_received"));
    }
    let data: Ics20Packet =
        from_json(&packet.data).map_err(|e| bad(format!("not ICS-20 packet data: {e}")))?;
    ensure!(
        data.receiver == env.contract.address.as_str(),
        bad(format!(
            "the transfer went to {}, not to this contract",
            data.receiver
        ))
    );
    ensure!(!data.amount.is_zero(), bad("nothing was transferred"));
    let denom = receive_denom(packet, &data.denom);
    validate_denom(&denom)?;
    let balance = deps
        .querier
        .query_balance(&env.contract.address, &denom)?
        .amount;
    ensure!(
        balance >= data.amount,
        bad(format!(
            "{} {denom} did not arrive (balance {balance})",
            data.amount
        ))
    );
    let memo: Memo = from_json(data.memo.as_bytes()).map_err(|e| {
        bad(format!(
            "memo is not JSON with a payment_channel request: {e}"
        ))
    })?;
    let deposit = memo
        .payment_channel
        .ok_or_else(|| bad("the memo has no payment_channel request"))?;
    let funds = AssetInfo::Native(denom.clone()).with_amount(data.amount);
    let channel = packet.dest.channel_id.as_str();
    let authorized = |payer: &cosmwasm_std::Addr| {
        ensure!(
            HUB_SENDERS.has(deps.storage, (payer, channel, data.sender.as_str())),
            ContractError::HubSenderNotAuthorized {
                payer: payer.to_string(),
                channel: channel.to_string(),
                sender: data.sender.clone(),
            }
        );
        Ok::<(), ContractError>(())
    };
    let (kind, attrs) = match deposit {
        HubDeposit::Open { payer, channel } => {
            let payer = deps.api.addr_validate(&payer)?;
            authorized(&payer)?;
            (
                "open",
                open_channel(deps.storage, deps.api, payer, funds, channel)?,
            )
        }
        HubDeposit::TopUp { channel_id } => {
            let payer = load_channel(deps.storage, channel_id)?.payer;
            authorized(&payer)?;
            ("top_up", top_up(deps.storage, &payer, channel_id, funds)?)
        }
    };
    Ok(IbcBasicResponse::new()
        .add_attribute("action", "hub_deposit")
        .add_attribute("kind", kind)
        .add_attribute("hub_sender", data.sender)
        .add_attribute("ibc_channel", channel)
        .add_attribute("denom", denom)
        .add_attributes(attrs))
}
