//! The seller's state machine: one connection of the data gateway. It
//! answers the handshake (`handshake.rs`), decides what may be sent under
//! the credit window, the in-flight limit and the stream limit, validates
//! every voucher and queues receipts (`flow.rs`), and keeps the durable
//! [`SellerStream`] (`stream.rs`) that a later connection resumes from.

mod flow;
mod handshake;
mod stream;

use std::collections::VecDeque;

pub use stream::{SellerStream, SentChunk};

use crate::code::ErrorCode;
use crate::frame::{self, Receipt, MAX_PAYLOAD};
use crate::handshake::{ChannelRef, Terms, MAX_JSON_INT};
use crate::pricing::Price;
use crate::session::{
    close_reason, config_err, is_graceful, ConfigError, Phase, Position, SessionError,
};

/// What a gateway serves on one connection: the listing as the chain has
/// it, the channel it looked up, and the gateway's own parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SellerConfig {
    pub chain_id: String,
    /// Data-registry address.
    pub registry: String,
    pub listing_id: u64,
    /// The listing's seller (the channel's payee).
    pub seller: String,
    pub terms: Terms,
    pub price: Price,
    /// The channel named in the HELLO, as found on chain (open, paying this
    /// seller in the listing's asset).
    pub channel: ChannelRef,
    /// The channel's deposit: no voucher can pay more.
    pub deposit: u128,
    /// Units delivered ahead of payment: the seller's risk is at most
    /// `credit_window × price`.
    pub credit_window: u64,
    /// Largest payload this gateway sends.
    pub max_payload: u32,
    /// Data frames sent ahead of acknowledgement (bounds the resend buffer).
    pub max_in_flight: u32,
    /// How long to wait for a voucher while out of credit, ms.
    pub payment_timeout_ms: u64,
}

/// Why a chunk cannot be sent now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocked {
    /// The handshake is not finished, or the session is closing or closed.
    NotStreaming,
    /// Chunks of an earlier connection are being sent again first.
    Resending,
    /// `max_in_flight` chunks await acknowledgement.
    InFlight { in_flight: u64, max: u32 },
    /// The chunk would take the amount owed above the best voucher plus the window.
    Credit { owed_after: u128, allowed: u128 },
    /// The chunk does not fit under the stream limit: the session closed
    /// with LIMIT_REACHED (drain its output).
    LimitReached { limit: u128 },
}

/// Why `send_data` refused a chunk (the caller keeps it).
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    #[error("cannot send now: {0:?}")]
    Blocked(Blocked),
    #[error("payload of {len} bytes exceeds the negotiated {max}")]
    PayloadTooLarge { len: usize, max: u32 },
}

/// A chunk that went out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    pub seq: u64,
    pub units: u32,
}

/// What an incoming frame did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SellerEvent {
    /// A valid voucher raised the best amount. Store it durably (it is what
    /// the gateway claims on chain) before draining the queued receipt.
    Voucher(frame::Voucher),
    /// The buyer acknowledged chunks up to `ack_seq`.
    Ack { ack_seq: u64 },
    /// The buyer closed the session.
    Closed {
        code: ErrorCode,
        last_seq: u64,
        reason: String,
    },
    /// A frame that arrived after the session closed.
    Ignored,
}

/// The buyer's accepted offer: its digest and the signature to keep as
/// proof that the buyer accepted the listing's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub offer_digest: [u8; 32],
    pub signature: [u8; 64],
}

enum Control {
    Receipt(Receipt),
    Close {
        code: ErrorCode,
        last_seq: u64,
        reason: String,
    },
}

/// One connection, seller side. Sans-IO: feed it text and frames with the
/// time (any monotonic clock, ms); send what `poll_transmit` and
/// `send_data` write.
pub struct SellerSession {
    cfg: SellerConfig,
    stream: SellerStream,
    /// Position after the last chunk sent (acked + unacked), kept in step.
    sent: Position,
    phase: Phase,
    offer_digest: Option<[u8; 32]>,
    window_amount: u128,
    limit: u128,
    max_payload: u32,
    /// Per-second billing: connection origin and seconds billed on it.
    origin_ms: u64,
    billed_conn: u64,
    /// Since when the seller waits on the buyer, and whether for payment
    /// (else for acknowledgement): the payment timeout runs from then.
    blocked_since: Option<u64>,
    waiting_for_payment: bool,
    control: VecDeque<Control>,
    close_sent: bool,
    /// With [`SellerSession::credit_from_stored`]: the best voucher the
    /// caller reported durable; credit counts from it, not from `best`.
    stored: Option<u128>,
    /// Receipts of valid vouchers not yet reported durable, oldest first.
    unstored: VecDeque<Receipt>,
}

impl SellerSession {
    /// A session for `cfg`, continuing `stream` (the channel's stored
    /// stream) if there is one.
    pub fn new(cfg: SellerConfig, stream: Option<SellerStream>) -> Result<Self, ConfigError> {
        let price = cfg.price.amount.0;
        if price == 0 {
            return Err(config_err("price.amount", "must be above zero"));
        }
        if cfg.max_payload == 0 || cfg.max_payload as usize > MAX_PAYLOAD {
            return Err(config_err(
                "max_payload",
                format!("outside 1..={MAX_PAYLOAD}"),
            ));
        }
        let min_window = cfg.price.model.max_chunk_units(cfg.max_payload);
        if cfg.credit_window < min_window || cfg.credit_window > MAX_JSON_INT {
            return Err(config_err(
                "credit_window",
                format!("must be {min_window} (the largest chunk's units) to 2^53-1"),
            ));
        }
        let window_amount = u128::from(cfg.credit_window)
            .checked_mul(price)
            .ok_or_else(|| config_err("credit_window", "window × price overflows"))?;
        if cfg.max_in_flight == 0 {
            return Err(config_err("max_in_flight", "must be at least 1"));
        }
        if cfg.payment_timeout_ms == 0 || cfg.payment_timeout_ms > MAX_JSON_INT {
            return Err(config_err("payment_timeout_ms", "must be 1 to 2^53-1"));
        }
        let stream = stream.unwrap_or_else(|| SellerStream::new(cfg.listing_id, cfg.channel.id));
        if stream.channel_id != cfg.channel.id {
            return Err(ConfigError::StreamMismatch {
                stored_listing: stream.listing_id,
                stored_channel: stream.channel_id,
                listing: cfg.listing_id,
                channel: cfg.channel.id,
            });
        }
        Ok(SellerSession {
            max_payload: cfg.max_payload,
            cfg,
            sent: stream.sent(),
            stream,
            phase: Phase::Handshake,
            offer_digest: None,
            window_amount,
            limit: 0,
            origin_ms: 0,
            billed_conn: 0,
            blocked_since: None,
            waiting_for_payment: false,
            control: VecDeque::new(),
            close_sent: false,
            stored: None,
            unstored: VecDeque::new(),
        })
    }

    /// Counts credit only from vouchers the caller has stored durably and
    /// reported with [`SellerSession::voucher_stored`], and queues each
    /// voucher's RECEIPT only then. A gateway that hands vouchers to a
    /// store asynchronously (a group commit) uses it: the data it sends is
    /// then never more than the window beyond a voucher that survives a
    /// crash. The stream's own `best` (from the record it continues) counts
    /// as stored.
    pub fn credit_from_stored(mut self) -> Self {
        self.stored = Some(self.stream.best.0);
        self
    }

    /// Reports that vouchers up to `amount` are durable: raises the credit
    /// and queues their receipts (no-op without
    /// [`SellerSession::credit_from_stored`]).
    pub fn voucher_stored(&mut self, amount: u128) {
        let Some(stored) = self.stored.as_mut() else {
            return;
        };
        *stored = (*stored).max(amount);
        let stored = *stored;
        while self.unstored.front().is_some_and(|r| r.amount <= stored) {
            if let Some(r) = self.unstored.pop_front() {
                if self.phase != Phase::Closed {
                    self.control.push_back(Control::Receipt(r));
                }
            }
        }
    }

    /// The amount credit counts from: the best voucher held, or with
    /// [`SellerSession::credit_from_stored`] the best one stored.
    pub fn credit_base(&self) -> u128 {
        self.stored.unwrap_or(self.stream.best.0)
    }

    /// Ends the session with `err`: queues a CLOSE with its code.
    fn fail(&mut self, err: SessionError) -> SessionError {
        self.queue_close(err.code(), &err.to_string());
        self.phase = Phase::Closed;
        err
    }

    fn queue_close(&mut self, code: ErrorCode, reason: &str) {
        if !self.close_sent {
            self.close_sent = true;
            self.control.push_back(Control::Close {
                code,
                last_seq: self.sent.seq,
                reason: close_reason(reason),
            });
        }
    }

    /// Advances time: closes with PAYMENT_TIMEOUT once the seller has
    /// waited `payment_timeout_ms` on the buyer — out of credit with no
    /// voucher, or at the in-flight limit with no acknowledgement. The
    /// close is graceful: a late final voucher is still accepted.
    pub fn tick(&mut self, now_ms: u64) -> Result<(), SessionError> {
        if self.phase != Phase::Streaming {
            return Ok(());
        }
        match self.blocked_since {
            Some(since) if now_ms.saturating_sub(since) >= self.cfg.payment_timeout_ms => {
                let err = SessionError::PaymentTimeout {
                    waited_ms: now_ms - since,
                };
                self.queue_close(err.code(), &err.to_string());
                self.phase = Phase::Closing;
                Err(err)
            }
            _ => Ok(()),
        }
    }

    /// Closes from the seller's side (shutting down, source unavailable, or
    /// done). Graceful codes keep accepting vouchers until the buyer's CLOSE.
    pub fn close(&mut self, code: ErrorCode, reason: &str) {
        if self.phase == Phase::Closed {
            return;
        }
        self.queue_close(code, reason);
        self.phase = if is_graceful(code) {
            Phase::Closing
        } else {
            Phase::Closed
        };
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }
    /// The durable stream state to persist.
    pub fn stream(&self) -> &SellerStream {
        &self.stream
    }
    pub fn into_stream(self) -> SellerStream {
        self.stream
    }
    /// Amount owed for everything sent.
    pub fn owed(&self) -> u128 {
        self.sent.owed(self.cfg.price.amount.0).unwrap_or(u128::MAX)
    }
    /// Position after the last chunk sent.
    pub fn sent(&self) -> Position {
        self.sent
    }
    /// The stream limit negotiated in the handshake.
    pub fn limit(&self) -> u128 {
        self.limit
    }
    /// Since when the seller waits on the buyer (payment timer).
    pub fn blocked_since(&self) -> Option<u64> {
        self.blocked_since
    }
}
