//! What the gateway does with bad input from a buyer: each case is refused
//! with its typed CLOSE frame and the WebSocket close code 4000 + code —
//! malformed and oversized frames, an oversized HELLO, a text message while
//! streaming, a forged voucher, a voucher that does not increase, one above
//! the amount owed, an unknown channel and a wrong subprotocol.

use super::*;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use wevalue_sdpp::crypto::OfferVerifier;
use wevalue_sdpp::frame::{decode, Frame, Voucher};
use wevalue_sdpp::{BuyerEvent, BuyerSession, ChannelSigner, ErrorCode};

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str) -> Ws {
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "sdpp.1".parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// Handshakes and reads `chunks` chunks (paying nothing).
async fn streaming(
    url: &str,
    config: BuyerConfig,
    signer: &ChannelKeySigner,
    chunks: u64,
) -> (Ws, BuyerSession) {
    let mut session = BuyerSession::new(config, None).unwrap();
    let mut ws = connect(url).await;
    ws.send(Message::text(session.hello([3; 32]).to_json()))
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
        .on_offer(&offer, 0, now, &OfferVerifier, signer)
        .unwrap();
    ws.send(Message::text(accept.to_json())).await.unwrap();
    let mut n = 0;
    while n < chunks {
        if let Some(Ok(Message::Binary(b))) = ws.next().await {
            if let BuyerEvent::Data(_) = session.on_frame(&b, 1).unwrap() {
                n += 1;
            }
        }
    }
    (ws, session)
}

/// Reads to the end: the seller's CLOSE code and the WebSocket close code.
async fn closed(ws: &mut Ws) -> (Option<ErrorCode>, Option<u16>) {
    let (mut code, mut ws_code) = (None, None);
    while let Some(Ok(m)) = ws.next().await {
        match m {
            Message::Binary(b) => {
                if let Ok(Frame::Close(c)) = decode(&b) {
                    code.get_or_insert(c.code);
                }
            }
            Message::Close(Some(c)) => ws_code = Some(u16::from(c.code)),
            _ => {}
        }
    }
    (code, ws_code)
}

fn voucher(signer: &ChannelKeySigner, ch: u64, ack_seq: u64, amount: u128) -> Vec<u8> {
    Frame::Voucher(Voucher {
        channel_id: ch,
        ack_seq,
        amount,
        signature: signer.sign_voucher(amount).unwrap(),
    })
    .to_vec()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_and_vouchers_are_refused_with_their_codes() {
    let env = setup().await;
    let gw = start_gateway(&env, gateway_config(vec![simulated(1)])).await;
    env.list(&gw.url(1), PricingModel::PerMessage).await;
    let listing = env.listing(1).await;
    let (ch, signer) = env.open("buyer", 1, 1_000_000).await;
    let other = ChannelKeySigner::from_secret(
        wevalue_sdpp::handshake::Scheme::Ed25519,
        key_secret(99),
        "wasm",
        CHAIN_ID,
        &env.channels,
        ch,
    )
    .unwrap();
    let config = env.buyer_config(&listing, ch, 1_000_000, None);
    let url = gw.url(1);
    // Each case: a streaming session after 5 chunks, one bad message.
    let mut too_large = vec![0x01];
    too_large.extend_from_slice(&(2u32 << 20).to_be_bytes());
    too_large.extend_from_slice(&[0; 64]);
    let cases: Vec<(&str, Message, ErrorCode)> = vec![
        (
            "unknown frame type",
            Message::binary(vec![0x09, 0, 0, 0, 0]),
            ErrorCode::MalformedFrame,
        ),
        (
            "short voucher",
            Message::binary(vec![0x02, 0, 0, 0, 4, 1, 2, 3, 4]),
            ErrorCode::MalformedFrame,
        ),
        (
            "body above 1 MiB + 20",
            Message::binary(too_large),
            ErrorCode::FrameTooLarge,
        ),
        (
            "DATA from a buyer",
            Message::binary(
                Frame::Data(wevalue_sdpp::frame::Data {
                    seq: 1,
                    timestamp_ms: 0,
                    units: 1,
                    payload: b"x",
                })
                .to_vec()
                .unwrap(),
            ),
            ErrorCode::UnexpectedFrame,
        ),
        (
            "text while streaming",
            Message::text("{}"),
            ErrorCode::UnexpectedFrame,
        ),
        (
            "forged voucher",
            Message::binary(voucher(&other, ch, 5, 50)),
            ErrorCode::BadSignature,
        ),
        (
            "voucher for another channel",
            Message::binary(voucher(&signer, ch + 1, 5, 50)),
            ErrorCode::WrongChannel,
        ),
        (
            "voucher above the amount owed",
            Message::binary(voucher(&signer, ch, 5, 60)),
            ErrorCode::VoucherExceedsOwed,
        ),
        (
            "ack beyond what was sent",
            Message::binary(
                Frame::Ack(wevalue_sdpp::frame::Ack { ack_seq: 1_000 })
                    .to_vec()
                    .unwrap(),
            ),
            ErrorCode::BadAck,
        ),
    ];
    for (what, msg, code) in cases {
        let (mut ws, _) = streaming(&url, config.clone(), &signer, 5).await;
        ws.send(msg).await.unwrap();
        assert_eq!(
            closed(&mut ws).await,
            (Some(code), Some(code.ws_close_code())),
            "{what}"
        );
    }
    // A valid voucher, then one that does not increase.
    let (mut ws, _) = streaming(&url, config.clone(), &signer, 5).await;
    ws.send(Message::binary(voucher(&signer, ch, 5, 50)))
        .await
        .unwrap();
    ws.send(Message::binary(voucher(&signer, ch, 5, 50)))
        .await
        .unwrap();
    assert_eq!(
        closed(&mut ws).await,
        (Some(ErrorCode::VoucherNotIncreasing), Some(4302))
    );
    env.wait_stored(ch, 50).await;

    // Handshake refusals: an oversized HELLO, an unknown channel.
    let mut ws = connect(&url).await;
    ws.send(Message::text("x".repeat(17 * 1024))).await.unwrap();
    assert_eq!(
        closed(&mut ws).await,
        (Some(ErrorCode::FrameTooLarge), Some(4102))
    );
    let mut unknown = config.clone();
    unknown.channel.id = 4_242;
    let mut session = BuyerSession::new(unknown, None).unwrap();
    let mut ws = connect(&url).await;
    ws.send(Message::text(session.hello([4; 32]).to_json()))
        .await
        .unwrap();
    assert_eq!(
        closed(&mut ws).await,
        (Some(ErrorCode::ChannelInvalid), Some(4202))
    );
    // No subprotocol offered: HTTP 400, no WebSocket.
    let err = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
    // A listing this gateway does not serve: HTTP 404.
    let err = tokio_tungstenite::connect_async(gw.url(7).as_str())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
}
