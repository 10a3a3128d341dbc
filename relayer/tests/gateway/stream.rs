//! Paid streaming from a real MQTT feed: every message published after the
//! buyer connected arrives once, in order, charged one unit each, and the
//! final voucher the buyer signed is the watchtower's durable best. And the
//! credit window on the gateway's side: a buyer that stops paying gets
//! exactly the window, then PAYMENT_TIMEOUT.

use super::broker::Broker;
use super::*;
use futures_util::{SinkExt, StreamExt};
use relayer::services::gateway::source::publish_pm25;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use wevalue_sdpp::crypto::OfferVerifier;
use wevalue_sdpp::frame::{decode, Frame};
use wevalue_sdpp::{BuyerEvent, BuyerSession, ErrorCode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_messages_are_delivered_once_in_order_and_paid_per_message() {
    let broker = Broker::start();
    let env = setup().await;
    let gw = start_gateway(
        &env,
        gateway_config(vec![ListingConfig {
            id: 1,
            source: SourceConfig::Mqtt {
                host: "127.0.0.1".into(),
                port: broker.port(),
                topic: "turin/porta-nuova/pm25".into(),
                client_id: String::new(),
                qos: 1,
            },
        }]),
    )
    .await;
    let id = env.list(&gw.url(1), PricingModel::PerMessage).await;
    assert_eq!(id, 1);
    let listing = env.listing(1).await;
    assert_eq!(listing.endpoint, gw.url(1));
    let (ch, signer) = env.open("buyer", 1, 1_000_000).await;
    let mut opts = BuyerOptions::new(
        listing.endpoint.clone(),
        env.buyer_config(&listing, ch, 1_000_000, None),
    );
    opts.max_chunks = Some(300);
    let buyer = tokio::spawn(async move { buy(&opts, &signer, None).await });
    // The gateway subscribes when it connects to the broker; publish once
    // the buyer's session streams (live data before that is not kept).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let published = publish_pm25(
        "127.0.0.1",
        broker.port(),
        "turin/porta-nuova/pm25",
        300,
        Duration::from_millis(1),
        5,
    )
    .await
    .unwrap();
    let (stream, report, got) = tokio::time::timeout(Duration::from_secs(30), buyer)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.len(), 300);
    assert_eq!(
        got,
        published.iter().map(|p| p.to_vec()).collect::<Vec<_>>()
    );
    assert_eq!(report.chunks, 300);
    assert_eq!((stream.received.seq, stream.received.units), (300, 300));
    // 300 messages at 10: the final voucher pays 3,000, all of it durable.
    assert_eq!(stream.paid.0, 3_000);
    assert!(report.vouchers >= 300 * 10 / 50);
    env.wait_stored(ch, 3_000).await;
    assert_eq!(gw.gateway.source_stats(1), Some((300, 0)));
    assert_eq!(gw.gateway.open_connections(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_that_stops_paying_gets_the_window_then_payment_timeout() {
    let env = setup().await;
    let gw = start_gateway(&env, gateway_config(vec![simulated(1)])).await;
    env.list(&gw.url(1), PricingModel::PerMessage).await;
    let listing = env.listing(1).await;
    let (ch, signer) = env.open("buyer", 1, 1_000_000).await;
    // A raw buyer: handshakes, then never sends a voucher or an ACK.
    let mut session =
        BuyerSession::new(env.buyer_config(&listing, ch, 1_000_000, None), None).unwrap();
    let mut req = gw.url(1).into_client_request().unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "sdpp.1".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws.send(Message::text(session.hello([9; 32]).to_json()))
        .await
        .unwrap();
    let Some(Ok(Message::Text(offer))) = ws.next().await else {
        panic!("an offer")
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let accept = session
        .on_offer(&offer, 0, now, &OfferVerifier, &signer)
        .unwrap();
    ws.send(Message::text(accept.to_json())).await.unwrap();
    let mut seqs = vec![];
    let close = loop {
        match ws.next().await {
            Some(Ok(Message::Binary(b))) => match session.on_frame(&b, 1).unwrap() {
                BuyerEvent::Data(d) => seqs.push(d.seq),
                BuyerEvent::Closed { code, last_seq, .. } => break (code, last_seq),
                other => panic!("unexpected {other:?}"),
            },
            other => panic!("unexpected {other:?}"),
        }
    };
    // Window 10 messages: chunks 1..=10, nothing more, then the timeout (400 ms).
    assert_eq!(seqs, (1..=10).collect::<Vec<u64>>());
    assert_eq!(close, (ErrorCode::PaymentTimeout, 10));
    // Graceful: the late final voucher is still taken and stored.
    let mut out = vec![];
    session.poll_transmit(2, &signer, &mut out).unwrap();
    assert!(
        matches!(decode(&out).unwrap(), Frame::Voucher(v) if v.amount == 100 && v.ack_seq == 10)
    );
    ws.send(Message::binary(out.clone())).await.unwrap();
    env.wait_stored(ch, 100).await;
    out.clear();
    session.poll_transmit(2, &signer, &mut out).unwrap();
    assert!(matches!(decode(&out).unwrap(), Frame::Close(c) if c.code == ErrorCode::Normal));
    ws.send(Message::binary(out)).await.unwrap();
    // The WebSocket closes with 4000 + 306 (the seller's CLOSE code).
    let mut ws_close = None;
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Close(Some(c)) = m {
            ws_close = Some(u16::from(c.code));
        }
    }
    assert_eq!(ws_close, Some(4306));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_with_rustls_streams_and_pays_like_ws() {
    let env = setup().await;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gateway");
    let mut config = gateway_config(vec![simulated(1)]);
    config.tls = Some(relayer::services::gateway::TlsConfig {
        cert: fixtures.join("cert.pem"),
        key: fixtures.join("key.pem"),
    });
    let gw = start_gateway(&env, config).await;
    assert!(gw.url(1).starts_with("wss://127.0.0.1:"), "{}", gw.url(1));
    env.list(&gw.url(1), PricingModel::PerMessage).await;
    let listing = env.listing(1).await;
    let (ch, signer) = env.open("buyer", 1, 1_000_000).await;
    let mut opts = BuyerOptions::new(gw.url(1), env.buyer_config(&listing, ch, 1_000_000, None));
    // Without the certificate's root the buyer refuses the server.
    assert!(matches!(
        buy_err(&opts, &signer).await,
        buyer::BuyerError::Connect { .. }
    ));
    opts.roots_pem = Some(fixtures.join("cert.pem"));
    opts.max_chunks = Some(20);
    let (stream, report, got) = buy(&opts, &signer, None).await;
    assert_eq!((report.chunks, got.len()), (20, 20));
    assert_eq!(stream.paid.0, 200);
    env.wait_stored(ch, 200).await;
}

async fn buy_err(opts: &BuyerOptions, signer: &ChannelKeySigner) -> buyer::BuyerError {
    buyer::run(opts, signer, None, |_| {}, |_| Ok(()))
        .await
        .map(|_| ())
        .unwrap_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_replay_is_charged_per_started_kilobyte_of_the_whole_stream() {
    let env = setup().await;
    // Five JSONL records of exactly 600 bytes each.
    let record = format!("{{\"pad\":\"{}\"}}", "x".repeat(590));
    assert_eq!(record.len(), 600);
    let path = env.dir.path().join("replay.jsonl");
    std::fs::write(&path, format!("{record}\n").repeat(5)).unwrap();
    let source = SourceConfig::File {
        path,
        format: relayer::services::gateway::FileFormat::Jsonl,
        interval_ms: 0,
        repeat: false,
    };
    let gw = start_gateway(&env, gateway_config(vec![ListingConfig { id: 1, source }])).await;
    env.list(&gw.url(1), PricingModel::PerKilobyte).await;
    let listing = env.listing(1).await;
    let (ch, signer) = env.open("buyer", 1, 1_000_000).await;
    let mut opts = BuyerOptions::new(gw.url(1), env.buyer_config(&listing, ch, 1_000_000, None));
    opts.max_chunks = Some(5);
    let mut units = vec![];
    let (stream, _) = buyer::run(&opts, &signer, None, |d| units.push(d.units), |_| Ok(()))
        .await
        .unwrap();
    // 600, 1,200, 1,800, 2,400, 3,000 bytes: kilobytes started 1, 2, 2, 3, 3.
    assert_eq!(units, vec![1, 1, 0, 1, 0]);
    assert_eq!((stream.received.bytes, stream.received.units), (3_000, 3));
    assert_eq!(stream.paid.0, 30);
    env.wait_stored(ch, 30).await;
}
