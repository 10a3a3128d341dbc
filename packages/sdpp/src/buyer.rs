//! The buyer's state machine: checks the offer against the listing read on
//! chain, counts the units of every chunk by the pricing rule, refuses a
//! seller that sends beyond the credit window or the limit, pays with
//! cumulative vouchers for what it received (never more), and keeps the
//! durable [`BuyerStream`] to resume from.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::auth::{ChannelSigner, GatewayVerifier};
use crate::code::ErrorCode;
use crate::frame::{self, Ack, Close, Data, Frame, FrameType, Receipt, Voucher, MAX_PAYLOAD};
use crate::handshake::{
    accept_message, Accept, AcceptType, ChannelRef, Hello, HelloType, Hex, Offer, Protocol,
    StreamPosition, Terms,
};
use crate::pricing::{kilobyte_units, seconds_started, Amount, Price, PricingModel};
use crate::session::{
    close_reason, config_err, is_graceful, ConfigError, Phase, Position, SessionError,
    PER_SECOND_SLACK_MS,
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

    /// The HELLO to send first; `nonce` must be fresh random bytes.
    pub fn hello(&mut self, nonce: [u8; 32]) -> Hello {
        self.nonce = Some(nonce);
        Hello {
            kind: HelloType::Tag,
            protocol: Protocol::Sdpp1,
            chain_id: self.cfg.chain_id.clone(),
            registry: self.cfg.registry.clone(),
            listing_id: self.cfg.listing_id,
            channel: self.cfg.channel.clone(),
            terms_hash: self.cfg.terms.terms_hash,
            nonce: Hex(nonce),
            max_payload: self.cfg.max_payload,
            max_amount: self.cfg.max_amount.map(Amount),
            resume: self.stream.resume_position(),
        }
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

    /// Checks the seller's OFFER against the listing and this stream, and
    /// the seller's proof; returns the signed ACCEPT to send. `now_ms`
    /// starts per-second metering; `now_unix_s` checks the certificate.
    pub fn on_offer(
        &mut self,
        text: &str,
        now_ms: u64,
        now_unix_s: u64,
        gateway: &dyn GatewayVerifier,
        signer: &dyn ChannelSigner,
    ) -> Result<Accept, SessionError> {
        let Some(nonce) = self.nonce.filter(|_| self.phase == Phase::Handshake) else {
            return Err(self.fail(SessionError::Unexpected {
                what: "an OFFER",
                when: "without a HELLO outstanding",
            }));
        };
        let offer = Offer::from_json(text).map_err(|e| self.fail(e.into()))?;
        let agreed = self.check_offer(&offer, nonce).map_err(|e| self.fail(e))?;
        gateway
            .verify_offer(&offer, now_unix_s)
            .map_err(|e| self.fail(SessionError::BadProof(e)))?;
        let signature = signer
            .sign_accept(&accept_message(&offer.digest()))
            .map_err(|e| self.fail(SessionError::Signing(e)))?;
        self.agreed = Some(agreed);
        self.phase = Phase::Streaming;
        self.origin_ms = now_ms;
        self.last_data_ms = now_ms;
        self.billed_conn = 0;
        self.acked = self.stream.received.seq;
        self.stream.receipted = offer.position.paid;
        self.resend_paid = self.stream.paid > offer.position.paid;
        Ok(Accept {
            kind: AcceptType::Tag,
            signature: Hex(signature),
        })
    }

    fn check_offer(&self, offer: &Offer, nonce: [u8; 32]) -> Result<Agreed, SessionError> {
        let cfg = &self.cfg;
        let reject = |field, expected: String, got: String| {
            Err(SessionError::OfferRejected {
                field,
                expected,
                got,
            })
        };
        if offer.client_nonce.0 != nonce {
            return reject(
                "client_nonce",
                format!("{:?}", Hex(nonce)),
                format!("{:?}", offer.client_nonce),
            );
        }
        if offer.chain_id != cfg.chain_id {
            return reject("chain_id", cfg.chain_id.clone(), offer.chain_id.clone());
        }
        if offer.registry != cfg.registry {
            return reject("registry", cfg.registry.clone(), offer.registry.clone());
        }
        if offer.listing_id != cfg.listing_id {
            return reject(
                "listing_id",
                cfg.listing_id.to_string(),
                offer.listing_id.to_string(),
            );
        }
        if offer.seller != cfg.seller {
            return reject("seller", cfg.seller.clone(), offer.seller.clone());
        }
        if offer.terms != cfg.terms {
            return Err(SessionError::TermsMismatch {
                expected: format!("{:?}", cfg.terms),
                got: format!("{:?}", offer.terms),
            });
        }
        if offer.price != cfg.price {
            return reject(
                "price",
                format!("{:?}", cfg.price),
                format!("{:?}", offer.price),
            );
        }
        if offer.channel != cfg.channel {
            return Err(SessionError::ChannelInvalid {
                field: "channel",
                expected: format!("{:?}", cfg.channel),
                got: format!("{:?}", offer.channel),
            });
        }
        let price = cfg.price.amount.0;
        let window_amount = u128::from(offer.credit_window)
            .checked_mul(price)
            .ok_or(SessionError::AmountOverflow)?;
        let min_window = cfg.price.model.max_chunk_units(offer.max_payload);
        if offer.credit_window < min_window {
            return reject(
                "credit_window",
                format!("at least {min_window}"),
                offer.credit_window.to_string(),
            );
        }
        if offer.max_payload > cfg.max_payload {
            return reject(
                "max_payload",
                format!("at most {}", cfg.max_payload),
                offer.max_payload.to_string(),
            );
        }
        if offer.limit.0 > self.limit() {
            return reject(
                "limit",
                format!("at most {}", self.limit()),
                offer.limit.to_string(),
            );
        }
        let r = self.stream.received;
        let p = offer.position;
        if (p.seq, p.units, p.bytes) != (r.seq, r.units, r.bytes) || p.paid > self.stream.paid {
            return Err(SessionError::ResumeMismatch {
                reason: format!(
                    "seller resumes at seq {} ({} units, {} bytes, {} paid); buyer has {} ({}, {}, {} signed)",
                    p.seq, p.units, p.bytes, p.paid, r.seq, r.units, r.bytes, self.stream.paid
                ),
            });
        }
        Ok(Agreed {
            window_amount,
            limit: offer.limit.0,
            max_payload: offer.max_payload,
            max_in_flight: offer.max_in_flight,
        })
    }

    /// Handles one binary frame from the seller. A `Data` event borrows its
    /// payload from `bytes`.
    pub fn on_frame<'a>(
        &mut self,
        bytes: &'a [u8],
        now_ms: u64,
    ) -> Result<BuyerEvent<'a>, SessionError> {
        if self.phase == Phase::Closed {
            return Ok(BuyerEvent::Ignored);
        }
        let frame = frame::decode(bytes).map_err(|e| self.fail(e.into()))?;
        let when = match self.phase {
            Phase::Handshake => "during the handshake",
            _ => "from a seller",
        };
        match (frame, self.phase) {
            (Frame::Data(d), Phase::Streaming) => self.on_data(d, now_ms),
            // Sent before the seller saw our CLOSE: not received, not owed.
            (Frame::Data(_), Phase::Closing) => Ok(BuyerEvent::Ignored),
            (Frame::Receipt(r), Phase::Streaming | Phase::Closing) => {
                let s = &self.stream;
                if r.amount > s.paid.0 || r.amount <= s.receipted.0 || r.ack_seq > s.received.seq {
                    return Err(self.fail(SessionError::BadReceipt {
                        amount: r.amount,
                        ack_seq: r.ack_seq,
                        paid: s.paid.0,
                        received: s.received.seq,
                        receipted: s.receipted.0,
                    }));
                }
                self.stream.receipted = Amount(r.amount);
                Ok(BuyerEvent::Receipt(r))
            }
            (Frame::Close(c), _) => {
                if self.phase == Phase::Streaming && is_graceful(c.code) {
                    self.final_payment = true;
                }
                self.queue_close(ErrorCode::Normal, "");
                self.phase = Phase::Closed;
                Ok(BuyerEvent::Closed {
                    code: c.code,
                    last_seq: c.last_seq,
                    reason: c.reason.to_string(),
                })
            }
            (other, _) => Err(self.fail(SessionError::unexpected_frame(other.frame_type(), when))),
        }
    }

    /// The checks on a chunk, in the order the specification gives.
    fn on_data<'a>(&mut self, d: Data<'a>, now_ms: u64) -> Result<BuyerEvent<'a>, SessionError> {
        let Some(agreed) = &self.agreed else {
            return Err(self.fail(SessionError::unexpected_frame(
                FrameType::Data,
                "before the offer",
            )));
        };
        let (max_payload, max_in_flight) = (agreed.max_payload, agreed.max_in_flight);
        let (limit, window) = (agreed.limit, agreed.window_amount);
        let r = self.stream.received;
        let expected = r.seq + 1;
        if d.seq != expected {
            return Err(self.fail(SessionError::BadSequence {
                expected,
                got: d.seq,
            }));
        }
        if d.payload.len() > max_payload as usize {
            return Err(self.fail(SessionError::PayloadTooLarge {
                len: d.payload.len(),
                max: max_payload,
            }));
        }
        if d.seq - self.acked > u64::from(max_in_flight) {
            return Err(self.fail(SessionError::TooManyInFlight {
                seq: d.seq,
                acked: self.acked,
                max: max_in_flight,
            }));
        }
        let len = d.payload.len() as u64;
        let allowed_units = match self.cfg.price.model {
            PricingModel::PerMessage => Some(1),
            PricingModel::PerKilobyte => kilobyte_units(r.bytes, len),
            PricingModel::PerSecond => {
                let elapsed = now_ms
                    .saturating_sub(self.origin_ms)
                    .saturating_add(PER_SECOND_SLACK_MS);
                Some(seconds_started(elapsed).saturating_sub(self.billed_conn))
            }
        };
        let exact = self.cfg.price.model != PricingModel::PerSecond;
        let ok = match allowed_units {
            Some(a) if exact => u64::from(d.units) == a,
            Some(a) => u64::from(d.units) <= a,
            None => false,
        };
        if !ok {
            return Err(self.fail(SessionError::BadUnits {
                seq: d.seq,
                units: d.units,
                allowed: allowed_units.unwrap_or(0),
            }));
        }
        let price = self.cfg.price.amount.0;
        let Some(after) = r.advance(d.units, d.payload.len()) else {
            return Err(self.fail(SessionError::AmountOverflow));
        };
        let Some(owed_after) = after.owed(price) else {
            return Err(self.fail(SessionError::AmountOverflow));
        };
        if owed_after > limit {
            return Err(self.fail(SessionError::CreditExceeded {
                seq: d.seq,
                owed: owed_after,
                allowed: limit,
                what: "the stream limit",
            }));
        }
        let allowed = self.stream.paid.0.saturating_add(window);
        if owed_after > allowed {
            return Err(self.fail(SessionError::CreditExceeded {
                seq: d.seq,
                owed: owed_after,
                allowed,
                what: "paid plus the credit window",
            }));
        }
        self.stream.received = after;
        if self.cfg.price.model == PricingModel::PerSecond {
            self.billed_conn += u64::from(d.units);
        }
        self.last_data_ms = now_ms;
        Ok(BuyerEvent::Data(d))
    }

    /// Amount owed for everything received.
    pub fn owed(&self) -> u128 {
        self.stream
            .received
            .owed(self.cfg.price.amount.0)
            .unwrap_or(u128::MAX)
    }

    /// Appends the next frame to send to `out`: a voucher when one is due
    /// (the unpaid amount reached the policy's share of the window, or no
    /// chunk came for `idle_pay_ms`, or a graceful close), else an
    /// acknowledgement when half the in-flight limit is unacknowledged (or
    /// idle), else a queued CLOSE. `None` when there is nothing to send.
    pub fn poll_transmit(
        &mut self,
        now_ms: u64,
        signer: &dyn ChannelSigner,
        out: &mut Vec<u8>,
    ) -> Result<Option<FrameType>, SessionError> {
        if let Some(frame) = self.next_payment(now_ms, signer)? {
            let _ = frame.encode(out);
            return Ok(Some(frame.frame_type()));
        }
        if let Some((code, reason)) = self.control.pop_front() {
            let frame = Frame::Close(Close {
                code,
                last_seq: self.stream.received.seq,
                reason: &reason,
            });
            // Reasons are cut to fit by close_reason.
            let _ = frame.encode(out);
            return Ok(Some(FrameType::Close));
        }
        Ok(None)
    }

    fn next_payment(
        &mut self,
        now_ms: u64,
        signer: &dyn ChannelSigner,
    ) -> Result<Option<Frame<'static>>, SessionError> {
        let streaming = self.phase == Phase::Streaming;
        let Some(agreed) = self
            .agreed
            .as_ref()
            .filter(|_| streaming || self.final_payment)
        else {
            return Ok(None);
        };
        let received = self.stream.received.seq;
        let owed = self.owed();
        let unpaid = owed.saturating_sub(self.stream.paid.0);
        let w = agreed.window_amount;
        let pct = u128::from(self.cfg.pay_at_percent);
        let threshold = (w / 100 * pct + w % 100 * pct / 100).max(1);
        let idle = now_ms.saturating_sub(self.last_data_ms) >= self.cfg.idle_pay_ms;
        let in_flight_half = u64::from(agreed.max_in_flight / 2).max(1);
        if unpaid > 0 && (self.final_payment || unpaid >= threshold || idle) {
            let signature = signer
                .sign_voucher(owed)
                .map_err(|e| self.fail(SessionError::Signing(e)))?;
            self.stream.paid = Amount(owed);
            self.stream.paid_signature = Some(Hex(signature));
            self.acked = received;
            self.resend_paid = false;
            return Ok(Some(Frame::Voucher(Voucher {
                channel_id: self.cfg.channel.id,
                ack_seq: received,
                amount: owed,
                signature,
            })));
        }
        if let Some(sig) = self.stream.paid_signature.filter(|_| self.resend_paid) {
            // The seller lost this voucher in the disconnect; it pays for
            // chunks up to `received` at the latest.
            self.resend_paid = false;
            self.acked = received;
            return Ok(Some(Frame::Voucher(Voucher {
                channel_id: self.cfg.channel.id,
                ack_seq: received,
                amount: self.stream.paid.0,
                signature: sig.0,
            })));
        }
        self.final_payment = false;
        if streaming && received > self.acked && (received - self.acked >= in_flight_half || idle) {
            self.acked = received;
            return Ok(Some(Frame::Ack(Ack { ack_seq: received })));
        }
        Ok(None)
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
