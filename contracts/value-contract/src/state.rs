//! Storage layout and the caps that bound every loop.
//!
//! Stored records use one- to three-letter JSON field names (`#[serde(rename)]`):
//! every byte written costs 30 SDK gas, and the task record is rewritten by
//! almost every call. The API types in `msg` keep their full names.
//!
//! | map | key | value |
//! |---|---|---|
//! | `templates` | template id | [`Template`] |
//! | `tasks` | task id | [`Task`] state (terms skipped) |
//! | `terms` | task id | [`TaskTerms`], written once |
//! | `by_status` | (status byte, task id) | `()` (stored status) |
//! | `sponsors` | (task, sponsor) | [`Contribution`] |
//! | `offers` | (task, offer id) | [`Offer`] |
//! | `offer_of` | (task, participant) | offer id (one live offer each) |
//! | `proposals` | task | best [`Proposal`] |
//! | `slots` | (task, participant) | [`Slot`] |
//! | `released` | (task, participant) | `()`: slot lapsed unconfirmed, deposit slashed |
//! | `attestations` | (task, participant ‖ config version, oracle) | [`Attestation`] |
//! | `report_rounds` | (task, round) | `()`: report rounds used |
//! | `quorums` | template `min_quorum` | running tasks that need it |
//! | `noracles` | — | the oracle set's size |

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Binary, Timestamp, Uint128};
use cw_storage_plus::{Item, Map};
use wevalue_common::asset::AssetInfo;

use crate::error::ContractError;
use crate::msg::{Assignment, Durations, TaskTerms};

/// Live offers per task: matching loads all of them, so this bounds it.
pub const MAX_OFFERS_PER_TASK: u32 = 64;
/// Slots (matched participants) per task; also bounds settlement.
pub const MAX_PARTICIPANTS: u32 = 64;
/// Oracle set size; bounds agreement checks and signature lists.
pub const MAX_ORACLES: u32 = 16;
/// Values in one attestation or report.
pub const MAX_REPORT_VALUES: u32 = 64;
/// Acceptance rounds: the first plus two refills.
pub const ACCEPTANCE_ROUNDS: u32 = 3;
/// Longest phase, one year.
pub const MAX_DURATION: u64 = 366 * 24 * 3600;
/// Largest agreement tolerance a template may set (10%): k − 1 faulty
/// oracles can move an accepted value by at most this much (see `oracle`).
pub const MAX_TOLERANCE_BPS: u32 = 1_000;

#[cw_serde]
#[derive(Copy, Eq)]
pub enum TaskKind {
    /// Each matched participant whose value reaches `target` gets their asked reward.
    Bounty,
    /// The whole budget is shared in proportion to the participants' values.
    Competition,
    /// Each participant gets price × min(value, assigned units).
    PerUnit,
    /// Each participant gets ask × min(value, target) / target (progress-based).
    Crowdfunding,
}

#[cw_serde]
#[derive(Copy, Eq)]
pub enum KeyScheme {
    /// secp256k1 ECDSA over the sha256 digest (Cosmos keys).
    Secp256k1,
    /// ed25519 over the sha256 digest.
    Ed25519,
}

/// Explicit task statuses. Transitions are lazy: the first call on a task
/// after a deadline records them (see `lifecycle`).
#[cw_serde]
#[derive(Copy, Eq)]
pub enum TaskStatus {
    /// Accepting contributions (offers are accepted too).
    Funding,
    /// The goal was missed: sponsors take their contributions back.
    FundingFailed,
    /// Funded; offers and solver proposals until the matching deadline.
    Matching,
    /// Matched participants confirm (round by round, with refills).
    Accepting,
    /// Confirmed participants do the work.
    Executing,
    /// Oracles attest.
    Verifying,
    /// Values are known; the owner may still void.
    Disputable,
    /// Rewards and leftover are claimable.
    Settled,
    /// The owner voided the result: sponsors and bonds are refunded.
    Voided,
    /// Nobody matched or confirmed, or no value was ever accepted: refunds.
    Expired,
    /// A sponsor ended a task stuck before execution (its first acceptance
    /// round passed with nobody confirmed): refunds.
    Cancelled,
}

impl TaskStatus {
    pub fn byte(self) -> u8 {
        self as u8
    }

    /// Whether sponsors get their contributions back (plus any slashed
    /// offer deposits, pro rata) and participants their bonds.
    pub fn refunds_sponsors(self) -> bool {
        matches!(
            self,
            TaskStatus::FundingFailed
                | TaskStatus::Voided
                | TaskStatus::Expired
                | TaskStatus::Cancelled
        )
    }

    /// Whether nothing can change any more but claims and refunds.
    pub fn is_final(self) -> bool {
        self == TaskStatus::Settled || self.refunds_sponsors()
    }
}

#[cw_serde]
pub struct OracleMember {
    pub address: Addr,
    pub pubkey: Binary,
    pub scheme: KeyScheme,
}

#[cw_serde]
#[derive(Default)]
pub struct OracleConfig {
    pub version: u32,
    pub threshold: u32,
    pub members: Vec<OracleMember>,
}

#[cw_serde]
pub struct Template {
    pub active: bool,
    pub name: String,
    pub kind: TaskKind,
    pub metric: String,
    pub unit: String,
    pub asset: Option<AssetInfo>,
    pub durations: Durations,
    pub min_quorum: u32,
    pub tolerance_bps: u32,
    pub max_participants: u32,
    pub offer_deposit: Uint128,
}

/// What the sponsors share once a task is final. Settled: `funded − Σ
/// rewards + forfeited bonds + slashed deposits`; refunded (failed,
/// expired, cancelled, voided): `funded + slashed deposits`.
#[cw_serde]
pub struct Settlement {
    #[serde(rename = "r")]
    pub total_rewards: Uint128,
    #[serde(rename = "fb")]
    pub forfeited_bonds: Uint128,
    #[serde(rename = "p")]
    pub sponsor_pool: Uint128,
    #[serde(rename = "pd")]
    pub sponsor_paid: Uint128,
    #[serde(rename = "c")]
    pub sponsors_claimed: u32,
}

/// Stands in for the terms until `lifecycle::load_task` loads them.
fn unloaded_terms() -> TaskTerms {
    TaskTerms {
        template_id: 0,
        creator: Addr::unchecked(""),
        title: String::new(),
        description_cid: String::new(),
        kind: TaskKind::Bounty,
        metric: String::new(),
        unit: String::new(),
        asset: AssetInfo::Native(String::new()),
        funding_goal: Uint128::zero(),
        target: Uint128::zero(),
        max_participants: 0,
        bond: Uint128::zero(),
        min_quorum: 0,
        tolerance_bps: 0,
        offer_deposit: Uint128::zero(),
        funding_deadline: Timestamp::default(),
        matching_deadline: Timestamp::default(),
        acceptance_round_secs: 0,
        acceptance_deadline: Timestamp::default(),
        execution_deadline: Timestamp::default(),
        verification_deadline: Timestamp::default(),
        dispute_secs: 0,
    }
}

#[cw_serde]
pub struct Task {
    /// Terms fixed at creation, stored apart in [`TERMS`]: they never change,
    /// so task updates do not rewrite them (and each record's serde visitor
    /// stays under Wasm's 100-locals limit per function).
    #[serde(skip, default = "unloaded_terms")]
    pub terms: TaskTerms,
    #[serde(rename = "s")]
    pub status: TaskStatus,
    #[serde(rename = "f")]
    pub funded: Uint128,
    #[serde(rename = "sc")]
    pub sponsor_count: u32,
    #[serde(rename = "oc")]
    pub offer_count: u32,
    #[serde(rename = "no")]
    pub next_offer_id: u64,
    #[serde(rename = "md")]
    pub matching_decided: bool,
    #[serde(rename = "fp")]
    pub from_proposal: bool,
    #[serde(rename = "ar")]
    pub acceptance_round: u32,
    #[serde(rename = "n")]
    pub slot_count: u32,
    #[serde(rename = "cc")]
    pub confirmed_count: u32,
    #[serde(rename = "fc")]
    pub final_count: u32,
    #[serde(rename = "vt")]
    pub value_total: Uint128,
    #[serde(rename = "cm")]
    pub committed: Uint128,
    /// Bonds ever deposited (returns are counted in `paid_out`).
    #[serde(rename = "bi")]
    pub bonds_in: Uint128,
    /// Offer deposits ever received (refunds are counted in `paid_out`).
    #[serde(rename = "di")]
    pub deposits_in: Uint128,
    /// Deposits of matched offers that lapsed unconfirmed: the sponsors'.
    #[serde(rename = "sl")]
    pub slashed: Uint128,
    #[serde(rename = "lr")]
    pub last_report_round: u64,
    #[serde(rename = "ds")]
    pub dispute_start: Option<Timestamp>,
    #[serde(rename = "st")]
    pub settlement: Option<Settlement>,
    #[serde(rename = "vr")]
    pub void_reason: Option<String>,
    /// Everything paid out of this task so far (rewards, bonds, refunds).
    #[serde(rename = "po")]
    pub paid_out: Uint128,
}

impl Task {
    /// End of acceptance round `round` (0-based).
    pub fn round_deadline(&self, round: u32) -> Timestamp {
        self.terms
            .matching_deadline
            .plus_seconds(self.terms.acceptance_round_secs * u64::from(round + 1))
    }

    /// What the contract holds for this task: contributions, bonds and
    /// deposits in, minus everything paid out. Paying out more than came in
    /// is an accounting bug, reported as such rather than hidden.
    pub fn held(&self, task_id: u64) -> Result<Uint128, ContractError> {
        let inconsistent = |reason| ContractError::Inconsistent { task_id, reason };
        self.funded
            .checked_add(self.bonds_in)
            .and_then(|x| x.checked_add(self.deposits_in))
            .map_err(|_| inconsistent("deposits overflow"))?
            .checked_sub(self.paid_out)
            .map_err(|_| inconsistent("paid out more than it received"))
    }
}

#[cw_serde]
pub struct Contribution {
    #[serde(rename = "a")]
    pub amount: Uint128,
    #[serde(rename = "r")]
    pub refunded: bool,
}

#[cw_serde]
pub struct Offer {
    #[serde(rename = "a")]
    pub participant: Addr,
    #[serde(rename = "p")]
    pub price: Uint128,
    #[serde(rename = "c")]
    pub capacity: u32,
    #[serde(rename = "m")]
    pub min_units: u32,
    #[serde(rename = "r")]
    pub revision: u32,
    #[serde(rename = "rep")]
    pub reputation_ref: Option<String>,
    /// Whether the participant holds or held a slot. Never stored (derived
    /// from `slots` and `released` when needed), so matching does not
    /// rewrite every offer.
    #[serde(skip, default)]
    pub matched: bool,
}

#[cw_serde]
pub struct Proposal {
    pub proposer: Addr,
    pub assignments: Vec<Assignment>,
    pub total_units: u64,
    pub total_cost: Uint128,
}

#[cw_serde]
pub struct Slot {
    #[serde(rename = "o")]
    pub offer_id: u64,
    #[serde(rename = "u")]
    pub units: u32,
    #[serde(rename = "p")]
    pub price: Uint128,
    #[serde(rename = "r")]
    pub round: u32,
    #[serde(rename = "c")]
    pub confirmed: bool,
    #[serde(rename = "b")]
    pub bond: Uint128,
    #[serde(rename = "v")]
    pub value: Option<Uint128>,
    #[serde(rename = "w")]
    pub reward: Option<Uint128>,
    #[serde(rename = "x")]
    pub claimed: bool,
}

#[cw_serde]
pub struct Attestation {
    #[serde(rename = "v")]
    pub value: Uint128,
    #[serde(rename = "e")]
    pub evidence_cid: String,
}

pub const ORACLES: Item<OracleConfig> = Item::new("oracles");
/// The current set's size, kept apart so that template and task creation
/// check quorums without reading every member's key.
pub const ORACLE_COUNT: Item<u32> = Item::new("noracles");
pub const TEMPLATE_COUNT: Item<u64> = Item::new("ntpl");
pub const TASK_COUNT: Item<u64> = Item::new("ntask");
pub const TEMPLATES: Map<u64, Template> = Map::new("templates");
/// Task state (without terms).
pub const TASKS: Map<u64, Task> = Map::new("tasks");
/// Task terms, written once at creation.
pub const TERMS: Map<u64, TaskTerms> = Map::new("terms");
pub const BY_STATUS: Map<(u8, u64), ()> = Map::new("by_status");
pub const SPONSORS: Map<(u64, &Addr), Contribution> = Map::new("sponsors");
pub const OFFERS: Map<(u64, u64), Offer> = Map::new("offers");
pub const OFFER_OF: Map<(u64, &Addr), u64> = Map::new("offer_of");
pub const PROPOSALS: Map<u64, Proposal> = Map::new("proposals");
pub const SLOTS: Map<(u64, &Addr), Slot> = Map::new("slots");
/// Participants whose slot was released for want of confirmation.
pub const RELEASED: Map<(u64, &Addr), ()> = Map::new("released");
/// Report rounds a task has accepted (each round once, in any order).
pub const REPORT_ROUNDS: Map<(u64, u64), ()> = Map::new("report_rounds");
/// How many running (not final) tasks need each template `min_quorum`, so
/// an oracle rotation can refuse a set too small for one of them without
/// iterating over tasks (at most `MAX_ORACLES` entries).
pub const QUORUMS: Map<u32, u32> = Map::new("quorums");
/// Keyed by (task, [`attestation_group`] of participant and version, oracle).
pub const ATTESTATIONS: Map<(u64, Vec<u8>, &Addr), Attestation> = Map::new("attestations");

/// The middle key part of [`ATTESTATIONS`]: the participant's bytes then the
/// config version (4 bytes, big-endian), so one prefix holds one version's
/// attestations (at most `MAX_ORACLES`).
pub fn attestation_group(participant: &Addr, version: u32) -> Vec<u8> {
    let mut k = participant.as_bytes().to_vec();
    k.extend_from_slice(&version.to_be_bytes());
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_reports_an_overpayment_instead_of_hiding_it() {
        let mut task: Task = cosmwasm_std::from_json(
            r#"{"s":"executing","f":"100","sc":1,"oc":0,"no":0,"md":true,"fp":false,"ar":0,"n":0,"cc":0,"fc":0,"vt":"0","cm":"0","bi":"5","di":"2","sl":"0","lr":0,"ds":null,"st":null,"vr":null,"po":"0"}"#,
        )
        .unwrap();
        assert_eq!(task.held(1).unwrap(), Uint128::new(107));
        task.paid_out = Uint128::new(108);
        assert_eq!(
            task.held(1).unwrap_err(),
            ContractError::Inconsistent {
                task_id: 1,
                reason: "paid out more than it received"
            }
        );
    }
}
