//! Keys: a BIP39 mnemonic, coin type 118 (`m/44'/118'/0'/0/{index}`), read
//! from an environment variable or a file, never from the config file.

use std::path::Path;

use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::crypto::PublicKey;

use relayer_core::{ChainError, ConfigError};

/// A signing key and its address.
pub struct Signer {
    key: SigningKey,
    address: String,
    index: u32,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("Signer")
            .field("address", &self.address)
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// The HD path of the Cosmos Hub coin type for an account index.
pub fn hd_path(index: u32) -> String {
    format!("m/44'/118'/0'/0/{index}")
}

impl Signer {
    /// Derives the key for `index` from an English BIP39 mnemonic (no passphrase).
    pub fn from_mnemonic(phrase: &str, prefix: &str, index: u32) -> Result<Self, ChainError> {
        let normalized = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
        let mnemonic = bip32::Mnemonic::new(normalized, bip32::Language::English)
            .map_err(|e| ChainError::Signer(format!("invalid mnemonic: {e}")))?;
        let seed = mnemonic.to_seed("");
        let path: bip32::DerivationPath = hd_path(index)
            .parse()
            .map_err(|e| ChainError::Signer(format!("derivation path: {e}")))?;
        let xprv = bip32::XPrv::derive_from_path(seed, &path)
            .map_err(|e| ChainError::Signer(format!("derivation: {e}")))?;
        let key = SigningKey::from_slice(&xprv.private_key().to_bytes())
            .map_err(|e| ChainError::Signer(format!("secp256k1 key: {e}")))?;
        let address = key
            .public_key()
            .account_id(prefix)
            .map_err(|e| ChainError::Signer(format!("address: {e}")))?
            .to_string();
        Ok(Self {
            key,
            address,
            index,
        })
    }

    /// bech32 address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Public key.
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// The signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }
}

/// Reads a mnemonic from `env_var` if set and non-empty, else from `file`.
/// `field` names the config field for errors.
pub fn load_mnemonic(
    env_var: Option<&str>,
    file: Option<&Path>,
    field: &str,
) -> Result<String, ConfigError> {
    if let Some(var) = env_var {
        if let Ok(value) = std::env::var(var) {
            if !value.trim().is_empty() {
                return Ok(value);
            }
        }
    }
    if let Some(path) = file {
        return std::fs::read_to_string(path).map_err(|e| ConfigError::Secret {
            field: field.to_string(),
            reason: format!("reading {}: {e}", path.display()),
        });
    }
    Err(ConfigError::Secret {
        field: field.to_string(),
        reason: match env_var {
            Some(var) => {
                format!("environment variable {var} is not set and no mnemonic_file is configured")
            }
            None => "neither mnemonic_env nor mnemonic_file is configured".into(),
        },
    })
}
