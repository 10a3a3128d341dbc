//! Feature `voucher`: the session traits implemented with the chain's own
//! crypto (`wevalue-voucher`, `cosmwasm-crypto`), for the gateway, the
//! buyer CLI and tests.

use cosmwasm_std::Uint128;
use ed25519_zebra as ed25519;
use k256::ecdsa::signature::hazmat::PrehashSigner;
use k256::ecdsa::{Signature as EcdsaSignature, SigningKey as EcdsaKey};
use wevalue_voucher::sign::{account_address, verify, Ed25519Verifier, VoucherSigner};
use wevalue_voucher::{adr036_sign_doc, sha256, Voucher, VoucherScheme};

use crate::auth::{ChannelSigner, ChannelVerifier, GatewaySigner, GatewayVerifier, SignatureError};
use crate::handshake::{certificate_sign_bytes, Certificate, GatewayProof, Hex, Offer, Scheme};

impl From<Scheme> for VoucherScheme {
    fn from(s: Scheme) -> VoucherScheme {
        match s {
            Scheme::Secp256k1 => VoucherScheme::Secp256k1,
            Scheme::Ed25519 => VoucherScheme::Ed25519,
            Scheme::Adr036 => VoucherScheme::Adr036,
        }
    }
}

fn malformed(e: impl ToString) -> SignatureError {
    SignatureError::Malformed {
        reason: e.to_string(),
    }
}

fn voucher(chain_id: &str, contract: &str, channel_id: u64, amount: u128) -> Voucher {
    Voucher {
        chain_id: chain_id.to_string(),
        contract: contract.to_string(),
        channel_id,
        amount: Uint128::new(amount),
        hashlock: None,
        expiry: None,
    }
}

/// ECDSA over a 32-byte digest, low S, `r || s`.
fn ecdsa_sign(key: &EcdsaKey, digest: &[u8; 32]) -> Result<[u8; 64], SignatureError> {
    let sig: EcdsaSignature = key
        .sign_prehash(digest)
        .map_err(|e| SignatureError::Signing {
            reason: e.to_string(),
        })?;
    Ok(sig.normalize_s().unwrap_or(sig).to_bytes().into())
}

fn secp256k1_verify(digest: &[u8; 32], sig: &[u8], pubkey: &[u8]) -> Result<(), SignatureError> {
    match cosmwasm_crypto::secp256k1_verify(digest, sig, pubkey) {
        Ok(true) => Ok(()),
        Ok(false) => Err(SignatureError::Invalid),
        Err(e) => Err(malformed(e)),
    }
}

fn ed25519_verify(msg: &[u8], sig: &[u8], pubkey: &[u8]) -> Result<(), SignatureError> {
    match cosmwasm_crypto::ed25519_verify(msg, sig, pubkey) {
        Ok(true) => Ok(()),
        Ok(false) => Err(SignatureError::Invalid),
        Err(e) => Err(malformed(e)),
    }
}

/// A channel's registered voucher key, checking vouchers and acceptances
/// as the payment-channel contract does.
pub struct ChannelKey {
    chain_id: String,
    contract: String,
    channel_id: u64,
    scheme: Scheme,
    pubkey: Vec<u8>,
    /// ADR-036 signer address of the key (empty for other schemes).
    signer: String,
    prefix: String,
    ed25519: Option<Ed25519Verifier>,
}

impl ChannelKey {
    /// The key of channel `channel_id` of `contract` on `chain_id`;
    /// `bech32_prefix` is the chain's account prefix (ADR-036).
    pub fn new(
        chain_id: &str,
        contract: &str,
        channel_id: u64,
        scheme: Scheme,
        pubkey: &[u8],
        bech32_prefix: &str,
    ) -> Result<ChannelKey, SignatureError> {
        VoucherScheme::from(scheme)
            .check_pubkey(pubkey)
            .map_err(malformed)?;
        let ed25519 = match scheme {
            Scheme::Ed25519 => Some(Ed25519Verifier::new(pubkey).map_err(malformed)?),
            _ => None,
        };
        let signer = match scheme {
            Scheme::Adr036 => account_address(pubkey, bech32_prefix).map_err(malformed)?,
            _ => String::new(),
        };
        Ok(ChannelKey {
            chain_id: chain_id.to_string(),
            contract: contract.to_string(),
            channel_id,
            scheme,
            pubkey: pubkey.to_vec(),
            signer,
            prefix: bech32_prefix.to_string(),
            ed25519,
        })
    }
}

impl ChannelVerifier for ChannelKey {
    fn verify_voucher(&self, amount: u128, signature: &[u8; 64]) -> Result<(), SignatureError> {
        let v = voucher(&self.chain_id, &self.contract, self.channel_id, amount);
        let res = match &self.ed25519 {
            Some(key) => key.verify(&v, signature),
            None => verify(
                self.scheme.into(),
                &self.pubkey,
                &v,
                signature,
                &self.prefix,
            ),
        };
        res.map_err(|e| match e {
            wevalue_voucher::sign::SignError::BadSignature => SignatureError::Invalid,
            other => malformed(other),
        })
    }

    fn verify_accept(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), SignatureError> {
        match self.scheme {
            Scheme::Ed25519 => ed25519_verify(message, signature, &self.pubkey),
            Scheme::Secp256k1 => secp256k1_verify(&sha256(message), signature, &self.pubkey),
            Scheme::Adr036 => {
                let doc = adr036_sign_doc(&self.signer, message);
                secp256k1_verify(&sha256(doc.as_bytes()), signature, &self.pubkey)
            }
        }
    }
}

/// The buyer's channel key: signs vouchers and acceptances.
pub struct ChannelKeySigner {
    signer: VoucherSigner,
    chain_id: String,
    contract: String,
    channel_id: u64,
}

impl ChannelKeySigner {
    /// From a 32-byte secret; `bech32_prefix` is used by ADR-036 only.
    pub fn from_secret(
        scheme: Scheme,
        secret: [u8; 32],
        bech32_prefix: &str,
        chain_id: &str,
        contract: &str,
        channel_id: u64,
    ) -> Result<ChannelKeySigner, SignatureError> {
        let signer =
            VoucherSigner::from_secret(scheme.into(), secret, bech32_prefix).map_err(malformed)?;
        Ok(ChannelKeySigner {
            signer,
            chain_id: chain_id.to_string(),
            contract: contract.to_string(),
            channel_id,
        })
    }

    /// The public key to register when opening the channel.
    pub fn public_key(&self) -> Vec<u8> {
        self.signer.public_key()
    }
}

impl ChannelSigner for ChannelKeySigner {
    fn sign_voucher(&self, amount: u128) -> Result<[u8; 64], SignatureError> {
        let v = voucher(&self.chain_id, &self.contract, self.channel_id, amount);
        self.signer.sign(&v).map_err(|e| SignatureError::Signing {
            reason: e.to_string(),
        })
    }

    fn sign_accept(&self, message: &[u8]) -> Result<[u8; 64], SignatureError> {
        match &self.signer {
            VoucherSigner::Ed25519(key) => Ok(key.sign(message).into()),
            VoucherSigner::Secp256k1(key) => ecdsa_sign(key, &sha256(message)),
            VoucherSigner::Adr036 { key, .. } => {
                let doc = adr036_sign_doc(&self.signer.signer_address(), message);
                ecdsa_sign(key, &sha256(doc.as_bytes()))
            }
        }
    }
}

/// A gateway's ed25519 key with the seller's certificate for it.
pub struct GatewayKey {
    key: ed25519::SigningKey,
    proof: GatewayProof,
}

impl GatewayKey {
    /// The gateway key from its 32-byte secret, with its certificate.
    pub fn new(secret: [u8; 32], certificate: Certificate) -> GatewayKey {
        GatewayKey {
            proof: GatewayProof {
                key: Hex(Self::public_key(secret)),
                certificate,
            },
            key: ed25519::SigningKey::from(secret),
        }
    }

    /// The ed25519 public key of a gateway secret.
    pub fn public_key(secret: [u8; 32]) -> [u8; 32] {
        ed25519::VerificationKey::from(&ed25519::SigningKey::from(secret)).into()
    }

    /// Certifies a gateway key with the seller's secp256k1 account secret
    /// the way a wallet's `signArbitrary` does (ADR-036). Returns the
    /// seller's address under `prefix` and the certificate.
    pub fn certify(
        seller_secret: [u8; 32],
        prefix: &str,
        chain_id: &str,
        registry: &str,
        gateway_key: [u8; 32],
        not_after: u64,
    ) -> Result<(String, Certificate), SignatureError> {
        let key = EcdsaKey::from_bytes(&seller_secret.into()).map_err(malformed)?;
        let pubkey: [u8; 33] = key
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .try_into()
            .map_err(malformed)?;
        let seller = account_address(&pubkey, prefix).map_err(malformed)?;
        let bytes = certificate_sign_bytes(chain_id, registry, &seller, &gateway_key, not_after);
        let doc = adr036_sign_doc(&seller, &bytes);
        let signature = ecdsa_sign(&key, &sha256(doc.as_bytes()))?;
        Ok((
            seller,
            Certificate {
                seller_pubkey: Hex(pubkey),
                not_after,
                signature: Hex(signature),
            },
        ))
    }
}

impl GatewaySigner for GatewayKey {
    fn proof(&self) -> GatewayProof {
        self.proof.clone()
    }

    fn sign_offer(&self, sign_bytes: &[u8]) -> Result<[u8; 64], SignatureError> {
        Ok(self.key.sign(sign_bytes).into())
    }
}

/// Checks an offer's proof: the certificate's key derives the offer's
/// seller address, the certificate is unexpired and its ADR-036 signature
/// verifies, and the gateway key signed the offer.
#[derive(Clone, Copy, Debug, Default)]
pub struct OfferVerifier;

impl GatewayVerifier for OfferVerifier {
    fn verify_offer(&self, offer: &Offer, now_unix_s: u64) -> Result<(), SignatureError> {
        let cert = &offer.gateway.certificate;
        if now_unix_s > cert.not_after {
            return Err(SignatureError::Expired {
                not_after: cert.not_after,
                now: now_unix_s,
            });
        }
        let (hrp, _) = bech32::decode(&offer.seller).map_err(malformed)?;
        let derived = account_address(&cert.seller_pubkey.0, hrp.as_str()).map_err(malformed)?;
        if derived != offer.seller {
            return Err(SignatureError::WrongSigner {
                expected: offer.seller.clone(),
                actual: derived,
            });
        }
        let doc = adr036_sign_doc(&offer.seller, &offer.certificate_sign_bytes());
        secp256k1_verify(
            &sha256(doc.as_bytes()),
            &cert.signature.0,
            &cert.seller_pubkey.0,
        )?;
        ed25519_verify(
            &offer.sign_bytes(),
            &offer.signature.0,
            &offer.gateway.key.0,
        )
    }
}
