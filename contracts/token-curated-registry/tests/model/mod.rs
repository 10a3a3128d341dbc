//! The model the property test checks the registry against: plain-Rust
//! state written from the README's rules (not from the contract's code),
//! its liabilities, and the helpers the rules in `rules.rs` share.

pub mod ops;
pub mod rules;
pub mod world;

use std::collections::BTreeMap;

use token_curated_registry::state::Choice;
use token_curated_registry::ContractError;

/// The actors; the owner (the DAO) is separate.
pub const ACTORS: [&str; 4] = ["alice", "bob", "carol", "dave"];
/// Subjects: two plain ids, the actors' addresses, and two spellings of an
/// actor's address that are not subjects (uppercase, another chain's prefix).
pub const SUBJECTS: usize = 8;
/// The refusal of an address spelling that is not a subject.
pub const INVALID_ADDRESS: &str =
    "an address must be one of this chain, written in its normalized (lowercase) form";

#[derive(Debug, Clone, PartialEq)]
pub struct MParams {
    pub min_deposit: u128,
    pub apply: u64,
    pub commit: u64,
    pub reveal: u64,
    pub dispensation: u8,
    pub quorum: u8,
    pub exit_delay: u64,
    pub grace: u64,
    pub min_survival: u128,
    pub penalty: u8,
}

#[derive(Debug, Clone)]
pub struct MListing {
    pub owner: usize,
    pub deposit: u128,
    pub whitelisted: bool,
    pub application_end: u64,
    pub listed_since: Option<u64>,
    pub challenge: Option<u64>,
    pub exit_at: Option<u64>,
    pub survived: u32,
}

#[derive(Debug, Clone)]
pub struct MPoll {
    pub subject: String,
    pub challenger: usize,
    pub stake: u128,
    pub commit_end: u64,
    pub reveal_end: u64,
    pub quorum: u8,
    pub dispensation: u8,
    pub min_survival: u128,
    pub penalty: u8,
    pub keep: u128,
    pub remove: u128,
    pub nkeep: u32,
    pub nremove: u32,
    pub outcome: Option<Choice>,
    pub winner_reward: u128,
    pub pool: u128,
    pub claimed: u128,
    pub claims: u32,
}

#[derive(Debug, Clone)]
pub struct MVote {
    pub weight: u128,
    pub choice: Choice,
    pub salt: u8,
    pub penalty: u8,
    pub revealed: Option<Choice>,
    pub claimed: bool,
}

#[derive(Debug, Clone, Default)]
pub struct MVoter {
    pub balance: u128,
    /// (poll, weight, until)
    pub locks: Vec<(u64, u128, u64)>,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub now: u64,
    pub p: MParams,
    /// (before, after, at): the minimum deposit existing listings must hold.
    pub floor: (u128, u128, u64),
    pub listings: BTreeMap<String, MListing>,
    pub polls: Vec<MPoll>,
    pub votes: BTreeMap<(u64, usize), MVote>,
    pub voters: Vec<MVoter>,
    pub dust: u128,
    pub forfeited: u128,
    /// Stake-token wallets: the actors, then the owner.
    pub wallets: Vec<u128>,
    /// How often rare paths were taken (for the generator's coverage test).
    pub underfunded_removals: u32,
    pub exits: u32,
}

pub type Expect = Result<(), ContractError>;

pub fn nothing(subject: &str, reason: &'static str) -> ContractError {
    ContractError::NothingToUpdate {
        subject: subject.to_string(),
        reason,
    }
}

impl Model {
    pub fn floor_at(&self, t: u64) -> u128 {
        let (before, after, at) = self.floor;
        if t < at {
            before
        } else {
            after
        }
    }

    /// Everything the registry owes.
    pub fn liabilities(&self) -> u128 {
        let listings: u128 = self.listings.values().map(|l| l.deposit).sum();
        let open: u128 = self
            .polls
            .iter()
            .filter(|p| p.outcome.is_none())
            .map(|p| p.stake)
            .sum();
        let voters: u128 = self.voters.iter().map(|v| v.balance).sum();
        let pools: u128 = self.polls.iter().map(|p| p.pool - p.claimed).sum();
        listings + open + voters + pools + self.dust + self.forfeited
    }

    /// A voter with its lapsed locks settled: (voter, forfeited).
    pub fn settled(&self, actor: usize) -> (MVoter, u128) {
        let mut v = self.voters[actor].clone();
        let mut forfeited = 0;
        for &(poll, _, until) in &v.locks {
            if until <= self.now {
                let vote = &self.votes[&(poll, actor)];
                let penalty = if vote.revealed.is_none() {
                    (vote.weight * vote.penalty as u128).div_ceil(100)
                } else {
                    0
                };
                let penalty = penalty.min(v.balance);
                v.balance -= penalty;
                forfeited += penalty;
            }
        }
        let now = self.now;
        v.locks.retain(|&(_, _, until)| until > now);
        (v, forfeited)
    }

    pub fn locked(v: &MVoter, now: u64) -> u128 {
        v.locks
            .iter()
            .filter(|l| l.2 > now)
            .map(|l| l.1)
            .max()
            .unwrap_or(0)
    }

    pub fn owned(&self, subject: &str, actor: usize) -> Result<&MListing, ContractError> {
        let l = self
            .listings
            .get(subject)
            .ok_or_else(|| ContractError::ListingNotFound {
                subject: subject.to_string(),
            })?;
        if l.owner != actor {
            return Err(ContractError::NotListingOwner {
                subject: subject.to_string(),
            });
        }
        Ok(l)
    }

    pub fn held(&self, l: &MListing) -> u128 {
        l.challenge
            .map_or(0, |id| self.polls[id as usize - 1].stake)
    }

    pub fn check_params(p: &MParams) -> Result<(), ContractError> {
        let bad = |param, reason| Err(ContractError::InvalidParam { param, reason });
        const YEAR: u64 = 365 * 24 * 3600;
        if p.min_deposit == 0 {
            return bad("min_deposit", "must be greater than zero");
        }
        for (param, secs, min) in [
            ("apply_stage_secs", p.apply, 1),
            ("commit_stage_secs", p.commit, 1),
            ("reveal_stage_secs", p.reveal, 1),
            ("exit_delay_secs", p.exit_delay, 0),
            ("deposit_grace_secs", p.grace, 0),
        ] {
            if secs < min {
                return bad(param, "must be at least one second");
            }
            if secs > YEAR {
                return bad(param, "must be at most one year");
            }
        }
        for (param, pct) in [
            ("dispensation_pct", p.dispensation),
            ("vote_quorum_pct", p.quorum),
            ("unrevealed_penalty_pct", p.penalty),
        ] {
            if pct > 100 {
                return bad(param, "must be a percentage, 0 to 100");
            }
        }
        if p.exit_delay < p.commit + p.reveal {
            return bad(
                "exit_delay_secs",
                "must be at least commit_stage_secs + reveal_stage_secs",
            );
        }
        if p.grace < p.exit_delay {
            return bad("deposit_grace_secs", "must be at least exit_delay_secs");
        }
        Ok(())
    }
}
