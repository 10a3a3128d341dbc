use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Binary, HexBinary, Timestamp, Uint128};
use cw20::Cw20ReceiveMsg;
use cw_ownable::{cw_ownable_execute, cw_ownable_query};
use wevalue_common::asset::AssetInfo;
pub use wevalue_voucher::VoucherScheme;

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

/// What opening a channel registers; the funds come with the message
/// (exactly one native coin) or through a cw20 `send`.
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
}

/// A voucher as the payee submits it: the fields the payer signed that the
/// contract cannot know, plus the signature. Chain id, contract and channel
/// id come from the chain and the message, so a voucher signed for another
/// chain, instance or channel fails verification.
#[cw_serde]
pub struct SignedVoucher {
    /// Cumulative amount owed to the payee on this channel.
    pub amount: Uint128,
    /// sha256 hashlock (32 bytes) if the voucher is conditional.
    pub hashlock: Option<HexBinary>,
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
    /// denoms only). Only the payee may choose this. If the transfer fails
    /// (error acknowledgement or timeout) the refund is credited to the
    /// payee here, to withdraw with `withdraw_credit`.
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
    /// Opens a channel funded with the cw20 tokens sent.
    Open(OpenChannel),
    /// Adds the cw20 tokens sent to an open channel (payer only).
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
    /// Opens or tops up a channel with cw20 tokens (`ReceiveMsg`).
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
        /// The hashlock preimage, if the voucher has a hashlock.
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
    /// The payer starts a close: the challenge period begins, during which
    /// the payee (or its watchtower) can still claim.
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
    /// Owner only, for chains whose transfer stack lacks the IBC callbacks
    /// middleware: settles an in-flight IBC payout whose timeout has passed,
    /// as delivered or as refunded (then credited to the payee).
    ResolvePayout {
        /// The in-flight payout.
        payout_id: u64,
        /// True if the transfer arrived, false if it was refunded.
        delivered: bool,
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
    /// Channels paying a payee, by id.
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
    /// once acknowledged).
    #[returns(wevalue_common::purchase::TotalPaidResponse)]
    TotalPaid {
        /// The buyer's address.
        payer: String,
        /// The seller's address.
        payee: String,
        /// The asset to total.
        asset: AssetInfo,
    },
    /// The exact bytes (and digest, and ADR-036 sign doc) a payer signs for
    /// a voucher on this channel, so a client can check its encoding.
    #[returns(SignBytesResponse)]
    VoucherSignBytes {
        /// The channel id.
        channel_id: u64,
        /// Cumulative amount.
        amount: Uint128,
        /// Optional sha256 hashlock, 32 bytes.
        hashlock: Option<HexBinary>,
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
    /// An in-flight IBC payout.
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
}

#[cw_serde]
pub struct MigrateMsg {}

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
        /// When the challenge period ends.
        finalize_after: Timestamp,
    },
    /// Settled: the remainder went back to the payer.
    Closed,
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
    pub amount: cosmwasm_std::Coin,
    /// The ICS-20 channel.
    pub ibc_channel: String,
    /// The receiver on the other chain.
    pub receiver: String,
    /// When the packet times out.
    pub timeout: Timestamp,
}

#[cw_serde]
pub struct CreditResponse {
    /// Refunded IBC payouts the payee can withdraw.
    pub amount: Uint128,
}
