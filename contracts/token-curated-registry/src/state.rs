//! Storage layout. Every record is bounded: a listing and a poll have fixed
//! fields (plus CIDs of bounded length), a voter holds at most
//! [`MAX_OPEN_POLLS`] locks.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, HexBinary, Timestamp, Uint128, Uint256};
use cw_storage_plus::{Item, Map};
use wevalue_common::asset::AssetInfo;

/// How many polls whose reveal period has not ended one voter may have
/// committed to at once. It bounds the lock list every commit and
/// withdrawal scans (PLCR keeps a sorted list for the same reason).
pub const MAX_OPEN_POLLS: usize = 20;

/// The governed parameters. A copy of what an application, poll or exit
/// needs is taken when it starts, so changes never alter running ones.
#[cw_serde]
pub struct Params {
    /// Minimum listing deposit, and the stake of every challenge. New
    /// applications pay a new value at once; an increase reaches existing
    /// listings and challenge stakes after `deposit_grace_secs`.
    pub min_deposit: Uint128,
    /// Application period, in seconds.
    pub apply_stage_secs: u64,
    /// Commit period of a challenge's poll, in seconds.
    pub commit_stage_secs: u64,
    /// Reveal period of a challenge's poll, in seconds.
    pub reveal_stage_secs: u64,
    /// Share (0 to 100) of the loser's stake paid to the winning party; the
    /// rest goes to the voters who revealed for the winning side.
    pub dispensation_pct: u8,
    /// Share (0 to 100) of the revealed weight that must vote `keep` for a
    /// challenged subject to stay; the listing wins iff
    /// `100 × keep > vote_quorum_pct × (keep + remove)`.
    pub vote_quorum_pct: u8,
    /// Delay between `init_exit` and `finalize_exit`, in seconds; the listing
    /// stays listed and challengeable meanwhile. At least
    /// `commit_stage_secs + reveal_stage_secs`, so that a challenge lodged
    /// when the exit starts can run its whole poll before the exit matures.
    pub exit_delay_secs: u64,
    /// How long, in seconds, an increase of `min_deposit` waits before it
    /// applies to existing listings (they can top up or exit meanwhile); new
    /// applications pay the new minimum at once. At least `exit_delay_secs`.
    pub deposit_grace_secs: u64,
    /// Revealed weight (keep + remove) a poll needs for a kept listing's
    /// survival to count toward its reputation; a poll nobody watched proves
    /// nothing.
    pub min_survival_weight: Uint128,
    /// Share (0 to 100, rounded up) of a committed vote's weight that is
    /// forfeited when the vote is not revealed; it goes to the owner's
    /// treasury with the rounding dust.
    pub unrevealed_penalty_pct: u8,
}

/// The minimum deposit existing listings must hold: `before` until `at`,
/// `after` from then on. An increase of `min_deposit` is announced this way
/// (`at` = the update + the grace period); a decrease applies at once.
#[cw_serde]
pub struct MinDepositFloor {
    /// The minimum in force before `at`.
    pub before: Uint128,
    /// The minimum in force from `at` on (the current `min_deposit`).
    pub after: Uint128,
    /// When `after` takes over.
    pub at: Timestamp,
}

impl MinDepositFloor {
    /// A floor that is `amount` from now on.
    pub fn flat(amount: Uint128, now: Timestamp) -> Self {
        Self {
            before: amount,
            after: amount,
            at: now,
        }
    }

    /// The minimum an existing listing must hold at `now`; also the stake
    /// of a challenge started at `now`.
    pub fn at(&self, now: Timestamp) -> Uint128 {
        if now < self.at {
            self.before
        } else {
            self.after
        }
    }
}

#[cw_serde]
pub struct Config {
    /// The stake token.
    pub stake: AssetInfo,
}

/// A vote choice in a challenge's poll.
#[cw_serde]
#[derive(Copy, Eq)]
pub enum Choice {
    /// The subject stays listed (or its application is accepted).
    Keep,
    /// The subject is removed (the challenger is right).
    Remove,
}

impl Choice {
    /// The byte the commitment encodes.
    pub fn byte(self) -> u8 {
        match self {
            Choice::Keep => 1,
            Choice::Remove => 0,
        }
    }
}

/// A subject's lifecycle as reported by queries.
#[cw_serde]
#[derive(Copy, Eq)]
pub enum ListingStatus {
    /// Applied; not listed yet (until `update_status` after the period).
    Application,
    /// Listed.
    Listed,
    /// Listed, with an exit requested that has not matured yet.
    Exiting,
    /// The exit delay passed: no longer listed, awaiting `finalize_exit`.
    Exited,
}

#[cw_serde]
pub struct Listing {
    #[serde(rename = "o")]
    pub owner: Addr,
    #[serde(rename = "d")]
    pub data: String,
    /// True once accepted (application ended unchallenged or survived).
    #[serde(rename = "w")]
    pub whitelisted: bool,
    /// Everything held for this listing, including a challenge's held stake.
    #[serde(rename = "k")]
    pub deposit: Uint128,
    #[serde(rename = "ae")]
    pub application_end: Timestamp,
    #[serde(rename = "ls", default, skip_serializing_if = "Option::is_none")]
    pub listed_since: Option<Timestamp>,
    #[serde(rename = "ch", default, skip_serializing_if = "Option::is_none")]
    pub challenge_id: Option<u64>,
    #[serde(rename = "ex", default, skip_serializing_if = "Option::is_none")]
    pub exit_at: Option<Timestamp>,
    #[serde(rename = "sv")]
    pub challenges_survived: u32,
    #[serde(rename = "lv", default, skip_serializing_if = "Option::is_none")]
    pub last_survived: Option<Timestamp>,
}

impl Listing {
    pub fn status(&self, now: Timestamp) -> ListingStatus {
        match (self.whitelisted, self.exit_at) {
            (false, _) => ListingStatus::Application,
            (true, None) => ListingStatus::Listed,
            (true, Some(at)) if now < at => ListingStatus::Exiting,
            (true, Some(_)) => ListingStatus::Exited,
        }
    }

    pub fn is_listed(&self, now: Timestamp) -> bool {
        matches!(
            self.status(now),
            ListingStatus::Listed | ListingStatus::Exiting
        )
    }
}

/// What a challenge fixes when it starts (written once). Records use short
/// JSON keys: every stored byte costs 30 SDK gas.
#[cw_serde]
pub struct Poll {
    #[serde(rename = "s")]
    pub subject: String,
    #[serde(rename = "c")]
    pub challenger: Addr,
    /// What each side risks: the challenger's stake, and as much of the
    /// listing's deposit (snapshot of `min_deposit`).
    #[serde(rename = "k")]
    pub stake: Uint128,
    #[serde(rename = "r")]
    pub reason: String,
    #[serde(rename = "ce")]
    pub commit_end: Timestamp,
    #[serde(rename = "re")]
    pub reveal_end: Timestamp,
    #[serde(rename = "q")]
    pub vote_quorum_pct: u8,
    #[serde(rename = "d")]
    pub dispensation_pct: u8,
    /// Snapshot of `min_survival_weight` (0 for polls started before it existed).
    #[serde(rename = "m", default)]
    pub min_survival_weight: Uint128,
    /// Snapshot of `unrevealed_penalty_pct` (0 for polls started before it existed).
    #[serde(rename = "x", default)]
    pub unrevealed_penalty_pct: u8,
}

/// What reveals, resolution and claims change, kept apart from [`Poll`] so
/// that those writes stay small.
#[cw_serde]
#[derive(Default)]
pub struct Tally {
    #[serde(rename = "vk")]
    pub votes_keep: Uint128,
    #[serde(rename = "vr")]
    pub votes_remove: Uint128,
    #[serde(rename = "nk")]
    pub voters_keep: u32,
    #[serde(rename = "nr")]
    pub voters_remove: u32,
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Choice>,
    #[serde(rename = "w")]
    pub winner_reward: Uint128,
    #[serde(rename = "p")]
    pub reward_pool: Uint128,
    #[serde(rename = "c")]
    pub reward_claimed: Uint128,
    #[serde(rename = "n")]
    pub claims: u32,
}

impl Tally {
    /// The winning side's revealed weight and voter count.
    pub fn winning_tally(&self, outcome: Choice) -> (Uint128, u32) {
        match outcome {
            Choice::Keep => (self.votes_keep, self.voters_keep),
            Choice::Remove => (self.votes_remove, self.voters_remove),
        }
    }

    /// Voter rewards not yet claimed.
    pub fn unclaimed(&self) -> Uint128 {
        self.reward_pool - self.reward_claimed
    }
}

#[cw_serde]
pub struct Vote {
    #[serde(rename = "h")]
    pub commitment: HexBinary,
    #[serde(rename = "w")]
    pub weight: Uint128,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub revealed: Option<Choice>,
    #[serde(rename = "c")]
    pub claimed: bool,
    /// The poll's `unrevealed_penalty_pct`, copied so that the lapse of an
    /// unrevealed vote is settled from this record alone.
    #[serde(rename = "x", default)]
    pub penalty_pct: u8,
}

impl Vote {
    /// What this vote forfeits if it lapses unrevealed:
    /// `ceil(weight × penalty_pct / 100)`, zero once revealed.
    pub fn forfeit(&self) -> Uint128 {
        if self.revealed.is_some() || self.penalty_pct == 0 {
            return Uint128::zero();
        }
        let num = self.weight.full_mul(self.penalty_pct as u128) + Uint256::from(99u8);
        // weight × pct / 100 ≤ weight, so it fits in a Uint128.
        Uint128::try_from(num / Uint256::from(100u8)).unwrap_or(self.weight)
    }
}

#[cw_serde]
pub struct Lock {
    #[serde(rename = "p")]
    pub poll_id: u64,
    #[serde(rename = "w")]
    pub weight: Uint128,
    /// The poll's reveal end: the weight is no longer needed after it.
    #[serde(rename = "u")]
    pub until: Timestamp,
}

#[cw_serde]
#[derive(Default)]
pub struct Voter {
    #[serde(rename = "b")]
    pub balance: Uint128,
    #[serde(rename = "l")]
    pub locks: Vec<Lock>,
}

impl Voter {
    /// What live locks need: the largest one (the same tokens back every poll).
    pub fn locked(&self, now: Timestamp) -> Uint128 {
        self.locks
            .iter()
            .filter(|l| l.until > now)
            .map(|l| l.weight)
            .max()
            .unwrap_or_default()
    }
}

pub const CONFIG: Item<Config> = Item::new("config");
pub const PARAMS: Item<Params> = Item::new("params");
/// The id the next challenge's poll gets.
pub const NEXT_POLL_ID: Item<u64> = Item::new("next_poll");
/// Rounding dust of voter rewards (see README), swept by the owner.
pub const DUST: Item<Uint128> = Item::new("dust");
/// Stakes forfeited by unrevealed votes, swept by the owner with the dust.
pub const FORFEITED: Item<Uint128> = Item::new("forfeited");
/// The minimum deposit existing listings must hold, with a pending increase.
pub const MIN_DEPOSIT_FLOOR: Item<MinDepositFloor> = Item::new("floor");
pub const LISTINGS: Map<&str, Listing> = Map::new("l");
pub const POLLS: Map<u64, Poll> = Map::new("p");
pub const TALLIES: Map<u64, Tally> = Map::new("t");
pub const VOTES: Map<(u64, &Addr), Vote> = Map::new("v");
pub const VOTERS: Map<&Addr, Voter> = Map::new("u");
