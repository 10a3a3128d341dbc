//! The sdpp/1 close and error codes carried by CLOSE frames.

use core::fmt;

macro_rules! codes {
    ($( $(#[$doc:meta])* $name:ident = $value:literal, $text:literal; )*) => {
        /// Why a session ended. `Normal` is a clean close; every other code is
        /// an error. Values are stable on the wire (u16, big-endian); unknown
        /// values are a decode error in sdpp/1.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum ErrorCode {
            $( $(#[$doc])* $name = $value, )*
        }

        impl ErrorCode {
            /// Every code, in wire-value order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name,)*];

            /// The code for a wire value, if sdpp/1 defines it.
            pub fn from_u16(value: u16) -> Option<ErrorCode> {
                match value {
                    $( $value => Some(ErrorCode::$name), )*
                    _ => None,
                }
            }

            /// The name used in the specification and in logs.
            pub fn name(self) -> &'static str {
                match self {
                    $( ErrorCode::$name => $text, )*
                }
            }
        }
    };
}

codes! {
    /// Clean close: nothing went wrong.
    Normal = 0, "NORMAL";
    /// A binary frame could not be decoded.
    MalformedFrame = 100, "MALFORMED_FRAME";
    /// A frame or message that is not allowed in the current state or direction.
    UnexpectedFrame = 101, "UNEXPECTED_FRAME";
    /// A frame or handshake message above the size limit.
    FrameTooLarge = 102, "FRAME_TOO_LARGE";
    /// A handshake message that is not valid JSON of the expected shape.
    BadHandshake = 103, "BAD_HANDSHAKE";
    /// The listing is unknown here or not active.
    UnknownListing = 200, "UNKNOWN_LISTING";
    /// The data-use terms hash is not the listing's.
    TermsMismatch = 201, "TERMS_MISMATCH";
    /// The channel does not exist, is closing, or does not pay this seller in the listing's asset.
    ChannelInvalid = 202, "CHANNEL_INVALID";
    /// The channel already carries a stream for another listing, or a session is open on it.
    ChannelInUse = 203, "CHANNEL_IN_USE";
    /// The buyer refuses the offer (price, seller, limit or parameters differ from what it expects).
    OfferRejected = 204, "OFFER_REJECTED";
    /// The seller's gateway certificate or offer signature does not verify.
    BadProof = 205, "BAD_PROOF";
    /// The buyer's signed acceptance of the offer does not verify.
    BadAcceptance = 206, "BAD_ACCEPTANCE";
    /// The resume position does not match the other side's record of the stream.
    ResumeMismatch = 207, "RESUME_MISMATCH";
    /// A voucher signature does not verify under the channel key.
    BadSignature = 300, "BAD_SIGNATURE";
    /// A voucher names another channel.
    WrongChannel = 301, "WRONG_CHANNEL";
    /// A voucher's cumulative amount is not above the best one received.
    VoucherNotIncreasing = 302, "VOUCHER_NOT_INCREASING";
    /// A voucher pays more than the units delivered up to its acknowledged sequence cost.
    VoucherExceedsOwed = 303, "VOUCHER_EXCEEDS_OWED";
    /// The stream reached its limit (channel deposit or the buyer's spend cap).
    LimitReached = 304, "LIMIT_REACHED";
    /// An amount does not fit in 128 bits.
    AmountOverflow = 305, "AMOUNT_OVERFLOW";
    /// The seller waited longer than the offer's payment timeout for a voucher.
    PaymentTimeout = 306, "PAYMENT_TIMEOUT";
    /// The seller sent data beyond the credit window or the stream limit.
    CreditExceeded = 400, "CREDIT_EXCEEDED";
    /// A data frame out of sequence (a gap, a repeat or sequence zero).
    BadSequence = 401, "BAD_SEQUENCE";
    /// A data frame charges units its pricing rule does not allow.
    BadUnits = 402, "BAD_UNITS";
    /// A data frame's payload exceeds the negotiated maximum.
    PayloadTooLarge = 403, "PAYLOAD_TOO_LARGE";
    /// An acknowledgement of a sequence number not sent, or going backwards.
    BadAck = 404, "BAD_ACK";
    /// More data frames unacknowledged than the offer's in-flight limit.
    TooManyInFlight = 405, "TOO_MANY_IN_FLIGHT";
    /// A receipt for an amount or position the buyer never signed.
    BadReceipt = 406, "BAD_RECEIPT";
    /// The sender failed internally.
    Internal = 500, "INTERNAL";
    /// The data source is unavailable.
    Unavailable = 501, "UNAVAILABLE";
    /// The seller is shutting down; resume later.
    ShuttingDown = 502, "SHUTTING_DOWN";
}

impl ErrorCode {
    /// The wire value.
    pub fn as_u16(self) -> u16 {
        self as u16
    }

    /// The WebSocket close code to end the connection with after a CLOSE
    /// frame: 1000 for `Normal`, otherwise 4000 + the code (the private-use
    /// range 4000–4999 of RFC 6455).
    pub fn ws_close_code(self) -> u16 {
        match self {
            ErrorCode::Normal => 1000,
            code => 4000 + code.as_u16(),
        }
    }

    /// Whether the stream may be resumed on a new connection after this code
    /// (the state of both sides is still consistent).
    pub fn resumable(self) -> bool {
        !matches!(
            self,
            ErrorCode::UnknownListing
                | ErrorCode::TermsMismatch
                | ErrorCode::ChannelInvalid
                | ErrorCode::ResumeMismatch
                | ErrorCode::BadProof
                | ErrorCode::OfferRejected
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.as_u16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_names_are_unique() {
        let mut names = std::collections::BTreeSet::new();
        for &code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_u16(code.as_u16()), Some(code));
            assert!(names.insert(code.name()), "{code}");
        }
        assert_eq!(ErrorCode::from_u16(1), None);
        assert_eq!(ErrorCode::from_u16(u16::MAX), None);
        assert_eq!(ErrorCode::ALL.len(), 30);
    }

    #[test]
    fn websocket_close_codes() {
        assert_eq!(ErrorCode::Normal.ws_close_code(), 1000);
        assert_eq!(ErrorCode::CreditExceeded.ws_close_code(), 4400);
        // Every error code lands in RFC 6455's private-use range.
        for &code in &ErrorCode::ALL[1..] {
            assert!((4000..5000).contains(&code.ws_close_code()), "{code}");
        }
    }
}
