//! The transaction outbox: every side effect is recorded (messages, then the
//! signed tx and its hash) before it is broadcast, and finished only when the
//! chain has included it. After a crash, [`Outbox::reconcile`] asks the
//! chain about every unfinished entry: a tx that landed is marked done and
//! never sent again; one that may still land is re-broadcast as the same
//! bytes (a chain cannot include the same signed tx twice); one that can no
//! longer land is signed again.
//!
//! **When a tx can no longer land.** Every tx carries a `timeout_height`
//! (Cosmos backend). An entry is signed again only once the chain is past
//! that height *and* the tx is in none of the blocks from its signing
//! height to its timeout, read from the blocks themselves: the tx indexer
//! (`/tx`) is asynchronous, may be off, and a load-balanced RPC may lag, so
//! "not found" there proves nothing. (A backend without timeouts, the
//! embedded chain with its synchronous index, falls back to "its sequence
//! was taken and the index does not have it".)
//!
//! **Failures by class** ([`FailureClass`], from codespace and code): fee,
//! funds and out-of-gas are retried with backoff and raised as alerts
//! (`outbox_alerts_total` and a warning), never given up on; a contract's
//! refusal at simulation is recorded and retried up to
//! [`OutboxOptions::max_refusals`] times; a contract failure on chain is
//! final and marked as such, so a service can tell it from the rest.
//!
//! **One owner per signer.** One outbox per signer: the daemon (or a devnet
//! instance) builds one and hands the same `Arc<Outbox>` to every service,
//! which sends requests to it under its idempotency keys and never signs
//! itself. Driving an entry holds the signer's lock and re-reads the entry
//! under it, and every store update is guarded by the status it expects, so
//! the daemon's flush and a service never sign the same entry twice. Store
//! work runs on the blocking pool ([`Store::blocking`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use thiserror::Error;

use crate::chain::{ChainMsg, TxClient};
use crate::error::{ChainError, FailureClass, StoreError};
use crate::metrics::{Metrics, SignerLabels, TxLabels};
use crate::store::{OutboxEntry, OutboxStatus, Store};

mod resolve;
use resolve::Resolution;

/// Outbox failures.
#[derive(Debug, Error)]
pub enum OutboxError {
    /// The state store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The chain failed; the entry stays open and is retried later.
    #[error("outbox entry {id} ({key}): {source}")]
    Chain {
        /// Entry id.
        id: i64,
        /// Idempotency key.
        key: String,
        /// What failed.
        #[source]
        source: ChainError,
    },
}

/// What reconciliation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Found on chain and marked done or failed without sending anything.
    pub found_on_chain: u32,
    /// Re-broadcast as the same signed bytes.
    pub rebroadcast: u32,
    /// Signed again because their sequence was used by another tx.
    pub resigned: u32,
    /// Never signed before the crash; sent now.
    pub sent: u32,
    /// Entries that could not be looked at now (a node error); left open
    /// for the next flush.
    pub errors: u32,
}

/// Outbox tuning.
#[derive(Clone, Debug)]
pub struct OutboxOptions {
    /// How long to wait for inclusion after broadcast.
    pub inclusion_timeout: Duration,
    /// Signing attempts before an entry is marked failed.
    pub max_attempts: u32,
    /// Retries of a transient chain failure within one `submit` call, with
    /// exponential backoff (an open entry is also retried by `flush`).
    pub transient_retries: u32,
    /// First backoff delay; doubles per retry up to `retry_max_delay`.
    pub retry_initial_delay: Duration,
    /// Longest backoff delay.
    pub retry_max_delay: Duration,
    /// Refusals before signing (the contract failed the simulation, the gas
    /// estimate exceeds the ceiling) before an entry is marked failed.
    pub max_refusals: u32,
    /// Most blocks looked through for a tx whose timeout passed (the span
    /// from its signing height to its timeout height).
    pub max_scan_blocks: u64,
}

impl Default for OutboxOptions {
    fn default() -> Self {
        Self {
            inclusion_timeout: Duration::from_secs(60),
            max_attempts: 5,
            transient_retries: 5,
            retry_initial_delay: Duration::from_millis(200),
            retry_max_delay: Duration::from_secs(10),
            max_refusals: 3,
            max_scan_blocks: 1_000,
        }
    }
}

/// Sends transactions for one signer on one chain through the store.
pub struct Outbox {
    store: Arc<Store>,
    client: Arc<dyn TxClient>,
    chain_id: String,
    options: OutboxOptions,
    metrics: Option<Arc<Metrics>>,
    /// Flush backoff of entries whose last try failed in a retryable way:
    /// when they are next due, and the delay after that.
    backoff: Mutex<HashMap<i64, (tokio::time::Instant, Duration)>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("chain_id", &self.chain_id)
            .field("sender", &self.client.sender())
            .finish_non_exhaustive()
    }
}

/// The service that sent an entry: its key's first segment (`watchtower/…`).
fn service_of(key: &str) -> &str {
    key.split('/').next().unwrap_or_default()
}

/// What an entry does: the first message's execute variant (`claim_batch`,
/// `submit_report`) or `instantiate`.
fn kind_of(msgs: &[ChainMsg]) -> String {
    match msgs.first() {
        Some(ChainMsg::Execute { msg, .. }) => serde_json::from_str::<serde_json::Value>(msg)
            .ok()
            .and_then(|v| v.as_object().and_then(|o| o.keys().next().cloned()))
            .unwrap_or_else(|| "execute".into()),
        Some(ChainMsg::Instantiate { .. }) => "instantiate".into(),
        Some(ChainMsg::Instantiate2 { .. }) => "instantiate2".into(),
        Some(ChainMsg::StoreCode { .. }) => "store_code".into(),
        Some(ChainMsg::IbcTransfer { .. }) => "ibc_transfer".into(),
        Some(ChainMsg::BankSend { .. }) => "bank_send".into(),
        None => "empty".into(),
    }
}

impl Outbox {
    /// Creates the outbox of `client`'s signer.
    pub fn new(
        store: Arc<Store>,
        client: Arc<dyn TxClient>,
        chain_id: &str,
        options: OutboxOptions,
    ) -> Self {
        Self {
            store,
            client,
            chain_id: chain_id.to_string(),
            options,
            metrics: None,
            backoff: Mutex::new(HashMap::new()),
        }
    }

    /// The signer's address.
    pub fn sender(&self) -> &str {
        self.client.sender()
    }

    /// The chain it sends to.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// The tuning.
    pub fn options(&self) -> &OutboxOptions {
        &self.options
    }

    fn labels(&self, entry: &OutboxEntry) -> TxLabels {
        TxLabels {
            chain: self.chain_id.clone(),
            service: service_of(&entry.key).to_string(),
            kind: kind_of(&entry.msgs),
        }
    }

    /// Reports into these metrics.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Records the messages under `key` and drives them to a final state,
    /// retrying transient failures and fee, funds or gas problems with
    /// exponential backoff. Calling it again with the same key never sends a
    /// second tx: it returns the recorded result or continues the recorded
    /// attempt.
    pub async fn submit(
        &self,
        key: &str,
        msgs: &[ChainMsg],
        memo: &str,
    ) -> Result<OutboxEntry, OutboxError> {
        let entry = self.enqueue(key, msgs, memo).await?;
        let id = entry.id;
        let labels = self.labels(&entry);
        let mut result = self.drive(id).await;
        let mut delay = self.options.retry_initial_delay;
        for retry in 1..=self.options.transient_retries {
            match &result {
                Err(OutboxError::Chain { source, .. }) if source.is_retryable() => {
                    tracing::info!(id, key, retry, ?delay, error = %source, "outbox: retryable failure, backing off");
                    if let Some(m) = &self.metrics {
                        m.outbox_retries.get_or_create(&labels).inc();
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.options.retry_max_delay);
                    result = self.drive(id).await;
                }
                _ => break,
            }
        }
        result
    }

    /// Only records the messages (a service that batches sends later).
    pub async fn enqueue(
        &self,
        key: &str,
        msgs: &[ChainMsg],
        memo: &str,
    ) -> Result<OutboxEntry, OutboxError> {
        let (key, chain_id, msgs, memo) = (
            key.to_string(),
            self.chain_id.clone(),
            msgs.to_vec(),
            memo.to_string(),
        );
        Ok(self
            .store
            .blocking(move |s| s.enqueue(&key, &chain_id, &msgs, &memo))
            .await?)
    }

    async fn open_ids(&self) -> Result<Vec<i64>, OutboxError> {
        let chain_id = self.chain_id.clone();
        Ok(self
            .store
            .blocking(move |s| s.outbox_open(&chain_id))
            .await?
            .into_iter()
            .map(|e| e.id)
            .collect())
    }

    async fn entry(&self, id: i64) -> Result<OutboxEntry, StoreError> {
        self.store.blocking(move |s| s.outbox_entry(id)).await
    }

    /// An entry by idempotency key.
    pub async fn entry_by_key(&self, key: &str) -> Result<Option<OutboxEntry>, OutboxError> {
        let key = key.to_string();
        Ok(self.store.blocking(move |s| s.outbox_by_key(&key)).await?)
    }

    /// Drives every open entry, oldest first; returns how many reached a
    /// final state. Errors are recorded on the entry and left for the next call.
    /// An entry that failed in a retryable way (transport, fee, funds, gas)
    /// is tried again only after an exponential backoff, so a node that
    /// refuses it is not hammered at the flush interval.
    pub async fn flush(&self) -> Result<u32, OutboxError> {
        let mut finished = 0;
        let now = tokio::time::Instant::now();
        for id in self.open_ids().await? {
            if self
                .lock_backoff()
                .get(&id)
                .is_some_and(|(due, _)| *due > now)
            {
                continue;
            }
            match self.drive(id).await {
                Ok(e) => {
                    self.lock_backoff().remove(&id);
                    if e.status.is_final() {
                        finished += 1;
                    }
                }
                Err(OutboxError::Chain { id, key, source }) => {
                    if source.is_retryable() {
                        let mut backoff = self.lock_backoff();
                        let delay = backoff
                            .get(&id)
                            .map(|(_, d)| (*d * 2).min(self.options.retry_max_delay))
                            .unwrap_or(self.options.retry_initial_delay);
                        backoff.insert(id, (tokio::time::Instant::now() + delay, delay));
                    }
                    tracing::warn!(id, key, error = %source, "outbox entry not finished");
                }
                Err(e) => return Err(e),
            }
        }
        self.update_backlog().await;
        Ok(finished)
    }

    fn lock_backoff(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<i64, (tokio::time::Instant, Duration)>> {
        self.backoff.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run once at start-up before sending anything new (module docs). A
    /// node error on one entry is counted and leaves it for the next flush;
    /// only a store failure aborts.
    pub async fn reconcile(&self) -> Result<ReconcileReport, OutboxError> {
        let mut report = ReconcileReport::default();
        for id in self.open_ids().await? {
            let lock = account_lock(&self.chain_id, self.client.sender());
            let turn = lock.lock().await;
            let entry = self.entry(id).await?;
            if entry.status.is_final() {
                continue;
            }
            let resolution = match &entry.tx {
                None => Ok(Resolution::Unsigned),
                Some(_) => self.resolve(&entry).await,
            };
            match resolution {
                Ok(Resolution::Landed) => {
                    tracing::info!(id, key = entry.key, "outbox: already on chain");
                    report.found_on_chain += 1;
                    continue;
                }
                Ok(Resolution::Unsigned) => report.sent += 1,
                Ok(Resolution::Resign) => report.resigned += 1,
                // Back to `signed` (a node may have lost it): the same
                // bytes go out again.
                Ok(Resolution::MayLand) => report.rebroadcast += 1,
                Err(OutboxError::Chain { source, .. }) => {
                    tracing::warn!(id, key = entry.key, error = %source, "outbox: reconciliation deferred");
                    report.errors += 1;
                    continue;
                }
                Err(e) => return Err(e),
            }
            drop(turn);
            if let Err(e) = self.drive(id).await {
                tracing::warn!(error = %e, "outbox entry not finished during reconciliation");
            }
        }
        self.update_backlog().await;
        Ok(report)
    }

    /// Advances one entry through pending → signed → broadcast → final.
    /// Holds the signer's lock and reads the entry under it: however many
    /// handles a process has to one signer's outbox (the daemon's flush, the
    /// services), they take turns, and none acts on a stale snapshot.
    async fn drive(&self, id: i64) -> Result<OutboxEntry, OutboxError> {
        let lock = account_lock(&self.chain_id, self.client.sender());
        let _turn = lock.lock().await;
        let entry = self.entry(id).await?;
        self.drive_locked(entry).await
    }

    /// Runs a store write on the blocking pool.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.store.blocking(f).await
    }

    fn chain_err(&self, entry: &OutboxEntry) -> impl Fn(ChainError) -> OutboxError {
        let (id, key) = (entry.id, entry.key.clone());
        move |source| OutboxError::Chain {
            id,
            key: key.clone(),
            source,
        }
    }

    async fn drive_locked(&self, mut entry: OutboxEntry) -> Result<OutboxEntry, OutboxError> {
        let id = entry.id;
        let labels = self.labels(&entry);
        let chain_err = self.chain_err(&entry);
        let mut broadcast_at = None;
        loop {
            match entry.status {
                OutboxStatus::Done | OutboxStatus::Failed => return Ok(entry),
                OutboxStatus::Pending => {
                    if entry.attempts >= self.options.max_attempts {
                        self.write(move |s| s.record_failed(id, "too many signing attempts", None))
                            .await?;
                        self.count_failed(&labels, "gave_up");
                    } else {
                        self.sign_pending(&entry, &labels).await?;
                    }
                }
                OutboxStatus::Signed => {
                    let tx = entry.tx.clone().ok_or(StoreError::Corrupt {
                        table: "outbox",
                        reason: format!("entry {id} signed without tx bytes"),
                    })?;
                    match self.client.broadcast(&tx).await {
                        Ok(()) => {
                            broadcast_at = Some(std::time::Instant::now());
                            if self.write(move |s| s.record_broadcast(id)).await? {
                                if let Some(m) = &self.metrics {
                                    m.txs_submitted.get_or_create(&labels).inc();
                                }
                            }
                        }
                        // The node already has it (ours, broadcast before).
                        Err(e) if e.is_already_in_mempool() => {
                            self.write(move |s| s.record_broadcast(id)).await?;
                        }
                        Err(e) => {
                            let class = e.failure_class();
                            let reason = e.to_string();
                            self.write(move |s| s.record_error(id, &reason, class))
                                .await?;
                            if let Some(class) = class.filter(|c| c.is_operational()) {
                                self.alert(class, &entry, &e);
                            }
                            // A malformed tx, a wrong signature or chain id:
                            // it will never be accepted.
                            let definitive = matches!(class, Some(FailureClass::Permanent));
                            if e.is_sequence_mismatch() || class.is_some() {
                                // Refused: look up what became of it (and of
                                // earlier signatures) before anything else.
                                match self.resolve(&entry).await? {
                                    Resolution::Landed | Resolution::Resign => {}
                                    Resolution::MayLand | Resolution::Unsigned if definitive => {
                                        let reason = e.to_string();
                                        self.write(move |s| s.record_failed(id, &reason, class))
                                            .await?;
                                        self.count_failed(
                                            &labels,
                                            &rejected_code(&e).unwrap_or_default(),
                                        );
                                    }
                                    Resolution::MayLand | Resolution::Unsigned => {
                                        return Err(chain_err(e))
                                    }
                                }
                            } else {
                                return Err(chain_err(e));
                            }
                        }
                    }
                }
                OutboxStatus::Broadcast => {
                    let hash = entry
                        .tx
                        .as_ref()
                        .map(|t| t.hash.clone())
                        .unwrap_or_default();
                    match self
                        .client
                        .wait_for_tx(&hash, self.options.inclusion_timeout)
                        .await
                    {
                        Ok(outcome) => {
                            if let Some(m) = &self.metrics {
                                if let Some(at) = broadcast_at {
                                    m.tx_latency_seconds
                                        .get_or_create(&labels)
                                        .observe(at.elapsed().as_secs_f64());
                                }
                                m.gas_used.get_or_create(&labels).inc_by(outcome.gas_used);
                            }
                            self.apply_outcome(&entry, outcome).await?;
                        }
                        Err(e) => {
                            let reason = e.to_string();
                            self.write(move |s| s.record_error(id, &reason, None))
                                .await?;
                            // Not seen in time: landed after all (the
                            // indexer lagged), can no longer land (sign
                            // again now), or may still land (back off).
                            let decided = matches!(e, ChainError::InclusionTimeout { .. })
                                && matches!(
                                    self.resolve(&entry).await?,
                                    Resolution::Landed | Resolution::Resign
                                );
                            if !decided {
                                return Err(chain_err(e));
                            }
                        }
                    }
                }
            }
            entry = self.entry(id).await?;
        }
    }

    fn count_failed(&self, labels: &TxLabels, code: &str) {
        if let Some(m) = &self.metrics {
            m.txs_failed.get_or_create(&labels.with_code(code)).inc();
        }
    }

    /// Open entries and the age of the oldest, into the metrics.
    async fn update_backlog(&self) {
        let Some(m) = &self.metrics else { return };
        let chain_id = self.chain_id.clone();
        if let Ok(depth) = self
            .store
            .blocking(move |s| s.outbox_depth(&chain_id))
            .await
        {
            let labels = SignerLabels {
                chain: self.chain_id.clone(),
                signer: self.client.sender().to_string(),
            };
            m.outbox_backlog
                .get_or_create(&labels)
                .set(depth.open as i64);
            let age = depth
                .oldest_created_at
                .map(|t| (crate::store::now() - t).max(0))
                .unwrap_or(0);
            m.outbox_oldest_age_seconds.get_or_create(&labels).set(age);
        }
    }
}

/// The code of a CheckTx rejection or failed simulation, for the failure metric.
fn rejected_code(e: &ChainError) -> Option<String> {
    match e {
        ChainError::Rejected {
            codespace, code, ..
        }
        | ChainError::TxFailed {
            codespace, code, ..
        } => Some(format!("{codespace}/{code}")),
        _ => None,
    }
}

/// One async lock per (chain, signer) in this process.
fn account_lock(chain_id: &str, sender: &str) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    locks
        .entry(format!("{chain_id}/{sender}"))
        .or_default()
        .clone()
}
