//! Queries. Lists read one page (`start_after` + `limit`, at most 30).

use cosmwasm_std::{Binary, Deps, Env, Order, Timestamp, Uint128};
use cw_storage_plus::Bound;
use wevalue_common::curation::IsListedResponse;
use wevalue_common::pagination::page_limit;

use crate::commitment::{check_salt, commitment as compute_commitment};
use crate::error::ContractError;
use crate::execute::{load_listing, load_poll, load_tally};
use crate::msg::{
    ChallengeInfoResponse, ClaimableResponse, CommitmentResponse, ConfigResponse, ListingResponse,
    ListingsResponse, LockInfo, PendingMinDeposit, PollResponse, PollsResponse, ReputationResponse,
    VoteResponse, VoterResponse, VotersResponse,
};
use crate::state::{
    Choice, Listing, Params, Poll, Tally, Voter, CONFIG, DUST, FORFEITED, LISTINGS,
    MIN_DEPOSIT_FLOOR, NEXT_POLL_ID, PARAMS, POLLS, VOTERS, VOTES,
};
use crate::voting::{settle_lapsed, share};

pub fn is_listed(deps: Deps, env: Env, subject: String) -> Result<IsListedResponse, ContractError> {
    // Any string is a valid question; unknown subjects are simply not listed.
    let listed = LISTINGS
        .may_load(deps.storage, &subject)?
        .is_some_and(|l| l.is_listed(env.block.time));
    Ok(IsListedResponse { listed })
}

pub fn config(deps: Deps, env: Env) -> Result<ConfigResponse, ContractError> {
    let now = env.block.time;
    let floor = MIN_DEPOSIT_FLOOR.load(deps.storage)?;
    let in_force = floor.at(now);
    Ok(ConfigResponse {
        stake: CONFIG.load(deps.storage)?.stake,
        dust: DUST.load(deps.storage)?,
        forfeited: FORFEITED.load(deps.storage)?,
        next_poll_id: NEXT_POLL_ID.load(deps.storage)?,
        min_deposit_in_force: in_force,
        pending_min_deposit: (floor.after != in_force).then_some(PendingMinDeposit {
            amount: floor.after,
            applies_at: floor.at,
        }),
    })
}

pub fn params(deps: Deps) -> Result<Params, ContractError> {
    Ok(PARAMS.load(deps.storage)?)
}

fn listing_response(
    deps: Deps,
    now: Timestamp,
    subject: String,
    l: Listing,
) -> Result<ListingResponse, ContractError> {
    let held = match l.challenge_id {
        Some(id) => load_poll(deps.storage, id)?.stake,
        None => Uint128::zero(),
    };
    Ok(ListingResponse {
        subject,
        owner: l.owner.clone(),
        data: l.data.clone(),
        status: l.status(now),
        listed: l.is_listed(now),
        deposit: l.deposit,
        free_deposit: l.deposit - held,
        application_end: l.application_end,
        listed_since: l.listed_since,
        challenge_id: l.challenge_id,
        exit_at: l.exit_at,
        challenges_survived: l.challenges_survived,
    })
}

pub fn listing(deps: Deps, env: Env, subject: String) -> Result<ListingResponse, ContractError> {
    let l = load_listing(deps.storage, &subject)?;
    listing_response(deps, env.block.time, subject, l)
}

pub fn listings(
    deps: Deps,
    env: Env,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<ListingsResponse, ContractError> {
    let start = start_after.as_deref().map(Bound::exclusive);
    let listings = LISTINGS
        .range(deps.storage, start, None, Order::Ascending)
        .take(page_limit(limit))
        .map(|item| {
            let (subject, l) = item?;
            listing_response(deps, env.block.time, subject, l)
        })
        .collect::<Result<_, _>>()?;
    Ok(ListingsResponse { listings })
}

fn poll_response(poll_id: u64, p: Poll, t: Tally) -> PollResponse {
    PollResponse {
        poll_id,
        subject: p.subject,
        commit_end: p.commit_end,
        reveal_end: p.reveal_end,
        vote_quorum_pct: p.vote_quorum_pct,
        dispensation_pct: p.dispensation_pct,
        votes_keep: t.votes_keep,
        votes_remove: t.votes_remove,
        voters_keep: t.voters_keep,
        voters_remove: t.voters_remove,
        outcome: t.outcome,
        reward_pool: t.reward_pool,
        reward_claimed: t.reward_claimed,
        claims: t.claims,
    }
}

pub fn poll(deps: Deps, poll_id: u64) -> Result<PollResponse, ContractError> {
    Ok(poll_response(
        poll_id,
        load_poll(deps.storage, poll_id)?,
        load_tally(deps.storage, poll_id)?,
    ))
}

pub fn polls(
    deps: Deps,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<PollsResponse, ContractError> {
    let polls = POLLS
        .range(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .map(|item| {
            let (id, p) = item?;
            Ok(poll_response(id, p, load_tally(deps.storage, id)?))
        })
        .collect::<Result<_, ContractError>>()?;
    Ok(PollsResponse { polls })
}

pub fn challenge_info(deps: Deps, poll_id: u64) -> Result<ChallengeInfoResponse, ContractError> {
    let p = load_poll(deps.storage, poll_id)?;
    let t = load_tally(deps.storage, poll_id)?;
    Ok(ChallengeInfoResponse {
        poll_id,
        resolved: t.outcome.is_some(),
        subject: p.subject,
        challenger: p.challenger,
        stake: p.stake,
        reason: p.reason,
        winner_reward: t.winner_reward,
    })
}

/// A voter as it will be once its lapsed locks are settled (which its next
/// commit or withdrawal does).
fn voter_response(
    deps: Deps,
    now: Timestamp,
    address: cosmwasm_std::Addr,
    mut v: Voter,
) -> Result<VoterResponse, ContractError> {
    let forfeit = settle_lapsed(deps.storage, &address, &mut v, now)?;
    let locked = v.locked(now);
    Ok(VoterResponse {
        address,
        balance: v.balance,
        forfeit,
        locked,
        withdrawable: v.balance.saturating_sub(locked),
        locks: v
            .locks
            .into_iter()
            .map(|l| LockInfo {
                poll_id: l.poll_id,
                weight: l.weight,
                until: l.until,
            })
            .collect(),
    })
}

pub fn voter(deps: Deps, env: Env, address: String) -> Result<VoterResponse, ContractError> {
    let addr = deps.api.addr_validate(&address)?;
    let v = VOTERS.may_load(deps.storage, &addr)?.unwrap_or_default();
    voter_response(deps, env.block.time, addr, v)
}

pub fn voters(
    deps: Deps,
    env: Env,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<VotersResponse, ContractError> {
    let start = start_after
        .map(|a| deps.api.addr_validate(&a))
        .transpose()?;
    let voters = VOTERS
        .range(
            deps.storage,
            start.as_ref().map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .map(|item| {
            let (a, v) = item?;
            voter_response(deps, env.block.time, a, v)
        })
        .collect::<Result<_, _>>()?;
    Ok(VotersResponse { voters })
}

pub fn vote(deps: Deps, poll_id: u64, voter: String) -> Result<VoteResponse, ContractError> {
    let addr = deps.api.addr_validate(&voter)?;
    let v = VOTES
        .may_load(deps.storage, (poll_id, &addr))?
        .ok_or(ContractError::VoteNotFound { poll_id, voter })?;
    Ok(VoteResponse {
        unrevealed_penalty: v.forfeit(),
        commitment: v.commitment,
        weight: v.weight,
        revealed: v.revealed,
        claimed: v.claimed,
    })
}

pub fn claimable_reward(
    deps: Deps,
    poll_id: u64,
    voter: String,
) -> Result<ClaimableResponse, ContractError> {
    let addr = deps.api.addr_validate(&voter)?;
    let tally = load_tally(deps.storage, poll_id)?;
    let amount = match VOTES.may_load(deps.storage, (poll_id, &addr))? {
        Some(vote) => share(&tally, &vote, poll_id).unwrap_or_default(),
        None => Uint128::zero(),
    };
    Ok(ClaimableResponse { amount })
}

pub fn commitment(
    deps: Deps,
    env: Env,
    poll_id: u64,
    voter: String,
    choice: Choice,
    salt: Binary,
) -> Result<CommitmentResponse, ContractError> {
    let voter = deps.api.addr_validate(&voter)?;
    check_salt(&salt)?;
    Ok(CommitmentResponse {
        commitment: compute_commitment(
            &env.block.chain_id,
            &env.contract.address,
            poll_id,
            &voter,
            choice,
            &salt,
        ),
    })
}

/// Weights of the reputation score, in basis points (they sum to 10,000).
pub const STAKE_WEIGHT: u128 = 4_000;
pub const TENURE_WEIGHT: u128 = 3_000;
pub const SURVIVAL_WEIGHT: u128 = 3_000;
/// The stake component saturates at this multiple of `min_deposit`.
pub const STAKE_CAP_MULTIPLE: u128 = 4;
/// The tenure component saturates after a year listed.
pub const TENURE_CAP_SECS: u64 = 365 * 24 * 3600;
/// The survival component halves every 90 days without a new survived challenge.
pub const SURVIVAL_HALF_LIFE_SECS: u64 = 90 * 24 * 3600;

/// The reputation formula (integer math; see the README).
pub fn reputation_of(l: &Listing, min_deposit: Uint128, now: Timestamp) -> ReputationResponse {
    let mut r = ReputationResponse {
        subject: String::new(),
        score: 0,
        stake_part: 0,
        tenure_part: 0,
        survival_part: 0,
    };
    if !l.is_listed(now) {
        return r;
    }
    let cap = min_deposit.u128().saturating_mul(STAKE_CAP_MULTIPLE).max(1);
    let stake = l.deposit.u128().min(cap);
    // stake ≤ cap, so the product fits when cap ≤ u128::MAX / 4,000; fall
    // back to dividing first for absurd deposits.
    r.stake_part = (stake
        .checked_mul(STAKE_WEIGHT)
        .map_or(stake / cap * STAKE_WEIGHT, |x| x / cap)) as u32;
    let listed_secs = l
        .listed_since
        .map_or(0, |since| now.seconds().saturating_sub(since.seconds()));
    r.tenure_part =
        (TENURE_WEIGHT * listed_secs.min(TENURE_CAP_SECS) as u128 / TENURE_CAP_SECS as u128) as u32;
    if let (Some(last), c) = (l.last_survived, l.challenges_survived as u128) {
        let base = SURVIVAL_WEIGHT * c / (c + 1);
        let elapsed = now.seconds().saturating_sub(last.seconds());
        let halvings = elapsed / SURVIVAL_HALF_LIFE_SECS;
        let rem = (elapsed % SURVIVAL_HALF_LIFE_SECS) as u128;
        let h = SURVIVAL_HALF_LIFE_SECS as u128;
        // Halve per full half-life, then interpolate linearly from 1 to ½
        // within the current one: a piecewise-linear 2^(-t/h).
        let halved = if halvings >= 64 { 0 } else { base >> halvings };
        r.survival_part = (halved * (2 * h - rem) / (2 * h)) as u32;
    }
    r.score = r.stake_part + r.tenure_part + r.survival_part;
    r
}

pub fn reputation(
    deps: Deps,
    env: Env,
    subject: String,
) -> Result<ReputationResponse, ContractError> {
    // Scored against the minimum in force, like everything else an
    // increase touches only after its grace period.
    let min_deposit = MIN_DEPOSIT_FLOOR.load(deps.storage)?.at(env.block.time);
    let mut r = match LISTINGS.may_load(deps.storage, &subject)? {
        Some(l) => reputation_of(&l, min_deposit, env.block.time),
        None => reputation_of_unknown(),
    };
    r.subject = subject;
    Ok(r)
}

fn reputation_of_unknown() -> ReputationResponse {
    ReputationResponse {
        subject: String::new(),
        score: 0,
        stake_part: 0,
        tenure_part: 0,
        survival_part: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::Addr;

    fn listed(deposit: u128, since: u64, survived: u32, last: Option<u64>) -> Listing {
        Listing {
            owner: Addr::unchecked("o"),
            data: String::new(),
            whitelisted: true,
            deposit: Uint128::new(deposit),
            application_end: Timestamp::from_seconds(0),
            listed_since: Some(Timestamp::from_seconds(since)),
            challenge_id: None,
            exit_at: None,
            challenges_survived: survived,
            last_survived: last.map(Timestamp::from_seconds),
        }
    }

    #[test]
    fn reputation_formula() {
        let min = Uint128::new(100);
        let day = 24 * 3600;
        let h = SURVIVAL_HALF_LIFE_SECS;
        // Fresh listing at the minimum deposit: a quarter of the stake part.
        let r = reputation_of(&listed(100, 0, 0, None), min, Timestamp::from_seconds(0));
        assert_eq!(
            (r.stake_part, r.tenure_part, r.survival_part, r.score),
            (1000, 0, 0, 1000)
        );
        // Capped stake, half a year, one survived challenge just now.
        let now = 365 * day / 2;
        let r = reputation_of(
            &listed(1_000, 0, 1, Some(now)),
            min,
            Timestamp::from_seconds(now),
        );
        assert_eq!(
            (r.stake_part, r.tenure_part, r.survival_part),
            (4000, 1500, 1500)
        );
        // Survival decays: 3/4 after half a half-life, 1/2 after one, 1/4 after two.
        let r = reputation_of(
            &listed(100, 0, 1, Some(0)),
            min,
            Timestamp::from_seconds(h / 2),
        );
        assert_eq!(r.survival_part, 1125);
        let r = reputation_of(&listed(100, 0, 1, Some(0)), min, Timestamp::from_seconds(h));
        assert_eq!(r.survival_part, 750);
        let r = reputation_of(
            &listed(100, 0, 1, Some(0)),
            min,
            Timestamp::from_seconds(2 * h),
        );
        assert_eq!(r.survival_part, 375);
        // Tenure saturates after a year; far-future decay reaches zero.
        let r = reputation_of(
            &listed(100, 0, 3, Some(0)),
            min,
            Timestamp::from_seconds(100 * 365 * day),
        );
        assert_eq!((r.tenure_part, r.survival_part), (3000, 0));
        // Not listed: zero.
        let mut app = listed(1_000, 0, 1, Some(0));
        app.whitelisted = false;
        assert_eq!(
            reputation_of(&app, min, Timestamp::from_seconds(10)).score,
            0
        );
    }
}
