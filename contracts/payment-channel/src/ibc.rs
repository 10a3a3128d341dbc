//! Cross-chain payouts over ICS-20, and what happens when they fail.
//!
//! A claim with an IBC payout sends an `IbcMsg::Transfer` whose memo asks
//! the transfer stack for a source callback (`src_callback`, ibc-go's
//! callbacks middleware, CosmWasm `cosmwasm_2_1`) and carries the payout id.
//! The payout is recorded as in flight and left out of the payer→payee
//! total until it settles. ICS-20 refunds a failed transfer (error
//! acknowledgement or timeout) to the sender, which is this contract; the
//! callback then credits the amount to the payee, who withdraws it here with
//! `withdraw_credit`. Either way the payee has then received it, so it
//! counts in the total. Without the callbacks middleware, the owner settles
//! an in-flight payout after its timeout with `resolve_payout`.

use cosmwasm_std::{
    ensure, from_json, to_json_string, Addr, Attribute, Coin, CosmosMsg, DepsMut, Env,
    IbcBasicResponse, IbcMsg, IbcPacket, IbcSourceCallbackMsg, IbcSrcCallback, IbcTimeout,
    MessageInfo, Response, Storage, Uint128, Uint64,
};
use serde::{Deserialize, Serialize};
use wevalue_common::asset::AssetInfo;

use crate::error::ContractError;
use crate::state::{
    PendingPayout, CREDITS, LAST_PAYOUT_ID, MAX_IBC_TIMEOUT, MIN_IBC_TIMEOUT, PAIR_PENDING, PAYOUTS,
};

/// The ICS-20 memo: the callback request plus our payout id.
#[derive(Serialize, Deserialize)]
struct Memo {
    src_callback: IbcSrcCallback,
    wevalue_payout: Uint64,
}

/// ICS-20 `FungibleTokenPacketData` (only the fields we read).
#[derive(Deserialize)]
struct Ics20Packet {
    sender: String,
    #[serde(default)]
    memo: String,
}

/// An ICS-20 acknowledgement: `{"result": …}` or `{"error": "…"}`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Ics20Ack {
    Result(serde::de::IgnoredAny),
    Error(serde::de::IgnoredAny),
}

fn check_ibc_channel(channel: &str) -> Result<(), ContractError> {
    let valid = channel
        .strip_prefix("channel-")
        .is_some_and(|n| !n.is_empty() && n.len() <= 20 && n.bytes().all(|b| b.is_ascii_digit()));
    ensure!(
        valid,
        ContractError::InvalidIbcPayout {
            reason: format!("{channel:?} is not an ICS-20 channel id (channel-<n>)"),
        }
    );
    Ok(())
}

/// Sends `pairs`' proceeds (pair id, amount) of `asset` to `payee`'s
/// `receiver` over ICS-20 as one transfer, recording it as in flight for
/// each pair. `channel_id` is the claimed channel (the first, for a batch).
#[allow(clippy::too_many_arguments)]
pub fn send_payout(
    storage: &mut dyn Storage,
    env: &Env,
    channel_id: u64,
    payee: &Addr,
    asset: &AssetInfo,
    pairs: Vec<(u64, Uint128)>,
    ibc_channel: String,
    receiver: String,
    timeout_seconds: u64,
) -> Result<(CosmosMsg, Attribute), ContractError> {
    let AssetInfo::Native(denom) = asset else {
        return Err(ContractError::Cw20OverIbc);
    };
    check_ibc_channel(&ibc_channel)?;
    ensure!(
        !receiver.is_empty() && receiver.len() <= 256 && receiver.trim() == receiver,
        ContractError::InvalidIbcPayout {
            reason: "receiver must be 1 to 256 characters without surrounding spaces".into(),
        }
    );
    ensure!(
        (MIN_IBC_TIMEOUT..=MAX_IBC_TIMEOUT).contains(&timeout_seconds),
        ContractError::InvalidIbcPayout {
            reason: format!(
                "timeout_seconds must be {MIN_IBC_TIMEOUT} to {MAX_IBC_TIMEOUT}, got {timeout_seconds}"
            ),
        }
    );
    let id = LAST_PAYOUT_ID.may_load(storage)?.unwrap_or_default() + 1;
    LAST_PAYOUT_ID.save(storage, &id)?;
    let timeout = env.block.time.plus_seconds(timeout_seconds);
    let mut amount = Uint128::zero();
    for &(pair, share) in &pairs {
        let pending = PAIR_PENDING.may_load(storage, pair)?.unwrap_or_default();
        PAIR_PENDING.save(storage, pair, &pending.checked_add(share)?)?;
        amount = amount.checked_add(share)?;
    }
    PAYOUTS.save(
        storage,
        id,
        &PendingPayout {
            channel_id,
            payee: payee.clone(),
            pairs,
            denom: denom.clone(),
            amount,
            ibc_channel: ibc_channel.clone(),
            receiver: receiver.clone(),
            timeout,
        },
    )?;
    let memo = to_json_string(&Memo {
        src_callback: IbcSrcCallback {
            address: env.contract.address.clone(),
            gas_limit: None,
        },
        wevalue_payout: Uint64::new(id),
    })?;
    let msg = IbcMsg::Transfer {
        channel_id: ibc_channel,
        to_address: receiver,
        amount: Coin::new(amount, denom),
        timeout: IbcTimeout::with_timestamp(timeout),
        memo: Some(memo),
    };
    Ok((msg.into(), Attribute::new("payout_id", id.to_string())))
}

/// Settles a payout: no longer pending, and credited back unless delivered.
fn settle(
    storage: &mut dyn Storage,
    id: u64,
    delivered: bool,
) -> Result<PendingPayout, ContractError> {
    let payout = PAYOUTS
        .may_load(storage, id)?
        .ok_or(ContractError::PayoutNotFound { id })?;
    PAYOUTS.remove(storage, id);
    for &(pair, share) in &payout.pairs {
        let pending = PAIR_PENDING.may_load(storage, pair)?.unwrap_or_default();
        PAIR_PENDING.save(storage, pair, &pending.checked_sub(share)?)?;
    }
    if !delivered {
        let key = (&payout.payee, payout.denom.as_str());
        let credit = CREDITS.may_load(storage, key)?.unwrap_or_default();
        CREDITS.save(storage, key, &credit.checked_add(payout.amount)?)?;
    }
    Ok(payout)
}

/// The payout id of a packet this contract sent, if it is one of ours.
fn our_payout(env: &Env, packet: &IbcPacket) -> Option<u64> {
    let data: Ics20Packet = from_json(&packet.data).ok()?;
    if data.sender != env.contract.address.as_str() {
        return None;
    }
    let memo: Memo = from_json(data.memo.as_bytes()).ok()?;
    Some(memo.wevalue_payout.u64())
}

pub fn source_callback(
    deps: DepsMut,
    env: Env,
    msg: IbcSourceCallbackMsg,
) -> Result<IbcBasicResponse, ContractError> {
    let (packet, delivered, outcome) = match &msg {
        IbcSourceCallbackMsg::Acknowledgement(ack) => {
            let delivered = matches!(
                from_json::<Ics20Ack>(&ack.acknowledgement.data),
                Ok(Ics20Ack::Result(_))
            );
            let outcome = if delivered { "delivered" } else { "error_ack" };
            (&ack.original_packet, delivered, outcome)
        }
        IbcSourceCallbackMsg::Timeout(timeout) => (&timeout.packet, false, "timeout"),
    };
    let response = IbcBasicResponse::new().add_attribute("action", "ibc_payout_callback");
    // A callback for a packet we did not send as a payout changes nothing;
    // failing here would not undo anything either.
    let Some(id) = our_payout(&env, packet) else {
        return Ok(response.add_attribute("outcome", "ignored"));
    };
    if !PAYOUTS.has(deps.storage, id) {
        return Ok(response
            .add_attribute("payout_id", id.to_string())
            .add_attribute("outcome", "already_settled"));
    }
    let payout = settle(deps.storage, id, delivered)?;
    Ok(response
        .add_attribute("payout_id", id.to_string())
        .add_attribute("outcome", outcome)
        .add_attribute("payee", payout.payee)
        .add_attribute("amount", payout.amount))
}

pub fn resolve_payout(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
    delivered: bool,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    let pending = PAYOUTS
        .may_load(deps.storage, id)?
        .ok_or(ContractError::PayoutNotFound { id })?;
    ensure!(
        env.block.time > pending.timeout,
        ContractError::PayoutNotTimedOut {
            id,
            timeout: pending.timeout.seconds(),
        }
    );
    let payout = settle(deps.storage, id, delivered)?;
    Ok(Response::new()
        .add_attribute("action", "resolve_payout")
        .add_attribute("payout_id", id.to_string())
        .add_attribute("delivered", delivered.to_string())
        .add_attribute("payee", payout.payee)
        .add_attribute("amount", payout.amount))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{execute, instantiate, query};
    use crate::msg::{
        BatchClaim, CreditResponse, ExecuteMsg, InstantiateMsg, OpenChannel, Payout, QueryMsg,
        SignedVoucher,
    };
    use cosmwasm_std::testing::{
        message_info, mock_dependencies, mock_env, MockApi, MockQuerier, MockStorage,
    };
    use cosmwasm_std::{
        coins, from_json, Addr, BankMsg, IbcAckCallbackMsg, IbcAcknowledgement, IbcEndpoint,
        IbcTimeoutCallbackMsg, OwnedDeps,
    };
    use wevalue_common::purchase::TotalPaidResponse;
    use wevalue_voucher::sign::VoucherSigner;
    use wevalue_voucher::{Voucher, VoucherScheme};

    type Deps = OwnedDeps<MockStorage, MockApi, MockQuerier>;

    struct Setup {
        deps: Deps,
        env: Env,
        owner: Addr,
        payer: Addr,
        payee: Addr,
        key: VoucherSigner,
    }

    fn setup() -> Setup {
        let mut deps = mock_dependencies();
        let env = mock_env();
        let owner = deps.api.addr_make("owner");
        let payer = deps.api.addr_make("payer");
        let payee = deps.api.addr_make("payee");
        let key = VoucherSigner::from_secret(VoucherScheme::Ed25519, [3; 32], "cosmwasm").unwrap();
        instantiate(
            deps.as_mut(),
            env.clone(),
            message_info(&owner, &[]),
            InstantiateMsg {
                owner: None,
                min_challenge_period: 3600,
                max_challenge_period: 7200,
                max_batch_size: None,
            },
        )
        .unwrap();
        execute(
            deps.as_mut(),
            env.clone(),
            message_info(&payer, &coins(1_000, "ucity")),
            ExecuteMsg::Open(OpenChannel {
                payee: payee.to_string(),
                pubkey: key.public_key().into(),
                scheme: VoucherScheme::Ed25519,
                challenge_period: None,
            }),
        )
        .unwrap();
        Setup {
            deps,
            env,
            owner,
            payer,
            payee,
            key,
        }
    }

    fn voucher(s: &Setup, amount: u128) -> SignedVoucher {
        voucher_on(s, 1, amount)
    }

    fn voucher_on(s: &Setup, channel_id: u64, amount: u128) -> SignedVoucher {
        let fields = Voucher {
            chain_id: s.env.block.chain_id.clone(),
            contract: s.env.contract.address.to_string(),
            channel_id,
            amount: amount.into(),
            hashlock: None,
            expiry: None,
        };
        SignedVoucher {
            amount: amount.into(),
            hashlock: None,
            expiry: None,
            signature: s.key.sign(&fields).unwrap().to_vec().into(),
        }
    }

    /// Claims `amount` with an IBC payout; returns the packet ICS-20 would send.
    fn claim_over_ibc(s: &mut Setup, amount: u128) -> IbcPacket {
        let payout = Payout::Ibc {
            channel: "channel-7".into(),
            receiver: "osmo1receiver".into(),
            timeout_seconds: 600,
        };
        let voucher = voucher(s, amount);
        let res = execute(
            s.deps.as_mut(),
            s.env.clone(),
            message_info(&s.payee, &[]),
            ExecuteMsg::Claim {
                channel_id: 1,
                voucher,
                preimage: None,
                payout: Some(payout),
            },
        )
        .unwrap();
        let id = res
            .attributes
            .iter()
            .find(|a| a.key == "payout_id")
            .unwrap()
            .value
            .clone();
        packet_of(s, &res.messages[0].msg, &id)
    }

    /// Checks an ICS-20 payout message; returns the packet ICS-20 would send.
    fn packet_of(s: &Setup, msg: &CosmosMsg, payout_id: &str) -> IbcPacket {
        let CosmosMsg::Ibc(IbcMsg::Transfer {
            channel_id,
            to_address,
            amount: sent,
            timeout,
            memo,
        }) = msg.clone()
        else {
            panic!("expected an ICS-20 transfer, got {msg:?}");
        };
        assert_eq!(channel_id, "channel-7");
        assert_eq!(to_address, "osmo1receiver");
        let timeout_at = s.env.block.time.plus_seconds(600);
        assert_eq!(timeout, IbcTimeout::with_timestamp(timeout_at));
        let memo = memo.unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&memo).unwrap();
        assert_eq!(
            parsed["src_callback"]["address"],
            s.env.contract.address.as_str()
        );
        assert_eq!(parsed["wevalue_payout"], payout_id);
        let data = serde_json::json!({
            "denom": sent.denom,
            "amount": sent.amount,
            "sender": s.env.contract.address,
            "receiver": to_address,
            "memo": memo,
        });
        IbcPacket::new(
            serde_json::to_vec(&data).unwrap(),
            IbcEndpoint {
                port_id: "transfer".into(),
                channel_id: "channel-7".into(),
            },
            IbcEndpoint {
                port_id: "transfer".into(),
                channel_id: "channel-0".into(),
            },
            payout_id.parse().unwrap(),
            IbcTimeout::with_timestamp(timeout_at),
        )
    }

    fn total_paid(s: &Setup) -> u128 {
        total_paid_of(s, &s.payer, "ucity")
    }

    fn total_paid_of(s: &Setup, payer: &Addr, denom: &str) -> u128 {
        let r: TotalPaidResponse = from_json(
            query(
                s.deps.as_ref(),
                s.env.clone(),
                QueryMsg::TotalPaid {
                    payer: payer.to_string(),
                    payee: s.payee.to_string(),
                    asset: AssetInfo::Native(denom.into()),
                },
            )
            .unwrap(),
        )
        .unwrap();
        r.total.u128()
    }

    fn credit(s: &Setup) -> u128 {
        credit_in(s, "ucity")
    }

    fn credit_in(s: &Setup, denom: &str) -> u128 {
        let r: CreditResponse = from_json(
            query(
                s.deps.as_ref(),
                s.env.clone(),
                QueryMsg::Credit {
                    payee: s.payee.to_string(),
                    denom: denom.into(),
                },
            )
            .unwrap(),
        )
        .unwrap();
        r.amount.u128()
    }

    fn ack(packet: IbcPacket, data: &[u8]) -> IbcSourceCallbackMsg {
        IbcSourceCallbackMsg::Acknowledgement(IbcAckCallbackMsg::new(
            IbcAcknowledgement::new(data.to_vec()),
            packet,
            Addr::unchecked("relayer"),
        ))
    }

    #[test]
    fn success_ack_counts_as_paid() {
        let mut s = setup();
        let packet = claim_over_ibc(&mut s, 400);
        // Sent but not acknowledged: not yet paid.
        assert_eq!(total_paid(&s), 0);
        let res = source_callback(
            s.deps.as_mut(),
            s.env.clone(),
            ack(packet.clone(), br#"{"result":"AQ=="}"#),
        )
        .unwrap();
        assert!(res
            .attributes
            .iter()
            .any(|a| a.key == "outcome" && a.value == "delivered"));
        assert_eq!(total_paid(&s), 400);
        assert_eq!(credit(&s), 0);
        // A duplicate callback changes nothing.
        let res = source_callback(
            s.deps.as_mut(),
            s.env.clone(),
            ack(packet, br#"{"result":"AQ=="}"#),
        )
        .unwrap();
        assert!(res.attributes.iter().any(|a| a.value == "already_settled"));
        assert_eq!(total_paid(&s), 400);
    }

    #[test]
    fn error_ack_and_timeout_credit_the_payee() {
        let mut s = setup();
        let first = claim_over_ibc(&mut s, 300);
        let second = claim_over_ibc(&mut s, 800);
        assert_eq!(total_paid(&s), 0);
        source_callback(
            s.deps.as_mut(),
            s.env.clone(),
            ack(first, br#"{"error":"bad receiver"}"#),
        )
        .unwrap();
        assert_eq!(credit(&s), 300);
        assert_eq!(total_paid(&s), 300);
        let timeout = IbcSourceCallbackMsg::Timeout(IbcTimeoutCallbackMsg::new(
            second,
            Addr::unchecked("relayer"),
        ));
        source_callback(s.deps.as_mut(), s.env.clone(), timeout).unwrap();
        assert_eq!(credit(&s), 800);
        // The payee holds the refunds here: they count as paid.
        assert_eq!(total_paid(&s), 800);
        // The payee withdraws the refunded amount on this chain.
        let stranger = s.deps.api.addr_make("stranger");
        let e = execute(
            s.deps.as_mut(),
            s.env.clone(),
            message_info(&stranger, &[]),
            ExecuteMsg::WithdrawCredit {
                denom: "ucity".into(),
            },
        )
        .unwrap_err();
        assert_eq!(
            e,
            ContractError::NoCredit {
                denom: "ucity".into()
            }
        );
        let res = execute(
            s.deps.as_mut(),
            s.env.clone(),
            message_info(&s.payee, &[]),
            ExecuteMsg::WithdrawCredit {
                denom: "ucity".into(),
            },
        )
        .unwrap();
        assert_eq!(
            res.messages[0].msg,
            CosmosMsg::Bank(BankMsg::Send {
                to_address: s.payee.to_string(),
                amount: coins(800, "ucity")
            })
        );
        assert_eq!(credit(&s), 0);
    }

    #[test]
    fn foreign_packets_are_ignored() {
        let mut s = setup();
        let mut packet = claim_over_ibc(&mut s, 300);
        packet.data =
            br#"{"denom":"ucity","amount":"1","sender":"someone-else","receiver":"x","memo":""}"#
                .into();
        let res = source_callback(
            s.deps.as_mut(),
            s.env.clone(),
            ack(packet, br#"{"error":"x"}"#),
        )
        .unwrap();
        assert!(res.attributes.iter().any(|a| a.value == "ignored"));
        assert_eq!(credit(&s), 0);
    }

    #[test]
    fn owner_resolves_stuck_payouts_after_timeout() {
        let mut s = setup();
        let packet = claim_over_ibc(&mut s, 300);
        let id = packet.sequence;
        let msg = ExecuteMsg::ResolvePayout {
            payout_id: id,
            delivered: false,
        };
        let e = execute(
            s.deps.as_mut(),
            s.env.clone(),
            message_info(&s.payee, &[]),
            msg.clone(),
        )
        .unwrap_err();
        assert!(matches!(e, ContractError::Ownership(_)));
        let owner = s.owner.clone();
        let e = execute(
            s.deps.as_mut(),
            s.env.clone(),
            message_info(&owner, &[]),
            msg.clone(),
        )
        .unwrap_err();
        assert!(matches!(e, ContractError::PayoutNotTimedOut { .. }));
        let mut later = s.env.clone();
        later.block.time = later.block.time.plus_seconds(601);
        execute(
            s.deps.as_mut(),
            later.clone(),
            message_info(&owner, &[]),
            msg.clone(),
        )
        .unwrap();
        assert_eq!(credit(&s), 300);
        let e = execute(s.deps.as_mut(), later, message_info(&owner, &[]), msg).unwrap_err();
        assert_eq!(e, ContractError::PayoutNotFound { id });
    }

    fn open(s: &mut Setup, payer: &Addr, funds: &[Coin]) {
        execute(
            s.deps.as_mut(),
            s.env.clone(),
            message_info(payer, funds),
            ExecuteMsg::Open(OpenChannel {
                payee: s.payee.to_string(),
                pubkey: s.key.public_key().into(),
                scheme: VoucherScheme::Ed25519,
                challenge_period: None,
            }),
        )
        .unwrap();
    }

    #[test]
    fn batch_pays_out_over_ibc_once_per_denom() {
        let mut s = setup();
        let payer2 = s.deps.api.addr_make("payer2");
        let payer = s.payer.clone();
        open(&mut s, &payer2, &coins(1_000, "ucity")); // channel 2
        open(&mut s, &payer, &coins(1_000, "uother")); // channel 3
        let claims = [(1, 100), (2, 200), (3, 300)]
            .into_iter()
            .map(|(id, amount)| BatchClaim {
                channel_id: id,
                voucher: voucher_on(&s, id, amount),
                preimage: None,
            })
            .collect();
        let payout = Payout::Ibc {
            channel: "channel-7".into(),
            receiver: "osmo1receiver".into(),
            timeout_seconds: 600,
        };
        let res = execute(
            s.deps.as_mut(),
            s.env.clone(),
            message_info(&s.payee.clone(), &[]),
            ExecuteMsg::ClaimBatch {
                claims,
                payout: Some(payout),
            },
        )
        .unwrap();
        let ids: Vec<&str> = res
            .attributes
            .iter()
            .filter(|a| a.key == "payout_id")
            .map(|a| a.value.as_str())
            .collect();
        assert_eq!(ids, ["1", "2"]);
        assert_eq!(res.messages.len(), 2);
        let ucity = packet_of(&s, &res.messages[0].msg, "1");
        let uother = packet_of(&s, &res.messages[1].msg, "2");
        let sent = |i: usize| match &res.messages[i].msg {
            CosmosMsg::Ibc(IbcMsg::Transfer { amount, .. }) => amount.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(sent(0), Coin::new(300u128, "ucity"));
        assert_eq!(sent(1), Coin::new(300u128, "uother"));
        // One pending payout per denom, remembering each pair's share.
        let pending = PAYOUTS.load(s.deps.as_ref().storage, 1).unwrap();
        assert_eq!(pending.channel_id, 1);
        assert_eq!(
            pending.pairs,
            vec![(1, Uint128::new(100)), (2, Uint128::new(200))]
        );
        assert_eq!(
            PAYOUTS.load(s.deps.as_ref().storage, 2).unwrap().channel_id,
            3
        );
        // In flight: nothing counts as paid yet.
        assert_eq!(total_paid_of(&s, &payer, "ucity"), 0);
        assert_eq!(total_paid_of(&s, &payer2, "ucity"), 0);
        assert_eq!(total_paid_of(&s, &payer, "uother"), 0);

        // Delivered: each pair counts its own share.
        source_callback(
            s.deps.as_mut(),
            s.env.clone(),
            ack(ucity, br#"{"result":"AQ=="}"#),
        )
        .unwrap();
        assert_eq!(total_paid_of(&s, &payer, "ucity"), 100);
        assert_eq!(total_paid_of(&s, &payer2, "ucity"), 200);
        // Timed out: refunded to the payee as credit, which counts as paid.
        let timeout = IbcSourceCallbackMsg::Timeout(IbcTimeoutCallbackMsg::new(
            uother,
            Addr::unchecked("relayer"),
        ));
        source_callback(s.deps.as_mut(), s.env.clone(), timeout).unwrap();
        assert_eq!(credit_in(&s, "uother"), 300);
        assert_eq!(credit(&s), 0);
        assert_eq!(total_paid_of(&s, &payer, "uother"), 300);
    }
}
