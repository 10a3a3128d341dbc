//! Challenges: who may start one and at what stake, and their lazy, O(1)
//! resolution from the poll's totals.

use cosmwasm_std::{ensure, Addr, DepsMut, Env, Response, Storage, Timestamp, Uint128, Uint256};

use crate::error::ContractError;
use crate::execute::{check_cid, load_listing, load_tally, stake_asset};
use crate::state::{
    Choice, Listing, Poll, Tally, LISTINGS, MIN_DEPOSIT_FLOOR, NEXT_POLL_ID, PARAMS, POLLS, TALLIES,
};
use crate::voting;

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
    // A self-challenge would be free (the owner pays itself) and would
    // block honest challengers while its sham poll runs.
    ensure!(
        challenger != listing.owner,
        ContractError::SelfChallenge { subject }
    );
    let now = env.block.time;
    if let Some(at) = listing.exit_at {
        ensure!(now < at, ContractError::ChallengeDuringExit { subject, at });
    }
    if let Some(poll_id) = listing.challenge_id {
        return Err(ContractError::ChallengeOpen { subject, poll_id });
    }
    // The stake is the minimum deposit in force: during the grace period of
    // an increase, the old one.
    let stake = MIN_DEPOSIT_FLOOR.load(deps.storage)?.at(now);
    ensure!(
        amount == stake,
        ContractError::WrongChallengeStake {
            expected: stake,
            received: amount
        }
    );
    if listing.deposit < stake {
        // adChain's rule: a listing that no longer backs a full stake is
        // removed outright. It can only happen once the grace period of an
        // increase has passed without a top-up. The deposit is credited to
        // its owner's voting balance (pulled later, never pushed); the
        // challenger gets its stake back in this transaction.
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
    let params = PARAMS.load(deps.storage)?;
    let poll_id = NEXT_POLL_ID.load(deps.storage)?;
    NEXT_POLL_ID.save(deps.storage, &(poll_id + 1))?;
    let commit_end = now.plus_seconds(params.commit_stage_secs);
    let reveal_end = commit_end.plus_seconds(params.reveal_stage_secs);
    let poll = Poll {
        subject: subject.clone(),
        challenger: challenger.clone(),
        stake,
        reason,
        commit_end,
        reveal_end,
        vote_quorum_pct: params.vote_quorum_pct,
        dispensation_pct: params.dispensation_pct,
        min_survival_weight: params.min_survival_weight,
        unrevealed_penalty_pct: params.unrevealed_penalty_pct,
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

/// Whether `keep` wins: `100 × keep > quorum × (keep + remove)`. With no
/// revealed votes this is false, so the challenger wins (as in adChain).
pub fn keep_wins(poll: &Poll, tally: &Tally) -> bool {
    let keep = tally.votes_keep.full_mul(100u128);
    let total = tally.votes_keep.full_mul(1u128) + tally.votes_remove.full_mul(1u128);
    keep > total * Uint256::from(poll.vote_quorum_pct)
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

/// Whether a kept listing's survival counts toward its reputation: enough
/// weight was revealed (on either side) for the poll to mean something.
pub fn survival_counts(poll: &Poll, tally: &Tally) -> bool {
    tally.votes_keep.full_mul(1u128) + tally.votes_remove.full_mul(1u128)
        >= poll.min_survival_weight.full_mul(1u128)
}

/// Resolves a challenge in O(1): only the poll's totals are read; every
/// voter claims their own share later.
pub fn resolve(
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
    let mut response = Response::new()
        .add_attribute("action", "update_status")
        .add_attribute("subject", &subject);
    let result = match outcome {
        Choice::Keep => {
            // The listing keeps its held stake and adds its reward; the
            // challenger's stake is split between that reward and the pool.
            listing.deposit += winner_reward;
            listing.challenge_id = None;
            // Surviving a challenge never shortens the application period.
            if !listing.whitelisted && now >= listing.application_end {
                listing.whitelisted = true;
                listing.listed_since = Some(now);
            }
            let counted = survival_counts(&poll, &tally);
            if counted {
                listing.challenges_survived += 1;
                listing.last_survived = Some(now);
            }
            response = response.add_attribute("survival_counted", counted.to_string());
            LISTINGS.save(storage, &subject, &listing)?;
            if listing.whitelisted {
                "kept"
            } else {
                "kept_application"
            }
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
    Ok(response
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
            min_survival_weight: Uint128::new(10),
            unrevealed_penalty_pct: 0,
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

    #[test]
    fn survival_needs_the_minimum_revealed_weight() {
        assert!(!survival_counts(&poll(50, 50), &tally(9, 0)));
        assert!(survival_counts(&poll(50, 50), &tally(6, 4)));
        assert!(survival_counts(&poll(50, 50), &tally(u128::MAX, u128::MAX)));
    }
}
