//! Binary frames: layouts, encoding, and zero-copy decoding that never panics.
//!
//! Every frame is a 5-byte header — type (u8) and body length (u32,
//! big-endian) — followed by the body. Integers are big-endian. Over a
//! WebSocket each binary message holds exactly one frame ([`decode`]); on a
//! byte stream frames follow each other ([`decode_prefix`]).

use core::fmt;

use crate::code::ErrorCode;

/// Bytes in every frame header: type (1) and body length (4).
pub const HEADER_LEN: usize = 5;
/// Largest data payload sdpp/1 allows (1 MiB). An offer may lower it.
pub const MAX_PAYLOAD: usize = 1 << 20;
/// Fixed part of a DATA body: seq (8), timestamp (8), units (4).
pub const DATA_FIXED_LEN: usize = 20;
/// Largest body: a DATA frame with a full payload.
pub const MAX_BODY_LEN: usize = DATA_FIXED_LEN + MAX_PAYLOAD;
/// Largest frame on the wire (1 MiB + 25 bytes).
pub const MAX_FRAME_LEN: usize = HEADER_LEN + MAX_BODY_LEN;
/// Longest CLOSE reason, in bytes: it fits a WebSocket close reason (123).
pub const MAX_REASON_LEN: usize = 123;
/// Signature length for every scheme (ed25519, or ECDSA `r || s`).
pub const SIGNATURE_LEN: usize = 64;
/// DATA frame header and fixed fields, before the payload.
pub const DATA_HEADER_LEN: usize = HEADER_LEN + DATA_FIXED_LEN;

const VOUCHER_BODY_LEN: usize = 8 + 8 + 16 + SIGNATURE_LEN;
const ACK_BODY_LEN: usize = 8;
const RECEIPT_BODY_LEN: usize = 8 + 16;
const CLOSE_FIXED_LEN: usize = 2 + 8;

/// The frame types of sdpp/1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FrameType {
    /// Seller → buyer: a chunk of the stream.
    Data = 0x01,
    /// Buyer → seller: a cumulative payment-channel voucher and an acknowledgement.
    Voucher = 0x02,
    /// Buyer → seller: an acknowledgement without payment.
    Ack = 0x03,
    /// Seller → buyer: the best voucher the seller now holds.
    Receipt = 0x04,
    /// Either way: the end of the session, with a code.
    Close = 0x05,
}

impl FrameType {
    /// The type for a wire byte.
    pub fn from_u8(value: u8) -> Option<FrameType> {
        Some(match value {
            0x01 => FrameType::Data,
            0x02 => FrameType::Voucher,
            0x03 => FrameType::Ack,
            0x04 => FrameType::Receipt,
            0x05 => FrameType::Close,
            _ => return None,
        })
    }

    /// Allowed body lengths, inclusive.
    fn body_len_range(self) -> (usize, usize) {
        match self {
            FrameType::Data => (DATA_FIXED_LEN, MAX_BODY_LEN),
            FrameType::Voucher => (VOUCHER_BODY_LEN, VOUCHER_BODY_LEN),
            FrameType::Ack => (ACK_BODY_LEN, ACK_BODY_LEN),
            FrameType::Receipt => (RECEIPT_BODY_LEN, RECEIPT_BODY_LEN),
            FrameType::Close => (CLOSE_FIXED_LEN, CLOSE_FIXED_LEN + MAX_REASON_LEN),
        }
    }
}

impl fmt::Display for FrameType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FrameType::Data => "DATA",
            FrameType::Voucher => "VOUCHER",
            FrameType::Ack => "ACK",
            FrameType::Receipt => "RECEIPT",
            FrameType::Close => "CLOSE",
        })
    }
}

/// A chunk of the stream. `payload` borrows from the decoded buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Data<'a> {
    /// Position in the stream: 1 for the first chunk, then +1 per chunk.
    pub seq: u64,
    /// When the seller took the chunk in, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Units this chunk charges under the listing's pricing model.
    pub units: u32,
    /// The data, opaque to SDPP.
    pub payload: &'a [u8],
}

impl Data<'_> {
    /// The 25 bytes before the payload (header and fixed fields), so a
    /// sender can write a chunk without copying its payload.
    pub fn header_bytes(&self) -> Result<[u8; DATA_HEADER_LEN], EncodeError> {
        if self.payload.len() > MAX_PAYLOAD {
            return Err(EncodeError::PayloadTooLarge {
                len: self.payload.len(),
                max: MAX_PAYLOAD,
            });
        }
        let mut h = [0u8; DATA_HEADER_LEN];
        h[0] = FrameType::Data as u8;
        // Cannot truncate: the payload is at most 1 MiB.
        let body = (DATA_FIXED_LEN + self.payload.len()) as u32;
        h[1..5].copy_from_slice(&body.to_be_bytes());
        h[5..13].copy_from_slice(&self.seq.to_be_bytes());
        h[13..21].copy_from_slice(&self.timestamp_ms.to_be_bytes());
        h[21..25].copy_from_slice(&self.units.to_be_bytes());
        Ok(h)
    }
}

/// A cumulative voucher: "for the data up to `ack_seq`, I owe `amount` in
/// total on this channel", with the channel key's signature over the
/// voucher sign bytes (no hashlock, no expiry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Voucher {
    /// Payment-channel id.
    pub channel_id: u64,
    /// Last sequence number the buyer received; acknowledges everything up to it.
    pub ack_seq: u64,
    /// Cumulative amount, in the channel asset's smallest unit.
    pub amount: u128,
    /// Signature over the voucher sign bytes of `wevalue-voucher`.
    pub signature: [u8; SIGNATURE_LEN],
}

/// An acknowledgement without payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ack {
    /// Last sequence number the buyer received.
    pub ack_seq: u64,
}

/// The seller's receipt for the best voucher it holds (stored durably
/// before the receipt is sent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The `ack_seq` of that voucher.
    pub ack_seq: u64,
    /// Its cumulative amount.
    pub amount: u128,
}

/// The end of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Close<'a> {
    /// Why: `Normal`, or an error.
    pub code: ErrorCode,
    /// Seller: last sequence number sent; buyer: last sequence number received.
    pub last_seq: u64,
    /// Human-readable detail, UTF-8, at most 123 bytes.
    pub reason: &'a str,
}

/// Any sdpp/1 frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Data(Data<'a>),
    Voucher(Voucher),
    Ack(Ack),
    Receipt(Receipt),
    Close(Close<'a>),
}

/// Why bytes are not a valid frame.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    #[error("truncated frame: {needed} bytes needed, {available} available")]
    Truncated { needed: usize, available: usize },
    #[error("unknown frame type 0x{frame_type:02x}")]
    UnknownType { frame_type: u8 },
    #[error("frame body of {declared} bytes exceeds the maximum of {max}")]
    TooLarge { declared: usize, max: usize },
    #[error("{frame_type} body of {len} bytes; allowed {min} to {max}")]
    BadBodyLength {
        frame_type: FrameType,
        len: usize,
        min: usize,
        max: usize,
    },
    #[error("message of {actual} bytes holds a frame of {declared} bytes")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("unknown close code {code}")]
    UnknownCode { code: u16 },
    #[error("close reason is not UTF-8")]
    ReasonNotUtf8,
}

impl DecodeError {
    /// The code to close the session with.
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::TooLarge { .. } => ErrorCode::FrameTooLarge,
            _ => ErrorCode::MalformedFrame,
        }
    }
}

/// Why a frame cannot be encoded.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    #[error("payload of {len} bytes exceeds the maximum of {max}")]
    PayloadTooLarge { len: usize, max: usize },
    #[error("close reason of {len} bytes exceeds the maximum of {max}")]
    ReasonTooLong { len: usize, max: usize },
    #[error("buffer of {available} bytes cannot hold a frame of {needed}")]
    BufferTooSmall { needed: usize, available: usize },
}

impl Frame<'_> {
    /// The frame's type.
    pub fn frame_type(&self) -> FrameType {
        match self {
            Frame::Data(_) => FrameType::Data,
            Frame::Voucher(_) => FrameType::Voucher,
            Frame::Ack(_) => FrameType::Ack,
            Frame::Receipt(_) => FrameType::Receipt,
            Frame::Close(_) => FrameType::Close,
        }
    }

    fn body_len(&self) -> usize {
        match self {
            Frame::Data(d) => DATA_FIXED_LEN + d.payload.len(),
            Frame::Voucher(_) => VOUCHER_BODY_LEN,
            Frame::Ack(_) => ACK_BODY_LEN,
            Frame::Receipt(_) => RECEIPT_BODY_LEN,
            Frame::Close(c) => CLOSE_FIXED_LEN + c.reason.len(),
        }
    }

    /// Bytes the encoded frame takes.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.body_len()
    }

    fn check(&self) -> Result<(), EncodeError> {
        match self {
            Frame::Data(d) if d.payload.len() > MAX_PAYLOAD => Err(EncodeError::PayloadTooLarge {
                len: d.payload.len(),
                max: MAX_PAYLOAD,
            }),
            Frame::Close(c) if c.reason.len() > MAX_REASON_LEN => Err(EncodeError::ReasonTooLong {
                len: c.reason.len(),
                max: MAX_REASON_LEN,
            }),
            _ => Ok(()),
        }
    }

    /// Appends the encoded frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.check()?;
        out.reserve(self.encoded_len());
        out.push(self.frame_type() as u8);
        // At most MAX_BODY_LEN (checked above), so it fits in u32.
        out.extend_from_slice(&(self.body_len() as u32).to_be_bytes());
        match self {
            Frame::Data(d) => {
                out.extend_from_slice(&d.seq.to_be_bytes());
                out.extend_from_slice(&d.timestamp_ms.to_be_bytes());
                out.extend_from_slice(&d.units.to_be_bytes());
                out.extend_from_slice(d.payload);
            }
            Frame::Voucher(v) => {
                out.extend_from_slice(&v.channel_id.to_be_bytes());
                out.extend_from_slice(&v.ack_seq.to_be_bytes());
                out.extend_from_slice(&v.amount.to_be_bytes());
                out.extend_from_slice(&v.signature);
            }
            Frame::Ack(a) => out.extend_from_slice(&a.ack_seq.to_be_bytes()),
            Frame::Receipt(r) => {
                out.extend_from_slice(&r.ack_seq.to_be_bytes());
                out.extend_from_slice(&r.amount.to_be_bytes());
            }
            Frame::Close(c) => {
                out.extend_from_slice(&c.code.as_u16().to_be_bytes());
                out.extend_from_slice(&c.last_seq.to_be_bytes());
                out.extend_from_slice(c.reason.as_bytes());
            }
        }
        Ok(())
    }

    /// The encoded frame as a new vector.
    pub fn to_vec(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out)?;
        Ok(out)
    }

    /// Encodes into `buf` without allocating; returns the bytes written.
    pub fn encode_to_slice(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        self.check()?;
        let needed = self.encoded_len();
        let Some(dst) = buf.get_mut(..needed) else {
            return Err(EncodeError::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        };
        let mut w = Writer { buf: dst, pos: 0 };
        w.put(&[self.frame_type() as u8]);
        w.put(&(self.body_len() as u32).to_be_bytes());
        match self {
            Frame::Data(d) => {
                w.put(&d.seq.to_be_bytes());
                w.put(&d.timestamp_ms.to_be_bytes());
                w.put(&d.units.to_be_bytes());
                w.put(d.payload);
            }
            Frame::Voucher(v) => {
                w.put(&v.channel_id.to_be_bytes());
                w.put(&v.ack_seq.to_be_bytes());
                w.put(&v.amount.to_be_bytes());
                w.put(&v.signature);
            }
            Frame::Ack(a) => w.put(&a.ack_seq.to_be_bytes()),
            Frame::Receipt(r) => {
                w.put(&r.ack_seq.to_be_bytes());
                w.put(&r.amount.to_be_bytes());
            }
            Frame::Close(c) => {
                w.put(&c.code.as_u16().to_be_bytes());
                w.put(&c.last_seq.to_be_bytes());
                w.put(c.reason.as_bytes());
            }
        }
        Ok(needed)
    }
}

/// Writes into a slice already sized to the frame.
struct Writer<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        self.buf[self.pos..end].copy_from_slice(bytes);
        self.pos = end;
    }
}

/// Reads the header at the start of `buf`: the frame type and the total
/// frame length. `Ok(None)` if fewer than 5 bytes are there. A declared
/// length no frame of that type can have is an error at once, so a
/// stream reader never waits for (or allocates) a hostile length.
pub fn peek_header(buf: &[u8]) -> Result<Option<(FrameType, usize)>, DecodeError> {
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let frame_type = FrameType::from_u8(header[0]).ok_or(DecodeError::UnknownType {
        frame_type: header[0],
    })?;
    let declared = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if declared > MAX_BODY_LEN {
        return Err(DecodeError::TooLarge {
            declared,
            max: MAX_BODY_LEN,
        });
    }
    let (min, max) = frame_type.body_len_range();
    if declared < min || declared > max {
        return Err(DecodeError::BadBodyLength {
            frame_type,
            len: declared,
            min,
            max,
        });
    }
    Ok(Some((frame_type, HEADER_LEN + declared)))
}

/// Decodes a buffer holding exactly one frame (a WebSocket binary message).
pub fn decode(buf: &[u8]) -> Result<Frame<'_>, DecodeError> {
    let (_, len) = peek_header(buf)?.ok_or(DecodeError::Truncated {
        needed: HEADER_LEN,
        available: buf.len(),
    })?;
    if buf.len() != len {
        return Err(if buf.len() < len {
            DecodeError::Truncated {
                needed: len,
                available: buf.len(),
            }
        } else {
            DecodeError::LengthMismatch {
                declared: len,
                actual: buf.len(),
            }
        });
    }
    decode_body(buf)
}

/// Decodes the first frame of a byte stream: `Ok(None)` if more bytes are
/// needed, else the frame and the bytes it took.
pub fn decode_prefix(buf: &[u8]) -> Result<Option<(Frame<'_>, usize)>, DecodeError> {
    let Some((_, len)) = peek_header(buf)? else {
        return Ok(None);
    };
    match buf.get(..len) {
        Some(frame) => Ok(Some((decode_body(frame)?, len))),
        None => Ok(None),
    }
}

/// Decodes a frame whose header was checked and whose length is exact.
fn decode_body(frame: &[u8]) -> Result<Frame<'_>, DecodeError> {
    let mut r = Reader {
        buf: frame,
        pos: HEADER_LEN,
    };
    Ok(match FrameType::from_u8(frame[0]) {
        Some(FrameType::Data) => Frame::Data(Data {
            seq: r.u64(),
            timestamp_ms: r.u64(),
            units: r.u32(),
            payload: r.rest(),
        }),
        Some(FrameType::Voucher) => Frame::Voucher(Voucher {
            channel_id: r.u64(),
            ack_seq: r.u64(),
            amount: r.u128(),
            signature: r.array(),
        }),
        Some(FrameType::Ack) => Frame::Ack(Ack { ack_seq: r.u64() }),
        Some(FrameType::Receipt) => Frame::Receipt(Receipt {
            ack_seq: r.u64(),
            amount: r.u128(),
        }),
        Some(FrameType::Close) => {
            let raw = r.u16();
            let code = ErrorCode::from_u16(raw).ok_or(DecodeError::UnknownCode { code: raw })?;
            let last_seq = r.u64();
            let reason = core::str::from_utf8(r.rest()).map_err(|_| DecodeError::ReasonNotUtf8)?;
            Frame::Close(Close {
                code,
                last_seq,
                reason,
            })
        }
        // peek_header already refused unknown types.
        None => {
            return Err(DecodeError::UnknownType {
                frame_type: frame[0],
            })
        }
    })
}

/// Reads fixed-width fields from a frame whose length was validated
/// against its type, so every read is in bounds.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        out.copy_from_slice(&self.buf[self.pos..self.pos + N]);
        self.pos += N;
        out
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.array())
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.array())
    }
    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.array())
    }
    fn u128(&mut self) -> u128 {
        u128::from_be_bytes(self.array())
    }
    fn rest(&mut self) -> &'a [u8] {
        let rest = &self.buf[self.pos..];
        self.pos = self.buf.len();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_layout() {
        let f = Frame::Data(Data {
            seq: 1,
            timestamp_ms: 2,
            units: 3,
            payload: b"hi",
        });
        let bytes = f.to_vec().unwrap();
        let mut expected = vec![0x01, 0, 0, 0, 22];
        expected.extend_from_slice(&1u64.to_be_bytes());
        expected.extend_from_slice(&2u64.to_be_bytes());
        expected.extend_from_slice(&3u32.to_be_bytes());
        expected.extend_from_slice(b"hi");
        assert_eq!(bytes, expected);
        assert_eq!(decode(&bytes), Ok(f));
        let Frame::Data(d) = f else { unreachable!() };
        assert_eq!(d.header_bytes().unwrap()[..], bytes[..DATA_HEADER_LEN]);
    }

    #[test]
    fn slice_encoding_matches_and_checks_room() {
        let f = Frame::Close(Close {
            code: ErrorCode::PaymentTimeout,
            last_seq: 9,
            reason: "no voucher for 30 s",
        });
        let mut buf = [0u8; 64];
        let n = f.encode_to_slice(&mut buf).unwrap();
        assert_eq!(&buf[..n], f.to_vec().unwrap().as_slice());
        assert_eq!(
            f.encode_to_slice(&mut buf[..n - 1]),
            Err(EncodeError::BufferTooSmall {
                needed: n,
                available: n - 1
            })
        );
    }

    #[test]
    fn hostile_lengths_are_refused_from_the_header() {
        let mut h = vec![0x01];
        h.extend_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(
            decode_prefix(&h),
            Err(DecodeError::TooLarge {
                declared: u32::MAX as usize,
                max: MAX_BODY_LEN
            })
        );
        let mut v = vec![0x02];
        v.extend_from_slice(&95u32.to_be_bytes());
        assert_eq!(
            peek_header(&v),
            Err(DecodeError::BadBodyLength {
                frame_type: FrameType::Voucher,
                len: 95,
                min: 96,
                max: 96
            })
        );
    }

    #[test]
    fn encoder_limits() {
        let big = vec![0u8; MAX_PAYLOAD + 1];
        let f = Frame::Data(Data {
            seq: 1,
            timestamp_ms: 0,
            units: 1,
            payload: &big,
        });
        assert_eq!(
            f.to_vec(),
            Err(EncodeError::PayloadTooLarge {
                len: MAX_PAYLOAD + 1,
                max: MAX_PAYLOAD
            })
        );
        let long = "x".repeat(MAX_REASON_LEN + 1);
        let c = Frame::Close(Close {
            code: ErrorCode::Normal,
            last_seq: 0,
            reason: &long,
        });
        assert!(matches!(
            c.to_vec(),
            Err(EncodeError::ReasonTooLong { len: 124, .. })
        ));
    }
}
