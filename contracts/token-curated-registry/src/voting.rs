//! PLCR-style voting: voting balances, locks and the forfeits of unrevealed
//! votes, commit, reveal and claims.

use cosmwasm_std::{
    ensure, Addr, Binary, DepsMut, Env, HexBinary, MessageInfo, Response, Storage, Timestamp,
    Uint128,
};
use cw_utils::nonpayable;

use crate::commitment::{check_salt, commitment};
use crate::error::ContractError;
use crate::execute::{load_poll, load_tally, stake_asset};
use crate::state::{
    Choice, Lock, Tally, Vote, Voter, DUST, FORFEITED, MAX_OPEN_POLLS, TALLIES, VOTERS, VOTES,
};

/// Adds `amount` to a voter's balance: deposits, and the payouts of a
/// resolution, which are credited here so that nothing is pushed.
pub fn credit(
    storage: &mut dyn Storage,
    voter: &Addr,
    amount: Uint128,
) -> Result<(), ContractError> {
    if amount.is_zero() {
        return Ok(());
    }
    let mut record = VOTERS.may_load(storage, voter)?.unwrap_or_default();
    record.balance += amount;
    VOTERS.save(storage, voter, &record)?;
    Ok(())
}

/// Drops the voter's locks whose reveal period has ended; each one whose
/// vote was never revealed forfeits its penalty from the balance (at most
/// what is left). Returns the total forfeited. Reads one vote per lapsed
/// lock, at most [`MAX_OPEN_POLLS`], each lock once in its life.
pub fn settle_lapsed(
    storage: &dyn Storage,
    address: &Addr,
    voter: &mut Voter,
    now: Timestamp,
) -> Result<Uint128, ContractError> {
    let mut forfeited = Uint128::zero();
    for lock in voter.locks.iter().filter(|l| l.until <= now) {
        let penalty = VOTES
            .may_load(storage, (lock.poll_id, address))?
            .map(|v| v.forfeit())
            .unwrap_or_default()
            .min(voter.balance);
        voter.balance -= penalty;
        forfeited += penalty;
    }
    voter.locks.retain(|l| l.until > now);
    Ok(forfeited)
}

/// Loads a voter and settles its lapsed locks, moving forfeits to the
/// treasury account. The caller saves the voter.
fn load_settled(
    storage: &mut dyn Storage,
    address: &Addr,
    now: Timestamp,
) -> Result<(Voter, Uint128), ContractError> {
    let mut voter = VOTERS.may_load(storage, address)?.unwrap_or_default();
    let forfeited = settle_lapsed(storage, address, &mut voter, now)?;
    if !forfeited.is_zero() {
        FORFEITED.update(storage, |f| -> Result<_, ContractError> {
            Ok(f + forfeited)
        })?;
    }
    Ok((voter, forfeited))
}

pub fn deposit_voting_tokens(
    deps: DepsMut,
    voter: Addr,
    amount: Uint128,
) -> Result<Response, ContractError> {
    credit(deps.storage, &voter, amount)?;
    Ok(Response::new()
        .add_attribute("action", "deposit_voting_tokens")
        .add_attribute("voter", voter)
        .add_attribute("amount", amount))
}

pub fn withdraw_voting_tokens(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    amount: Uint128,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    ensure!(!amount.is_zero(), ContractError::ZeroAmount);
    let now = env.block.time;
    let (mut voter, forfeited) = load_settled(deps.storage, &info.sender, now)?;
    // A forfeit can leave the balance below a live lock that reuses the same
    // tokens (PLCR): then nothing is withdrawable until that lock lapses.
    let available = voter.balance.saturating_sub(voter.locked(now));
    ensure!(
        amount <= available,
        ContractError::VotingTokensLocked {
            requested: amount,
            available
        }
    );
    voter.balance -= amount;
    if voter.balance.is_zero() && voter.locks.is_empty() {
        VOTERS.remove(deps.storage, &info.sender);
    } else {
        VOTERS.save(deps.storage, &info.sender, &voter)?;
    }
    let transfer = stake_asset(deps.storage, amount)?.transfer_msg(&info.sender)?;
    Ok(Response::new()
        .add_message(transfer)
        .add_attribute("action", "withdraw_voting_tokens")
        .add_attribute("voter", info.sender)
        .add_attribute("amount", amount)
        .add_attribute("balance", voter.balance)
        .add_attribute("forfeited", forfeited))
}

pub fn commit_vote(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    poll_id: u64,
    commitment: HexBinary,
    weight: Uint128,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let poll = load_poll(deps.storage, poll_id)?;
    let now = env.block.time;
    ensure!(
        now < poll.commit_end,
        ContractError::CommitPeriodOver {
            poll_id,
            ended: poll.commit_end
        }
    );
    ensure!(
        commitment.len() == 32,
        ContractError::InvalidCommitment {
            len: commitment.len()
        }
    );
    ensure!(!weight.is_zero(), ContractError::ZeroAmount);
    let (mut voter, forfeited) = load_settled(deps.storage, &info.sender, now)?;
    ensure!(
        weight <= voter.balance,
        ContractError::InsufficientVotingBalance {
            weight,
            balance: voter.balance
        }
    );
    match voter.locks.iter_mut().find(|l| l.poll_id == poll_id) {
        // A new commitment in the same period replaces the old one.
        Some(lock) => lock.weight = weight,
        None => {
            ensure!(
                voter.locks.len() < MAX_OPEN_POLLS,
                ContractError::TooManyOpenPolls
            );
            voter.locks.push(Lock {
                poll_id,
                weight,
                until: poll.reveal_end,
            });
        }
    }
    VOTERS.save(deps.storage, &info.sender, &voter)?;
    VOTES.save(
        deps.storage,
        (poll_id, &info.sender),
        &Vote {
            commitment,
            weight,
            revealed: None,
            claimed: false,
            penalty_pct: poll.unrevealed_penalty_pct,
        },
    )?;
    Ok(Response::new()
        .add_attribute("action", "commit_vote")
        .add_attribute("poll_id", poll_id.to_string())
        .add_attribute("voter", info.sender)
        .add_attribute("weight", weight)
        .add_attribute("forfeited", forfeited))
}

pub fn reveal_vote(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    poll_id: u64,
    choice: Choice,
    salt: Binary,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let poll = load_poll(deps.storage, poll_id)?;
    let now = env.block.time;
    ensure!(
        now >= poll.commit_end && now < poll.reveal_end,
        ContractError::NotRevealPeriod {
            poll_id,
            starts: poll.commit_end,
            ends: poll.reveal_end
        }
    );
    check_salt(&salt)?;
    let key = (poll_id, &info.sender);
    let mut vote =
        VOTES
            .may_load(deps.storage, key)?
            .ok_or_else(|| ContractError::VoteNotFound {
                poll_id,
                voter: info.sender.to_string(),
            })?;
    ensure!(
        vote.revealed.is_none(),
        ContractError::AlreadyRevealed { poll_id }
    );
    let expected = commitment(
        &env.block.chain_id,
        &env.contract.address,
        poll_id,
        &info.sender,
        choice,
        &salt,
    );
    ensure!(
        expected == vote.commitment,
        ContractError::CommitmentMismatch { poll_id }
    );
    vote.revealed = Some(choice);
    VOTES.save(deps.storage, key, &vote)?;
    let mut tally = load_tally(deps.storage, poll_id)?;
    match choice {
        Choice::Keep => {
            tally.votes_keep += vote.weight;
            tally.voters_keep += 1;
        }
        Choice::Remove => {
            tally.votes_remove += vote.weight;
            tally.voters_remove += 1;
        }
    }
    TALLIES.save(deps.storage, poll_id, &tally)?;
    Ok(Response::new()
        .add_attribute("action", "reveal_vote")
        .add_attribute("poll_id", poll_id.to_string())
        .add_attribute("voter", info.sender)
        .add_attribute("choice", format!("{choice:?}").to_lowercase())
        .add_attribute("weight", vote.weight))
}

/// A winning voter's share: `floor(pool × weight / winning_weight)`,
/// rounded down so the sum of shares never exceeds the pool.
pub fn share(tally: &Tally, vote: &Vote, poll_id: u64) -> Result<Uint128, ContractError> {
    let outcome = tally
        .outcome
        .ok_or(ContractError::PollNotResolved { poll_id })?;
    ensure!(!vote.claimed, ContractError::AlreadyClaimed { poll_id });
    let choice = vote
        .revealed
        .ok_or(ContractError::NotRevealed { poll_id })?;
    ensure!(choice == outcome, ContractError::LosingSide { poll_id });
    ensure!(
        !tally.reward_pool.is_zero(),
        ContractError::NoVoterReward { poll_id }
    );
    let (winning_weight, _) = tally.winning_tally(outcome);
    Ok(tally
        .reward_pool
        .multiply_ratio(vote.weight, winning_weight))
}

pub fn claim_reward(
    deps: DepsMut,
    info: MessageInfo,
    poll_id: u64,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    let mut tally = load_tally(deps.storage, poll_id)?;
    let key = (poll_id, &info.sender);
    let mut vote =
        VOTES
            .may_load(deps.storage, key)?
            .ok_or_else(|| ContractError::VoteNotFound {
                poll_id,
                voter: info.sender.to_string(),
            })?;
    let reward = share(&tally, &vote, poll_id)?;
    vote.claimed = true;
    VOTES.save(deps.storage, key, &vote)?;
    tally.reward_claimed += reward;
    tally.claims += 1;
    let mut dust = Uint128::zero();
    let winners = tally.outcome.map_or(0, |o| tally.winning_tally(o).1);
    if tally.claims == winners {
        // The last winning voter has claimed: what rounding left over is
        // moved to the dust account, which the owner sweeps.
        dust = tally.reward_pool - tally.reward_claimed;
        tally.reward_claimed = tally.reward_pool;
        DUST.update(deps.storage, |d| -> Result<_, ContractError> {
            Ok(d + dust)
        })?;
    }
    TALLIES.save(deps.storage, poll_id, &tally)?;
    let transfer = stake_asset(deps.storage, reward)?.transfer_msg_if_positive(&info.sender)?;
    Ok(Response::new()
        .add_messages(transfer)
        .add_attribute("action", "claim_reward")
        .add_attribute("poll_id", poll_id.to_string())
        .add_attribute("voter", info.sender)
        .add_attribute("reward", reward)
        .add_attribute("dust", dust))
}
