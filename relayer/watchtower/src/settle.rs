//! Settlement: claim rounds by amount and age in `claim_batch` transactions
//! through the outbox, outcomes applied to the stored rows, refused
//! vouchers set aside, and IBC payouts for the signer's own channels.

use std::collections::{BTreeMap, BTreeSet};

use cosmwasm_std::{Binary, HexBinary, Uint128};
use payment_channel::msg::{BatchClaim, ExecuteMsg, Payout, SignedVoucher};
use relayer_core::chain::{BlockEventSource, ChainMsg, ChainStatus, SmartQuery};
use relayer_core::error::FailureClass;
use relayer_core::store::{OutboxEntry, OutboxStatus};
use relayer_core::StoreError;
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use crate::config::{PayoutConfig, MAX_BATCH};
use crate::store::{SettlementRow, VoucherRow};
use crate::{SettleReport, StepReport, Watchtower, WatchtowerError};

/// A claim to make: the stored voucher with its preimage.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    pub(crate) row: VoucherRow,
    preimage: Option<Vec<u8>>,
}

impl Candidate {
    fn batch_claim(&self) -> BatchClaim {
        BatchClaim {
            channel_id: self.row.channel_id,
            voucher: signed_voucher(&self.row),
            preimage: self.preimage.clone().map(HexBinary::from),
        }
    }
}

fn signed_voucher(row: &VoucherRow) -> SignedVoucher {
    SignedVoucher {
        amount: Uint128::new(row.amount),
        hashlock: row.hashlock,
        expiry: row.expiry,
        signature: Binary::from(row.signature.clone()),
    }
}

impl<C: SmartQuery + ChainStatus + BlockEventSource + ?Sized + 'static> Watchtower<C> {
    // ------------------------------------------------------------ settlement

    /// Start-up: reconciles the outbox, finishes settlements recorded before
    /// a crash and re-reads stored channels (answering closes missed while
    /// down). A settlement that cannot be finished now is left for the next
    /// round; it never stops the start-up.
    pub async fn recover(&self) -> Result<(), WatchtowerError> {
        let report = self.outbox.reconcile().await?;
        info!(?report, "watchtower: outbox reconciled");
        {
            let _guard = self.settling.lock().await;
            self.resume_pending().await?;
        }
        self.resync().await?;
        for row in self.db.vouchers().await? {
            self.observe_voucher(&row);
        }
        Ok(())
    }

    /// Pending settlements: drive their outbox entries to a final state.
    /// Each is on its own: one that fails (a node error, a refusal still
    /// within its retries) is logged and left pending, and the others go on.
    async fn resume_pending(&self) -> Result<SettleReport, WatchtowerError> {
        let pending: Vec<SettlementRow> = self
            .settlements(None)
            .await?
            .into_iter()
            .filter(|s| s.status == "pending")
            .collect();
        let mut report = SettleReport::default();
        for s in pending {
            match self.resume_one(&s).await {
                Ok(r) => report.add(r),
                Err(e) => warn!(key = s.key, error = %e, "watchtower: settlement still pending"),
            }
        }
        Ok(report)
    }

    async fn resume_one(&self, s: &SettlementRow) -> Result<SettleReport, WatchtowerError> {
        match self.outbox.entry_by_key(&s.key).await? {
            // The outbox records before it broadcasts: nothing was sent.
            None => {
                self.finish_settlement(&s.key, "abandoned", None, None)
                    .await?;
                Ok(SettleReport::default())
            }
            Some(entry) => {
                let entry = self
                    .outbox
                    .submit(&entry.key, &entry.msgs, &entry.memo)
                    .await?;
                self.apply_outcome(s, &entry).await
            }
        }
    }

    /// One settlement round: closing channels first, then every channel at
    /// the amount or age threshold, in batches. A batch that fails is logged
    /// and the others go on; only a store failure ends the round early.
    pub async fn settle(&self) -> Result<SettleReport, WatchtowerError> {
        let _guard = self.settling.lock().await;
        let mut report = self.resume_pending().await?;
        // A refused batch sets one voucher aside and the rest go again.
        for _ in 0..MAX_BATCH + 1 {
            let now = self.chain_now().await?;
            let candidates = self.candidates(now).await?;
            if candidates.is_empty() {
                break;
            }
            let mut round = SettleReport::default();
            for group in self.group(candidates) {
                for chunk in group.chunks(self.config.max_batch as usize) {
                    match self.submit_claims(chunk.to_vec()).await {
                        Ok(r) => round.add(r),
                        Err(WatchtowerError::Store(e)) => return Err(e.into()),
                        Err(e) => {
                            warn!(vouchers = chunk.len(), error = %e, "watchtower: claim not finished; retried next round");
                        }
                    }
                }
            }
            // Go again only when a voucher was set aside (the rest of its
            // batch is still due); anything else waits for the next round.
            let retry = round.rejected > 0;
            report.add(round);
            if !retry {
                break;
            }
        }
        Ok(report)
    }

    /// Follows events, then settles (the daemon's unit of work).
    pub async fn tick(&self) -> Result<(StepReport, SettleReport), WatchtowerError> {
        let step = self.step().await?;
        let settle = self.settle().await?;
        Ok((step, settle))
    }

    /// The row as a claim if it can be claimed now.
    pub(crate) async fn claimable(
        &self,
        row: VoucherRow,
        now: u64,
    ) -> Result<Option<Candidate>, StoreError> {
        if row.status == "closed"
            || row.amount <= row.claimed
            || row.rejected_amount == Some(row.amount)
        {
            return Ok(None);
        }
        if let Some(expiry) = row.expiry {
            if expiry <= now.saturating_add(self.config.close_safety_margin_seconds) {
                return Ok(None);
            }
        }
        if let Some(end) = row.finalize_after {
            if row.status == "closing" && end <= now {
                return Ok(None);
            }
        }
        let preimage = match &row.hashlock {
            None => None,
            Some(lock) => {
                let p = self.db.preimage(*lock).await?;
                match p {
                    Some(p) => Some(p),
                    None => return Ok(None),
                }
            }
        };
        Ok(Some(Candidate { row, preimage }))
    }

    /// Channels due for settlement, by id.
    async fn candidates(&self, chain_now: u64) -> Result<Vec<Candidate>, StoreError> {
        let rows = self.db.unsettled().await?;
        let busy = self.busy_channels().await?;
        let now = self.now();
        let mut out = vec![];
        for row in rows {
            if busy.contains(&row.channel_id) {
                continue;
            }
            let unclaimed = row.amount.saturating_sub(row.claimed);
            let due = row.status == "closing"
                || unclaimed >= self.config.min_amount.u128()
                || row
                    .unsettled_since
                    .is_some_and(|t| now.saturating_sub(t) >= self.config.max_age_seconds);
            if !due {
                continue;
            }
            if let Some(c) = self.claimable(row, chain_now).await? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Channels in a settlement still pending.
    async fn busy_channels(&self) -> Result<BTreeSet<u64>, StoreError> {
        Ok(self
            .settlements(None)
            .await?
            .into_iter()
            .filter(|s| s.status == "pending")
            .flat_map(|s| s.items.into_iter().map(|(c, _)| c))
            .collect())
    }

    /// Splits candidates by payout: with an IBC payout configured, the
    /// signer's own channels go in batches that carry it.
    fn group(&self, candidates: Vec<Candidate>) -> Vec<Vec<Candidate>> {
        if self.config.payout == PayoutConfig::Local {
            return vec![candidates];
        }
        let (own, others): (Vec<_>, Vec<_>) = candidates
            .into_iter()
            .partition(|c| c.row.payee == self.sender);
        [own, others]
            .into_iter()
            .filter(|g| !g.is_empty())
            .collect()
    }

    fn payout_for(&self, payee: &str) -> Option<Payout> {
        match &self.config.payout {
            PayoutConfig::Ibc {
                channel,
                receiver,
                timeout_seconds,
            } if payee == self.sender => Some(Payout::Ibc {
                channel: channel.clone(),
                receiver: receiver.clone(),
                timeout_seconds: *timeout_seconds,
            }),
            _ => None,
        }
    }

    /// Records a settlement, sends it through the outbox and applies the outcome.
    pub(crate) async fn submit_claims(
        &self,
        candidates: Vec<Candidate>,
    ) -> Result<SettleReport, WatchtowerError> {
        let items: Vec<(u64, u128)> = candidates
            .iter()
            .map(|c| (c.row.channel_id, c.row.amount))
            .collect();
        let payout = candidates
            .first()
            .and_then(|c| self.payout_for(&c.row.payee));
        let (kind, msg) = if let [single] = candidates.as_slice() {
            let msg = ExecuteMsg::Claim {
                channel_id: single.row.channel_id,
                voucher: signed_voucher(&single.row),
                preimage: single.preimage.clone().map(HexBinary::from),
                payout: payout.clone(),
            };
            ("claim", ChainMsg::execute(&self.contract, &msg, vec![])?)
        } else {
            let msg = ExecuteMsg::ClaimBatch {
                claims: candidates.iter().map(Candidate::batch_claim).collect(),
                payout: payout.clone(),
            };
            ("batch", ChainMsg::execute(&self.contract, &msg, vec![])?)
        };
        let base = self.base_key(kind, &items, payout.is_some());
        let key = self.record_settlement(&base, kind, &items).await?;
        let settlement = SettlementRow {
            key: key.clone(),
            kind: kind.into(),
            items,
            status: "pending".into(),
            tx_hash: None,
            height: None,
            gas_used: None,
            error: None,
        };
        info!(
            key,
            vouchers = settlement.items.len(),
            "watchtower: claiming"
        );
        let entry = self.outbox.submit(&key, &[msg], "").await?;
        self.apply_outcome(&settlement, &entry).await
    }

    /// `watchtower/<chain>/<contract>/<kind>/<sha256 of the (channel, amount) set>`.
    fn base_key(&self, kind: &str, items: &[(u64, u128)], ibc: bool) -> String {
        let mut sorted = items.to_vec();
        sorted.sort_unstable();
        let mut h = Sha256::new();
        for (c, a) in &sorted {
            h.update(c.to_be_bytes());
            h.update(a.to_be_bytes());
        }
        h.update([u8::from(ibc)]);
        let digest = hex::encode(h.finalize());
        format!(
            "watchtower/{}/{}/{kind}/{}",
            self.chain_id,
            self.contract,
            &digest[..32]
        )
    }

    async fn record_settlement(
        &self,
        base: &str,
        kind: &str,
        items: &[(u64, u128)],
    ) -> Result<String, StoreError> {
        self.db
            .record_settlement(base, kind, items, self.now() as i64)
            .await
    }

    async fn finish_settlement(
        &self,
        key: &str,
        status: &str,
        entry: Option<&OutboxEntry>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.db
            .finish_settlement(
                key,
                status,
                entry.and_then(|e| e.tx.as_ref().map(|t| t.hash.clone())),
                entry.and_then(|e| e.height),
                entry.and_then(|e| e.gas_used),
                error,
                self.now() as i64,
            )
            .await
    }

    /// Marks vouchers settled after a successful tx, or sets the refused
    /// one aside after a failed one.
    async fn apply_outcome(
        &self,
        s: &SettlementRow,
        entry: &OutboxEntry,
    ) -> Result<SettleReport, WatchtowerError> {
        let mut report = SettleReport::default();
        match entry.status {
            OutboxStatus::Done => {
                self.finish_settlement(&s.key, "done", Some(entry), None)
                    .await?;
                self.db.mark_settled(&s.items).await?;
                for (id, _) in &s.items {
                    if let Some(row) = self.db.voucher(*id).await? {
                        self.observe_voucher(&row);
                    }
                }
                {
                    let mut cache = self.lock_cache();
                    for (id, amount) in &s.items {
                        if let Some(v) = cache.get_mut(id) {
                            v.claimed = v.claimed.max(*amount);
                        }
                    }
                }
                report.txs = 1;
                report.settled = s.items.len() as u32;
                report.gas_used = entry.gas_used.unwrap_or_default();
                info!(
                    key = s.key,
                    vouchers = s.items.len(),
                    gas = entry.gas_used,
                    "watchtower: settled"
                );
            }
            OutboxStatus::Failed => {
                let error = entry.last_error.clone().unwrap_or_default();
                self.finish_settlement(&s.key, "failed", Some(entry), Some(&error))
                    .await?;
                report.failed = 1;
                // Only the contract's refusal says something about a
                // voucher; a fee, funds, gas or node problem (or an
                // operator's abandon) never sets one aside: the vouchers
                // stay due and go again in a later round.
                if entry.failure != Some(FailureClass::Contract) {
                    warn!(key = s.key, error, failure = ?entry.failure, "watchtower: claim failed; vouchers kept for the next round");
                    return Ok(report);
                }
                warn!(
                    key = s.key,
                    error, "watchtower: claim refused by the contract"
                );
                // Re-read the channels: a voucher may merely be outdated.
                for (id, _) in &s.items {
                    self.sync_row(*id).await?;
                }
                let culprit = if s.items.len() == 1 {
                    Some(0)
                } else {
                    batch_index(&error)
                };
                if let Some((id, amount)) = culprit.and_then(|i| s.items.get(i).copied()) {
                    if let Some(row) = self.best_voucher(id).await? {
                        if row.amount == amount && row.claimed < amount && row.status != "closed" {
                            self.db.reject(id, amount, &error).await?;
                            report.rejected = 1;
                        }
                    }
                }
            }
            // Still open (the chain did not answer in time): stays pending.
            _ => {}
        }
        Ok(report)
    }
}

/// The index the contract names in a refused batch (`batch claim <i>: ...`).
pub fn batch_index(error: &str) -> Option<usize> {
    let rest = &error[error.find("batch claim ")? + "batch claim ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Amounts per channel in a settlement, for reports.
pub fn items_by_channel(rows: &[SettlementRow]) -> BTreeMap<u64, Vec<u128>> {
    let mut out: BTreeMap<u64, Vec<u128>> = BTreeMap::new();
    for s in rows {
        for (c, a) in &s.items {
            out.entry(*c).or_default().push(*a);
        }
    }
    out
}
