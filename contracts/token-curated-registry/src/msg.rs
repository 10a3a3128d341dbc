use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Binary, HexBinary, Timestamp, Uint128};
use cw20::Cw20ReceiveMsg;
use cw_ownable::{cw_ownable_execute, cw_ownable_query};
use wevalue_common::asset::{AssetInfo, AssetInfoUnchecked};

use crate::state::{Choice, ListingStatus, Params};

#[cw_serde]
pub struct InstantiateMsg {
    /// Who may change the parameters (meant to be a DAO); defaults to the sender.
    pub owner: Option<String>,
    /// The stake token, fixed for the contract's lifetime: a native denom or a
    /// cw20 contract (cw20 deposits arrive through `receive`).
    pub stake: AssetInfoUnchecked,
    /// The initial parameters.
    pub params: Params,
}

/// A partial parameter change: fields left out keep their value. Running
/// applications, polls and exits keep the values they started with.
#[cw_serde]
#[derive(Default)]
pub struct ParamsUpdate {
    /// New minimum listing deposit (and challenge stake); an increase
    /// reaches existing listings after `deposit_grace_secs`.
    pub min_deposit: Option<Uint128>,
    /// New application period, in seconds.
    pub apply_stage_secs: Option<u64>,
    /// New commit period, in seconds.
    pub commit_stage_secs: Option<u64>,
    /// New reveal period, in seconds.
    pub reveal_stage_secs: Option<u64>,
    /// New share of the loser's stake paid to the winning party, 0 to 100.
    pub dispensation_pct: Option<u8>,
    /// New share of the revealed weight, 0 to 100, that must vote `keep` for
    /// a challenged listing to stay.
    pub vote_quorum_pct: Option<u8>,
    /// New delay between `init_exit` and `finalize_exit`, in seconds (at
    /// least the commit plus the reveal period).
    pub exit_delay_secs: Option<u64>,
    /// New grace period, in seconds, before an increase of `min_deposit`
    /// applies to existing listings (at least the exit delay).
    pub deposit_grace_secs: Option<u64>,
    /// New revealed weight a poll needs for a survival to count toward
    /// reputation.
    pub min_survival_weight: Option<Uint128>,
    /// New share, 0 to 100, of an unrevealed vote's weight that it forfeits.
    pub unrevealed_penalty_pct: Option<u8>,
}

#[cw_ownable_execute]
#[cw_serde]
pub enum ExecuteMsg {
    /// cw20 deposits (stake token is a cw20): the `msg` is a [`ReceiveMsg`].
    Receive(Cw20ReceiveMsg),
    /// Applies to list `subject`, attaching a deposit of at least
    /// `min_deposit` in the native stake denom.
    Apply {
        /// The subject: a bech32 address (then only that address may apply)
        /// or any other id of 1 to 128 printable ASCII characters.
        subject: String,
        /// IPFS CID of the application's supporting data.
        data: String,
    },
    /// Adds the attached native stake to a listing's deposit (its owner only).
    Deposit {
        /// The listing's subject.
        subject: String,
    },
    /// Withdraws deposit above the current `min_deposit` that no challenge
    /// holds (owner only).
    Withdraw {
        /// The listing's subject.
        subject: String,
        /// How much to withdraw.
        amount: Uint128,
    },
    /// Starts a voluntary exit; refused while a challenge is open (owner only).
    InitExit {
        /// The listing's subject.
        subject: String,
    },
    /// Completes an exit after its delay and refunds the whole deposit (owner only).
    FinalizeExit {
        /// The listing's subject.
        subject: String,
    },
    /// Challenges an application or a listing of someone else, attaching
    /// exactly the minimum deposit in force (`config` query) of the native
    /// stake denom. A listing whose deposit is below that minimum is removed
    /// at once and the stake returned.
    Challenge {
        /// The challenged subject.
        subject: String,
        /// IPFS CID of the reasons for the challenge.
        reason: String,
    },
    /// Lazily advances a subject: lists an unchallenged application whose
    /// period ended, or resolves a challenge whose reveal period ended.
    /// Anyone may call it.
    UpdateStatus {
        /// The subject to advance.
        subject: String,
    },
    /// Adds the attached native stake to the sender's voting balance.
    DepositVotingTokens {},
    /// Withdraws voting tokens that no open poll still needs (after the
    /// forfeits of lapsed unrevealed votes).
    WithdrawVotingTokens {
        /// How much to withdraw.
        amount: Uint128,
    },
    /// Commits a secret vote during a poll's commit period, locking `weight`
    /// of the voting balance until the poll's reveal period ends. Committing
    /// again in the same period replaces the earlier commitment. A vote not
    /// revealed by the reveal end forfeits the poll's `unrevealed_penalty_pct`
    /// of its weight.
    CommitVote {
        /// The poll (challenge) id.
        poll_id: u64,
        /// sha256 commitment, see the `commitment` query and the README.
        commitment: HexBinary,
        /// Voting weight, at most the voter's balance.
        weight: Uint128,
    },
    /// Reveals a committed vote during the poll's reveal period.
    RevealVote {
        /// The poll (challenge) id.
        poll_id: u64,
        /// The committed choice.
        choice: Choice,
        /// The committed salt (16 to 64 bytes).
        salt: Binary,
    },
    /// Claims the sender's share of a resolved poll's voter reward.
    ClaimReward {
        /// The poll (challenge) id.
        poll_id: u64,
    },
    /// Changes parameters (owner only); running polls keep theirs.
    UpdateParams(ParamsUpdate),
    /// Sends the accumulated rounding dust and the forfeits of unrevealed
    /// votes to `recipient` (owner only).
    SweepDust {
        /// Where to send the dust.
        recipient: String,
    },
}

/// The `msg` of a cw20 `send` to this contract.
#[cw_serde]
pub enum ReceiveMsg {
    /// Like [`ExecuteMsg::Apply`], with the sent tokens as the deposit.
    Apply {
        /// The subject (see `ExecuteMsg::Apply`).
        subject: String,
        /// IPFS CID of the application's supporting data.
        data: String,
    },
    /// Like [`ExecuteMsg::Deposit`].
    Deposit {
        /// The listing's subject.
        subject: String,
    },
    /// Like [`ExecuteMsg::Challenge`], with the sent tokens as the stake.
    Challenge {
        /// The challenged subject.
        subject: String,
        /// IPFS CID of the reasons for the challenge.
        reason: String,
    },
    /// Like [`ExecuteMsg::DepositVotingTokens`].
    DepositVotingTokens {},
}

/// Migrations take no options: a registry from before the hardening gets
/// the defaults the README states for the parameters it lacks.
#[cw_serde]
pub struct MigrateMsg {}

#[cw_ownable_query]
#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    /// The curation interface: whether `subject` is listed now.
    #[returns(wevalue_common::curation::IsListedResponse)]
    IsListed {
        /// The subject.
        subject: String,
    },
    /// The stake token, the treasury accounts and the minimum deposit in force.
    #[returns(ConfigResponse)]
    Config {},
    /// The current parameters (an increase of `min_deposit` applies to
    /// existing listings only from `config.pending_min_deposit.applies_at`).
    #[returns(Params)]
    Params {},
    /// One listing or application.
    #[returns(ListingResponse)]
    Listing {
        /// The subject.
        subject: String,
    },
    /// Listings and applications in subject order.
    #[returns(ListingsResponse)]
    Listings {
        /// The last subject of the previous page.
        start_after: Option<String>,
        /// Page size, default 10, at most 30.
        limit: Option<u32>,
    },
    /// The voting side of a poll: periods, snapshot rules, tallies, outcome.
    #[returns(PollResponse)]
    Poll {
        /// The poll (challenge) id.
        poll_id: u64,
    },
    /// Polls in id order.
    #[returns(PollsResponse)]
    Polls {
        /// The last poll id of the previous page.
        start_after: Option<u64>,
        /// Page size, default 10, at most 30.
        limit: Option<u32>,
    },
    /// The challenge side of a poll: challenger, stake, reason, payouts.
    /// (Not `challenge`: an execute message has that name, and generated
    /// TypeScript clients need distinct names.)
    #[returns(ChallengeInfoResponse)]
    ChallengeInfo {
        /// The poll (challenge) id.
        poll_id: u64,
    },
    /// A voter's balance, what open polls lock of it, and those locks.
    #[returns(VoterResponse)]
    Voter {
        /// The voter's address.
        address: String,
    },
    /// Voters in address order.
    #[returns(VotersResponse)]
    Voters {
        /// The last address of the previous page.
        start_after: Option<String>,
        /// Page size, default 10, at most 30.
        limit: Option<u32>,
    },
    /// One voter's vote in a poll.
    #[returns(VoteResponse)]
    Vote {
        /// The poll (challenge) id.
        poll_id: u64,
        /// The voter's address.
        voter: String,
    },
    /// What `voter` could claim from `poll_id` now (zero when nothing).
    #[returns(ClaimableResponse)]
    ClaimableReward {
        /// The poll (challenge) id.
        poll_id: u64,
        /// The voter's address.
        voter: String,
    },
    /// A subject's reputation score (see the README for the formula).
    #[returns(ReputationResponse)]
    Reputation {
        /// The subject.
        subject: String,
    },
    /// Computes the commitment a voter must submit (for clients; nothing secret
    /// is stored, but query the node you trust: the salt travels in the query).
    #[returns(CommitmentResponse)]
    Commitment {
        /// The poll (challenge) id.
        poll_id: u64,
        /// The voter's address.
        voter: String,
        /// The choice.
        choice: Choice,
        /// The salt, 16 to 64 bytes.
        salt: Binary,
    },
}

#[cw_serde]
pub struct ConfigResponse {
    /// The stake token.
    pub stake: AssetInfo,
    /// Rounding dust of voter rewards, held for the owner to sweep.
    pub dust: Uint128,
    /// Stakes forfeited by unrevealed votes (settled so far), held for the
    /// owner to sweep with the dust.
    pub forfeited: Uint128,
    /// The next poll id.
    pub next_poll_id: u64,
    /// The minimum deposit existing listings must hold now, and the stake of
    /// a challenge started now.
    pub min_deposit_in_force: Uint128,
    /// An announced increase of the minimum deposit, still in its grace period.
    pub pending_min_deposit: Option<PendingMinDeposit>,
}

#[cw_serde]
pub struct PendingMinDeposit {
    /// The new minimum deposit (the current `min_deposit` parameter).
    pub amount: Uint128,
    /// When it applies to existing listings and challenges.
    pub applies_at: Timestamp,
}

#[cw_serde]
pub struct ListingResponse {
    /// The subject.
    pub subject: String,
    /// Who applied and owns the deposit.
    pub owner: Addr,
    /// IPFS CID of the application data.
    pub data: String,
    /// Application, listed, or exited (listed status as of this block).
    pub status: ListingStatus,
    /// True when `is_listed` answers true now.
    pub listed: bool,
    /// Deposit held for this listing, including any stake a challenge holds.
    pub deposit: Uint128,
    /// The part of the deposit no challenge holds.
    pub free_deposit: Uint128,
    /// When the application period ends (the subject can be listed after).
    pub application_end: Timestamp,
    /// When the subject became listed.
    pub listed_since: Option<Timestamp>,
    /// The open challenge (poll id), if any.
    pub challenge_id: Option<u64>,
    /// When a requested exit can be finalized.
    pub exit_at: Option<Timestamp>,
    /// Challenges this listing has won.
    pub challenges_survived: u32,
}

#[cw_serde]
pub struct ListingsResponse {
    /// One page of listings.
    pub listings: Vec<ListingResponse>,
}

#[cw_serde]
pub struct PollResponse {
    /// The poll id.
    pub poll_id: u64,
    /// The challenged subject.
    pub subject: String,
    /// End of the commit period.
    pub commit_end: Timestamp,
    /// End of the reveal period.
    pub reveal_end: Timestamp,
    /// Snapshot of `vote_quorum_pct` when the poll started.
    pub vote_quorum_pct: u8,
    /// Snapshot of `dispensation_pct` when the poll started.
    pub dispensation_pct: u8,
    /// Revealed weight for `keep`.
    pub votes_keep: Uint128,
    /// Revealed weight for `remove`.
    pub votes_remove: Uint128,
    /// Number of revealed `keep` votes.
    pub voters_keep: u32,
    /// Number of revealed `remove` votes.
    pub voters_remove: u32,
    /// The outcome once resolved.
    pub outcome: Option<Choice>,
    /// The voters' reward pool once resolved.
    pub reward_pool: Uint128,
    /// How much of the pool has been claimed (or, after the last claim, the
    /// whole pool: the remainder went to the dust).
    pub reward_claimed: Uint128,
    /// How many winning voters have claimed.
    pub claims: u32,
}

#[cw_serde]
pub struct PollsResponse {
    /// One page of polls.
    pub polls: Vec<PollResponse>,
}

#[cw_serde]
pub struct ChallengeInfoResponse {
    /// The poll id.
    pub poll_id: u64,
    /// The challenged subject.
    pub subject: String,
    /// Who challenged.
    pub challenger: Addr,
    /// The stake each side risks (the challenger's stake; the same amount of
    /// the listing's deposit is held).
    pub stake: Uint128,
    /// IPFS CID of the reasons.
    pub reason: String,
    /// Whether the challenge has been resolved.
    pub resolved: bool,
    /// The winning party's payout beyond its own stake, once resolved.
    pub winner_reward: Uint128,
}

#[cw_serde]
pub struct LockInfo {
    /// The poll.
    pub poll_id: u64,
    /// Weight committed.
    pub weight: Uint128,
    /// When the lock lapses (the poll's reveal end).
    pub until: Timestamp,
}

#[cw_serde]
pub struct VoterResponse {
    /// The voter.
    pub address: Addr,
    /// Voting tokens held for the voter (including payouts credited to
    /// them), after the forfeits of lapsed unrevealed votes.
    pub balance: Uint128,
    /// What lapsed unrevealed votes forfeit and the voter's next commit or
    /// withdrawal moves to the treasury (already taken out of `balance`).
    pub forfeit: Uint128,
    /// What open polls lock now: the largest live lock.
    pub locked: Uint128,
    /// What the voter can withdraw now.
    pub withdrawable: Uint128,
    /// Live locks (polls whose reveal period has not ended).
    pub locks: Vec<LockInfo>,
}

#[cw_serde]
pub struct VotersResponse {
    /// One page of voters.
    pub voters: Vec<VoterResponse>,
}

#[cw_serde]
pub struct VoteResponse {
    /// The committed sha256 commitment.
    pub commitment: HexBinary,
    /// The committed weight.
    pub weight: Uint128,
    /// The revealed choice, if revealed.
    pub revealed: Option<Choice>,
    /// Whether the reward was claimed.
    pub claimed: bool,
    /// What the vote forfeits if it is not revealed by the reveal end (zero
    /// once revealed).
    pub unrevealed_penalty: Uint128,
}

#[cw_serde]
pub struct ClaimableResponse {
    /// Claimable amount now.
    pub amount: Uint128,
}

#[cw_serde]
pub struct ReputationResponse {
    /// The subject.
    pub subject: String,
    /// Score in basis points, 0 to 10,000.
    pub score: u32,
    /// Stake component, 0 to 4,000.
    pub stake_part: u32,
    /// Tenure component, 0 to 3,000.
    pub tenure_part: u32,
    /// Decayed challenge-survival component, 0 to 3,000.
    pub survival_part: u32,
}

#[cw_serde]
pub struct CommitmentResponse {
    /// sha256 of the encoded preimage.
    pub commitment: HexBinary,
}
