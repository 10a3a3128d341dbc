//! The handshake with real keys (feature `voucher`): HELLO, a signed OFFER
//! under a seller-certified gateway key, an ACCEPT signed with the channel
//! key, then vouchers the payment-channel contract would accept — for each
//! voucher scheme. And every way a handshake is refused, with its code.

use wevalue_sdpp::crypto::{ChannelKey, ChannelKeySigner, GatewayKey, OfferVerifier};
use wevalue_sdpp::frame::{decode, Frame};
use wevalue_sdpp::handshake::{
    accept_message, ChannelRef, Hello, Hex, Offer, Scheme, Terms, ACCEPT_DOMAIN,
};
use wevalue_sdpp::seller::SellerStream;
use wevalue_sdpp::{
    Amount, Asset, BuyerConfig, BuyerEvent, BuyerSession, ChannelVerifier, ErrorCode,
    GatewayVerifier, Phase, Price, PricingModel, SellerConfig, SellerEvent, SellerSession,
    SessionError, SignatureError,
};
use wevalue_voucher::sign::verify;
use wevalue_voucher::{Voucher, VoucherScheme};

const CHAIN: &str = "wevalue-1";
const REGISTRY: &str = "wasm1nc5tatafv6eyq7llkr2gv50ff9e22mnf70qgjlv737ktmt4eswrqr5j2ht";
const CHANNELS: &str = "wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s0phg4d";
const SELLER_SECRET: [u8; 32] = [0x51; 32];
const GATEWAY_SECRET: [u8; 32] = [0x47; 32];
const NOW_S: u64 = 1_750_000_000;

/// A change to a configuration or message, for table-driven cases.
type Change<T> = Box<dyn Fn(&mut T)>;

struct Setup {
    seller_cfg: SellerConfig,
    buyer_cfg: BuyerConfig,
    gateway: GatewayKey,
    signer: ChannelKeySigner,
    key: ChannelKey,
}

fn setup(scheme: Scheme) -> Setup {
    let gw_pub = GatewayKey::public_key(GATEWAY_SECRET);
    let (seller, cert) = GatewayKey::certify(
        SELLER_SECRET,
        "wasm",
        CHAIN,
        REGISTRY,
        gw_pub,
        NOW_S + 3_600,
    )
    .unwrap();
    let signer =
        ChannelKeySigner::from_secret(scheme, [0x33; 32], "wasm", CHAIN, CHANNELS, 12).unwrap();
    let key = ChannelKey::new(CHAIN, CHANNELS, 12, scheme, &signer.public_key(), "wasm").unwrap();
    let channel = ChannelRef {
        contract: CHANNELS.into(),
        id: 12,
        scheme,
    };
    let terms = Terms {
        license: "CC-BY-4.0".into(),
        terms_hash: Hex([0xd0; 32]),
    };
    let price = Price {
        asset: Asset::Native("ustake".into()),
        amount: Amount(10),
        model: PricingModel::PerMessage,
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
            max_payload: 4_096,
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
            max_amount: Some(500),
            max_payload: 65_536,
            pay_at_percent: 50,
            idle_pay_ms: 1_000,
        },
        gateway: GatewayKey::new(GATEWAY_SECRET, cert),
        signer,
        key,
    }
}

/// HELLO → OFFER → ACCEPT; returns both sessions streaming.
fn connect(s: &Setup) -> (SellerSession, BuyerSession) {
    let mut seller = SellerSession::new(s.seller_cfg.clone(), None).unwrap();
    let mut buyer = BuyerSession::new(s.buyer_cfg.clone(), None).unwrap();
    let hello = buyer.hello([1; 32]).to_json();
    let offer = seller.on_hello(&hello, [2; 32], &s.gateway).unwrap();
    let accept = buyer
        .on_offer(&offer.to_json(), 0, NOW_S, &OfferVerifier, &s.signer)
        .unwrap();
    let accepted = seller.on_accept(&accept.to_json(), &s.key, 0).unwrap();
    assert_eq!(accepted.offer_digest, offer.digest());
    (seller, buyer)
}

#[test]
fn every_scheme_handshakes_and_pays_with_vouchers_the_contract_accepts() {
    for scheme in [Scheme::Ed25519, Scheme::Secp256k1, Scheme::Adr036] {
        let s = setup(scheme);
        let (mut seller, mut buyer) = connect(&s);
        assert_eq!(
            (seller.phase(), buyer.phase()),
            (Phase::Streaming, Phase::Streaming)
        );
        // The buyer's cap (500) is the limit, below the deposit.
        assert_eq!(seller.limit(), 500);
        let mut wire = vec![];
        for i in 0..5u8 {
            wire.clear();
            seller
                .send_data(10, 1_000 + u64::from(i), &[i; 8], &mut wire)
                .unwrap();
            assert!(
                matches!(buyer.on_frame(&wire, 10).unwrap(), BuyerEvent::Data(d) if d.payload == [i; 8])
            );
        }
        // Five messages at 10 reach 50 % of the window (100): a voucher for 50.
        let mut out = vec![];
        buyer.poll_transmit(10, &s.signer, &mut out).unwrap();
        let Frame::Voucher(v) = decode(&out).unwrap() else {
            panic!("a voucher")
        };
        assert_eq!((v.channel_id, v.ack_seq, v.amount), (12, 5, 50));
        // The payment-channel contract would accept it: same sign bytes, same key.
        let contract_voucher = Voucher {
            chain_id: CHAIN.into(),
            contract: CHANNELS.into(),
            channel_id: 12,
            amount: 50u128.into(),
            hashlock: None,
            expiry: None,
        };
        verify(
            VoucherScheme::from(scheme),
            &s.signer.public_key(),
            &contract_voucher,
            &v.signature,
            "wasm",
        )
        .unwrap();
        assert_eq!(
            seller.on_frame(&out, &s.key).unwrap(),
            SellerEvent::Voucher(v)
        );
        let mut receipt = vec![];
        seller.poll_transmit(10, &mut receipt);
        assert!(
            matches!(buyer.on_frame(&receipt, 10).unwrap(), BuyerEvent::Receipt(r) if r.amount == 50)
        );
        // The next voucher (100) with its amount changed to 90 is refused.
        for i in 5..10u8 {
            wire.clear();
            seller.send_data(20, 2_000, &[i; 8], &mut wire).unwrap();
            buyer.on_frame(&wire, 20).unwrap();
        }
        let mut forged = vec![];
        buyer.poll_transmit(20, &s.signer, &mut forged).unwrap();
        assert!(matches!(decode(&forged).unwrap(), Frame::Voucher(v) if v.amount == 100));
        forged[5 + 8 + 8 + 15] = 90;
        assert!(
            matches!(
                seller.on_frame(&forged, &s.key),
                Err(SessionError::BadSignature(SignatureError::Invalid))
            ),
            "{scheme:?}"
        );
    }
}

#[test]
fn the_offer_proves_the_listing_seller_and_binds_the_buyer_nonce() {
    let s = setup(Scheme::Ed25519);
    let mut seller = SellerSession::new(s.seller_cfg.clone(), None).unwrap();
    let mut buyer = BuyerSession::new(s.buyer_cfg.clone(), None).unwrap();
    let offer = seller
        .on_hello(&buyer.hello([1; 32]).to_json(), [2; 32], &s.gateway)
        .unwrap();
    OfferVerifier.verify_offer(&offer, NOW_S).unwrap();
    // Any field the buyer does not compare with the chain is still signed.
    let mut changed = offer.clone();
    changed.credit_window += 1;
    assert_eq!(
        OfferVerifier.verify_offer(&changed, NOW_S),
        Err(SignatureError::Invalid)
    );
    // An expired certificate.
    assert_eq!(
        OfferVerifier.verify_offer(&offer, NOW_S + 3_601),
        Err(SignatureError::Expired {
            not_after: NOW_S + 3_600,
            now: NOW_S + 3_601
        })
    );
    // A certificate signed by someone else's account key.
    let (other, cert) = GatewayKey::certify(
        [0x52; 32],
        "wasm",
        CHAIN,
        REGISTRY,
        offer.gateway.key.0,
        NOW_S + 3_600,
    )
    .unwrap();
    let mut forged = offer.clone();
    forged.gateway.certificate = cert;
    assert_eq!(
        OfferVerifier.verify_offer(&forged, NOW_S),
        Err(SignatureError::WrongSigner {
            expected: offer.seller.clone(),
            actual: other
        })
    );
    // The buyer refuses it with BAD_PROOF and queues the close.
    let err = buyer
        .on_offer(&changed.to_json(), 0, NOW_S, &OfferVerifier, &s.signer)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadProof);
    let mut out = vec![];
    buyer.poll_transmit(0, &s.signer, &mut out).unwrap();
    assert!(matches!(decode(&out).unwrap(), Frame::Close(c) if c.code == ErrorCode::BadProof));
    // An offer made for another HELLO (another nonce) is refused.
    let mut buyer = BuyerSession::new(s.buyer_cfg.clone(), None).unwrap();
    buyer.hello([9; 32]);
    let err = buyer
        .on_offer(&offer.to_json(), 0, NOW_S, &OfferVerifier, &s.signer)
        .unwrap_err();
    assert!(matches!(
        err,
        SessionError::OfferRejected {
            field: "client_nonce",
            ..
        }
    ));
}

#[test]
fn the_buyer_refuses_offers_that_differ_from_the_chain() {
    let s = setup(Scheme::Ed25519);
    let cases: Vec<(&str, Change<SellerConfig>, ErrorCode)> = vec![
        (
            "price",
            Box::new(|c| c.price.amount = Amount(11)),
            ErrorCode::OfferRejected,
        ),
        (
            "model",
            Box::new(|c| c.price.model = PricingModel::PerKilobyte),
            ErrorCode::OfferRejected,
        ),
        (
            "terms",
            Box::new(|c| c.terms.license = "proprietary".into()),
            ErrorCode::TermsMismatch,
        ),
        (
            "max_payload within the buyer's",
            Box::new(|c| c.max_payload = 10_000),
            ErrorCode::Normal,
        ),
    ];
    for (name, change, code) in cases {
        let mut cfg = s.seller_cfg.clone();
        change(&mut cfg);
        let mut seller = SellerSession::new(cfg, None).unwrap();
        let mut buyer = BuyerSession::new(s.buyer_cfg.clone(), None).unwrap();
        let offer = seller
            .on_hello(&buyer.hello([1; 32]).to_json(), [2; 32], &s.gateway)
            .unwrap();
        let res = buyer.on_offer(&offer.to_json(), 0, NOW_S, &OfferVerifier, &s.signer);
        match code {
            ErrorCode::Normal => assert!(res.is_ok(), "{name}"),
            code => assert_eq!(res.unwrap_err().code(), code, "{name}"),
        }
    }
}

#[test]
fn the_seller_refuses_hellos_it_cannot_serve() {
    let s = setup(Scheme::Ed25519);
    let hello = |f: &dyn Fn(&mut Hello)| {
        let mut b = BuyerSession::new(s.buyer_cfg.clone(), None).unwrap();
        let mut h = b.hello([1; 32]);
        f(&mut h);
        h.to_json()
    };
    let cases: Vec<(Change<Hello>, ErrorCode)> = vec![
        (Box::new(|h| h.listing_id = 2), ErrorCode::UnknownListing),
        (
            Box::new(|h| h.chain_id = "other-1".into()),
            ErrorCode::UnknownListing,
        ),
        (
            Box::new(|h| h.terms_hash = Hex([0; 32])),
            ErrorCode::TermsMismatch,
        ),
        (
            Box::new(|h| h.channel.scheme = Scheme::Secp256k1),
            ErrorCode::ChannelInvalid,
        ),
        (Box::new(|h| h.channel.id = 13), ErrorCode::ChannelInvalid),
        (Box::new(|h| h.max_payload = 0), ErrorCode::BadHandshake),
        (
            Box::new(|h| h.listing_id = 1 << 53),
            ErrorCode::BadHandshake,
        ),
    ];
    for (change, code) in cases {
        let mut seller = SellerSession::new(s.seller_cfg.clone(), None).unwrap();
        let err = seller
            .on_hello(&hello(&*change), [2; 32], &s.gateway)
            .unwrap_err();
        assert_eq!(err.code(), code, "{err}");
        // The session closed and queued a CLOSE with the same code.
        assert_eq!(seller.phase(), Phase::Closed);
        let mut out = vec![];
        seller.poll_transmit(0, &mut out);
        assert!(
            matches!(decode(&out).unwrap(), Frame::Close(c) if c.code == code && !c.reason.is_empty())
        );
    }
    // The channel's stored stream belongs to another listing.
    let other = SellerStream::new(7, 12);
    let mut seller = SellerSession::new(s.seller_cfg.clone(), Some(other)).unwrap();
    let err = seller
        .on_hello(&hello(&|_| {}), [2; 32], &s.gateway)
        .unwrap_err();
    assert_eq!(
        err,
        SessionError::ChannelInUse {
            channel_id: 12,
            listing_id: 7
        }
    );
}

#[test]
fn handshake_json_is_strict() {
    let s = setup(Scheme::Ed25519);
    let mut b = BuyerSession::new(s.buyer_cfg.clone(), None).unwrap();
    let good = b.hello([1; 32]).to_json();
    assert!(Hello::from_json(&good).is_ok());
    let bad = [
        good.replace("\"type\":\"hello\"", "\"type\":\"offer\""),
        good.replace("sdpp/1", "sdpp/2"),
        good.replace("\"listing_id\":1", "\"listing_id\":1,\"extra\":true"),
        good.replace("\"max_amount\":\"500\"", "\"max_amount\":500"),
        good.replace("\"max_amount\":\"500\"", "\"max_amount\":\"0500\""),
        "{".to_string(),
    ];
    for text in bad {
        let err = Hello::from_json(&text).unwrap_err();
        assert_eq!(err.code(), ErrorCode::BadHandshake, "{text}");
    }
    let huge = format!("{good:<20000}");
    assert_eq!(
        Hello::from_json(&huge).unwrap_err().code(),
        ErrorCode::FrameTooLarge
    );
    // Hex of the wrong length and non-hex digits.
    let nonce = format!("{:?}", Hex([1u8; 32]));
    assert!(Hello::from_json(&good.replace(&nonce, &nonce[2..])).is_err());
    assert!(Hello::from_json(&good.replace(&nonce, &nonce.replace('0', "g"))).is_err());
    // Upper-case hex is read; output is lower case.
    let upper = Hello::from_json(&good.replace("d0d0", "D0D0")).unwrap();
    assert_eq!(upper.to_json(), good);
}

#[test]
fn acceptance_is_checked_and_can_never_be_a_voucher() {
    let s = setup(Scheme::Ed25519);
    let mut seller = SellerSession::new(s.seller_cfg.clone(), None).unwrap();
    // ACCEPT before any offer.
    let err = seller
        .on_accept("{\"type\":\"accept\",\"signature\":\"00\"}", &s.key, 0)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnexpectedFrame);
    let mut seller = SellerSession::new(s.seller_cfg.clone(), None).unwrap();
    let mut buyer = BuyerSession::new(s.buyer_cfg.clone(), None).unwrap();
    let offer: Offer = seller
        .on_hello(&buyer.hello([1; 32]).to_json(), [2; 32], &s.gateway)
        .unwrap();
    let mut accept = buyer
        .on_offer(&offer.to_json(), 0, NOW_S, &OfferVerifier, &s.signer)
        .unwrap();
    let good = accept.signature;
    accept.signature.0[0] ^= 1;
    let err = seller.on_accept(&accept.to_json(), &s.key, 0).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadAcceptance);
    // The acceptance's domain is not the voucher domain, so its signature
    // verifies as an acceptance and never as a voucher of any amount.
    let msg = accept_message(&offer.digest());
    assert!(msg.starts_with(ACCEPT_DOMAIN));
    assert!(!msg.starts_with(wevalue_voucher::DOMAIN));
    s.key.verify_accept(&msg, &good.0).unwrap();
    assert_eq!(
        s.key.verify_voucher(0, &good.0),
        Err(SignatureError::Invalid)
    );
}

#[test]
fn configurations_are_validated() {
    use wevalue_sdpp::ConfigError;
    let s = setup(Scheme::Ed25519);
    let seller = |f: &dyn Fn(&mut SellerConfig)| {
        let mut c = s.seller_cfg.clone();
        f(&mut c);
        SellerSession::new(c, None).err()
    };
    let field = |e: Option<ConfigError>| match e {
        Some(ConfigError::Invalid { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(seller(&|_| {}), None);
    assert_eq!(
        field(seller(&|c| c.price.amount = Amount(0))),
        "price.amount"
    );
    // Per kilobyte, a 4,096-byte chunk can charge 5 units: a window of 4 could never send it.
    assert_eq!(
        field(seller(&|c| {
            c.price.model = PricingModel::PerKilobyte;
            c.credit_window = 4;
        })),
        "credit_window"
    );
    assert_eq!(
        field(seller(&|c| c.price.amount = Amount(u128::MAX))),
        "credit_window"
    );
    assert_eq!(field(seller(&|c| c.max_in_flight = 0)), "max_in_flight");
    assert_eq!(field(seller(&|c| c.max_payload = 0)), "max_payload");
    assert_eq!(
        field(seller(&|c| c.max_payload = (1 << 20) + 1)),
        "max_payload"
    );
    assert_eq!(
        field(seller(&|c| c.payment_timeout_ms = 0)),
        "payment_timeout_ms"
    );
    assert!(matches!(
        SellerSession::new(s.seller_cfg.clone(), Some(SellerStream::new(1, 99))),
        Err(ConfigError::StreamMismatch {
            stored_channel: 99,
            ..
        })
    ));
    for pct in [0u8, 101] {
        let mut c = s.buyer_cfg.clone();
        c.pay_at_percent = pct;
        assert_eq!(field(BuyerSession::new(c, None).err()), "pay_at_percent");
    }
}

#[test]
fn close_reasons_fit_the_frame_and_websocket_codes_follow() {
    let s = setup(Scheme::Ed25519);
    let mut seller = SellerSession::new(s.seller_cfg.clone(), None).unwrap();
    // A long reason (the error text quotes the peer's listing id) is cut to 123 bytes.
    let mut h = BuyerSession::new(s.buyer_cfg.clone(), None)
        .unwrap()
        .hello([1; 32]);
    h.registry = format!("wasm1{}", "q".repeat(120));
    let err = seller
        .on_hello(&h.to_json(), [2; 32], &s.gateway)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnknownListing);
    assert!(err.to_string().len() > 123);
    let mut out = vec![];
    seller.poll_transmit(0, &mut out);
    let Frame::Close(c) = decode(&out).unwrap() else {
        panic!("a close")
    };
    assert_eq!(c.reason.len(), 123);
    assert!(c.reason.starts_with("this session serves registry"));
    assert_eq!(c.code.ws_close_code(), 4200);
    // Frames after the close are ignored, not answered.
    assert_eq!(seller.on_frame(&out, &s.key), Ok(SellerEvent::Ignored));
    assert_eq!(seller.poll_transmit(0, &mut out), None);
}
