//! Places: coordinates as 1e-7 degree integers, the geohash computed from
//! them with integers only, and geohash cells to search in.

use cosmwasm_std::{Int128, SignedDecimal};

use crate::error::ContractError;

/// Geohash length stored for every listing: 9 characters, a cell of about
/// 4.8 m × 4.8 m at the equator.
pub const GEOHASH_PRECISION: usize = 9;
const GEOHASH_ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// Coordinates are stored as integers in units of 1e-7 degree ("E7", as in
/// OpenStreetMap): exact, float-free (Wasm floats are not allowed on chain)
/// and about 1 cm of resolution.
pub const E7: i128 = 10_000_000;

/// Converts a decimal degree to E7 units, rejecting values outside ±`limit`.
/// Digits beyond the 7th decimal are truncated (about 1 cm).
pub fn degrees_e7(
    value: SignedDecimal,
    limit: i128,
    what: &'static str,
) -> Result<i32, ContractError> {
    // SignedDecimal has 18 decimals; E7 keeps 7 of them.
    let e7 = value.atomics().i128() / 10i128.pow(11);
    if e7.abs() > limit * E7 {
        return Err(ContractError::InvalidCoordinates { reason: what });
    }
    Ok(e7 as i32)
}

pub fn latitude_e7(value: SignedDecimal) -> Result<i32, ContractError> {
    degrees_e7(value, 90, "latitude must be between -90 and 90")
}

pub fn longitude_e7(value: SignedDecimal) -> Result<i32, ContractError> {
    degrees_e7(value, 180, "longitude must be between -180 and 180")
}

/// E7 units back to a decimal degree, for responses.
pub fn e7_to_decimal(e7: i32) -> SignedDecimal {
    SignedDecimal::new(Int128::new(e7 as i128 * 10i128.pow(11)))
}

/// The geohash of a point, computed exactly with integers: the latitude's
/// and longitude's positions in their ranges are scaled to 22 and 23 bits
/// and interleaved (longitude first), 5 bits per base32 character.
pub fn geohash(lat_e7: i32, lon_e7: i32) -> String {
    const LAT_BITS: u32 = 22;
    const LON_BITS: u32 = 23;
    let scale = |v: i32, half_range: i128, bits: u32| -> u64 {
        // Clamped, so that any i32 (a corrupt record, a fuzzer) maps to a cell.
        let pos = (v as i128 + half_range * E7).clamp(0, 2 * half_range * E7) << bits;
        let cells = (pos / (2 * half_range * E7)) as u64;
        cells.min((1 << bits) - 1)
    };
    let lat = scale(lat_e7, 90, LAT_BITS);
    let lon = scale(lon_e7, 180, LON_BITS);
    let mut bits = 0u64;
    for i in (0..LON_BITS).rev() {
        bits = (bits << 1) | ((lon >> i) & 1);
        if i > 0 {
            bits = (bits << 1) | ((lat >> (i - 1)) & 1);
        }
    }
    (0..GEOHASH_PRECISION)
        .rev()
        .map(|i| GEOHASH_ALPHABET[((bits >> (5 * i)) & 31) as usize] as char)
        .collect()
}

/// A geohash cell to search in: 1 to 9 geohash characters.
pub fn cell(value: &str) -> Result<(), ContractError> {
    let err = |reason| ContractError::InvalidCell {
        cell: value.to_string(),
        reason,
    };
    if value.is_empty() || value.len() > GEOHASH_PRECISION {
        return Err(err("must be 1 to 9 characters"));
    }
    if !value.bytes().all(|b| GEOHASH_ALPHABET.contains(&b)) {
        return Err(err(
            "only geohash base32 characters (0-9, b-h, j, k, m, n, p-z) are allowed",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> SignedDecimal {
        SignedDecimal::from_str(s).unwrap()
    }

    #[test]
    fn geohash_matches_reference_points() {
        // Reference values from the geohash literature and geohash.org.
        let cases = [
            ("57.64911", "10.40744", "u4pruydqq"),
            ("42.6", "-5.6", "ezs42e44y"),
            ("-25.382708", "-49.265506", "6gkzwgjzn"),
            ("0", "0", "s00000000"),
            ("90", "180", "zzzzzzzzz"),
            ("-90", "-180", "000000000"),
        ];
        for (lat, lon, want) in cases {
            let got = geohash(
                latitude_e7(dec(lat)).unwrap(),
                longitude_e7(dec(lon)).unwrap(),
            );
            assert_eq!(got, want, "{lat},{lon}");
        }
    }

    #[test]
    fn coordinates_are_bounded_and_truncated() {
        assert_eq!(latitude_e7(dec("45.07031234567")).unwrap(), 450_703_123);
        assert_eq!(longitude_e7(dec("-7.1")).unwrap(), -71_000_000);
        assert_eq!(latitude_e7(dec("-90")).unwrap(), -900_000_000);
        assert!(matches!(
            latitude_e7(dec("90.0000001")),
            Err(ContractError::InvalidCoordinates { .. })
        ));
        assert!(matches!(
            longitude_e7(dec("-180.5")),
            Err(ContractError::InvalidCoordinates { .. })
        ));
        assert_eq!(e7_to_decimal(450_703_123), dec("45.0703123"));
    }

    #[test]
    fn cells() {
        assert_eq!(cell("u0"), Ok(()));
        assert!(cell("").is_err());
        assert!(cell("u0a").is_err()); // 'a' is not in the geohash alphabet
        assert!(cell("u0000000000").is_err());
        assert!(cell("é").is_err());
    }
}
