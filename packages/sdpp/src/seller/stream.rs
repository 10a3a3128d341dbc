//! The seller's durable record of a stream: what the buyer acknowledged,
//! the chunks kept to resend, and the best voucher.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::handshake::Hex;
use crate::pricing::Amount;
use crate::session::Position;

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
    /// Rebuilt from the best voucher alone after the seller lost its record
    /// (a crash): the chunks after `acked` are unknown, so the next resume
    /// adopts the buyer's position where the pricing rule can check it (§9).
    #[serde(default)]
    pub recovered: bool,
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
            recovered: false,
        }
    }

    /// The record of a stream whose seller lost everything but its best
    /// voucher (kept by its durable voucher store): the next resume adopts
    /// the buyer's position if the pricing rule allows it and the buyer
    /// signed at least `best` (see `SellerSession::on_hello`).
    pub fn recovered(
        listing_id: u64,
        channel_id: u64,
        best: u128,
        best_signature: Option<[u8; 64]>,
    ) -> SellerStream {
        SellerStream {
            best: Amount(best),
            best_signature: best_signature.map(Hex),
            recovered: true,
            ..SellerStream::new(listing_id, channel_id)
        }
    }

    /// The position after the last chunk sent.
    pub fn sent(&self) -> Position {
        self.position_at(u64::MAX)
    }

    /// The position after chunk `seq`, counting acknowledged and unacknowledged chunks.
    pub(super) fn position_at(&self, seq: u64) -> Position {
        let mut p = self.acked;
        for c in self.unacked.iter().take_while(|c| c.seq <= seq) {
            // Each chunk was admitted by this arithmetic when it was sent.
            p = p.advance(c.units, c.payload.len()).unwrap_or(p);
        }
        p
    }

    /// Drops chunks up to `seq` from the unacknowledged buffer.
    pub(super) fn acknowledge(&mut self, seq: u64) {
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
