//! Messages: instantiate, execute (with the cw20 hooks), query and migrate,
//! and the parts they carry. Query answers are in `responses`.

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Binary, Uint128};
use cw20::Cw20ReceiveMsg;
use cw_ownable::{cw_ownable_execute, cw_ownable_query};
use wevalue_common::asset::AssetInfoUnchecked;

use crate::state::{KeyScheme, TaskKind, TaskStatus};

#[cw_serde]
pub struct InstantiateMsg {
    /// Who registers templates, sets the oracle set and may void results
    /// (meant to be a DAO); defaults to the sender.
    pub owner: Option<String>,
    /// The initial oracle set; `None` leaves it empty (version 0) until the
    /// owner calls `set_oracles`.
    pub oracles: Option<OracleSetMsg>,
}

/// One oracle of the proof-of-authority set.
#[cw_serde]
pub struct OracleMemberMsg {
    /// The oracle's account; it sends single attestations from it.
    pub address: String,
    /// The key it signs aggregated reports with: 33-byte compressed (or
    /// 65-byte uncompressed) secp256k1, or 32-byte ed25519.
    pub pubkey: Binary,
    /// Which signature scheme `pubkey` belongs to.
    pub scheme: KeyScheme,
}

/// A complete oracle set: replaces the previous one and bumps the version.
#[cw_serde]
pub struct OracleSetMsg {
    /// 1 to 16 members with distinct addresses and keys.
    pub members: Vec<OracleMemberMsg>,
    /// k: how many members must agree, 1 to the number of members.
    pub threshold: u32,
}

/// The relative durations of a task's phases, in seconds.
#[cw_serde]
#[derive(Copy, Default)]
pub struct Durations {
    /// Funding window, from creation to the funding deadline.
    pub funding: u64,
    /// Matching window after the funding deadline (offers and solver proposals).
    pub matching: u64,
    /// Length of one acceptance round (up to 3 rounds: the first plus 2 refills).
    pub acceptance: u64,
    /// Execution window after the last acceptance round.
    pub execution: u64,
    /// Window after execution in which oracles attest.
    pub verification: u64,
    /// Window after the values are known in which the owner may void.
    pub dispute: u64,
}

/// Optional per-task overrides of the template's durations (seconds).
#[cw_serde]
#[derive(Default)]
pub struct DurationOverrides {
    /// Funding window.
    pub funding: Option<u64>,
    /// Matching window.
    pub matching: Option<u64>,
    /// One acceptance round.
    pub acceptance: Option<u64>,
    /// Execution window.
    pub execution: Option<u64>,
    /// Verification window.
    pub verification: Option<u64>,
    /// Dispute window (only longer than the template's, never shorter).
    pub dispute: Option<u64>,
}

/// A task template, as the owner registers it.
#[cw_serde]
pub struct TemplateMsg {
    /// Short name, 1 to 64 characters.
    pub name: String,
    /// Bounty, competition, per-unit payment or crowdfunding; fixes the reward rule.
    pub kind: TaskKind,
    /// What the oracles measure (`kwh_saved`, `bench_repainted`, `bikes_moved`), 1 to 32 of a-z 0-9 `_`.
    pub metric: String,
    /// Unit of the metric (`kWh`, `bike`, `%`), 1 to 16 characters.
    pub unit: String,
    /// Restricts tasks to one asset; `None` allows any native denom or cw20.
    pub asset: Option<AssetInfoUnchecked>,
    /// Default phase durations.
    pub durations: Durations,
    /// Minimum number of agreeing oracles; the effective quorum is the larger
    /// of this and the oracle set's threshold. 1 to 16.
    pub min_quorum: u32,
    /// How far apart (in basis points of the larger value) attested values may
    /// be and still agree, 0 to 1,000 (10%): k − 1 faulty oracles can move
    /// an accepted value by up to this much.
    pub tolerance_bps: u32,
    /// Most participants a task of this template may match, 1 to 64.
    pub max_participants: u32,
    /// Deposit every offer carries, in base units of the task's asset (above
    /// zero). It comes back when the offer is withdrawn unmatched, when its
    /// participant confirms, or after acceptance if it was never matched; it
    /// goes to the sponsors when the offer is matched and lets its
    /// acceptance round pass unconfirmed.
    pub offer_deposit: Uint128,
}

/// The parameters a task creator chooses.
#[cw_serde]
pub struct TaskParams {
    /// Short title, 1 to 100 characters.
    pub title: String,
    /// IPFS CID of the full description (CIDv0 `Qm…` or CIDv1 base32 `b…`).
    pub description_cid: String,
    /// Asset the task is funded and paid in.
    pub asset: AssetInfoUnchecked,
    /// Amount that must be raised by the funding deadline, else every sponsor is refunded.
    pub funding_goal: Uint128,
    /// Metric threshold: for a bounty the value that counts as done; for
    /// crowdfunding the value that unlocks the full asked amount (paid
    /// pro rata below it). Must be zero for competitions and per-unit tasks.
    pub target: Uint128,
    /// Most participants to match, 1 to the template's `max_participants`.
    pub max_participants: u32,
    /// Bond each matched participant deposits when confirming (0 = none);
    /// returned on claim if they delivered a positive value, else given to sponsors.
    pub bond: Uint128,
    /// Duration overrides.
    #[serde(default)]
    pub durations: DurationOverrides,
}

/// One participant's measured value in a single attestation or a report.
#[cw_serde]
pub struct ParticipantValue {
    /// The participant (bech32).
    pub participant: String,
    /// The measured value, in the template's unit.
    pub value: Uint128,
}

/// An aggregated oracle report: the statement each signer signs.
#[cw_serde]
pub struct Report {
    /// Chain id the report is meant for (checked against the block's).
    pub chain_id: String,
    /// This contract's address (checked).
    pub contract: String,
    /// Task id (checked against the message's `task_id`).
    pub task_id: u64,
    /// Oracle configuration version the signers belong to (must be current).
    pub config_version: u32,
    /// Report round, a nonce: any number the task has not accepted a report
    /// for yet (rounds may arrive in any order).
    pub round: u64,
    /// IPFS CID of the evidence bundle.
    pub evidence_cid: String,
    /// Agreed values, 1 to 64, participants in strictly increasing byte order.
    pub values: Vec<ParticipantValue>,
}

/// One oracle's signature on a report.
#[cw_serde]
pub struct OracleSignature {
    /// Position of the signer in the oracle set (see the `oracles` query).
    pub oracle_index: u32,
    /// 64-byte secp256k1 (r‖s, low-s) or ed25519 signature over the report digest.
    pub signature: Binary,
}

/// One assignment of a solver proposal.
#[cw_serde]
pub struct Assignment {
    /// The offer assigned.
    pub offer_id: u64,
    /// The offer revision the solver saw; a revised offer invalidates the proposal.
    pub revision: u32,
    /// Units assigned, between the offer's `min_units` and `capacity` (1 for
    /// bounties, competitions and crowdfunding).
    pub units: u32,
}

#[cw_serde]
pub enum ReceiveMsg {
    /// Contribute the received cw20 tokens to a task funded in that token.
    Contribute {
        /// Task to fund.
        task_id: u64,
    },
    /// Submit an offer; the received tokens are its deposit (exactly the
    /// task's `offer_deposit`).
    SubmitOffer {
        /// Task.
        task_id: u64,
        /// Asked reward (bounty, crowdfunding), price per unit (per-unit) or 0 (competition).
        price: Uint128,
        /// Most units the participant will deliver (1 except for per-unit tasks).
        capacity: u32,
        /// Fewest units worth doing (1 except for per-unit tasks).
        min_units: u32,
        /// Optional reputation reference (a DID, a registry id), up to 128 characters.
        reputation_ref: Option<String>,
    },
    /// Confirm an assignment, depositing the received tokens as bond.
    Confirm {
        /// Task whose assignment the sender confirms.
        task_id: u64,
    },
}

#[cw_ownable_execute]
#[cw_serde]
pub enum ExecuteMsg {
    /// Owner: registers a task template.
    #[serde(deserialize_with = "deserialize_out_of_line")]
    CreateTemplate(TemplateMsg),
    /// Owner: enables or disables a template for new tasks (running tasks keep their copy).
    SetTemplateActive {
        /// Template id.
        id: u64,
        /// Whether new tasks may use it.
        active: bool,
    },
    /// Owner: replaces the oracle set and bumps the config version, which
    /// makes attestations and reports of the old set stale.
    SetOracles(OracleSetMsg),
    /// Anyone: creates a task from an active template.
    CreateTask {
        /// Template id.
        template_id: u64,
        /// The task's parameters.
        #[serde(deserialize_with = "deserialize_out_of_line")]
        params: TaskParams,
    },
    /// Sponsor: contributes native coins of the task's denom until the funding deadline.
    Contribute {
        /// Task to fund.
        task_id: u64,
    },
    /// cw20 hook: contributions and bonds in a cw20 asset.
    Receive(Cw20ReceiveMsg),
    /// Participant: submits an offer (one live offer per participant and task)
    /// until the matching deadline, attaching exactly the task's
    /// `offer_deposit` in its native denom (cw20 tasks: the `submit_offer` hook).
    SubmitOffer {
        /// Task.
        task_id: u64,
        /// Asked reward (bounty, crowdfunding), price per unit (per-unit) or 0 (competition).
        price: Uint128,
        /// Most units the participant will deliver (1 except for per-unit tasks).
        capacity: u32,
        /// Fewest units worth doing (1 except for per-unit tasks).
        min_units: u32,
        /// Optional reputation reference (a DID, a registry id), up to 128 characters.
        reputation_ref: Option<String>,
    },
    /// Participant: revises their offer (bumps its revision) until the
    /// matching deadline; a revision that changes nothing is refused.
    ReviseOffer {
        /// Task.
        task_id: u64,
        /// New price.
        price: Uint128,
        /// New capacity.
        capacity: u32,
        /// New minimum.
        min_units: u32,
    },
    /// Participant: withdraws their offer and takes its deposit back, at any
    /// time while the offer holds no slot (a slot pending confirmation binds
    /// it; a confirmed one already returned the deposit; a lapsed one lost it).
    WithdrawOffer {
        /// Task.
        task_id: u64,
    },
    /// Anyone: proposes a complete assignment during the matching window;
    /// kept if feasible and strictly better than the best so far.
    ProposeMatching {
        /// Task.
        task_id: u64,
        /// Assignments with strictly increasing offer ids.
        #[serde(deserialize_with = "deserialize_out_of_line")]
        assignments: Vec<Assignment>,
    },
    /// Matched participant: confirms their assignment, attaching the bond if
    /// any; the offer deposit comes back in the same transaction.
    Confirm {
        /// Task.
        task_id: u64,
    },
    /// Oracle: attests values from its own account. Items for participants
    /// that are not confirmed, already have a value, or this oracle already
    /// attested are skipped (a `skipped` attribute each); if every item is
    /// skipped, the first one's error is returned.
    Attest {
        /// Task.
        task_id: u64,
        /// 1 to 64 values, one per participant.
        #[serde(deserialize_with = "deserialize_out_of_line")]
        values: Vec<ParticipantValue>,
        /// IPFS CID of the evidence.
        evidence_cid: String,
    },
    /// Anyone: submits a report signed by at least k oracles of the current
    /// set. Participants already final are skipped, as in `attest`.
    SubmitReport {
        /// Task.
        task_id: u64,
        /// The signed report.
        #[serde(deserialize_with = "deserialize_out_of_line")]
        report: Report,
        /// At least k signatures by distinct members.
        #[serde(deserialize_with = "deserialize_out_of_line")]
        signatures: Vec<OracleSignature>,
    },
    /// Owner: voids a task's result before settlement (during execution,
    /// verification or the dispute window); sponsors and bonds are refunded.
    Void {
        /// Task.
        task_id: u64,
        /// Why, 1 to 256 characters.
        reason: String,
    },
    /// Anyone: applies the time-based transitions that are due.
    Advance {
        /// Task.
        task_id: u64,
    },
    /// Participant: claims reward and bond once the task is settled, voided or expired.
    Claim {
        /// Task.
        task_id: u64,
    },
    /// Sponsor: takes back their share of the pool: the contribution plus a
    /// pro-rata part of slashed deposits (failed, expired, cancelled or
    /// voided task), or of the leftover (settled task). On a task stuck
    /// before execution — its first acceptance round over and nobody
    /// confirmed — it first cancels the task.
    Refund {
        /// Task.
        task_id: u64,
    },
}

#[cw_ownable_query]
#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    /// Limits and counters.
    #[returns(ConfigResponse)]
    Config {},
    /// The oracle set.
    #[returns(OraclesResponse)]
    Oracles {},
    /// One template.
    #[returns(TemplateResponse)]
    Template {
        /// Template id.
        id: u64,
    },
    /// Templates by id.
    #[returns(TemplatesResponse)]
    Templates {
        /// Last id of the previous page.
        start_after: Option<u64>,
        /// Page size (default 10, max 30).
        limit: Option<u32>,
    },
    /// The terms a `create_task` with these inputs would store, without creating anything.
    #[returns(TaskTerms)]
    PreviewTask {
        /// Template id.
        template_id: u64,
        /// The task's parameters.
        #[serde(deserialize_with = "deserialize_out_of_line")]
        params: TaskParams,
    },
    /// One task with its status.
    #[returns(TaskResponse)]
    Task {
        /// Task id.
        id: u64,
    },
    /// Tasks by id.
    #[returns(TasksResponse)]
    Tasks {
        /// Last id of the previous page.
        start_after: Option<u64>,
        /// Page size (default 10, max 30).
        limit: Option<u32>,
    },
    /// Tasks by stored status (the status the last transaction recorded).
    #[returns(TasksResponse)]
    TasksByStatus {
        /// Status.
        status: TaskStatus,
        /// Last id of the previous page.
        start_after: Option<u64>,
        /// Page size (default 10, max 30).
        limit: Option<u32>,
    },
    /// Live offers of a task by offer id.
    #[returns(OffersResponse)]
    Offers {
        /// Task.
        task_id: u64,
        /// Last offer id of the previous page.
        start_after: Option<u64>,
        /// Page size (default 10, max 30).
        limit: Option<u32>,
    },
    /// The best solver proposal and the matched slots (by participant address).
    #[returns(MatchingResponse)]
    Matching {
        /// Task.
        task_id: u64,
        /// Last participant of the previous page.
        start_after: Option<String>,
        /// Page size (default 10, max 30).
        limit: Option<u32>,
    },
    /// Single attestations of the current oracle version for one participant.
    #[returns(AttestationsResponse)]
    Attestations {
        /// Task.
        task_id: u64,
        /// Participant.
        participant: String,
        /// Last oracle address of the previous page.
        start_after: Option<String>,
        /// Page size (default 10, max 30).
        limit: Option<u32>,
    },
    /// What `address` can claim (as participant) and refund (as sponsor) now.
    #[returns(ClaimableResponse)]
    Claimable {
        /// Task.
        task_id: u64,
        /// Participant or sponsor.
        address: String,
    },
    /// A sponsor's contribution.
    #[returns(ContributionResponse)]
    Contribution {
        /// Task.
        task_id: u64,
        /// Sponsor.
        sponsor: String,
    },
    /// The canonical bytes oracles sign for a report, and their sha256 digest.
    #[returns(SignBytesResponse)]
    ReportSignBytes {
        /// Task.
        task_id: u64,
        /// Oracle config version.
        config_version: u32,
        /// Round.
        round: u64,
        /// Evidence CID.
        evidence_cid: String,
        /// Values in strictly increasing participant order.
        #[serde(deserialize_with = "deserialize_out_of_line")]
        values: Vec<ParticipantValue>,
    },
}

#[cw_serde]
pub struct MigrateMsg {}

/// Deserializes a large message part in its own function: inlined into the
/// message's visitor, every part together would pass Wasm's 100-locals limit.
#[inline(never)]
fn deserialize_out_of_line<'de, T: serde::Deserialize<'de>, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    T::deserialize(deserializer)
}

mod responses;
pub use responses::*;
