#![doc = include_str!("../README.md")]

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Binary, Uint128};
use ripemd::Ripemd160;
use sha2::{Digest, Sha256};

mod hashlock;
#[cfg(feature = "sign")]
pub mod sign;

pub use hashlock::{Hashlock, HashlockError};

/// Domain tag every voucher's sign bytes start with. It names the protocol,
/// the message type and the encoding version, so a voucher signature can
/// never be mistaken for a signature over anything else (a transaction, an
/// oracle report, a later encoding).
pub const DOMAIN: &[u8] = b"wevalue/payment-channel/voucher/v1";

/// Longest hashlock preimage a contract accepts, in bytes.
pub const MAX_PREIMAGE_LEN: usize = 64;

/// How a channel's vouchers are signed.
#[cw_serde]
#[derive(Copy, Eq, Hash, PartialOrd, Ord)]
pub enum VoucherScheme {
    /// ECDSA over secp256k1: a 33-byte compressed public key and a 64-byte
    /// `r || s` signature (low S) over sha256 of the sign bytes.
    Secp256k1,
    /// Ed25519 (RFC 8032): a 32-byte public key and a 64-byte signature over
    /// the sign bytes themselves.
    Ed25519,
    /// ADR-036 `signArbitrary` (what Keplr and Leap offer): a secp256k1
    /// signature over sha256 of the amino JSON sign doc of a `sign/MsgSignData`
    /// whose `data` is the sign bytes and whose `signer` is the bech32 account
    /// address of the key.
    Adr036,
}

impl VoucherScheme {
    /// Length of a valid public key for this scheme.
    pub fn pubkey_len(self) -> usize {
        match self {
            VoucherScheme::Secp256k1 | VoucherScheme::Adr036 => 33,
            VoucherScheme::Ed25519 => 32,
        }
    }

    /// Checks the shape of a public key (length and, for secp256k1, the
    /// compressed-point prefix). The curve check happens at verification.
    pub fn check_pubkey(self, pubkey: &[u8]) -> Result<(), PubkeyError> {
        if pubkey.len() != self.pubkey_len() {
            return Err(PubkeyError::Length {
                expected: self.pubkey_len(),
                actual: pubkey.len(),
            });
        }
        if self != VoucherScheme::Ed25519 && !matches!(pubkey[0], 0x02 | 0x03) {
            return Err(PubkeyError::NotCompressed);
        }
        Ok(())
    }
}

impl std::fmt::Display for VoucherScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VoucherScheme::Secp256k1 => "secp256k1",
            VoucherScheme::Ed25519 => "ed25519",
            VoucherScheme::Adr036 => "adr036",
        })
    }
}

/// Why a public key has the wrong shape.
#[derive(thiserror::Error, Debug, PartialEq, Eq)]
pub enum PubkeyError {
    #[error("public key must be {expected} bytes, got {actual}")]
    Length { expected: usize, actual: usize },
    #[error("secp256k1 public key must be compressed (prefix 0x02 or 0x03)")]
    NotCompressed,
}

/// Everything a voucher signature binds.
///
/// `amount` is cumulative: the total the payer owes the payee on this
/// channel so far. It only grows, so it also serves as the voucher's nonce:
/// a voucher at or below what was already redeemed pays nothing.
#[cw_serde]
pub struct Voucher {
    /// Chain id of the chain the channel lives on (`env.block.chain_id`).
    pub chain_id: String,
    /// Address of the payment-channel contract instance (bech32).
    pub contract: String,
    /// Channel id within that contract.
    pub channel_id: u64,
    /// Cumulative amount owed to the payee, in the channel asset's smallest unit.
    pub amount: Uint128,
    /// Optional sha256 hashlock (exactly 32 bytes, 64 hex digits): the
    /// voucher pays only with the preimage.
    pub hashlock: Option<Hashlock>,
    /// Optional expiry, unix seconds: the voucher pays only in a block before it.
    pub expiry: Option<u64>,
}

impl Voucher {
    /// The bytes every scheme signs (directly or wrapped):
    ///
    /// ```text
    /// DOMAIN                         34 bytes "wevalue/payment-channel/voucher/v1"
    /// len(chain_id)  u16 BE, chain_id UTF-8
    /// len(contract)  u16 BE, contract UTF-8 (bech32)
    /// channel_id     u64 BE
    /// amount         u128 BE
    /// hashlock       0x00, or 0x01 followed by its 32 bytes
    /// expiry         0x00, or 0x01 followed by u64 BE unix seconds
    /// ```
    ///
    /// Variable fields are length-prefixed, optional ones tagged and the
    /// hashlock is a [`Hashlock`] (always 32 bytes, so a voucher with a
    /// hashlock of another length cannot even be built), so two different
    /// vouchers can never encode to the same bytes.
    pub fn sign_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            DOMAIN.len() + 4 + self.chain_id.len() + self.contract.len() + 8 + 16 + 33 + 9,
        );
        out.extend_from_slice(DOMAIN);
        push_str(&mut out, &self.chain_id);
        push_str(&mut out, &self.contract);
        out.extend_from_slice(&self.channel_id.to_be_bytes());
        out.extend_from_slice(&self.amount.u128().to_be_bytes());
        match &self.hashlock {
            Some(lock) => {
                out.push(1);
                out.extend_from_slice(lock.as_bytes());
            }
            None => out.push(0),
        }
        match self.expiry {
            Some(expiry) => {
                out.push(1);
                out.extend_from_slice(&expiry.to_be_bytes());
            }
            None => out.push(0),
        }
        out
    }
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    // Chain ids and bech32 addresses are far below 64 KiB; clamp rather than
    // panic so a hostile length can only produce a voucher nobody signed.
    let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&s.as_bytes()[..len as usize]);
}

/// sha256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// The 20-byte account id of a compressed secp256k1 key as Cosmos SDK
/// chains derive it: ripemd160(sha256(pubkey)). Bech32-encode it with the
/// chain's prefix (on chain: `deps.api.addr_humanize`) to get the address.
pub fn account_id(pubkey: &[u8]) -> [u8; 20] {
    Ripemd160::digest(Sha256::digest(pubkey)).into()
}

/// The ADR-036 amino JSON sign doc for `data` signed by `signer`, exactly as
/// wallets serialize it (sorted keys, no whitespace, empty fee, zero account
/// number and sequence, empty chain id).
pub fn adr036_sign_doc(signer: &str, data: &[u8]) -> String {
    // Base64 and bech32 use no character JSON would escape, so plain
    // formatting yields the canonical serialization.
    format!(
        concat!(
            r#"{{"account_number":"0","chain_id":"","fee":{{"amount":[],"gas":"0"}},"#,
            r#""memo":"","msgs":[{{"type":"sign/MsgSignData","value":{{"data":"{}","signer":"{}"}}}}],"#,
            r#""sequence":"0"}}"#
        ),
        Binary::from(data).to_base64(),
        signer
    )
}

/// What a scheme's signature is checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignedPayload {
    /// A 32-byte digest, verified with secp256k1.
    Secp256k1Digest([u8; 32]),
    /// The message itself, verified with ed25519.
    Ed25519Message(Vec<u8>),
}

/// The payload a signature of `scheme` must verify against. `signer` is the
/// bech32 account address of the key, needed only for ADR-036.
pub fn signed_payload(scheme: VoucherScheme, sign_bytes: &[u8], signer: &str) -> SignedPayload {
    match scheme {
        VoucherScheme::Secp256k1 => SignedPayload::Secp256k1Digest(sha256(sign_bytes)),
        VoucherScheme::Ed25519 => SignedPayload::Ed25519Message(sign_bytes.to_vec()),
        VoucherScheme::Adr036 => {
            SignedPayload::Secp256k1Digest(sha256(adr036_sign_doc(signer, sign_bytes).as_bytes()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voucher() -> Voucher {
        Voucher {
            chain_id: "wevalue-1".into(),
            contract: "wasm1contract".into(),
            channel_id: 7,
            amount: Uint128::new(1_000),
            hashlock: None,
            expiry: None,
        }
    }

    #[test]
    fn sign_bytes_layout() {
        let b = voucher().sign_bytes();
        let mut expected = DOMAIN.to_vec();
        expected.extend_from_slice(&[0, 9]);
        expected.extend_from_slice(b"wevalue-1");
        expected.extend_from_slice(&[0, 13]);
        expected.extend_from_slice(b"wasm1contract");
        expected.extend_from_slice(&7u64.to_be_bytes());
        expected.extend_from_slice(&1_000u128.to_be_bytes());
        expected.extend_from_slice(&[0, 0]);
        assert_eq!(b, expected);
    }

    #[test]
    fn every_field_changes_the_bytes() {
        let base = voucher().sign_bytes();
        let variants = [
            Voucher {
                chain_id: "wevalue-2".into(),
                ..voucher()
            },
            Voucher {
                contract: "wasm1contracu".into(),
                ..voucher()
            },
            Voucher {
                channel_id: 8,
                ..voucher()
            },
            Voucher {
                amount: Uint128::new(1_001),
                ..voucher()
            },
            Voucher {
                hashlock: Some(Hashlock::new([0u8; 32])),
                ..voucher()
            },
            Voucher {
                expiry: Some(0),
                ..voucher()
            },
        ];
        for v in variants {
            assert_ne!(v.sign_bytes(), base, "{v:?}");
        }
        // Moving a byte between the length-prefixed fields changes the encoding.
        let a = Voucher {
            chain_id: "ab".into(),
            contract: "c".into(),
            ..voucher()
        };
        let b = Voucher {
            chain_id: "a".into(),
            contract: "bc".into(),
            ..voucher()
        };
        assert_ne!(a.sign_bytes(), b.sign_bytes());
    }

    #[test]
    fn a_hashlock_cannot_absorb_the_expiry() {
        // With a variable-length hashlock, a 33-byte "hashlock" ending in
        // 0x01 and no expiry could collide with a 32-byte one and an expiry
        // tag. A Hashlock is always 32 bytes: every locked voucher's encoding
        // has the same length up to the expiry tag.
        let locked = |expiry| Voucher {
            hashlock: Some(Hashlock::new([7; 32])),
            expiry,
            ..voucher()
        };
        let without = locked(None).sign_bytes();
        let with = locked(Some(1)).sign_bytes();
        assert_eq!(with.len(), without.len() + 8);
        assert_eq!(without[without.len() - 34], 1);
        assert_eq!(&without[without.len() - 33..without.len() - 1], &[7; 32]);
        assert_eq!(*without.last().unwrap(), 0);
        // JSON longer or shorter than 64 hex digits is not a Voucher.
        let mut json = serde_json::to_value(locked(None)).unwrap();
        json["hashlock"] = serde_json::json!("07".repeat(33));
        assert!(serde_json::from_value::<Voucher>(json.clone()).is_err());
        json["hashlock"] = serde_json::json!("07".repeat(31));
        assert!(serde_json::from_value::<Voucher>(json).is_err());
    }

    #[test]
    fn pubkey_shapes() {
        assert_eq!(VoucherScheme::Ed25519.check_pubkey(&[1; 32]), Ok(()));
        assert_eq!(
            VoucherScheme::Ed25519.check_pubkey(&[1; 33]),
            Err(PubkeyError::Length {
                expected: 32,
                actual: 33
            })
        );
        let mut k = [2u8; 33];
        assert_eq!(VoucherScheme::Secp256k1.check_pubkey(&k), Ok(()));
        k[0] = 4;
        assert_eq!(
            VoucherScheme::Adr036.check_pubkey(&k),
            Err(PubkeyError::NotCompressed)
        );
    }

    #[test]
    fn adr036_doc_is_canonical() {
        let doc = adr036_sign_doc("cosmos1abc", b"hi");
        assert_eq!(
            doc,
            r#"{"account_number":"0","chain_id":"","fee":{"amount":[],"gas":"0"},"memo":"","msgs":[{"type":"sign/MsgSignData","value":{"data":"aGk=","signer":"cosmos1abc"}}],"sequence":"0"}"#
        );
    }
}
