//! The transaction outbox: every side effect is recorded (messages, then the
//! signed tx and its hash) before it is broadcast, and finished only when the
//! chain has included it. After a crash, [`Outbox::reconcile`] asks the
//! chain about every unfinished entry: a tx that landed is marked done and
//! never sent again; one still signed at a live sequence is re-broadcast as
//! the same bytes (a chain cannot include the same signed tx twice); one
//! whose sequence was taken by another tx is signed again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use thiserror::Error;

use crate::chain::{ChainMsg, TxClient};
use crate::error::{ChainError, StoreError};
use crate::metrics::Metrics;
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
pub struct Outbox<C: TxClient + ?Sized> {
    store: Arc<Store>,
    client: Arc<C>,
    chain_id: String,
    options: OutboxOptions,
    metrics: Option<Arc<Metrics>>,
}

impl<C: TxClient + ?Sized> Outbox<C> {
    /// Creates an outbox.
    pub fn new(store: Arc<Store>, client: Arc<C>, chain_id: &str, options: OutboxOptions) -> Self {
        Self {
            store,
            client,
            chain_id: chain_id.to_string(),
            options,
            metrics: None,
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
        let entry = self.store.enqueue(key, &self.chain_id, msgs, memo)?;
        let id = entry.id;
        let mut result = self.drive(entry).await;
        let mut delay = self.options.retry_initial_delay;
        for retry in 1..=self.options.transient_retries {
            match &result {
                Err(OutboxError::Chain { source, .. }) if source.is_transient() => {
                    tracing::info!(id, key, retry, ?delay, error = %source, "outbox: transient failure, backing off");
                    if let Some(m) = &self.metrics {
                        m.outbox_retries.inc();
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.options.retry_max_delay);
                    result = self.drive(self.store.outbox_entry(id)?).await;
                }
                _ => break,
            }
        }
        result
    }

    /// Only records the messages (a service that batches sends later).
    pub fn enqueue(
        &self,
        key: &str,
        msgs: &[ChainMsg],
        memo: &str,
    ) -> Result<OutboxEntry, OutboxError> {
        Ok(self.store.enqueue(key, &self.chain_id, msgs, memo)?)
    }

    /// Drives every open entry, oldest first; returns how many reached a
    /// final state. Errors are recorded on the entry and left for the next call.
    pub async fn flush(&self) -> Result<u32, OutboxError> {
        let mut finished = 0;
        for entry in self.store.outbox_open(&self.chain_id)? {
            match self.drive(entry).await {
                Ok(e) if e.status.is_final() => finished += 1,
                Ok(_) => {}
                Err(OutboxError::Chain { id, key, source }) => {
                    tracing::warn!(id, key, error = %source, "outbox entry not finished");
                }
                Err(e) => return Err(e),
            }
        }
        self.update_backlog();
        Ok(finished)
    }

    /// Run once at start-up before sending anything new (module docs).
    pub async fn reconcile(&self) -> Result<ReconcileReport, OutboxError> {
        let mut report = ReconcileReport::default();
        for entry in self.store.outbox_open(&self.chain_id)? {
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
                self.store.record_outcome(entry.id, &outcome)?;
                report.found_on_chain += 1;
                continue;
            }
            match &entry.tx {
                None => report.sent += 1,
                Some(tx) => {
                    if next > tx.sequence {
                        self.store.requeue(
                            entry.id,
                            &format!("sequence {} used by another tx", tx.sequence),
                        )?;
                        report.resigned += 1;
                    } else {
                        report.rebroadcast += 1;
                    }
                }
            }
            let entry = self.store.outbox_entry(entry.id)?;
            if let Err(e) = self.drive(entry).await {
                tracing::warn!(error = %e, "outbox entry not finished during reconciliation");
            }
        }
        self.update_backlog();
        Ok(report)
    }

    /// Looks up every hash the entry was ever signed as.
    async fn find_any_attempt(
        &self,
        id: i64,
    ) -> Result<Option<crate::chain::TxOutcome>, ChainError> {
        let hashes = self
            .store
            .outbox_attempt_hashes(id)
            .map_err(|e| ChainError::Rpc(e.to_string()))?;
        for hash in hashes {
            if let Some(outcome) = self.client.find_tx(&hash).await? {
                return Ok(Some(outcome));
            }
        }
        Ok(None)
    }

    /// Advances one entry through pending → signed → broadcast → final,
    /// holding the signer's lock: services of one process that share an
    /// account (watchtower, solver, oracle) take turns, so they never sign
    /// two txs at the same sequence.
    async fn drive(&self, entry: OutboxEntry) -> Result<OutboxEntry, OutboxError> {
        let lock = account_lock(&self.chain_id, self.client.sender());
        let _turn = lock.lock().await;
        self.drive_locked(entry).await
    }

    async fn drive_locked(&self, mut entry: OutboxEntry) -> Result<OutboxEntry, OutboxError> {
        let id = entry.id;
        let key = entry.key.clone();
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
                        self.store.record_failed(id, "too many signing attempts")?;
                        self.count_failed();
                    } else {
                        let sequence = self.client.account_sequence().await.map_err(chain_err)?;
                        let tx = self
                            .client
                            .sign(&entry.msgs, &entry.memo, sequence)
                            .await
                            .map_err(chain_err)?;
                        // Written before the broadcast: the crash-safety point.
                        self.store.record_signed(id, &tx)?;
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
                            self.store.record_broadcast(id)?;
                            if let Some(m) = &self.metrics {
                                m.txs_submitted.inc();
                            }
                        }
                        // The node already has it (ours, from before a crash).
                        Err(ChainError::Rejected { code: 19, .. }) => {
                            self.store.record_broadcast(id)?
                        }
                        Err(e @ ChainError::SequenceMismatch { .. }) => {
                            match self.find_any_attempt(id).await.map_err(chain_err)? {
                                Some(outcome) => self.store.record_outcome(id, &outcome)?,
                                None => {
                                    tracing::warn!(id, error = %e, "re-signing after sequence mismatch");
                                    self.store.requeue(id, &e.to_string())?;
                                }
                            }
                        }
                        Err(e @ ChainError::Rejected { .. }) => {
                            self.store.record_failed(id, &e.to_string())?;
                            self.count_failed();
                        }
                        Err(e) => {
                            self.store.record_error(id, &e.to_string())?;
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
                            self.store.record_outcome(id, &outcome)?;
                            if let Some(m) = &self.metrics {
                                if let Some(at) = broadcast_at {
                                    m.tx_latency_seconds.observe(at.elapsed().as_secs_f64());
                                }
                                m.gas_used.inc_by(outcome.gas_used);
                                if outcome.code != 0 {
                                    m.txs_failed.inc();
                                }
                            }
                        }
                        Err(e @ ChainError::InclusionTimeout { .. }) => {
                            self.store.record_error(id, &e.to_string())?;
                            self.after_inclusion_timeout(&entry)
                                .await
                                .map_err(chain_err)?;
                            return Err(chain_err(e));
                        }
                        Err(e) => {
                            self.store.record_error(id, &e.to_string())?;
                            return Err(chain_err(e));
                        }
                    }
                }
            }
            entry = self.store.outbox_entry(id)?;
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
        if let Some(outcome) = self.find_any_attempt(entry.id).await? {
            return self
                .store
                .record_outcome(entry.id, &outcome)
                .map_err(store_err);
        }
        let Some(tx) = &entry.tx else { return Ok(()) };
        if next > tx.sequence {
            self.store
                .requeue(
                    entry.id,
                    &format!("sequence {} used by another tx", tx.sequence),
                )
                .map_err(store_err)
        } else {
            self.store
                .mark_for_rebroadcast(entry.id, "not included before the timeout")
                .map_err(store_err)
        }
    }

    fn count_failed(&self) {
        if let Some(m) = &self.metrics {
            m.txs_failed.inc();
        }
    }

    fn update_backlog(&self) {
        if let (Some(m), Ok(n)) = (&self.metrics, self.store.outbox_backlog(&self.chain_id)) {
            m.outbox_backlog.set(n as i64);
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
