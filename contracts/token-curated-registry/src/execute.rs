//! Instantiation, payments (native and the cw20 hook), shared loaders and
//! governance.

use cosmwasm_std::{
    ensure, from_json, Addr, Deps, DepsMut, Env, MessageInfo, Response, Storage, Uint128,
};
use cw20::Cw20ReceiveMsg;
use cw_utils::{must_pay, nonpayable};
use wevalue_common::asset::{Asset, AssetInfo};

use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::error::ContractError;
use crate::msg::{InstantiateMsg, ParamsUpdate, ReceiveMsg};
use crate::state::{
    Listing, Params, Poll, Tally, CONFIG, DUST, LISTINGS, NEXT_POLL_ID, PARAMS, POLLS, TALLIES,
};
use crate::{listing, voting};

/// Longest period a parameter may set: one year.
pub const MAX_PERIOD_SECS: u64 = 365 * 24 * 3600;
/// Longest subject id.
pub const SUBJECT_MAX: usize = 128;
/// Longest CID accepted for application data and challenge reasons.
pub const CID_MAX: usize = 128;

pub fn instantiate(
    deps: DepsMut,
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
    NEXT_POLL_ID.save(deps.storage, &1)?;
    DUST.save(deps.storage, &Uint128::zero())?;
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("stake", stake.to_string())
        .add_attributes(ownership.into_attributes()))
}

pub fn check_params(p: &Params) -> Result<(), ContractError> {
    let period = |param, secs: u64, min| -> Result<(), ContractError> {
        ensure!(
            secs >= min,
            ContractError::InvalidParam {
                param,
                reason: "must be at least one second"
            }
        );
        ensure!(
            secs <= MAX_PERIOD_SECS,
            ContractError::InvalidParam {
                param,
                reason: "must be at most one year"
            }
        );
        Ok(())
    };
    ensure!(
        !p.min_deposit.is_zero(),
        ContractError::InvalidParam {
            param: "min_deposit",
            reason: "must be greater than zero"
        }
    );
    period("apply_stage_secs", p.apply_stage_secs, 1)?;
    period("commit_stage_secs", p.commit_stage_secs, 1)?;
    period("reveal_stage_secs", p.reveal_stage_secs, 1)?;
    period("exit_delay_secs", p.exit_delay_secs, 0)?;
    for (param, pct) in [
        ("dispensation_pct", p.dispensation_pct),
        ("vote_quorum_pct", p.vote_quorum_pct),
    ] {
        ensure!(
            pct <= 100,
            ContractError::InvalidParam {
                param,
                reason: "must be a percentage, 0 to 100"
            }
        );
    }
    Ok(())
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
            listing::challenge(deps, env, sender, amount, subject, reason)
        }
        ReceiveMsg::DepositVotingTokens {} => voting::deposit_voting_tokens(deps, sender, amount),
    }
}

/// A stake transfer from the contract.
pub fn stake_asset(storage: &dyn Storage, amount: Uint128) -> Result<Asset, ContractError> {
    Ok(CONFIG.load(storage)?.stake.with_amount(amount))
}

pub fn check_subject(subject: &str) -> Result<(), ContractError> {
    let err = |reason| ContractError::InvalidSubject {
        subject: subject.to_string(),
        reason,
    };
    ensure!(!subject.is_empty(), err("must not be empty"));
    ensure!(
        subject.len() <= SUBJECT_MAX,
        err("must be at most 128 characters")
    );
    ensure!(
        subject.bytes().all(|b| b.is_ascii_graphic()),
        err("only printable ASCII without spaces is allowed")
    );
    Ok(())
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

pub fn update_params(
    deps: DepsMut,
    info: MessageInfo,
    update: ParamsUpdate,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    let mut p = PARAMS.load(deps.storage)?;
    let before = p.clone();
    let ParamsUpdate {
        min_deposit,
        apply_stage_secs,
        commit_stage_secs,
        reveal_stage_secs,
        dispensation_pct,
        vote_quorum_pct,
        exit_delay_secs,
    } = update;
    p.min_deposit = min_deposit.unwrap_or(p.min_deposit);
    p.apply_stage_secs = apply_stage_secs.unwrap_or(p.apply_stage_secs);
    p.commit_stage_secs = commit_stage_secs.unwrap_or(p.commit_stage_secs);
    p.reveal_stage_secs = reveal_stage_secs.unwrap_or(p.reveal_stage_secs);
    p.dispensation_pct = dispensation_pct.unwrap_or(p.dispensation_pct);
    p.vote_quorum_pct = vote_quorum_pct.unwrap_or(p.vote_quorum_pct);
    p.exit_delay_secs = exit_delay_secs.unwrap_or(p.exit_delay_secs);
    ensure!(p != before, ContractError::EmptyUpdate);
    check_params(&p)?;
    PARAMS.save(deps.storage, &p)?;
    Ok(Response::new()
        .add_attribute("action", "update_params")
        .add_attribute("min_deposit", p.min_deposit)
        .add_attribute("apply_stage_secs", p.apply_stage_secs.to_string())
        .add_attribute("commit_stage_secs", p.commit_stage_secs.to_string())
        .add_attribute("reveal_stage_secs", p.reveal_stage_secs.to_string())
        .add_attribute("dispensation_pct", p.dispensation_pct.to_string())
        .add_attribute("vote_quorum_pct", p.vote_quorum_pct.to_string())
        .add_attribute("exit_delay_secs", p.exit_delay_secs.to_string()))
}

pub fn sweep_dust(
    deps: DepsMut,
    info: MessageInfo,
    recipient: String,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    let recipient_addr = deps.api.addr_validate(&recipient)?;
    let dust = DUST.load(deps.storage)?;
    ensure!(!dust.is_zero(), ContractError::NoDust);
    DUST.save(deps.storage, &Uint128::zero())?;
    let transfer = stake_asset(deps.storage, dust)?.transfer_msg(&recipient_addr)?;
    Ok(Response::new()
        .add_message(transfer)
        .add_attribute("action", "sweep_dust")
        .add_attribute("recipient", recipient_addr)
        .add_attribute("amount", dust))
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
