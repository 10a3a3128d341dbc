//! Off-chain signing and verification (feature `sign`).
//!
//! Verification uses `cosmwasm-crypto`, the library the chain's VM calls for
//! `secp256k1_verify`, `ed25519_verify` and `ed25519_batch_verify`, so a
//! voucher that passes here passes on chain.

use bech32::{Bech32, Hrp};
use ed25519_zebra as ed25519;
use k256::ecdsa::signature::hazmat::PrehashSigner;
use k256::ecdsa::{Signature as EcdsaSignature, SigningKey as EcdsaKey};
use rand_core::OsRng;
use thiserror::Error;

use crate::{account_id, signed_payload, SignedPayload, Voucher, VoucherScheme};

/// Why signing or verification failed.
#[derive(Error, Debug, PartialEq, Eq)]
pub enum SignError {
    #[error("invalid secret key: {reason}")]
    InvalidSecret { reason: String },
    #[error("invalid bech32 prefix {prefix:?}")]
    InvalidPrefix { prefix: String },
    #[error("malformed signature, public key or digest: {reason}")]
    Malformed { reason: String },
    #[error("the signature does not match the voucher and public key")]
    BadSignature,
    #[error(
        "batch inputs differ in length: {messages} vouchers, {signatures} signatures, {keys} keys"
    )]
    BatchShape {
        messages: usize,
        signatures: usize,
        keys: usize,
    },
}

/// The bech32 account address of a compressed secp256k1 key under `prefix`
/// (the `signer` of an ADR-036 sign doc).
pub fn account_address(pubkey: &[u8], prefix: &str) -> Result<String, SignError> {
    let hrp = Hrp::parse(prefix).map_err(|_| SignError::InvalidPrefix {
        prefix: prefix.to_string(),
    })?;
    bech32::encode::<Bech32>(hrp, &account_id(pubkey)).map_err(|_| SignError::InvalidPrefix {
        prefix: prefix.to_string(),
    })
}

/// A payer's voucher-signing key.
#[derive(Clone)]
pub enum VoucherSigner {
    /// secp256k1 over sha256 of the sign bytes.
    Secp256k1(EcdsaKey),
    /// ed25519 over the sign bytes.
    Ed25519(ed25519::SigningKey),
    /// ADR-036 `signArbitrary`; the prefix makes the signer address.
    Adr036 { key: EcdsaKey, prefix: String },
}

impl VoucherSigner {
    /// A signer from a 32-byte secret. `prefix` (the chain's bech32 account
    /// prefix) is used by ADR-036 only.
    pub fn from_secret(
        scheme: VoucherScheme,
        secret: [u8; 32],
        prefix: &str,
    ) -> Result<Self, SignError> {
        let ecdsa = || {
            EcdsaKey::from_bytes(&secret.into()).map_err(|e| SignError::InvalidSecret {
                reason: e.to_string(),
            })
        };
        Ok(match scheme {
            VoucherScheme::Secp256k1 => VoucherSigner::Secp256k1(ecdsa()?),
            VoucherScheme::Ed25519 => VoucherSigner::Ed25519(ed25519::SigningKey::from(secret)),
            VoucherScheme::Adr036 => {
                Hrp::parse(prefix).map_err(|_| SignError::InvalidPrefix {
                    prefix: prefix.to_string(),
                })?;
                VoucherSigner::Adr036 {
                    key: ecdsa()?,
                    prefix: prefix.to_string(),
                }
            }
        })
    }

    /// The scheme this key signs with.
    pub fn scheme(&self) -> VoucherScheme {
        match self {
            VoucherSigner::Secp256k1(_) => VoucherScheme::Secp256k1,
            VoucherSigner::Ed25519(_) => VoucherScheme::Ed25519,
            VoucherSigner::Adr036 { .. } => VoucherScheme::Adr036,
        }
    }

    /// The public key to register when opening a channel (33 bytes
    /// compressed for secp256k1 and ADR-036, 32 bytes for ed25519).
    pub fn public_key(&self) -> Vec<u8> {
        match self {
            VoucherSigner::Secp256k1(key) | VoucherSigner::Adr036 { key, .. } => key
                .verifying_key()
                .to_encoded_point(true)
                .as_bytes()
                .to_vec(),
            VoucherSigner::Ed25519(key) => {
                let vk: [u8; 32] = ed25519::VerificationKey::from(key).into();
                vk.to_vec()
            }
        }
    }

    /// The signer address an ADR-036 sign doc names (empty for other schemes).
    pub fn signer_address(&self) -> String {
        match self {
            VoucherSigner::Adr036 { prefix, .. } => {
                account_address(&self.public_key(), prefix).unwrap_or_default()
            }
            _ => String::new(),
        }
    }

    /// Signs `voucher`: a 64-byte signature (ECDSA `r || s` with low S, or
    /// ed25519). Deterministic (RFC 6979 / RFC 8032).
    pub fn sign(&self, voucher: &Voucher) -> Result<[u8; 64], SignError> {
        let bytes = voucher.sign_bytes();
        match self {
            VoucherSigner::Ed25519(key) => Ok(key.sign(&bytes).into()),
            VoucherSigner::Secp256k1(key) | VoucherSigner::Adr036 { key, .. } => {
                let SignedPayload::Secp256k1Digest(digest) =
                    signed_payload(self.scheme(), &bytes, &self.signer_address())
                else {
                    unreachable!("secp256k1 schemes sign a digest")
                };
                let sig: EcdsaSignature =
                    key.sign_prehash(&digest)
                        .map_err(|e| SignError::Malformed {
                            reason: e.to_string(),
                        })?;
                let sig = sig.normalize_s().unwrap_or(sig);
                Ok(sig.to_bytes().into())
            }
        }
    }
}

/// Verifies one voucher signature as the contract does. `prefix` is the
/// chain's bech32 account prefix (ADR-036 only).
pub fn verify(
    scheme: VoucherScheme,
    pubkey: &[u8],
    voucher: &Voucher,
    signature: &[u8],
    prefix: &str,
) -> Result<(), SignError> {
    let signer = match scheme {
        VoucherScheme::Adr036 => account_address(pubkey, prefix)?,
        _ => String::new(),
    };
    let ok = match signed_payload(scheme, &voucher.sign_bytes(), &signer) {
        SignedPayload::Secp256k1Digest(digest) => {
            cosmwasm_crypto::secp256k1_verify(&digest, signature, pubkey)
        }
        SignedPayload::Ed25519Message(msg) => {
            cosmwasm_crypto::ed25519_verify(&msg, signature, pubkey)
        }
    }
    .map_err(|e| SignError::Malformed {
        reason: e.to_string(),
    })?;
    if ok {
        Ok(())
    } else {
        Err(SignError::BadSignature)
    }
}

/// An ed25519 channel key parsed once, for a payee or relayer that checks
/// every voucher of a stream: skips the point decompression each
/// [`verify`] call repeats. Same rules as the chain (ed25519-zebra, ZIP-215).
#[derive(Clone, Copy, Debug)]
pub struct Ed25519Verifier {
    key: ed25519::VerificationKey,
}

impl Ed25519Verifier {
    pub fn new(pubkey: &[u8]) -> Result<Self, SignError> {
        let bytes: [u8; 32] = pubkey.try_into().map_err(|_| SignError::Malformed {
            reason: format!("ed25519 public key must be 32 bytes, got {}", pubkey.len()),
        })?;
        let key = ed25519::VerificationKey::try_from(bytes).map_err(|e| SignError::Malformed {
            reason: e.to_string(),
        })?;
        Ok(Self { key })
    }

    pub fn verify(&self, voucher: &Voucher, signature: &[u8]) -> Result<(), SignError> {
        let sig: [u8; 64] = signature.try_into().map_err(|_| SignError::Malformed {
            reason: format!("signature must be 64 bytes, got {}", signature.len()),
        })?;
        self.key
            .verify(&ed25519::Signature::from(sig), &voucher.sign_bytes())
            .map_err(|_| SignError::BadSignature)
    }
}

/// Verifies many ed25519 vouchers at once (the batch check the contract's
/// `claim_batch` makes); `Err(BadSignature)` if any one is invalid.
pub fn verify_ed25519_batch(
    vouchers: &[Voucher],
    signatures: &[&[u8]],
    pubkeys: &[&[u8]],
) -> Result<(), SignError> {
    if vouchers.len() != signatures.len() || vouchers.len() != pubkeys.len() {
        return Err(SignError::BatchShape {
            messages: vouchers.len(),
            signatures: signatures.len(),
            keys: pubkeys.len(),
        });
    }
    let bytes: Vec<Vec<u8>> = vouchers.iter().map(Voucher::sign_bytes).collect();
    let messages: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
    let ok = cosmwasm_crypto::ed25519_batch_verify(&mut OsRng, &messages, signatures, pubkeys)
        .map_err(|e| SignError::Malformed {
            reason: e.to_string(),
        })?;
    if ok {
        Ok(())
    } else {
        Err(SignError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::Uint128;

    fn voucher(amount: u128) -> Voucher {
        Voucher {
            chain_id: "wevalue-1".into(),
            contract: "wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s0phg4d".into(),
            channel_id: 1,
            amount: Uint128::new(amount),
            hashlock: Some(crate::Hashlock::of_preimage(b"secret")),
            expiry: Some(1_700_000_000),
        }
    }

    #[test]
    fn round_trip_every_scheme() {
        for scheme in [
            VoucherScheme::Secp256k1,
            VoucherScheme::Ed25519,
            VoucherScheme::Adr036,
        ] {
            let signer = VoucherSigner::from_secret(scheme, [7; 32], "wasm").unwrap();
            assert_eq!(signer.scheme(), scheme);
            let pk = signer.public_key();
            scheme.check_pubkey(&pk).unwrap();
            let sig = signer.sign(&voucher(10)).unwrap();
            verify(scheme, &pk, &voucher(10), &sig, "wasm").unwrap();
            assert_eq!(
                verify(scheme, &pk, &voucher(11), &sig, "wasm"),
                Err(SignError::BadSignature),
                "{scheme}"
            );
        }
    }

    #[test]
    fn adr036_binds_the_prefix() {
        let signer = VoucherSigner::from_secret(VoucherScheme::Adr036, [9; 32], "wasm").unwrap();
        let sig = signer.sign(&voucher(5)).unwrap();
        let pk = signer.public_key();
        assert_eq!(
            verify(VoucherScheme::Adr036, &pk, &voucher(5), &sig, "cosmos"),
            Err(SignError::BadSignature)
        );
        // ADR-036 and plain secp256k1 signatures are not interchangeable.
        assert_eq!(
            verify(VoucherScheme::Secp256k1, &pk, &voucher(5), &sig, "wasm"),
            Err(SignError::BadSignature)
        );
    }

    #[test]
    fn batch_rejects_one_bad_signature() {
        let signers: Vec<_> = (1..=4u8)
            .map(|i| VoucherSigner::from_secret(VoucherScheme::Ed25519, [i; 32], "").unwrap())
            .collect();
        let vouchers: Vec<_> = (1..=4).map(voucher).collect();
        let sigs: Vec<[u8; 64]> = signers
            .iter()
            .zip(&vouchers)
            .map(|(s, v)| s.sign(v).unwrap())
            .collect();
        let pks: Vec<Vec<u8>> = signers.iter().map(VoucherSigner::public_key).collect();
        let sig_refs: Vec<&[u8]> = sigs.iter().map(|s| s.as_slice()).collect();
        let pk_refs: Vec<&[u8]> = pks.iter().map(Vec::as_slice).collect();
        verify_ed25519_batch(&vouchers, &sig_refs, &pk_refs).unwrap();
        let prepared = Ed25519Verifier::new(pk_refs[0]).unwrap();
        prepared.verify(&vouchers[0], sig_refs[0]).unwrap();
        assert_eq!(
            prepared.verify(&vouchers[1], sig_refs[0]),
            Err(SignError::BadSignature)
        );
        let mut swapped = sig_refs.clone();
        swapped.swap(0, 1);
        assert_eq!(
            verify_ed25519_batch(&vouchers, &swapped, &pk_refs),
            Err(SignError::BadSignature)
        );
        assert!(matches!(
            verify_ed25519_batch(&vouchers, &sig_refs[..3], &pk_refs),
            Err(SignError::BatchShape { .. })
        ));
    }
}
