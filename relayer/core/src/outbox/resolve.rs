//! Signing a pending entry (a refusal before signing is counted and bounded),
//! deciding what became of a signed tx (an included one's outcome: done,
//! failed with its class, or signed again after a fee, funds or gas failure;
//! the timeout-height rule for one not seen in a block), and the alerts.

use crate::chain::TxOutcome;
use crate::error::{ChainError, FailureClass, StoreError};
use crate::metrics::{AlertLabels, TxLabels};
use crate::store::OutboxEntry;

use super::{rejected_code, Outbox, OutboxError};

impl Outbox {
    /// Signs a pending entry at the account's next sequence and records the
    /// signature (only if the entry is still pending: never a tx unrecorded).
    pub(super) async fn sign_pending(
        &self,
        entry: &OutboxEntry,
        labels: &TxLabels,
    ) -> Result<(), OutboxError> {
        let id = entry.id;
        let chain_err = self.chain_err(entry);
        if entry.attempts > 0 {
            // Signed before (an operator's retry, a restart): an earlier
            // signature may have landed late.
            if let Some(outcome) = self.find_landed(entry).await.map_err(&chain_err)? {
                return Ok(self.apply_outcome(entry, outcome).await?);
            }
        }
        let sequence = self.client.account_sequence().await.map_err(&chain_err)?;
        match self.client.sign(&entry.msgs, &entry.memo, sequence).await {
            Ok(tx) => {
                // Written before the broadcast: the crash-safety point.
                if !self.write(move |s| s.record_signed(id, &tx)).await? {
                    tracing::debug!(
                        id,
                        "outbox: entry moved on while signing; signature dropped"
                    );
                }
                Ok(())
            }
            Err(e) => {
                let class = e.failure_class();
                let reason = e.to_string();
                match class {
                    Some(c) if c.is_operational() => {
                        self.alert(c, entry, &e);
                        self.write(move |s| s.record_error(id, &reason, class))
                            .await?;
                        Err(chain_err(e))
                    }
                    // The contract (or the gas ceiling) refused it before
                    // anything was signed: bounded retries, then failed.
                    Some(c) => {
                        let max = self.options.max_refusals;
                        let r = reason.clone();
                        let refusals = self.write(move |s| s.record_refusal(id, &r, c)).await?;
                        tracing::warn!(id, key = entry.key, refusals, max, error = %e, "outbox: refused before signing");
                        if refusals >= max {
                            self.write(move |s| s.record_failed(id, &reason, Some(c)))
                                .await?;
                            self.count_failed(
                                labels,
                                &rejected_code(&e).unwrap_or_else(|| c.as_str().into()),
                            );
                            Ok(())
                        } else {
                            Err(chain_err(e))
                        }
                    }
                    None => {
                        self.write(move |s| s.record_error(id, &reason, None))
                            .await?;
                        Err(chain_err(e))
                    }
                }
            }
        }
    }

    /// A fee, funds or gas problem: the operator must act (fund the signer,
    /// raise the gas price or multiplier); the effect is retried meanwhile.
    pub(super) fn alert(&self, class: FailureClass, entry: &OutboxEntry, error: &ChainError) {
        self.alert_text(class, entry, &error.to_string());
    }

    fn alert_text(&self, class: FailureClass, entry: &OutboxEntry, error: &str) {
        tracing::warn!(
            alert = class.as_str(),
            signer = self.client.sender(),
            id = entry.id,
            key = entry.key,
            error,
            "outbox alert: retrying with backoff"
        );
        if let Some(m) = &self.metrics {
            m.outbox_alerts
                .get_or_create(&AlertLabels {
                    chain: self.chain_id.clone(),
                    signer: self.client.sender().to_string(),
                    reason: class.as_str().to_string(),
                })
                .inc();
        }
    }

    /// Records what became of an included tx: done; failed (with its class)
    /// when the chain refused what it asked for; signed again when it failed
    /// for fee, funds or gas (its sequence is spent, the effect is not).
    pub(super) async fn apply_outcome(
        &self,
        entry: &OutboxEntry,
        outcome: TxOutcome,
    ) -> Result<(), StoreError> {
        let id = entry.id;
        if outcome.code == 0 {
            self.write(move |s| s.record_outcome(id, &outcome)).await?;
            return Ok(());
        }
        let class = FailureClass::of(&outcome.codespace, outcome.code);
        let labels = self.labels(entry);
        self.count_failed(&labels, &outcome.code.to_string());
        if class.is_operational() {
            let reason = format!(
                "tx {} failed with code {} (codespace {}): {}; signing again",
                outcome.hash, outcome.code, outcome.codespace, outcome.log
            );
            self.alert_text(class, entry, &reason);
            self.write(move |s| {
                s.record_error(id, &reason, Some(class))?;
                s.requeue(id, &reason)
            })
            .await?;
        } else {
            self.write(move |s| s.record_outcome(id, &outcome)).await?;
        }
        Ok(())
    }

    /// Decides the fate of a signed entry whose tx is not known to have
    /// landed (module docs) and records it: `Landed` (outcome recorded),
    /// `Resign` (requeued), or `MayLand` (left as it is: the same bytes may
    /// still be included, so nothing else may be signed for it yet).
    pub(super) async fn resolve(&self, entry: &OutboxEntry) -> Result<Resolution, OutboxError> {
        let chain_err = self.chain_err(entry);
        let id = entry.id;
        let Some(tx) = entry.tx.clone() else {
            return Ok(Resolution::Unsigned);
        };
        // Sequence before the lookup: if it moved past ours before the
        // lookup, an inclusion of ours is already visible to the lookup.
        let next = self.client.account_sequence().await.map_err(&chain_err)?;
        if let Some(outcome) = self.find_landed(entry).await.map_err(&chain_err)? {
            self.apply_outcome(entry, outcome).await?;
            return Ok(Resolution::Landed);
        }
        if tx.timeout_height == 0 {
            // No timeout (the embedded chain, whose index is synchronous).
            if next > tx.sequence {
                let reason = format!("sequence {} used by another tx", tx.sequence);
                self.write(move |s| s.requeue(id, &reason)).await?;
                return Ok(Resolution::Resign);
            }
            self.write(move |s| s.mark_for_rebroadcast(id, "not included yet"))
                .await?;
            return Ok(Resolution::MayLand);
        }
        let latest = self.client.latest_height().await.map_err(&chain_err)?;
        if latest <= tx.timeout_height {
            self.write(move |s| s.mark_for_rebroadcast(id, "not included yet"))
                .await?;
            return Ok(Resolution::MayLand);
        }
        // Past the timeout: it is in one of these blocks or in none, ever.
        let first = tx.signed_height.saturating_add(1).max(
            tx.timeout_height
                .saturating_sub(self.options.max_scan_blocks),
        );
        for height in first..=tx.timeout_height {
            if let Some(outcome) = self
                .client
                .tx_in_block(&tx.hash, height)
                .await
                .map_err(&chain_err)?
            {
                tracing::info!(
                    id,
                    height,
                    hash = tx.hash,
                    "outbox: tx found in a block the indexer did not report"
                );
                self.apply_outcome(entry, outcome).await?;
                return Ok(Resolution::Landed);
            }
        }
        let reason = format!(
            "timeout height {} passed and the tx is in none of blocks {first}..={}",
            tx.timeout_height, tx.timeout_height
        );
        tracing::warn!(id, key = entry.key, reason, "outbox: signing again");
        self.write(move |s| s.requeue(id, &reason)).await?;
        Ok(Resolution::Resign)
    }

    /// The first of the entry's signatures the indexer has in a block,
    /// skipping earlier ones that failed for fee, funds or gas (spent: the
    /// entry was signed again after them).
    pub(super) async fn find_landed(
        &self,
        entry: &OutboxEntry,
    ) -> Result<Option<TxOutcome>, ChainError> {
        let id = entry.id;
        let current = entry.tx.as_ref().map(|t| t.hash.clone());
        let hashes = self
            .store
            .blocking(move |s| s.outbox_attempt_hashes(id))
            .await
            .map_err(|e| ChainError::Rpc(e.to_string()))?;
        for hash in hashes {
            if let Some(outcome) = self.client.find_tx(&hash).await? {
                let spent = outcome.code != 0
                    && FailureClass::of(&outcome.codespace, outcome.code).is_operational()
                    && current.as_deref() != Some(hash.as_str());
                if !spent {
                    return Ok(Some(outcome));
                }
            }
        }
        Ok(None)
    }
}

/// What [`Outbox::resolve`] decided for a signed entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Resolution {
    /// Never signed.
    Unsigned,
    /// In a block: outcome recorded.
    Landed,
    /// Can no longer land: back to pending, to be signed again.
    Resign,
    /// May still land: the same bytes are (re-)broadcast.
    MayLand,
}
