//! What both state machines share: stream positions, session errors and
//! configuration errors.

use serde::{Deserialize, Serialize};

use crate::auth::SignatureError;
use crate::code::ErrorCode;
use crate::frame::{DecodeError, FrameType};
use crate::handshake::HandshakeError;
use crate::pricing::amount_owed;

/// Slack the buyer allows per-second billing against its own clock, ms:
/// covers the two clocks' rate difference over a connection.
pub const PER_SECOND_SLACK_MS: u64 = 1_000;

/// A point in the stream: the last chunk and the cumulative units and
/// payload bytes of chunks 1..=seq.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub seq: u64,
    pub units: u64,
    pub bytes: u64,
}

impl Position {
    /// The position after one more chunk; `None` on overflow.
    pub fn advance(&self, units: u32, len: usize) -> Option<Position> {
        Some(Position {
            seq: self.seq.checked_add(1)?,
            units: self.units.checked_add(u64::from(units))?,
            bytes: self.bytes.checked_add(u64::try_from(len).ok()?)?,
        })
    }

    /// units × price; `None` on overflow.
    pub fn owed(&self, price: u128) -> Option<u128> {
        amount_owed(self.units, price)
    }
}

/// Where a session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Handshake not finished.
    Handshake,
    /// Data and payments flow.
    Streaming,
    /// This side (or the peer) started a graceful close; payments still
    /// flow, data does not.
    Closing,
    /// Over: frames are ignored.
    Closed,
}

/// Whether a close code lets payments continue until the peer's CLOSE: the
/// seller keeps accepting vouchers after closing for these, and the buyer
/// pays what it owes before echoing.
pub fn is_graceful(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::Normal
            | ErrorCode::LimitReached
            | ErrorCode::PaymentTimeout
            | ErrorCode::ShuttingDown
            | ErrorCode::Unavailable
    )
}

/// Why a session failed. Each maps to the [`ErrorCode`] the session sent
/// (or queued) in its CLOSE frame.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum SessionError {
    #[error("malformed frame: {0}")]
    Decode(#[from] DecodeError),
    #[error("handshake: {0}")]
    Handshake(#[from] HandshakeError),
    #[error("{what} is not allowed {when}")]
    Unexpected {
        what: &'static str,
        when: &'static str,
    },
    #[error("this session serves {field} {expected}, the buyer asked for {got}")]
    UnknownListing {
        field: &'static str,
        expected: String,
        got: String,
    },
    #[error("the listing's terms hash is {expected}, the buyer accepted {got}")]
    TermsMismatch { expected: String, got: String },
    #[error("channel {field} is {expected}, the peer says {got}")]
    ChannelInvalid {
        field: &'static str,
        expected: String,
        got: String,
    },
    #[error("channel {channel_id} carries the stream of listing {listing_id}")]
    ChannelInUse { channel_id: u64, listing_id: u64 },
    #[error("offer refused: {field} is {got}, expected {expected}")]
    OfferRejected {
        field: &'static str,
        expected: String,
        got: String,
    },
    #[error("the seller's proof does not verify: {0}")]
    BadProof(SignatureError),
    #[error("the buyer's acceptance does not verify: {0}")]
    BadAcceptance(SignatureError),
    #[error("resume refused: {reason}")]
    ResumeMismatch { reason: String },
    #[error("voucher signature refused: {0}")]
    BadSignature(SignatureError),
    #[error("voucher for channel {got}; this session is channel {expected}")]
    WrongChannel { expected: u64, got: u64 },
    #[error("voucher amount {amount} is not above the best voucher {best}")]
    VoucherNotIncreasing { amount: u128, best: u128 },
    #[error("voucher amount {amount} exceeds the {owed} owed up to sequence {ack_seq}")]
    VoucherExceedsOwed {
        amount: u128,
        owed: u128,
        ack_seq: u64,
    },
    #[error("the stream limit of {limit} is reached ({owed} owed)")]
    LimitReached { limit: u128, owed: u128 },
    #[error("amount overflow")]
    AmountOverflow,
    #[error("no voucher for {waited_ms} ms while out of credit")]
    PaymentTimeout { waited_ms: u64 },
    #[error("chunk {seq} takes the amount owed to {owed}, above {allowed} ({what})")]
    CreditExceeded {
        seq: u64,
        owed: u128,
        allowed: u128,
        what: &'static str,
    },
    #[error("chunk {got} received, {expected} expected")]
    BadSequence { expected: u64, got: u64 },
    #[error("chunk {seq} charges {units} units, the pricing rule allows {allowed}")]
    BadUnits { seq: u64, units: u32, allowed: u64 },
    #[error("payload of {len} bytes exceeds the negotiated {max}")]
    PayloadTooLarge { len: usize, max: u32 },
    #[error("acknowledgement of {ack_seq} outside {min}..={max}")]
    BadAck { ack_seq: u64, min: u64, max: u64 },
    #[error("chunk {seq} with only {acked} acknowledged exceeds {max} in flight")]
    TooManyInFlight { seq: u64, acked: u64, max: u32 },
    #[error("receipt for {amount} at {ack_seq}; signed {paid}, received up to {received}, receipted {receipted}")]
    BadReceipt {
        amount: u128,
        ack_seq: u64,
        paid: u128,
        received: u64,
        receipted: u128,
    },
    #[error("could not sign: {0}")]
    Signing(SignatureError),
}

impl SessionError {
    /// The code of the CLOSE frame this error ends the session with.
    pub fn code(&self) -> ErrorCode {
        use SessionError::*;
        match self {
            Decode(e) => e.code(),
            Handshake(e) => e.code(),
            Unexpected { .. } => ErrorCode::UnexpectedFrame,
            UnknownListing { .. } => ErrorCode::UnknownListing,
            TermsMismatch { .. } => ErrorCode::TermsMismatch,
            ChannelInvalid { .. } => ErrorCode::ChannelInvalid,
            ChannelInUse { .. } => ErrorCode::ChannelInUse,
            OfferRejected { .. } => ErrorCode::OfferRejected,
            BadProof(_) => ErrorCode::BadProof,
            BadAcceptance(_) => ErrorCode::BadAcceptance,
            ResumeMismatch { .. } => ErrorCode::ResumeMismatch,
            BadSignature(_) => ErrorCode::BadSignature,
            WrongChannel { .. } => ErrorCode::WrongChannel,
            VoucherNotIncreasing { .. } => ErrorCode::VoucherNotIncreasing,
            VoucherExceedsOwed { .. } => ErrorCode::VoucherExceedsOwed,
            LimitReached { .. } => ErrorCode::LimitReached,
            AmountOverflow => ErrorCode::AmountOverflow,
            PaymentTimeout { .. } => ErrorCode::PaymentTimeout,
            CreditExceeded { .. } => ErrorCode::CreditExceeded,
            BadSequence { .. } => ErrorCode::BadSequence,
            BadUnits { .. } => ErrorCode::BadUnits,
            PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            BadAck { .. } => ErrorCode::BadAck,
            TooManyInFlight { .. } => ErrorCode::TooManyInFlight,
            BadReceipt { .. } => ErrorCode::BadReceipt,
            Signing(_) => ErrorCode::Internal,
        }
    }

    pub(crate) fn unexpected_frame(frame: FrameType, when: &'static str) -> SessionError {
        SessionError::Unexpected {
            what: match frame {
                FrameType::Data => "a DATA frame",
                FrameType::Voucher => "a VOUCHER frame",
                FrameType::Ack => "an ACK frame",
                FrameType::Receipt => "a RECEIPT frame",
                FrameType::Close => "a CLOSE frame",
            },
            when,
        }
    }
}

/// Why a session cannot be set up with this configuration (a caller bug
/// or a listing no session can serve; nothing is sent).
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    #[error("invalid configuration: {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the stored stream is for listing {stored_listing} on channel {stored_channel}, not listing {listing} on channel {channel}")]
    StreamMismatch {
        stored_listing: u64,
        stored_channel: u64,
        listing: u64,
        channel: u64,
    },
}

pub(crate) fn config_err(field: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// Builds a CLOSE reason from an error's text, cut at a character
/// boundary to fit the frame.
pub(crate) fn close_reason(text: &str) -> String {
    let max = crate::frame::MAX_REASON_LEN;
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}
