//! Canonical oracle keys: a secp256k1 key is checked to be a point on the
//! curve and stored compressed (33 bytes), whichever encoding was given, so
//! one key registered twice in two encodings is recognised as one; ed25519
//! keys are stored as given (32 bytes, one encoding).
//!
//! The curve check needs arithmetic modulo p = 2²⁵⁶ − 2³² − 977, written
//! here on four 64-bit limbs (the contract has no big-integer dependency;
//! the tests check it against `k256`).

use cosmwasm_std::Binary;

use crate::error::ContractError;
use crate::state::KeyScheme;

/// A field element, little-endian 64-bit limbs, always reduced below p.
type Fe = [u64; 4];

/// p = 2²⁵⁶ − 0x1_0000_03D1.
const P: Fe = [
    0xFFFF_FFFE_FFFF_FC2F,
    0xFFFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFF_FFFF_FFFF,
];
/// 2²⁵⁶ mod p.
const C: u64 = 0x1_0000_03D1;

fn from_be(bytes: &[u8]) -> Option<Fe> {
    let mut out = [0u64; 4];
    for (i, chunk) in bytes.chunks_exact(8).enumerate() {
        let mut limb = [0u8; 8];
        limb.copy_from_slice(chunk);
        out[3 - i] = u64::from_be_bytes(limb);
    }
    // Encodings at or above p are not canonical.
    lt(&out, &P).then_some(out)
}

fn lt(a: &Fe, b: &Fe) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

/// a − p (the caller knows a ≥ p).
fn sub_p(a: &Fe) -> Fe {
    let mut out = [0u64; 4];
    let mut borrow = 0u64;
    for i in 0..4 {
        let (d, b1) = a[i].overflowing_sub(P[i]);
        let (d, b2) = d.overflowing_sub(borrow);
        out[i] = d;
        borrow = u64::from(b1 || b2);
    }
    out
}

/// Folds a 256-bit value plus `carry` × 2²⁵⁶ (carry below 2⁶⁴) into the field.
fn fold(mut lo: Fe, mut carry: u128) -> Fe {
    // carry × 2²⁵⁶ ≡ carry × C; a second pass absorbs the rare last carry.
    while carry != 0 {
        let mut acc = carry * u128::from(C);
        for limb in lo.iter_mut() {
            acc += u128::from(*limb);
            *limb = acc as u64;
            acc >>= 64;
        }
        carry = acc;
    }
    if !lt(&lo, &P) {
        lo = sub_p(&lo);
    }
    lo
}

fn add(a: &Fe, b: &Fe) -> Fe {
    let mut out = [0u64; 4];
    let mut acc = 0u128;
    for i in 0..4 {
        acc += u128::from(a[i]) + u128::from(b[i]);
        out[i] = acc as u64;
        acc >>= 64;
    }
    fold(out, acc)
}

fn mul(a: &Fe, b: &Fe) -> Fe {
    // Schoolbook product into eight limbs.
    let mut wide = [0u64; 8];
    for i in 0..4 {
        let mut carry = 0u128;
        for j in 0..4 {
            let t = u128::from(a[i]) * u128::from(b[j]) + u128::from(wide[i + j]) + carry;
            wide[i + j] = t as u64;
            carry = t >> 64;
        }
        wide[i + 4] = carry as u64;
    }
    // high × 2²⁵⁶ ≡ high × C.
    let mut lo = [0u64; 4];
    let mut acc = 0u128;
    for i in 0..4 {
        acc += u128::from(wide[i]) + u128::from(wide[i + 4]) * u128::from(C);
        lo[i] = acc as u64;
        acc >>= 64;
    }
    fold(lo, acc)
}

fn pow(base: &Fe, exp: &Fe) -> Fe {
    let mut out: Fe = [1, 0, 0, 0];
    for i in (0..4).rev() {
        for bit in (0..64).rev() {
            out = mul(&out, &out);
            if (exp[i] >> bit) & 1 == 1 {
                out = mul(&out, base);
            }
        }
    }
    out
}

/// x³ + 7.
fn curve_rhs(x: &Fe) -> Fe {
    add(&mul(&mul(x, x), x), &[7, 0, 0, 0])
}

/// The one encoding an oracle key is stored and compared in.
pub fn canonical_key(scheme: KeyScheme, key: &Binary) -> Result<Binary, ContractError> {
    let bad = |reason| ContractError::InvalidOracleSet { reason };
    match scheme {
        KeyScheme::Ed25519 => {
            if key.len() != 32 {
                return Err(bad("ed25519 keys are 32 bytes"));
            }
            Ok(key.clone())
        }
        KeyScheme::Secp256k1 => match (key.len(), key.first()) {
            (33, Some(2 | 3)) => {
                let x = from_be(&key[1..]).ok_or(bad("secp256k1 key is not on the curve"))?;
                // A square root exists iff (x³ + 7)^((p + 1) / 4) squares back.
                let rhs = curve_rhs(&x);
                let exp: Fe = [
                    0xFFFF_FFFF_BFFF_FF0C,
                    0xFFFF_FFFF_FFFF_FFFF,
                    0xFFFF_FFFF_FFFF_FFFF,
                    0x3FFF_FFFF_FFFF_FFFF,
                ];
                let y = pow(&rhs, &exp);
                if mul(&y, &y) != rhs {
                    return Err(bad("secp256k1 key is not on the curve"));
                }
                Ok(key.clone())
            }
            (65, Some(4)) => {
                let x = from_be(&key[1..33]).ok_or(bad("secp256k1 key is not on the curve"))?;
                let y = from_be(&key[33..]).ok_or(bad("secp256k1 key is not on the curve"))?;
                if mul(&y, &y) != curve_rhs(&x) {
                    return Err(bad("secp256k1 key is not on the curve"));
                }
                let mut out = Vec::with_capacity(33);
                out.push(if y[0] & 1 == 0 { 2 } else { 3 });
                out.extend_from_slice(&key[1..33]);
                Ok(Binary::from(out))
            }
            _ => Err(bad(
                "secp256k1 keys are 33 (compressed) or 65 (uncompressed) bytes",
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::elliptic_curve::sec1::ToEncodedPoint;

    fn key(seed: u64) -> k256::PublicKey {
        let mut secret = [0u8; 32];
        secret[0] = 0x42;
        secret[24..].copy_from_slice(&seed.to_be_bytes());
        k256::SecretKey::from_slice(&secret).unwrap().public_key()
    }

    #[test]
    fn both_secp256k1_encodings_of_a_key_become_the_compressed_one() {
        for seed in 1..200 {
            let pk = key(seed);
            let compressed = Binary::from(pk.to_encoded_point(true).as_bytes());
            let uncompressed = Binary::from(pk.to_encoded_point(false).as_bytes());
            assert_eq!(
                canonical_key(KeyScheme::Secp256k1, &uncompressed).unwrap(),
                compressed
            );
            assert_eq!(
                canonical_key(KeyScheme::Secp256k1, &compressed).unwrap(),
                compressed
            );
        }
    }

    #[test]
    fn points_off_the_curve_are_refused_exactly_when_k256_refuses_them() {
        let off = ContractError::InvalidOracleSet {
            reason: "secp256k1 key is not on the curve",
        };
        for seed in 1..200u64 {
            // An x that may or may not be on the curve, as k256 decides.
            let mut bytes = vec![2u8];
            let mut x = [0u8; 32];
            x[..8].copy_from_slice(&seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes());
            x[31] = seed as u8;
            bytes.extend_from_slice(&x);
            let ours = canonical_key(KeyScheme::Secp256k1, &Binary::from(bytes.clone()));
            let theirs = k256::PublicKey::from_sec1_bytes(&bytes);
            assert_eq!(ours.is_ok(), theirs.is_ok(), "x = {}", hex::encode(x));
            if let Err(e) = ours {
                assert_eq!(e, off);
            }
            // A valid x with a wrong y is off the curve.
            let mut uncompressed = key(seed).to_encoded_point(false).as_bytes().to_vec();
            uncompressed[64] ^= 1;
            assert_eq!(
                canonical_key(KeyScheme::Secp256k1, &Binary::from(uncompressed)).unwrap_err(),
                off
            );
        }
        // Coordinates at or above p are not canonical.
        let mut big = vec![3u8];
        big.extend_from_slice(&[0xFF; 32]);
        assert_eq!(
            canonical_key(KeyScheme::Secp256k1, &Binary::from(big)).unwrap_err(),
            off
        );
    }

    #[test]
    fn lengths_and_prefixes_are_checked_and_ed25519_keys_are_kept() {
        for bad in [vec![2u8; 32], vec![4u8; 33], vec![5u8; 33], vec![2u8; 65]] {
            assert!(matches!(
                canonical_key(KeyScheme::Secp256k1, &Binary::from(bad)).unwrap_err(),
                ContractError::InvalidOracleSet { .. }
            ));
        }
        let ed = Binary::from(vec![9u8; 32]);
        assert_eq!(canonical_key(KeyScheme::Ed25519, &ed).unwrap(), ed);
        assert!(canonical_key(KeyScheme::Ed25519, &Binary::from(vec![9u8; 33])).is_err());
    }

    #[test]
    fn field_multiplication_reduces_modulo_p() {
        // (p − 1)² ≡ 1 and (p − 1) + 2 ≡ 1.
        let minus_one = [P[0] - 1, P[1], P[2], P[3]];
        assert_eq!(mul(&minus_one, &minus_one), [1, 0, 0, 0]);
        assert_eq!(add(&minus_one, &[2, 0, 0, 0]), [1, 0, 0, 0]);
    }
}
