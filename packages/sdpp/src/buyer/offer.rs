//! The buyer's side of the handshake: the HELLO, and the checks on the
//! seller's OFFER before signing the ACCEPT.

use super::{Agreed, BuyerSession};
use crate::auth::{ChannelSigner, GatewayVerifier};
use crate::handshake::{
    accept_message, Accept, AcceptType, Hello, HelloType, Hex, Offer, Protocol,
};
use crate::pricing::Amount;
use crate::session::{Phase, SessionError};

impl BuyerSession {
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
}
