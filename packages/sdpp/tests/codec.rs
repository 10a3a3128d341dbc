//! The binary codec: each frame's layout written out byte by byte (as in
//! `docs/sdpp.md`), round trips of arbitrary frames, stream decoding, and
//! arbitrary bytes into the decoder (typed errors, never a panic).

use proptest::prelude::*;
use wevalue_sdpp::frame::{
    decode, decode_prefix, peek_header, Ack, Close, Data, DecodeError, Frame, FrameType, Receipt,
    Voucher, MAX_BODY_LEN, MAX_PAYLOAD, MAX_REASON_LEN,
};
use wevalue_sdpp::ErrorCode;

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).unwrap()
}

#[test]
fn layouts_byte_by_byte() {
    // DATA: type, body length 20 + 3, seq 7, timestamp 1.7e12 ms, 1 unit, "abc".
    let data = Frame::Data(Data {
        seq: 7,
        timestamp_ms: 1_700_000_000_000,
        units: 1,
        payload: b"abc",
    });
    assert_eq!(
        data.to_vec().unwrap(),
        unhex("01 00000017 0000000000000007 0000018bcfe56800 00000001 616263")
    );
    let voucher = Frame::Voucher(Voucher {
        channel_id: 1,
        ack_seq: 7,
        amount: 70,
        signature: [0xaa; 64],
    });
    let mut v =
        unhex("02 00000060 0000000000000001 0000000000000007 00000000000000000000000000000046");
    v.extend_from_slice(&[0xaa; 64]);
    assert_eq!(voucher.to_vec().unwrap(), v);
    assert_eq!(
        Frame::Ack(Ack { ack_seq: 9 }).to_vec().unwrap(),
        unhex("03 00000008 0000000000000009")
    );
    assert_eq!(
        Frame::Receipt(Receipt {
            ack_seq: 7,
            amount: 70
        })
        .to_vec()
        .unwrap(),
        unhex("04 00000018 0000000000000007 00000000000000000000000000000046")
    );
    assert_eq!(
        Frame::Close(Close {
            code: ErrorCode::CreditExceeded,
            last_seq: 12,
            reason: "over",
        })
        .to_vec()
        .unwrap(),
        unhex("05 0000000e 0190 000000000000000c 6f766572")
    );
}

#[test]
fn decoding_errors_are_typed() {
    assert_eq!(
        decode(&[]),
        Err(DecodeError::Truncated {
            needed: 5,
            available: 0
        })
    );
    assert_eq!(
        decode(&unhex("09 00000000")),
        Err(DecodeError::UnknownType { frame_type: 9 })
    );
    // An ACK declared 8 bytes long with 7 present, then with 9.
    assert_eq!(
        decode(&unhex("03 00000008 00000000000000")),
        Err(DecodeError::Truncated {
            needed: 13,
            available: 12
        })
    );
    assert_eq!(
        decode(&unhex("03 00000008 000000000000000900")),
        Err(DecodeError::LengthMismatch {
            declared: 13,
            actual: 14
        })
    );
    assert_eq!(
        decode(&unhex("05 0000000a 0001 0000000000000000")),
        Err(DecodeError::UnknownCode { code: 1 })
    );
    assert_eq!(
        decode(&unhex("05 0000000b 0000 0000000000000000 ff")),
        Err(DecodeError::ReasonNotUtf8)
    );
    let e = decode(&unhex("01 00100015")).unwrap_err();
    assert_eq!(
        e,
        DecodeError::TooLarge {
            declared: MAX_BODY_LEN + 1,
            max: MAX_BODY_LEN
        }
    );
    assert_eq!(e.code(), ErrorCode::FrameTooLarge);
    assert_eq!(DecodeError::ReasonNotUtf8.code(), ErrorCode::MalformedFrame);
}

#[test]
fn largest_frame_round_trips() {
    let payload = vec![0x5a; MAX_PAYLOAD];
    let f = Frame::Data(Data {
        seq: u64::MAX,
        timestamp_ms: u64::MAX,
        units: u32::MAX,
        payload: &payload,
    });
    let bytes = f.to_vec().unwrap();
    assert_eq!(bytes.len(), wevalue_sdpp::frame::MAX_FRAME_LEN);
    assert_eq!(decode(&bytes), Ok(f));
    let reason = "é".repeat(MAX_REASON_LEN / 2);
    let c = Frame::Close(Close {
        code: ErrorCode::Internal,
        last_seq: 0,
        reason: &reason,
    });
    assert_eq!(decode(&c.to_vec().unwrap()), Ok(c));
}

fn arb_code() -> impl Strategy<Value = ErrorCode> {
    prop::sample::select(ErrorCode::ALL.to_vec())
}

/// Owned frame fields, to build borrowed frames from.
#[derive(Debug, Clone)]
enum Owned {
    Data(u64, u64, u32, Vec<u8>),
    Voucher(u64, u64, u128, Vec<u8>),
    Ack(u64),
    Receipt(u64, u128),
    Close(ErrorCode, u64, String),
}

impl Owned {
    fn frame(&self) -> Frame<'_> {
        match self {
            Owned::Data(seq, ts, units, p) => Frame::Data(Data {
                seq: *seq,
                timestamp_ms: *ts,
                units: *units,
                payload: p,
            }),
            Owned::Voucher(c, a, amount, sig) => Frame::Voucher(Voucher {
                channel_id: *c,
                ack_seq: *a,
                amount: *amount,
                signature: sig.as_slice().try_into().unwrap(),
            }),
            Owned::Ack(a) => Frame::Ack(Ack { ack_seq: *a }),
            Owned::Receipt(a, amount) => Frame::Receipt(Receipt {
                ack_seq: *a,
                amount: *amount,
            }),
            Owned::Close(code, last, reason) => Frame::Close(Close {
                code: *code,
                last_seq: *last,
                reason,
            }),
        }
    }
}

fn arb_frame() -> impl Strategy<Value = Owned> {
    prop_oneof![
        (
            any::<u64>(),
            any::<u64>(),
            any::<u32>(),
            prop::collection::vec(any::<u8>(), 0..600)
        )
            .prop_map(|(a, b, c, d)| Owned::Data(a, b, c, d)),
        (
            any::<u64>(),
            any::<u64>(),
            any::<u128>(),
            prop::collection::vec(any::<u8>(), 64)
        )
            .prop_map(|(a, b, c, d)| Owned::Voucher(a, b, c, d)),
        any::<u64>().prop_map(Owned::Ack),
        (any::<u64>(), any::<u128>()).prop_map(|(a, b)| Owned::Receipt(a, b)),
        (arb_code(), any::<u64>(), "\\PC{0,40}")
            .prop_filter("fits", |(_, _, r)| r.len() <= MAX_REASON_LEN)
            .prop_map(|(a, b, c)| Owned::Close(a, b, c)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn frames_round_trip(f in arb_frame()) {
        let frame = f.frame();
        let bytes = frame.to_vec().unwrap();
        prop_assert_eq!(bytes.len(), frame.encoded_len());
        prop_assert_eq!(decode(&bytes), Ok(frame));
        let mut buf = vec![0u8; bytes.len()];
        prop_assert_eq!(frame.encode_to_slice(&mut buf), Ok(bytes.len()));
        prop_assert_eq!(&buf, &bytes);
        prop_assert_eq!(peek_header(&bytes), Ok(Some((frame.frame_type(), bytes.len()))));
    }

    #[test]
    fn a_stream_of_frames_splits_back(frames in prop::collection::vec(arb_frame(), 1..8), cut in any::<prop::sample::Index>()) {
        let mut stream = vec![];
        for f in &frames {
            f.frame().encode(&mut stream).unwrap();
        }
        // Any prefix decodes to whole frames and then asks for more bytes.
        let prefix = &stream[..cut.index(stream.len() + 1)];
        let mut rest = prefix;
        let mut n = 0;
        while let Some((frame, used)) = decode_prefix(rest).unwrap() {
            prop_assert_eq!(frame, frames[n].frame());
            rest = &rest[used..];
            n += 1;
        }
        prop_assert!(n <= frames.len());
        let mut rest = &stream[..];
        for f in &frames {
            let (frame, used) = decode_prefix(rest).unwrap().unwrap();
            prop_assert_eq!(frame, f.frame());
            rest = &rest[used..];
        }
        prop_assert!(rest.is_empty());
    }

    /// Arbitrary bytes never panic the decoder; whatever decodes
    /// re-encodes to the same bytes (the encoding is canonical).
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(frame) = decode(&bytes) {
            prop_assert_eq!(frame.to_vec().unwrap(), bytes.clone());
        }
        let _ = decode_prefix(&bytes);
        let _ = peek_header(&bytes);
    }

    /// Bytes that start like a real frame (valid type and a plausible
    /// length) reach the body decoders far more often than random bytes.
    #[test]
    fn mutated_frames_never_panic(f in arb_frame(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6), cut in any::<prop::sample::Index>()) {
        let mut bytes = f.frame().to_vec().unwrap();
        for (i, b) in flips {
            let i = i.index(bytes.len());
            bytes[i] ^= b;
        }
        let bytes = &bytes[..cut.index(bytes.len() + 1)];
        match decode(bytes) {
            Ok(frame) => prop_assert_eq!(frame.to_vec().unwrap(), bytes.to_vec()),
            Err(e) => prop_assert!(matches!(e.code(), ErrorCode::MalformedFrame | ErrorCode::FrameTooLarge)),
        }
        let _ = decode_prefix(bytes);
    }
}

#[test]
fn every_type_byte_and_length_is_handled() {
    // Every type byte with every body length near each type's bounds.
    for t in 0..=255u8 {
        for len in [
            0usize, 7, 8, 9, 10, 19, 20, 23, 24, 25, 95, 96, 97, 133, 134,
        ] {
            let mut b = vec![t];
            b.extend_from_slice(&(len as u32).to_be_bytes());
            b.extend_from_slice(&vec![0u8; len]);
            match decode(&b) {
                Ok(frame) => assert_eq!(frame.to_vec().unwrap(), b),
                Err(e) => {
                    if FrameType::from_u8(t).is_none() {
                        assert_eq!(e, DecodeError::UnknownType { frame_type: t });
                    }
                }
            }
        }
    }
}
