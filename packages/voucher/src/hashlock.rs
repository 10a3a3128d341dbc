//! The sha256 hashlock of a conditional voucher: exactly 32 bytes.
//!
//! A variable-length hashlock would make the sign bytes ambiguous (its
//! bytes could run into the expiry tag), so the length is part of the type:
//! a hashlock of any other length cannot be deserialized, built or signed.

use std::fmt;

use cosmwasm_std::HexBinary;
use schemars::schema::{InstanceType, Metadata, Schema, SchemaObject, StringValidation};
use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::{Serialize, Serializer};

use crate::sha256;

/// A sha256 hashlock: 32 bytes, written in JSON as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hashlock([u8; 32]);

/// Why bytes or a string are not a hashlock.
#[derive(thiserror::Error, Debug, PartialEq, Eq)]
pub enum HashlockError {
    #[error("hashlock must be 32 bytes (sha256), got {len}")]
    Length { len: usize },
    #[error("hashlock must be 64 hex digits: {reason}")]
    NotHex { reason: String },
}

impl Hashlock {
    /// Length in bytes.
    pub const LEN: usize = 32;

    pub const fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The hashlock a preimage opens: its sha256.
    pub fn of_preimage(preimage: &[u8]) -> Self {
        Self(sha256(preimage))
    }

    /// Whether `preimage` hashes to this lock.
    pub fn is_opened_by(&self, preimage: &[u8]) -> bool {
        sha256(preimage) == self.0
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, as in JSON.
    pub fn to_hex(&self) -> String {
        HexBinary::from(self.0.as_slice()).to_hex()
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(s: &str) -> Result<Self, HashlockError> {
        let bytes = HexBinary::from_hex(s).map_err(|e| HashlockError::NotHex {
            reason: e.to_string(),
        })?;
        Self::try_from(bytes.as_slice())
    }
}

impl From<[u8; 32]> for Hashlock {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl TryFrom<&[u8]> for Hashlock {
    type Error = HashlockError;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        <[u8; 32]>::try_from(bytes)
            .map(Self)
            .map_err(|_| HashlockError::Length { len: bytes.len() })
    }
}

impl AsRef<[u8]> for Hashlock {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Hashlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hashlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hashlock({})", self.to_hex())
    }
}

impl Serialize for Hashlock {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Hashlock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HexVisitor;
        impl Visitor<'_> for HexVisitor {
            type Value = Hashlock;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sha256 hashlock as 64 hex digits")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Hashlock, E> {
                Hashlock::from_hex(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(HexVisitor)
    }
}

impl JsonSchema for Hashlock {
    fn schema_name() -> String {
        "Hashlock".into()
    }

    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> Schema {
        SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            string: Some(Box::new(StringValidation {
                min_length: Some(64),
                max_length: Some(64),
                pattern: Some("^[0-9a-fA-F]{64}$".into()),
            })),
            metadata: Some(Box::new(Metadata {
                description: Some("A sha256 hashlock: exactly 32 bytes, as 64 hex digits.".into()),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_64_hex_digits_and_nothing_else() {
        let lock = Hashlock::of_preimage(b"secret");
        let json = serde_json::to_string(&lock).unwrap();
        assert_eq!(json, format!("\"{}\"", hex::encode(sha256(b"secret"))));
        assert_eq!(serde_json::from_str::<Hashlock>(&json).unwrap(), lock);
        let upper = json.to_uppercase();
        assert_eq!(serde_json::from_str::<Hashlock>(&upper).unwrap(), lock);
        for bad in [
            "\"\"".to_string(),
            format!("\"{}\"", "ab".repeat(31)),
            format!("\"{}\"", "ab".repeat(33)),
            format!("\"{}\"", "zz".repeat(32)),
            "[1,2,3]".to_string(),
        ] {
            assert!(serde_json::from_str::<Hashlock>(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bytes_of_other_lengths_are_refused() {
        assert_eq!(
            Hashlock::try_from([1u8; 31].as_slice()),
            Err(HashlockError::Length { len: 31 })
        );
        assert_eq!(
            Hashlock::try_from([1u8; 33].as_slice()),
            Err(HashlockError::Length { len: 33 })
        );
        let lock = Hashlock::try_from([1u8; 32].as_slice()).unwrap();
        assert_eq!(lock.as_bytes(), &[1; 32]);
        assert!(Hashlock::of_preimage(b"x").is_opened_by(b"x"));
        assert!(!Hashlock::of_preimage(b"x").is_opened_by(b"y"));
    }
}
