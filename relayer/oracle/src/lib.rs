//! Oracle service: proof of value creation (issue 7).
//!
//! Follows the value-contract's tasks that reach verification, measures
//! each confirmed participant over the task's execution period from the
//! configured [`sources`], turns the measurements into the template's
//! value with a [`metric::Metric`], and proves it on chain in one of two
//! ways:
//!
//! - **single** ([`OracleMode::Single`]): this oracle sends `attest` from
//!   its own account; the contract accepts a participant's value once k
//!   oracles agree.
//! - **aggregated** ([`OracleMode::Observer`] / [`OracleMode::Aggregator`]):
//!   observers sign the report (the contract's canonical report bytes, see
//!   `value_contract::oracle`) and serve it on
//!   `GET /v1/observations/{task_id}` ([`peer`]); the aggregator collects
//!   them, keeps those whose signature verifies against the contract's
//!   oracle set and whose report equals its own, and sends one
//!   `submit_report` with at least k signatures.
//!
//! **Finding tasks.** The contract's status transitions are lazy, so a
//! task past its execution deadline may still be *stored* as `Executing`.
//! Each tick pages through `tasks_by_status` for `Executing` and
//! `Verifying` (bounded pages, a bounded scan) and keeps the tasks whose
//! clock status is `Verifying`. No event marks the transition (it is a
//! clock edge), so polling it is; the entry height is the first block whose
//! time reached the execution deadline, found by walking back from the
//! height the task was first seen at.
//!
//! **Determinism.** Values are integers computed in fixed point from the
//! sources' answers; the evidence CID is the sha256 (CIDv1, raw) of the
//! task, period, metric and values; the report round is the task's last
//! accepted round + 1. Honest oracles reading the same data therefore sign
//! byte-identical reports, which is what lets k of them be aggregated.
//!
//! **Durability.** Measured values are stored once (`oracle_tasks`) and the
//! message is recorded before it is handed to the [`Outbox`] under the key
//! `oracle/{chain}/{contract}/{task}/{attest/v<config version> | report/r<round>}/{oracle}`,
//! so a restart re-sends the same message under the same key and the
//! outbox never sends it twice. Without a local record, the contract's
//! `attestations` query is checked before attesting.
//!
//! **Latency.** Per task, `included_height − verifying_height` in blocks
//! ([`OracleService::latencies`], and the `oracle task proven` log line).

pub mod config;
mod db;
pub mod keys;
pub mod metric;
pub mod peer;
pub mod sources;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cosmwasm_std::{Binary, Uint128};
use sha2::{Digest, Sha256};
use thiserror::Error;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use value_contract::msg::{
    AttestationsResponse, ExecuteMsg, MatchingResponse, OracleMemberMsg, OracleSignature,
    OraclesResponse, ParticipantValue, QueryMsg, TaskResponse, TasksResponse,
};
use value_contract::state::TaskStatus;

use relayer_core::chain::{query_smart, Chain, ChainMsg};
use relayer_core::error::{ChainError, StoreError};
use relayer_core::outbox::{Outbox, OutboxError, OutboxOptions};
use relayer_core::store::{Attestation, OutboxStatus, Store};

pub use config::{
    FileFormat, HttpConfig, KeyConfig, KeySchemeConfig, KeySource, OracleConfig, OracleMode,
    SourceConfig, SourceKind, TemplateRule,
};
pub use db::{TaskRecord, TaskState};
pub use keys::{KeyError, OracleKey};
pub use metric::{Measurement, Metric};
pub use peer::SignedObservation;
pub use sources::{
    aggregate, FileSource, HttpJson, HttpSource, InsufficientSources, MeasurementQuery,
    MeasurementSource, SimulatedMeter, SourceError,
};

/// Oracle failures.
#[derive(Debug, Error)]
pub enum OracleError {
    /// The chain failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The state store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The outbox failed (the submission stays recorded and is retried).
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The report key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// JSON encoding of a stored record.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// Too few sources agreed on a participant's value: nothing is attested.
    #[error("task {task_id}, participant {participant}: {source}")]
    Sources {
        /// Task.
        task_id: u64,
        /// Participant.
        participant: String,
        /// What the sources said.
        #[source]
        source: InsufficientSources,
    },
    /// The configuration is unusable.
    #[error("oracle config: {0}")]
    Config(String),
    /// This oracle is not a member of the contract's current oracle set.
    #[error("{who} is not in the oracle set (version {version})")]
    NotInOracleSet {
        /// Account or key.
        who: String,
        /// Set version.
        version: u32,
    },
    /// The aggregator does not have k identical, valid signed observations yet.
    #[error("task {task_id}: {have} of {need} matching signed observations")]
    NotEnoughObservations {
        /// Task.
        task_id: u64,
        /// Valid and identical observations (own included).
        have: usize,
        /// k.
        need: usize,
    },
    /// The chain included the submission and it failed.
    #[error("task {task_id}: submission failed: {reason}")]
    SubmissionFailed {
        /// Task.
        task_id: u64,
        /// Chain log.
        reason: String,
    },
    /// The observation endpoint could not start.
    #[error("observation server: {0}")]
    Serve(String),
}

/// A task a tick could not finish (it is retried on the next tick).
#[derive(Debug)]
pub struct TaskFailure {
    /// Task.
    pub task_id: u64,
    /// Why.
    pub error: OracleError,
}

/// What one tick did.
#[derive(Debug, Default)]
pub struct TickReport {
    /// Latest height at the start of the tick.
    pub height: u64,
    /// Tasks read from `tasks_by_status`.
    pub scanned: usize,
    /// Tasks in verification.
    pub verifying: usize,
    /// Tasks measured in this tick.
    pub measured: usize,
    /// Submissions included in this tick.
    pub included: usize,
    /// Tasks without a template rule.
    pub skipped: usize,
    /// Tasks that failed (retried next tick).
    pub failures: Vec<TaskFailure>,
}

/// What the service and its observation endpoint share.
pub(crate) struct Shared {
    chain: Arc<dyn Chain>,
    store: Arc<Store>,
    db: db::OracleDb,
    contract: String,
    chain_id: String,
    account: String,
    key: Option<OracleKey>,
}

impl Shared {
    /// Confirmed participants of a task without an accepted value (at most
    /// 64 slots, read in pages of 30).
    async fn open_participants(&self, task_id: u64) -> Result<Vec<String>, OracleError> {
        Ok(self
            .slots(task_id)
            .await?
            .into_iter()
            .filter(|(_, open)| *open)
            .map(|(p, _)| p)
            .collect())
    }

    /// Confirmed participants and whether each is still open.
    async fn slots(&self, task_id: u64) -> Result<Vec<(String, bool)>, OracleError> {
        let mut out = Vec::new();
        let mut start_after = None;
        // 64 slots at most: 3 pages; the cap only guards against a bad node.
        for _ in 0..8 {
            let page: MatchingResponse = query_smart(
                self.chain.as_ref(),
                &self.contract,
                &QueryMsg::Matching {
                    task_id,
                    start_after: start_after.clone(),
                    limit: Some(30),
                },
            )
            .await?;
            let n = page.slots.len();
            for s in page.slots {
                start_after = Some(s.participant.to_string());
                if s.confirmed {
                    out.push((s.participant.to_string(), s.value.is_none()));
                }
            }
            if n < 30 {
                break;
            }
        }
        Ok(out)
    }
}

/// The oracle service for one value-contract.
pub struct OracleService {
    config: OracleConfig,
    shared: Arc<Shared>,
    sources: Vec<Arc<dyn MeasurementSource>>,
    outbox: Outbox<dyn Chain>,
    peers: HttpJson,
    reconciled: bool,
}

/// Tasks scanned per tick at most (bounds the `tasks_by_status` walk).
const MAX_SCAN: usize = 2_000;
/// Blocks walked back at most to find where verification started.
const MAX_WALK_BACK: u64 = 512;

impl OracleService {
    /// A service sending from `chain`'s account (the oracle's account in
    /// the oracle set), with the sources and key from `config`.
    pub fn new(
        config: OracleConfig,
        chain: Arc<dyn Chain>,
        store: Arc<Store>,
        contract: &str,
    ) -> Result<Self, OracleError> {
        store.migrate_component("oracle", db::MIGRATIONS)?;
        let key = config.key.as_ref().map(OracleKey::load).transpose()?;
        if config.mode != OracleMode::Single && key.is_none() {
            return Err(OracleError::Config(format!(
                "mode {:?} needs a report key (oracle.key)",
                config.mode
            )));
        }
        if config.page_size == 0 || config.page_size > 30 {
            return Err(OracleError::Config("page_size must be 1 to 30".into()));
        }
        let mut names = std::collections::HashSet::new();
        for s in &config.sources {
            if !names.insert(s.name.as_str()) {
                return Err(OracleError::Config(format!("duplicate source {}", s.name)));
            }
        }
        for r in &config.templates {
            if let Some(missing) = r.sources.iter().find(|n| !names.contains(n.as_str())) {
                return Err(OracleError::Config(format!("unknown source {missing}")));
            }
        }
        let sources = config
            .sources
            .iter()
            .map(|s| sources::build_source(s, &config.http))
            .collect();
        let chain_id = chain.chain_id().to_string();
        let account = chain.sender().to_string();
        let outbox = Outbox::new(
            store.clone(),
            chain.clone(),
            &chain_id,
            OutboxOptions {
                inclusion_timeout: Duration::from_secs(config.inclusion_timeout_secs),
                ..OutboxOptions::default()
            },
        );
        let shared = Arc::new(Shared {
            db: db::OracleDb {
                chain_id: chain_id.clone(),
                contract: contract.to_string(),
            },
            chain,
            store,
            contract: contract.to_string(),
            chain_id,
            account,
            key,
        });
        Ok(Self {
            peers: HttpJson::new(config.http.clone()),
            config,
            shared,
            sources,
            outbox,
            reconciled: false,
        })
    }

    /// Replaces the configured sources (tests, embedders with their own feeds).
    pub fn with_sources(mut self, sources: Vec<Arc<dyn MeasurementSource>>) -> Self {
        self.sources = sources;
        self
    }

    /// Shorter outbox inclusion wait (tests that hold blocks back).
    pub fn with_outbox_options(mut self, options: OutboxOptions) -> Self {
        self.outbox = Outbox::new(
            self.shared.store.clone(),
            self.shared.chain.clone(),
            &self.shared.chain_id,
            options,
        );
        self
    }

    /// The account attestations are sent from.
    pub fn account(&self) -> &str {
        &self.shared.account
    }

    /// This oracle's oracle-set entry (account and report key), for `set_oracles`.
    pub fn member(&self) -> Option<OracleMemberMsg> {
        self.shared.key.as_ref().map(|k| OracleMemberMsg {
            address: self.shared.account.clone(),
            pubkey: Binary::from(k.public_key()),
            scheme: k.scheme(),
        })
    }

    /// What this oracle recorded about a task.
    pub fn record(&self, task_id: u64) -> Result<Option<TaskRecord>, OracleError> {
        Ok(self.shared.db.get(&self.shared.store, task_id)?)
    }

    /// (task, latency in blocks from entering verification to the inclusion
    /// of this oracle's attestation or report) for every included task.
    pub fn latencies(&self) -> Result<Vec<(u64, u64)>, OracleError> {
        Ok(self
            .shared
            .db
            .all(&self.shared.store)?
            .into_iter()
            .filter_map(|r| r.latency_blocks().map(|l| (r.task_id, l)))
            .collect())
    }

    /// Serves `GET /v1/observations/{task_id}` (see [`peer`]) until `shutdown` is true.
    pub fn serve_observations(
        &self,
        addr: SocketAddr,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(SocketAddr, JoinHandle<()>), OracleError> {
        peer::serve(self.shared.clone(), addr, shutdown)
    }

    /// Ticks every `poll_interval_ms` until `shutdown` is true; serves
    /// observations on `listen` when configured.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), OracleError> {
        let server = match (&self.config.listen, self.config.mode) {
            (Some(listen), OracleMode::Observer | OracleMode::Aggregator) => {
                let addr: SocketAddr = listen
                    .parse()
                    .map_err(|e| OracleError::Config(format!("listen {listen}: {e}")))?;
                Some(self.serve_observations(addr, shutdown.clone())?)
            }
            _ => None,
        };
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(10));
        while !*shutdown.borrow() {
            match self.tick().await {
                Ok(r) => {
                    for f in &r.failures {
                        tracing::warn!(task = f.task_id, error = %f.error, "oracle task not finished");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "oracle tick failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
        }
        if let Some((_, handle)) = server {
            let _ = handle.await;
        }
        Ok(())
    }

    /// One round of work: reconcile the outbox (first tick), find the tasks
    /// in verification and prove each one this oracle has not proven yet.
    #[tracing::instrument(skip(self), fields(oracle = %self.shared.account, mode = ?self.config.mode))]
    pub async fn tick(&mut self) -> Result<TickReport, OracleError> {
        if !self.reconciled {
            let r = self.outbox.reconcile().await?;
            tracing::info!(?r, "oracle outbox reconciled");
            self.reconciled = true;
        }
        let latest = self.shared.chain.latest_block().await?;
        let mut report = TickReport {
            height: latest.height,
            ..TickReport::default()
        };
        let oracles: OraclesResponse = query_smart(
            self.shared.chain.as_ref(),
            &self.shared.contract,
            &QueryMsg::Oracles {},
        )
        .await?;
        let tasks = self.verifying_tasks(&mut report).await?;
        report.verifying = tasks.len();
        for task in tasks {
            let id = task.id;
            if let Err(error) = self
                .process(&task, &oracles, latest.height, &mut report)
                .await
            {
                if let Err(e) = self
                    .shared
                    .db
                    .set_error(&self.shared.store, id, &error.to_string())
                {
                    tracing::warn!(task = id, error = %e, "recording oracle error");
                }
                report.failures.push(TaskFailure { task_id: id, error });
            }
        }
        Ok(report)
    }

    /// Tasks whose clock status is `Verifying`, stored as `Executing` or
    /// `Verifying`, in id order, bounded by `max_tasks_per_tick`.
    async fn verifying_tasks(
        &self,
        report: &mut TickReport,
    ) -> Result<Vec<TaskResponse>, OracleError> {
        let mut out = Vec::new();
        for status in [TaskStatus::Verifying, TaskStatus::Executing] {
            let mut start_after = None;
            loop {
                let page: TasksResponse = query_smart(
                    self.shared.chain.as_ref(),
                    &self.shared.contract,
                    &QueryMsg::TasksByStatus {
                        status,
                        start_after,
                        limit: Some(self.config.page_size),
                    },
                )
                .await?;
                let n = page.tasks.len();
                report.scanned += n;
                start_after = page.tasks.last().map(|t| t.id);
                out.extend(
                    page.tasks
                        .into_iter()
                        .filter(|t| t.status == TaskStatus::Verifying),
                );
                if n < self.config.page_size as usize
                    || report.scanned >= MAX_SCAN
                    || out.len() >= self.config.max_tasks_per_tick
                {
                    break;
                }
            }
        }
        out.sort_by_key(|t| t.id);
        out.truncate(self.config.max_tasks_per_tick);
        Ok(out)
    }

    async fn process(
        &self,
        task: &TaskResponse,
        oracles: &OraclesResponse,
        height: u64,
        report: &mut TickReport,
    ) -> Result<(), OracleError> {
        let (store, db) = (&self.shared.store, &self.shared.db);
        let Some(rule) = self
            .config
            .rule_for(task.terms.template_id, &task.terms.metric)
            .cloned()
        else {
            report.skipped += 1;
            tracing::debug!(
                task = task.id,
                template = task.terms.template_id,
                "no rule for template"
            );
            return Ok(());
        };
        let mut rec = match db.get(store, task.id)? {
            Some(r) => r,
            None => {
                let entered = self
                    .entry_height(task.terms.execution_deadline.nanos(), height)
                    .await?;
                tracing::info!(
                    task = task.id,
                    entered,
                    seen = height,
                    "task in verification"
                );
                db.insert_seen(store, task.id, task.terms.template_id, entered, height)?;
                db.get(store, task.id)?.ok_or(StoreError::Corrupt {
                    table: "oracle_tasks",
                    reason: format!("task {} vanished", task.id),
                })?
            }
        };
        if matches!(rec.state, TaskState::Done | TaskState::Failed) {
            return Ok(());
        }
        if rec.values_json.is_none() {
            let (values, cid) = self.measure(task, &rule).await?;
            db.set_values(store, task.id, &serde_json::to_string(&values)?, &cid)?;
            report.measured += 1;
            rec = db.get(store, task.id)?.unwrap_or(rec);
        }
        // A submission recorded before a crash is resumed as recorded.
        if let (Some(msg_json), Some(key)) = (&rec.msg_json, &rec.outbox_key) {
            if self.config.mode != OracleMode::Observer {
                let msgs: Vec<ChainMsg> = serde_json::from_str(msg_json)?;
                return self.submit(task.id, key, &msgs, &rec, report).await;
            }
        }
        match self.config.mode {
            OracleMode::Observer => Ok(()),
            OracleMode::Single => self.attest(task, oracles, &rec, report).await,
            OracleMode::Aggregator => self.aggregate_report(task, oracles, &rec, report).await,
        }
    }

    /// The first block whose time reached `deadline_nanos`, walking back
    /// from `height` (whose block is past it).
    async fn entry_height(&self, deadline_nanos: u64, height: u64) -> Result<u64, OracleError> {
        let mut h = height;
        while h > 1 && height - h < MAX_WALK_BACK {
            match self.shared.chain.block_events(h - 1).await {
                Ok(b) if b.time_nanos >= deadline_nanos => h -= 1,
                Ok(_) => break,
                // Pruned or unavailable: the oldest block known past the deadline.
                Err(e) => {
                    tracing::debug!(error = %e, "walk back stopped");
                    break;
                }
            }
        }
        Ok(h)
    }

    /// Measures every confirmed participant; all or nothing.
    async fn measure(
        &self,
        task: &TaskResponse,
        rule: &TemplateRule,
    ) -> Result<(Vec<ParticipantValue>, String), OracleError> {
        let from = task.terms.acceptance_deadline.seconds();
        let to = task.terms.execution_deadline.seconds();
        let sources: Vec<Arc<dyn MeasurementSource>> = self
            .sources
            .iter()
            .filter(|s| rule.sources.is_empty() || rule.sources.iter().any(|n| n == s.name()))
            .cloned()
            .collect();
        if sources.is_empty() {
            return Err(OracleError::Config(format!(
                "template {}: no sources",
                task.terms.template_id
            )));
        }
        let mut participants: Vec<String> = self
            .shared
            .slots(task.id)
            .await?
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        participants.sort();
        let mut values = Vec::with_capacity(participants.len());
        for participant in participants {
            let query = MeasurementQuery {
                task_id: task.id,
                participant: participant.clone(),
                from,
                to,
            };
            let mut set = JoinSet::new();
            for (i, source) in sources.iter().enumerate() {
                let (source, query, rule) = (source.clone(), query.clone(), rule.clone());
                set.spawn(async move {
                    let r = source.measure(&query).await.and_then(|m| {
                        rule.metric
                            .value(&m, rule.units_per_unit)
                            .map_err(SourceError::from)
                    });
                    (i, source.name().to_string(), r)
                });
            }
            let mut answers: Vec<(usize, String, Result<u128, SourceError>)> = Vec::new();
            while let Some(joined) = set.join_next().await {
                match joined {
                    Ok(a) => answers.push(a),
                    Err(e) => tracing::warn!(error = %e, "source task panicked"),
                }
            }
            answers.sort_by_key(|(i, _, _)| *i);
            let answers: Vec<(String, Result<u128, SourceError>)> =
                answers.into_iter().map(|(_, n, r)| (n, r)).collect();
            for (name, r) in &answers {
                match r {
                    Ok(v) => {
                        tracing::debug!(task = task.id, %participant, source = %name, value = %v, "measured")
                    }
                    Err(e) => {
                        tracing::warn!(task = task.id, %participant, source = %name, error = %e, "source failed")
                    }
                }
            }
            let value =
                aggregate(&answers, rule.min_sources, rule.agreement_bps).map_err(|source| {
                    OracleError::Sources {
                        task_id: task.id,
                        participant: participant.clone(),
                        source,
                    }
                })?;
            values.push(ParticipantValue {
                participant,
                value: Uint128::new(value),
            });
        }
        let evidence = serde_json::json!({
            "task_id": task.id,
            "template_id": task.terms.template_id,
            "metric": rule.metric,
            "units_per_unit": rule.units_per_unit,
            "from": from,
            "to": to,
            "values": values,
        });
        let cid = evidence_cid(&serde_json::to_vec(&evidence)?);
        Ok((values, cid))
    }

    fn key(&self, task_id: u64, what: &str) -> String {
        format!(
            "oracle/{}/{}/{}/{}/{}",
            self.shared.chain_id, self.shared.contract, task_id, what, self.shared.account
        )
    }

    /// Single mode: one `attest` from this oracle's account.
    async fn attest(
        &self,
        task: &TaskResponse,
        oracles: &OraclesResponse,
        rec: &TaskRecord,
        report: &mut TickReport,
    ) -> Result<(), OracleError> {
        if !oracles
            .members
            .iter()
            .any(|m| m.address.as_str() == self.shared.account)
        {
            return Err(OracleError::NotInOracleSet {
                who: self.shared.account.clone(),
                version: oracles.version,
            });
        }
        let values: Vec<ParticipantValue> =
            serde_json::from_str(rec.values_json.as_deref().unwrap_or("[]"))?;
        let evidence_cid = rec.evidence_cid.clone().unwrap_or_default();
        // Skip what the contract already has: ours (e.g. sent before the
        // local record was lost) or an accepted value.
        let mut open = Vec::with_capacity(values.len());
        for v in values {
            let att: AttestationsResponse = query_smart(
                self.shared.chain.as_ref(),
                &self.shared.contract,
                &QueryMsg::Attestations {
                    task_id: task.id,
                    participant: v.participant.clone(),
                    start_after: None,
                    limit: Some(30),
                },
            )
            .await?;
            let ours = att
                .attestations
                .iter()
                .any(|a| a.oracle.as_str() == self.shared.account);
            if att.accepted.is_none() && !ours {
                open.push(v);
            }
        }
        if open.is_empty() {
            tracing::info!(task = task.id, "already attested on chain");
            self.shared
                .db
                .set_state(&self.shared.store, task.id, TaskState::Done, None, None)?;
            return Ok(());
        }
        let msg = ExecuteMsg::Attest {
            task_id: task.id,
            values: open,
            evidence_cid,
        };
        let msgs = vec![ChainMsg::execute(&self.shared.contract, &msg, vec![])?];
        let key = self.key(task.id, &format!("attest/v{}", oracles.version));
        self.record_submission(task.id, &key, &msgs, u64::from(oracles.version), &msg, &[])?;
        self.submit(task.id, &key, &msgs, rec, report).await
    }

    /// Aggregator mode: k identical signed observations → one `submit_report`.
    async fn aggregate_report(
        &self,
        task: &TaskResponse,
        oracles: &OraclesResponse,
        rec: &TaskRecord,
        report: &mut TickReport,
    ) -> Result<(), OracleError> {
        let round = task.last_report_round + 1;
        let Some(own) = self
            .shared
            .observation(task.id, round, oracles.version)
            .await?
        else {
            tracing::info!(task = task.id, "no open participants left");
            self.shared
                .db
                .set_state(&self.shared.store, task.id, TaskState::Done, None, None)?;
            return Ok(());
        };
        let index_of = |obs: &SignedObservation| {
            oracles.members.iter().find(|m| {
                m.address.as_str() == obs.oracle && m.pubkey == obs.pubkey && m.scheme == obs.scheme
            })
        };
        let own_member = index_of(&own).ok_or_else(|| OracleError::NotInOracleSet {
            who: self.shared.account.clone(),
            version: oracles.version,
        })?;
        let mut signatures: BTreeMap<u32, Binary> = BTreeMap::new();
        signatures.insert(own_member.index, own.signature.clone());
        let digest = peer::report_digest(&own.report);
        for peer in &self.config.peers {
            let url = format!(
                "{}/v1/observations/{}?round={}&config_version={}",
                peer.trim_end_matches('/'),
                task.id,
                round,
                oracles.version
            );
            let obs: SignedObservation = match self.peers.get(&url).await {
                Ok(Some(v)) => match serde_json::from_value(v) {
                    Ok(o) => o,
                    Err(e) => {
                        tracing::warn!(peer, error = %e, "malformed observation ignored");
                        continue;
                    }
                },
                Ok(None) => {
                    tracing::debug!(peer, task = task.id, "peer has no observation yet");
                    continue;
                }
                Err(e) => {
                    tracing::warn!(peer, error = %e, "peer unreachable");
                    continue;
                }
            };
            let Some(member) = index_of(&obs) else {
                tracing::warn!(
                    peer,
                    oracle = obs.oracle,
                    "observation from outside the oracle set ignored"
                );
                continue;
            };
            if obs.report != own.report {
                tracing::warn!(
                    peer,
                    oracle = obs.oracle,
                    ours = ?own.report.values,
                    theirs = ?obs.report.values,
                    "disagreeing report ignored"
                );
                continue;
            }
            if !keys::verify_digest(member.scheme, &member.pubkey, &digest, &obs.signature) {
                tracing::warn!(
                    peer,
                    oracle = obs.oracle,
                    "bad observation signature ignored"
                );
                continue;
            }
            signatures.insert(member.index, obs.signature);
        }
        let need = task.terms.min_quorum.max(oracles.threshold) as usize;
        if signatures.len() < need {
            return Err(OracleError::NotEnoughObservations {
                task_id: task.id,
                have: signatures.len(),
                need,
            });
        }
        let signatures: Vec<OracleSignature> = signatures
            .into_iter()
            .map(|(oracle_index, signature)| OracleSignature {
                oracle_index,
                signature,
            })
            .collect();
        let msg = ExecuteMsg::SubmitReport {
            task_id: task.id,
            report: own.report.clone(),
            signatures,
        };
        let msgs = vec![ChainMsg::execute(&self.shared.contract, &msg, vec![])?];
        let key = self.key(task.id, &format!("report/r{round}"));
        self.record_submission(task.id, &key, &msgs, round, &own.report, &own.signature)?;
        self.submit(task.id, &key, &msgs, rec, report).await
    }

    /// Writes the submission (task row and attestation log) before the outbox sees it.
    fn record_submission(
        &self,
        task_id: u64,
        key: &str,
        msgs: &[ChainMsg],
        round: u64,
        payload: &impl serde::Serialize,
        signature: &[u8],
    ) -> Result<(), OracleError> {
        self.shared.db.set_submission(
            &self.shared.store,
            task_id,
            &serde_json::to_string(msgs)?,
            key,
            round,
        )?;
        self.shared.store.put_attestation(&Attestation {
            chain_id: self.shared.chain_id.clone(),
            task_id: format!("{}/{}", self.shared.contract, task_id),
            round,
            attester: self.shared.account.clone(),
            payload: serde_json::to_vec(payload)?,
            signature: signature.to_vec(),
        })?;
        Ok(())
    }

    async fn submit(
        &self,
        task_id: u64,
        key: &str,
        msgs: &[ChainMsg],
        rec: &TaskRecord,
        report: &mut TickReport,
    ) -> Result<(), OracleError> {
        let entry = self.outbox.submit(key, msgs, "wevalue oracle").await?;
        let db = &self.shared.db;
        match entry.status {
            OutboxStatus::Done => {
                let height = entry.height.unwrap_or_default();
                db.set_state(
                    &self.shared.store,
                    task_id,
                    TaskState::Done,
                    Some(height),
                    None,
                )?;
                report.included += 1;
                tracing::info!(
                    task = task_id,
                    verifying_height = rec.verifying_height,
                    included_height = height,
                    latency_blocks = height.saturating_sub(rec.verifying_height),
                    "oracle task proven"
                );
                Ok(())
            }
            OutboxStatus::Failed => {
                let reason = entry.last_error.unwrap_or_default();
                db.set_state(
                    &self.shared.store,
                    task_id,
                    TaskState::Failed,
                    entry.height,
                    Some(&reason),
                )?;
                Err(OracleError::SubmissionFailed { task_id, reason })
            }
            // Not final yet: left to the next tick (same key, same message).
            _ => Ok(()),
        }
    }
}

/// A CIDv1 (raw codec, sha2-256) of the evidence bytes, base32 lower case.
pub fn evidence_cid(bytes: &[u8]) -> String {
    let mut raw = vec![0x01, 0x55, 0x12, 0x20];
    raw.extend_from_slice(&Sha256::digest(bytes));
    let alphabet = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::from("b");
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in raw {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(alphabet[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(alphabet[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn evidence_cid_is_a_59_character_base32_cidv1() {
        let cid = super::evidence_cid(b"");
        // The well-known CIDv1 raw of the empty input.
        assert_eq!(
            cid,
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        );
        assert_eq!(cid.len(), 59);
    }
}
