//! The transaction outbox: every side effect is recorded (messages, then the
//! signed tx and its hash) before it is broadcast, and finished only when the
//! chain has included it. After a crash, [`Outbox::reconcile`] asks the
//! chain about every unfinished entry: a tx that landed is marked done and
//! never sent again; one still signed at a live sequence is re-broadcast as
//! the same bytes (a chain cannot include the same signed tx twice); one
//! whose sequence was taken by another tx is signed again.
//!
//! One outbox per signer: the daemon (or a devnet instance) builds one and
//! hands the same `Arc<Outbox>` to every service, which sends requests to it
//! under its idempotency keys and never signs itself. Store work runs on the
//! blocking pool ([`Store::blocking`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use thiserror::Error;

use crate::chain::{ChainMsg, TxClient, TxOutcome};
use crate::error::{ChainError, StoreError};
use crate::metrics::{Metrics, SignerLabels, TxLabels};
use crate::store::{OutboxEntry, OutboxStatus, Store};

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
}

impl Default for OutboxOptions {
    fn default() -> Self {
        Self {
            inclusion_timeout: Duration::from_secs(60),
            max_attempts: 5,
            transient_retries: 5,
            retry_initial_delay: Duration::from_millis(200),
            retry_max_delay: Duration::from_secs(10),
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
    /// retrying transient chain failures with exponential backoff. Calling it
    /// again with the same key never sends a second tx: it returns the
    /// recorded result or continues the recorded attempt.
    pub async fn submit(
        &self,
        key: &str,
        msgs: &[ChainMsg],
        memo: &str,
    ) -> Result<OutboxEntry, OutboxError> {
        let entry = self.enqueue(key, msgs, memo).await?;
        let id = entry.id;
        let labels = self.labels(&entry);
        let mut result = self.drive(entry).await;
        let mut delay = self.options.retry_initial_delay;
        for retry in 1..=self.options.transient_retries {
            match &result {
                Err(OutboxError::Chain { source, .. }) if source.is_transient() => {
                    tracing::info!(id, key, retry, ?delay, error = %source, "outbox: transient failure, backing off");
                    if let Some(m) = &self.metrics {
                        m.outbox_retries.get_or_create(&labels).inc();
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.options.retry_max_delay);
                    let entry = self.store.blocking(move |s| s.outbox_entry(id)).await?;
                    result = self.drive(entry).await;
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

    async fn open_entries(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        let chain_id = self.chain_id.clone();
        Ok(self
            .store
            .blocking(move |s| s.outbox_open(&chain_id))
            .await?)
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
    pub async fn flush(&self) -> Result<u32, OutboxError> {
        let mut finished = 0;
        for entry in self.open_entries().await? {
            match self.drive(entry).await {
                Ok(e) if e.status.is_final() => finished += 1,
                Ok(_) => {}
                Err(OutboxError::Chain { id, key, source }) => {
                    tracing::warn!(id, key, error = %source, "outbox entry not finished");
                }
                Err(e) => return Err(e),
            }
        }
        self.update_backlog().await;
        Ok(finished)
    }

    /// Run once at start-up before sending anything new (module docs).
    pub async fn reconcile(&self) -> Result<ReconcileReport, OutboxError> {
        let mut report = ReconcileReport::default();
        for entry in self.open_entries().await? {
            let chain_err = |source| OutboxError::Chain {
                id: entry.id,
                key: entry.key.clone(),
                source,
            };
            // Sequence before the lookup (see `after_inclusion_timeout`).
            let next = self.client.account_sequence().await.map_err(chain_err)?;
            if let Some(outcome) = self.find_any_attempt(entry.id).await.map_err(chain_err)? {
                tracing::info!(
                    id = entry.id,
                    key = entry.key,
                    hash = outcome.hash,
                    "outbox: already on chain"
                );
                self.record_outcome(entry.id, outcome).await?;
                report.found_on_chain += 1;
                continue;
            }
            match &entry.tx {
                None => report.sent += 1,
                Some(tx) => {
                    if next > tx.sequence {
                        let (id, reason) = (
                            entry.id,
                            format!("sequence {} used by another tx", tx.sequence),
                        );
                        self.store.blocking(move |s| s.requeue(id, &reason)).await?;
                        report.resigned += 1;
                    } else {
                        report.rebroadcast += 1;
                    }
                }
            }
            let entry = self.entry(entry.id).await?;
            if let Err(e) = self.drive(entry).await {
                tracing::warn!(error = %e, "outbox entry not finished during reconciliation");
            }
        }
        self.update_backlog().await;
        Ok(report)
    }

    /// Looks up every hash the entry was ever signed as.
    async fn find_any_attempt(&self, id: i64) -> Result<Option<TxOutcome>, ChainError> {
        let hashes = self
            .store
            .blocking(move |s| s.outbox_attempt_hashes(id))
            .await
            .map_err(|e| ChainError::Rpc(e.to_string()))?;
        for hash in hashes {
            if let Some(outcome) = self.client.find_tx(&hash).await? {
                return Ok(Some(outcome));
            }
        }
        Ok(None)
    }

    /// Advances one entry through pending → signed → broadcast → final,
    /// holding the signer's lock: however many handles a process has to one
    /// signer's outbox, they take turns and never sign two txs at one sequence.
    async fn drive(&self, entry: OutboxEntry) -> Result<OutboxEntry, OutboxError> {
        let lock = account_lock(&self.chain_id, self.client.sender());
        let _turn = lock.lock().await;
        self.drive_locked(entry).await
    }

    /// Runs a store write on the blocking pool.
    async fn write(
        &self,
        f: impl FnOnce(&Store) -> Result<(), StoreError> + Send + 'static,
    ) -> Result<(), StoreError> {
        self.store.blocking(f).await
    }

    async fn record_outcome(&self, id: i64, outcome: TxOutcome) -> Result<(), StoreError> {
        self.write(move |s| s.record_outcome(id, &outcome)).await
    }

    async fn drive_locked(&self, mut entry: OutboxEntry) -> Result<OutboxEntry, OutboxError> {
        let id = entry.id;
        let key = entry.key.clone();
        let labels = self.labels(&entry);
        let chain_err = |source| OutboxError::Chain {
            id,
            key: key.clone(),
            source,
        };
        let mut broadcast_at = None;
        loop {
            match entry.status {
                OutboxStatus::Done | OutboxStatus::Failed => return Ok(entry),
                OutboxStatus::Pending => {
                    if entry.attempts >= self.options.max_attempts {
                        self.write(move |s| s.record_failed(id, "too many signing attempts"))
                            .await?;
                        self.count_failed(&labels, "gave_up");
                    } else {
                        let sequence = self.client.account_sequence().await.map_err(chain_err)?;
                        let tx = self
                            .client
                            .sign(&entry.msgs, &entry.memo, sequence)
                            .await
                            .map_err(chain_err)?;
                        // Written before the broadcast: the crash-safety point.
                        self.write(move |s| s.record_signed(id, &tx)).await?;
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
                            self.write(move |s| s.record_broadcast(id)).await?;
                            if let Some(m) = &self.metrics {
                                m.txs_submitted.get_or_create(&labels).inc();
                            }
                        }
                        // The node already has it (ours, from before a crash).
                        Err(e) if e.is_already_in_mempool() => {
                            self.write(move |s| s.record_broadcast(id)).await?
                        }
                        Err(e @ ChainError::SequenceMismatch { .. }) => {
                            match self.find_any_attempt(id).await.map_err(chain_err)? {
                                Some(outcome) => self.record_outcome(id, outcome).await?,
                                None => {
                                    tracing::warn!(id, error = %e, "re-signing after sequence mismatch");
                                    let reason = e.to_string();
                                    self.write(move |s| s.requeue(id, &reason)).await?;
                                }
                            }
                        }
                        Err(e @ ChainError::Rejected { code, .. }) => {
                            let reason = e.to_string();
                            self.write(move |s| s.record_failed(id, &reason)).await?;
                            self.count_failed(&labels, &code.to_string());
                        }
                        Err(e) => {
                            let reason = e.to_string();
                            self.write(move |s| s.record_error(id, &reason)).await?;
                            return Err(chain_err(e));
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
                                if outcome.code != 0 {
                                    self.count_failed(&labels, &outcome.code.to_string());
                                }
                            }
                            self.record_outcome(id, outcome).await?;
                        }
                        Err(e @ ChainError::InclusionTimeout { .. }) => {
                            let reason = e.to_string();
                            self.write(move |s| s.record_error(id, &reason)).await?;
                            self.after_inclusion_timeout(&entry)
                                .await
                                .map_err(chain_err)?;
                            return Err(chain_err(e));
                        }
                        Err(e) => {
                            let reason = e.to_string();
                            self.write(move |s| s.record_error(id, &reason)).await?;
                            return Err(chain_err(e));
                        }
                    }
                }
            }
            entry = self.entry(id).await?;
        }
    }

    /// A broadcast tx did not show up in time. If it (or an earlier
    /// signature of the entry) landed meanwhile, record it; if its sequence
    /// was taken by another tx, sign again; otherwise the node lost it and
    /// the same bytes are broadcast again on the next drive.
    async fn after_inclusion_timeout(&self, entry: &OutboxEntry) -> Result<(), ChainError> {
        let store_err = |e: StoreError| ChainError::Rpc(e.to_string());
        // Sequence first: if it moved past ours before the lookup, an
        // inclusion of ours is already visible to the lookup.
        let next = self.client.account_sequence().await?;
        let id = entry.id;
        if let Some(outcome) = self.find_any_attempt(id).await? {
            return self.record_outcome(id, outcome).await.map_err(store_err);
        }
        let Some(tx) = &entry.tx else { return Ok(()) };
        if next > tx.sequence {
            let reason = format!("sequence {} used by another tx", tx.sequence);
            self.write(move |s| s.requeue(id, &reason))
                .await
                .map_err(store_err)
        } else {
            self.write(move |s| s.mark_for_rebroadcast(id, "not included before the timeout"))
                .await
                .map_err(store_err)
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
