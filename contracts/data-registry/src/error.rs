use cosmwasm_std::{Coin, StdError, Uint128, Uint256};
use cw_ownable::OwnershipError;
use cw_utils::PaymentError;
use thiserror::Error;
use wevalue_common::migration::MigrationError;
use wevalue_common::AssetError;

#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
    #[error(transparent)]
    Std(#[from] StdError),

    #[error(transparent)]
    Ownership(#[from] OwnershipError),

    #[error(transparent)]
    Payment(#[from] PaymentError),

    #[error(transparent)]
    Asset(#[from] AssetError),

    #[error(transparent)]
    Migration(#[from] MigrationError),

    #[error("listing {id} not found")]
    ListingNotFound { id: u64 },

    #[error("only the seller of listing {id} may do this")]
    NotSeller { id: u64 },

    #[error("listing {id} is retired")]
    ListingRetired { id: u64 },

    #[error("listing {id} is already {status}")]
    AlreadyInStatus { id: u64, status: String },

    #[error("{field} must be {min} to {max} characters long, got {actual}")]
    FieldLength {
        field: &'static str,
        min: usize,
        max: usize,
        actual: usize,
    },

    #[error("{field} {value:?} is invalid: {reason}")]
    InvalidField {
        field: &'static str,
        value: String,
        reason: &'static str,
    },

    #[error(
        "{field} contains the control or invisible character {code_point} at position {position}"
    )]
    ForbiddenCharacter {
        field: &'static str,
        /// The character as `U+XXXX`: the text itself is not echoed.
        code_point: String,
        position: usize,
    },

    #[error("invalid IPFS CID {cid:?}: {reason}")]
    InvalidCid { cid: String, reason: &'static str },

    #[error("invalid SDPP endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        endpoint: String,
        reason: &'static str,
    },

    #[error("SDPP endpoint {endpoint:?} is on a private, loopback or local host; the owner has not allowed those (allow_private_endpoints)")]
    PrivateEndpoint { endpoint: String },

    #[error("invalid coordinates: {reason}")]
    InvalidCoordinates { reason: &'static str },

    #[error("invalid geohash cell {cell:?}: {reason}")]
    InvalidCell { cell: String, reason: &'static str },

    #[error("price per unit must be greater than zero")]
    ZeroPrice,

    #[error("invalid page cursor: {reason}")]
    InvalidCursor { reason: &'static str },

    #[error("invalid price range: min {min} is above max {max}")]
    InvalidPriceRange { min: String, max: String },

    #[error("the listing deposit must be greater than zero")]
    ZeroDeposit,

    #[error("wrong listing deposit: expected {expected}, received {received}")]
    WrongDeposit { expected: Coin, received: String },

    #[error("seller {seller} is not listed in the curation registry")]
    SellerNotListed { seller: String },

    #[error("seller {seller} is still listed in the curation registry")]
    SellerStillListed { seller: String },

    #[error("no curation registry is configured")]
    CurationDisabled,

    #[error("{contract} does not answer the {interface} query: {reason}")]
    InterfaceProbeFailed {
        contract: String,
        interface: &'static str,
        reason: String,
    },

    #[error("ratings are disabled: no purchase verifier is configured")]
    RatingsDisabled,

    #[error("{buyer} paid {paid} for listing {id} in its asset; a first rating needs at least {required} (its price × {min_units} units)")]
    NotABuyer {
        id: u64,
        buyer: String,
        paid: Uint128,
        required: Uint256,
        min_units: u64,
    },

    #[error("the minimum number of units a rater must have bought must be at least 1")]
    ZeroRatingUnits,

    #[error("sellers cannot rate their own listings")]
    SelfRating,

    #[error("score must be between 1 and 5, got {score}")]
    InvalidScore { score: u8 },

    #[error("listing {id} has no rating by {buyer}")]
    RatingNotFound { id: u64, buyer: String },

    #[error("stored {kind} record is corrupt")]
    CorruptRecord { kind: &'static str },

    #[error("corrupt index key of {key_len} bytes")]
    CorruptIndex { key_len: usize },

    #[error("the update changes nothing")]
    EmptyUpdate,
}
