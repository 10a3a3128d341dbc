//! The conformance world's fixed listing and channel, and test keys.

use wevalue_sdpp::auth::{ChannelSigner, ChannelVerifier, GatewaySigner, GatewayVerifier};
use wevalue_sdpp::handshake::{Certificate, ChannelRef, GatewayProof, Hex, Offer, Scheme, Terms};
use wevalue_sdpp::{Amount, Asset, BuyerConfig, Price, SellerConfig, SignatureError};

use super::model::Params;

pub const CHANNEL: u64 = 4;

/// Test keys: deterministic "signatures" that bind the channel and amount,
/// so a forged one is refused; real schemes are tested elsewhere.
pub struct FakeKey;

pub fn voucher_sig(channel: u64, amount: u128) -> [u8; 64] {
    let mut s = [0x5a; 64];
    s[..8].copy_from_slice(&channel.to_be_bytes());
    s[8..24].copy_from_slice(&amount.to_be_bytes());
    s
}

impl ChannelSigner for FakeKey {
    fn sign_voucher(&self, amount: u128) -> Result<[u8; 64], SignatureError> {
        Ok(voucher_sig(CHANNEL, amount))
    }
    fn sign_accept(&self, message: &[u8]) -> Result<[u8; 64], SignatureError> {
        let mut s = [0xa5; 64];
        let n = message.len().min(64);
        s[..n].copy_from_slice(&message[..n]);
        Ok(s)
    }
}

impl ChannelVerifier for FakeKey {
    fn verify_voucher(&self, amount: u128, signature: &[u8; 64]) -> Result<(), SignatureError> {
        (signature == &voucher_sig(CHANNEL, amount))
            .then_some(())
            .ok_or(SignatureError::Invalid)
    }
    fn verify_accept(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), SignatureError> {
        (self.sign_accept(message)? == *signature)
            .then_some(())
            .ok_or(SignatureError::Invalid)
    }
}

impl GatewaySigner for FakeKey {
    fn proof(&self) -> GatewayProof {
        GatewayProof {
            key: Hex([7; 32]),
            certificate: Certificate {
                seller_pubkey: Hex([2; 33]),
                not_after: u64::from(u32::MAX),
                signature: Hex([9; 64]),
            },
        }
    }
    fn sign_offer(&self, _: &[u8]) -> Result<[u8; 64], SignatureError> {
        Ok([1; 64])
    }
}

impl GatewayVerifier for FakeKey {
    fn verify_offer(&self, _: &Offer, _: u64) -> Result<(), SignatureError> {
        Ok(())
    }
}

const CHAIN: &str = "wevalue-1";
const REGISTRY: &str = "wasm1registry0";
const SELLER: &str = "wasm1seller0";

fn price(p: &Params) -> Price {
    Price {
        asset: Asset::Native("ustake".into()),
        amount: Amount(p.price),
        model: p.model,
    }
}

fn channel() -> ChannelRef {
    ChannelRef {
        contract: "wasm1channels0".into(),
        id: CHANNEL,
        scheme: Scheme::Ed25519,
    }
}

fn terms() -> Terms {
    Terms {
        license: "CC-BY-4.0".into(),
        terms_hash: Hex([0x3c; 32]),
    }
}

pub fn seller_config(p: &Params) -> SellerConfig {
    SellerConfig {
        chain_id: CHAIN.into(),
        registry: REGISTRY.into(),
        listing_id: 1,
        seller: SELLER.into(),
        terms: terms(),
        price: price(p),
        channel: channel(),
        deposit: p.deposit,
        credit_window: p.window,
        max_payload: p.max_payload,
        max_in_flight: p.max_in_flight,
        payment_timeout_ms: p.timeout_ms,
    }
}

pub fn buyer_config(p: &Params) -> BuyerConfig {
    BuyerConfig {
        chain_id: CHAIN.into(),
        registry: REGISTRY.into(),
        listing_id: 1,
        seller: SELLER.into(),
        terms: terms(),
        price: price(p),
        channel: channel(),
        deposit: p.deposit,
        max_amount: p.cap,
        max_payload: p.max_payload,
        pay_at_percent: p.pay_pct,
        idle_pay_ms: p.idle_ms,
    }
}
