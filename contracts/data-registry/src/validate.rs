//! Input validation: bounded strings, slugs, IPFS CIDs, SDPP endpoints,
//! coordinates and geohashes. Everything here is pure and unit tested.

use cosmwasm_std::{Int128, SignedDecimal};

use crate::error::ContractError;

pub const TITLE_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 1_000;
pub const SLUG_MIN: usize = 2;
pub const SLUG_MAX: usize = 32;
pub const SENSOR_TYPE_MAX: usize = 64;
pub const UNIT_MAX: usize = 16;
pub const LICENSE_MAX: usize = 64;
pub const ENDPOINT_MAX: usize = 256;
pub const CID_MAX: usize = 128;

/// Geohash length stored for every listing: 9 characters, a cell of about
/// 4.8 m × 4.8 m at the equator.
pub const GEOHASH_PRECISION: usize = 9;
const GEOHASH_ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// Coordinates are stored as integers in units of 1e-7 degree ("E7", as in
/// OpenStreetMap): exact, float-free (Wasm floats are not allowed on chain)
/// and about 1 cm of resolution.
pub const E7: i128 = 10_000_000;

pub fn length(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), ContractError> {
    let actual = value.chars().count();
    if actual < min || actual > max {
        return Err(ContractError::FieldLength {
            field,
            min,
            max,
            actual,
        });
    }
    Ok(())
}

/// Free text: bounded and without control characters (they break logs and UIs).
pub fn text(field: &'static str, value: &str, min: usize, max: usize) -> Result<(), ContractError> {
    length(field, value, min, max)?;
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(invalid(field, value, "control characters are not allowed"));
    }
    Ok(())
}

fn invalid(field: &'static str, value: &str, reason: &'static str) -> ContractError {
    ContractError::InvalidField {
        field,
        value: value.to_string(),
        reason,
    }
}

/// A lower-case slug: `[a-z0-9]` words joined by single `-`.
pub fn slug(field: &'static str, value: &str) -> Result<(), ContractError> {
    length(field, value, SLUG_MIN, SLUG_MAX)?;
    let ok_chars = value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok_chars {
        return Err(invalid(field, value, "only a-z, 0-9 and - are allowed"));
    }
    if value.starts_with('-') || value.ends_with('-') || value.contains("--") {
        return Err(invalid(field, value, "hyphens must separate words"));
    }
    Ok(())
}

/// A sensor type or unit: printable, no spaces at the ends.
pub fn label(field: &'static str, value: &str, max: usize) -> Result<(), ContractError> {
    text(field, value, 1, max)?;
    if value.trim() != value || value.contains('\n') {
        return Err(invalid(
            field,
            value,
            "no leading, trailing or line-break whitespace",
        ));
    }
    Ok(())
}

/// A licence identifier such as an SPDX id (`CC-BY-4.0`, `ODbL-1.0`) or `proprietary`.
pub fn license(value: &str) -> Result<(), ContractError> {
    length("license", value, 1, LICENSE_MAX)?;
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'))
    {
        return Err(invalid(
            "license",
            value,
            "only letters, digits and . - + _ are allowed",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------- IPFS CIDs

const BASE58_ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn base58_decode(s: &str) -> Option<Vec<u8>> {
    // Big-number base conversion; inputs are at most CID_MAX characters.
    let mut bytes: Vec<u8> = Vec::with_capacity(s.len());
    for c in s.bytes() {
        let mut carry = BASE58_ALPHABET.iter().position(|&a| a == c)? as u32;
        for b in bytes.iter_mut() {
            carry += (*b as u32) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.bytes().take_while(|&c| c == b'1').count();
    bytes.extend(std::iter::repeat_n(0, zeros));
    bytes.reverse();
    Some(bytes)
}

fn base32_decode(s: &str) -> Option<Vec<u8>> {
    // RFC 4648 lower-case alphabet without padding, as multibase `b` uses.
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let value = match c {
            b'a'..=b'z' => c - b'a',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        } as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero padding.
    (buffer == 0).then_some(out)
}

fn read_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..63).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        value |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Checks a multihash: `<hash code varint><digest length varint><digest>`.
fn multihash(bytes: &[u8], mut pos: usize) -> Result<(), &'static str> {
    read_varint(bytes, &mut pos).ok_or("truncated multihash code")?;
    let len = read_varint(bytes, &mut pos).ok_or("truncated multihash length")? as usize;
    if len == 0 || len > 64 {
        return Err("multihash digest must be 1 to 64 bytes");
    }
    if bytes.len() - pos != len {
        return Err("multihash digest length does not match");
    }
    Ok(())
}

/// How a CID was written, so that its text form can be rebuilt exactly from
/// the decoded bytes that are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CidText {
    /// CIDv0: base58btc without multibase prefix (`Qm…`).
    V0,
    /// CIDv1, multibase base32 lower case (`b…`).
    Base32,
    /// CIDv1, multibase base58btc (`z…`).
    Base58,
}

/// A validated CID: its decoded bytes (about 36 instead of 59 characters)
/// and how to write it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cid {
    pub text: CidText,
    pub bytes: Vec<u8>,
}

impl Cid {
    /// The CID exactly as the seller wrote it (both encodings are canonical).
    pub fn to_text(&self) -> String {
        match self.text {
            CidText::V0 => base58_encode(&self.bytes),
            CidText::Base32 => format!("b{}", base32_encode(&self.bytes)),
            CidText::Base58 => format!("z{}", base58_encode(&self.bytes)),
        }
    }
}

fn base58_encode(bytes: &[u8]) -> String {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    // Little-endian base-58 digits of the big number.
    let mut digits: Vec<u8> = Vec::with_capacity(bytes.len() * 138 / 100 + 1);
    for &b in &bytes[zeros..] {
        let mut carry = b as u32;
        for d in digits.iter_mut() {
            carry += (*d as u32) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut out = String::with_capacity(zeros + digits.len());
    out.extend(std::iter::repeat_n('1', zeros));
    out.extend(
        digits
            .iter()
            .rev()
            .map(|&d| BASE58_ALPHABET[d as usize] as char),
    );
    out
}

fn base32_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Accepts a CIDv0 (`Qm…`, base58btc sha2-256) or a CIDv1 in base32 (`b…`)
/// or base58btc (`z…`), and checks its structure down to the digest length.
pub fn cid(value: &str) -> Result<Cid, ContractError> {
    let err = |reason| ContractError::InvalidCid {
        cid: value.to_string(),
        reason,
    };
    if value.is_empty() || value.len() > CID_MAX {
        return Err(err("length must be 1 to 128 characters"));
    }
    if value.len() == 46 && value.starts_with("Qm") {
        let bytes = base58_decode(value).ok_or_else(|| err("not base58btc"))?;
        if bytes.len() != 34 || bytes[0] != 0x12 || bytes[1] != 0x20 {
            return Err(err("a CIDv0 must be a sha2-256 multihash"));
        }
        return Ok(Cid {
            text: CidText::V0,
            bytes,
        });
    }
    let (prefix, body) = value.split_at(1);
    let (text, bytes) = match prefix {
        "b" => (
            CidText::Base32,
            base32_decode(body).ok_or_else(|| err("not multibase base32 (lower case)"))?,
        ),
        "z" => (
            CidText::Base58,
            base58_decode(body).ok_or_else(|| err("not multibase base58btc"))?,
        ),
        _ => {
            return Err(err(
                "expected a CIDv0 (Qm…) or a CIDv1 in base32 (b…) or base58btc (z…)",
            ))
        }
    };
    let mut pos = 0;
    match read_varint(&bytes, &mut pos) {
        Some(1) => {}
        _ => return Err(err("CID version must be 1")),
    }
    read_varint(&bytes, &mut pos).ok_or_else(|| err("truncated content codec"))?;
    multihash(&bytes, pos).map_err(err)?;
    let cid = Cid { text, bytes };
    // Only canonical spellings are accepted, so the stored bytes give back
    // exactly the text the seller sent.
    if cid.to_text() != value {
        return Err(err("not in canonical form"));
    }
    Ok(cid)
}

// ---------------------------------------------------------------- endpoints

/// An SDPP endpoint: `ws://` or `wss://`, a host name, IPv4 or bracketed
/// IPv6 address, an optional port and path; no spaces, user info or fragment.
pub fn endpoint(value: &str) -> Result<(), ContractError> {
    let err = |reason| ContractError::InvalidEndpoint {
        endpoint: value.to_string(),
        reason,
    };
    if value.len() > ENDPOINT_MAX {
        return Err(err("longer than 256 characters"));
    }
    let rest = value
        .strip_prefix("wss://")
        .or_else(|| value.strip_prefix("ws://"))
        .ok_or_else(|| err("scheme must be ws:// or wss://"))?;
    if value.bytes().any(|b| b <= b' ' || b >= 0x7f) {
        return Err(err(
            "spaces, control and non-ASCII characters are not allowed",
        ));
    }
    if value.contains('#') {
        return Err(err("fragments are not allowed"));
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(err("user info is not allowed"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| err("unclosed IPv6 bracket"))?;
        if addr.is_empty()
            || !addr
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(err("invalid IPv6 address"));
        }
        match after {
            "" => (addr, None),
            p => (
                addr,
                Some(p.strip_prefix(':').ok_or_else(|| err("invalid port"))?),
            ),
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(err("missing host"));
    }
    if !authority.starts_with('[') {
        let labels_ok = host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        if !labels_ok || host.len() > 253 {
            return Err(err("invalid host name"));
        }
    }
    if let Some(port) = port {
        match port.parse::<u16>() {
            Ok(p) if p > 0 && !port.starts_with('0') => {}
            _ => return Err(err("port must be 1 to 65535")),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- places

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
        let pos = (v as i128 + half_range * E7) << bits;
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
    fn cids_are_parsed_not_pattern_matched() {
        for ok in [
            "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
            "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
            "zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA",
        ] {
            assert!(cid(ok).unwrap().bytes.len() <= 36, "{ok} is stored decoded");
            assert_eq!(cid(ok).unwrap().to_text(), ok, "{ok}");
        }
        for bad in [
            "",
            "Qm",
            "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbd0", // 0 is not base58
            "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdGG",
            "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzd", // truncated digest
            "BAFYBEIGDYRZT5SFP7UDM7HU76UH7Y26NF3EFUYLQABF3OCLGTQY55FBZDI",
            "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzd1",
            "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
            "not a cid",
        ] {
            assert!(
                matches!(cid(bad), Err(ContractError::InvalidCid { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn endpoints_must_be_websockets() {
        for ok in [
            "wss://sensors.turin.example/stream",
            "ws://10.0.0.7:8080/sdpp?topic=air",
            "wss://[2001:db8::1]:443/feed",
            "wss://a-b.example.org",
        ] {
            assert_eq!(endpoint(ok), Ok(()), "{ok}");
        }
        for bad in [
            "https://sensors.example/stream",
            "wss://",
            "wss://user@host/x",
            "wss://host:0/",
            "wss://host:65536/",
            "wss://host:port/",
            "wss://-bad-.example/",
            "wss://ex ample.org/",
            "wss://example.org/#frag",
            "wss://[zz::1]/",
            &format!("wss://{}.org", "a".repeat(260)),
        ] {
            assert!(
                matches!(endpoint(bad), Err(ContractError::InvalidEndpoint { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn slugs_labels_licenses_and_cells() {
        assert_eq!(slug("category", "air-quality"), Ok(()));
        for bad in [
            "Air",
            "a",
            "air_quality",
            "-air",
            "air-",
            "air--q",
            &"a".repeat(33),
        ] {
            assert!(slug("category", bad).is_err(), "{bad}");
        }
        assert_eq!(label("unit", "µg/m³", UNIT_MAX), Ok(()));
        assert!(label("unit", " kWh", UNIT_MAX).is_err());
        assert!(label("unit", "", UNIT_MAX).is_err());
        assert_eq!(license("CC-BY-4.0"), Ok(()));
        assert!(license("CC BY").is_err());
        assert_eq!(cell("u0"), Ok(()));
        assert!(cell("").is_err());
        assert!(cell("u0a").is_err()); // 'a' is not in the geohash alphabet
        assert!(cell("u0000000000").is_err());
        assert!(text("title", "bell\u{7}", 1, TITLE_MAX).is_err());
        assert_eq!(
            length("title", &"é".repeat(101), 1, TITLE_MAX),
            Err(ContractError::FieldLength {
                field: "title",
                min: 1,
                max: 100,
                actual: 101
            })
        );
    }
}
