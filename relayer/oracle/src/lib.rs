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

mod aggregate;
pub mod config;
pub mod keys;
pub mod metric;
pub mod peer;
pub mod sources;
mod store;
mod submit;
mod tick;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cosmwasm_std::Binary;
use sha2::{Digest, Sha256};
use thiserror::Error;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use value_contract::msg::{MatchingResponse, OracleMemberMsg, QueryMsg};

use relayer_core::chain::{query_smart, ChainReader};
use relayer_core::error::{ChainError, StoreError};
use relayer_core::metrics::Metrics;
use relayer_core::outbox::{Outbox, OutboxError};
use relayer_core::store::Store;

pub use aggregate::{aggregate, InsufficientSources, SimulatedMeter};
pub use config::{
    FileFormat, HttpConfig, KeyConfig, KeySchemeConfig, KeySource, OracleConfig, OracleMode,
    SourceConfig, SourceKind, TemplateRule,
};
pub use keys::{KeyError, OracleKey};
pub use metric::{Measurement, Metric};
pub use peer::SignedObservation;
pub use sources::{
    FileSource, HttpJson, HttpSource, MeasurementQuery, MeasurementSource, SourceError,
};
pub use store::{Attestation, OracleStore, TaskRecord, TaskState};

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
    chain: Arc<dyn ChainReader>,
    db: OracleStore,
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
    outbox: Arc<Outbox>,
    peers: HttpJson,
    reconciled: bool,
    metrics: Arc<Metrics>,
}

impl OracleService {
    /// A service reading `chain` and sending through `outbox` (whose signer
    /// is the oracle's account in the oracle set), with the sources and key
    /// from `config`.
    pub fn new(
        config: OracleConfig,
        chain: Arc<dyn ChainReader>,
        store: Arc<Store>,
        contract: &str,
        outbox: Arc<Outbox>,
    ) -> Result<Self, OracleError> {
        let chain_id = chain.chain_id().to_string();
        let db = OracleStore::open(&store, &chain_id, contract)?;
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
        let account = outbox.sender().to_string();
        let shared = Arc::new(Shared {
            db,
            chain,
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
            metrics: Arc::new(Metrics::new()),
        })
    }

    /// Replaces the configured sources (tests, embedders with their own feeds).
    pub fn with_sources(mut self, sources: Vec<Arc<dyn MeasurementSource>>) -> Self {
        self.sources = sources;
        self
    }

    /// Reports into the process's metrics (source errors by source).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The attestation log of a task round (what this oracle signed and sent).
    pub async fn attestation_log(
        &self,
        task_id: u64,
        round: u64,
    ) -> Result<Vec<Attestation>, OracleError> {
        Ok(self.shared.db.attestations(task_id, round).await?)
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
    pub async fn record(&self, task_id: u64) -> Result<Option<TaskRecord>, OracleError> {
        Ok(self.shared.db.get(task_id).await?)
    }

    /// (task, latency in blocks from entering verification to the inclusion
    /// of this oracle's attestation or report) for every included task.
    pub async fn latencies(&self) -> Result<Vec<(u64, u64)>, OracleError> {
        Ok(self
            .shared
            .db
            .all()
            .await?
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
}

/// A CIDv1 (raw codec, sha2-256) of the evidence bytes, base32 lower case.
pub fn evidence_cid(bytes: &[u8]) -> String {
    const RAW: u64 = 0x55;
    const SHA2_256: u64 = 0x12;
    let digest = Sha256::digest(bytes);
    // A 32-byte digest always fits a 64-byte multihash.
    match cid::multihash::Multihash::<64>::wrap(SHA2_256, &digest) {
        Ok(hash) => cid::Cid::new_v1(RAW, hash).to_string(),
        Err(e) => unreachable!("sha2-256 digest does not fit a multihash: {e}"),
    }
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
