//! The seller's data path: admission under the in-flight limit, the stream
//! limit and the credit window; sending and resending chunks; vouchers,
//! acknowledgements and the buyer's CLOSE.

use super::{Blocked, Control, SellerEvent, SellerSession, SendError, Sent, SentChunk};
use crate::auth::ChannelVerifier;
use crate::code::ErrorCode;
use crate::frame::{self, Close, Data, Frame, FrameType, Receipt};
use crate::handshake::Hex;
use crate::pricing::{kilobyte_units, seconds_started, Amount, PricingModel};
use crate::session::{Phase, SessionError};

impl SellerSession {
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
        let allowed = self.credit_base().saturating_add(self.window_amount);
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
        let receipt = Receipt {
            ack_seq: v.ack_seq,
            amount: v.amount,
        };
        if self.stored.is_some() {
            // The receipt waits until the caller reports the voucher stored.
            self.unstored.push_back(receipt);
        } else {
            self.control.push_back(Control::Receipt(receipt));
        }
        Ok(SellerEvent::Voucher(v))
    }
}
