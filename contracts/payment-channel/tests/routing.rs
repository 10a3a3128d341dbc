//! Hashlocked payments routed through a hub, and the rule that keeps the
//! hub whole: a close the payer starts cannot cut off a hashlocked voucher
//! the payee lodged; it stays claimable until its expiry.

mod suite;

use cosmwasm_std::{HexBinary, Timestamp, Uint128};
use cw_multi_test::Executor;
use payment_channel::msg::{ChannelStatus, Hashlock, QueryMsg};
use payment_channel::ContractError;
use suite::*;
use wevalue_voucher::VoucherScheme;

/// The README's numbers: challenge period 3,600 s (the default minimum),
/// downstream expiry 2 h out, upstream expiry a 600 s margin later.
const CHALLENGE: u64 = 3_600;
const DOWNSTREAM: u64 = 7_200;
const MARGIN: u64 = 600;

struct Route {
    s: Suite,
    inbound: u64,
    outbound: u64,
    to_hub: payment_channel::msg::SignedVoucher,
    to_seller: payment_channel::msg::SignedVoucher,
    secret: HexBinary,
    t0: u64,
}

/// buyer -> hub -> seller, one secret the seller learns with the data.
fn route() -> Route {
    let mut s = SuiteBuilder::new().build();
    let buyer_key = signer(VoucherScheme::Ed25519, "buyer");
    let hub_key = signer(VoucherScheme::Secp256k1, "hub");
    let inbound = s.open_native("buyer", "hub", &buyer_key, 10_000);
    let outbound = s.open_native("hub", "seller", &hub_key, 10_000);
    let secret = HexBinary::from(b"chunk-42 delivery secret".to_vec());
    let lock = Hashlock::of_preimage(secret.as_slice());
    let t0 = s.now();
    // The buyer pays the hub 1,010 (10 fee) against the secret before
    // t0 + 2 h + 600 s; the hub pays the seller 1,000 before t0 + 2 h.
    let to_hub = s.voucher_with(
        &buyer_key,
        inbound,
        1_010,
        Some(lock),
        Some(t0 + DOWNSTREAM + MARGIN),
    );
    let to_seller = s.voucher_with(&hub_key, outbound, 1_000, Some(lock), Some(t0 + DOWNSTREAM));
    Route {
        s,
        inbound,
        outbound,
        to_hub,
        to_seller,
        secret,
        t0,
    }
}

#[test]
fn a_hub_keeps_its_upstream_claim_when_the_payer_closes_early() {
    let Route {
        mut s,
        inbound,
        outbound,
        to_hub,
        to_seller,
        secret,
        t0,
    } = route();
    // The buyer starts a close at once: alone, the challenge period would
    // end at t0 + 3,600 s, an hour before the seller must reveal.
    s.start_close("buyer", inbound).unwrap();
    assert_eq!(
        s.channel(inbound).status,
        ChannelStatus::Closing {
            finalize_after: Timestamp::from_seconds(t0 + CHALLENGE)
        }
    );
    // The hub sees the close and lodges its hashlocked voucher: the close
    // now ends no earlier than the voucher's expiry.
    s.advance(60);
    s.lodge("hub", inbound, to_hub.clone()).unwrap();
    let upstream_expiry = t0 + DOWNSTREAM + MARGIN;
    let c = s.channel(inbound);
    assert_eq!(
        c.status,
        ChannelStatus::Closing {
            finalize_after: Timestamp::from_seconds(upstream_expiry)
        }
    );
    assert_eq!(c.hold_until, Some(Timestamp::from_seconds(upstream_expiry)));
    assert_eq!(c.claimed, Uint128::zero(), "lodging pays nothing");
    // The seller reveals a minute before the downstream expiry.
    s.advance(DOWNSTREAM - 60 - 60);
    s.claim_with("seller", outbound, to_seller, Some(secret.clone()), None)
        .unwrap();
    // Past the challenge period, the buyer still cannot finalize.
    let now = s.now();
    assert_eq!(
        s.finalize("buyer", inbound).unwrap_err(),
        ContractError::ChallengePeriodRunning {
            id: inbound,
            finalize_after: upstream_expiry,
            now
        }
    );
    // The hub claims upstream with the now public secret.
    s.advance(30);
    let hub0 = s.balance_of("hub");
    s.claim_with("hub", inbound, to_hub, Some(secret), None)
        .unwrap();
    assert_eq!(s.balance_of("hub") - hub0, 1_010);
    // After the expiry the close finalizes and the buyer gets the rest.
    s.advance(upstream_expiry - s.now());
    let buyer0 = s.balance_of("buyer");
    s.finalize("stranger", inbound).unwrap();
    assert_eq!(s.balance_of("buyer") - buyer0, 10_000 - 1_010);
    assert_eq!(s.total_paid("buyer", "hub", s.native()), 1_010);
    assert_eq!(s.total_paid("hub", "seller", s.native()), 1_000);
    s.assert_conserved(2);
}

#[test]
fn without_lodging_an_early_close_cuts_the_hub_off() {
    // What the rule prevents: a hub that does not lodge loses the fee and
    // the 1,000 it paid downstream.
    let Route {
        mut s,
        inbound,
        outbound,
        to_hub,
        to_seller,
        secret,
        t0,
    } = route();
    s.start_close("buyer", inbound).unwrap();
    s.advance(DOWNSTREAM - 60);
    s.claim_with("seller", outbound, to_seller, Some(secret.clone()), None)
        .unwrap();
    assert_eq!(
        s.claim_with("hub", inbound, to_hub, Some(secret), None)
            .unwrap_err(),
        ContractError::ChallengePeriodOver {
            id: inbound,
            finalize_after: t0 + CHALLENGE
        }
    );
}

#[test]
fn a_voucher_lodged_while_open_stretches_a_later_close() {
    let Route {
        mut s,
        inbound,
        to_hub,
        t0,
        ..
    } = route();
    s.lodge("hub", inbound, to_hub).unwrap();
    assert_eq!(s.channel(inbound).status, ChannelStatus::Open);
    s.advance(100);
    s.start_close("buyer", inbound).unwrap();
    assert_eq!(
        s.channel(inbound).status,
        ChannelStatus::Closing {
            finalize_after: Timestamp::from_seconds(t0 + DOWNSTREAM + MARGIN)
        }
    );
}

#[test]
fn lodging_is_checked_like_a_claim() {
    let Route {
        mut s,
        inbound,
        to_hub,
        t0,
        ..
    } = route();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    let lock = Some(Hashlock::of_preimage(b"x"));
    // Only hashlocked vouchers with an expiry.
    for v in [
        s.voucher(&key, inbound, 5),
        s.voucher_with(&key, inbound, 5, lock, None),
        s.voucher_with(&key, inbound, 5, None, Some(t0 + 100)),
    ] {
        assert_eq!(
            s.lodge("hub", inbound, v).unwrap_err(),
            ContractError::NotLodgeable { id: inbound }
        );
    }
    // Only the payee or its watchtower.
    assert_eq!(
        s.lodge("stranger", inbound, to_hub.clone()).unwrap_err(),
        ContractError::NotPayeeOrWatchtower {
            id: inbound,
            sender: s.addr("stranger").to_string()
        }
    );
    // A signature by someone else.
    let forged = s.voucher_with(
        &signer(VoucherScheme::Ed25519, "mallory"),
        inbound,
        5,
        lock,
        Some(t0 + 100),
    );
    assert_eq!(
        s.lodge("hub", inbound, forged).unwrap_err(),
        ContractError::InvalidSignature { id: inbound }
    );
    // Beyond the deposit, or expired.
    let big = s.voucher_with(&key, inbound, 10_001, lock, Some(t0 + 100));
    assert!(matches!(
        s.lodge("hub", inbound, big).unwrap_err(),
        ContractError::VoucherExceedsDeposit { .. }
    ));
    let stale = s.voucher_with(&key, inbound, 5, lock, Some(t0));
    assert_eq!(
        s.lodge("hub", inbound, stale).unwrap_err(),
        ContractError::VoucherExpired {
            id: inbound,
            expiry: t0,
            now: t0
        }
    );
    // No further out than the longest challenge period (30 days here).
    let far = t0 + 30 * DAY + 1;
    let v = s.voucher_with(&key, inbound, 5, lock, Some(far));
    assert_eq!(
        s.lodge("hub", inbound, v).unwrap_err(),
        ContractError::HoldTooLong {
            id: inbound,
            expiry: far,
            max: 30 * DAY
        }
    );
    // A watchtower the hub authorized may lodge for it.
    s.authorize_watchtower("hub", "tower").unwrap();
    s.lodge("tower", inbound, to_hub.clone()).unwrap();
    // Not after the challenge period, nor on a closed channel.
    s.start_close("buyer", inbound).unwrap();
    s.advance(DOWNSTREAM + MARGIN);
    assert_eq!(
        s.lodge("hub", inbound, to_hub.clone()).unwrap_err(),
        ContractError::ChallengePeriodOver {
            id: inbound,
            finalize_after: t0 + DOWNSTREAM + MARGIN
        }
    );
    s.finalize("buyer", inbound).unwrap();
    assert_eq!(
        s.lodge("hub", inbound, to_hub).unwrap_err(),
        ContractError::ChannelClosed { id: inbound }
    );
    s.assert_conserved(2);
}

#[test]
fn hashlocks_need_their_preimage_and_expire() {
    let Route {
        mut s,
        outbound,
        to_seller,
        secret,
        t0,
        ..
    } = route();
    let hub_key = signer(VoucherScheme::Secp256k1, "hub");
    assert_eq!(
        s.claim("seller", outbound, to_seller.clone()).unwrap_err(),
        ContractError::PreimageRequired { id: outbound }
    );
    assert_eq!(
        s.claim_with(
            "seller",
            outbound,
            to_seller.clone(),
            Some(HexBinary::from(b"guess".to_vec())),
            None
        )
        .unwrap_err(),
        ContractError::WrongPreimage { id: outbound }
    );
    assert_eq!(
        s.claim_with(
            "seller",
            outbound,
            s.voucher(&hub_key, outbound, 2_000),
            Some(secret.clone()),
            None
        )
        .unwrap_err(),
        ContractError::UnexpectedPreimage { id: outbound }
    );
    assert_eq!(
        s.claim_with(
            "seller",
            outbound,
            to_seller.clone(),
            Some(HexBinary::from(vec![7; 65])),
            None
        )
        .unwrap_err(),
        ContractError::PreimageLength { len: 65, max: 64 }
    );
    s.advance(DOWNSTREAM);
    assert_eq!(
        s.claim_with("seller", outbound, to_seller, Some(secret), None)
            .unwrap_err(),
        ContractError::VoucherExpired {
            id: outbound,
            expiry: t0 + DOWNSTREAM,
            now: t0 + DOWNSTREAM
        }
    );
}

#[test]
fn a_hashlock_of_another_length_is_not_a_voucher() {
    let Route {
        mut s, outbound, ..
    } = route();
    // Raw JSON as a client would send it: 31 and 33 bytes.
    for len in [31, 33] {
        let msg = serde_json::json!({"claim": {
            "channel_id": outbound,
            "voucher": {"amount": "5", "hashlock": "ab".repeat(len), "expiry": null,
                        "signature": cosmwasm_std::Binary::from(vec![0u8; 64])},
            "preimage": null, "payout": null,
        }});
        let e = s
            .app
            .execute_contract(s.addr("seller"), s.contract.clone(), &msg, &[])
            .unwrap_err();
        assert!(
            format!("{e:#}").contains(&format!("hashlock must be 32 bytes (sha256), got {len}")),
            "{e:#}"
        );
        let q = serde_json::json!({"voucher_sign_bytes": {
            "channel_id": outbound, "amount": "5", "hashlock": "ab".repeat(len), "expiry": null,
        }});
        let e = s
            .app
            .wrap()
            .query_wasm_smart::<serde_json::Value>(&s.contract, &q)
            .unwrap_err();
        assert!(e.to_string().contains("hashlock must be 32 bytes"), "{e}");
    }
    // The query answers for a 32-byte hashlock, with the lock in the bytes.
    let lock = Hashlock::of_preimage(b"x");
    let r: payment_channel::msg::SignBytesResponse = s
        .query(&QueryMsg::VoucherSignBytes {
            channel_id: outbound,
            amount: Uint128::new(5),
            hashlock: Some(lock),
            expiry: None,
        })
        .unwrap();
    let bytes = r.sign_bytes.as_slice();
    assert_eq!(&bytes[bytes.len() - 33..bytes.len() - 1], lock.as_bytes());
}
