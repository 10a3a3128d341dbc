//! The signatures a session needs, as traits: the state machines stay free
//! of any crypto library. Feature `voucher` implements them (see
//! [`crate::crypto`]); a browser client implements them with its wallet.

use crate::handshake::{GatewayProof, Offer};

/// Why a signature was refused or could not be made.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the signature does not verify")]
    Invalid,
    #[error("malformed key or signature: {reason}")]
    Malformed { reason: String },
    #[error("the gateway certificate expired at {not_after} (now {now})")]
    Expired { not_after: u64, now: u64 },
    #[error("the certificate key belongs to {actual}, not to the seller {expected}")]
    WrongSigner { expected: String, actual: String },
    #[error("signing failed: {reason}")]
    Signing { reason: String },
}

/// Checks signatures made with one channel's voucher key (the key registered
/// when the channel was opened). Bound to the chain id, contract and channel
/// id, so only the amount varies.
pub trait ChannelVerifier {
    /// A voucher for `amount` on this channel, without hashlock or expiry.
    fn verify_voucher(&self, amount: u128, signature: &[u8; 64]) -> Result<(), SignatureError>;
    /// The buyer's acceptance ([`crate::handshake::accept_message`]).
    fn verify_accept(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), SignatureError>;
}

/// Signs with a channel's voucher key (the buyer's wallet or key file).
pub trait ChannelSigner {
    /// A voucher for `amount` on this channel, without hashlock or expiry.
    fn sign_voucher(&self, amount: u128) -> Result<[u8; 64], SignatureError>;
    /// The acceptance message of an offer.
    fn sign_accept(&self, message: &[u8]) -> Result<[u8; 64], SignatureError>;
}

/// The seller's gateway: its certified key, and offer signing.
pub trait GatewaySigner {
    /// The gateway key and the seller's certificate for it.
    fn proof(&self) -> GatewayProof;
    /// An ed25519 signature over an offer's sign bytes.
    fn sign_offer(&self, sign_bytes: &[u8]) -> Result<[u8; 64], SignatureError>;
}

/// Checks an offer's proof: the certificate was signed by the offer's
/// seller and is valid at `now_unix_s`, and the gateway key signed the offer.
pub trait GatewayVerifier {
    fn verify_offer(&self, offer: &Offer, now_unix_s: u64) -> Result<(), SignatureError>;
}
