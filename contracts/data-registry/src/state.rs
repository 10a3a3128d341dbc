//! Storage layout.
//!
//! Listings are the bulk of the state and every byte written costs gas
//! (30 SDK gas per byte in wasmd), so the primary store and the indexes use
//! compact raw keys and the listing record is a small binary record
//! (`codec`) instead of JSON:
//!
//! | key                                                        | value            |
//! |------------------------------------------------------------|------------------|
//! | `L` id                                                     | listing (`codec`)|
//! | `s` len(seller) seller id (canonical address)              | `1` (all statuses) |
//! | `g` geohash(9) id                                          | `1` (active only) |
//! | `p` category 0x00 asset 0x00 model price id                | `1` (active only) |
//!
//! ids are 8-byte big-endian, so keys sort by id within a prefix, and by
//! price then id within a category group (asset is `n`+denom or
//! `c`+cw20 address; price is a length byte and its significant bytes, see
//! [`price_position`]). Category slugs, denoms, addresses and geohashes
//! contain no 0x00, which keeps every prefix unambiguous. There is no id
//! counter: the next id follows the last `L` key ([`last_id`]). The
//! cw-storage-plus items (`config`, `ownership`, `contract_info`) and the
//! length-prefixed `r` map never start with `L`, `s`, `g` or `p`.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Api, CanonicalAddr, Coin, Order, Storage, Uint128};
use cw_storage_plus::{Item, Map};
use wevalue_common::asset::AssetInfo;

use crate::codec;
use crate::error::ContractError;
use crate::msg::{Price, DEFAULT_MIN_RATING_UNITS};
use crate::validate::Cid;

#[cw_serde]
pub struct Config {
    pub listing_deposit: Option<Coin>,
    pub curation_registry: Option<Addr>,
    pub purchase_verifier: Option<Addr>,
    /// Configs stored before these two fields existed load with the
    /// defaults, so no migration has to rewrite them; defaults are not
    /// written either (create and update read the config: 3 gas per byte).
    #[serde(
        default = "default_min_rating_units",
        skip_serializing_if = "is_default_min_rating_units"
    )]
    pub min_rating_units: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_private_endpoints: bool,
}

fn default_min_rating_units() -> u64 {
    DEFAULT_MIN_RATING_UNITS
}

fn is_default_min_rating_units(units: &u64) -> bool {
    *units == DEFAULT_MIN_RATING_UNITS
}

pub const CONFIG: Item<Config> = Item::new("config");
/// Ratings by (listing id, buyer).
pub const RATINGS: Map<(u64, &Addr), Rating> = Map::new("r");

#[cw_serde]
#[derive(Copy, Eq)]
pub enum PricingModel {
    /// Per message delivered.
    PerMessage,
    /// Per second of streaming.
    PerSecond,
    /// Per kilobyte delivered.
    PerKilobyte,
}

impl PricingModel {
    fn key_byte(self) -> u8 {
        match self {
            PricingModel::PerMessage => b'm',
            PricingModel::PerSecond => b's',
            PricingModel::PerKilobyte => b'k',
        }
    }
}

#[cw_serde]
#[derive(Copy, Eq)]
pub enum ListingStatus {
    /// Searchable and on sale.
    Active,
    /// Hidden from searches by its seller or for lack of curation; can resume.
    Paused,
    /// Withdrawn for good; its deposit was refunded.
    Retired,
}

impl std::fmt::Display for ListingStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ListingStatus::Active => "active",
            ListingStatus::Paused => "paused",
            ListingStatus::Retired => "retired",
        })
    }
}

/// A 32-byte digest, stored raw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hash32(pub [u8; 32]);

/// A listing as stored (see `codec` for the encoding).
#[derive(Clone, Debug, PartialEq)]
pub struct Listing {
    pub seller: Addr,
    /// The seller's canonical (binary) address: what is stored and indexed.
    pub seller_raw: CanonicalAddr,
    pub title: String,
    pub description: String,
    pub category: String,
    pub sensor_type: String,
    pub unit: String,
    pub lat_e7: i32,
    pub lon_e7: i32,
    pub geohash: String,
    pub price: Price,
    pub metadata_cid: Cid,
    pub endpoint: String,
    pub license: String,
    pub terms_hash: Hash32,
    pub status: ListingStatus,
    pub deposit: Option<Coin>,
    pub created_height: u64,
    pub updated_height: u64,
    pub rating_count: u32,
    pub rating_sum: u64,
}

#[cw_serde]
pub struct Rating {
    pub score: u8,
    pub review_cid: Option<String>,
    pub height: u64,
}

const LISTING: u8 = b'L';
const BY_SELLER: u8 = b's';
const BY_GEOHASH: u8 = b'g';
const BY_CATEGORY: u8 = b'p';
const INDEX_VALUE: &[u8] = &[1];

fn listing_key(id: u64) -> [u8; 9] {
    let mut key = [LISTING; 9];
    key[1..].copy_from_slice(&id.to_be_bytes());
    key
}

pub fn load_listing(
    storage: &dyn Storage,
    api: &dyn Api,
    id: u64,
) -> Result<Listing, ContractError> {
    may_load_listing(storage, api, id)?.ok_or(ContractError::ListingNotFound { id })
}

pub fn may_load_listing(
    storage: &dyn Storage,
    api: &dyn Api,
    id: u64,
) -> Result<Option<Listing>, ContractError> {
    storage
        .get(&listing_key(id))
        .map(|bytes| codec::decode(&bytes, api))
        .transpose()
}

/// The highest listing id, 0 when there is none. Listings are never deleted,
/// so the next id is one past it; seeking the last primary key is cheaper
/// than reading and writing a counter on every create.
pub fn last_id(storage: &dyn Storage) -> Result<u64, ContractError> {
    let last = storage
        .range_keys(Some(&[LISTING]), Some(&[LISTING + 1]), Order::Descending)
        .next();
    match last {
        None => Ok(0),
        Some(key) => key[1..]
            .try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| ContractError::CorruptIndex { key_len: key.len() }),
    }
}

pub fn save_listing(storage: &mut dyn Storage, id: u64, listing: &Listing) {
    storage.set(&listing_key(id), &codec::encode(listing));
}

pub fn seller_prefix(seller_raw: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(2 + seller_raw.len() + 8);
    key.push(BY_SELLER);
    // Canonical addresses are 20 or 32 bytes (at most 255), so one length
    // byte keeps prefixes of different lengths apart.
    key.push(seller_raw.len() as u8);
    key.extend_from_slice(seller_raw);
    key
}

pub fn geohash_prefix(cell: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + cell.len() + 8);
    key.push(BY_GEOHASH);
    key.extend_from_slice(cell.as_bytes());
    key
}

pub fn category_prefix(category: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(64);
    key.push(BY_CATEGORY);
    key.extend_from_slice(category.as_bytes());
    key.push(0);
    key
}

pub fn price_group_prefix(category: &str, price: &Price) -> Vec<u8> {
    let mut key = category_prefix(category);
    match &price.asset {
        AssetInfo::Native(denom) => {
            key.push(b'n');
            key.extend_from_slice(denom.as_bytes());
        }
        AssetInfo::Cw20(addr) => {
            key.push(b'c');
            key.extend_from_slice(addr.as_bytes());
        }
    }
    key.push(0);
    key.push(price.model.key_byte());
    key
}

/// Where `amount` sorts in a price group: the number of significant bytes,
/// then those bytes big-endian. Shorter numbers are smaller, so the order is
/// numeric, and a typical price takes 2 or 3 bytes instead of 16.
pub fn price_position(category: &str, price: &Price, amount: Uint128) -> Vec<u8> {
    let mut key = price_group_prefix(category, price);
    let be = amount.u128().to_be_bytes();
    let skip = be.iter().take_while(|&&b| b == 0).count();
    key.push((16 - skip) as u8);
    key.extend_from_slice(&be[skip..]);
    key
}

fn with_id(mut prefix: Vec<u8>, id: u64) -> Vec<u8> {
    prefix.extend_from_slice(&id.to_be_bytes());
    prefix
}

pub fn seller_key(listing: &Listing, id: u64) -> Vec<u8> {
    with_id(seller_prefix(listing.seller_raw.as_slice()), id)
}

pub fn geohash_key(listing: &Listing, id: u64) -> Vec<u8> {
    geohash_position_key(&listing.geohash, id)
}

pub fn category_key(listing: &Listing, id: u64) -> Vec<u8> {
    category_position_key(&listing.category, &listing.price, id)
}

/// The category index key of a listing with this price: what a cursor of
/// `listings_by_category` or `listings_by_price` carries.
pub fn category_position_key(category: &str, price: &Price, id: u64) -> Vec<u8> {
    with_id(price_position(category, price, price.amount), id)
}

/// The place index key of a listing with this geohash.
pub fn geohash_position_key(geohash: &str, id: u64) -> Vec<u8> {
    with_id(geohash_prefix(geohash), id)
}

pub fn add_seller_index(storage: &mut dyn Storage, listing: &Listing, id: u64) {
    storage.set(&seller_key(listing, id), INDEX_VALUE);
}

/// Adds an active listing to the discovery indexes (place and category/price).
pub fn add_discovery_indexes(storage: &mut dyn Storage, listing: &Listing, id: u64) {
    storage.set(&geohash_key(listing, id), INDEX_VALUE);
    storage.set(&category_key(listing, id), INDEX_VALUE);
}

pub fn remove_discovery_indexes(storage: &mut dyn Storage, listing: &Listing, id: u64) {
    storage.remove(&geohash_key(listing, id));
    storage.remove(&category_key(listing, id));
}

/// The smallest key greater than every key starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Listing ids of at most `limit` index keys in `[start, end)`, in key order.
/// Every index key ends with the 8-byte id.
pub fn index_page(
    storage: &dyn Storage,
    start: &[u8],
    end: Option<&[u8]>,
    limit: usize,
) -> Result<Vec<u64>, ContractError> {
    storage
        .range_keys(Some(start), end, Order::Ascending)
        .take(limit)
        .map(|key| {
            key.len()
                .checked_sub(8)
                .and_then(|at| key[at..].try_into().ok())
                .map(u64::from_be_bytes)
                .ok_or(ContractError::CorruptIndex { key_len: key.len() })
        })
        .collect()
}

/// The key just after `key`, for exclusive `start_after` bounds.
pub fn after(mut key: Vec<u8>) -> Vec<u8> {
    key.push(0);
    key
}
