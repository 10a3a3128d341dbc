//! The seller's side of the handshake: HELLO checks, the resume position
//! and roll-back, the signed OFFER, and the buyer's ACCEPT.

use std::collections::VecDeque;

use super::{Accepted, SellerSession, SentChunk};
use crate::auth::{ChannelVerifier, GatewaySigner};
use crate::handshake::{
    accept_message, Accept, Hello, Hex, Offer, OfferType, Protocol, StreamPosition,
};
use crate::pricing::{amount_owed, kilobytes_started, Amount, PricingModel};
use crate::session::{Phase, Position, SessionError};

impl SellerSession {
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
        // No position is position zero: a new stream, or one whose buyer
        // received nothing yet (everything sent is sent again).
        let pos = hello.resume.unwrap_or_default();
        if self.stream.recovered {
            return self.adopt(pos);
        }
        let s = &self.stream;
        let sent = self.sent;
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

    /// Resume of a recovered stream (the seller kept only its best voucher):
    /// the buyer's position is taken if its units follow the pricing rule
    /// from the bytes and chunks it names (exact per message and per
    /// kilobyte; per second the seconds are not checkable), it signed at
    /// least the best voucher held and no more than it owes. A buyer could
    /// under-report per-second units or per-kilobyte bytes, but never below
    /// what it paid: the seller's loss stays within the credit window it
    /// risked anyway.
    fn adopt(&mut self, pos: StreamPosition) -> Result<StreamPosition, SessionError> {
        let mismatch = |reason: String| Err(SessionError::ResumeMismatch { reason });
        let s = &self.stream;
        let base = s.acked;
        if pos.seq < base.seq || pos.units < base.units || pos.bytes < base.bytes {
            return mismatch(format!(
                "position {}/{}/{} is behind the acknowledged {}/{}/{}",
                pos.seq, pos.units, pos.bytes, base.seq, base.units, base.bytes
            ));
        }
        let units_ok = match self.cfg.price.model {
            PricingModel::PerMessage => pos.units - base.units == pos.seq - base.seq,
            PricingModel::PerKilobyte => pos.units == kilobytes_started(pos.bytes),
            PricingModel::PerSecond => true,
        };
        if !units_ok {
            return mismatch(format!(
                "{} units for {} chunks and {} bytes break the pricing rule",
                pos.units, pos.seq, pos.bytes
            ));
        }
        let owed =
            amount_owed(pos.units, self.cfg.price.amount.0).ok_or(SessionError::AmountOverflow)?;
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
        let stream = &mut self.stream;
        stream.acked = Position {
            seq: pos.seq,
            units: pos.units,
            bytes: pos.bytes,
        };
        stream.recovered = false;
        self.sent = stream.acked;
        Ok(StreamPosition {
            paid: stream.best,
            ..pos
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
}
