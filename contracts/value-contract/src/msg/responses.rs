//! Query answers.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Binary, Timestamp, Uint128};
use wevalue_common::asset::AssetInfo;

use super::{Assignment, Durations};
use crate::state::{KeyScheme, TaskKind, TaskStatus};

#[cw_serde]
pub struct ConfigResponse {
    /// Templates registered.
    pub template_count: u64,
    /// Tasks created.
    pub task_count: u64,
    /// Live offers per task (`max_offers_per_task`).
    pub max_offers_per_task: u32,
    /// Participants per task.
    pub max_participants: u32,
    /// Oracle set size.
    pub max_oracles: u32,
    /// Values per attestation or report.
    pub max_report_values: u32,
    /// Acceptance rounds (the first plus refills).
    pub acceptance_rounds: u32,
    /// Largest template agreement tolerance (basis points).
    pub max_tolerance_bps: u32,
}

#[cw_serde]
pub struct OracleMemberResponse {
    /// Position used in report signatures.
    pub index: u32,
    /// Account.
    pub address: Addr,
    /// Public key.
    pub pubkey: Binary,
    /// Scheme.
    pub scheme: KeyScheme,
}

#[cw_serde]
pub struct OraclesResponse {
    /// Config version (0 = never set); bumps on every `set_oracles`.
    pub version: u32,
    /// k.
    pub threshold: u32,
    /// Members.
    pub members: Vec<OracleMemberResponse>,
}

#[cw_serde]
pub struct TemplateResponse {
    /// Id.
    pub id: u64,
    /// Whether new tasks may use it.
    pub active: bool,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: TaskKind,
    /// Metric.
    pub metric: String,
    /// Unit.
    pub unit: String,
    /// Asset restriction.
    pub asset: Option<AssetInfo>,
    /// Default durations.
    pub durations: Durations,
    /// Minimum quorum.
    pub min_quorum: u32,
    /// Agreement tolerance (basis points).
    pub tolerance_bps: u32,
    /// Participant cap.
    pub max_participants: u32,
    /// Deposit per offer.
    pub offer_deposit: Uint128,
}

#[cw_serde]
pub struct TemplatesResponse {
    /// Templates.
    pub templates: Vec<TemplateResponse>,
}

/// The terms of a task, fixed at creation.
#[cw_serde]
pub struct TaskTerms {
    /// Template it came from.
    pub template_id: u64,
    /// Who created it.
    pub creator: Addr,
    /// Title.
    pub title: String,
    /// Description CID.
    pub description_cid: String,
    /// Kind (reward rule).
    pub kind: TaskKind,
    /// Metric.
    pub metric: String,
    /// Unit.
    pub unit: String,
    /// Asset.
    pub asset: AssetInfo,
    /// Funding goal.
    pub funding_goal: Uint128,
    /// Target (bounty and crowdfunding).
    pub target: Uint128,
    /// Participant cap.
    pub max_participants: u32,
    /// Bond.
    pub bond: Uint128,
    /// Minimum quorum.
    pub min_quorum: u32,
    /// Tolerance (bps).
    pub tolerance_bps: u32,
    /// Deposit per offer, in the task's asset.
    pub offer_deposit: Uint128,
    /// Contributions close.
    pub funding_deadline: Timestamp,
    /// Offers and proposals close; the first acceptance round starts.
    pub matching_deadline: Timestamp,
    /// Length of one acceptance round.
    pub acceptance_round_secs: u64,
    /// The last acceptance round ends; execution starts (or earlier when all confirmed).
    pub acceptance_deadline: Timestamp,
    /// Execution ends; oracles attest from here.
    pub execution_deadline: Timestamp,
    /// Attestations close.
    pub verification_deadline: Timestamp,
    /// Length of the dispute window.
    pub dispute_secs: u64,
}

/// Serializes a nested record in its own function: inlined into its parent,
/// a large response's serializer would pass Wasm's 100-locals limit.
#[inline(never)]
fn serialize_out_of_line<T: serde::Serialize, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value.serialize(serializer)
}

#[cw_serde]
pub struct TaskResponse {
    /// Task id.
    pub id: u64,
    /// Status after every transition due at this block.
    pub status: TaskStatus,
    /// Status as last recorded in storage (`tasks_by_status` indexes this one).
    pub stored_status: TaskStatus,
    /// Whether an `advance` (or any call on the task) would record a transition.
    pub advance_due: bool,
    /// Terms.
    #[serde(serialize_with = "serialize_out_of_line")]
    pub terms: TaskTerms,
    /// Total contributed.
    pub funded: Uint128,
    /// Distinct sponsors.
    pub sponsor_count: u32,
    /// Live offers.
    pub offer_count: u32,
    /// Current acceptance round (0-based).
    pub acceptance_round: u32,
    /// Slots pending confirmation or confirmed.
    pub slot_count: u32,
    /// Confirmed participants.
    pub confirmed_count: u32,
    /// Participants with an accepted value.
    pub final_count: u32,
    /// Sum of accepted values.
    pub value_total: Uint128,
    /// Budget committed to slots (price × units).
    pub committed: Uint128,
    /// Bonds ever deposited.
    pub bonds_in: Uint128,
    /// Offer deposits ever received.
    pub deposits_in: Uint128,
    /// Deposits of lapsed matched offers, added to the sponsors' pool.
    pub slashed: Uint128,
    /// Highest accepted report round (rounds are nonces; any unused one is accepted).
    pub last_report_round: u64,
    /// When the dispute window started (all values known or verification deadline).
    pub dispute_start: Option<Timestamp>,
    /// The sponsors' pool, once the task is final.
    #[serde(serialize_with = "serialize_out_of_line")]
    pub settlement: Option<SettlementResponse>,
    /// Why the owner voided it.
    pub void_reason: Option<String>,
    /// What the contract still holds for this task.
    pub held: Uint128,
}

#[cw_serde]
pub struct SettlementResponse {
    /// Rewards owed to participants.
    pub total_rewards: Uint128,
    /// Bonds given to sponsors.
    pub forfeited_bonds: Uint128,
    /// What sponsors share: funded − rewards + forfeited bonds + slashed deposits.
    pub sponsor_pool: Uint128,
    /// Already paid to sponsors from the pool.
    pub sponsor_paid: Uint128,
    /// Sponsors who claimed their share.
    pub sponsors_claimed: u32,
}

#[cw_serde]
pub struct TasksResponse {
    /// Tasks.
    pub tasks: Vec<TaskResponse>,
}

#[cw_serde]
pub struct OfferResponse {
    /// Offer id (submission order).
    pub offer_id: u64,
    /// Participant.
    pub participant: Addr,
    /// Price.
    pub price: Uint128,
    /// Capacity.
    pub capacity: u32,
    /// Minimum units.
    pub min_units: u32,
    /// Revision (0 = as submitted).
    pub revision: u32,
    /// Reputation reference.
    pub reputation_ref: Option<String>,
    /// Whether it holds a slot.
    pub matched: bool,
}

#[cw_serde]
pub struct OffersResponse {
    /// Offers.
    pub offers: Vec<OfferResponse>,
}

#[cw_serde]
pub struct ProposalResponse {
    /// Who proposed it.
    pub proposer: Addr,
    /// Assignments.
    pub assignments: Vec<Assignment>,
    /// Objective: total units (maximised first).
    pub total_units: u64,
    /// Objective: total cost (minimised second).
    pub total_cost: Uint128,
}

#[cw_serde]
pub struct SlotResponse {
    /// Participant.
    pub participant: Addr,
    /// Offer.
    pub offer_id: u64,
    /// Units.
    pub units: u32,
    /// Price (per unit, or the whole ask).
    pub price: Uint128,
    /// Acceptance round it was offered in.
    pub round: u32,
    /// Whether confirmed.
    pub confirmed: bool,
    /// Bond deposited.
    pub bond: Uint128,
    /// Accepted value.
    pub value: Option<Uint128>,
    /// Reward, once settled.
    pub reward: Option<Uint128>,
    /// Whether claimed.
    pub claimed: bool,
}

#[cw_serde]
pub struct MatchingResponse {
    /// Stored status.
    pub status: TaskStatus,
    /// Whether the matching has been decided.
    pub decided: bool,
    /// Whether the decided matching came from a solver proposal.
    pub from_proposal: bool,
    /// Best feasible proposal so far (kept after deciding, for audit).
    pub best_proposal: Option<ProposalResponse>,
    /// Slots.
    pub slots: Vec<SlotResponse>,
}

#[cw_serde]
pub struct AttestationResponse {
    /// Oracle.
    pub oracle: Addr,
    /// Value.
    pub value: Uint128,
    /// Evidence.
    pub evidence_cid: String,
}

#[cw_serde]
pub struct AttestationsResponse {
    /// Current config version.
    pub config_version: u32,
    /// Accepted value, once k agree.
    pub accepted: Option<Uint128>,
    /// Attestations.
    pub attestations: Vec<AttestationResponse>,
}

#[cw_serde]
pub struct ClaimableResponse {
    /// Status used for the computation.
    pub status: TaskStatus,
    /// Reward the address can claim as participant.
    pub reward: Uint128,
    /// Bond returned to it.
    pub bond: Uint128,
    /// Refund or leftover share as sponsor.
    pub refund: Uint128,
}

#[cw_serde]
pub struct ContributionResponse {
    /// Amount contributed.
    pub amount: Uint128,
    /// Whether refunded or paid its leftover share.
    pub refunded: bool,
}

#[cw_serde]
pub struct SignBytesResponse {
    /// The canonical bytes.
    pub bytes: Binary,
    /// sha256 of `bytes`: what is signed.
    pub digest: Binary,
}
