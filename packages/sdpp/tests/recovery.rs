//! What a gateway with an asynchronous durable store needs from the seller
//! state machine: credit counted from stored vouchers only, receipts sent
//! only once stored (`credit_from_stored`, `voucher_stored`); and a stream
//! rebuilt from the best voucher alone after the seller lost its record
//! (`SellerStream::recovered`), which adopts a buyer position that follows
//! the pricing rule and refuses one that does not.

use wevalue_sdpp::crypto::{ChannelKey, ChannelKeySigner, GatewayKey, OfferVerifier};
use wevalue_sdpp::frame::{decode, Frame};
use wevalue_sdpp::handshake::{ChannelRef, Hex, Scheme, Terms};
use wevalue_sdpp::seller::SellerStream;
use wevalue_sdpp::{
    Amount, Asset, Blocked, BuyerConfig, BuyerEvent, BuyerSession, BuyerStream, ErrorCode, Price,
    PricingModel, SellerConfig, SellerEvent, SellerSession, SendError, SessionError,
};

const CHAIN: &str = "wevalue-1";
const REGISTRY: &str = "wasm1nc5tatafv6eyq7llkr2gv50ff9e22mnf70qgjlv737ktmt4eswrqr5j2ht";
const CHANNELS: &str = "wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s0phg4d";
const NOW_S: u64 = 1_750_000_000;

struct Setup {
    seller_cfg: SellerConfig,
    buyer_cfg: BuyerConfig,
    gateway: GatewayKey,
    signer: ChannelKeySigner,
    key: ChannelKey,
}

/// Listing 1 at 10 per unit of `model`, window 10 units, channel 12.
fn setup(model: PricingModel) -> Setup {
    let gw = [0x47; 32];
    let (seller, cert) = GatewayKey::certify(
        [0x51; 32],
        "wasm",
        CHAIN,
        REGISTRY,
        GatewayKey::public_key(gw),
        NOW_S + 3_600,
    )
    .unwrap();
    let signer =
        ChannelKeySigner::from_secret(Scheme::Ed25519, [0x33; 32], "wasm", CHAIN, CHANNELS, 12)
            .unwrap();
    let key = ChannelKey::new(
        CHAIN,
        CHANNELS,
        12,
        Scheme::Ed25519,
        &signer.public_key(),
        "wasm",
    )
    .unwrap();
    let channel = ChannelRef {
        contract: CHANNELS.into(),
        id: 12,
        scheme: Scheme::Ed25519,
    };
    let terms = Terms {
        license: "CC-BY-4.0".into(),
        terms_hash: Hex([0xd0; 32]),
    };
    let price = Price {
        asset: Asset::Native("ustake".into()),
        amount: Amount(10),
        model,
    };
    Setup {
        seller_cfg: SellerConfig {
            chain_id: CHAIN.into(),
            registry: REGISTRY.into(),
            listing_id: 1,
            seller: seller.clone(),
            terms: terms.clone(),
            price: price.clone(),
            channel: channel.clone(),
            deposit: 1_000_000,
            credit_window: 10,
            max_payload: 1_000,
            max_in_flight: 64,
            payment_timeout_ms: 30_000,
        },
        buyer_cfg: BuyerConfig {
            chain_id: CHAIN.into(),
            registry: REGISTRY.into(),
            listing_id: 1,
            seller,
            terms,
            price,
            channel,
            deposit: 1_000_000,
            max_amount: None,
            max_payload: 1_000,
            pay_at_percent: 50,
            idle_pay_ms: 60_000,
        },
        gateway: GatewayKey::new(gw, cert),
        signer,
        key,
    }
}

/// HELLO → OFFER → ACCEPT from these records; the OFFER or the seller's error.
fn connect(
    s: &Setup,
    seller: &mut SellerSession,
    buyer: &mut BuyerSession,
) -> Result<(), SessionError> {
    let offer = seller.on_hello(&buyer.hello([1; 32]).to_json(), [2; 32], &s.gateway)?;
    let accept = buyer
        .on_offer(&offer.to_json(), 0, NOW_S, &OfferVerifier, &s.signer)
        .unwrap();
    seller.on_accept(&accept.to_json(), &s.key, 0).map(|_| ())
}

/// Sends one chunk and delivers it; panics if either side refuses.
fn deliver(seller: &mut SellerSession, buyer: &mut BuyerSession, payload: &[u8]) -> u64 {
    let mut wire = vec![];
    let sent = seller.send_data(1, 1, payload, &mut wire).unwrap();
    assert!(matches!(
        buyer.on_frame(&wire, 1).unwrap(),
        BuyerEvent::Data(_)
    ));
    sent.seq
}

/// The buyer's next frame, if any.
fn buyer_frame(s: &Setup, buyer: &mut BuyerSession) -> Vec<u8> {
    let mut out = vec![];
    buyer.poll_transmit(1, &s.signer, &mut out).unwrap();
    out
}

#[test]
fn credit_and_receipts_wait_for_the_stored_voucher() {
    let s = setup(PricingModel::PerMessage);
    let mut seller = SellerSession::new(s.seller_cfg.clone(), None)
        .unwrap()
        .credit_from_stored();
    let mut buyer = BuyerSession::new(s.buyer_cfg.clone(), None).unwrap();
    connect(&s, &mut seller, &mut buyer).unwrap();
    for i in 1..=5 {
        assert_eq!(deliver(&mut seller, &mut buyer, b"pm25"), i);
    }
    // Half the window owed: the buyer pays 50 for chunks 1..=5.
    let voucher = buyer_frame(&s, &mut buyer);
    assert!(
        matches!(decode(&voucher).unwrap(), Frame::Voucher(v) if v.amount == 50 && v.ack_seq == 5)
    );
    assert!(matches!(
        seller.on_frame(&voucher, &s.key).unwrap(),
        SellerEvent::Voucher(v) if v.amount == 50
    ));
    // Not stored yet: no receipt, and credit still counts from 0 — five
    // more chunks fill the window (owed 100 = 0 + W), the sixth waits.
    let mut out = vec![];
    assert_eq!(seller.poll_transmit(1, &mut out), None);
    assert_eq!(seller.credit_base(), 0);
    for i in 6..=10 {
        let mut wire = vec![];
        assert_eq!(seller.send_data(1, 1, b"pm25", &mut wire).unwrap().seq, i);
        buyer.on_frame(&wire, 1).unwrap();
    }
    assert_eq!(
        seller.send_data(1, 1, b"pm25", &mut out),
        Err(SendError::Blocked(Blocked::Credit {
            owed_after: 110,
            allowed: 100
        }))
    );
    // Stored: the receipt for 50 goes out and credit reaches 50 + 100.
    seller.voucher_stored(50);
    assert_eq!(seller.credit_base(), 50);
    out.clear();
    assert!(seller.poll_transmit(1, &mut out).is_some());
    assert!(matches!(decode(&out).unwrap(), Frame::Receipt(r) if r.amount == 50 && r.ack_seq == 5));
    assert!(matches!(
        buyer.on_frame(&out, 1).unwrap(),
        BuyerEvent::Receipt(_)
    ));
    let mut wire = vec![];
    assert_eq!(seller.send_data(1, 1, b"pm25", &mut wire).unwrap().seq, 11);
    // A stale report changes nothing.
    seller.voucher_stored(10);
    assert_eq!(seller.credit_base(), 50);
}

#[test]
fn without_stored_credit_receipts_go_out_at_once() {
    let s = setup(PricingModel::PerMessage);
    let mut seller = SellerSession::new(s.seller_cfg.clone(), None).unwrap();
    let mut buyer = BuyerSession::new(s.buyer_cfg.clone(), None).unwrap();
    connect(&s, &mut seller, &mut buyer).unwrap();
    for _ in 0..5 {
        deliver(&mut seller, &mut buyer, b"x");
    }
    let voucher = buyer_frame(&s, &mut buyer);
    seller.on_frame(&voucher, &s.key).unwrap();
    seller.voucher_stored(50); // no-op in this mode
    assert_eq!(seller.credit_base(), 50);
    let mut out = vec![];
    assert!(seller.poll_transmit(1, &mut out).is_some());
    assert!(matches!(decode(&out).unwrap(), Frame::Receipt(r) if r.amount == 50));
}

/// The buyer paid 50 (half the window) and received two chunks more; the
/// seller lost everything but that voucher.
fn crashed(s: &Setup, payload: &[u8]) -> (BuyerStream, SellerStream) {
    let mut seller = SellerSession::new(s.seller_cfg.clone(), None).unwrap();
    let mut buyer = BuyerSession::new(s.buyer_cfg.clone(), None).unwrap();
    connect(s, &mut seller, &mut buyer).unwrap();
    let (voucher, v) = loop {
        deliver(&mut seller, &mut buyer, payload);
        let frame = buyer_frame(s, &mut buyer);
        if let Some(Frame::Voucher(v)) = (!frame.is_empty()).then(|| decode(&frame).unwrap()) {
            break (frame.clone(), v);
        }
    };
    assert_eq!(v.amount, 50);
    seller.on_frame(&voucher, &s.key).unwrap();
    deliver(&mut seller, &mut buyer, payload);
    deliver(&mut seller, &mut buyer, payload);
    let recovered = SellerStream::recovered(1, 12, v.amount, Some(v.signature));
    (buyer.into_stream(), recovered)
}

#[test]
fn a_recovered_stream_adopts_the_buyer_position_and_continues_at_the_next_chunk() {
    let s = setup(PricingModel::PerMessage);
    let (bstream, recovered) = crashed(&s, b"pm25");
    assert_eq!(bstream.received.seq, 7);
    assert_eq!(bstream.paid, Amount(50));
    let mut seller = SellerSession::new(s.seller_cfg.clone(), Some(recovered)).unwrap();
    let mut buyer = BuyerSession::new(s.buyer_cfg.clone(), Some(bstream)).unwrap();
    connect(&s, &mut seller, &mut buyer).unwrap();
    assert_eq!(seller.sent().seq, 7);
    assert_eq!(seller.owed(), 70);
    assert!(!seller.stream().recovered);
    // Chunk 8 is new data, owed 80; nothing is charged twice.
    assert_eq!(deliver(&mut seller, &mut buyer, b"pm25"), 8);
    assert_eq!(buyer.owed(), 80);
}

#[test]
fn a_recovered_stream_refuses_a_position_the_pricing_rule_or_the_voucher_contradicts() {
    for model in [PricingModel::PerMessage, PricingModel::PerKilobyte] {
        let s = setup(model);
        let (honest, recovered) = crashed(&s, &[7; 600]);
        let mut cases: Vec<(BuyerStream, &str)> = vec![];
        // Fewer units than chunks (per message) or than the bytes start (per kilobyte).
        let mut fewer = honest.clone();
        fewer.received.units -= 1;
        cases.push((fewer, "units"));
        // Signed less than the voucher the seller holds.
        let mut unpaid = honest.clone();
        unpaid.paid = Amount(40);
        cases.push((unpaid, "paid"));
        for (stream, what) in cases {
            let mut seller =
                SellerSession::new(s.seller_cfg.clone(), Some(recovered.clone())).unwrap();
            let mut buyer = BuyerSession::new(s.buyer_cfg.clone(), Some(stream)).unwrap();
            let err = seller
                .on_hello(&buyer.hello([1; 32]).to_json(), [2; 32], &s.gateway)
                .unwrap_err();
            assert_eq!(
                err.code(),
                ErrorCode::ResumeMismatch,
                "{model:?} {what}: {err}"
            );
        }
        // The honest position is adopted: per kilobyte, 7 × 600 bytes = 5 kB.
        let mut seller = SellerSession::new(s.seller_cfg.clone(), Some(recovered)).unwrap();
        let mut buyer = BuyerSession::new(s.buyer_cfg.clone(), Some(honest)).unwrap();
        connect(&s, &mut seller, &mut buyer).unwrap();
        // Per message 7 chunks; per kilobyte 9 chunks of 600 bytes = 6 kB.
        let expected = match model {
            PricingModel::PerKilobyte => 60,
            _ => 70,
        };
        assert_eq!(seller.owed(), expected, "{model:?}");
    }
}
