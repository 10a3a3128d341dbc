//! Claim pages: how channels of one payee share the record their claims
//! rewrite, how pages fill up, and that sharing never mixes up amounts
//! (closed channels keep theirs while their neighbours are claimed).

mod suite;

use cosmwasm_std::Uint128;
use payment_channel::msg::{BatchClaim, ChannelStatus, Payout};
use payment_channel::state::PAGE_SLOTS;
use payment_channel::ContractError;
use suite::*;
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::VoucherScheme;

fn item(s: &Suite, key: &VoucherSigner, id: u64, amount: u128) -> BatchClaim {
    BatchClaim {
        channel_id: id,
        voucher: s.voucher(key, id, amount),
        preimage: None,
    }
}

fn amounts(v: &[u128]) -> Vec<Uint128> {
    v.iter().copied().map(Uint128::new).collect()
}

#[test]
fn one_batch_claims_two_channels_sharing_a_page() {
    let mut s = SuiteBuilder::new().build();
    let k1 = signer(VoucherScheme::Ed25519, "buyer");
    let k2 = signer(VoucherScheme::Secp256k1, "buyer2");
    let a = s.open_native("buyer", "seller", &k1, 1_000);
    let b = s.open_native("buyer2", "seller", &k2, 2_000);
    // Opening takes no slot: a channel gets one when the payee first
    // redeems on it, and an unwritten slot reads as zero.
    assert_eq!(
        (s.stored_channel(a).slot, s.stored_channel(b).slot),
        (None, None)
    );
    assert_eq!(s.stored_page(1), None);
    assert_eq!(s.channel(b).claimed, Uint128::zero());

    // `b` is accepted first: the first slot of the seller's first page.
    s.claim("seller", b, s.voucher(&k2, b, 50)).unwrap();
    assert_eq!(s.stored_channel(b).slot, Some((1, 0)));
    assert_eq!(s.stored_page(1), Some(amounts(&[50])));

    // One batch accepts `a` (the next slot) and claims both: one page write.
    let seller0 = s.balance_of("seller");
    let items = vec![item(&s, &k1, a, 300), item(&s, &k2, b, 700)];
    s.claim_batch("seller", items).unwrap();
    assert_eq!(s.stored_channel(a).slot, Some((1, 1)));
    assert_eq!(s.balance_of("seller") - seller0, 300 + 650);
    assert_eq!(s.stored_page(1), Some(amounts(&[700, 300])));
    assert_eq!(s.channel(a).claimed, Uint128::new(300));
    assert_eq!(s.channel(a).balance, Uint128::new(700));
    assert_eq!(s.channel(b).claimed, Uint128::new(700));
    assert_eq!(s.total_paid("buyer", "seller", s.native()), 300);
    assert_eq!(s.total_paid("buyer2", "seller", s.native()), 700);
    s.assert_conserved(2);

    // An explicit local payout is the default one.
    let items = vec![item(&s, &k1, a, 400), item(&s, &k2, b, 800)];
    s.claim_batch_with("seller", items, Some(Payout::Local))
        .unwrap();
    assert_eq!(s.balance_of("seller") - seller0, 400 + 750);
    assert_eq!(s.stored_page(1), Some(amounts(&[800, 400])));
    s.assert_conserved(2);
}

#[test]
fn a_full_page_starts_a_new_one_per_payee() {
    let mut s = SuiteBuilder::new().build();
    let payers = ["buyer", "buyer2"];
    // Another payee's channel, accepted first, gets a page of its own.
    let other_key = signer(VoucherScheme::Ed25519, "other");
    let other = s.open_native("buyer", "seller2", &other_key, 1_000);
    s.claim("seller2", other, s.voucher(&other_key, other, 1))
        .unwrap();
    assert_eq!(s.stored_channel(other).slot, Some((1, 0)));
    let mut ids = vec![];
    for i in 0..=PAGE_SLOTS as usize {
        let key = signer(VoucherScheme::Ed25519, &format!("k{i}"));
        let id = s.open_native(payers[i % 2], "seller", &key, 1_000);
        ids.push((id, key));
    }
    // One batch accepts them all, in order, over two pages, writing each once.
    let items: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(n, (id, key))| item(&s, key, *id, 10 * (n as u128 + 1)))
        .collect();
    s.claim_batch("seller", items).unwrap();
    for (n, (id, _)) in ids.iter().enumerate() {
        let want = if n < PAGE_SLOTS as usize {
            (2, n as u32)
        } else {
            (3, 0)
        };
        assert_eq!(s.stored_channel(*id).slot, Some(want), "channel {id}");
    }
    let first: Vec<u128> = (1..=PAGE_SLOTS as u128).map(|n| 10 * n).collect();
    assert_eq!(s.stored_page(2), Some(amounts(&first)));
    assert_eq!(
        s.stored_page(3),
        Some(amounts(&[10 * (PAGE_SLOTS as u128 + 1)]))
    );
    assert_eq!(s.stored_page(1), Some(amounts(&[1])));
    for (n, (id, _)) in ids.iter().enumerate() {
        assert_eq!(s.channel(*id).claimed, Uint128::new(10 * (n as u128 + 1)));
    }
    // The other payee's next channel joins its own page.
    let other2 = s.open_native("buyer2", "seller2", &other_key, 1_000);
    s.claim("seller2", other2, s.voucher(&other_key, other2, 2))
        .unwrap();
    assert_eq!(s.stored_channel(other2).slot, Some((1, 1)));
    // The last page has room for the seller's next channel.
    let key = signer(VoucherScheme::Ed25519, "next");
    let next = s.open_native("buyer", "seller", &key, 1_000);
    s.claim("seller", next, s.voucher(&key, next, 5)).unwrap();
    assert_eq!(s.stored_channel(next).slot, Some((3, 1)));
    s.assert_conserved(next);
}

#[test]
fn closed_channels_keep_their_claimed_amount_beside_open_neighbours() {
    let mut s = SuiteBuilder::new().build();
    let ka = signer(VoucherScheme::Ed25519, "a");
    let kb = signer(VoucherScheme::Adr036, "b");
    let kc = signer(VoucherScheme::Secp256k1, "c");
    let a = s.open_native("buyer", "seller", &ka, 1_000);
    let b = s.open_native("buyer", "seller", &kb, 1_000);
    let c = s.open_native("buyer2", "seller", &kc, 1_000);

    // The payee closes `a` with a final voucher; the payer of `c` starts a
    // close that is finalized.
    s.claim("seller", a, s.voucher(&ka, a, 100)).unwrap();
    let buyer0 = s.balance_of("buyer");
    s.close("seller", a, Some(s.voucher(&ka, a, 150))).unwrap();
    assert_eq!(s.balance_of("buyer") - buyer0, 850);
    s.claim("seller", c, s.voucher(&kc, c, 40)).unwrap();
    assert_eq!(s.stored_channel(a).slot, Some((1, 0)));
    assert_eq!(s.stored_channel(c).slot, Some((1, 1)));
    s.start_close("buyer2", c).unwrap();
    s.advance(3_601);
    s.finalize("stranger", c).unwrap();

    // The open neighbour `b` is claimed alone and in batches.
    s.claim("seller", b, s.voucher(&kb, b, 200)).unwrap();
    s.claim_batch("seller", vec![item(&s, &kb, b, 300)])
        .unwrap();
    s.claim("seller", b, s.voucher(&kb, b, 450)).unwrap();
    assert_eq!(s.stored_channel(b).slot, Some((1, 2)));
    assert_eq!(s.stored_page(1), Some(amounts(&[150, 40, 450])));

    for (id, claimed) in [(a, 150), (c, 40)] {
        let ch = s.channel(id);
        assert_eq!(ch.status, ChannelStatus::Closed);
        assert_eq!(ch.claimed, Uint128::new(claimed));
        assert_eq!(ch.balance, Uint128::zero());
    }
    assert_eq!(s.channel(b).claimed, Uint128::new(450));
    // A closed channel's slot cannot be claimed again, alone or in a batch.
    assert_eq!(
        s.claim("seller", a, s.voucher(&ka, a, 200)).unwrap_err(),
        ContractError::ChannelClosed { id: a }
    );
    assert_eq!(
        s.claim_batch("seller", vec![item(&s, &kb, b, 500), item(&s, &ka, a, 200)])
            .unwrap_err(),
        ContractError::ChannelClosed { id: a }.in_batch(1)
    );
    assert_eq!(s.channel(b).claimed, Uint128::new(450));
    // Totals: closed channels folded in, the open one read from its slot.
    assert_eq!(s.total_paid("buyer", "seller", s.native()), 150 + 450);
    assert_eq!(s.total_paid("buyer2", "seller", s.native()), 40);
    s.assert_conserved(3);
}

#[test]
fn batch_ibc_payouts_need_the_payee_and_native_denoms() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    let a = s.open_native("buyer", "seller", &key, 1_000);
    let cw = s.open_cw20("buyer2", "seller", &key, 1_000);
    s.authorize_watchtower("seller", "hub").unwrap();
    let ibc = Payout::Ibc {
        channel: "channel-3".into(),
        receiver: "osmo1abc".into(),
        timeout_seconds: 600,
    };
    // A watchtower may batch-claim, but not choose where the proceeds go.
    assert_eq!(
        s.claim_batch_with("hub", vec![item(&s, &key, a, 10)], Some(ibc.clone()))
            .unwrap_err(),
        ContractError::PayoutNotPayee.in_batch(0)
    );
    s.claim_batch_with("hub", vec![item(&s, &key, a, 10)], Some(Payout::Local))
        .unwrap();
    // cw20 channels cannot be paid out over IBC.
    assert_eq!(
        s.claim_batch_with(
            "seller",
            vec![item(&s, &key, a, 20), item(&s, &key, cw, 20)],
            Some(ibc.clone())
        )
        .unwrap_err(),
        ContractError::Cw20OverIbc.in_batch(1)
    );
    // Invalid transfer parameters are refused.
    let bad = Payout::Ibc {
        channel: "transfer".into(),
        receiver: "osmo1abc".into(),
        timeout_seconds: 600,
    };
    assert!(matches!(
        s.claim_batch_with("seller", vec![item(&s, &key, a, 20)], Some(bad))
            .unwrap_err(),
        ContractError::InvalidIbcPayout { .. }
    ));
    // Only over an allowlisted channel (batch IBC payouts with their reply
    // and callbacks run with mock deps in tests/ibc.rs).
    assert_eq!(
        s.claim_batch_with("seller", vec![item(&s, &key, a, 20)], Some(ibc))
            .unwrap_err(),
        ContractError::IbcChannelNotAllowed {
            channel: "channel-3".into()
        }
    );
    assert_eq!(s.channel(a).claimed, Uint128::new(10));
    s.assert_conserved(2);
}
