//! The hand-off of payment-channel vouchers to durable storage, as a narrow
//! capability: the data gateway stores the best voucher of each stream
//! through a [`VoucherSink`], the watchtower implements it, and neither
//! service depends on the other.

use async_trait::async_trait;
use thiserror::Error;

/// A cumulative voucher without hashlock or expiry (the kind SDPP streams
/// pay with), already checked by the caller against the channel's
/// registered key with the `wevalue-voucher` code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkVoucher {
    /// Channel id in the sink's payment-channel contract.
    pub channel_id: u64,
    /// Cumulative amount.
    pub amount: u128,
    /// The payer's signature (64 bytes).
    pub signature: Vec<u8>,
}

/// What the sink holds for a channel after a store or a read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredVoucher {
    /// Channel id.
    pub channel_id: u64,
    /// The best amount held (what will be claimed).
    pub amount: u128,
    /// Its signature.
    pub signature: Vec<u8>,
}

/// Why a voucher was not stored.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SinkError {
    /// A higher voucher is stored already (nothing changed).
    #[error("voucher for {amount} on channel {channel_id} is not above the stored best {best}")]
    Stale {
        /// Channel id.
        channel_id: u64,
        /// The refused amount.
        amount: u128,
        /// The stored best.
        best: u128,
    },
    /// The sink does not take vouchers of this channel (unknown, closed,
    /// another payee, above the deposit); `code` is stable for machines.
    #[error("channel {channel_id} refused ({code}): {reason}")]
    Refused {
        /// Channel id.
        channel_id: u64,
        /// Stable code (the watchtower's API codes).
        code: &'static str,
        /// Human reason.
        reason: String,
    },
    /// The store or the chain is unavailable; nothing was acknowledged.
    #[error("voucher store unavailable: {0}")]
    Unavailable(String),
}

/// Durable storage of the best voucher per channel.
///
/// **Promise**: `store` returns `Ok` only after the voucher (or a better
/// one) is durable — committed and fsync'ed — so a crash after `Ok` loses
/// nothing acknowledged. An `Err` stored nothing new.
#[async_trait]
pub trait VoucherSink: Send + Sync {
    /// Stores `voucher` if it is above the stored best; returns the best held.
    async fn store(&self, voucher: SinkVoucher) -> Result<StoredVoucher, SinkError>;
    /// The best voucher held for a channel, if any.
    async fn best(&self, channel_id: u64) -> Result<Option<StoredVoucher>, SinkError>;
}
