//! The buyer's state machine: checks the offer against the listing read on
//! chain (`offer.rs`), counts the units of every chunk by the pricing rule,
//! refuses a seller that sends beyond the credit window or the limit, pays
//! with cumulative vouchers for what it received, never more (`flow.rs`),
//! and keeps the durable [`BuyerStream`] to resume from.

mod flow;
mod offer;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::code::ErrorCode;
use crate::frame::{Data, Receipt, MAX_PAYLOAD};
use crate::handshake::{ChannelRef, Hex, StreamPosition, Terms};
use crate::pricing::{Amount, Price};
use crate::session::{
    close_reason, config_err, is_graceful, ConfigError, Phase, Position, SessionError,
};

/// What the buyer expects: the listing as read on chain, its channel, and
/// its payment policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuyerConfig {
    pub chain_id: String,
    /// Data-registry address.
    pub registry: String,
    pub listing_id: u64,
    /// The listing's seller.
    pub seller: String,
    pub terms: Terms,
    pub price: Price,
    /// The buyer's channel to the seller.
    pub channel: ChannelRef,
    /// The channel's deposit.
    pub deposit: u128,
    /// Spend cap on the channel's cumulative amount, if any.
    pub max_amount: Option<u128>,
    /// Largest payload accepted.
    pub max_payload: u32,
    /// Pay when the unpaid amount reaches this share of the credit window, 1–100 %.
    pub pay_at_percent: u8,
    /// Pay (and acknowledge) everything received once no chunk came for this long, ms.
    pub idle_pay_ms: u64,
}

/// The buyer's durable record of its stream; persist it after each chunk
/// and before each voucher leaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuyerStream {
    pub listing_id: u64,
    pub channel_id: u64,
    /// The last chunk received and the totals up to it.
    pub received: Position,
    /// Highest voucher signed, and its signature.
    pub paid: Amount,
    pub paid_signature: Option<Hex<64>>,
    /// Highest amount the seller has receipted.
    pub receipted: Amount,
}

impl BuyerStream {
    pub fn new(listing_id: u64, channel_id: u64) -> BuyerStream {
        BuyerStream {
            listing_id,
            channel_id,
            received: Position::default(),
            paid: Amount(0),
            paid_signature: None,
            receipted: Amount(0),
        }
    }

    /// The HELLO `resume` field for this stream (`None` before the first chunk or payment).
    pub fn resume_position(&self) -> Option<StreamPosition> {
        let p = StreamPosition {
            seq: self.received.seq,
            units: self.received.units,
            bytes: self.received.bytes,
            paid: self.paid,
        };
        (p != StreamPosition::default()).then_some(p)
    }
}

/// What an incoming frame did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuyerEvent<'a> {
    /// A valid chunk, counted: hand the payload to the application.
    Data(Data<'a>),
    /// The seller holds a voucher for `amount`.
    Receipt(Receipt),
    /// The seller closed the session.
    Closed {
        code: ErrorCode,
        last_seq: u64,
        reason: String,
    },
    /// A frame that arrived after this side closed (not counted, not owed;
    /// it is sent again on resume).
    Ignored,
}

/// Terms agreed in the offer.
struct Agreed {
    window_amount: u128,
    limit: u128,
    max_payload: u32,
    max_in_flight: u32,
}

/// One connection, buyer side. Sans-IO, like [`crate::SellerSession`].
pub struct BuyerSession {
    cfg: BuyerConfig,
    stream: BuyerStream,
    phase: Phase,
    nonce: Option<[u8; 32]>,
    agreed: Option<Agreed>,
    origin_ms: u64,
    billed_conn: u64,
    last_data_ms: u64,
    /// Highest sequence acknowledged to the seller on this connection.
    acked: u64,
    /// The seller lacks the last voucher: send it again.
    resend_paid: bool,
    /// Pay everything owed before the queued CLOSE.
    final_payment: bool,
    control: VecDeque<(ErrorCode, String)>,
    close_sent: bool,
}

impl BuyerSession {
    /// A session for `cfg`, resuming `stream` if there is one.
    pub fn new(cfg: BuyerConfig, stream: Option<BuyerStream>) -> Result<Self, ConfigError> {
        if cfg.price.amount.0 == 0 {
            return Err(config_err("price.amount", "must be above zero"));
        }
        if cfg.max_payload == 0 || cfg.max_payload as usize > MAX_PAYLOAD {
            return Err(config_err(
                "max_payload",
                format!("outside 1..={MAX_PAYLOAD}"),
            ));
        }
        if !(1..=100).contains(&cfg.pay_at_percent) {
            return Err(config_err("pay_at_percent", "must be 1 to 100"));
        }
        let stream = stream.unwrap_or_else(|| BuyerStream::new(cfg.listing_id, cfg.channel.id));
        if (stream.listing_id, stream.channel_id) != (cfg.listing_id, cfg.channel.id) {
            return Err(ConfigError::StreamMismatch {
                stored_listing: stream.listing_id,
                stored_channel: stream.channel_id,
                listing: cfg.listing_id,
                channel: cfg.channel.id,
            });
        }
        Ok(BuyerSession {
            cfg,
            stream,
            phase: Phase::Handshake,
            nonce: None,
            agreed: None,
            origin_ms: 0,
            billed_conn: 0,
            last_data_ms: 0,
            acked: 0,
            resend_paid: false,
            final_payment: false,
            control: VecDeque::new(),
            close_sent: false,
        })
    }

    fn limit(&self) -> u128 {
        self.cfg
            .max_amount
            .map_or(self.cfg.deposit, |cap| cap.min(self.cfg.deposit))
    }

    fn fail(&mut self, err: SessionError) -> SessionError {
        self.queue_close(err.code(), &err.to_string());
        self.phase = Phase::Closed;
        self.final_payment = false;
        err
    }

    fn queue_close(&mut self, code: ErrorCode, reason: &str) {
        if !self.close_sent {
            self.close_sent = true;
            self.control.push_back((code, close_reason(reason)));
        }
    }

    /// Amount owed for everything received.
    pub fn owed(&self) -> u128 {
        self.stream
            .received
            .owed(self.cfg.price.amount.0)
            .unwrap_or(u128::MAX)
    }

    /// Closes from the buyer's side. With a graceful code the buyer first
    /// pays for everything received, then sends CLOSE; chunks still
    /// arriving are not counted (they are resent on resume).
    pub fn close(&mut self, code: ErrorCode, reason: &str) {
        if self.phase == Phase::Closed {
            return;
        }
        let graceful = is_graceful(code) && self.phase == Phase::Streaming;
        self.final_payment = graceful;
        self.queue_close(code, reason);
        self.phase = if graceful {
            Phase::Closing
        } else {
            Phase::Closed
        };
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }
    /// The durable stream state to persist.
    pub fn stream(&self) -> &BuyerStream {
        &self.stream
    }
    pub fn into_stream(self) -> BuyerStream {
        self.stream
    }
}
