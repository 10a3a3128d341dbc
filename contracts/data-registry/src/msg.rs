use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Coin, Decimal, HexBinary, SignedDecimal, Uint128};
use cw_ownable::{cw_ownable_execute, cw_ownable_query};
use wevalue_common::asset::{AssetInfo, AssetInfoUnchecked};

use crate::state::{ListingStatus, PricingModel};

#[cw_serde]
pub struct InstantiateMsg {
    /// Who may change the configuration (meant to be a DAO); defaults to the sender.
    pub owner: Option<String>,
    /// Anti-spam deposit every new listing must attach, refunded when the
    /// listing is retired. `None` lets listings be created for free.
    pub listing_deposit: Option<Coin>,
    /// A registry answering `is_listed` (the token-curated registry): when
    /// set, only sellers it lists may create or resume listings.
    pub curation_registry: Option<String>,
    /// A contract answering `paid_for_listing` (the payment channel): when
    /// set, buyers who paid for a listing may rate it.
    pub purchase_verifier: Option<String>,
    /// A buyer's first rating of a listing needs payments for that listing
    /// of at least its price × this many units (default
    /// [`DEFAULT_MIN_RATING_UNITS`]; at least 1).
    pub min_rating_units: Option<u64>,
    /// Accept SDPP endpoints on private, loopback and local hosts
    /// (`ws://127.0.0.1:9000/…`, `ws://sensor.local/…`): for local and test
    /// networks only. Default false.
    pub allow_private_endpoints: Option<bool>,
}

/// Units of a listing a buyer must have paid for before a first rating, by
/// default: 100 messages, seconds or kilobytes at the listing's price.
pub const DEFAULT_MIN_RATING_UNITS: u64 = 100;

/// A point on Earth in decimal degrees (WGS 84), e.g. `"45.0703"`.
/// Stored with 7 decimals (about 1 cm); further digits are truncated.
#[cw_serde]
pub struct Location {
    /// Latitude, -90 to 90.
    pub latitude: SignedDecimal,
    /// Longitude, -180 to 180.
    pub longitude: SignedDecimal,
}

/// What a unit of data costs.
#[cw_serde]
pub struct PriceMsg {
    /// The asset buyers pay in: a native denom or a cw20 contract.
    pub asset: AssetInfoUnchecked,
    /// Price of one unit in the asset's smallest unit; must be above zero.
    pub amount: Uint128,
    /// What a unit is: a message, a second of streaming, or a kilobyte.
    pub model: PricingModel,
}

/// The terms under which bought data may be used.
#[cw_serde]
pub struct DataTerms {
    /// Licence id, such as an SPDX id (`CC-BY-4.0`, `ODbL-1.0`) or `proprietary`.
    pub license: String,
    /// sha256 of the full terms document (32 bytes, hex).
    pub terms_hash: HexBinary,
}

/// Everything a seller says about a data stream.
#[cw_serde]
pub struct NewListing {
    /// Short name shown to buyers, 1 to 100 characters.
    pub title: String,
    /// Longer text, up to 1,000 characters; put more in the metadata document.
    pub description: String,
    /// Category slug (`air-quality`, `energy`, `mobility`): 2 to 32 of a-z, 0-9, `-`.
    pub category: String,
    /// Sensor type (`pm2.5`, `smart-meter`), 1 to 64 characters.
    pub sensor_type: String,
    /// Unit of the measured values (`µg/m³`, `kWh`), 1 to 16 characters.
    pub unit: String,
    /// Where the sensor is; the contract derives a 9-character geohash from it.
    pub location: Location,
    /// Price per unit of data.
    pub price: PriceMsg,
    /// IPFS CID (v0 `Qm…` or v1 `b…`/`z…`) of the full JSON metadata.
    pub metadata_cid: String,
    /// SDPP streaming endpoint, `ws://` or `wss://`, up to 256 characters.
    pub endpoint: String,
    /// Data-use terms.
    pub terms: DataTerms,
}

/// A partial update: fields left out keep their value.
#[cw_serde]
#[derive(Default)]
pub struct ListingUpdate {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New category slug.
    pub category: Option<String>,
    /// New sensor type.
    pub sensor_type: Option<String>,
    /// New unit.
    pub unit: Option<String>,
    /// New location.
    pub location: Option<Location>,
    /// New price.
    pub price: Option<PriceMsg>,
    /// New metadata CID.
    pub metadata_cid: Option<String>,
    /// New SDPP endpoint.
    pub endpoint: Option<String>,
    /// New data-use terms.
    pub terms: Option<DataTerms>,
}

#[cw_ownable_execute]
#[cw_serde]
pub enum ExecuteMsg {
    /// Lists a data stream. Attach exactly the configured listing deposit, if any.
    CreateListing(NewListing),
    /// Changes some fields of a listing (its seller only; not once retired).
    UpdateListing {
        /// Listing id.
        id: u64,
        /// Fields to change.
        update: ListingUpdate,
    },
    /// Hides an active listing from searches (its seller only).
    PauseListing {
        /// Listing id.
        id: u64,
    },
    /// Makes a paused listing searchable again (its seller only; the seller
    /// must be listed when a curation registry is configured).
    ResumeListing {
        /// Listing id.
        id: u64,
    },
    /// Retires a listing for good and refunds its deposit (its seller only).
    RetireListing {
        /// Listing id.
        id: u64,
    },
    /// Pauses an active listing whose seller the curation registry no
    /// longer lists. Anyone may call it.
    SuspendUncurated {
        /// Listing id.
        id: u64,
    },
    /// Rates a listing 1 to 5. A first rating needs payments for this
    /// listing (the purchase verifier's `paid_for_listing`), in its asset, of
    /// at least its price × `min_rating_units`. Rating again revises the
    /// buyer's rating; it is never counted twice.
    Rate {
        /// Listing id.
        id: u64,
        /// Score from 1 to 5.
        score: u8,
        /// Optional IPFS CID of a written review.
        review_cid: Option<String>,
    },
    /// Sets or clears the deposit new listings must attach (owner only).
    /// Existing listings keep, and get back, the deposit they paid.
    SetListingDeposit {
        /// The new deposit, or `None` for free listings.
        deposit: Option<Coin>,
    },
    /// Sets or clears the curation registry (owner only). The address must
    /// answer the `is_listed` query.
    SetCurationRegistry {
        /// Registry address, or `None` to let anyone list.
        address: Option<String>,
    },
    /// Sets or clears the purchase verifier (owner only). The address must
    /// answer the `paid_for_listing` query.
    SetPurchaseVerifier {
        /// Verifier address, or `None` to disable ratings.
        address: Option<String>,
    },
    /// Sets how many units of a listing a buyer must have paid for before a
    /// first rating (owner only). Ratings already given stay.
    SetMinRatingUnits {
        /// Units at the listing's price, at least 1.
        units: u64,
    },
    /// Allows or refuses SDPP endpoints on private, loopback and local hosts
    /// in new listings and endpoint changes (owner only). Listings already
    /// stored keep their endpoint.
    SetAllowPrivateEndpoints {
        /// True for local and test networks only.
        allow: bool,
    },
}

#[cw_serde]
pub struct MigrateMsg {}

#[cw_ownable_query]
#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    /// The registry's configuration.
    #[returns(ConfigResponse)]
    Config {},
    /// One listing by id.
    #[returns(ListingInfo)]
    Listing {
        /// Listing id.
        id: u64,
    },
    /// All listings in any status, by id.
    #[returns(ListingsResponse)]
    Listings {
        /// Last listing id of the previous page.
        start_after: Option<u64>,
        /// Page size, default 10, at most 30.
        limit: Option<u32>,
    },
    /// A seller's listings in any status, by id.
    #[returns(ListingsResponse)]
    ListingsBySeller {
        /// Seller address.
        seller: String,
        /// Last listing id of the previous page.
        start_after: Option<u64>,
        /// Page size, default 10, at most 30.
        limit: Option<u32>,
    },
    /// Active listings of a category, grouped by asset and pricing model,
    /// cheapest first within a group.
    #[returns(ListingsResponse)]
    ListingsByCategory {
        /// Category slug.
        category: String,
        /// Where the last listing of the previous page was
        /// ([`ListingInfo::category_cursor`]).
        start_after: Option<CategoryCursor>,
        /// Page size, default 10, at most 30.
        limit: Option<u32>,
    },
    /// Active listings of a category priced in one asset and model within a
    /// price range, cheapest first.
    #[returns(ListingsResponse)]
    ListingsByPrice {
        /// Category slug.
        category: String,
        /// Asset the prices are in.
        asset: AssetInfoUnchecked,
        /// Pricing model the prices are for.
        model: PricingModel,
        /// Lowest price per unit, inclusive (default 0).
        min_price: Option<Uint128>,
        /// Highest price per unit, inclusive (default unbounded).
        max_price: Option<Uint128>,
        /// Price and id of the last listing of the previous page
        /// ([`ListingInfo::price_cursor`]).
        start_after: Option<PriceCursor>,
        /// Page size, default 10, at most 30.
        limit: Option<u32>,
    },
    /// Active listings inside a geohash cell (1 to 9 characters: `u0j` is
    /// about 156 km × 156 km, `u0j2q` about 4.9 km × 4.9 km). To cover a
    /// neighbourhood across cell borders, ask for the neighbouring cells too.
    #[returns(ListingsResponse)]
    ListingsNear {
        /// Geohash prefix of the cell.
        cell: String,
        /// Geohash and id of the last listing of the previous page
        /// ([`ListingInfo::place_cursor`]).
        start_after: Option<PlaceCursor>,
        /// Page size, default 10, at most 30.
        limit: Option<u32>,
    },
    /// Count, sum and average of a listing's ratings.
    #[returns(RatingSummaryResponse)]
    RatingSummary {
        /// Listing id.
        id: u64,
    },
    /// One buyer's rating of a listing.
    #[returns(RatingResponse)]
    Rating {
        /// Listing id.
        id: u64,
        /// Buyer address.
        buyer: String,
    },
    /// A listing's ratings, by buyer address.
    #[returns(RatingsResponse)]
    Ratings {
        /// Listing id.
        id: u64,
        /// Buyer address of the last rating of the previous page.
        start_after: Option<String>,
        /// Page size, default 10, at most 30.
        limit: Option<u32>,
    },
}

/// Where a page of `listings_by_category` ends: the last listing's place in
/// the index (asset, model, price, id) as the page showed it. Pages follow
/// the index, not the listing, so a listing repriced between two pages
/// neither skips nor repeats the others.
#[cw_serde]
pub struct CategoryCursor {
    /// Asset of the listing's price.
    pub asset: AssetInfoUnchecked,
    /// Pricing model of the listing's price.
    pub model: PricingModel,
    /// Price per unit.
    pub price: Uint128,
    /// Listing id.
    pub id: u64,
}

/// Where a page of `listings_by_price` ends: the last listing's price and id.
#[cw_serde]
pub struct PriceCursor {
    /// Price per unit.
    pub price: Uint128,
    /// Listing id.
    pub id: u64,
}

/// Where a page of `listings_near` ends: the last listing's 9-character
/// geohash and id.
#[cw_serde]
pub struct PlaceCursor {
    /// The listing's geohash (9 characters).
    pub geohash: String,
    /// Listing id.
    pub id: u64,
}

#[cw_serde]
pub struct ConfigResponse {
    /// Deposit new listings must attach, if any.
    pub listing_deposit: Option<Coin>,
    /// Curation registry sellers must be listed in, if any.
    pub curation_registry: Option<Addr>,
    /// Purchase verifier consulted for ratings, if any.
    pub purchase_verifier: Option<Addr>,
    /// Units of a listing a buyer must have paid for before a first rating.
    pub min_rating_units: u64,
    /// Whether endpoints on private, loopback and local hosts are accepted.
    pub allow_private_endpoints: bool,
    /// Number of listings ever created (ids run from 1 to this).
    pub listing_count: u64,
}

/// A price as stored.
#[cw_serde]
pub struct Price {
    /// Asset the price is in.
    pub asset: AssetInfo,
    /// Price per unit.
    pub amount: Uint128,
    /// What a unit is.
    pub model: PricingModel,
}

/// A listing's place.
#[cw_serde]
pub struct PlaceInfo {
    /// Latitude in degrees, 7 decimals.
    pub latitude: SignedDecimal,
    /// Longitude in degrees, 7 decimals.
    pub longitude: SignedDecimal,
    /// 9-character geohash of the point.
    pub geohash: String,
}

/// A listing as queries return it.
#[cw_serde]
pub struct ListingInfo {
    /// Listing id.
    pub id: u64,
    /// Seller address.
    pub seller: Addr,
    /// Short name.
    pub title: String,
    /// Longer text.
    pub description: String,
    /// Category slug.
    pub category: String,
    /// Sensor type.
    pub sensor_type: String,
    /// Unit of the measured values.
    pub unit: String,
    /// Where the sensor is.
    pub location: PlaceInfo,
    /// Price per unit.
    pub price: Price,
    /// IPFS CID of the full metadata.
    pub metadata_cid: String,
    /// SDPP endpoint.
    pub endpoint: String,
    /// Data-use terms.
    pub terms: DataTerms,
    /// Active, paused or retired.
    pub status: ListingStatus,
    /// Deposit paid at creation and refunded on retirement.
    pub deposit: Option<Coin>,
    /// Height of creation.
    pub created_height: u64,
    /// Height of the last change.
    pub updated_height: u64,
    /// Number of ratings.
    pub rating_count: u32,
    /// Sum of all scores.
    pub rating_sum: u64,
}

impl ListingInfo {
    /// The cursor of the page after this listing in `listings_by_category`.
    pub fn category_cursor(&self) -> CategoryCursor {
        CategoryCursor {
            asset: match &self.price.asset {
                AssetInfo::Native(denom) => AssetInfoUnchecked::Native(denom.clone()),
                AssetInfo::Cw20(addr) => AssetInfoUnchecked::Cw20(addr.to_string()),
            },
            model: self.price.model,
            price: self.price.amount,
            id: self.id,
        }
    }

    /// The cursor of the page after this listing in `listings_by_price`.
    pub fn price_cursor(&self) -> PriceCursor {
        PriceCursor {
            price: self.price.amount,
            id: self.id,
        }
    }

    /// The cursor of the page after this listing in `listings_near`.
    pub fn place_cursor(&self) -> PlaceCursor {
        PlaceCursor {
            geohash: self.location.geohash.clone(),
            id: self.id,
        }
    }
}

#[cw_serde]
pub struct ListingsResponse {
    /// One page of listings.
    pub listings: Vec<ListingInfo>,
}

#[cw_serde]
pub struct RatingSummaryResponse {
    /// Listing id.
    pub id: u64,
    /// Number of buyers who rated.
    pub count: u32,
    /// Sum of their scores.
    pub sum: u64,
    /// Average score, `None` before the first rating.
    pub average: Option<Decimal>,
}

#[cw_serde]
pub struct RatingResponse {
    /// Listing id.
    pub id: u64,
    /// Buyer address.
    pub buyer: Addr,
    /// Score from 1 to 5.
    pub score: u8,
    /// IPFS CID of the written review, if any.
    pub review_cid: Option<String>,
    /// Height of the rating (or its last change).
    pub height: u64,
}

#[cw_serde]
pub struct RatingsResponse {
    /// One page of ratings.
    pub ratings: Vec<RatingResponse>,
}
