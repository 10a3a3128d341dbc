//! Deposits from the hub (mock deps, `sim`): an ICS-20 transfer to the
//! contract whose memo carries a destination callback and a `HubDeposit`
//! opens or tops up a channel in the name of the payer that authorized the
//! hub sender; anything else is refused, which refunds it on the hub.

mod sim;

use cosmwasm_std::{Addr, Uint128};
use payment_channel::ibc::deposit::{ibc_denom, receive_denom};
use payment_channel::msg::{
    ChannelResponse, ExecuteMsg, HubSender, HubSendersResponse, QueryMsg, SignedVoucher,
};
use payment_channel::ContractError;
use sim::{hub_packet, Sim, HUB_CHANNEL, IBC_CHANNEL};
use wevalue_common::asset::AssetInfo;
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{Voucher, VoucherScheme};

const HUB_SENDER: &str = "cosmos1hubbuyerxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

fn key() -> VoucherSigner {
    VoucherSigner::from_secret(VoucherScheme::Ed25519, [9; 32], "cosmwasm").unwrap()
}

/// The memo a hub wallet or script sends, exactly as the README shows it.
fn open_memo(sim: &Sim, payer: &Addr, payee: &Addr) -> String {
    let pubkey = cosmwasm_std::Binary::from(key().public_key()).to_base64();
    format!(
        r#"{{"dest_callback":{{"address":"{contract}","gas_limit":"500000"}},"payment_channel":{{"open":{{"payer":"{payer}","channel":{{"payee":"{payee}","pubkey":"{pubkey}","scheme":"ed25519","challenge_period":null,"listing":{{"registry":"{registry}","listing_id":7}}}}}}}}}}"#,
        contract = sim.contract(),
        registry = sim.addr("registry"),
    )
}

fn top_up_memo(sim: &Sim, channel_id: u64) -> String {
    format!(
        r#"{{"dest_callback":{{"address":"{}"}},"payment_channel":{{"top_up":{{"channel_id":{channel_id}}}}}}}"#,
        sim.contract()
    )
}

fn authorize(sim: &mut Sim, payer: &Addr, channel: &str, sender: &str) {
    sim.exec(
        payer,
        &[],
        ExecuteMsg::AuthorizeHubSender {
            channel: channel.into(),
            sender: sender.into(),
        },
    )
    .unwrap();
}

fn channel(sim: &Sim, id: u64) -> ChannelResponse {
    sim.query(QueryMsg::Channel { channel_id: id }).unwrap()
}

/// The voucher denom of `uhub` arriving over IBC_CHANNEL.
fn uhub() -> String {
    ibc_denom(&format!("transfer/{IBC_CHANNEL}/uhub"))
}

#[test]
fn denoms_are_derived_as_ics20_does() {
    // The well-known ATOM on Osmosis: sha256("transfer/channel-0/uatom").
    let packet = hub_packet("channel-0", HUB_SENDER, "x", "uatom", 1, "");
    let mut packet = packet;
    packet.src.channel_id = "channel-141".into();
    assert_eq!(
        receive_denom(&packet, "uatom"),
        "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2"
    );
    let packet = hub_packet(IBC_CHANNEL, HUB_SENDER, "x", "ucity", 1, "");
    // A token of this chain coming home over the hop it left by.
    assert_eq!(
        receive_denom(&packet, &format!("transfer/{HUB_CHANNEL}/ucity")),
        "ucity"
    );
    // Coming home, but from further away: still a voucher.
    assert_eq!(
        receive_denom(
            &packet,
            &format!("transfer/{HUB_CHANNEL}/transfer/channel-5/uatom")
        ),
        ibc_denom("transfer/channel-5/uatom")
    );
    assert!(ibc_denom("transfer/channel-5/uatom").starts_with("ibc/"));
    // A hub denom with slashes but no hop (a tokenfactory denom) gains ours.
    assert_eq!(
        receive_denom(&packet, "factory/cosmos1x/uhub"),
        ibc_denom(&format!("transfer/{IBC_CHANNEL}/factory/cosmos1x/uhub"))
    );
    assert_eq!(ibc_denom("factory/cosmos1x/uhub"), "factory/cosmos1x/uhub");
}

#[test]
fn a_hub_deposit_opens_a_channel_for_the_payer_that_authorized_the_sender() {
    let mut sim = Sim::new();
    let payer = sim.addr("city-buyer");
    let payee = sim.addr("seller");
    let contract = sim.contract().to_string();
    authorize(&mut sim, &payer, IBC_CHANNEL, HUB_SENDER);
    let r: HubSendersResponse = sim
        .query(QueryMsg::HubSenders {
            payer: payer.to_string(),
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(
        r.senders,
        vec![HubSender {
            channel: IBC_CHANNEL.into(),
            sender: HUB_SENDER.into()
        }]
    );
    let memo = open_memo(&sim, &payer, &payee);
    let res = sim
        .hub_transfer(IBC_CHANNEL, HUB_SENDER, &contract, "uhub", 5_000, &memo)
        .unwrap();
    assert_eq!(res.attributes[0].value, "hub_deposit");
    let c = channel(&sim, 1);
    assert_eq!(
        (c.payer.clone(), c.payee.clone()),
        (payer.clone(), payee.clone())
    );
    assert_eq!(c.asset, AssetInfo::Native(uhub()));
    assert_eq!(c.deposit, Uint128::new(5_000));
    assert_eq!(c.listing.unwrap().listing_id, 7);
    // Top-ups from the same sender.
    sim.hub_transfer(
        IBC_CHANNEL,
        HUB_SENDER,
        &contract,
        "uhub",
        1_000,
        &top_up_memo(&sim, 1),
    )
    .unwrap();
    assert_eq!(channel(&sim, 1).deposit, Uint128::new(6_000));
    // The seller claims; the payer closes here and is refunded here.
    let fields = Voucher {
        chain_id: sim.env.block.chain_id.clone(),
        contract: contract.clone(),
        channel_id: 1,
        amount: Uint128::new(2_500),
        hashlock: None,
        expiry: None,
    };
    let voucher = SignedVoucher {
        amount: fields.amount,
        hashlock: None,
        expiry: None,
        signature: key().sign(&fields).unwrap().to_vec().into(),
    };
    sim.exec(
        &payee,
        &[],
        ExecuteMsg::Claim {
            channel_id: 1,
            voucher,
            preimage: None,
            payout: None,
        },
    )
    .unwrap();
    sim.exec(&payer, &[], ExecuteMsg::StartClose { channel_id: 1 })
        .unwrap();
    sim.advance(3_600);
    let anyone = sim.addr("anyone");
    sim.exec(&anyone, &[], ExecuteMsg::Finalize { channel_id: 1 })
        .unwrap();
    assert_eq!(sim.balance(&payee, &uhub()), 2_500);
    assert_eq!(sim.balance(&payer, &uhub()), 3_500);
    assert_eq!(sim.balance(&sim.contract(), &uhub()), 0);
}

#[test]
fn nobody_opens_or_funds_a_channel_in_someone_elses_name() {
    let mut sim = Sim::new();
    let payer = sim.addr("city-buyer");
    let payee = sim.addr("seller");
    let contract = sim.contract().to_string();
    let memo = open_memo(&sim, &payer, &payee);
    let unauthorized = || ContractError::HubSenderNotAuthorized {
        payer: payer.to_string(),
        channel: IBC_CHANNEL.into(),
        sender: HUB_SENDER.into(),
    };
    // Not authorized: refused, and the receive is reverted.
    assert_eq!(
        sim.hub_transfer(IBC_CHANNEL, HUB_SENDER, &contract, "uhub", 5_000, &memo),
        Err(unauthorized())
    );
    assert_eq!(sim.balance(&sim.contract(), &uhub()), 0);
    // Authorized for another sender, or on another channel: still refused.
    authorize(&mut sim, &payer, IBC_CHANNEL, "cosmos1other");
    authorize(&mut sim, &payer, "channel-9", HUB_SENDER);
    assert_eq!(
        sim.hub_transfer(IBC_CHANNEL, HUB_SENDER, &contract, "uhub", 5_000, &memo),
        Err(unauthorized())
    );
    authorize(&mut sim, &payer, IBC_CHANNEL, HUB_SENDER);
    sim.hub_transfer(IBC_CHANNEL, HUB_SENDER, &contract, "uhub", 5_000, &memo)
        .unwrap();
    // Another hub account cannot top up this payer's channel.
    let mallory = sim.addr("mallory");
    authorize(&mut sim, &mallory, IBC_CHANNEL, "cosmos1mallory");
    assert_eq!(
        sim.hub_transfer(
            IBC_CHANNEL,
            "cosmos1mallory",
            &contract,
            "uhub",
            1,
            &top_up_memo(&sim, 1)
        ),
        Err(ContractError::HubSenderNotAuthorized {
            payer: payer.to_string(),
            channel: IBC_CHANNEL.into(),
            sender: "cosmos1mallory".into(),
        })
    );
    // Revoked: refused again.
    sim.exec(
        &payer,
        &[],
        ExecuteMsg::RevokeHubSender {
            channel: IBC_CHANNEL.into(),
            sender: HUB_SENDER.into(),
        },
    )
    .unwrap();
    assert_eq!(
        sim.hub_transfer(
            IBC_CHANNEL,
            HUB_SENDER,
            &contract,
            "uhub",
            1,
            &top_up_memo(&sim, 1)
        ),
        Err(unauthorized())
    );
    assert_eq!(channel(&sim, 1).deposit, Uint128::new(5_000));
    assert_eq!(sim.balance(&sim.contract(), &uhub()), 5_000);
}

#[test]
fn deposits_that_are_not_what_they_claim_are_refused() {
    let mut sim = Sim::new();
    let payer = sim.addr("city-buyer");
    let payee = sim.addr("seller");
    let contract = sim.contract().to_string();
    authorize(&mut sim, &payer, IBC_CHANNEL, HUB_SENDER);
    authorize(&mut sim, &payer, "channel-9", HUB_SENDER);
    let memo = open_memo(&sim, &payer, &payee);
    let is_deposit_error =
        |r: Result<_, ContractError>| matches!(r, Err(ContractError::HubDeposit { .. }));
    // A channel the owner did not allow.
    assert_eq!(
        sim.hub_transfer("channel-9", HUB_SENDER, &contract, "uhub", 5_000, &memo),
        Err(ContractError::IbcChannelNotAllowed {
            channel: "channel-9".into()
        })
    );
    // No request, or not JSON.
    let plain = format!(r#"{{"dest_callback":{{"address":"{contract}"}}}}"#);
    for memo in [plain.as_str(), "", "not json"] {
        assert!(is_deposit_error(sim.hub_transfer(
            IBC_CHANNEL,
            HUB_SENDER,
            &contract,
            "uhub",
            5_000,
            memo
        )));
    }
    // A top-up in another denom than the channel's.
    sim.hub_transfer(IBC_CHANNEL, HUB_SENDER, &contract, "uhub", 5_000, &memo)
        .unwrap();
    // The transfer went to someone else, naming us as the callback, while
    // the contract holds enough of the denom for its balance check to pass.
    let other = sim.addr("someone").to_string();
    let e = sim
        .hub_transfer(
            IBC_CHANNEL,
            HUB_SENDER,
            &other,
            "uhub",
            1_000,
            &top_up_memo(&sim, 1),
        )
        .unwrap_err();
    assert_eq!(
        e,
        ContractError::HubDeposit {
            reason: format!("the transfer went to {other}, not to this contract")
        }
    );
    assert_eq!(sim.balance(&sim.addr("someone"), &uhub()), 0, "reverted");
    assert!(matches!(
        sim.hub_transfer(
            IBC_CHANNEL,
            HUB_SENDER,
            &contract,
            "uother",
            5,
            &top_up_memo(&sim, 1)
        ),
        Err(ContractError::WrongAsset { .. })
    ));
    // Nothing arrived although the packet says so (no balance behind it).
    let packet = hub_packet(
        IBC_CHANNEL,
        HUB_SENDER,
        &contract,
        "uhub",
        99_999,
        &top_up_memo(&sim, 1),
    );
    let env = sim.env.clone();
    let e = payment_channel::contract::ibc_destination_callback(
        sim.deps.as_mut(),
        env.clone(),
        cosmwasm_std::IbcDestinationCallbackMsg {
            packet: packet.clone(),
            ack: cosmwasm_std::IbcAcknowledgement::new(br#"{"result":"AQ=="}"#.to_vec()),
        },
    )
    .unwrap_err();
    assert!(matches!(e, ContractError::HubDeposit { .. }), "{e:?}");
    // A receive that failed (error acknowledgement) credited nothing.
    let res = payment_channel::contract::ibc_destination_callback(
        sim.deps.as_mut(),
        env,
        cosmwasm_std::IbcDestinationCallbackMsg {
            packet,
            ack: cosmwasm_std::IbcAcknowledgement::new(br#"{"error":"x"}"#.to_vec()),
        },
    )
    .unwrap();
    assert!(res.attributes.iter().any(|a| a.value == "not_received"));
    assert_eq!(channel(&sim, 1).deposit, Uint128::new(5_000));
    assert_eq!(sim.balance(&sim.contract(), &uhub()), 5_000);
}

#[test]
fn hub_sender_authorizations_are_validated() {
    let mut sim = Sim::new();
    let payer = sim.addr("city-buyer");
    for (channel, sender) in [
        ("transfer", HUB_SENDER),
        (IBC_CHANNEL, ""),
        (IBC_CHANNEL, "a b"),
    ] {
        assert!(sim
            .exec(
                &payer,
                &[],
                ExecuteMsg::AuthorizeHubSender {
                    channel: channel.into(),
                    sender: sender.into(),
                },
            )
            .is_err());
    }
    assert_eq!(
        sim.exec(
            &payer,
            &[],
            ExecuteMsg::RevokeHubSender {
                channel: IBC_CHANNEL.into(),
                sender: HUB_SENDER.into(),
            },
        ),
        Err(ContractError::HubSenderNotAuthorized {
            payer: payer.to_string(),
            channel: IBC_CHANNEL.into(),
            sender: HUB_SENDER.into(),
        })
    );
}
