//! The oracle's own tables (component `oracle`) behind [`OracleStore`]'s
//! typed API, no SQL elsewhere: one row per task with the measured values
//! (fixed once computed, so a restart re-sends the same message under the
//! same outbox key), the submission and the heights that give the latency
//! figure; and the attestation log (what this oracle signed and sent).

use std::sync::Arc;

use relayer_core::store::{Component, Store, StoreResult};
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

const MIGRATIONS: &[&str] = &["CREATE TABLE oracle_tasks (
        chain_id         TEXT NOT NULL,
        contract         TEXT NOT NULL,
        task_id          INTEGER NOT NULL,
        template_id      INTEGER NOT NULL,
        status           TEXT NOT NULL,
        verifying_height INTEGER NOT NULL,
        seen_height      INTEGER NOT NULL,
        values_json      TEXT,
        evidence_cid     TEXT,
        msg_json         TEXT,
        outbox_key       TEXT,
        round            INTEGER,
        included_height  INTEGER,
        last_error       TEXT,
        PRIMARY KEY (chain_id, contract, task_id)
    );"];

/// Where a task is for this oracle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Seen in verification; not measured yet (or measuring failed).
    Seen,
    /// Values measured and stored (an observer stays here, serving them).
    Measured,
    /// A message is recorded in the outbox.
    Submitted,
    /// Included on chain (or found already attested).
    Done,
    /// The submission failed on chain.
    Failed,
}

impl TaskState {
    fn as_str(self) -> &'static str {
        match self {
            TaskState::Seen => "seen",
            TaskState::Measured => "measured",
            TaskState::Submitted => "submitted",
            TaskState::Done => "done",
            TaskState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "measured" => TaskState::Measured,
            "submitted" => TaskState::Submitted,
            "done" => TaskState::Done,
            "failed" => TaskState::Failed,
            _ => TaskState::Seen,
        }
    }
}

/// One task as this oracle recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// Task id.
    pub task_id: u64,
    /// Template id.
    pub template_id: u64,
    /// State.
    pub state: TaskState,
    /// First block whose time reached the execution deadline (the block in
    /// which the task entered verification).
    pub verifying_height: u64,
    /// Latest height when this oracle first saw the task in verification.
    pub seen_height: u64,
    /// Measured values, `[{participant, value}]` sorted by participant.
    pub values_json: Option<String>,
    /// Evidence CID of the values.
    pub evidence_cid: Option<String>,
    /// Messages recorded in the outbox (JSON of `Vec<ChainMsg>`).
    pub msg_json: Option<String>,
    /// Outbox idempotency key.
    pub outbox_key: Option<String>,
    /// Attestation config version (single) or report round (aggregator).
    pub round: Option<u64>,
    /// Height of the block that included the attestation or report.
    pub included_height: Option<u64>,
    /// Last error.
    pub last_error: Option<String>,
}

impl TaskRecord {
    /// Inclusion height − verification entry height, once included.
    pub fn latency_blocks(&self) -> Option<u64> {
        self.included_height
            .map(|h| h.saturating_sub(self.verifying_height))
    }
}

fn row(r: &Row<'_>) -> rusqlite::Result<TaskRecord> {
    let opt_u64 = |i| r.get::<_, Option<i64>>(i).map(|v| v.map(|v| v as u64));
    Ok(TaskRecord {
        task_id: r.get::<_, i64>(0)? as u64,
        template_id: r.get::<_, i64>(1)? as u64,
        state: TaskState::parse(&r.get::<_, String>(2)?),
        verifying_height: r.get::<_, i64>(3)? as u64,
        seen_height: r.get::<_, i64>(4)? as u64,
        values_json: r.get(5)?,
        evidence_cid: r.get(6)?,
        msg_json: r.get(7)?,
        outbox_key: r.get(8)?,
        round: opt_u64(9)?,
        included_height: opt_u64(10)?,
        last_error: r.get(11)?,
    })
}

const COLUMNS: &str = "task_id, template_id, status, verifying_height, seen_height, values_json,
    evidence_cid, msg_json, outbox_key, round, included_height, last_error";

/// One signed submission in the attestation log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// Chain of the value contract.
    pub chain_id: String,
    /// `<contract>/<task id>`.
    pub task_id: String,
    /// Attestation config version (single) or report round (aggregator).
    pub round: u64,
    /// The oracle's account.
    pub attester: String,
    /// The signed payload (the message or report, JSON).
    pub payload: Vec<u8>,
    /// The report signature (empty for a single `attest`, signed by the tx).
    pub signature: Vec<u8>,
}

/// Typed access to the oracle's tables for one (chain, contract).
#[derive(Clone, Debug)]
pub struct OracleStore {
    db: Component,
    chain_id: String,
    contract: String,
}

impl OracleStore {
    /// Migrates the component and binds it to a chain and contract.
    pub fn open(store: &Arc<Store>, chain_id: &str, contract: &str) -> StoreResult<Self> {
        Ok(Self {
            db: store.component("oracle", MIGRATIONS)?,
            chain_id: chain_id.to_string(),
            contract: contract.to_string(),
        })
    }

    /// Runs `f` with this (chain, contract) on the blocking pool: SQLite
    /// and its fsync never hold an async worker.
    async fn run<T, F>(&self, context: &'static str, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection, &str, &str) -> rusqlite::Result<T> + Send + 'static,
    {
        let (chain_id, contract) = (self.chain_id.clone(), self.contract.clone());
        self.db
            .run(context, move |c| f(c, &chain_id, &contract))
            .await
    }

    /// Logs a submission; duplicates are ignored. Returns whether it was new.
    pub async fn put_attestation(&self, a: &Attestation) -> StoreResult<bool> {
        let a = a.clone();
        self.run("storing attestation", move |c, _, _| {
            c.execute(
                "INSERT OR IGNORE INTO oracle_attestations
                 (chain_id, task_id, round, attester, payload, signature, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%s', 'now'))",
                params![
                    a.chain_id,
                    a.task_id,
                    a.round as i64,
                    a.attester,
                    a.payload,
                    a.signature
                ],
            )
            .map(|n| n == 1)
        })
        .await
    }

    /// The log of one task round, by attester.
    pub async fn attestations(&self, task_id: u64, round: u64) -> StoreResult<Vec<Attestation>> {
        self.run("reading attestations", move |c, chain_id, contract| {
            let mut stmt = c.prepare(
                "SELECT chain_id, task_id, round, attester, payload, signature
                 FROM oracle_attestations
                 WHERE chain_id = ?1 AND task_id = ?2 AND round = ?3 ORDER BY attester",
            )?;
            let task = format!("{contract}/{task_id}");
            let rows = stmt.query_map(params![chain_id, task, round as i64], |r| {
                Ok(Attestation {
                    chain_id: r.get(0)?,
                    task_id: r.get(1)?,
                    round: r.get::<_, i64>(2)? as u64,
                    attester: r.get(3)?,
                    payload: r.get(4)?,
                    signature: r.get(5)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// A task as recorded.
    pub async fn get(&self, task_id: u64) -> StoreResult<Option<TaskRecord>> {
        self.run("reading oracle task", move |c, chain_id, contract| {
            c.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM oracle_tasks
                     WHERE chain_id = ?1 AND contract = ?2 AND task_id = ?3"
                ),
                params![chain_id, contract, task_id as i64],
                row,
            )
            .optional()
        })
        .await
    }

    /// Every task recorded.
    pub async fn all(&self) -> StoreResult<Vec<TaskRecord>> {
        self.run("listing oracle tasks", |c, chain_id, contract| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM oracle_tasks
                 WHERE chain_id = ?1 AND contract = ?2 ORDER BY task_id"
            ))?;
            let rows = stmt.query_map(params![chain_id, contract], row)?;
            rows.collect()
        })
        .await
    }

    /// Records a task the first time it is seen in verification.
    pub async fn insert_seen(
        &self,
        task_id: u64,
        template_id: u64,
        verifying_height: u64,
        seen_height: u64,
    ) -> StoreResult<()> {
        self.run("recording oracle task", move |c, chain_id, contract| {
            c.execute(
                "INSERT OR IGNORE INTO oracle_tasks
                 (chain_id, contract, task_id, template_id, status, verifying_height, seen_height)
                 VALUES (?1, ?2, ?3, ?4, 'seen', ?5, ?6)",
                params![
                    chain_id,
                    contract,
                    task_id as i64,
                    template_id as i64,
                    verifying_height as i64,
                    seen_height as i64
                ],
            )
            .map(|_| ())
        })
        .await
    }

    /// Stores the measured values once; later calls keep the first ones.
    pub async fn set_values(
        &self,
        task_id: u64,
        values_json: &str,
        evidence_cid: &str,
    ) -> StoreResult<()> {
        let (values_json, evidence_cid) = (values_json.to_string(), evidence_cid.to_string());
        self.run("storing oracle values", move |c, chain_id, contract| {
            c.execute(
                "UPDATE oracle_tasks SET values_json = ?4, evidence_cid = ?5, status = 'measured',
                 last_error = NULL
                 WHERE chain_id = ?1 AND contract = ?2 AND task_id = ?3 AND values_json IS NULL",
                params![
                    chain_id,
                    contract,
                    task_id as i64,
                    values_json,
                    evidence_cid
                ],
            )
            .map(|_| ())
        })
        .await
    }

    /// Records the message before it goes to the outbox.
    pub async fn set_submission(
        &self,
        task_id: u64,
        msg_json: &str,
        key: &str,
        round: u64,
    ) -> StoreResult<()> {
        let (msg_json, key) = (msg_json.to_string(), key.to_string());
        self.run(
            "recording oracle submission",
            move |c, chain_id, contract| {
                c.execute(
                    "UPDATE oracle_tasks SET msg_json = ?4, outbox_key = ?5, round = ?6,
                 status = 'submitted'
                 WHERE chain_id = ?1 AND contract = ?2 AND task_id = ?3",
                    params![
                        chain_id,
                        contract,
                        task_id as i64,
                        msg_json,
                        key,
                        round as i64
                    ],
                )
                .map(|_| ())
            },
        )
        .await
    }

    /// Moves a task to `state`, with its inclusion height (kept if `None`)
    /// and the error, if any.
    pub async fn set_state(
        &self,
        task_id: u64,
        state: TaskState,
        included_height: Option<u64>,
        error: Option<&str>,
    ) -> StoreResult<()> {
        let error = error.map(str::to_string);
        self.run("updating oracle task", move |c, chain_id, contract| {
            c.execute(
                "UPDATE oracle_tasks SET status = ?4,
                 included_height = coalesce(?5, included_height), last_error = ?6
                 WHERE chain_id = ?1 AND contract = ?2 AND task_id = ?3",
                params![
                    chain_id,
                    contract,
                    task_id as i64,
                    state.as_str(),
                    included_height.map(|h| h as i64),
                    error
                ],
            )
            .map(|_| ())
        })
        .await
    }

    /// Records why the last attempt at a task failed (the task stays where it is).
    pub async fn set_error(&self, task_id: u64, error: &str) -> StoreResult<()> {
        let error = error.to_string();
        self.run("recording oracle error", move |c, chain_id, contract| {
            c.execute(
                "UPDATE oracle_tasks SET last_error = ?4
                 WHERE chain_id = ?1 AND contract = ?2 AND task_id = ?3",
                params![chain_id, contract, task_id as i64, error],
            )
            .map(|_| ())
        })
        .await
    }
}
