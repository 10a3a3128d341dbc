//! The handshake: HELLO, OFFER and ACCEPT (JSON text messages), their
//! validation, and the signed encodings that bind them (offer, gateway
//! certificate, acceptance).

use core::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::code::ErrorCode;
use crate::frame::MAX_PAYLOAD;
use crate::pricing::{Amount, Asset, Price};

/// Largest handshake text message, in bytes.
pub const MAX_HANDSHAKE_LEN: usize = 16 * 1024;
/// Largest integer a JSON handshake field may carry (2^53 − 1), so browser
/// clients read every value exactly.
pub const MAX_JSON_INT: u64 = (1 << 53) - 1;
/// Domain of the offer's sign bytes.
pub const OFFER_DOMAIN: &[u8] = b"wevalue/sdpp/offer/v1";
/// Domain of the gateway certificate's sign bytes.
pub const CERTIFICATE_DOMAIN: &[u8] = b"wevalue/sdpp/gateway/v1";
/// Domain of the buyer's acceptance.
pub const ACCEPT_DOMAIN: &[u8] = b"wevalue/sdpp/accept/v1";

/// `"sdpp/1"`: the protocol version every handshake message names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    #[default]
    #[serde(rename = "sdpp/1")]
    Sdpp1,
}

macro_rules! tag {
    ($name:ident, $text:literal) => {
        #[doc = concat!("The `\"type\"` of a ", $text, " message.")]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            #[default]
            #[serde(rename = $text)]
            Tag,
        }
    };
}
tag!(HelloType, "hello");
tag!(OfferType, "offer");
tag!(AcceptType, "accept");

/// How the channel's vouchers (and the buyer's acceptance) are signed; the
/// same JSON as `wevalue_voucher::VoucherScheme`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    Secp256k1,
    Ed25519,
    Adr036,
}

impl Scheme {
    /// The byte used for the scheme in signed encodings.
    pub fn tag(self) -> u8 {
        match self {
            Scheme::Secp256k1 => 0,
            Scheme::Ed25519 => 1,
            Scheme::Adr036 => 2,
        }
    }
}

/// `N` bytes as a hex string (lower case out; either case in).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hex<const N: usize>(pub [u8; N]);

impl<const N: usize> fmt::Debug for Hex<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl<const N: usize> Serialize for Hex<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{self:?}"))
    }
}

impl<'de, const N: usize> Deserialize<'de> for Hex<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const N: usize>;
        impl<const N: usize> de::Visitor<'_> for V<N> {
            type Value = Hex<N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} hex digits", 2 * N)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Hex<N>, E> {
                let err = || E::invalid_value(de::Unexpected::Str(v), &self);
                let digits = v.as_bytes();
                if digits.len() != 2 * N {
                    return Err(err());
                }
                let mut out = [0u8; N];
                for (i, pair) in digits.chunks_exact(2).enumerate() {
                    let hi = (pair[0] as char).to_digit(16).ok_or_else(err)?;
                    let lo = (pair[1] as char).to_digit(16).ok_or_else(err)?;
                    out[i] = (hi * 16 + lo) as u8;
                }
                Ok(Hex(out))
            }
        }
        d.deserialize_str(V::<N>)
    }
}

/// The payment channel the buyer pays through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRef {
    /// Address of the payment-channel contract.
    pub contract: String,
    /// Channel id in that contract.
    pub id: u64,
    /// The channel's voucher scheme.
    pub scheme: Scheme,
}

/// A listing's data-use terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    /// Licence id (SPDX id or `proprietary`).
    pub license: String,
    /// sha256 of the full terms document.
    pub terms_hash: Hex<32>,
}

/// Where a stream stands: the last chunk received (buyer) or to resume
/// after (seller), the cumulative units and payload bytes up to it, and the
/// best voucher amount (buyer: signed; seller: held). All zero before the
/// first chunk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamPosition {
    /// Sequence number of the last chunk (0: none yet).
    pub seq: u64,
    /// Units charged by chunks 1..=seq.
    pub units: u64,
    /// Payload bytes of chunks 1..=seq.
    pub bytes: u64,
    /// Best voucher amount.
    pub paid: Amount,
}

/// Buyer → seller, the first message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    #[serde(rename = "type")]
    pub kind: HelloType,
    pub protocol: Protocol,
    /// Chain of the registry and the channel.
    pub chain_id: String,
    /// Address of the data-registry contract.
    pub registry: String,
    /// The listing to stream.
    pub listing_id: u64,
    /// The channel paying for it.
    pub channel: ChannelRef,
    /// The listing's terms hash as the buyer read it on chain: the terms it accepts.
    pub terms_hash: Hex<32>,
    /// Fresh random bytes; the seller signs them into its offer.
    pub nonce: Hex<32>,
    /// Largest payload the buyer takes, 1 to 1,048,576 bytes.
    pub max_payload: u32,
    /// Spend cap: the highest cumulative voucher the buyer will sign on this channel.
    #[serde(default)]
    pub max_amount: Option<Amount>,
    /// The buyer's position when resuming; absent for a new stream.
    #[serde(default)]
    pub resume: Option<StreamPosition>,
}

/// The key a seller's gateway signs offers with, certified by the seller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayProof {
    /// The gateway's ed25519 public key.
    pub key: Hex<32>,
    /// The seller's certificate for that key.
    pub certificate: Certificate,
}

/// "The gateway key `key` speaks for seller `seller` in `registry` on
/// `chain_id` until `not_after`", signed by the seller's account key with
/// ADR-036 (`signArbitrary`), so the signer address is the listing's seller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// The seller's compressed secp256k1 account public key.
    pub seller_pubkey: Hex<33>,
    /// Last valid moment, unix seconds.
    pub not_after: u64,
    /// ADR-036 signature (`r || s`) over the certificate sign bytes.
    pub signature: Hex<64>,
}

/// Seller → buyer: the terms of this session, signed by the gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    #[serde(rename = "type")]
    pub kind: OfferType,
    pub protocol: Protocol,
    pub chain_id: String,
    pub registry: String,
    pub listing_id: u64,
    /// The listing's seller (the channel's payee).
    pub seller: String,
    /// The listing's data-use terms.
    pub terms: Terms,
    /// The listing's price.
    pub price: Price,
    /// The channel, echoed.
    pub channel: ChannelRef,
    /// Units the seller delivers ahead of payment.
    pub credit_window: u64,
    /// Largest payload the seller sends (at most the buyer's).
    pub max_payload: u32,
    /// Data frames the seller sends ahead of acknowledgement.
    pub max_in_flight: u32,
    /// How long the seller waits for a voucher when out of credit, ms.
    pub payment_timeout_ms: u64,
    /// The stream's limit: the smaller of the channel deposit and the buyer's cap.
    pub limit: Amount,
    /// Where the stream resumes (all zero for a new stream).
    pub position: StreamPosition,
    /// The buyer's nonce, echoed.
    pub client_nonce: Hex<32>,
    /// Fresh random bytes of the seller's.
    pub nonce: Hex<32>,
    /// The gateway key and its certificate.
    pub gateway: GatewayProof,
    /// The gateway key's ed25519 signature over the offer sign bytes.
    pub signature: Hex<64>,
}

/// Buyer → seller: acceptance of the offer (and so of its terms), signed
/// with the channel key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    #[serde(rename = "type")]
    pub kind: AcceptType,
    /// Signature over [`accept_message`] of the offer's digest, under the channel's scheme.
    pub signature: Hex<64>,
}

/// Why a handshake message is refused.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    #[error("handshake message of {len} bytes exceeds the maximum of {max}")]
    TooLarge { len: usize, max: usize },
    #[error("handshake message is not valid: {reason}")]
    Json { reason: String },
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl HandshakeError {
    /// The code to close the session with.
    pub fn code(&self) -> ErrorCode {
        match self {
            HandshakeError::TooLarge { .. } => ErrorCode::FrameTooLarge,
            _ => ErrorCode::BadHandshake,
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> HandshakeError {
    HandshakeError::Invalid {
        field,
        reason: reason.into(),
    }
}

fn parse<T: de::DeserializeOwned>(text: &str) -> Result<T, HandshakeError> {
    if text.len() > MAX_HANDSHAKE_LEN {
        return Err(HandshakeError::TooLarge {
            len: text.len(),
            max: MAX_HANDSHAKE_LEN,
        });
    }
    serde_json::from_str(text).map_err(|e| HandshakeError::Json {
        reason: e.to_string(),
    })
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Plain structs of strings and integers always serialize.
    serde_json::to_string(value).unwrap_or_default()
}

fn check_int(field: &'static str, value: u64, min: u64) -> Result<(), HandshakeError> {
    if value < min || value > MAX_JSON_INT {
        return Err(invalid(field, format!("{value} outside {min}..=2^53-1")));
    }
    Ok(())
}

fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), HandshakeError> {
    if value.is_empty() || value.len() > max {
        return Err(invalid(field, format!("length must be 1 to {max} bytes")));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(field, "only printable ASCII without spaces"));
    }
    Ok(())
}

/// A bech32 address as the chain spells it: lower-case letters and digits.
fn check_address(field: &'static str, value: &str) -> Result<(), HandshakeError> {
    check_text(field, value, 128)?;
    if !value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        || !value.contains('1')
    {
        return Err(invalid(field, "not a lower-case bech32 address"));
    }
    Ok(())
}

fn check_position(field: &'static str, p: &StreamPosition) -> Result<(), HandshakeError> {
    check_int(field, p.seq, 0)?;
    check_int(field, p.units, 0)?;
    check_int(field, p.bytes, 0)
}

fn check_common(
    chain_id: &str,
    registry: &str,
    listing_id: u64,
    channel: &ChannelRef,
) -> Result<(), HandshakeError> {
    check_text("chain_id", chain_id, 64)?;
    check_address("registry", registry)?;
    check_int("listing_id", listing_id, 1)?;
    check_address("channel.contract", &channel.contract)?;
    check_int("channel.id", channel.id, 1)
}

fn check_max_payload(value: u32) -> Result<(), HandshakeError> {
    if value == 0 || value as usize > MAX_PAYLOAD {
        return Err(invalid(
            "max_payload",
            format!("{value} outside 1..={MAX_PAYLOAD}"),
        ));
    }
    Ok(())
}

impl Hello {
    /// Parses and validates a HELLO text message.
    pub fn from_json(text: &str) -> Result<Hello, HandshakeError> {
        let hello: Hello = parse(text)?;
        hello.validate()?;
        Ok(hello)
    }

    /// The JSON text message.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// Checks every field's bounds.
    pub fn validate(&self) -> Result<(), HandshakeError> {
        check_common(
            &self.chain_id,
            &self.registry,
            self.listing_id,
            &self.channel,
        )?;
        check_max_payload(self.max_payload)?;
        if let Some(p) = &self.resume {
            check_position("resume", p)?;
        }
        Ok(())
    }
}

impl Offer {
    /// Parses and validates an OFFER text message.
    pub fn from_json(text: &str) -> Result<Offer, HandshakeError> {
        let offer: Offer = parse(text)?;
        offer.validate()?;
        Ok(offer)
    }

    /// The JSON text message.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// Checks every field's bounds (not yet against the listing: the
    /// buyer session does that).
    pub fn validate(&self) -> Result<(), HandshakeError> {
        check_common(
            &self.chain_id,
            &self.registry,
            self.listing_id,
            &self.channel,
        )?;
        check_address("seller", &self.seller)?;
        check_text("terms.license", &self.terms.license, 64)?;
        match &self.price.asset {
            Asset::Native(denom) => check_text("price.asset", denom, 128)?,
            Asset::Cw20(addr) => check_address("price.asset", addr)?,
        }
        if self.price.amount.0 == 0 {
            return Err(invalid("price.amount", "must be above zero"));
        }
        check_int("credit_window", self.credit_window, 1)?;
        check_max_payload(self.max_payload)?;
        check_int("max_in_flight", u64::from(self.max_in_flight), 1)?;
        check_int("payment_timeout_ms", self.payment_timeout_ms, 1)?;
        check_position("position", &self.position)?;
        check_int(
            "gateway.certificate.not_after",
            self.gateway.certificate.not_after,
            0,
        )
    }

    /// The bytes the gateway key signs: every field of the offer except the
    /// signature and the certificate's own signature, length-prefixed and
    /// domain-separated (see `docs/sdpp.md`).
    pub fn sign_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(OFFER_DOMAIN);
        push_str(&mut out, &self.chain_id);
        push_str(&mut out, &self.registry);
        out.extend_from_slice(&self.listing_id.to_be_bytes());
        push_str(&mut out, &self.seller);
        push_str(&mut out, &self.terms.license);
        out.extend_from_slice(&self.terms.terms_hash.0);
        match &self.price.asset {
            Asset::Native(denom) => {
                out.push(0);
                push_str(&mut out, denom);
            }
            Asset::Cw20(addr) => {
                out.push(1);
                push_str(&mut out, addr);
            }
        }
        out.extend_from_slice(&self.price.amount.0.to_be_bytes());
        out.push(self.price.model.tag());
        push_str(&mut out, &self.channel.contract);
        out.extend_from_slice(&self.channel.id.to_be_bytes());
        out.push(self.channel.scheme.tag());
        out.extend_from_slice(&self.credit_window.to_be_bytes());
        out.extend_from_slice(&self.max_payload.to_be_bytes());
        out.extend_from_slice(&self.max_in_flight.to_be_bytes());
        out.extend_from_slice(&self.payment_timeout_ms.to_be_bytes());
        out.extend_from_slice(&self.limit.0.to_be_bytes());
        let p = &self.position;
        out.extend_from_slice(&p.seq.to_be_bytes());
        out.extend_from_slice(&p.units.to_be_bytes());
        out.extend_from_slice(&p.bytes.to_be_bytes());
        out.extend_from_slice(&p.paid.0.to_be_bytes());
        out.extend_from_slice(&self.client_nonce.0);
        out.extend_from_slice(&self.nonce.0);
        out.extend_from_slice(&self.gateway.key.0);
        out.extend_from_slice(&self.gateway.certificate.seller_pubkey.0);
        out.extend_from_slice(&self.gateway.certificate.not_after.to_be_bytes());
        out
    }

    /// sha256 of the sign bytes: what the buyer's acceptance signs.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.sign_bytes()).into()
    }

    /// The certificate sign bytes for this offer's gateway key.
    pub fn certificate_sign_bytes(&self) -> Vec<u8> {
        certificate_sign_bytes(
            &self.chain_id,
            &self.registry,
            &self.seller,
            &self.gateway.key.0,
            self.gateway.certificate.not_after,
        )
    }
}

impl Accept {
    /// Parses an ACCEPT text message.
    pub fn from_json(text: &str) -> Result<Accept, HandshakeError> {
        parse(text)
    }

    /// The JSON text message.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

/// What the seller signs (ADR-036) to certify a gateway key.
pub fn certificate_sign_bytes(
    chain_id: &str,
    registry: &str,
    seller: &str,
    gateway_key: &[u8; 32],
    not_after: u64,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(CERTIFICATE_DOMAIN.len() + 64 + 200);
    out.extend_from_slice(CERTIFICATE_DOMAIN);
    push_str(&mut out, chain_id);
    push_str(&mut out, registry);
    push_str(&mut out, seller);
    out.extend_from_slice(gateway_key);
    out.extend_from_slice(&not_after.to_be_bytes());
    out
}

/// What the buyer signs with the channel key to accept an offer: the
/// domain, then the offer's digest. Its domain differs from the voucher
/// domain, so an acceptance can never be claimed as a voucher.
pub fn accept_message(offer_digest: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ACCEPT_DOMAIN.len() + 32);
    out.extend_from_slice(ACCEPT_DOMAIN);
    out.extend_from_slice(offer_digest);
    out
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    // Validated strings are far below 64 KiB; clamp rather than panic so an
    // unvalidated one can only produce bytes nobody signed.
    let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&s.as_bytes()[..len as usize]);
}
