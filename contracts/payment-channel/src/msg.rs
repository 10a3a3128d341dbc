//! Messages: instantiate, execute (with the cw20 `ReceiveMsg` and the
//! hub-deposit memo), query and migrate; the query responses live in
//! `responses.rs`.

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Binary, HexBinary, Uint128};
use cw20::Cw20ReceiveMsg;
use cw_ownable::{cw_ownable_execute, cw_ownable_query};
use wevalue_common::asset::{AssetInfo, AssetInfoUnchecked};
pub use wevalue_voucher::{Hashlock, VoucherScheme};

pub use crate::responses::*;

#[cw_serde]
pub struct InstantiateMsg {
    /// Who may change the configuration (meant to be a DAO); defaults to the sender.
    pub owner: Option<String>,
    /// Shortest challenge period a channel may choose, in seconds (at least 60).
    pub min_challenge_period: u64,
    /// Longest challenge period a channel may choose, in seconds (at most 90 days).
    pub max_challenge_period: u64,
    /// Most vouchers one `claim_batch` may carry, 1 to 50; default 50.
    pub max_batch_size: Option<u32>,
}

/// The data-registry listing a channel buys.
#[cw_serde]
pub struct ListingRef {
    /// The data registry's address.
    pub registry: String,
    /// The listing's id in that registry.
    pub listing_id: u64,
}

/// What opening a channel registers; the funds come with the message
/// (exactly one native coin), through a cw20 `send`, or in an ICS-20
/// transfer from the hub (see `HubDeposit`).
#[cw_serde]
pub struct OpenChannel {
    /// Who the vouchers pay (the seller).
    pub payee: String,
    /// The payer's voucher-signing public key: 33-byte compressed secp256k1
    /// for `secp256k1` and `adr036`, 32 bytes for `ed25519`.
    pub pubkey: Binary,
    /// How vouchers on this channel are signed.
    pub scheme: VoucherScheme,
    /// Seconds the payee has to claim after the payer starts a close; must
    /// lie within the configured bounds. Defaults to the configured minimum.
    pub challenge_period: Option<u64>,
    /// The listing this channel buys, if any: what the payee redeems on it
    /// counts in `paid_for_listing` for that listing.
    #[serde(default)]
    pub listing: Option<ListingRef>,
}

/// A voucher as the payee submits it: the fields the payer signed that the
/// contract cannot know, plus the signature. Chain id, contract and channel
/// id come from the chain and the message, so a voucher signed for another
/// chain, instance or channel fails verification.
#[cw_serde]
pub struct SignedVoucher {
    /// Cumulative amount owed to the payee on this channel.
    pub amount: Uint128,
    /// sha256 hashlock (exactly 32 bytes, 64 hex digits) if the voucher is conditional.
    pub hashlock: Option<Hashlock>,
    /// Unix seconds before which the voucher must be claimed, if any.
    pub expiry: Option<u64>,
    /// The payer's 64-byte signature under the channel's scheme.
    pub signature: Binary,
}

/// Where a claim's proceeds go.
#[cw_serde]
#[derive(Default)]
pub enum Payout {
    /// To the payee on this chain.
    #[default]
    Local,
    /// To an address on another chain with an ICS-20 transfer (native
    /// denoms only, over a channel the owner allowlisted). Only the payee
    /// may choose this. If the transfer fails (error acknowledgement or
    /// timeout) the refund is credited to the payee here, to withdraw with
    /// `withdraw_credit`.
    Ibc {
        /// The ICS-20 channel on this chain (`channel-<n>`).
        channel: String,
        /// The receiver's address on the other chain.
        receiver: String,
        /// Seconds from now until the packet times out, 60 to 604,800.
        timeout_seconds: u64,
    },
}

/// One entry of a batch claim.
#[cw_serde]
pub struct BatchClaim {
    /// The channel to claim from.
    pub channel_id: u64,
    /// The best voucher for it.
    pub voucher: SignedVoucher,
    /// The hashlock preimage, if the voucher has a hashlock.
    pub preimage: Option<HexBinary>,
}

#[cw_serde]
pub enum ReceiveMsg {
    /// Opens a channel funded with the cw20 tokens sent (accepted cw20s only).
    Open(OpenChannel),
    /// Adds the cw20 tokens sent to an open channel (payer only).
    TopUp {
        /// The channel to fund.
        channel_id: u64,
    },
}

/// What an ICS-20 transfer from the hub asks for, under the key
/// `payment_channel` of its memo (next to the `dest_callback` request of
/// the IBC callbacks middleware). The transfer's receiver must be this
/// contract; `payer` must have authorized the transfer's sender on that
/// channel (`authorize_hub_sender`).
#[cw_serde]
pub enum HubDeposit {
    /// Opens a channel in the name of `payer`, funded with the tokens sent.
    Open {
        /// The payer on this chain (bech32): refunds of the channel go here.
        payer: String,
        /// The channel to open.
        channel: OpenChannel,
    },
    /// Adds the tokens sent to an open channel of a payer that authorized
    /// the sender.
    TopUp {
        /// The channel to fund.
        channel_id: u64,
    },
}

#[cw_ownable_execute]
#[cw_serde]
pub enum ExecuteMsg {
    /// Opens a channel funded with exactly one native coin.
    Open(OpenChannel),
    /// Opens or tops up a channel with cw20 tokens (`ReceiveMsg`); only from
    /// a cw20 contract the owner accepted.
    Receive(Cw20ReceiveMsg),
    /// Adds the native coin sent to an open channel (payer only, channel's denom).
    TopUp {
        /// The channel to fund.
        channel_id: u64,
    },
    /// Redeems a voucher (payee or an authorized watchtower): pays the
    /// increase over what was already claimed; the channel stays open.
    Claim {
        /// The channel to claim from.
        channel_id: u64,
        /// The voucher.
        voucher: SignedVoucher,
        /// The hashlock preimage (1 to 64 bytes), if the voucher has a hashlock.
        preimage: Option<HexBinary>,
        /// Where the proceeds go; only the payee may choose an IBC payout.
        payout: Option<Payout>,
    },
    /// Redeems up to `max_batch_size` vouchers on distinct channels at once,
    /// all or nothing; the sender must be each channel's payee or its
    /// watchtower. Proceeds go out in one transfer per payee and asset.
    /// Ed25519 vouchers are verified in one batch check.
    ClaimBatch {
        /// The vouchers, each for a different channel.
        claims: Vec<BatchClaim>,
        /// Where the proceeds go (default: each payee on this chain). An IBC
        /// payout is allowed only when the sender is the payee of every
        /// claimed channel and every channel holds a native denom: one
        /// ICS-20 transfer per denom, each with its own `payout_id`.
        #[serde(default)]
        payout: Option<Payout>,
    },
    /// The payee (or its watchtower) registers a hashlocked voucher with an
    /// expiry that it cannot redeem yet (the secret is not public): the
    /// channel cannot be finalized before the voucher's expiry, so a close
    /// the payer starts cannot cut off the claim. A hub forwarding a payment
    /// lodges its upstream voucher when the payer starts a close.
    LodgeVoucher {
        /// The channel.
        channel_id: u64,
        /// The hashlocked voucher, with its expiry, signed by the payer.
        voucher: SignedVoucher,
    },
    /// The payee closes now: redeems the optional voucher, then refunds the
    /// rest of the deposit to the payer (cooperative close).
    Close {
        /// The channel to close.
        channel_id: u64,
        /// A final voucher to redeem first, if any.
        voucher: Option<SignedVoucher>,
        /// The hashlock preimage, if the voucher has a hashlock.
        preimage: Option<HexBinary>,
        /// Where the final voucher's proceeds go.
        payout: Option<Payout>,
    },
    /// The payer starts a close: the challenge period begins (and lasts at
    /// least until a lodged voucher's expiry), during which the payee or its
    /// watchtower can still claim.
    StartClose {
        /// The channel to close.
        channel_id: u64,
    },
    /// Anyone, after the challenge period: refunds what was not claimed to
    /// the payer and closes the channel.
    Finalize {
        /// The channel to finalize.
        channel_id: u64,
    },
    /// The payee lets `watchtower` claim on all its channels (proceeds still go to the payee).
    AuthorizeWatchtower {
        /// The watchtower's address.
        watchtower: String,
    },
    /// The payee withdraws a watchtower's authorization.
    RevokeWatchtower {
        /// The watchtower's address.
        watchtower: String,
    },
    /// The payee withdraws IBC payouts that failed and were refunded here.
    WithdrawCredit {
        /// The native denom to withdraw.
        denom: String,
    },
    /// The payee settles one of its IBC payouts as delivered (for instance
    /// when its callback never arrived): it then counts as paid. This never
    /// credits anything; a refund that still arrives is credited.
    ConfirmPayout {
        /// The payout.
        payout_id: u64,
    },
    /// The sender lets ICS-20 transfers from `sender` on the hub, arriving
    /// over `channel`, open and top up channels in its name (`HubDeposit`).
    AuthorizeHubSender {
        /// The ICS-20 channel on this chain the transfers arrive on.
        channel: String,
        /// The sender's address on the hub, as the transfer names it.
        sender: String,
    },
    /// Withdraws an `authorize_hub_sender`.
    RevokeHubSender {
        /// The ICS-20 channel on this chain.
        channel: String,
        /// The sender's address on the hub.
        sender: String,
    },
    /// Owner only: changes the challenge-period bounds or the batch limit.
    UpdateConfig {
        /// New shortest challenge period, seconds.
        min_challenge_period: Option<u64>,
        /// New longest challenge period, seconds.
        max_challenge_period: Option<u64>,
        /// New batch limit, 1 to 50.
        max_batch_size: Option<u32>,
    },
    /// Owner only: the cw20 contracts whose `send` may fund channels, and
    /// the ICS-20 channels IBC payouts and hub deposits may use.
    UpdateAllowlists {
        /// cw20 contracts to accept.
        #[serde(default)]
        add_cw20s: Vec<String>,
        /// cw20 contracts to stop accepting (their open channels keep working).
        #[serde(default)]
        remove_cw20s: Vec<String>,
        /// ICS-20 channels (`channel-<n>`) to allow.
        #[serde(default)]
        add_ibc_channels: Vec<String>,
        /// ICS-20 channels to stop using.
        #[serde(default)]
        remove_ibc_channels: Vec<String>,
    },
    /// Owner only: sends tokens no bookkeeping owns (sent to the contract
    /// directly, or an IBC refund whose callback failed) to `recipient`:
    /// at most the balance minus everything reserved for channels and credits.
    Sweep {
        /// The asset to sweep.
        asset: AssetInfoUnchecked,
        /// Who receives it.
        recipient: String,
    },
}

#[cw_ownable_query]
#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    /// The configuration.
    #[returns(ConfigResponse)]
    Config {},
    /// One channel.
    #[returns(ChannelResponse)]
    Channel {
        /// The channel id.
        channel_id: u64,
    },
    /// Channels a payer funded, by id.
    #[returns(ChannelsResponse)]
    ChannelsByPayer {
        /// The payer's address.
        payer: String,
        /// Return channels with ids above this one.
        start_after: Option<u64>,
        /// Page size, default 10, max 30.
        limit: Option<u32>,
    },
    /// Channels a payee accepted (redeemed a voucher on), by id. Channels
    /// nobody claimed yet are listed by their payer only, so channels opened
    /// unasked cannot crowd a payee's list.
    #[returns(ChannelsResponse)]
    ChannelsByPayee {
        /// The payee's address.
        payee: String,
        /// Return channels with ids above this one.
        start_after: Option<u64>,
        /// Page size, default 10, max 30.
        limit: Option<u32>,
    },
    /// The purchase-verifier interface: what `payer` has paid `payee` in
    /// `asset`, counting only what the payee received (IBC payouts count
    /// once acknowledged or refunded to the payee's credit).
    #[returns(wevalue_common::purchase::TotalPaidResponse)]
    TotalPaid {
        /// The buyer's address.
        payer: String,
        /// The seller's address.
        payee: String,
        /// The asset to total.
        asset: AssetInfo,
    },
    /// The purchase-verifier interface: what `payee` received, per asset, on
    /// channels `payer` opened for listing `listing_id` of `registry`.
    #[returns(wevalue_common::purchase::PaidForListingResponse)]
    PaidForListing {
        /// The buyer's address.
        payer: String,
        /// The seller's address.
        payee: String,
        /// The data registry.
        registry: String,
        /// The listing's id in that registry.
        listing_id: u64,
    },
    /// The exact bytes (and digest, and ADR-036 sign doc) a payer signs for
    /// a voucher on this channel, so a client can check its encoding.
    #[returns(SignBytesResponse)]
    VoucherSignBytes {
        /// The channel id.
        channel_id: u64,
        /// Cumulative amount.
        amount: Uint128,
        /// Optional sha256 hashlock, exactly 32 bytes (64 hex digits).
        hashlock: Option<Hashlock>,
        /// Optional expiry, unix seconds.
        expiry: Option<u64>,
    },
    /// Watchtowers a payee authorized.
    #[returns(WatchtowersResponse)]
    Watchtowers {
        /// The payee's address.
        payee: String,
        /// Return watchtowers after this address.
        start_after: Option<String>,
        /// Page size, default 10, max 30.
        limit: Option<u32>,
    },
    /// An IBC payout not settled yet.
    #[returns(PayoutResponse)]
    Payout {
        /// The payout id (from the claim's `payout_id` attribute).
        payout_id: u64,
    },
    /// Failed IBC payouts credited back to a payee.
    #[returns(CreditResponse)]
    Credit {
        /// The payee's address.
        payee: String,
        /// The native denom.
        denom: String,
    },
    /// The hub senders a payer authorized (`authorize_hub_sender`).
    #[returns(HubSendersResponse)]
    HubSenders {
        /// The payer's address.
        payer: String,
        /// Return entries after this (channel, sender).
        start_after: Option<HubSender>,
        /// Page size, default 10, max 30.
        limit: Option<u32>,
    },
    /// Accepted cw20 contracts.
    #[returns(Cw20AllowlistResponse)]
    AcceptedCw20s {
        /// Return contracts after this address.
        start_after: Option<String>,
        /// Page size, default 10, max 30.
        limit: Option<u32>,
    },
    /// ICS-20 channels IBC payouts and hub deposits may use.
    #[returns(IbcChannelsResponse)]
    IbcChannels {
        /// Return channels after this one.
        start_after: Option<String>,
        /// Page size, default 10, max 30.
        limit: Option<u32>,
    },
    /// What the contract holds of an asset against what it reserves for
    /// channels and credits, and what a sweep could move.
    #[returns(ReservesResponse)]
    Reserves {
        /// The asset.
        asset: AssetInfo,
    },
}

#[cw_serde]
pub struct MigrateMsg {}
