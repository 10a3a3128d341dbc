//! `[watchtower]` configuration: where the API listens, whom it serves,
//! when to settle, and where claimed funds go.

use std::net::SocketAddr;

use cosmwasm_std::Uint128;
use serde::{Deserialize, Serialize};

/// The contract's batch limit.
pub const MAX_BATCH: u32 = 50;

/// Where claimed funds go.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PayoutConfig {
    /// To the payee on this chain.
    #[default]
    Local,
    /// An ICS-20 transfer from the contract (native denoms, channels whose
    /// payee is this relayer's signer).
    Ibc {
        /// ICS-20 channel on this chain (`channel-<n>`).
        channel: String,
        /// Receiver on the other chain.
        receiver: String,
        /// Packet timeout from the claim, 60 to 604,800 seconds.
        timeout_seconds: u64,
    },
}

/// `[watchtower]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchtowerConfig {
    /// Serve the watchtower at all.
    pub enabled: bool,
    /// Loopback address of the voucher API (port 0 picks a free one).
    pub listen: SocketAddr,
    /// Payment-channel contract address; empty = the deployed `payment-channel`.
    pub contract: String,
    /// Payees whose vouchers are accepted (they must authorize this
    /// relayer's signer with `authorize_watchtower` unless it is the payee);
    /// empty = the relayer's own signer.
    pub payees: Vec<String>,
    /// Settle a channel once its unclaimed amount reaches this (base units).
    pub min_amount: Uint128,
    /// Settle a channel once its oldest unsettled voucher is this old.
    pub max_age_seconds: u64,
    /// Vouchers per `claim_batch`, 1 to 50 (and at most the contract's limit).
    pub max_batch: u32,
    /// How often to follow events, in milliseconds.
    pub poll_interval_ms: u64,
    /// How often to run a settlement round, in seconds.
    pub settle_interval_seconds: u64,
    /// Blocks scanned per event poll.
    pub max_blocks_per_poll: u64,
    /// Height to start following from on the first start (no stored
    /// cursor); unset = the latest height then.
    pub start_height: Option<u64>,
    /// Vouchers expiring within this many seconds are not claimed (a claim
    /// would likely land too late); a close whose challenge period ends
    /// within it is logged as at risk.
    pub close_safety_margin_seconds: u64,
    /// Where claimed funds go.
    pub payout: PayoutConfig,
    /// Largest request body the API accepts, in bytes.
    pub max_body_bytes: usize,
}

impl Default for WatchtowerConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 8788)),
            contract: String::new(),
            payees: vec![],
            min_amount: Uint128::new(1_000_000),
            max_age_seconds: 3_600,
            max_batch: MAX_BATCH,
            poll_interval_ms: 1_000,
            settle_interval_seconds: 30,
            max_blocks_per_poll: 500,
            start_height: None,
            close_safety_margin_seconds: 30,
            payout: PayoutConfig::Local,
            max_body_bytes: 16 * 1024,
        }
    }
}

impl WatchtowerConfig {
    /// Names every bad field.
    pub fn problems(&self) -> Vec<String> {
        let mut out = vec![];
        if !self.listen.ip().is_loopback() {
            out.push(format!(
                "watchtower.listen {} is not a loopback address",
                self.listen
            ));
        }
        if self.max_batch == 0 || self.max_batch > MAX_BATCH {
            out.push(format!("watchtower.max_batch must be 1 to {MAX_BATCH}"));
        }
        if self.poll_interval_ms == 0 {
            out.push("watchtower.poll_interval_ms must be positive".into());
        }
        if let PayoutConfig::Ibc {
            channel,
            receiver,
            timeout_seconds,
        } = &self.payout
        {
            if !channel.starts_with("channel-") {
                out.push("watchtower.payout.channel must look like channel-<n>".into());
            }
            if receiver.is_empty() {
                out.push("watchtower.payout.receiver is empty".into());
            }
            if !(60..=604_800).contains(timeout_seconds) {
                out.push("watchtower.payout.timeout_seconds must be 60 to 604800".into());
            }
        }
        out
    }
}
