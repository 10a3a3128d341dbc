//! The buyer client against scripted sellers on real sockets: a seller that
//! sends beyond what the buyer will pay (its cap), one that receipts more
//! than was paid, one whose offer changes the listing's price, one that does
//! not select the subprotocol, and one that breaks the frame rules after
//! three honest chunks (a gap or a repeat in the sequence, units the pricing
//! rule does not give, a payload above the offer's maximum, a malformed or
//! oversized frame, a buyer's frame type, a text message) — each refused
//! with its code and disconnected, nothing of the bad message counted.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use relayer_gateway::buyer::{self, BuyerError, BuyerOptions};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;
use wevalue_sdpp::crypto::{ChannelKey, ChannelKeySigner, GatewayKey};
use wevalue_sdpp::frame::{decode, Ack, Data, Frame, Receipt};
use wevalue_sdpp::handshake::{ChannelRef, Hex, Scheme, Terms};
use wevalue_sdpp::{
    Amount, Asset, BuyerConfig, ErrorCode, Price, PricingModel, SellerConfig, SellerSession,
    SessionError,
};

const CHAIN: &str = "wevalue-1";
const REGISTRY: &str = "wasm1nc5tatafv6eyq7llkr2gv50ff9e22mnf70qgjlv737ktmt4eswrqr5j2ht";
const CHANNELS: &str = "wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s0phg4d";

/// How the scripted seller misbehaves after the handshake.
#[derive(Clone, Copy)]
enum Script {
    /// Sends 15 chunks of 1 unit to a buyer capped at 5.
    OverSend,
    /// Sends 5 chunks, then a receipt for 500 (nothing was paid).
    OverAsk,
    /// Offers the listing at 11 instead of 10.
    WrongPrice,
    /// Selects no subprotocol.
    NoSubprotocol,
}

struct Keys {
    gateway: GatewayKey,
    seller: String,
    signer: ChannelKeySigner,
    key: ChannelKey,
}

fn keys() -> Keys {
    let gw = [0x47; 32];
    let (seller, cert) = GatewayKey::certify(
        [0x51; 32],
        "wasm",
        CHAIN,
        REGISTRY,
        GatewayKey::public_key(gw),
        4_000_000_000,
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
    Keys {
        gateway: GatewayKey::new(gw, cert),
        seller,
        signer,
        key,
    }
}

fn price(amount: u128) -> Price {
    Price {
        asset: Asset::Native("ustake".into()),
        amount: Amount(amount),
        model: PricingModel::PerMessage,
    }
}

fn terms() -> Terms {
    Terms {
        license: "CC-BY-4.0".into(),
        terms_hash: Hex([7; 32]),
    }
}

fn channel() -> ChannelRef {
    ChannelRef {
        contract: CHANNELS.into(),
        id: 12,
        scheme: Scheme::Ed25519,
    }
}

/// Serves one connection with the script; returns the URL.
// The handshake callback's error type is tungstenite's (an HTTP response).
#[allow(clippy::result_large_err)]
async fn seller(script: Script, keys: Arc<Keys>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let select = !matches!(script, Script::NoSubprotocol);
        let mut ws =
            tokio_tungstenite::accept_hdr_async(tcp, move |_: &Request, mut r: Response| {
                if select {
                    r.headers_mut()
                        .insert("Sec-WebSocket-Protocol", "sdpp.1".parse().unwrap());
                }
                Ok(r)
            })
            .await
            .unwrap();
        let cfg = SellerConfig {
            chain_id: CHAIN.into(),
            registry: REGISTRY.into(),
            listing_id: 1,
            seller: keys.seller.clone(),
            terms: terms(),
            price: price(if matches!(script, Script::WrongPrice) {
                11
            } else {
                10
            }),
            channel: channel(),
            deposit: 1_000_000,
            credit_window: 10,
            max_payload: 1_000,
            max_in_flight: 64,
            payment_timeout_ms: 30_000,
        };
        let mut s = SellerSession::new(cfg, None).unwrap();
        let Some(Ok(Message::Text(hello))) = ws.next().await else {
            return;
        };
        let offer = s.on_hello(&hello, [5; 32], &keys.gateway).unwrap();
        ws.send(Message::text(offer.to_json())).await.unwrap();
        let Some(Ok(Message::Text(accept))) = ws.next().await else {
            return;
        };
        s.on_accept(&accept, &keys.key, 0).unwrap();
        let chunks = if matches!(script, Script::OverSend) {
            15
        } else {
            5
        };
        for seq in 1..=chunks {
            // Encoded by hand: the session itself would stop at the window.
            let frame = Frame::Data(Data {
                seq,
                timestamp_ms: 0,
                units: 1,
                payload: b"{\"pm25\":12}",
            });
            ws.send(Message::binary(frame.to_vec().unwrap()))
                .await
                .unwrap();
        }
        if matches!(script, Script::OverAsk) {
            let r = Frame::Receipt(Receipt {
                ack_seq: 5,
                amount: 500,
            });
            ws.send(Message::binary(r.to_vec().unwrap())).await.unwrap();
        }
        while let Some(Ok(_)) = ws.next().await {}
    });
    format!("ws://{addr}/sdpp/1")
}

fn buyer_config(keys: &Keys) -> BuyerConfig {
    BuyerConfig {
        chain_id: CHAIN.into(),
        registry: REGISTRY.into(),
        listing_id: 1,
        seller: keys.seller.clone(),
        terms: terms(),
        price: price(10),
        channel: channel(),
        deposit: 1_000_000,
        max_amount: None,
        max_payload: 1_000,
        // Pays only when idle or closing: nothing is paid during the script.
        pay_at_percent: 100,
        idle_pay_ms: 60_000,
    }
}

#[tokio::test]
async fn a_seller_sending_beyond_what_the_buyer_pays_is_refused_at_the_first_chunk_too_many() {
    let keys = Arc::new(keys());
    let url = seller(Script::OverSend, keys.clone()).await;
    let mut config = buyer_config(&keys);
    config.max_amount = Some(50);
    let opts = BuyerOptions::new(url, config);
    let mut got = 0u64;
    let (stream, report) = buyer::run(&opts, &keys.signer, None, |_| got += 1, |_| Ok(()))
        .await
        .unwrap();
    // Chunks 1..=5 reach the cap (owed 50); chunk 6 is refused, not counted.
    assert_eq!(got, 5);
    assert_eq!(stream.received.seq, 5);
    assert_eq!(
        report.refused,
        Some(SessionError::CreditExceeded {
            seq: 6,
            owed: 60,
            allowed: 50,
            what: "the stream limit"
        })
    );
    // An error close pays nothing more: below the threshold, nothing was paid.
    assert_eq!(stream.paid.0, 0);
}

#[tokio::test]
async fn a_seller_receipting_more_than_was_paid_is_refused() {
    let keys = Arc::new(keys());
    let url = seller(Script::OverAsk, keys.clone()).await;
    let opts = BuyerOptions::new(url, buyer_config(&keys));
    let (stream, report) = buyer::run(&opts, &keys.signer, None, |_| {}, |_| Ok(()))
        .await
        .unwrap();
    assert_eq!(stream.received.seq, 5);
    assert_eq!(
        report.refused.as_ref().map(SessionError::code),
        Some(ErrorCode::BadReceipt)
    );
    assert_eq!(stream.paid.0, 0);
}

#[tokio::test]
async fn an_offer_at_another_price_or_without_the_subprotocol_is_refused() {
    let keys = Arc::new(keys());
    let url = seller(Script::WrongPrice, keys.clone()).await;
    let opts = BuyerOptions::new(url, buyer_config(&keys));
    let err = buyer::run(&opts, &keys.signer, None, |_| {}, |_| Ok(()))
        .await
        .unwrap_err();
    match err {
        BuyerError::Handshake(e) => assert_eq!(e.code(), ErrorCode::OfferRejected),
        other => panic!("expected OFFER_REJECTED, got {other}"),
    }
    let url = seller(Script::NoSubprotocol, keys.clone()).await;
    let opts = BuyerOptions::new(url, buyer_config(&keys));
    let err = buyer::run(&opts, &keys.signer, None, |_| {}, |_| Ok(()))
        .await
        .unwrap_err();
    assert!(matches!(err, BuyerError::Subprotocol), "{err}");
}

/// One connection: an honest handshake and chunks 1..=3, then `bad`;
/// resolves to the CLOSE code the buyer answered with.
// The handshake callback's error type is tungstenite's (an HTTP response).
#[allow(clippy::result_large_err)]
async fn breaking_seller(
    bad: Message,
    keys: Arc<Keys>,
) -> (String, tokio::task::JoinHandle<Option<ErrorCode>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_hdr_async(tcp, |_: &Request, mut r: Response| {
            r.headers_mut()
                .insert("Sec-WebSocket-Protocol", "sdpp.1".parse().unwrap());
            Ok(r)
        })
        .await
        .unwrap();
        let cfg = SellerConfig {
            chain_id: CHAIN.into(),
            registry: REGISTRY.into(),
            listing_id: 1,
            seller: keys.seller.clone(),
            terms: terms(),
            price: price(10),
            channel: channel(),
            deposit: 1_000_000,
            credit_window: 10,
            max_payload: 1_000,
            max_in_flight: 64,
            payment_timeout_ms: 30_000,
        };
        let mut s = SellerSession::new(cfg, None).unwrap();
        let Some(Ok(Message::Text(hello))) = ws.next().await else {
            panic!("a HELLO")
        };
        let offer = s.on_hello(&hello, [5; 32], &keys.gateway).unwrap();
        ws.send(Message::text(offer.to_json())).await.unwrap();
        let Some(Ok(Message::Text(accept))) = ws.next().await else {
            panic!("an ACCEPT")
        };
        s.on_accept(&accept, &keys.key, 0).unwrap();
        let mut out = vec![];
        for _ in 0..3 {
            out.clear();
            s.send_data(0, 0, b"{\"pm25\":12}", &mut out).unwrap();
            ws.send(Message::binary(out.clone())).await.unwrap();
        }
        ws.send(bad).await.unwrap();
        while let Some(Ok(m)) = ws.next().await {
            if let Message::Binary(b) = m {
                if let Ok(Frame::Close(c)) = decode(&b) {
                    return Some(c.code);
                }
            }
        }
        None
    });
    (format!("ws://{addr}/sdpp/1"), task)
}

fn data(seq: u64, units: u32, payload: &[u8]) -> Message {
    let frame = Frame::Data(Data {
        seq,
        timestamp_ms: 0,
        units,
        payload,
    });
    Message::binary(frame.to_vec().unwrap())
}

#[tokio::test]
async fn a_seller_breaking_the_frame_rules_is_refused_and_nothing_of_it_counted() {
    let keys = Arc::new(keys());
    let mut oversized = vec![0x01];
    oversized.extend_from_slice(&(2u32 << 20).to_be_bytes());
    oversized.extend_from_slice(&[0; 64]);
    let ack = Frame::Ack(Ack { ack_seq: 1 }).to_vec().unwrap();
    let cases: Vec<(&str, Message, ErrorCode)> = vec![
        (
            "a gap in the sequence",
            data(5, 1, b"{}"),
            ErrorCode::BadSequence,
        ),
        (
            "a repeated chunk",
            data(3, 1, b"{}"),
            ErrorCode::BadSequence,
        ),
        (
            "two units for one message",
            data(4, 2, b"{}"),
            ErrorCode::BadUnits,
        ),
        (
            "a payload above the offer's 1,000 bytes",
            data(4, 1, &[b'x'; 1_001]),
            ErrorCode::PayloadTooLarge,
        ),
        (
            "an unknown frame type",
            Message::binary(vec![0x09, 0, 0, 0, 0]),
            ErrorCode::MalformedFrame,
        ),
        (
            "a header declaring a 2 MiB body",
            Message::binary(oversized),
            ErrorCode::FrameTooLarge,
        ),
        (
            "an ACK, a buyer's frame",
            Message::binary(ack),
            ErrorCode::UnexpectedFrame,
        ),
        (
            "a text message while streaming",
            Message::text("{}"),
            ErrorCode::UnexpectedFrame,
        ),
    ];
    for (what, bad, code) in cases {
        let (url, seller) = breaking_seller(bad, keys.clone()).await;
        let opts = BuyerOptions::new(url, buyer_config(&keys));
        let mut got = 0u64;
        let (stream, report) = buyer::run(&opts, &keys.signer, None, |_| got += 1, |_| Ok(()))
            .await
            .unwrap();
        assert_eq!(
            report.refused.as_ref().map(SessionError::code),
            Some(code),
            "{what}"
        );
        assert_eq!(
            seller.await.unwrap(),
            Some(code),
            "{what}: the buyer's CLOSE"
        );
        assert_eq!((got, stream.received.seq), (3, 3), "{what}");
        assert_eq!(stream.paid.0, 0, "{what}: an error close pays nothing more");
    }
}
