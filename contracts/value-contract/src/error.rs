//! Typed errors, each with the context a client needs (ids, addresses,
//! expected and received amounts).

use cosmwasm_std::{OverflowError, StdError, Uint128};
use cw_ownable::OwnershipError;
use cw_utils::PaymentError;
use thiserror::Error;
use wevalue_common::migration::MigrationError;
use wevalue_common::AssetError;

use crate::state::TaskStatus;

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

    #[error(transparent)]
    Overflow(#[from] OverflowError),

    #[error("template {id} not found")]
    TemplateNotFound { id: u64 },

    #[error("template {id} is disabled")]
    TemplateInactive { id: u64 },

    #[error("task {id} not found")]
    TaskNotFound { id: u64 },

    #[error("{field} must be {min} to {max} characters long, got {actual}")]
    FieldLength {
        field: &'static str,
        min: usize,
        max: usize,
        actual: usize,
    },

    #[error("{field} {value:?} is invalid: {reason}")]
    InvalidField {
        field: &'static str,
        value: String,
        reason: &'static str,
    },

    #[error("invalid IPFS CID {cid:?}: {reason}")]
    InvalidCid { cid: String, reason: &'static str },

    #[error("{field} must be {min} to {max}, got {actual}")]
    OutOfRange {
        field: &'static str,
        min: u64,
        max: u64,
        actual: u64,
    },

    #[error("invalid task parameters: {reason}")]
    InvalidParams { reason: &'static str },

    #[error("template {template_id} only allows asset {allowed}")]
    AssetNotAllowed { template_id: u64, allowed: String },

    #[error("task {task_id} is {status:?}: {action} is not possible now")]
    WrongStatus {
        task_id: u64,
        status: TaskStatus,
        action: &'static str,
    },

    #[error("task {task_id} is paid in {expected}, not {received}")]
    WrongAsset {
        task_id: u64,
        expected: String,
        received: String,
    },

    #[error("{what} must be greater than zero")]
    ZeroAmount { what: &'static str },

    #[error("wrong bond for task {task_id}: expected {expected}, received {received}")]
    WrongBond {
        task_id: u64,
        expected: Uint128,
        received: Uint128,
    },

    #[error("wrong offer deposit for task {task_id}: expected {expected}, received {received}")]
    WrongDeposit {
        task_id: u64,
        expected: Uint128,
        received: Uint128,
    },

    #[error("offer {offer_id} on task {task_id} already has these terms")]
    OfferUnchanged { task_id: u64, offer_id: u64 },

    #[error("{participant}'s offer on task {task_id} holds a slot: {reason}")]
    OfferHoldsSlot {
        task_id: u64,
        participant: String,
        reason: &'static str,
    },

    #[error("{participant}'s offer on task {task_id} lapsed unconfirmed: its deposit went to the sponsors")]
    DepositSlashed { task_id: u64, participant: String },

    #[error("task {task_id} already has {max} live offers")]
    TooManyOffers { task_id: u64, max: u32 },

    #[error("{participant} already has offer {offer_id} on task {task_id}")]
    OfferExists {
        task_id: u64,
        participant: String,
        offer_id: u64,
    },

    #[error("{participant} has no offer on task {task_id}")]
    NoOffer { task_id: u64, participant: String },

    #[error("invalid offer: {reason}")]
    InvalidOffer { reason: &'static str },

    #[error("invalid proposal, assignment {index}: {reason}")]
    InfeasibleProposal { index: usize, reason: &'static str },

    #[error("proposal costs {cost}, above the budget of {budget}")]
    OverBudget { cost: Uint128, budget: Uint128 },

    #[error("proposal ({units} units, cost {cost}) does not beat the best so far ({best_units} units, cost {best_cost})")]
    NotBetter {
        units: u64,
        cost: Uint128,
        best_units: u64,
        best_cost: Uint128,
    },

    #[error("{participant} has no slot on task {task_id}")]
    NotMatched { task_id: u64, participant: String },

    #[error("{participant} already confirmed on task {task_id}")]
    AlreadyConfirmed { task_id: u64, participant: String },

    #[error("{address} is not a member of oracle config version {version}")]
    NotOracle { address: String, version: u32 },

    #[error("oracle set invalid: {reason}")]
    InvalidOracleSet { reason: &'static str },

    #[error("a quorum of {min_quorum} needs at least {min_quorum} oracles; the set has {members}")]
    QuorumUnreachable { min_quorum: u32, members: u32 },

    #[error("{tasks} running task(s) need a quorum of {min_quorum}; the new set has only {members} members")]
    RotationStrandsTasks {
        min_quorum: u32,
        members: u32,
        tasks: u32,
    },

    #[error("{count} values given; 1 to {max} allowed")]
    ReportSize { count: usize, max: u32 },

    #[error("values must list participants in strictly increasing order (at {index})")]
    UnsortedValues { index: usize },

    #[error("{participant} is not a confirmed participant of task {task_id}")]
    NotParticipant { task_id: u64, participant: String },

    #[error("the value of {participant} on task {task_id} is already accepted")]
    AlreadyFinal { task_id: u64, participant: String },

    #[error("oracle {oracle} already attested {participant} on task {task_id}")]
    DuplicateAttestation {
        task_id: u64,
        participant: String,
        oracle: String,
    },

    #[error("report is for chain {found:?}, this is {expected:?}")]
    WrongChain { expected: String, found: String },

    #[error("report is for contract {found}, this is {expected}")]
    WrongContract { expected: String, found: String },

    #[error("report is for task {found}, submitted to task {expected}")]
    WrongTask { expected: u64, found: u64 },

    #[error("report uses oracle config version {found}; the current one is {current}")]
    StaleConfig { current: u32, found: u32 },

    #[error("task {task_id} already accepted a report for round {round}")]
    ReplayedRound { task_id: u64, round: u64 },

    #[error("oracle index {index} is out of range or repeated")]
    BadSigner { index: u32 },

    #[error("{valid} signatures, {required} required")]
    NotEnoughSignatures { valid: u32, required: u32 },

    #[error("signature of oracle {index} does not verify")]
    InvalidSignature { index: u32 },

    #[error("nothing to claim on task {task_id} for {address}")]
    NothingToClaim { task_id: u64, address: String },

    #[error("stored task {task_id} is inconsistent: {reason}")]
    Inconsistent { task_id: u64, reason: &'static str },
}
