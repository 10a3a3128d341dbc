//! The optimized wasm (`artifacts/payment-channel.wasm`) in cosmwasm-vm:
//! every entry point, each signature scheme through the VM's own crypto
//! host functions (including ADR-036 address derivation and ed25519 batch
//! verification), hashlocks, closes, typed errors, the queries, and the IBC
//! entry points (`reply`, source and destination callbacks).

use cosmwasm_std::{coins, Addr, BankMsg, CosmosMsg, HexBinary, Uint128};
use payment_channel::msg::{
    BatchClaim, ChannelResponse, ChannelStatus, ExecuteMsg, Hashlock, InstantiateMsg, MigrateMsg,
    OpenChannel, QueryMsg, SignBytesResponse, SignedVoucher,
};
use wevalue_common::asset::AssetInfo;
use wevalue_common::purchase::TotalPaidResponse;
use wevalue_vm_harness::{user_addr, VmContract, BLOCK_SECONDS};
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{sha256, Voucher, VoucherScheme};

const DENOM: &str = "ucity";

fn key(scheme: VoucherScheme, label: &str) -> VoucherSigner {
    VoucherSigner::from_secret(scheme, sha256(label.as_bytes()), "wasm").unwrap()
}

fn setup() -> VmContract {
    let mut vm = VmContract::new("payment-channel");
    vm.instantiate(
        &user_addr("owner"),
        &[],
        &InstantiateMsg {
            owner: None,
            min_challenge_period: 3600,
            max_challenge_period: 86_400,
            max_batch_size: None,
        },
    )
    .unwrap();
    vm
}

fn open(vm: &mut VmContract, payer: &Addr, payee: &Addr, k: &VoucherSigner, amount: u128) -> u64 {
    let out = vm
        .execute(
            payer,
            &coins(amount, DENOM),
            &ExecuteMsg::Open(OpenChannel {
                payee: payee.to_string(),
                pubkey: k.public_key().into(),
                scheme: k.scheme(),
                challenge_period: None,
                listing: None,
            }),
        )
        .unwrap();
    out.attr("channel_id").unwrap().parse().unwrap()
}

fn voucher(
    vm: &VmContract,
    k: &VoucherSigner,
    id: u64,
    amount: u128,
    lock: Option<Hashlock>,
) -> SignedVoucher {
    let fields = Voucher {
        chain_id: vm.block.chain_id.clone(),
        contract: vm.address.to_string(),
        channel_id: id,
        amount: Uint128::new(amount),
        hashlock: lock,
        expiry: None,
    };
    SignedVoucher {
        amount: Uint128::new(amount),
        hashlock: lock,
        expiry: None,
        signature: k.sign(&fields).unwrap().to_vec().into(),
    }
}

fn claim_msg(id: u64, voucher: SignedVoucher, preimage: Option<HexBinary>) -> ExecuteMsg {
    ExecuteMsg::Claim {
        channel_id: id,
        voucher,
        preimage,
        payout: None,
    }
}

fn channel(vm: &mut VmContract, id: u64) -> ChannelResponse {
    vm.query(&QueryMsg::Channel { channel_id: id }).unwrap().0
}

#[test]
fn every_scheme_claims_in_the_vm() {
    let mut vm = setup();
    let buyer = user_addr("buyer");
    let seller = user_addr("seller");
    for scheme in [
        VoucherScheme::Secp256k1,
        VoucherScheme::Ed25519,
        VoucherScheme::Adr036,
    ] {
        let k = key(scheme, &scheme.to_string());
        let id = open(&mut vm, &buyer, &seller, &k, 1_000);
        let out = vm
            .execute(
                &seller,
                &[],
                &claim_msg(id, voucher(&vm, &k, id, 400, None), None),
            )
            .unwrap();
        assert_eq!(out.response.attributes[0].value, "claim");
        assert_eq!(out.attr("amount"), Some("400"));
        assert_eq!(
            out.response.messages[0].msg,
            CosmosMsg::Bank(BankMsg::Send {
                to_address: seller.to_string(),
                amount: coins(400, DENOM)
            })
        );
        // Replaying the same voucher, or one from another key, fails.
        let err = vm
            .execute(
                &seller,
                &[],
                &claim_msg(id, voucher(&vm, &k, id, 400, None), None),
            )
            .unwrap_err();
        assert!(err.contains("does not raise channel"), "{err}");
        let other = key(scheme, "mallory");
        let err = vm
            .execute(
                &seller,
                &[],
                &claim_msg(id, voucher(&vm, &other, id, 500, None), None),
            )
            .unwrap_err();
        assert!(err.contains("signature does not verify"), "{scheme}: {err}");
        let err = vm
            .execute(
                &seller,
                &[],
                &claim_msg(id, voucher(&vm, &k, id, 1_001, None), None),
            )
            .unwrap_err();
        assert!(err.contains("exceeds channel"), "{err}");
        let c = channel(&mut vm, id);
        assert_eq!(c.claimed, Uint128::new(400));
        assert_eq!(c.balance, Uint128::new(600));
    }
    let (paid, _): (TotalPaidResponse, _) = vm
        .query(&QueryMsg::TotalPaid {
            payer: buyer.to_string(),
            payee: seller.to_string(),
            asset: AssetInfo::Native(DENOM.into()),
        })
        .unwrap();
    assert_eq!(paid.total, Uint128::new(1_200));
}

#[test]
fn adr036_sign_doc_from_the_query_verifies() {
    let mut vm = setup();
    let k = key(VoucherScheme::Adr036, "keplr");
    let id = open(
        &mut vm,
        &user_addr("buyer"),
        &user_addr("seller"),
        &k,
        1_000,
    );
    let (r, _): (SignBytesResponse, _) = vm
        .query(&QueryMsg::VoucherSignBytes {
            channel_id: id,
            amount: Uint128::new(9),
            hashlock: None,
            expiry: None,
        })
        .unwrap();
    assert_eq!(r.adr036_signer.unwrap().as_str(), k.signer_address());
    let doc = r.adr036_sign_doc.unwrap();
    assert!(doc.starts_with(r#"{"account_number":"0","chain_id":"","fee":{"amount":[],"gas":"0"},"memo":"","msgs":[{"type":"sign/MsgSignData""#));
    assert_eq!(r.signed_message.as_slice(), sha256(doc.as_bytes()));
}

#[test]
fn batch_of_fifty_uses_batch_verification() {
    let mut vm = setup();
    let seller = user_addr("seller");
    let channels: Vec<(u64, VoucherSigner)> = (0..50)
        .map(|i| {
            let k = key(VoucherScheme::Ed25519, &format!("k{i}"));
            (
                open(&mut vm, &user_addr(&format!("payer{i}")), &seller, &k, 100),
                k,
            )
        })
        .collect();
    let items = |vm: &VmContract, amount| -> Vec<BatchClaim> {
        channels
            .iter()
            .map(|(id, k)| BatchClaim {
                channel_id: *id,
                voucher: voucher(vm, k, *id, amount, None),
                preimage: None,
            })
            .collect()
    };
    let out = vm
        .execute(
            &seller,
            &[],
            &ExecuteMsg::ClaimBatch {
                claims: items(&vm, 10),
                payout: None,
            },
        )
        .unwrap();
    assert_eq!(out.attr("count"), Some("50"));
    assert_eq!(out.response.messages.len(), 1);
    assert_eq!(
        out.response.messages[0].msg,
        CosmosMsg::Bank(BankMsg::Send {
            to_address: seller.to_string(),
            amount: coins(500, DENOM)
        })
    );
    let mut bad = items(&vm, 20);
    bad[37].voucher.amount = Uint128::new(21);
    let err = vm
        .execute(
            &seller,
            &[],
            &ExecuteMsg::ClaimBatch {
                claims: bad,
                payout: None,
            },
        )
        .unwrap_err();
    assert!(err.starts_with("batch claim 37:"), "{err}");
    let mut too_many = items(&vm, 20);
    too_many.push(too_many[0].clone());
    let err = vm
        .execute(
            &seller,
            &[],
            &ExecuteMsg::ClaimBatch {
                claims: too_many,
                payout: None,
            },
        )
        .unwrap_err();
    assert!(err.contains("1 to 50 claims"), "{err}");
    assert_eq!(channel(&mut vm, channels[37].0).claimed, Uint128::new(10));
}

#[test]
fn hashlock_close_and_finalize_in_the_vm() {
    let mut vm = setup();
    let buyer = user_addr("buyer");
    let seller = user_addr("seller");
    let k = key(VoucherScheme::Secp256k1, "b");
    let id = open(&mut vm, &buyer, &seller, &k, 1_000);
    let secret = HexBinary::from(b"s3cret".to_vec());
    let lock = Hashlock::of_preimage(secret.as_slice());
    let v = voucher(&vm, &k, id, 300, Some(lock));
    let err = vm
        .execute(&seller, &[], &claim_msg(id, v.clone(), None))
        .unwrap_err();
    assert!(err.contains("preimage is required"), "{err}");
    vm.execute(&seller, &[], &claim_msg(id, v, Some(secret)))
        .unwrap();

    let out = vm
        .execute(&buyer, &[], &ExecuteMsg::StartClose { channel_id: id })
        .unwrap();
    let finalize_after: u64 = out.attr("finalize_after").unwrap().parse().unwrap();
    assert!(matches!(
        channel(&mut vm, id).status,
        ChannelStatus::Closing { .. }
    ));
    let err = vm
        .execute(&buyer, &[], &ExecuteMsg::Finalize { channel_id: id })
        .unwrap_err();
    assert!(err.contains("challenge period runs until"), "{err}");
    vm.execute(
        &seller,
        &[],
        &claim_msg(id, voucher(&vm, &k, id, 450, None), None),
    )
    .unwrap();
    vm.advance_blocks(3600 / BLOCK_SECONDS + 1);
    assert!(vm.block.time.seconds() >= finalize_after);
    let out = vm
        .execute(
            &user_addr("anyone"),
            &[],
            &ExecuteMsg::Finalize { channel_id: id },
        )
        .unwrap();
    assert_eq!(out.attr("refund"), Some("550"));
    assert_eq!(
        out.response.messages[0].msg,
        CosmosMsg::Bank(BankMsg::Send {
            to_address: buyer.to_string(),
            amount: coins(550, DENOM)
        })
    );
    assert_eq!(channel(&mut vm, id).status, ChannelStatus::Closed);
}

#[test]
fn funds_and_migration_checks_in_the_vm() {
    let mut vm = setup();
    let buyer = user_addr("buyer");
    let seller = user_addr("seller");
    let k = key(VoucherScheme::Ed25519, "b");
    let id = open(&mut vm, &buyer, &seller, &k, 1_000);
    let err = vm
        .execute(
            &seller,
            &coins(1, DENOM),
            &claim_msg(id, voucher(&vm, &k, id, 1, None), None),
        )
        .unwrap_err();
    assert!(err.contains("accept funds"), "{err}");
    let err = vm
        .execute(
            &buyer,
            &coins(5, "uother"),
            &ExecuteMsg::TopUp { channel_id: id },
        )
        .unwrap_err();
    assert!(err.contains("ucity"), "{err}");
    let out = vm.migrate(&MigrateMsg {}).unwrap();
    assert_eq!(out.attr("action"), Some("migrate"));
}

#[test]
fn vouchers_bind_chain_and_instance_in_the_vm() {
    let code = wevalue_vm_harness::load_artifact("payment-channel");
    let mut a = setup();
    let mut b = VmContract::from_code("payment-channel-second", &code);
    assert_ne!(a.address, b.address);
    b.instantiate(
        &user_addr("owner"),
        &[],
        &InstantiateMsg {
            owner: None,
            min_challenge_period: 3600,
            max_challenge_period: 86_400,
            max_batch_size: None,
        },
    )
    .unwrap();
    let buyer = user_addr("buyer");
    let seller = user_addr("seller");
    for scheme in [
        VoucherScheme::Secp256k1,
        VoucherScheme::Ed25519,
        VoucherScheme::Adr036,
    ] {
        let k = key(scheme, "same-key");
        let id_a = open(&mut a, &buyer, &seller, &k, 1_000);
        let id_b = open(&mut b, &buyer, &seller, &k, 1_000);
        assert_eq!(id_a, id_b);
        // Signed for instance a: rejected by instance b.
        let v = voucher(&a, &k, id_a, 100, None);
        let err = b
            .execute(&seller, &[], &claim_msg(id_b, v.clone(), None))
            .unwrap_err();
        assert!(err.contains("signature does not verify"), "{scheme}: {err}");
        // Signed for another chain id: rejected by instance a.
        let mut elsewhere = VmContract::from_code("payment-channel", &code);
        elsewhere.block.chain_id = "other-chain-1".into();
        let foreign = voucher(&elsewhere, &k, id_a, 100, None);
        let err = a
            .execute(&seller, &[], &claim_msg(id_a, foreign, None))
            .unwrap_err();
        assert!(err.contains("signature does not verify"), "{scheme}: {err}");
        a.execute(&seller, &[], &claim_msg(id_a, v, None)).unwrap();
    }
}

#[test]
fn claim_pages_in_the_vm() {
    use payment_channel::state::PAGE_SLOTS;
    let mut vm = setup();
    let seller = user_addr("seller");
    // Two full pages of the seller's channels, one payer each.
    let n = 2 * PAGE_SLOTS as usize;
    let channels: Vec<(u64, VoucherSigner)> = (0..n)
        .map(|i| {
            let k = key(VoucherScheme::Ed25519, &format!("page{i}"));
            let id = open(&mut vm, &user_addr(&format!("p{i}")), &seller, &k, 1_000);
            (id, k)
        })
        .collect();
    let batch = |vm: &mut VmContract, items: &[(u64, VoucherSigner)], amount: u128| {
        let claims = items
            .iter()
            .map(|(id, k)| BatchClaim {
                channel_id: *id,
                voucher: voucher(vm, k, *id, amount, None),
                preimage: None,
            })
            .collect();
        vm.execute(
            &seller,
            &[],
            &ExecuteMsg::ClaimBatch {
                claims,
                payout: None,
            },
        )
        .unwrap()
    };
    batch(&mut vm, &channels, 100);
    // Steady state: one claim alone, then all of them in one batch.
    let (id0, k0) = &channels[0];
    let single = vm
        .execute(
            &seller,
            &[],
            &claim_msg(*id0, voucher(&vm, k0, *id0, 150, None), None),
        )
        .unwrap()
        .gas;
    let out = batch(&mut vm, &channels, 200);
    assert_eq!(
        out.response.messages[0].msg,
        CosmosMsg::Bank(BankMsg::Send {
            to_address: seller.to_string(),
            amount: coins(50 + 100 * (n as u128 - 1), DENOM)
        })
    );
    // Channels of a page share its write: a voucher in the batch costs well
    // under a single claim.
    let per_voucher = out.gas.sdk() / n as u64;
    assert!(
        per_voucher * 4 < single.sdk() * 3,
        "{per_voucher} per voucher vs {} single",
        single.sdk()
    );

    // Close the first channel; its neighbours keep being claimed.
    let out = vm
        .execute(
            &seller,
            &[],
            &ExecuteMsg::Close {
                channel_id: *id0,
                voucher: None,
                preimage: None,
                payout: None,
            },
        )
        .unwrap();
    assert_eq!(out.attr("refund"), Some("800"));
    batch(&mut vm, &channels[1..], 300);
    let closed = channel(&mut vm, *id0);
    assert_eq!(closed.status, ChannelStatus::Closed);
    assert_eq!(closed.claimed, Uint128::new(200));
    for (id, _) in &channels[1..] {
        assert_eq!(channel(&mut vm, *id).claimed, Uint128::new(300));
    }
    let err = vm
        .execute(
            &seller,
            &[],
            &claim_msg(*id0, voucher(&vm, k0, *id0, 400, None), None),
        )
        .unwrap_err();
    assert!(err.contains("is closed"), "{err}");
}

#[test]
fn ibc_payout_reply_and_callbacks_in_the_vm() {
    use cosmwasm_std::{
        IbcAckCallbackMsg, IbcAcknowledgement, IbcEndpoint, IbcMsg, IbcPacket,
        IbcSourceCallbackMsg, MsgResponse, Reply, SubMsgResponse, SubMsgResult,
    };
    use payment_channel::ibc::payout::CALLBACK_GAS_LIMIT;
    use payment_channel::msg::{CreditResponse, Payout};
    let mut vm = setup();
    let owner = user_addr("owner");
    vm.execute(
        &owner,
        &[],
        &ExecuteMsg::UpdateAllowlists {
            add_cw20s: vec![],
            remove_cw20s: vec![],
            add_ibc_channels: vec!["channel-7".into()],
            remove_ibc_channels: vec![],
        },
    )
    .unwrap();
    let buyer = user_addr("buyer");
    let seller = user_addr("seller");
    let k = key(VoucherScheme::Ed25519, "ibc");
    let id = open(&mut vm, &buyer, &seller, &k, 1_000);
    let claim = |vm: &mut VmContract, amount| {
        vm.execute(
            &seller,
            &[],
            &ExecuteMsg::Claim {
                channel_id: id,
                voucher: voucher(vm, &k, id, amount, None),
                preimage: None,
                payout: Some(Payout::Ibc {
                    channel: "channel-7".into(),
                    receiver: "osmo1receiver".into(),
                    timeout_seconds: 600,
                }),
            },
        )
        .unwrap()
    };
    let out = claim(&mut vm, 400);
    let sub = &out.response.messages[0];
    let CosmosMsg::Ibc(IbcMsg::Transfer { timeout, memo, .. }) = &sub.msg else {
        panic!("{:?}", sub.msg);
    };
    assert!(memo
        .as_deref()
        .unwrap()
        .contains(&format!("\"gas_limit\":\"{CALLBACK_GAS_LIMIT}\"")));
    #[allow(deprecated)]
    let reply = |payload, sequence: u8| Reply {
        id: sub.id,
        payload,
        gas_used: 0,
        result: SubMsgResult::Ok(SubMsgResponse {
            events: vec![],
            data: None,
            msg_responses: vec![MsgResponse {
                type_url: "/ibc.applications.transfer.v1.MsgTransferResponse".into(),
                value: vec![0x08, sequence].into(),
            }],
        }),
    };
    let out = vm.reply(&reply(sub.payload.clone(), 3)).unwrap();
    assert_eq!(out.attr("sequence"), Some("3"));
    let packet = |sequence| {
        IbcPacket::new(
            br#"{"amount":"400","denom":"ucity","memo":"","receiver":"osmo1receiver","sender":"x"}"#.to_vec(),
            IbcEndpoint { port_id: "transfer".into(), channel_id: "channel-7".into() },
            IbcEndpoint { port_id: "transfer".into(), channel_id: "channel-0".into() },
            sequence,
            timeout.clone(),
        )
    };
    let ack = |sequence, data: &[u8]| {
        IbcSourceCallbackMsg::Acknowledgement(IbcAckCallbackMsg::new(
            IbcAcknowledgement::new(data.to_vec()),
            packet(sequence),
            Addr::unchecked("relayer"),
        ))
    };
    // Another sequence: nothing happens. `{}`: delivered.
    let out = vm
        .ibc_source_callback(&ack(4, br#"{"error":"x"}"#))
        .unwrap();
    assert_eq!(out.attr("outcome"), Some("unknown_packet"));
    let out = vm.ibc_source_callback(&ack(3, b"{}")).unwrap();
    assert_eq!(out.attr("outcome"), Some("delivered"));
    // The second payout is refunded by an error acknowledgement.
    let out = claim(&mut vm, 700);
    vm.reply(&reply(out.response.messages[0].payload.clone(), 5))
        .unwrap();
    let out = vm
        .ibc_source_callback(&ack(5, br#"{"error":"ABCI code: 1"}"#))
        .unwrap();
    assert_eq!(out.attr("outcome"), Some("error_ack"));
    assert!(
        out.gas.sdk() + wevalue_vm_harness::WASMD_INSTANCE_COST < CALLBACK_GAS_LIMIT / 3,
        "callback {} gas (+ instance) vs the {CALLBACK_GAS_LIMIT} the memo asks for",
        out.gas.sdk()
    );
    let (credit, _): (CreditResponse, _) = vm
        .query(&QueryMsg::Credit {
            payee: seller.to_string(),
            denom: DENOM.into(),
        })
        .unwrap();
    assert_eq!(credit.amount, Uint128::new(300));
}

#[test]
fn hub_deposit_in_the_vm() {
    use cosmwasm_std::{
        IbcAcknowledgement, IbcDestinationCallbackMsg, IbcEndpoint, IbcPacket, IbcTimeout,
        Timestamp,
    };
    let mut vm = setup();
    let owner = user_addr("owner");
    vm.execute(
        &owner,
        &[],
        &ExecuteMsg::UpdateAllowlists {
            add_cw20s: vec![],
            remove_cw20s: vec![],
            add_ibc_channels: vec!["channel-7".into()],
            remove_ibc_channels: vec![],
        },
    )
    .unwrap();
    let payer = user_addr("city-buyer");
    let seller = user_addr("seller");
    vm.execute(
        &payer,
        &[],
        &ExecuteMsg::AuthorizeHubSender {
            channel: "channel-7".into(),
            sender: "cosmos1hub".into(),
        },
    )
    .unwrap();
    let k = key(VoucherScheme::Ed25519, "hub-buyer");
    let denom = payment_channel::ibc::deposit::ibc_denom("transfer/channel-7/uatom");
    vm.set_balance(&vm.address.clone(), coins(5_000, &denom));
    let memo = serde_json::json!({
        "dest_callback": {"address": vm.address},
        "payment_channel": {"open": {"payer": payer, "channel": {
            "payee": seller, "pubkey": cosmwasm_std::Binary::from(k.public_key()),
            "scheme": "ed25519", "challenge_period": null}}},
    });
    let data = serde_json::json!({"amount": "5000", "denom": "uatom", "receiver": vm.address,
        "sender": "cosmos1hub", "memo": memo.to_string()});
    let msg = IbcDestinationCallbackMsg {
        packet: IbcPacket::new(
            serde_json::to_vec(&data).unwrap(),
            IbcEndpoint {
                port_id: "transfer".into(),
                channel_id: "channel-0".into(),
            },
            IbcEndpoint {
                port_id: "transfer".into(),
                channel_id: "channel-7".into(),
            },
            1,
            IbcTimeout::with_timestamp(Timestamp::from_seconds(1_800_000_000)),
        ),
        ack: IbcAcknowledgement::new(br#"{"result":"AQ=="}"#.to_vec()),
    };
    let out = vm.ibc_destination_callback(&msg).unwrap();
    assert_eq!(out.attr("kind"), Some("open"));
    let c = channel(&mut vm, 1);
    assert_eq!((c.payer, c.deposit), (payer, Uint128::new(5_000)));
    assert_eq!(c.asset, AssetInfo::Native(denom));
}
