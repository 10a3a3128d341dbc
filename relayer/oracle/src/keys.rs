//! The oracle's report key: secp256k1 (Cosmos keys) or ed25519, signing the
//! sha256 digest of the contract's canonical report bytes, exactly as the
//! contract's `submit_report` verifies it.

use k256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use sha2::{Digest, Sha256};
use thiserror::Error;
use value_contract::state::KeyScheme;

use super::config::{KeyConfig, KeySchemeConfig, KeySource};

/// Key loading failures.
#[derive(Debug, Error)]
pub enum KeyError {
    /// The environment variable is not set.
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    /// The file cannot be read.
    #[error("reading key file {path}: {reason}")]
    File {
        /// Path.
        path: String,
        /// Cause.
        reason: String,
    },
    /// Not 32 bytes of hex, or not a valid scalar.
    #[error("invalid key: {0}")]
    Invalid(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
}

/// A report-signing key.
pub enum OracleKey {
    /// secp256k1.
    Secp256k1(k256::ecdsa::SigningKey),
    /// ed25519.
    Ed25519(ed25519_zebra::SigningKey),
}

impl std::fmt::Debug for OracleKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        write!(
            f,
            "OracleKey({:?}, {})",
            self.scheme(),
            hex::encode(self.public_key())
        )
    }
}

impl OracleKey {
    /// From 32 secret bytes.
    pub fn from_bytes(scheme: KeySchemeConfig, secret: [u8; 32]) -> Result<Self, KeyError> {
        Ok(match scheme {
            KeySchemeConfig::Secp256k1 => Self::Secp256k1(
                k256::ecdsa::SigningKey::from_bytes(&secret.into())
                    .map_err(|e| KeyError::Invalid(e.to_string()))?,
            ),
            KeySchemeConfig::Ed25519 => Self::Ed25519(ed25519_zebra::SigningKey::from(secret)),
        })
    }

    /// DEVNET ONLY: the key derived from a public label.
    pub fn devnet(scheme: KeySchemeConfig, label: &str) -> Self {
        let mut secret: [u8; 32] = Sha256::new()
            .chain_update(b"wevalue/devnet-oracle-key/")
            .chain_update(label.as_bytes())
            .finalize()
            .into();
        // A sha256 output is a valid secp256k1 scalar except with negligible
        // probability; nudge it until it is one.
        loop {
            if let Ok(k) = Self::from_bytes(scheme, secret) {
                return k;
            }
            secret = Sha256::digest(secret).into();
        }
    }

    /// Loads the configured key.
    pub fn load(config: &KeyConfig) -> Result<Self, KeyError> {
        let hex_secret = match &config.source {
            KeySource::DevnetLabel(label) => {
                tracing::warn!(label, "oracle key derived from a public label: devnet only");
                return Ok(Self::devnet(config.scheme, label));
            }
            KeySource::Env(var) => {
                std::env::var(var).map_err(|_| KeyError::MissingEnv(var.clone()))?
            }
            KeySource::File(path) => std::fs::read_to_string(path).map_err(|e| KeyError::File {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?,
        };
        let bytes = hex::decode(hex_secret.trim().trim_start_matches("0x"))
            .map_err(|e| KeyError::Invalid(e.to_string()))?;
        let secret: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::Invalid("expected 32 bytes".into()))?;
        Self::from_bytes(config.scheme, secret)
    }

    /// The contract's scheme tag.
    pub fn scheme(&self) -> KeyScheme {
        match self {
            Self::Secp256k1(_) => KeyScheme::Secp256k1,
            Self::Ed25519(_) => KeyScheme::Ed25519,
        }
    }

    /// Public key as the oracle set stores it (33-byte compressed secp256k1 or 32-byte ed25519).
    pub fn public_key(&self) -> Vec<u8> {
        match self {
            Self::Secp256k1(k) => k.verifying_key().to_encoded_point(true).as_bytes().to_vec(),
            Self::Ed25519(k) => <[u8; 32]>::from(ed25519_zebra::VerificationKey::from(k)).to_vec(),
        }
    }

    /// Signs a 32-byte digest (64-byte signature, low s for secp256k1).
    pub fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            Self::Secp256k1(k) => {
                let sig: k256::ecdsa::Signature = k
                    .sign_prehash(digest)
                    .map_err(|e| KeyError::Sign(e.to_string()))?;
                let sig = sig.normalize_s().unwrap_or(sig);
                Ok(sig.to_bytes().to_vec())
            }
            Self::Ed25519(k) => Ok(<[u8; 64]>::from(k.sign(digest)).to_vec()),
        }
    }
}

/// Verifies a signature over a digest with a member's key, as the contract does.
pub fn verify_digest(scheme: KeyScheme, pubkey: &[u8], digest: &[u8], signature: &[u8]) -> bool {
    match scheme {
        KeyScheme::Secp256k1 => {
            let Ok(key) = k256::ecdsa::VerifyingKey::from_sec1_bytes(pubkey) else {
                return false;
            };
            let Ok(sig) = k256::ecdsa::Signature::from_slice(signature) else {
                return false;
            };
            // The chain's verifier rejects high-s signatures.
            sig.normalize_s().is_none() && key.verify_prehash(digest, &sig).is_ok()
        }
        KeyScheme::Ed25519 => {
            let Ok(key) = ed25519_zebra::VerificationKey::try_from(pubkey) else {
                return false;
            };
            let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
                return false;
            };
            key.verify(&ed25519_zebra::Signature::from(bytes), digest)
                .is_ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devnet_keys_are_deterministic_and_verify() {
        for scheme in [KeySchemeConfig::Secp256k1, KeySchemeConfig::Ed25519] {
            let a = OracleKey::devnet(scheme, "oracle0");
            let b = OracleKey::devnet(scheme, "oracle0");
            assert_eq!(a.public_key(), b.public_key());
            assert_ne!(
                a.public_key(),
                OracleKey::devnet(scheme, "oracle1").public_key()
            );
            let digest = Sha256::digest(b"report");
            let sig = a.sign_digest(&digest).unwrap();
            assert_eq!(sig.len(), 64);
            assert!(verify_digest(a.scheme(), &a.public_key(), &digest, &sig));
            let other = Sha256::digest(b"other");
            assert!(!verify_digest(a.scheme(), &a.public_key(), &other, &sig));
        }
    }
}
