use cosmwasm_std::{OverflowError, StdError, Uint128};
use cw_ownable::OwnershipError;
use cw_utils::PaymentError;
use thiserror::Error;
use wevalue_common::migration::MigrationError;
use wevalue_common::AssetError;
use wevalue_voucher::PubkeyError;

#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
    #[error(transparent)]
    Std(#[from] StdError),

    #[error(transparent)]
    Overflow(#[from] OverflowError),

    #[error(transparent)]
    Ownership(#[from] OwnershipError),

    #[error(transparent)]
    Payment(#[from] PaymentError),

    #[error(transparent)]
    Asset(#[from] AssetError),

    #[error(transparent)]
    Migration(#[from] MigrationError),

    #[error("invalid {scheme} public key: {source}")]
    InvalidPubkey { scheme: String, source: PubkeyError },

    #[error("invalid configuration: {reason}")]
    InvalidConfig { reason: String },

    #[error("challenge period {period}s is outside the allowed {min}s to {max}s")]
    ChallengePeriodOutOfRange { period: u64, min: u64, max: u64 },

    #[error("the payer cannot open a channel to itself")]
    SelfChannel,

    #[error(
        "{max} channels between this payer and payee in this asset are already open: top one up"
    )]
    TooManyOpenChannels { max: usize },

    #[error("channel {id} not found")]
    ChannelNotFound { id: u64 },

    #[error("channel {id} is {status}, not open")]
    ChannelNotOpen { id: u64, status: &'static str },

    #[error("channel {id} is closed")]
    ChannelClosed { id: u64 },

    #[error("only the payer of channel {id} may do this")]
    NotPayer { id: u64 },

    #[error("only the payee of channel {id} may do this")]
    NotPayee { id: u64 },

    #[error("{sender} is neither the payee of channel {id} nor a watchtower it authorized")]
    NotPayeeOrWatchtower { id: u64, sender: String },

    #[error("channel {id} holds {asset}, not {sent}")]
    WrongAsset {
        id: u64,
        asset: String,
        sent: String,
    },

    #[error(
        "voucher for {amount} does not raise channel {id} above the {claimed} already claimed"
    )]
    VoucherNotIncreasing {
        id: u64,
        amount: Uint128,
        claimed: Uint128,
    },

    #[error("voucher for {amount} exceeds channel {id}'s deposit of {deposit}")]
    VoucherExceedsDeposit {
        id: u64,
        amount: Uint128,
        deposit: Uint128,
    },

    #[error("signature must be 64 bytes, got {len}")]
    SignatureLength { len: usize },

    #[error("voucher signature does not verify for channel {id} of this contract on this chain")]
    InvalidSignature { id: u64 },

    #[error("voucher on channel {id} is hashlocked: the preimage is required")]
    PreimageRequired { id: u64 },

    #[error("preimage does not hash to channel {id}'s voucher hashlock")]
    WrongPreimage { id: u64 },

    #[error("preimage must be 1 to {max} bytes, got {len}")]
    PreimageLength { len: usize, max: usize },

    #[error("a preimage was given but the voucher on channel {id} has no hashlock")]
    UnexpectedPreimage { id: u64 },

    #[error("voucher on channel {id} expired at {expiry} (block time {now})")]
    VoucherExpired { id: u64, expiry: u64, now: u64 },

    #[error("channel {id}'s challenge period ended at {finalize_after}: finalize it")]
    ChallengePeriodOver { id: u64, finalize_after: u64 },

    #[error("channel {id}'s challenge period runs until {finalize_after} (now {now})")]
    ChallengePeriodRunning {
        id: u64,
        finalize_after: u64,
        now: u64,
    },

    #[error("a batch needs 1 to {max} claims, got {count}")]
    BatchSize { count: usize, max: u32 },

    #[error("channel {id} appears twice in the batch")]
    DuplicateChannel { id: u64 },

    #[error("batch claim {index}: {source}")]
    BatchItem {
        index: usize,
        source: Box<ContractError>,
    },

    #[error("only the payee may choose where proceeds go")]
    PayoutNotPayee,

    #[error("cw20 tokens cannot be paid out over IBC")]
    Cw20OverIbc,

    #[error("invalid IBC payout: {reason}")]
    InvalidIbcPayout { reason: String },

    #[error("IBC payout {id} not found (already settled?)")]
    PayoutNotFound { id: u64 },

    #[error("only the payee of IBC payout {id} may confirm it")]
    NotPayoutPayee { id: u64 },

    #[error("the transfer reply for IBC payout {id} carries no packet sequence: {reason}")]
    PayoutReply { id: u64, reason: String },

    #[error("ICS-20 channel {channel} is not allowed for IBC payouts and deposits")]
    IbcChannelNotAllowed { channel: String },

    #[error("cw20 contract {token} is not accepted")]
    Cw20NotAccepted { token: String },

    #[error("{payer} has not authorized hub sender {sender} on {channel}")]
    HubSenderNotAuthorized {
        payer: String,
        channel: String,
        sender: String,
    },

    #[error("invalid hub deposit: {reason}")]
    HubDeposit { reason: String },

    #[error("only a hashlocked voucher with an expiry can be lodged (channel {id})")]
    NotLodgeable { id: u64 },

    #[error("lodged voucher on channel {id} expires at {expiry}, more than {max}s from now")]
    HoldTooLong { id: u64, expiry: u64, max: u64 },

    #[error("this listing already has {max} {what} for this payer and payee")]
    ListingFull { max: usize, what: &'static str },

    #[error("nothing to sweep in {asset}: the balance is within what is reserved")]
    NothingToSweep { asset: String },

    #[error("no credit in {denom} to withdraw")]
    NoCredit { denom: String },

    #[error("{address} is not a watchtower of {payee}")]
    NotAWatchtower { address: String, payee: String },
}

impl ContractError {
    pub fn in_batch(self, index: usize) -> Self {
        ContractError::BatchItem {
            index,
            source: Box::new(self),
        }
    }
}
