//! The buyer's data path: the checks on every frame from the seller, and
//! when to pay, acknowledge and close.

use super::{BuyerEvent, BuyerSession};
use crate::auth::ChannelSigner;
use crate::code::ErrorCode;
use crate::frame::{self, Ack, Close, Data, Frame, FrameType, Voucher};
use crate::handshake::Hex;
use crate::pricing::{kilobyte_units, seconds_started, Amount, PricingModel};
use crate::session::{is_graceful, Phase, SessionError, PER_SECOND_SLACK_MS};

impl BuyerSession {
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
}
