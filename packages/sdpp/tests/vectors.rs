//! `test-vectors.json`: frames (valid, with their fields; invalid, with the
//! error they must give), and a complete handshake with fixed keys (the
//! offer's sign bytes and digest, the gateway certificate and its ADR-036
//! sign doc, the acceptance, and a voucher).
//!
//! `vectors_file_is_current` regenerates the file's content and compares;
//! `SDPP_WRITE_VECTORS=1 cargo test -p wevalue-sdpp --test vectors` writes it.
//! The other tests read the file as another implementation would.

use serde_json::{json, Value};
use wevalue_sdpp::crypto::{ChannelKey, ChannelKeySigner, GatewayKey, OfferVerifier};
use wevalue_sdpp::frame::{decode, Ack, Close, Data, DecodeError, Frame, Receipt, Voucher};
use wevalue_sdpp::handshake::{accept_message, ChannelRef, Hex, Offer, Scheme, Terms};
use wevalue_sdpp::{
    Accept, Amount, Asset, BuyerConfig, BuyerSession, ChannelSigner, ChannelVerifier, ErrorCode,
    GatewayVerifier, Hello, Price, PricingModel, SellerConfig, SellerSession,
};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test-vectors.json");
const CHAIN: &str = "wevalue-1";
const REGISTRY: &str = "wasm1nc5tatafv6eyq7llkr2gv50ff9e22mnf70qgjlv737ktmt4eswrqr5j2ht";
const CHANNELS: &str = "wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s0phg4d";
const SELLER_SECRET: [u8; 32] = [0x51; 32];
const GATEWAY_SECRET: [u8; 32] = [0x47; 32];
const CHANNEL_SECRET: [u8; 32] = [0x33; 32];
const NOW_S: u64 = 1_750_000_000;

fn h(b: &[u8]) -> String {
    hex::encode(b)
}

fn channel_signer() -> ChannelKeySigner {
    ChannelKeySigner::from_secret(Scheme::Ed25519, CHANNEL_SECRET, "wasm", CHAIN, CHANNELS, 12)
        .unwrap()
}

fn frame_json(f: &Frame) -> Value {
    match f {
        Frame::Data(d) => json!({"type": "DATA", "seq": d.seq, "timestamp_ms": d.timestamp_ms,
            "units": d.units, "payload": h(d.payload)}),
        Frame::Voucher(v) => json!({"type": "VOUCHER", "channel_id": v.channel_id,
            "ack_seq": v.ack_seq, "amount": v.amount.to_string(), "signature": h(&v.signature)}),
        Frame::Ack(a) => json!({"type": "ACK", "ack_seq": a.ack_seq}),
        Frame::Receipt(r) => json!({"type": "RECEIPT", "ack_seq": r.ack_seq,
            "amount": r.amount.to_string()}),
        Frame::Close(c) => json!({"type": "CLOSE", "code": c.code.as_u16(),
            "code_name": c.code.name(), "last_seq": c.last_seq, "reason": c.reason}),
    }
}

fn frames() -> Vec<(&'static str, Vec<u8>)> {
    let signer = channel_signer();
    let sig = signer.sign_voucher(50).unwrap();
    let kb = vec![b'a'; 1_001];
    let max_sig = signer.sign_voucher(u128::MAX).unwrap();
    let list: Vec<(&str, Frame)> = vec![
        (
            "data: first message of a per-message stream",
            Frame::Data(Data {
                seq: 1,
                timestamp_ms: 1_700_000_000_000,
                units: 1,
                payload: br#"{"pm25":12.5}"#,
            }),
        ),
        (
            "data: empty heartbeat in an already billed second (per second)",
            Frame::Data(Data {
                seq: 2,
                timestamp_ms: 1_700_000_000_400,
                units: 0,
                payload: b"",
            }),
        ),
        (
            "data: 1,001 bytes, the first of a per-kilobyte stream: 2 kilobytes started",
            Frame::Data(Data {
                seq: 1,
                timestamp_ms: 1_700_000_000_000,
                units: 2,
                payload: &kb,
            }),
        ),
        (
            "voucher: 50 for chunks up to 5 on channel 12 (ed25519)",
            Frame::Voucher(Voucher {
                channel_id: 12,
                ack_seq: 5,
                amount: 50,
                signature: sig,
            }),
        ),
        (
            "voucher: the largest amount",
            Frame::Voucher(Voucher {
                channel_id: 12,
                ack_seq: u64::MAX,
                amount: u128::MAX,
                signature: max_sig,
            }),
        ),
        (
            "ack: chunks up to 9 received",
            Frame::Ack(Ack { ack_seq: 9 }),
        ),
        (
            "receipt: the seller holds the voucher for 50 at 5",
            Frame::Receipt(Receipt {
                ack_seq: 5,
                amount: 50,
            }),
        ),
        (
            "close: normal, buyer received up to 20",
            Frame::Close(Close {
                code: ErrorCode::Normal,
                last_seq: 20,
                reason: "",
            }),
        ),
        (
            "close: the seller sent beyond the credit window",
            Frame::Close(Close {
                code: ErrorCode::CreditExceeded,
                last_seq: 4,
                reason: "chunk 5 takes the amount owed to 50, above 40",
            }),
        ),
    ];
    list.into_iter()
        .map(|(n, f)| (n, f.to_vec().unwrap()))
        .collect()
}

fn invalid() -> Vec<(&'static str, &'static str, DecodeError)> {
    vec![
        (
            "empty message",
            "",
            DecodeError::Truncated {
                needed: 5,
                available: 0,
            },
        ),
        (
            "header cut short",
            "010000",
            DecodeError::Truncated {
                needed: 5,
                available: 3,
            },
        ),
        (
            "unknown frame type 0x06",
            "0600000000",
            DecodeError::UnknownType { frame_type: 6 },
        ),
        (
            "body above 1 MiB + 20",
            "0100100015",
            DecodeError::TooLarge {
                declared: 1_048_597,
                max: 1_048_596,
            },
        ),
        (
            "voucher body of 95 bytes",
            "020000005f",
            DecodeError::BadBodyLength {
                frame_type: wevalue_sdpp::FrameType::Voucher,
                len: 95,
                min: 96,
                max: 96,
            },
        ),
        (
            "data body shorter than its fixed fields",
            "0100000013",
            DecodeError::BadBodyLength {
                frame_type: wevalue_sdpp::FrameType::Data,
                len: 19,
                min: 20,
                max: 1_048_596,
            },
        ),
        (
            "ack with a trailing byte",
            "0300000008000000000000000900",
            DecodeError::LengthMismatch {
                declared: 13,
                actual: 14,
            },
        ),
        (
            "ack missing a byte",
            "030000000800000000000000",
            DecodeError::Truncated {
                needed: 13,
                available: 12,
            },
        ),
        (
            "close with code 1 (undefined)",
            "050000000a00010000000000000000",
            DecodeError::UnknownCode { code: 1 },
        ),
        (
            "close reason not UTF-8",
            "050000000b00000000000000000000ff",
            DecodeError::ReasonNotUtf8,
        ),
        (
            "close reason of 124 bytes",
            "050000008600000000000000000000",
            DecodeError::BadBodyLength {
                frame_type: wevalue_sdpp::FrameType::Close,
                len: 134,
                min: 10,
                max: 133,
            },
        ),
    ]
}

/// A complete handshake with fixed keys, as the two sessions produce it.
fn handshake() -> Value {
    let gw_pub = GatewayKey::public_key(GATEWAY_SECRET);
    let (seller, cert) = GatewayKey::certify(
        SELLER_SECRET,
        "wasm",
        CHAIN,
        REGISTRY,
        gw_pub,
        NOW_S + 86_400,
    )
    .unwrap();
    let gateway = GatewayKey::new(GATEWAY_SECRET, cert);
    let signer = channel_signer();
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
        model: PricingModel::PerMessage,
    };
    let mut seller_s = SellerSession::new(
        SellerConfig {
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
        None,
    )
    .unwrap();
    let mut buyer_s = BuyerSession::new(
        BuyerConfig {
            chain_id: CHAIN.into(),
            registry: REGISTRY.into(),
            listing_id: 1,
            seller: seller.clone(),
            terms,
            price,
            channel,
            deposit: 1_000_000,
            max_amount: Some(500),
            max_payload: 65_536,
            pay_at_percent: 50,
            idle_pay_ms: 1_000,
        },
        None,
    )
    .unwrap();
    let hello = buyer_s.hello([0x11; 32]).to_json();
    let offer = seller_s.on_hello(&hello, [0x22; 32], &gateway).unwrap();
    let accept = buyer_s
        .on_offer(&offer.to_json(), 0, NOW_S, &OfferVerifier, &signer)
        .unwrap();
    let cert_bytes = offer.certificate_sign_bytes();
    json!({
        "now_unix_s": NOW_S,
        "bech32_prefix": "wasm",
        "seller_secret_key": h(&SELLER_SECRET),
        "gateway_secret_key": h(&GATEWAY_SECRET),
        "channel_secret_key": h(&CHANNEL_SECRET),
        "channel_public_key": h(&signer.public_key()),
        "hello": hello,
        "offer": offer.to_json(),
        "offer_sign_bytes": h(&offer.sign_bytes()),
        "offer_digest": h(&offer.digest()),
        "certificate_sign_bytes": h(&cert_bytes),
        "certificate_adr036_sign_doc": wevalue_voucher::adr036_sign_doc(&seller, &cert_bytes),
        "accept_message": h(&accept_message(&offer.digest())),
        "accept": accept.to_json(),
    })
}

fn build() -> Value {
    json!({
        "description": "SDPP sdpp/1 test vectors (docs/sdpp.md). Hex is lower case; integers above 2^53 and amounts are decimal strings in the frame descriptions. `frames`: valid frames with their fields and encoding. `invalid`: messages a decoder must refuse, with the error. `handshake`: HELLO, OFFER and ACCEPT from fixed keys with the signed encodings; the voucher frames are signed with the same channel key (ed25519, channel 12 of the payment-channel contract below, chain wevalue-1).",
        "protocol": "sdpp/1",
        "subprotocol": "sdpp.1",
        "payment_channel_contract": CHANNELS,
        "frames": frames().iter().map(|(name, bytes)| json!({
            "name": name, "frame": frame_json(&decode(bytes).unwrap()), "hex": h(bytes),
        })).collect::<Vec<_>>(),
        "invalid": invalid().iter().map(|(name, hex, err)| json!({
            "name": name, "hex": hex, "error": err.to_string(), "code": err.code().name(),
        })).collect::<Vec<_>>(),
        "handshake": handshake(),
    })
}

fn load() -> Value {
    serde_json::from_str(&std::fs::read_to_string(PATH).expect("test-vectors.json")).expect("JSON")
}

#[test]
fn vectors_file_is_current() {
    let built = build();
    if std::env::var_os("SDPP_WRITE_VECTORS").is_some() {
        std::fs::write(PATH, serde_json::to_string_pretty(&built).unwrap() + "\n").unwrap();
    }
    assert_eq!(
        load(),
        built,
        "test-vectors.json is stale: regenerate with SDPP_WRITE_VECTORS=1"
    );
}

fn u(v: &Value) -> u64 {
    v.as_u64().expect("integer")
}

fn amount(v: &Value) -> u128 {
    v.as_str().expect("decimal string").parse().expect("u128")
}

/// Reads each vector's fields independently of the encoder and checks the
/// decoder returns exactly them, and that encoding gives the bytes back.
#[test]
fn frame_vectors_decode_to_their_fields() {
    let file = load();
    let frames = file["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 9);
    for v in frames {
        let bytes = hex::decode(v["hex"].as_str().unwrap()).unwrap();
        let f = &v["frame"];
        let payload = hex::decode(f["payload"].as_str().unwrap_or("")).unwrap();
        let sig = hex::decode(f["signature"].as_str().unwrap_or("")).unwrap();
        let reason = f["reason"].as_str().unwrap_or("");
        let expected = match f["type"].as_str().unwrap() {
            "DATA" => Frame::Data(Data {
                seq: u(&f["seq"]),
                timestamp_ms: u(&f["timestamp_ms"]),
                units: u(&f["units"]) as u32,
                payload: &payload,
            }),
            "VOUCHER" => Frame::Voucher(Voucher {
                channel_id: u(&f["channel_id"]),
                ack_seq: u(&f["ack_seq"]),
                amount: amount(&f["amount"]),
                signature: sig.as_slice().try_into().unwrap(),
            }),
            "ACK" => Frame::Ack(Ack {
                ack_seq: u(&f["ack_seq"]),
            }),
            "RECEIPT" => Frame::Receipt(Receipt {
                ack_seq: u(&f["ack_seq"]),
                amount: amount(&f["amount"]),
            }),
            "CLOSE" => Frame::Close(Close {
                code: ErrorCode::from_u16(u(&f["code"]) as u16).unwrap(),
                last_seq: u(&f["last_seq"]),
                reason,
            }),
            t => panic!("unknown type {t}"),
        };
        assert_eq!(decode(&bytes), Ok(expected), "{}", v["name"]);
        assert_eq!(expected.to_vec().unwrap(), bytes, "{}", v["name"]);
    }
}

#[test]
fn invalid_vectors_are_refused_with_their_error() {
    let file = load();
    let invalid = file["invalid"].as_array().unwrap();
    assert_eq!(invalid.len(), 11);
    for v in invalid {
        // Lengths are refused from the header alone, before any body arrives.
        let bytes = hex::decode(v["hex"].as_str().unwrap()).unwrap();
        let err = decode(&bytes).unwrap_err();
        assert_eq!(
            err.to_string(),
            v["error"].as_str().unwrap(),
            "{}",
            v["name"]
        );
        assert_eq!(err.code().name(), v["code"].as_str().unwrap());
    }
}

#[test]
fn handshake_vector_verifies() {
    let file = load();
    let hs = &file["handshake"];
    let hello = Hello::from_json(hs["hello"].as_str().unwrap()).unwrap();
    let offer = Offer::from_json(hs["offer"].as_str().unwrap()).unwrap();
    let accept = Accept::from_json(hs["accept"].as_str().unwrap()).unwrap();
    assert_eq!(offer.client_nonce, hello.nonce);
    assert_eq!(
        h(&offer.sign_bytes()),
        hs["offer_sign_bytes"].as_str().unwrap()
    );
    assert_eq!(h(&offer.digest()), hs["offer_digest"].as_str().unwrap());
    assert_eq!(
        h(&offer.certificate_sign_bytes()),
        hs["certificate_sign_bytes"].as_str().unwrap()
    );
    OfferVerifier
        .verify_offer(&offer, u(&hs["now_unix_s"]))
        .unwrap();
    let pubkey = hex::decode(hs["channel_public_key"].as_str().unwrap()).unwrap();
    let key = ChannelKey::new(CHAIN, CHANNELS, 12, Scheme::Ed25519, &pubkey, "wasm").unwrap();
    let msg = accept_message(&offer.digest());
    assert_eq!(h(&msg), hs["accept_message"].as_str().unwrap());
    key.verify_accept(&msg, &accept.signature.0).unwrap();
    // The voucher vectors are signed by the same channel key.
    for v in file["frames"].as_array().unwrap() {
        if let Frame::Voucher(vf) =
            decode(&hex::decode(v["hex"].as_str().unwrap()).unwrap()).unwrap()
        {
            key.verify_voucher(vf.amount, &vf.signature).unwrap();
        }
    }
}
