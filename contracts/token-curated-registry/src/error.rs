use cosmwasm_std::{StdError, Timestamp, Uint128};
use cw_ownable::OwnershipError;
use cw_utils::PaymentError;
use thiserror::Error;
use wevalue_common::migration::MigrationError;
use wevalue_common::AssetError;

use crate::state::MAX_OPEN_POLLS;

#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
    #[error(transparent)]
    Std(#[from] StdError),

    #[error(transparent)]
    Ownership(#[from] OwnershipError),

    #[error(transparent)]
    Payment(#[from] PaymentError),

    #[error(transparent)]
    Asset(#[from] AssetError),

    #[error(transparent)]
    Migration(#[from] MigrationError),

    #[error("invalid parameter {param}: {reason}")]
    InvalidParam {
        param: &'static str,
        reason: &'static str,
    },

    #[error("the parameter update changes nothing")]
    EmptyUpdate,

    #[error("the stake token is the cw20 {token}: send it with the `receive` hook")]
    Cw20Only { token: String },

    #[error("the stake token is native {denom}: cw20 deposits are not accepted")]
    NativeOnly { denom: String },

    #[error("received cw20 {token}, but the stake token is {expected}")]
    WrongToken { token: String, expected: String },

    #[error("invalid subject {subject:?}: {reason}")]
    InvalidSubject {
        subject: String,
        reason: &'static str,
    },

    #[error("only {subject} itself may apply for the address {subject}")]
    NotSubject { subject: String },

    #[error("invalid IPFS CID {cid:?}: {reason}")]
    InvalidCid { cid: String, reason: &'static str },

    #[error("{subject} already has an application or listing")]
    AlreadyApplied { subject: String },

    #[error("{subject} has no application or listing")]
    ListingNotFound { subject: String },

    #[error("only the owner of the listing {subject} may do this")]
    NotListingOwner { subject: String },

    #[error("deposit {received} is below the minimum deposit {min_deposit}")]
    DepositTooLow {
        received: Uint128,
        min_deposit: Uint128,
    },

    #[error("a challenge stake must be exactly {expected}, received {received}")]
    WrongChallengeStake {
        expected: Uint128,
        received: Uint128,
    },

    #[error("the amount must be greater than zero")]
    ZeroAmount,

    #[error("cannot withdraw {requested} from {subject}: only {available} is above the minimum deposit and free of challenges")]
    WithdrawTooMuch {
        subject: String,
        requested: Uint128,
        available: Uint128,
    },

    #[error("the owner of {subject} may not challenge it")]
    SelfChallenge { subject: String },

    #[error("{subject} has an open challenge (poll {poll_id})")]
    ChallengeOpen { subject: String, poll_id: u64 },

    #[error("{subject} has already requested an exit")]
    ExitAlreadyRequested { subject: String },

    #[error("{subject} is not listed, so it cannot exit")]
    ExitNotListed { subject: String },

    #[error("{subject} has not requested an exit")]
    ExitNotRequested { subject: String },

    #[error("the exit of {subject} can be finalized at {at}")]
    ExitNotReady { subject: String, at: Timestamp },

    #[error("{subject} has exited (at {at}) and can no longer be challenged")]
    ChallengeDuringExit { subject: String, at: Timestamp },

    #[error("nothing to update for {subject}: {reason}")]
    NothingToUpdate {
        subject: String,
        reason: &'static str,
    },

    #[error("poll {poll_id} not found")]
    PollNotFound { poll_id: u64 },

    #[error("poll {poll_id}: the commit period ended at {ended}")]
    CommitPeriodOver { poll_id: u64, ended: Timestamp },

    #[error("poll {poll_id}: the reveal period runs from {starts} to {ends}")]
    NotRevealPeriod {
        poll_id: u64,
        starts: Timestamp,
        ends: Timestamp,
    },

    #[error("commitment must be a 32-byte sha256 digest, got {len} bytes")]
    InvalidCommitment { len: usize },

    #[error("salt must be 16 to 64 bytes, got {len}")]
    InvalidSalt { len: usize },

    #[error("voting weight {weight} exceeds the voting balance {balance}")]
    InsufficientVotingBalance { weight: Uint128, balance: Uint128 },

    #[error("a voter may have at most {} polls open at once (polls whose reveal period has not ended); wait for one to end", MAX_OPEN_POLLS)]
    TooManyOpenPolls,

    #[error("no vote committed by {voter} in poll {poll_id}")]
    VoteNotFound { poll_id: u64, voter: String },

    #[error("the vote in poll {poll_id} is already revealed")]
    AlreadyRevealed { poll_id: u64 },

    #[error("the revealed choice and salt do not match the commitment in poll {poll_id}")]
    CommitmentMismatch { poll_id: u64 },

    #[error("poll {poll_id} is not resolved yet")]
    PollNotResolved { poll_id: u64 },

    #[error("the vote in poll {poll_id} was not revealed, so it earns nothing")]
    NotRevealed { poll_id: u64 },

    #[error("the vote in poll {poll_id} was on the losing side")]
    LosingSide { poll_id: u64 },

    #[error("poll {poll_id} has no voter reward (it went to the winning party)")]
    NoVoterReward { poll_id: u64 },

    #[error("the reward of poll {poll_id} is already claimed")]
    AlreadyClaimed { poll_id: u64 },

    #[error("cannot withdraw {requested}: {available} is free of open polls")]
    VotingTokensLocked {
        requested: Uint128,
        available: Uint128,
    },

    #[error("there is no dust or forfeit to sweep")]
    NoDust,
}
