//! The listing lifecycle: applications, deposits, withdrawals, exits, and
//! `update_status` (listing an application, or resolving a challenge).

use cosmwasm_std::{ensure, Addr, DepsMut, Env, MessageInfo, Response, Uint128};
use cw_utils::nonpayable;

use crate::challenge::resolve;
use crate::error::ContractError;
use crate::execute::{check_cid, held, load_listing, load_owned, load_poll, stake_asset};
use crate::state::{Listing, LISTINGS, PARAMS};
use crate::subject::{check_subject, Subject};

pub fn apply(
    deps: DepsMut,
    env: Env,
    sender: Addr,
    amount: Uint128,
    subject: String,
    data: String,
) -> Result<Response, ContractError> {
    // An address subject is a seller applying for itself; nobody may squat it.
    if let Subject::Address(addr) = check_subject(deps.api, &subject)? {
        ensure!(sender == addr, ContractError::NotSubject { subject });
    }
    check_cid(&data)?;
    ensure!(
        !LISTINGS.has(deps.storage, &subject),
        ContractError::AlreadyApplied { subject }
    );
    let params = PARAMS.load(deps.storage)?;
    ensure!(
        amount >= params.min_deposit,
        ContractError::DepositTooLow {
            received: amount,
            min_deposit: params.min_deposit
        }
    );
    let application_end = env.block.time.plus_seconds(params.apply_stage_secs);
    let listing = Listing {
        owner: sender.clone(),
        data,
        whitelisted: false,
        deposit: amount,
        application_end,
        listed_since: None,
        challenge_id: None,
        exit_at: None,
        challenges_survived: 0,
        last_survived: None,
    };
    LISTINGS.save(deps.storage, &subject, &listing)?;
    Ok(Response::new()
        .add_attribute("action", "apply")
        .add_attribute("subject", subject)
        .add_attribute("owner", sender)
        .add_attribute("deposit", amount)
        .add_attribute("application_end", application_end.seconds().to_string()))
}

pub fn deposit(
    deps: DepsMut,
    sender: Addr,
    amount: Uint128,
    subject: String,
) -> Result<Response, ContractError> {
    let mut listing = load_owned(deps.storage, &subject, &sender)?;
    listing.deposit += amount;
    LISTINGS.save(deps.storage, &subject, &listing)?;
    Ok(Response::new()
        .add_attribute("action", "deposit")
        .add_attribute("subject", subject)
        .add_attribute("amount", amount)
        .add_attribute("deposit", listing.deposit))
}

pub fn withdraw(
    deps: DepsMut,
    info: MessageInfo,
    subject: String,
    amount: Uint128,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    ensure!(!amount.is_zero(), ContractError::ZeroAmount);
    let mut listing = load_owned(deps.storage, &subject, &info.sender)?;
    // The current `min_deposit`, not the one in force: during the grace
    // period of an increase a seller may not withdraw below what it will
    // soon need.
    let min_deposit = PARAMS.load(deps.storage)?.min_deposit;
    let free = listing.deposit - held(deps.storage, &listing)?;
    let available = free.saturating_sub(min_deposit);
    ensure!(
        amount <= available,
        ContractError::WithdrawTooMuch {
            subject,
            requested: amount,
            available
        }
    );
    listing.deposit -= amount;
    LISTINGS.save(deps.storage, &subject, &listing)?;
    let transfer = stake_asset(deps.storage, amount)?.transfer_msg(&info.sender)?;
    Ok(Response::new()
        .add_message(transfer)
        .add_attribute("action", "withdraw")
        .add_attribute("subject", subject)
        .add_attribute("amount", amount)
        .add_attribute("deposit", listing.deposit))
}

pub fn init_exit(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    subject: String,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let mut listing = load_owned(deps.storage, &subject, &info.sender)?;
    ensure!(
        listing.whitelisted,
        ContractError::ExitNotListed { subject }
    );
    if let Some(poll_id) = listing.challenge_id {
        return Err(ContractError::ChallengeOpen { subject, poll_id });
    }
    ensure!(
        listing.exit_at.is_none(),
        ContractError::ExitAlreadyRequested { subject }
    );
    let exit_at = env
        .block
        .time
        .plus_seconds(PARAMS.load(deps.storage)?.exit_delay_secs);
    listing.exit_at = Some(exit_at);
    LISTINGS.save(deps.storage, &subject, &listing)?;
    Ok(Response::new()
        .add_attribute("action", "init_exit")
        .add_attribute("subject", subject)
        .add_attribute("exit_at", exit_at.seconds().to_string()))
}

pub fn finalize_exit(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    subject: String,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let listing = load_owned(deps.storage, &subject, &info.sender)?;
    let at = listing
        .exit_at
        .ok_or_else(|| ContractError::ExitNotRequested {
            subject: subject.clone(),
        })?;
    if let Some(poll_id) = listing.challenge_id {
        return Err(ContractError::ChallengeOpen { subject, poll_id });
    }
    ensure!(
        env.block.time >= at,
        ContractError::ExitNotReady { subject, at }
    );
    LISTINGS.remove(deps.storage, &subject);
    let refund =
        stake_asset(deps.storage, listing.deposit)?.transfer_msg_if_positive(&info.sender)?;
    Ok(Response::new()
        .add_messages(refund)
        .add_attribute("action", "finalize_exit")
        .add_attribute("subject", subject)
        .add_attribute("refund", listing.deposit))
}

pub fn update_status(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    subject: String,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let mut listing = load_listing(deps.storage, &subject)?;
    let now = env.block.time;
    if let Some(poll_id) = listing.challenge_id {
        let poll = load_poll(deps.storage, poll_id)?;
        ensure!(
            now >= poll.reveal_end,
            ContractError::NothingToUpdate {
                subject,
                reason: "the challenge's reveal period has not ended"
            }
        );
        return resolve(deps.storage, now, subject, listing, poll_id, poll);
    }
    ensure!(
        !listing.whitelisted,
        ContractError::NothingToUpdate {
            subject,
            reason: "already listed and not challenged"
        }
    );
    ensure!(
        now >= listing.application_end,
        ContractError::NothingToUpdate {
            subject,
            reason: "the application period has not ended"
        }
    );
    listing.whitelisted = true;
    listing.listed_since = Some(now);
    LISTINGS.save(deps.storage, &subject, &listing)?;
    Ok(Response::new()
        .add_attribute("action", "update_status")
        .add_attribute("subject", subject)
        .add_attribute("result", "listed"))
}
