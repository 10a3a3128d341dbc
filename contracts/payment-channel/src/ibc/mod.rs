//! The IBC trust boundary: payouts sent over ICS-20 and what their
//! callbacks may change (`payout`), and deposits arriving from the hub in
//! an ICS-20 transfer with a destination callback (`deposit`). Both use only
//! ICS-20 channels the owner allowlisted.

pub mod deposit;
pub mod payout;

use cosmwasm_std::{ensure, Storage};

use crate::error::ContractError;
use crate::state::IBC_CHANNELS;

/// The port ICS-20 is bound to on this chain (and on the hub).
pub const TRANSFER_PORT: &str = "transfer";

/// Whether `channel` has the shape of an IBC channel id, `channel-<n>`.
pub fn is_channel_id(channel: &str) -> bool {
    channel
        .strip_prefix("channel-")
        .is_some_and(|n| !n.is_empty() && n.len() <= 20 && n.bytes().all(|b| b.is_ascii_digit()))
}

pub fn check_channel_id(channel: &str) -> Result<(), ContractError> {
    ensure!(
        is_channel_id(channel),
        ContractError::InvalidIbcPayout {
            reason: format!("{channel:?} is not an ICS-20 channel id (channel-<n>)"),
        }
    );
    Ok(())
}

/// A well-formed channel the owner allowlisted.
pub fn ensure_allowed(storage: &dyn Storage, channel: &str) -> Result<(), ContractError> {
    check_channel_id(channel)?;
    ensure!(
        IBC_CHANNELS.has(storage, channel),
        ContractError::IbcChannelNotAllowed {
            channel: channel.to_string()
        }
    );
    Ok(())
}
