//! The seller's state machine: one connection of the data gateway. It
//! answers the handshake, decides what may be sent under the credit window,
//! the in-flight limit and the stream limit, validates every voucher,
//! queues receipts, and keeps the durable [`SellerStream`] that a later
//! connection resumes from.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::auth::{ChannelVerifier, GatewaySigner};
use crate::code::ErrorCode;
use crate::frame::{self, Close, Data, Frame, FrameType, Receipt, MAX_PAYLOAD};
use crate::handshake::{
    accept_message, Accept, ChannelRef, Hello, Hex, Offer, OfferType, Protocol, StreamPosition,
    Terms, MAX_JSON_INT,
};
use crate::pricing::{kilobyte_units, seconds_started, Amount, Price, PricingModel};
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

/// A chunk kept until the buyer acknowledges it, to resend after a disconnect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentChunk {
    pub seq: u64,
    pub timestamp_ms: u64,
    /// Units it charged when last sent.
    pub units: u32,
    pub payload: Vec<u8>,
}

/// The seller's durable record of a channel's stream; persist it (with the
/// best voucher) and hand it to the next connection's session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SellerStream {
    pub listing_id: u64,
    pub channel_id: u64,
    /// Everything up to here is acknowledged by the buyer.
    pub acked: Position,
    /// Sent on this connection and not yet acknowledged, oldest first.
    pub unacked: VecDeque<SentChunk>,
    /// Sent on an earlier connection, not received: sent again first.
    pub resend: VecDeque<SentChunk>,
    /// Best voucher held: amount, the sequence it acknowledged, signature.
    pub best: Amount,
    pub best_ack_seq: u64,
    pub best_signature: Option<Hex<64>>,
}

impl SellerStream {
    /// A stream that has delivered nothing.
    pub fn new(listing_id: u64, channel_id: u64) -> SellerStream {
        SellerStream {
            listing_id,
            channel_id,
            acked: Position::default(),
            unacked: VecDeque::new(),
            resend: VecDeque::new(),
            best: Amount(0),
            best_ack_seq: 0,
            best_signature: None,
        }
    }

    /// The position after the last chunk sent.
    pub fn sent(&self) -> Position {
        self.position_at(u64::MAX)
    }

    /// The position after chunk `seq`, counting acknowledged and unacknowledged chunks.
    fn position_at(&self, seq: u64) -> Position {
        let mut p = self.acked;
        for c in self.unacked.iter().take_while(|c| c.seq <= seq) {
            // Each chunk was admitted by this arithmetic when it was sent.
            p = p.advance(c.units, c.payload.len()).unwrap_or(p);
        }
        p
    }

    /// Drops chunks up to `seq` from the unacknowledged buffer.
    fn acknowledge(&mut self, seq: u64) {
        while let Some(c) = self.unacked.front() {
            if c.seq > seq {
                break;
            }
            self.acked = self
                .acked
                .advance(c.units, c.payload.len())
                .unwrap_or(self.acked);
            self.unacked.pop_front();
        }
    }
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
        })
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

    /// Answers a HELLO text message with the offer to send (as JSON). The
    /// gateway signs it; `nonce` must be fresh random bytes.
    pub fn on_hello(
        &mut self,
        text: &str,
        nonce: [u8; 32],
        gateway: &dyn GatewaySigner,
    ) -> Result<Offer, SessionError> {
        if self.phase != Phase::Handshake || self.offer_digest.is_some() {
            return Err(self.fail(SessionError::Unexpected {
                what: "a HELLO",
                when: "after the handshake started",
            }));
        }
        let hello = Hello::from_json(text).map_err(|e| self.fail(e.into()))?;
        self.check_hello(&hello).map_err(|e| self.fail(e))?;
        let position = self.resume_at(&hello).map_err(|e| self.fail(e))?;
        let proof = gateway.proof();
        let mut offer = Offer {
            kind: OfferType::Tag,
            protocol: Protocol::Sdpp1,
            chain_id: self.cfg.chain_id.clone(),
            registry: self.cfg.registry.clone(),
            listing_id: self.cfg.listing_id,
            seller: self.cfg.seller.clone(),
            terms: self.cfg.terms.clone(),
            price: self.cfg.price.clone(),
            channel: self.cfg.channel.clone(),
            credit_window: self.cfg.credit_window,
            max_payload: self.max_payload,
            max_in_flight: self.cfg.max_in_flight,
            payment_timeout_ms: self.cfg.payment_timeout_ms,
            limit: Amount(self.limit),
            position,
            client_nonce: hello.nonce,
            nonce: Hex(nonce),
            gateway: proof,
            signature: Hex([0; 64]),
        };
        let signature = gateway
            .sign_offer(&offer.sign_bytes())
            .map_err(|e| self.fail(SessionError::Signing(e)))?;
        offer.signature = Hex(signature);
        self.offer_digest = Some(offer.digest());
        Ok(offer)
    }

    fn check_hello(&mut self, hello: &Hello) -> Result<(), SessionError> {
        let cfg = &self.cfg;
        let listing = |field, expected: &dyn ToString, got: &dyn ToString| {
            Err(SessionError::UnknownListing {
                field,
                expected: expected.to_string(),
                got: got.to_string(),
            })
        };
        if hello.chain_id != cfg.chain_id {
            return listing("chain_id", &cfg.chain_id, &hello.chain_id);
        }
        if hello.registry != cfg.registry {
            return listing("registry", &cfg.registry, &hello.registry);
        }
        if hello.listing_id != cfg.listing_id {
            return listing("listing_id", &cfg.listing_id, &hello.listing_id);
        }
        let channel = |field, expected: String, got: String| {
            Err(SessionError::ChannelInvalid {
                field,
                expected,
                got,
            })
        };
        if hello.channel.contract != cfg.channel.contract {
            return channel(
                "contract",
                cfg.channel.contract.clone(),
                hello.channel.contract.clone(),
            );
        }
        if hello.channel.id != cfg.channel.id {
            return channel(
                "id",
                cfg.channel.id.to_string(),
                hello.channel.id.to_string(),
            );
        }
        if hello.channel.scheme != cfg.channel.scheme {
            return channel(
                "scheme",
                format!("{:?}", cfg.channel.scheme),
                format!("{:?}", hello.channel.scheme),
            );
        }
        if hello.terms_hash != cfg.terms.terms_hash {
            return Err(SessionError::TermsMismatch {
                expected: format!("{:?}", cfg.terms.terms_hash),
                got: format!("{:?}", hello.terms_hash),
            });
        }
        if self.stream.listing_id != cfg.listing_id {
            return Err(SessionError::ChannelInUse {
                channel_id: cfg.channel.id,
                listing_id: self.stream.listing_id,
            });
        }
        self.limit = match hello.max_amount {
            Some(cap) => cap.0.min(cfg.deposit),
            None => cfg.deposit,
        };
        self.max_payload = cfg.max_payload.min(hello.max_payload);
        Ok(())
    }

    /// Checks the buyer's resume position against the stream and rolls the
    /// stream back to it: chunks after it were not received and go out
    /// again, charged once.
    fn resume_at(&mut self, hello: &Hello) -> Result<StreamPosition, SessionError> {
        let mismatch = |reason: String| Err(SessionError::ResumeMismatch { reason });
        let s = &self.stream;
        let sent = self.sent;
        // No position is position zero: a new stream, or one whose buyer
        // received nothing yet (everything sent is sent again).
        let pos = hello.resume.unwrap_or_default();
        if pos.seq < s.acked.seq || pos.seq > sent.seq {
            return mismatch(format!(
                "seq {} outside the acknowledged {} to sent {}",
                pos.seq, s.acked.seq, sent.seq
            ));
        }
        let at = s.position_at(pos.seq);
        if (at.units, at.bytes) != (pos.units, pos.bytes) {
            return mismatch(format!(
                "at seq {} the seller counts {} units and {} bytes, the buyer {} and {}",
                pos.seq, at.units, at.bytes, pos.units, pos.bytes
            ));
        }
        let owed = at
            .owed(self.cfg.price.amount.0)
            .ok_or(SessionError::AmountOverflow)?;
        if pos.paid < s.best || pos.paid.0 > owed {
            return mismatch(format!(
                "the buyer signed {} but the seller holds {} and {} is owed",
                pos.paid, s.best, owed
            ));
        }
        if owed > self.limit {
            return Err(SessionError::LimitReached {
                limit: self.limit,
                owed,
            });
        }
        let max = self.max_payload;
        if let Some(c) = s
            .unacked
            .iter()
            .chain(&s.resend)
            .find(|c| c.seq > pos.seq && c.payload.len() > max as usize)
        {
            return mismatch(format!(
                "chunk {} of {} bytes must be resent but max_payload is {max}",
                c.seq,
                c.payload.len()
            ));
        }
        let stream = &mut self.stream;
        stream.acknowledge(pos.seq);
        let mut back: VecDeque<SentChunk> = stream.unacked.drain(..).collect();
        back.append(&mut stream.resend);
        stream.resend = back;
        self.sent = stream.acked;
        Ok(StreamPosition {
            seq: pos.seq,
            units: pos.units,
            bytes: pos.bytes,
            paid: stream.best,
        })
    }

    /// Checks the buyer's ACCEPT (signed with the channel key) and starts
    /// streaming; `now_ms` starts per-second billing.
    pub fn on_accept(
        &mut self,
        text: &str,
        channel: &dyn ChannelVerifier,
        now_ms: u64,
    ) -> Result<Accepted, SessionError> {
        let Some(offer_digest) = self.offer_digest.filter(|_| self.phase == Phase::Handshake)
        else {
            return Err(self.fail(SessionError::Unexpected {
                what: "an ACCEPT",
                when: "without an offer outstanding",
            }));
        };
        let accept = Accept::from_json(text).map_err(|e| self.fail(e.into()))?;
        channel
            .verify_accept(&accept_message(&offer_digest), &accept.signature.0)
            .map_err(|e| self.fail(SessionError::BadAcceptance(e)))?;
        self.phase = Phase::Streaming;
        self.origin_ms = now_ms;
        self.billed_conn = 0;
        Ok(Accepted {
            offer_digest,
            signature: accept.signature.0,
        })
    }

    /// Decides whether a chunk of `len` bytes may go out now and what it
    /// charges. Order: in flight, units, stream limit, credit.
    fn admit(&mut self, now_ms: u64, len: usize) -> Result<u32, Blocked> {
        let s = &self.stream;
        let sent = self.sent;
        let in_flight = sent.seq - s.acked.seq;
        if in_flight >= u64::from(self.cfg.max_in_flight) {
            self.wait_since(now_ms, false);
            return Err(Blocked::InFlight {
                in_flight,
                max: self.cfg.max_in_flight,
            });
        }
        let price = self.cfg.price.amount.0;
        // Admitted chunks never take the amount owed above the limit.
        let owed = sent.owed(price).unwrap_or(u128::MAX);
        let allowed = s.best.0.saturating_add(self.window_amount);
        let units = match self.cfg.price.model {
            PricingModel::PerMessage => 1,
            PricingModel::PerKilobyte => kilobyte_units(sent.bytes, len as u64).unwrap_or(u64::MAX),
            PricingModel::PerSecond => {
                let started = seconds_started(now_ms.saturating_sub(self.origin_ms));
                let due = started.saturating_sub(self.billed_conn);
                if due == 0 {
                    0
                } else {
                    let limit_room = self.limit.saturating_sub(owed) / price;
                    let credit_room = allowed.saturating_sub(owed) / price;
                    if limit_room == 0 {
                        return Err(self.limit_reached());
                    }
                    if credit_room == 0 {
                        return Err(self.credit_blocked(
                            now_ms,
                            owed.saturating_add(price),
                            allowed,
                        ));
                    }
                    // Seconds the seller could not bill (it was out of credit) are not billed later.
                    let room = u64::try_from(limit_room.min(credit_room)).unwrap_or(u64::MAX);
                    due.min(room).min(u64::from(u32::MAX))
                }
            }
        };
        let units = u32::try_from(units).unwrap_or(u32::MAX);
        let owed_after = u128::from(units)
            .checked_mul(price)
            .and_then(|a| a.checked_add(owed))
            .unwrap_or(u128::MAX);
        if owed_after > self.limit {
            return Err(self.limit_reached());
        }
        if owed_after > allowed {
            return Err(self.credit_blocked(now_ms, owed_after, allowed));
        }
        Ok(units)
    }

    fn limit_reached(&mut self) -> Blocked {
        self.queue_close(ErrorCode::LimitReached, "the stream limit is reached");
        self.phase = Phase::Closing;
        Blocked::LimitReached { limit: self.limit }
    }

    /// Starts the payment timer unless it runs already.
    fn wait_since(&mut self, now_ms: u64, for_payment: bool) {
        if self.blocked_since.is_none() {
            self.blocked_since = Some(now_ms);
            self.waiting_for_payment = for_payment;
        }
    }

    fn credit_blocked(&mut self, now_ms: u64, owed_after: u128, allowed: u128) -> Blocked {
        self.wait_since(now_ms, true);
        Blocked::Credit {
            owed_after,
            allowed,
        }
    }

    fn emit(&mut self, chunk: SentChunk, units: u32, out: &mut Vec<u8>) -> Sent {
        let frame = Frame::Data(Data {
            seq: chunk.seq,
            timestamp_ms: chunk.timestamp_ms,
            units,
            payload: &chunk.payload,
        });
        // Payload sizes are checked against max_payload (≤ 1 MiB) first.
        let _ = frame.encode(out);
        if self.cfg.price.model == PricingModel::PerSecond {
            self.billed_conn += u64::from(units);
        }
        let sent = Sent {
            seq: chunk.seq,
            units,
        };
        self.sent = self
            .sent
            .advance(units, chunk.payload.len())
            .unwrap_or(self.sent);
        self.stream.unacked.push_back(SentChunk { units, ..chunk });
        sent
    }

    /// Sends a new chunk if allowed now: appends its DATA frame to `out`.
    /// On `Err` nothing was sent; keep the chunk and try again after the
    /// next voucher or acknowledgement.
    pub fn send_data(
        &mut self,
        now_ms: u64,
        timestamp_ms: u64,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Sent, SendError> {
        if self.phase != Phase::Streaming {
            return Err(SendError::Blocked(Blocked::NotStreaming));
        }
        if payload.len() > self.max_payload as usize {
            return Err(SendError::PayloadTooLarge {
                len: payload.len(),
                max: self.max_payload,
            });
        }
        if !self.stream.resend.is_empty() {
            return Err(SendError::Blocked(Blocked::Resending));
        }
        let units = self
            .admit(now_ms, payload.len())
            .map_err(SendError::Blocked)?;
        let chunk = SentChunk {
            seq: self.sent.seq + 1,
            timestamp_ms,
            units,
            payload: payload.to_vec(),
        };
        Ok(self.emit(chunk, units, out))
    }

    /// Appends the next frame the session must send (a receipt, a close,
    /// or a chunk being resent) to `out`; `None` when there is nothing.
    pub fn poll_transmit(&mut self, now_ms: u64, out: &mut Vec<u8>) -> Option<FrameType> {
        if let Some(c) = self.control.pop_front() {
            let frame = match &c {
                Control::Receipt(r) => Frame::Receipt(*r),
                Control::Close {
                    code,
                    last_seq,
                    reason,
                } => Frame::Close(Close {
                    code: *code,
                    last_seq: *last_seq,
                    reason,
                }),
            };
            // Reasons are cut to fit by close_reason.
            let _ = frame.encode(out);
            return Some(frame.frame_type());
        }
        if self.phase != Phase::Streaming {
            return None;
        }
        let len = self.stream.resend.front()?.payload.len();
        match self.admit(now_ms, len) {
            Ok(units) => {
                let chunk = self.stream.resend.pop_front()?;
                self.emit(chunk, units, out);
                Some(FrameType::Data)
            }
            // The close it queued goes out now.
            Err(Blocked::LimitReached { .. }) => self.poll_transmit(now_ms, out),
            Err(_) => None,
        }
    }

    /// Handles one binary frame from the buyer.
    pub fn on_frame(
        &mut self,
        bytes: &[u8],
        channel: &dyn ChannelVerifier,
    ) -> Result<SellerEvent, SessionError> {
        if self.phase == Phase::Closed {
            return Ok(SellerEvent::Ignored);
        }
        let frame = frame::decode(bytes).map_err(|e| self.fail(e.into()))?;
        let streaming = matches!(self.phase, Phase::Streaming | Phase::Closing);
        match frame {
            Frame::Voucher(v) if streaming => self.on_voucher(v, channel),
            Frame::Ack(a) if streaming => {
                let sent = self.sent.seq;
                if a.ack_seq <= self.stream.acked.seq || a.ack_seq > sent {
                    return Err(self.fail(SessionError::BadAck {
                        ack_seq: a.ack_seq,
                        min: self.stream.acked.seq + 1,
                        max: sent,
                    }));
                }
                self.stream.acknowledge(a.ack_seq);
                // An acknowledgement ends a wait for acknowledgements, not for payment.
                if !self.waiting_for_payment {
                    self.blocked_since = None;
                }
                Ok(SellerEvent::Ack { ack_seq: a.ack_seq })
            }
            Frame::Close(c) => {
                let s = &mut self.stream;
                if c.last_seq > s.acked.seq && c.last_seq <= self.sent.seq {
                    s.acknowledge(c.last_seq);
                }
                self.queue_close(ErrorCode::Normal, "");
                self.phase = Phase::Closed;
                Ok(SellerEvent::Closed {
                    code: c.code,
                    last_seq: c.last_seq,
                    reason: c.reason.to_string(),
                })
            }
            other => Err(self.fail(SessionError::unexpected_frame(
                other.frame_type(),
                if streaming {
                    "from a buyer"
                } else {
                    "during the handshake"
                },
            ))),
        }
    }

    fn on_voucher(
        &mut self,
        v: frame::Voucher,
        channel: &dyn ChannelVerifier,
    ) -> Result<SellerEvent, SessionError> {
        let s = &self.stream;
        if v.channel_id != self.cfg.channel.id {
            return Err(self.fail(SessionError::WrongChannel {
                expected: self.cfg.channel.id,
                got: v.channel_id,
            }));
        }
        let sent = self.sent.seq;
        if v.ack_seq < s.acked.seq || v.ack_seq > sent {
            return Err(self.fail(SessionError::BadAck {
                ack_seq: v.ack_seq,
                min: s.acked.seq,
                max: sent,
            }));
        }
        if v.amount <= s.best.0 {
            return Err(self.fail(SessionError::VoucherNotIncreasing {
                amount: v.amount,
                best: s.best.0,
            }));
        }
        let owed = s
            .position_at(v.ack_seq)
            .owed(self.cfg.price.amount.0)
            .unwrap_or(u128::MAX);
        if v.amount > owed {
            return Err(self.fail(SessionError::VoucherExceedsOwed {
                amount: v.amount,
                owed,
                ack_seq: v.ack_seq,
            }));
        }
        channel
            .verify_voucher(v.amount, &v.signature)
            .map_err(|e| self.fail(SessionError::BadSignature(e)))?;
        let s = &mut self.stream;
        s.best = Amount(v.amount);
        s.best_ack_seq = v.ack_seq;
        s.best_signature = Some(Hex(v.signature));
        s.acknowledge(v.ack_seq);
        self.blocked_since = None;
        self.control.push_back(Control::Receipt(Receipt {
            ack_seq: v.ack_seq,
            amount: v.amount,
        }));
        Ok(SellerEvent::Voucher(v))
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
