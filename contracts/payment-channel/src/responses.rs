//! Query responses (re-exported from `msg`).

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Binary, Coin, Timestamp, Uint128};
use wevalue_common::asset::AssetInfo;
use wevalue_voucher::VoucherScheme;

#[cw_serde]
pub struct ConfigResponse {
    /// Shortest challenge period, seconds.
    pub min_challenge_period: u64,
    /// Longest challenge period, seconds.
    pub max_challenge_period: u64,
    /// Most vouchers per batch claim.
    pub max_batch_size: u32,
}

/// Where a channel is in its life.
#[cw_serde]
pub enum ChannelStatus {
    /// Vouchers can be claimed and the deposit topped up.
    Open,
    /// The payer started a close; claims are accepted until `finalize_after`,
    /// when anyone may finalize.
    Closing {
        /// When the challenge period ends (never before a lodged voucher's expiry).
        finalize_after: Timestamp,
    },
    /// Settled: the remainder went back to the payer.
    Closed,
}

/// The listing a channel buys.
#[cw_serde]
pub struct ListingResponse {
    /// The data registry.
    pub registry: Addr,
    /// The listing's id there.
    pub listing_id: u64,
}

#[cw_serde]
pub struct ChannelResponse {
    /// The channel id.
    pub id: u64,
    /// Who funds the channel.
    pub payer: Addr,
    /// Who the vouchers pay.
    pub payee: Addr,
    /// The channel's asset.
    pub asset: AssetInfo,
    /// The registered voucher-signing key.
    pub pubkey: Binary,
    /// The signature scheme.
    pub scheme: VoucherScheme,
    /// Challenge period, seconds.
    pub challenge_period: u64,
    /// Everything deposited so far.
    pub deposit: Uint128,
    /// Cumulative amount redeemed (the highest voucher claimed).
    pub claimed: Uint128,
    /// Still held for the channel: deposit minus claimed (zero once closed).
    pub balance: Uint128,
    /// The lifecycle state.
    pub status: ChannelStatus,
    /// Whether the payee has redeemed a voucher on it (it then has a claim
    /// slot and is listed by `channels_by_payee`).
    pub accepted: bool,
    /// The latest expiry of a voucher the payee lodged: a close cannot be
    /// finalized before it.
    pub hold_until: Option<Timestamp>,
    /// The listing the channel buys, if it names one.
    pub listing: Option<ListingResponse>,
}

#[cw_serde]
pub struct ChannelsResponse {
    /// One page of channels, by id.
    pub channels: Vec<ChannelResponse>,
}

#[cw_serde]
pub struct SignBytesResponse {
    /// The voucher's sign bytes (see the `wevalue-voucher` crate).
    pub sign_bytes: Binary,
    /// What the signature is checked against: sha256 of the sign bytes
    /// (secp256k1), sha256 of the ADR-036 sign doc (adr036), or the sign
    /// bytes themselves (ed25519).
    pub signed_message: Binary,
    /// The ADR-036 amino sign doc, for `adr036` channels.
    pub adr036_sign_doc: Option<String>,
    /// The ADR-036 signer (bech32 account of the registered key).
    pub adr036_signer: Option<Addr>,
}

#[cw_serde]
pub struct WatchtowersResponse {
    /// One page of watchtower addresses.
    pub watchtowers: Vec<Addr>,
}

#[cw_serde]
pub struct PayoutResponse {
    /// The payout id.
    pub id: u64,
    /// The channel it was claimed from (the first channel of its denom, for
    /// a batch claim's payout).
    pub channel_id: u64,
    /// The payee it belongs to.
    pub payee: Addr,
    /// The amount sent.
    pub amount: Coin,
    /// The ICS-20 channel.
    pub ibc_channel: String,
    /// The packet's sequence on that channel (from the transfer's reply):
    /// callbacks are matched to the payout by (channel, sequence).
    pub sequence: u64,
    /// The receiver on the other chain.
    pub receiver: String,
    /// When the packet times out (the counterparty's clock decides).
    pub timeout: Timestamp,
    /// Whether the payee confirmed it as delivered (then it counts as paid).
    pub confirmed: bool,
}

#[cw_serde]
pub struct CreditResponse {
    /// Refunded IBC payouts the payee can withdraw.
    pub amount: Uint128,
}

/// A hub sender a payer authorized.
#[cw_serde]
pub struct HubSender {
    /// The ICS-20 channel on this chain.
    pub channel: String,
    /// The sender's address on the hub.
    pub sender: String,
}

#[cw_serde]
pub struct HubSendersResponse {
    /// One page of (channel, sender), ordered.
    pub senders: Vec<HubSender>,
}

#[cw_serde]
pub struct Cw20AllowlistResponse {
    /// One page of accepted cw20 contracts.
    pub cw20s: Vec<Addr>,
}

#[cw_serde]
pub struct IbcChannelsResponse {
    /// One page of allowed ICS-20 channels.
    pub channels: Vec<String>,
}

#[cw_serde]
pub struct ReservesResponse {
    /// The contract's balance of the asset.
    pub balance: Uint128,
    /// What it reserves: the deposits of channels not closed (claimed
    /// amounts included until they close) plus credits not withdrawn. This
    /// bounds what the contract owes from above.
    pub reserved: Uint128,
    /// What `sweep` could move now: balance minus reserved, or zero.
    pub sweepable: Uint128,
}
