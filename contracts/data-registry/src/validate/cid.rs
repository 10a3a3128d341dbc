//! IPFS CIDs: CIDv0 and CIDv1 (base32, base58btc) parsed down to the
//! multihash, stored decoded and written back exactly as given.

use crate::error::ContractError;

pub const CID_MAX: usize = 128;

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
    // The multibase prefix is matched as a character, never by slicing at a
    // byte offset (a multi-byte first character would split inside it).
    let (text, bytes) = if let Some(body) = value.strip_prefix('b') {
        (
            CidText::Base32,
            base32_decode(body).ok_or_else(|| err("not multibase base32 (lower case)"))?,
        )
    } else if let Some(body) = value.strip_prefix('z') {
        (
            CidText::Base58,
            base58_decode(body).ok_or_else(|| err("not multibase base58btc"))?,
        )
    } else {
        return Err(err(
            "expected a CIDv0 (Qm…) or a CIDv1 in base32 (b…) or base58btc (z…)",
        ));
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_multi_byte_first_character_is_a_typed_error_not_a_panic() {
        for bad in ["é", "éafybeig", "€zb2rhe5P4", "\u{10FFFF}", "Q\u{e9}m"] {
            assert!(
                matches!(cid(bad), Err(ContractError::InvalidCid { .. })),
                "{bad}"
            );
        }
    }
}
