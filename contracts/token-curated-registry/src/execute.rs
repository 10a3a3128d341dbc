//! Instantiation, payments (native and the cw20 hook), shared loaders, the
//! owner's treasury sweep and ownership.

use cosmwasm_std::{
    ensure, from_json, Addr, Deps, DepsMut, Env, MessageInfo, Response, Storage, Uint128,
};
use cw20::Cw20ReceiveMsg;
use cw_utils::{must_pay, nonpayable};
use wevalue_common::asset::{Asset, AssetInfo};

use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::error::ContractError;
use crate::msg::{InstantiateMsg, ReceiveMsg};
use crate::params::check_params;
use crate::state::{
    Listing, MinDepositFloor, Poll, Tally, CONFIG, DUST, FORFEITED, LISTINGS, MIN_DEPOSIT_FLOOR,
    NEXT_POLL_ID, PARAMS, POLLS, TALLIES,
};
use crate::{challenge, listing, voting};

/// Longest CID accepted for application data and challenge reasons.
pub const CID_MAX: usize = 128;

pub fn instantiate(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    let owner = msg.owner.unwrap_or_else(|| info.sender.to_string());
    let ownership = cw_ownable::initialize_owner(deps.storage, deps.api, Some(&owner))?;
    let stake = msg.stake.check(deps.api)?;
    check_params(&msg.params)?;
    CONFIG.save(
        deps.storage,
        &crate::state::Config {
            stake: stake.clone(),
        },
    )?;
    PARAMS.save(deps.storage, &msg.params)?;
    MIN_DEPOSIT_FLOOR.save(
        deps.storage,
        &MinDepositFloor::flat(msg.params.min_deposit, env.block.time),
    )?;
    NEXT_POLL_ID.save(deps.storage, &1)?;
    DUST.save(deps.storage, &Uint128::zero())?;
    FORFEITED.save(deps.storage, &Uint128::zero())?;
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("stake", stake.to_string())
        .add_attributes(ownership.into_attributes()))
}

/// The native stake attached to a message (the stake must be native).
pub fn native_payment(deps: Deps, info: &MessageInfo) -> Result<Uint128, ContractError> {
    match CONFIG.load(deps.storage)?.stake {
        AssetInfo::Native(denom) => Ok(must_pay(info, &denom)?),
        AssetInfo::Cw20(token) => Err(ContractError::Cw20Only {
            token: token.into_string(),
        }),
    }
}

/// A cw20 `send` of the stake token: checks the token, then dispatches the hook.
pub fn receive(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    wrapper: Cw20ReceiveMsg,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    match CONFIG.load(deps.storage)?.stake {
        AssetInfo::Native(denom) => return Err(ContractError::NativeOnly { denom }),
        AssetInfo::Cw20(token) => ensure!(
            info.sender == token,
            ContractError::WrongToken {
                token: info.sender.into_string(),
                expected: token.into_string(),
            }
        ),
    }
    let sender = deps.api.addr_validate(&wrapper.sender)?;
    let amount = wrapper.amount;
    ensure!(!amount.is_zero(), ContractError::ZeroAmount);
    match from_json(&wrapper.msg)? {
        ReceiveMsg::Apply { subject, data } => {
            listing::apply(deps, env, sender, amount, subject, data)
        }
        ReceiveMsg::Deposit { subject } => listing::deposit(deps, sender, amount, subject),
        ReceiveMsg::Challenge { subject, reason } => {
            challenge::challenge(deps, env, sender, amount, subject, reason)
        }
        ReceiveMsg::DepositVotingTokens {} => voting::deposit_voting_tokens(deps, sender, amount),
    }
}

/// A stake transfer from the contract.
pub fn stake_asset(storage: &dyn Storage, amount: Uint128) -> Result<Asset, ContractError> {
    Ok(CONFIG.load(storage)?.stake.with_amount(amount))
}

/// A structural CID check: CIDv0 (`Qm` + 44 base58 characters) or a
/// multibase CIDv1 in base32 (`b…`) or base58btc (`z…`).
pub fn check_cid(cid: &str) -> Result<(), ContractError> {
    let err = |reason| ContractError::InvalidCid {
        cid: cid.to_string(),
        reason,
    };
    const BASE58: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let base58 = |s: &str| s.chars().all(|c| BASE58.contains(c));
    if let Some(rest) = cid.strip_prefix("Qm") {
        ensure!(cid.len() == 46, err("a CIDv0 is 46 characters"));
        ensure!(base58(rest), err("a CIDv0 is base58"));
    } else if let Some(rest) = cid.strip_prefix('b') {
        ensure!(
            (10..=CID_MAX).contains(&cid.len()),
            err("a CIDv1 is 10 to 128 characters")
        );
        ensure!(
            rest.chars()
                .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c)),
            err("a base32 CIDv1 uses a-z and 2-7")
        );
    } else if let Some(rest) = cid.strip_prefix('z') {
        ensure!(
            (10..=CID_MAX).contains(&cid.len()),
            err("a CIDv1 is 10 to 128 characters")
        );
        ensure!(base58(rest), err("a base58 CIDv1 is base58"));
    } else {
        return Err(err("must be a CIDv0 (Qm…) or a CIDv1 (b… or z…)"));
    }
    Ok(())
}

pub fn load_listing(storage: &dyn Storage, subject: &str) -> Result<Listing, ContractError> {
    LISTINGS
        .may_load(storage, subject)?
        .ok_or_else(|| ContractError::ListingNotFound {
            subject: subject.to_string(),
        })
}

pub fn load_poll(storage: &dyn Storage, poll_id: u64) -> Result<Poll, ContractError> {
    POLLS
        .may_load(storage, poll_id)?
        .ok_or(ContractError::PollNotFound { poll_id })
}

pub fn load_tally(storage: &dyn Storage, poll_id: u64) -> Result<Tally, ContractError> {
    TALLIES
        .may_load(storage, poll_id)?
        .ok_or(ContractError::PollNotFound { poll_id })
}

pub fn load_owned(
    storage: &dyn Storage,
    subject: &str,
    sender: &Addr,
) -> Result<Listing, ContractError> {
    let listing = load_listing(storage, subject)?;
    ensure!(
        listing.owner == *sender,
        ContractError::NotListingOwner {
            subject: subject.to_string()
        }
    );
    Ok(listing)
}

/// The stake an open challenge holds of the listing's deposit.
pub fn held(storage: &dyn Storage, listing: &Listing) -> Result<Uint128, ContractError> {
    Ok(match listing.challenge_id {
        Some(id) => load_poll(storage, id)?.stake,
        None => Uint128::zero(),
    })
}

/// Sends the owner's treasury accounts, rounding dust and stakes forfeited
/// by unrevealed votes, to `recipient`.
pub fn sweep_dust(
    deps: DepsMut,
    info: MessageInfo,
    recipient: String,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    let recipient_addr = deps.api.addr_validate(&recipient)?;
    let dust = DUST.load(deps.storage)?;
    let forfeited = FORFEITED.load(deps.storage)?;
    let amount = dust + forfeited;
    ensure!(!amount.is_zero(), ContractError::NoDust);
    DUST.save(deps.storage, &Uint128::zero())?;
    FORFEITED.save(deps.storage, &Uint128::zero())?;
    let transfer = stake_asset(deps.storage, amount)?.transfer_msg(&recipient_addr)?;
    Ok(Response::new()
        .add_message(transfer)
        .add_attribute("action", "sweep_dust")
        .add_attribute("recipient", recipient_addr)
        .add_attribute("amount", amount)
        .add_attribute("dust", dust)
        .add_attribute("forfeited", forfeited))
}

pub fn update_ownership(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    action: cw_ownable::Action,
) -> Result<Response, ContractError> {
    wevalue_common::ownership::update_ownership(deps, &env.block, &info, action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cids_are_checked() {
        check_cid("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG").unwrap();
        check_cid("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi").unwrap();
        for bad in [
            "",
            "Qm0",
            "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbd0",
            "bAFY1234567",
            "x123456789",
        ] {
            assert!(
                matches!(check_cid(bad), Err(ContractError::InvalidCid { .. })),
                "{bad}"
            );
        }
    }
}
