//! The IBC trust boundary through the contract's entry points (mock deps,
//! `sim`): payouts matched by (channel, sequence) from the transfer's
//! reply, which acknowledgements credit the payee (only errors and
//! timeouts), callbacks that must change nothing, lost callbacks, the
//! reserves a sweep respects, and deposits from the hub.

mod sim;

use cosmwasm_std::{coins, Addr, CosmosMsg, IbcMsg, ReplyOn, Uint128};
use payment_channel::ibc::payout::{decode_transfer_sequence, CALLBACK_GAS_LIMIT, REPLY_PAYOUT};
use payment_channel::msg::{
    BatchClaim, ChannelResponse, ChannelStatus, CreditResponse, ExecuteMsg, OpenChannel, Payout,
    PayoutResponse, QueryMsg, ReservesResponse, SignedVoucher,
};
use payment_channel::ContractError;
use sim::{Fate, Sim, IBC_CHANNEL};
use wevalue_common::asset::{AssetInfo, AssetInfoUnchecked};
use wevalue_common::purchase::TotalPaidResponse;
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{Voucher, VoucherScheme};

const DENOM: &str = "ucity";

struct World {
    sim: Sim,
    payer: Addr,
    payee: Addr,
    key: VoucherSigner,
}

fn key(label: &str) -> VoucherSigner {
    VoucherSigner::from_secret(
        VoucherScheme::Ed25519,
        wevalue_voucher::sha256(label.as_bytes()),
        "cosmwasm",
    )
    .unwrap()
}

fn open_msg(payee: &Addr, key: &VoucherSigner) -> OpenChannel {
    OpenChannel {
        payee: payee.to_string(),
        pubkey: key.public_key().into(),
        scheme: key.scheme(),
        challenge_period: None,
        listing: None,
    }
}

/// One channel of 1,000 ucity from `payer` to `payee`.
fn world() -> World {
    let mut sim = Sim::new();
    let payer = sim.addr("payer");
    let payee = sim.addr("payee");
    let key = key("payer");
    sim.mint(&payer, DENOM, 1_000_000);
    sim.mint(&payer, "uother", 1_000_000);
    sim.exec(
        &payer,
        &coins(1_000, DENOM),
        ExecuteMsg::Open(open_msg(&payee, &key)),
    )
    .unwrap();
    World {
        sim,
        payer,
        payee,
        key,
    }
}

impl World {
    fn voucher(&self, id: u64, amount: u128) -> SignedVoucher {
        let fields = Voucher {
            chain_id: self.sim.env.block.chain_id.clone(),
            contract: self.sim.contract().to_string(),
            channel_id: id,
            amount: amount.into(),
            hashlock: None,
            expiry: None,
        };
        SignedVoucher {
            amount: amount.into(),
            hashlock: None,
            expiry: None,
            signature: self.key.sign(&fields).unwrap().to_vec().into(),
        }
    }

    fn claim_over(&mut self, id: u64, amount: u128, channel: &str) -> Result<u64, ContractError> {
        let voucher = self.voucher(id, amount);
        let payee = self.payee.clone();
        let res = self.sim.exec(
            &payee,
            &[],
            ExecuteMsg::Claim {
                channel_id: id,
                voucher,
                preimage: None,
                payout: Some(ibc(channel)),
            },
        )?;
        let id = res
            .attributes
            .iter()
            .find(|a| a.key == "payout_id")
            .unwrap()
            .value
            .parse()
            .unwrap();
        Ok(id)
    }

    fn total_paid(&self, denom: &str) -> u128 {
        let r: TotalPaidResponse = self
            .sim
            .query(QueryMsg::TotalPaid {
                payer: self.payer.to_string(),
                payee: self.payee.to_string(),
                asset: AssetInfo::Native(denom.into()),
            })
            .unwrap();
        r.total.u128()
    }

    fn credit(&self, denom: &str) -> u128 {
        let r: CreditResponse = self
            .sim
            .query(QueryMsg::Credit {
                payee: self.payee.to_string(),
                denom: denom.into(),
            })
            .unwrap();
        r.amount.u128()
    }

    fn channel(&self, id: u64) -> ChannelResponse {
        self.sim
            .query(QueryMsg::Channel { channel_id: id })
            .unwrap()
    }

    fn reserves(&self, denom: &str) -> ReservesResponse {
        self.sim
            .query(QueryMsg::Reserves {
                asset: AssetInfo::Native(denom.into()),
            })
            .unwrap()
    }

    /// The contract holds exactly its channels' balances plus credits (plus
    /// `surplus` nobody owns), and reserves no less than it owes.
    fn assert_conserved(&self, channels: u64, denom: &str, surplus: u128) {
        let owed: u128 = (1..=channels)
            .map(|id| self.channel(id))
            .filter(|c| c.asset == AssetInfo::Native(denom.into()))
            .map(|c| c.balance.u128())
            .sum::<u128>()
            + self.credit(denom);
        let held = self.sim.balance(&self.sim.contract(), denom);
        assert_eq!(held, owed + surplus, "{denom}: balance vs bookkeeping");
        let r = self.reserves(denom);
        assert_eq!(r.balance.u128(), held);
        assert!(
            r.reserved.u128() >= owed,
            "reserved {} < owed {owed}",
            r.reserved
        );
        assert!(
            r.sweepable.u128() <= surplus,
            "sweepable {} > surplus {surplus}",
            r.sweepable
        );
    }
}

fn ibc(channel: &str) -> Payout {
    Payout::Ibc {
        channel: channel.into(),
        receiver: "osmo1receiver".into(),
        timeout_seconds: 600,
    }
}

#[test]
fn a_payout_records_the_sequence_its_transfer_reply_reports() {
    let mut w = world();
    let voucher = w.voucher(1, 400);
    let payee = w.payee.clone();
    let res = w
        .sim
        .exec(
            &payee,
            &[],
            ExecuteMsg::Claim {
                channel_id: 1,
                voucher,
                preimage: None,
                payout: Some(ibc(IBC_CHANNEL)),
            },
        )
        .unwrap();
    let sub = &res.messages[0];
    assert_eq!(
        (sub.id, sub.reply_on.clone()),
        (REPLY_PAYOUT, ReplyOn::Success)
    );
    let CosmosMsg::Ibc(IbcMsg::Transfer {
        channel_id,
        to_address,
        amount,
        memo,
        ..
    }) = &sub.msg
    else {
        panic!("{:?}", sub.msg);
    };
    assert_eq!(
        (channel_id.as_str(), to_address.as_str()),
        (IBC_CHANNEL, "osmo1receiver")
    );
    assert_eq!(amount, &cosmwasm_std::Coin::new(400u128, DENOM));
    let memo: serde_json::Value = serde_json::from_str(memo.as_deref().unwrap()).unwrap();
    assert_eq!(
        memo["src_callback"],
        serde_json::json!({"address": w.sim.contract(), "gas_limit": CALLBACK_GAS_LIMIT.to_string()})
    );
    let p: PayoutResponse = w.sim.query(QueryMsg::Payout { payout_id: 1 }).unwrap();
    assert_eq!((p.ibc_channel.as_str(), p.sequence), (IBC_CHANNEL, 1));
    assert_eq!(p.amount, cosmwasm_std::Coin::new(400u128, DENOM));
    assert!(!p.confirmed);
    // In flight: not paid yet, and the tokens are escrowed.
    assert_eq!(w.total_paid(DENOM), 0);
    assert_eq!(w.sim.balance(&w.sim.contract(), DENOM), 600);
    w.assert_conserved(1, DENOM, 0);
}

#[test]
fn only_an_error_acknowledgement_or_a_timeout_credits_the_payee() {
    for (fate, credited) in [
        (Fate::Success, false),
        (Fate::ErrorAck, true),
        (Fate::EmptyAck, false),
        (Fate::OddAck, false),
        (Fate::Timeout, true),
    ] {
        let mut w = world();
        let id = w.claim_over(1, 400, IBC_CHANNEL).unwrap();
        let res = w.sim.settle(0, fate).unwrap();
        let outcome = res.attributes.iter().find(|a| a.key == "outcome").unwrap();
        let want = match fate {
            Fate::ErrorAck => "error_ack",
            Fate::Timeout => "timeout",
            _ => "delivered",
        };
        assert_eq!(outcome.value, want, "{fate:?}");
        assert_eq!(w.credit(DENOM), if credited { 400 } else { 0 }, "{fate:?}");
        // Delivered or credited here, the payee has it: it counts as paid.
        assert_eq!(w.total_paid(DENOM), 400, "{fate:?}");
        assert_eq!(
            w.sim
                .query::<PayoutResponse>(QueryMsg::Payout { payout_id: id }),
            Err(ContractError::PayoutNotFound { id })
        );
        w.assert_conserved(1, DENOM, 0);
    }
}

#[test]
fn an_empty_acknowledgement_is_a_delivery_not_a_refund() {
    // ibc-go's ICS-20 keeps the tokens escrowed on `{}` (not an error ack):
    // crediting it back would pay the payee twice.
    let mut w = world();
    w.claim_over(1, 400, IBC_CHANNEL).unwrap();
    w.sim.settle(0, Fate::EmptyAck).unwrap();
    assert_eq!(w.credit(DENOM), 0);
    assert_eq!(w.sim.balance(&w.sim.contract(), DENOM), 600);
    w.assert_conserved(1, DENOM, 0);
}

#[test]
fn an_acknowledgement_that_is_neither_result_nor_error_is_a_delivery() {
    let mut w = world();
    w.claim_over(1, 400, IBC_CHANNEL).unwrap();
    w.sim.settle(0, Fate::OddAck).unwrap();
    assert_eq!(w.credit(DENOM), 0);
    w.assert_conserved(1, DENOM, 0);
}

#[test]
fn callbacks_for_unknown_packets_change_nothing() {
    let mut w = world();
    w.claim_over(1, 400, IBC_CHANNEL).unwrap();
    let ours = w.sim.in_flight[0].packet.clone();
    let mut strangers = vec![];
    // Same memo and channel, another sequence (another packet).
    let mut p = ours.clone();
    p.sequence = 999;
    strangers.push(p);
    // Same sequence on another channel.
    let mut p = ours.clone();
    p.src.channel_id = "channel-8".into();
    strangers.push(p);
    // Same channel and sequence on another port.
    let mut p = ours.clone();
    p.src.port_id = "wasm.contract".into();
    strangers.push(p);
    for packet in strangers {
        for fate in [Fate::ErrorAck, Fate::Timeout, Fate::Success] {
            let res = w.sim.callback(packet.clone(), fate).unwrap();
            assert!(res
                .attributes
                .iter()
                .any(|a| a.key == "outcome" && a.value == "unknown_packet"));
        }
    }
    assert_eq!(w.credit(DENOM), 0);
    assert_eq!(w.total_paid(DENOM), 0, "still in flight");
    // Our packet still settles.
    w.sim.settle(0, Fate::Timeout).unwrap();
    assert_eq!(w.credit(DENOM), 400);
    w.assert_conserved(1, DENOM, 0);
}

#[test]
fn a_callback_whose_packet_data_is_not_what_we_sent_still_settles() {
    // Matched by (channel, sequence) alone: packet data the contract cannot
    // parse, or a memo naming another payout, cannot strand the payout.
    let other_memo = br#"{"memo":"{\"wevalue_payout\":\"99\"}"}"#;
    for data in [&b"not json"[..], b"{}", other_memo] {
        let mut w = world();
        w.claim_over(1, 400, IBC_CHANNEL).unwrap();
        w.sim.in_flight[0].packet.data = cosmwasm_std::Binary::from(data.to_vec());
        let res = w.sim.settle(0, Fate::ErrorAck).unwrap();
        assert!(res
            .attributes
            .iter()
            .any(|a| a.key == "outcome" && a.value == "error_ack"));
        assert_eq!(w.credit(DENOM), 400);
        assert_eq!(w.total_paid(DENOM), 400);
        w.assert_conserved(1, DENOM, 0);
    }
}

#[test]
fn a_second_callback_for_a_settled_payout_changes_nothing() {
    let mut w = world();
    w.claim_over(1, 400, IBC_CHANNEL).unwrap();
    let packet = w.sim.in_flight[0].packet.clone();
    w.sim.settle(0, Fate::Success).unwrap();
    for fate in [Fate::ErrorAck, Fate::Timeout, Fate::Success] {
        let res = w.sim.callback(packet.clone(), fate).unwrap();
        assert!(res.attributes.iter().any(|a| a.value == "unknown_packet"));
    }
    assert_eq!(w.credit(DENOM), 0);
    assert_eq!(w.total_paid(DENOM), 400);
    w.assert_conserved(1, DENOM, 0);
}

#[test]
fn payouts_go_only_over_allowlisted_channels() {
    let mut w = world();
    assert_eq!(
        w.claim_over(1, 100, "channel-99"),
        Err(ContractError::IbcChannelNotAllowed {
            channel: "channel-99".into()
        })
    );
    assert!(matches!(
        w.claim_over(1, 100, "transfer"),
        Err(ContractError::InvalidIbcPayout { .. })
    ));
    let owner = w.sim.owner.clone();
    let allow = |add: Vec<String>, remove: Vec<String>| ExecuteMsg::UpdateAllowlists {
        add_cw20s: vec![],
        remove_cw20s: vec![],
        add_ibc_channels: add,
        remove_ibc_channels: remove,
    };
    let payee = w.payee.clone();
    assert!(matches!(
        w.sim
            .exec(&payee, &[], allow(vec!["channel-99".into()], vec![])),
        Err(ContractError::Ownership(_))
    ));
    w.sim
        .exec(&owner, &[], allow(vec!["channel-99".into()], vec![]))
        .unwrap();
    w.claim_over(1, 100, "channel-99").unwrap();
    w.sim
        .exec(&owner, &[], allow(vec![], vec!["channel-99".into()]))
        .unwrap();
    assert_eq!(
        w.claim_over(1, 200, "channel-99"),
        Err(ContractError::IbcChannelNotAllowed {
            channel: "channel-99".into()
        })
    );
    // A payout already in flight on it still settles.
    w.sim.settle(0, Fate::ErrorAck).unwrap();
    assert_eq!(w.credit(DENOM), 100);
    w.assert_conserved(1, DENOM, 0);
}

#[test]
fn a_timeout_is_judged_by_the_counterparty_clock() {
    let mut w = world();
    w.claim_over(1, 400, IBC_CHANNEL).unwrap();
    // This chain's clock passes the packet's timeout; the counterparty's
    // has not, and it receives the packet in time.
    w.sim.advance(3_600);
    let p: PayoutResponse = w.sim.query(QueryMsg::Payout { payout_id: 1 }).unwrap();
    assert!(w.sim.env.block.time > p.timeout);
    // Nothing settles it as refunded on this chain's say-so: the payee may
    // only confirm it delivered, which never credits.
    let payee = w.payee.clone();
    w.sim
        .exec(&payee, &[], ExecuteMsg::ConfirmPayout { payout_id: 1 })
        .unwrap();
    assert_eq!(w.credit(DENOM), 0);
    // The acknowledgement arrives: delivered, nothing credited.
    w.sim.settle(0, Fate::Success).unwrap();
    assert_eq!(w.credit(DENOM), 0);
    assert_eq!(w.total_paid(DENOM), 400);
    // A timeout proven on the counterparty's clock refunds, even while
    // this chain's clock is still before the timeout.
    w.claim_over(1, 700, IBC_CHANNEL).unwrap();
    w.sim.settle(0, Fate::Timeout).unwrap();
    assert_eq!(w.credit(DENOM), 300);
    w.assert_conserved(1, DENOM, 0);
}

#[test]
fn a_callback_that_runs_out_of_gas_leaves_the_payout_recoverable() {
    let mut w = world();
    w.claim_over(1, 400, IBC_CHANNEL).unwrap();
    // Out of gas below the memo's limit: ibc-go reverts the relayer's whole
    // transaction (nothing happened), and the relayer retries.
    let p: PayoutResponse = w.sim.query(QueryMsg::Payout { payout_id: 1 }).unwrap();
    assert_eq!(p.sequence, 1);
    assert_eq!(w.total_paid(DENOM), 0);
    w.sim.settle(0, Fate::ErrorAck).unwrap();
    assert_eq!(w.credit(DENOM), 400);

    // Lost for good (out of the memo's gas limit): the refund arrives
    // without its callback. Nothing is credited twice and the refunded
    // tokens are the only thing the owner's sweep can move.
    w.claim_over(1, 900, IBC_CHANNEL).unwrap();
    w.sim.lose_callback(0, Fate::Timeout);
    assert_eq!(w.credit(DENOM), 400);
    w.assert_conserved(1, DENOM, 500);
    let r = w.reserves(DENOM);
    // Reserved: the open channel's whole deposit plus the credit.
    assert_eq!(
        (r.balance.u128(), r.reserved.u128(), r.sweepable.u128()),
        (1_000 - 900 + 400 + 500, 1_000 + 400, 0)
    );
    // The channel's claimed amount stays reserved until it closes.
    let payee = w.payee.clone();
    w.sim
        .exec(
            &payee,
            &[],
            ExecuteMsg::Close {
                channel_id: 1,
                voucher: None,
                preimage: None,
                payout: None,
            },
        )
        .unwrap();
    assert_eq!(w.reserves(DENOM).sweepable.u128(), 500);
    let sweep = |recipient: &Addr| ExecuteMsg::Sweep {
        asset: AssetInfoUnchecked::Native(DENOM.into()),
        recipient: recipient.to_string(),
    };
    assert!(matches!(
        w.sim.exec(&payee, &[], sweep(&payee)),
        Err(ContractError::Ownership(_))
    ));
    let owner = w.sim.owner.clone();
    let before = w.sim.balance(&payee, DENOM);
    w.sim.exec(&owner, &[], sweep(&payee)).unwrap();
    assert_eq!(w.sim.balance(&payee, DENOM) - before, 500);
    assert_eq!(
        w.sim.exec(&owner, &[], sweep(&payee)),
        Err(ContractError::NothingToSweep {
            asset: format!("native:{DENOM}")
        })
    );
    // The credit is untouched and still withdrawable.
    w.assert_conserved(1, DENOM, 0);
    w.sim
        .exec(
            &payee,
            &[],
            ExecuteMsg::WithdrawCredit {
                denom: DENOM.into(),
            },
        )
        .unwrap();
    assert_eq!(w.sim.balance(&w.sim.contract(), DENOM), 0);
    // The lost payout stays pending until its payee confirms it.
    assert_eq!(w.total_paid(DENOM), 400);
    let stranger = w.sim.addr("stranger");
    assert_eq!(
        w.sim
            .exec(&stranger, &[], ExecuteMsg::ConfirmPayout { payout_id: 2 }),
        Err(ContractError::NotPayoutPayee { id: 2 })
    );
    w.sim
        .exec(&payee, &[], ExecuteMsg::ConfirmPayout { payout_id: 2 })
        .unwrap();
    assert_eq!(w.total_paid(DENOM), 900);
}

#[test]
fn a_refund_after_a_confirmation_is_still_credited() {
    let mut w = world();
    w.claim_over(1, 400, IBC_CHANNEL).unwrap();
    let payee = w.payee.clone();
    w.sim
        .exec(&payee, &[], ExecuteMsg::ConfirmPayout { payout_id: 1 })
        .unwrap();
    assert_eq!(w.total_paid(DENOM), 400);
    // Confirming twice is harmless.
    w.sim
        .exec(&payee, &[], ExecuteMsg::ConfirmPayout { payout_id: 1 })
        .unwrap();
    w.sim.settle(0, Fate::Timeout).unwrap();
    assert_eq!(w.credit(DENOM), 400);
    assert_eq!(w.total_paid(DENOM), 400);
    w.assert_conserved(1, DENOM, 0);
}

#[test]
fn a_reply_without_a_sequence_fails_the_claim() {
    use cosmwasm_std::{to_json_binary, Reply, SubMsgResponse, SubMsgResult};
    let mut w = world();
    w.claim_over(1, 400, IBC_CHANNEL).unwrap();
    #[allow(deprecated)]
    let reply = |responses| Reply {
        id: REPLY_PAYOUT,
        payload: to_json_binary(&1u64).unwrap(),
        gas_used: 0,
        result: SubMsgResult::Ok(SubMsgResponse {
            events: vec![],
            data: None,
            msg_responses: responses,
        }),
    };
    let env = w.sim.env.clone();
    let e = payment_channel::contract::reply(w.sim.deps.as_mut(), env.clone(), reply(vec![]))
        .unwrap_err();
    assert!(
        matches!(e, ContractError::PayoutReply { id: 1, .. }),
        "{e:?}"
    );
    // A sequence already recorded is refused too.
    let again = vec![cosmwasm_std::MsgResponse {
        type_url: "/ibc.applications.transfer.v1.MsgTransferResponse".into(),
        value: sim::transfer_response(1),
    }];
    let e = payment_channel::contract::reply(w.sim.deps.as_mut(), env, reply(again)).unwrap_err();
    assert!(
        matches!(e, ContractError::PayoutReply { id: 1, .. }),
        "{e:?}"
    );
}

#[test]
fn transfer_responses_decode_as_protobuf() {
    assert_eq!(decode_transfer_sequence(&[0x08, 0x01]), Some(1));
    assert_eq!(decode_transfer_sequence(&[0x08, 0xac, 0x02]), Some(300));
    assert_eq!(
        decode_transfer_sequence(sim::transfer_response(u64::MAX).as_slice()),
        Some(u64::MAX)
    );
    // An unknown length-delimited field is skipped.
    assert_eq!(
        decode_transfer_sequence(&[0x12, 0x02, 0xff, 0xff, 0x08, 0x07]),
        Some(7)
    );
    for bad in [
        &[][..],
        &[0x08],
        &[0x08, 0x00],
        &[0x08, 0x80],
        &[0x12, 0x05, 0x00],
    ] {
        assert_eq!(decode_transfer_sequence(bad), None, "{bad:?}");
    }
}

#[test]
fn a_batch_pays_out_over_ibc_once_per_denom() {
    let mut w = world();
    let payer2 = w.sim.addr("payer2");
    w.sim.mint(&payer2, DENOM, 10_000);
    let payee = w.payee.clone();
    let payer = w.payer.clone();
    let open = ExecuteMsg::Open(open_msg(&payee, &w.key));
    w.sim
        .exec(&payer2, &coins(1_000, DENOM), open.clone())
        .unwrap(); // 2
    w.sim.exec(&payer, &coins(1_000, "uother"), open).unwrap(); // 3
    let claims = [(1, 100), (2, 200), (3, 300)]
        .into_iter()
        .map(|(id, amount)| BatchClaim {
            channel_id: id,
            voucher: w.voucher(id, amount),
            preimage: None,
        })
        .collect();
    let res = w
        .sim
        .exec(
            &payee,
            &[],
            ExecuteMsg::ClaimBatch {
                claims,
                payout: Some(ibc(IBC_CHANNEL)),
            },
        )
        .unwrap();
    assert_eq!(res.messages.len(), 2);
    let sent: Vec<(String, u128, u64)> = w
        .sim
        .in_flight
        .iter()
        .map(|f| (f.denom.clone(), f.amount, f.packet.sequence))
        .collect();
    assert_eq!(
        sent,
        vec![(DENOM.into(), 300, 1), ("uother".into(), 300, 2)]
    );
    let total = |sim: &Sim, payer: &Addr, denom: &str| -> u128 {
        let r: TotalPaidResponse = sim
            .query(QueryMsg::TotalPaid {
                payer: payer.to_string(),
                payee: payee.to_string(),
                asset: AssetInfo::Native(denom.into()),
            })
            .unwrap();
        r.total.u128()
    };
    assert_eq!(
        (total(&w.sim, &payer, DENOM), total(&w.sim, &payer2, DENOM)),
        (0, 0)
    );
    w.sim.settle(0, Fate::Success).unwrap();
    assert_eq!(
        (total(&w.sim, &payer, DENOM), total(&w.sim, &payer2, DENOM)),
        (100, 200)
    );
    w.sim.settle(0, Fate::Timeout).unwrap();
    assert_eq!(w.credit("uother"), 300);
    assert_eq!(w.credit(DENOM), 0);
    assert_eq!(total(&w.sim, &payer, "uother"), 300);
    w.assert_conserved(3, DENOM, 0);
    w.assert_conserved(3, "uother", 0);
}

#[test]
fn ibc_payout_requests_are_validated() {
    let mut w = world();
    let token = w.sim.token.clone();
    let payer = w.payer.clone();
    let payee = w.payee.clone();
    w.sim.mint_cw20(&payer, 1_000);
    w.sim
        .send_cw20(
            &payer,
            1_000,
            &payment_channel::msg::ReceiveMsg::Open(open_msg(&payee, &w.key)),
        )
        .unwrap();
    assert_eq!(w.channel(2).asset, AssetInfo::Cw20(token));
    assert_eq!(
        w.claim_over(2, 5, IBC_CHANNEL),
        Err(ContractError::Cw20OverIbc)
    );
    let v = w.voucher(1, 5);
    let claim = |payout| ExecuteMsg::Claim {
        channel_id: 1,
        voucher: v.clone(),
        preimage: None,
        payout: Some(payout),
    };
    for bad in [
        Payout::Ibc {
            channel: IBC_CHANNEL.into(),
            receiver: " osmo1x".into(),
            timeout_seconds: 600,
        },
        Payout::Ibc {
            channel: IBC_CHANNEL.into(),
            receiver: "osmo1x".into(),
            timeout_seconds: 59,
        },
        Payout::Ibc {
            channel: IBC_CHANNEL.into(),
            receiver: "osmo1x".into(),
            timeout_seconds: 7 * 24 * 3600 + 1,
        },
    ] {
        assert!(
            matches!(
                w.sim.exec(&payee, &[], claim(bad.clone())),
                Err(ContractError::InvalidIbcPayout { .. })
            ),
            "{bad:?}"
        );
    }
    // A watchtower may claim but not send the proceeds elsewhere.
    let tower = w.sim.addr("tower");
    w.sim
        .exec(
            &payee,
            &[],
            ExecuteMsg::AuthorizeWatchtower {
                watchtower: tower.to_string(),
            },
        )
        .unwrap();
    assert_eq!(
        w.sim.exec(&tower, &[], claim(ibc(IBC_CHANNEL))),
        Err(ContractError::PayoutNotPayee)
    );
    assert_eq!(w.channel(1).claimed, Uint128::zero());
    w.assert_conserved(1, DENOM, 0);
}

#[test]
fn a_credit_is_withdrawn_by_its_payee_only() {
    let mut w = world();
    w.claim_over(1, 800, IBC_CHANNEL).unwrap();
    w.sim.settle(0, Fate::ErrorAck).unwrap();
    let stranger = w.sim.addr("stranger");
    assert_eq!(
        w.sim.exec(
            &stranger,
            &[],
            ExecuteMsg::WithdrawCredit {
                denom: DENOM.into()
            }
        ),
        Err(ContractError::NoCredit {
            denom: DENOM.into()
        })
    );
    let payee = w.payee.clone();
    let before = w.sim.balance(&payee, DENOM);
    w.sim
        .exec(
            &payee,
            &[],
            ExecuteMsg::WithdrawCredit {
                denom: DENOM.into(),
            },
        )
        .unwrap();
    assert_eq!(w.sim.balance(&payee, DENOM) - before, 800);
    assert_eq!(w.credit(DENOM), 0);
    assert_eq!(w.channel(1).status, ChannelStatus::Open);
    w.assert_conserved(1, DENOM, 0);
}
