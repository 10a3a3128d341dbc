//! The listing lifecycle: applications, deposits, exits, challenges and
//! their lazy, O(1) resolution.

use cosmwasm_std::{
    ensure, Addr, DepsMut, Env, MessageInfo, Response, Storage, Timestamp, Uint128,
};
use cw_utils::nonpayable;

use crate::error::ContractError;
use crate::execute::{
    check_cid, check_subject, held, load_listing, load_owned, load_poll, load_tally, stake_asset,
};
use crate::state::{Choice, Listing, Poll, Tally, LISTINGS, NEXT_POLL_ID, PARAMS, POLLS, TALLIES};
use crate::voting;

pub fn apply(
    deps: DepsMut,
    env: Env,
    sender: Addr,
    amount: Uint128,
    subject: String,
    data: String,
) -> Result<Response, ContractError> {
    check_subject(&subject)?;
    // An address subject is a seller applying for itself; nobody may squat it.
    if deps.api.addr_validate(&subject).is_ok() {
        ensure!(
            sender.as_str() == subject,
            ContractError::NotSubject { subject }
        );
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

pub fn challenge(
    deps: DepsMut,
    env: Env,
    challenger: Addr,
    amount: Uint128,
    subject: String,
    reason: String,
) -> Result<Response, ContractError> {
    check_cid(&reason)?;
    let mut listing = load_listing(deps.storage, &subject)?;
    let now = env.block.time;
    if let Some(at) = listing.exit_at {
        ensure!(now < at, ContractError::ChallengeDuringExit { subject, at });
    }
    if let Some(poll_id) = listing.challenge_id {
        return Err(ContractError::ChallengeOpen { subject, poll_id });
    }
    let params = PARAMS.load(deps.storage)?;
    ensure!(
        amount == params.min_deposit,
        ContractError::WrongChallengeStake {
            expected: params.min_deposit,
            received: amount
        }
    );
    if listing.deposit < params.min_deposit {
        // adChain's rule: a listing that no longer backs a full stake is
        // removed outright. Its deposit is credited to its owner's voting
        // balance (pulled later, never pushed); the challenger gets its
        // stake back in this transaction.
        LISTINGS.remove(deps.storage, &subject);
        voting::credit(deps.storage, &listing.owner, listing.deposit)?;
        let refund = stake_asset(deps.storage, amount)?.transfer_msg(&challenger)?;
        return Ok(Response::new()
            .add_message(refund)
            .add_attribute("action", "challenge")
            .add_attribute("subject", subject)
            .add_attribute("challenger", challenger)
            .add_attribute("result", "removed_underfunded"));
    }
    let poll_id = NEXT_POLL_ID.load(deps.storage)?;
    NEXT_POLL_ID.save(deps.storage, &(poll_id + 1))?;
    let commit_end = now.plus_seconds(params.commit_stage_secs);
    let reveal_end = commit_end.plus_seconds(params.reveal_stage_secs);
    let poll = Poll {
        subject: subject.clone(),
        challenger: challenger.clone(),
        stake: amount,
        reason,
        commit_end,
        reveal_end,
        vote_quorum_pct: params.vote_quorum_pct,
        dispensation_pct: params.dispensation_pct,
    };
    POLLS.save(deps.storage, poll_id, &poll)?;
    TALLIES.save(deps.storage, poll_id, &Tally::default())?;
    listing.challenge_id = Some(poll_id);
    LISTINGS.save(deps.storage, &subject, &listing)?;
    Ok(Response::new()
        .add_attribute("action", "challenge")
        .add_attribute("subject", subject)
        .add_attribute("challenger", challenger)
        .add_attribute("poll_id", poll_id.to_string())
        .add_attribute("commit_end", commit_end.seconds().to_string())
        .add_attribute("reveal_end", reveal_end.seconds().to_string()))
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

/// Whether `keep` wins: `100 × keep > quorum × (keep + remove)`. With no
/// revealed votes this is false, so the challenger wins (as in adChain).
pub fn keep_wins(poll: &Poll, tally: &Tally) -> bool {
    let keep = tally.votes_keep.full_mul(100u128);
    let total = tally.votes_keep.full_mul(1u128) + tally.votes_remove.full_mul(1u128);
    keep > total * cosmwasm_std::Uint256::from(poll.vote_quorum_pct)
}

/// The winner's reward and the voters' pool for a resolved poll. The
/// winning party gets `floor(stake × dispensation_pct / 100)` of the loser's
/// stake, the voters the rest; when no weight was revealed for the winning
/// side there is nobody to share the pool, so the winner gets all of it.
pub fn split(poll: &Poll, tally: &Tally, outcome: Choice) -> (Uint128, Uint128) {
    let (weight, _) = tally.winning_tally(outcome);
    if weight.is_zero() {
        return (poll.stake, Uint128::zero());
    }
    let winner = poll
        .stake
        .multiply_ratio(poll.dispensation_pct as u128, 100u128);
    (winner, poll.stake - winner)
}

/// Resolves a challenge in O(1): only the poll's totals are read; every
/// voter claims their own share later.
fn resolve(
    storage: &mut dyn Storage,
    now: Timestamp,
    subject: String,
    mut listing: Listing,
    poll_id: u64,
    poll: Poll,
) -> Result<Response, ContractError> {
    let mut tally = load_tally(storage, poll_id)?;
    let outcome = if keep_wins(&poll, &tally) {
        Choice::Keep
    } else {
        Choice::Remove
    };
    let (winner_reward, pool) = split(&poll, &tally, outcome);
    tally.outcome = Some(outcome);
    tally.winner_reward = winner_reward;
    tally.reward_pool = pool;
    TALLIES.save(storage, poll_id, &tally)?;
    let result = match outcome {
        Choice::Keep => {
            // The listing keeps its held stake and adds its reward; the
            // challenger's stake is split between that reward and the pool.
            listing.deposit += winner_reward;
            listing.challenge_id = None;
            if !listing.whitelisted {
                listing.whitelisted = true;
                listing.listed_since = Some(now);
            }
            listing.challenges_survived += 1;
            listing.last_survived = Some(now);
            LISTINGS.save(storage, &subject, &listing)?;
            "kept"
        }
        Choice::Remove => {
            // The held stake of the deposit is split between the
            // challenger's reward and the pool; the rest of the deposit and
            // the challenger's payout are credited, to be pulled.
            LISTINGS.remove(storage, &subject);
            voting::credit(storage, &poll.challenger, poll.stake + winner_reward)?;
            voting::credit(storage, &listing.owner, listing.deposit - poll.stake)?;
            "removed"
        }
    };
    Ok(Response::new()
        .add_attribute("action", "update_status")
        .add_attribute("subject", subject)
        .add_attribute("result", result)
        .add_attribute("poll_id", poll_id.to_string())
        .add_attribute("winner_reward", winner_reward)
        .add_attribute("reward_pool", pool))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(quorum: u8, dispensation: u8) -> Poll {
        Poll {
            subject: "s".into(),
            challenger: Addr::unchecked("c"),
            stake: Uint128::new(1_001),
            reason: String::new(),
            commit_end: Timestamp::from_seconds(1),
            reveal_end: Timestamp::from_seconds(2),
            vote_quorum_pct: quorum,
            dispensation_pct: dispensation,
        }
    }

    fn tally(keep: u128, remove: u128) -> Tally {
        Tally {
            votes_keep: Uint128::new(keep),
            votes_remove: Uint128::new(remove),
            voters_keep: (keep > 0) as u32,
            voters_remove: (remove > 0) as u32,
            ..Tally::default()
        }
    }

    #[test]
    fn quorum_rule() {
        // No votes: the challenger wins.
        assert!(!keep_wins(&poll(50, 50), &tally(0, 0)));
        // Strictly more than the quorum share is needed.
        assert!(!keep_wins(&poll(50, 50), &tally(5, 5)));
        assert!(keep_wins(&poll(50, 50), &tally(6, 5)));
        assert!(keep_wins(&poll(0, 50), &tally(1, 1_000)));
        assert!(!keep_wins(&poll(100, 50), &tally(1_000, 0)));
        // Huge tallies do not overflow.
        assert!(keep_wins(&poll(99, 50), &tally(u128::MAX, 0)));
    }

    #[test]
    fn stake_split_rounds_against_voters_and_conserves() {
        let (winner, pool) = split(&poll(50, 50), &tally(1, 0), Choice::Keep);
        assert_eq!((winner.u128(), pool.u128()), (500, 501));
        let (winner, pool) = split(&poll(50, 100), &tally(1, 0), Choice::Keep);
        assert_eq!((winner.u128(), pool.u128()), (1_001, 0));
        let (winner, pool) = split(&poll(50, 0), &tally(0, 3), Choice::Remove);
        assert_eq!((winner.u128(), pool.u128()), (0, 1_001));
        // Nobody revealed for the winner: it takes the whole stake.
        let (winner, pool) = split(&poll(50, 0), &tally(0, 0), Choice::Remove);
        assert_eq!((winner.u128(), pool.u128()), (1_001, 0));
    }
}
