//! Claims under each scheme, every rejection, replay across channels,
//! instances and chains, watchtowers, batch claims, the sign-bytes query and
//! the purchase-verifier total (hashlocked routing: `routing.rs`).

mod suite;

use cosmwasm_std::{coins, Uint128};
use cw_multi_test::Executor;
use payment_channel::msg::{BatchClaim, InstantiateMsg, Payout, SignedVoucher};
use payment_channel::ContractError;
use suite::*;
use wevalue_voucher::{sha256, Voucher, VoucherScheme};

const SCHEMES: [VoucherScheme; 3] = [
    VoucherScheme::Secp256k1,
    VoucherScheme::Ed25519,
    VoucherScheme::Adr036,
];

#[test]
fn claims_pay_only_the_increase_for_every_scheme() {
    for scheme in SCHEMES {
        let mut s = SuiteBuilder::new().build();
        let key = signer(scheme, "buyer");
        let id = s.open_native("buyer", "seller", &key, 1_000);
        let seller0 = s.balance_of("seller");
        let res = s.claim("seller", id, s.voucher(&key, id, 100)).unwrap();
        let wasm = res.events.iter().find(|e| e.ty == "wasm").unwrap();
        assert_eq!(wasm.attributes[1].key, "action");
        assert_eq!(wasm.attributes[1].value, "claim");
        s.claim("seller", id, s.voucher(&key, id, 250)).unwrap();
        assert_eq!(s.balance_of("seller") - seller0, 250, "{scheme}");
        let c = s.channel(id);
        assert_eq!(c.claimed, Uint128::new(250));
        assert_eq!(c.balance, Uint128::new(750));
        assert_eq!(s.total_paid("buyer", "seller", s.native()), 250);
        assert_eq!(s.total_paid("buyer", "seller", s.cw20()), 0);
        assert_eq!(s.total_paid("seller", "buyer", s.native()), 0);
        // Lower, equal and above-deposit vouchers.
        assert_eq!(
            s.claim("seller", id, s.voucher(&key, id, 250)).unwrap_err(),
            ContractError::VoucherNotIncreasing {
                id,
                amount: Uint128::new(250),
                claimed: Uint128::new(250)
            }
        );
        assert_eq!(
            s.claim("seller", id, s.voucher(&key, id, 100)).unwrap_err(),
            ContractError::VoucherNotIncreasing {
                id,
                amount: Uint128::new(100),
                claimed: Uint128::new(250)
            }
        );
        assert_eq!(
            s.claim("seller", id, s.voucher(&key, id, 1_001))
                .unwrap_err(),
            ContractError::VoucherExceedsDeposit {
                id,
                amount: Uint128::new(1_001),
                deposit: Uint128::new(1_000)
            }
        );
        // A top-up makes the larger voucher redeemable.
        s.top_up("buyer", id, &coins(1, DENOM)).unwrap();
        s.claim("seller", id, s.voucher(&key, id, 1_001)).unwrap();
        assert_eq!(s.total_paid("buyer", "seller", s.native()), 1_001);
        s.assert_conserved(1);
    }
}

#[test]
fn forged_and_misdirected_vouchers_are_rejected() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    let other = signer(VoucherScheme::Ed25519, "mallory");
    let a = s.open_native("buyer", "seller", &key, 1_000);
    let b = s.open_native("buyer", "seller", &key, 1_000);
    // Wrong key.
    assert_eq!(
        s.claim("seller", a, s.voucher(&other, a, 10)).unwrap_err(),
        ContractError::InvalidSignature { id: a }
    );
    // A voucher for channel b is not valid on channel a (same key, same payee).
    assert_eq!(
        s.claim("seller", a, s.voucher(&key, b, 10)).unwrap_err(),
        ContractError::InvalidSignature { id: a }
    );
    // Tampered amount, short signature.
    let mut v = s.voucher(&key, a, 10);
    v.amount = Uint128::new(11);
    assert_eq!(
        s.claim("seller", a, v).unwrap_err(),
        ContractError::InvalidSignature { id: a }
    );
    let mut v = s.voucher(&key, a, 10);
    v.signature = vec![0u8; 63].into();
    assert_eq!(
        s.claim("seller", a, v).unwrap_err(),
        ContractError::SignatureLength { len: 63 }
    );
    // Only the payee or its watchtower claims.
    assert_eq!(
        s.claim("stranger", a, s.voucher(&key, a, 10)).unwrap_err(),
        ContractError::NotPayeeOrWatchtower {
            id: a,
            sender: s.addr("stranger").to_string()
        }
    );
    assert_eq!(
        s.claim("seller", 77, s.voucher(&key, 77, 10)).unwrap_err(),
        ContractError::ChannelNotFound { id: 77 }
    );
    s.assert_conserved(2);
}

#[test]
fn secp256k1_and_adr036_signatures_are_not_interchangeable() {
    let mut s = SuiteBuilder::new().build();
    let plain = signer(VoucherScheme::Secp256k1, "buyer");
    let adr = signer(VoucherScheme::Adr036, "buyer");
    assert_eq!(plain.public_key(), adr.public_key());
    let id = s.open_native("buyer", "seller", &adr, 1_000);
    assert_eq!(
        s.claim("seller", id, s.voucher(&plain, id, 5)).unwrap_err(),
        ContractError::InvalidSignature { id }
    );
    s.claim("seller", id, s.voucher(&adr, id, 5)).unwrap();
}

#[test]
fn vouchers_do_not_replay_across_contract_instances() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Secp256k1, "buyer");
    let id = s.open_native("buyer", "seller", &key, 1_000);
    let second = s
        .app
        .instantiate_contract(
            s.code,
            s.owner.clone(),
            &InstantiateMsg {
                owner: None,
                min_challenge_period: 3600,
                max_challenge_period: 7200,
                max_batch_size: None,
            },
            &[],
            "second",
            None,
        )
        .unwrap();
    s.app
        .execute_contract(
            s.addr("buyer"),
            second.clone(),
            &payment_channel::msg::ExecuteMsg::Open(open_msg(&s.addr("seller"), &key, None)),
            &coins(1_000, DENOM),
        )
        .unwrap();
    // Same channel id, key, payer and payee; signed for the first instance.
    let v = s.voucher(&key, id, 500);
    s.claim("seller", id, v.clone()).unwrap();
    let e = s
        .app
        .execute_contract(
            s.addr("seller"),
            second,
            &payment_channel::msg::ExecuteMsg::Claim {
                channel_id: id,
                voucher: v,
                preimage: None,
                payout: None,
            },
            &[],
        )
        .map_err(err)
        .unwrap_err();
    assert_eq!(e, ContractError::InvalidSignature { id });
}

#[test]
fn vouchers_do_not_replay_across_chains() {
    let mut s = SuiteBuilder::new().chain_id("wevalue-2").build();
    let key = signer(VoucherScheme::Adr036, "buyer");
    let id = s.open_native("buyer", "seller", &key, 1_000);
    // Signed for the same contract address and channel on another chain id.
    let fields = Voucher {
        chain_id: "wevalue-1".into(),
        contract: s.contract.to_string(),
        channel_id: id,
        amount: Uint128::new(10),
        hashlock: None,
        expiry: None,
    };
    let v = SignedVoucher {
        amount: Uint128::new(10),
        hashlock: None,
        expiry: None,
        signature: key.sign(&fields).unwrap().to_vec().into(),
    };
    assert_eq!(
        s.claim("seller", id, v).unwrap_err(),
        ContractError::InvalidSignature { id }
    );
    s.claim("seller", id, s.voucher(&key, id, 10)).unwrap();
}

#[test]
fn sign_bytes_query_matches_the_voucher_crate() {
    let mut s = SuiteBuilder::new().build();
    for (i, scheme) in SCHEMES.into_iter().enumerate() {
        let key = signer(scheme, "buyer");
        let id = s.open_native("buyer", "seller", &key, 1_000);
        assert_eq!(id, i as u64 + 1);
        let fields = Voucher {
            chain_id: s.chain_id(),
            contract: s.contract.to_string(),
            channel_id: id,
            amount: Uint128::new(42),
            hashlock: None,
            expiry: None,
        };
        let r = s.sign_bytes(id, 42);
        assert_eq!(r.sign_bytes.as_slice(), fields.sign_bytes().as_slice());
        match scheme {
            VoucherScheme::Secp256k1 => {
                assert_eq!(r.signed_message.as_slice(), sha256(&fields.sign_bytes()));
                assert_eq!(r.adr036_sign_doc, None);
            }
            VoucherScheme::Ed25519 => assert_eq!(r.signed_message, r.sign_bytes),
            VoucherScheme::Adr036 => {
                let signer_addr = r.adr036_signer.clone().unwrap();
                assert_eq!(signer_addr.as_str(), key.signer_address());
                let doc = r.adr036_sign_doc.clone().unwrap();
                assert_eq!(
                    doc,
                    wevalue_voucher::adr036_sign_doc(signer_addr.as_str(), &fields.sign_bytes())
                );
                assert_eq!(r.signed_message.as_slice(), sha256(doc.as_bytes()));
            }
        }
    }
}

#[test]
fn watchtowers_claim_for_the_payee_but_cannot_redirect() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    let id = s.open_native("buyer", "seller", &key, 1_000);
    assert_eq!(
        s.claim("tower", id, s.voucher(&key, id, 10)).unwrap_err(),
        ContractError::NotPayeeOrWatchtower {
            id,
            sender: s.addr("tower").to_string()
        }
    );
    s.authorize_watchtower("seller", "tower").unwrap();
    let r: payment_channel::msg::WatchtowersResponse = s
        .query(&payment_channel::msg::QueryMsg::Watchtowers {
            payee: s.addr("seller").to_string(),
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(r.watchtowers, vec![s.addr("tower")]);
    // The payer starts a close; the watchtower answers with the best voucher.
    s.start_close("buyer", id).unwrap();
    let seller0 = s.balance_of("seller");
    let payout = Payout::Ibc {
        channel: "channel-0".into(),
        receiver: "osmo1xyz".into(),
        timeout_seconds: 600,
    };
    assert_eq!(
        s.claim_with("tower", id, s.voucher(&key, id, 300), None, Some(payout))
            .unwrap_err(),
        ContractError::PayoutNotPayee
    );
    s.claim("tower", id, s.voucher(&key, id, 300)).unwrap();
    assert_eq!(s.balance_of("seller") - seller0, 300);
    assert_eq!(s.balance_of("tower"), 0);
    s.revoke_watchtower("seller", "tower").unwrap();
    assert!(matches!(
        s.revoke_watchtower("seller", "tower").unwrap_err(),
        ContractError::NotAWatchtower { .. }
    ));
    assert!(matches!(
        s.claim("tower", id, s.voucher(&key, id, 400)).unwrap_err(),
        ContractError::NotPayeeOrWatchtower { .. }
    ));
    s.advance(3600);
    s.finalize("buyer", id).unwrap();
    s.assert_conserved(1);
}

fn batch_item(
    s: &Suite,
    key: &wevalue_voucher::sign::VoucherSigner,
    id: u64,
    amount: u128,
) -> BatchClaim {
    BatchClaim {
        channel_id: id,
        voucher: s.voucher(key, id, amount),
        preimage: None,
    }
}

#[test]
fn batch_claims_settle_many_channels_at_once() {
    let mut s = SuiteBuilder::new().build();
    let buyers = ["buyer", "buyer2", "hub", "stranger"];
    let mut items = vec![];
    let mut ids = vec![];
    for (i, payer) in buyers.iter().enumerate() {
        let key = signer(SCHEMES[i % 3], payer);
        let id = s.open_native(payer, "seller", &key, 1_000);
        ids.push((id, key));
    }
    let cw20_key = signer(VoucherScheme::Ed25519, "buyer-cw20");
    let cw20_id = s.open_cw20("buyer", "seller", &cw20_key, 1_000);
    for (n, (id, key)) in ids.iter().enumerate() {
        items.push(batch_item(&s, key, *id, 100 * (n as u128 + 1)));
    }
    items.push(batch_item(&s, &cw20_key, cw20_id, 55));
    let seller0 = s.balance_of("seller");
    let res = s.claim_batch("seller", items).unwrap();
    // One bank transfer for the native channels, one cw20 transfer.
    assert_eq!(s.balance_of("seller") - seller0, 100 + 200 + 300 + 400);
    assert_eq!(s.cw20_balance(&s.addr("seller")), 1_000_000_000 + 55);
    assert!(res.events.iter().any(|e| e.ty == "wasm"
        && e.attributes
            .iter()
            .any(|a| a.key == "count" && a.value == "5")));
    assert_eq!(s.total_paid("buyer2", "seller", s.native()), 200);
    assert_eq!(s.total_paid("buyer", "seller", s.cw20()), 55);
    s.assert_conserved(5);

    // All or nothing: a bad ed25519 signature in the middle is named.
    let (id0, k0) = &ids[0];
    let (id1, k1) = &ids[1]; // ed25519
    let mut bad = batch_item(&s, k1, *id1, 900);
    bad.voucher.amount = Uint128::new(901);
    let items = vec![batch_item(&s, k0, *id0, 150), bad];
    assert_eq!(
        s.claim_batch("seller", items).unwrap_err(),
        ContractError::InvalidSignature { id: *id1 }.in_batch(1)
    );
    assert_eq!(s.channel(*id0).claimed, Uint128::new(100));
    // Duplicates, stale vouchers, size limits, foreign channels.
    let items = vec![batch_item(&s, k0, *id0, 150), batch_item(&s, k0, *id0, 160)];
    assert_eq!(
        s.claim_batch("seller", items).unwrap_err(),
        ContractError::DuplicateChannel { id: *id0 }.in_batch(1)
    );
    let items = vec![batch_item(&s, k0, *id0, 50)];
    assert_eq!(
        s.claim_batch("seller", items).unwrap_err(),
        ContractError::VoucherNotIncreasing {
            id: *id0,
            amount: Uint128::new(50),
            claimed: Uint128::new(100)
        }
        .in_batch(0)
    );
    assert_eq!(
        s.claim_batch("seller", vec![]).unwrap_err(),
        ContractError::BatchSize { count: 0, max: 50 }
    );
    let items = vec![batch_item(&s, k0, *id0, 150)];
    assert!(matches!(
        s.claim_batch("stranger", items).unwrap_err(),
        ContractError::BatchItem { index: 0, .. }
    ));
    s.assert_conserved(5);
}

#[test]
fn batch_size_is_capped_by_config() {
    let mut s = SuiteBuilder::new().max_batch_size(2).build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    let ids: Vec<u64> = (0..3)
        .map(|_| s.open_native("buyer", "seller", &key, 100))
        .collect();
    let items: Vec<_> = ids.iter().map(|&id| batch_item(&s, &key, id, 10)).collect();
    assert_eq!(
        s.claim_batch("seller", items).unwrap_err(),
        ContractError::BatchSize { count: 3, max: 2 }
    );
}

#[test]
fn ibc_payouts_are_validated_before_sending() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    let id = s.open_native("buyer", "seller", &key, 1_000);
    let cw = s.open_cw20("buyer", "seller", &key, 1_000);
    let ibc = |channel: &str, timeout_seconds| Payout::Ibc {
        channel: channel.into(),
        receiver: "osmo1abc".into(),
        timeout_seconds,
    };
    assert!(matches!(
        s.claim_with(
            "seller",
            id,
            s.voucher(&key, id, 5),
            None,
            Some(ibc("transfer", 600))
        )
        .unwrap_err(),
        ContractError::InvalidIbcPayout { .. }
    ));
    assert_eq!(
        s.claim_with(
            "seller",
            cw,
            s.voucher(&key, cw, 5),
            None,
            Some(ibc("channel-1", 600))
        )
        .unwrap_err(),
        ContractError::Cw20OverIbc
    );
    // Only over a channel the owner allowlisted (the transfer, its reply and
    // the callbacks run with mock deps in tests/ibc.rs: cw-multi-test has no
    // IBC).
    assert_eq!(
        s.claim_with(
            "seller",
            id,
            s.voucher(&key, id, 5),
            None,
            Some(ibc("channel-1", 600))
        )
        .unwrap_err(),
        ContractError::IbcChannelNotAllowed {
            channel: "channel-1".into()
        }
    );
    assert_eq!(s.channel(id).claimed, Uint128::zero());
    s.assert_conserved(2);
}

#[test]
fn answers_the_purchase_verifier_interface() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    let id = s.open_native("buyer", "seller", &key, 1_000);
    s.claim("seller", id, s.voucher(&key, id, 321)).unwrap();
    // The data registry asks through wevalue-common's message and helper.
    let total = wevalue_common::purchase::query_total_paid(
        &s.app.wrap(),
        &s.contract,
        &s.addr("buyer"),
        &s.addr("seller"),
        &s.native(),
    )
    .unwrap();
    assert_eq!(total, Uint128::new(321));
    let r: wevalue_common::purchase::TotalPaidResponse = s
        .app
        .wrap()
        .query_wasm_smart(
            &s.contract,
            &wevalue_common::purchase::PurchaseQueryMsg::TotalPaid {
                payer: s.addr("stranger").to_string(),
                payee: s.addr("seller").to_string(),
                asset: s.native(),
            },
        )
        .unwrap();
    assert_eq!(r.total, Uint128::zero());
}
