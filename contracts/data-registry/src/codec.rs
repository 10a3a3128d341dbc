//! The stored form of a listing: a small, versioned binary record.
//!
//! wasmd charges 30 SDK gas per byte written, so listings are not stored as
//! JSON (field names, quotes, hex) but as a version byte followed by the
//! fields in a fixed order: unsigned integers as LEB128 varints, strings as
//! a varint length and UTF-8 bytes, coordinates as 4-byte big-endian, enums
//! as one tag byte. The geohash is derived from the coordinates on load, not
//! stored. A new layout gets a new version byte and a migration.
//!
//! Decoding is total and canonical: any byte string gives a listing or
//! `CorruptRecord`, never a panic, and a decoded record re-encodes to exactly
//! the bytes it came from (property-tested with random and mutated bytes in
//! `tests/fuzz.rs`).

use cosmwasm_std::{Addr, Api, CanonicalAddr, Coin, Uint128};
use wevalue_common::asset::AssetInfo;

use crate::error::ContractError;
use crate::msg::Price;
use crate::state::{Hash32, Listing, ListingStatus, PricingModel};
use crate::validate::{geohash, Cid, CidText};

const VERSION_1: u8 = 1;

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn varint(&mut self, mut v: u128) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(byte);
                return;
            }
            self.0.push(byte | 0x80);
        }
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.varint(b.len() as u128);
        self.0.extend_from_slice(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// Any decoding failure means the stored bytes are not a listing record.
fn corrupt(_: impl std::fmt::Debug) -> ContractError {
    ContractError::CorruptRecord { kind: "listing" }
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ContractError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| corrupt(()))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, ContractError> {
        Ok(self.take(1)?[0])
    }
    /// A LEB128 varint in its one canonical form: no redundant trailing
    /// zero group and no bits beyond 128, so that every value has exactly
    /// one encoding and a decoded record re-encodes to the same bytes.
    fn varint(&mut self) -> Result<u128, ContractError> {
        let mut v = 0u128;
        for shift in (0..128).step_by(7) {
            let b = self.u8()?;
            let group = (b & 0x7f) as u128;
            // The 19th group holds the top 2 bits of a u128.
            if shift == 126 && group > 0b11 {
                return Err(corrupt(()));
            }
            v |= group << shift;
            if b & 0x80 == 0 {
                if b == 0 && shift > 0 {
                    return Err(corrupt(()));
                }
                return Ok(v);
            }
        }
        Err(corrupt(()))
    }
    fn u64(&mut self) -> Result<u64, ContractError> {
        self.varint()?.try_into().map_err(corrupt)
    }
    fn usize(&mut self) -> Result<usize, ContractError> {
        // Not `as usize`: on wasm32 that would cut a large length short.
        self.varint()?.try_into().map_err(corrupt)
    }
    fn i32(&mut self) -> Result<i32, ContractError> {
        Ok(i32::from_be_bytes(
            self.take(4)?.try_into().map_err(corrupt)?,
        ))
    }
    fn bytes(&mut self) -> Result<Vec<u8>, ContractError> {
        let len = self.usize()?;
        Ok(self.take(len)?.to_vec())
    }
    fn string(&mut self) -> Result<String, ContractError> {
        String::from_utf8(self.bytes()?).map_err(corrupt)
    }
}

fn model_tag(m: PricingModel) -> u8 {
    match m {
        PricingModel::PerMessage => 0,
        PricingModel::PerSecond => 1,
        PricingModel::PerKilobyte => 2,
    }
}

fn status_tag(s: ListingStatus) -> u8 {
    match s {
        ListingStatus::Active => 0,
        ListingStatus::Paused => 1,
        ListingStatus::Retired => 2,
    }
}

pub fn encode(l: &Listing) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(256));
    w.u8(VERSION_1);
    w.bytes(l.seller_raw.as_slice());
    w.str(&l.title);
    w.str(&l.description);
    w.str(&l.category);
    w.str(&l.sensor_type);
    w.str(&l.unit);
    w.i32(l.lat_e7);
    w.i32(l.lon_e7);
    match &l.price.asset {
        AssetInfo::Native(denom) => {
            w.u8(0);
            w.str(denom);
        }
        AssetInfo::Cw20(addr) => {
            w.u8(1);
            w.str(addr.as_str());
        }
    }
    w.varint(l.price.amount.u128());
    w.u8(model_tag(l.price.model));
    w.u8(match l.metadata_cid.text {
        CidText::V0 => 0,
        CidText::Base32 => 1,
        CidText::Base58 => 2,
    });
    w.bytes(&l.metadata_cid.bytes);
    w.str(&l.endpoint);
    w.str(&l.license);
    w.0.extend_from_slice(&l.terms_hash.0);
    w.u8(status_tag(l.status));
    match &l.deposit {
        None => w.u8(0),
        Some(coin) => {
            w.u8(1);
            w.str(&coin.denom);
            w.varint(coin.amount.u128());
        }
    }
    w.varint(l.created_height as u128);
    w.varint(l.updated_height as u128);
    w.varint(l.rating_count as u128);
    w.varint(l.rating_sum as u128);
    w.0
}

pub fn decode(buf: &[u8], api: &dyn Api) -> Result<Listing, ContractError> {
    let mut r = Reader { buf, pos: 0 };
    if r.u8()? != VERSION_1 {
        return Err(corrupt(()));
    }
    let seller_raw = CanonicalAddr::from(r.bytes()?);
    let seller = api.addr_humanize(&seller_raw).map_err(corrupt)?;
    let title = r.string()?;
    let description = r.string()?;
    let category = r.string()?;
    let sensor_type = r.string()?;
    let unit = r.string()?;
    let lat_e7 = r.i32()?;
    let lon_e7 = r.i32()?;
    // Only validated coordinates are ever written.
    if lat_e7.unsigned_abs() > 900_000_000 || lon_e7.unsigned_abs() > 1_800_000_000 {
        return Err(corrupt(()));
    }
    let asset = match r.u8()? {
        0 => AssetInfo::Native(r.string()?),
        1 => AssetInfo::Cw20(Addr::unchecked(r.string()?)),
        _ => return Err(corrupt(())),
    };
    let amount = Uint128::new(r.varint()?);
    let model = match r.u8()? {
        0 => PricingModel::PerMessage,
        1 => PricingModel::PerSecond,
        2 => PricingModel::PerKilobyte,
        _ => return Err(corrupt(())),
    };
    let text = match r.u8()? {
        0 => CidText::V0,
        1 => CidText::Base32,
        2 => CidText::Base58,
        _ => return Err(corrupt(())),
    };
    let metadata_cid = Cid {
        text,
        bytes: r.bytes()?,
    };
    let endpoint = r.string()?;
    let license = r.string()?;
    let terms_hash = Hash32(r.take(32)?.try_into().map_err(corrupt)?);
    let status = match r.u8()? {
        0 => ListingStatus::Active,
        1 => ListingStatus::Paused,
        2 => ListingStatus::Retired,
        _ => return Err(corrupt(())),
    };
    let deposit = match r.u8()? {
        0 => None,
        1 => {
            let denom = r.string()?;
            Some(Coin::new(r.varint()?, denom))
        }
        _ => return Err(corrupt(())),
    };
    let listing = Listing {
        seller,
        seller_raw,
        title,
        description,
        category,
        sensor_type,
        unit,
        lat_e7,
        lon_e7,
        geohash: geohash(lat_e7, lon_e7),
        price: Price {
            asset,
            amount,
            model,
        },
        metadata_cid,
        endpoint,
        license,
        terms_hash,
        status,
        deposit,
        created_height: r.u64()?,
        updated_height: r.u64()?,
        rating_count: r.u64()?.try_into().map_err(corrupt)?,
        rating_sum: r.u64()?,
    };
    if r.pos != buf.len() {
        return Err(corrupt(()));
    }
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::cid;
    use cosmwasm_std::testing::MockApi;

    fn sample() -> Listing {
        let api = MockApi::default();
        let seller = api.addr_make("seller");
        Listing {
            seller_raw: api.addr_canonicalize(seller.as_str()).unwrap(),
            seller,
            title: "Air quality, Via Roma".into(),
            description: "PM2.5 every 10 s — µg/m³".into(),
            category: "air-quality".into(),
            sensor_type: "pm2.5".into(),
            unit: "µg/m³".into(),
            lat_e7: 450_703_000,
            lon_e7: -76_869_000,
            geohash: geohash(450_703_000, -76_869_000),
            price: Price {
                asset: AssetInfo::Cw20(Addr::unchecked("wasm1token")),
                amount: Uint128::new(u128::MAX),
                model: PricingModel::PerKilobyte,
            },
            metadata_cid: cid("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")
                .unwrap(),
            endpoint: "wss://x.example/s".into(),
            license: "ODbL-1.0".into(),
            terms_hash: Hash32([7; 32]),
            status: ListingStatus::Paused,
            deposit: Some(Coin::new(1_000_000u128, "ucity")),
            created_height: 1,
            updated_height: u64::MAX,
            rating_count: 3,
            rating_sum: 14,
        }
    }

    #[test]
    fn round_trips() {
        let l = sample();
        assert_eq!(decode(&encode(&l), &MockApi::default()).unwrap(), l);
        let mut free = l.clone();
        free.deposit = None;
        free.price.asset = AssetInfo::Native("ucity".into());
        free.status = ListingStatus::Retired;
        free.metadata_cid = cid("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG").unwrap();
        assert_eq!(decode(&encode(&free), &MockApi::default()).unwrap(), free);
    }

    #[test]
    fn rejects_damaged_records() {
        let api = MockApi::default();
        let bytes = encode(&sample());
        let corrupt = Err(ContractError::CorruptRecord { kind: "listing" });
        assert_eq!(decode(&bytes[..bytes.len() - 1], &api), corrupt);
        let mut extra = bytes.clone();
        extra.push(0);
        assert_eq!(decode(&extra, &api), corrupt);
        let mut version = bytes.clone();
        version[0] = 2;
        assert_eq!(decode(&version, &api), corrupt);
        assert_eq!(decode(&[], &api), corrupt);
    }

    #[test]
    fn varints_have_one_encoding() {
        let api = MockApi::default();
        let mut l = sample();
        l.created_height = 1;
        l.updated_height = 1;
        l.rating_count = 1;
        l.rating_sum = 1;
        // The heights, rating count and sum are the last four varints.
        let bytes = encode(&l);
        let at = bytes.len() - 4;
        assert_eq!(&bytes[at..], &[1, 1, 1, 1]);
        let corrupt = Err(ContractError::CorruptRecord { kind: "listing" });
        // 1 as two groups (0x81 0x00) decodes to the same value but would
        // re-encode shorter: refused.
        let mut padded = bytes[..at].to_vec();
        padded.extend_from_slice(&[0x81, 0x00, 1, 1, 1]);
        assert_eq!(decode(&padded, &api), corrupt);
        // Bits beyond u128 in the 19th group.
        let mut price_max = l.clone();
        price_max.price.amount = Uint128::MAX;
        let max = encode(&price_max);
        let top = max
            .windows(19)
            .position(|w| w[..18].iter().all(|&b| b == 0xff) && w[18] == 0x03)
            .expect("u128::MAX as 19 groups");
        let mut overflow = max.clone();
        overflow[top + 18] = 0x07;
        assert_eq!(decode(&overflow, &api), corrupt);
        assert_eq!(decode(&max, &api).unwrap(), price_max);
    }

    #[test]
    fn out_of_range_coordinates_are_corrupt() {
        let api = MockApi::default();
        let mut l = sample();
        l.lat_e7 = 900_000_001;
        assert_eq!(
            decode(&encode(&l), &api),
            Err(ContractError::CorruptRecord { kind: "listing" })
        );
        l.lat_e7 = -900_000_000;
        l.lon_e7 = i32::MIN;
        assert_eq!(
            decode(&encode(&l), &api),
            Err(ContractError::CorruptRecord { kind: "listing" })
        );
    }

    #[test]
    fn is_compact() {
        // Canonical seller (32 bytes here), decoded CID (36 bytes), u128::MAX
        // as a 19-byte varint, one length byte per string: no field names,
        // quotes or hex as in JSON.
        assert_eq!(encode(&sample()).len(), 272);
    }
}
