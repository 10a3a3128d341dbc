//! State migrations between contract versions.
//!
//! Version 0.1.0 is the first layout, so there is nothing to convert yet;
//! every migration first refuses another contract's state and downgrades.
//! (The claim-page layout of `state.rs` replaced an earlier split of each
//! channel into parameters and mutable state before the first release: no
//! instance ever held the old layout, so it has no migration.)

use cosmwasm_std::{DepsMut, Response};
use wevalue_common::migration::ensure_upgrade;

use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::error::ContractError;

pub fn migrate(deps: DepsMut) -> Result<Response, ContractError> {
    let from = ensure_upgrade(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    Ok(Response::new()
        .add_attribute("action", "migrate")
        .add_attribute("from_version", from.to_string())
        .add_attribute("to_version", CONTRACT_VERSION))
}
