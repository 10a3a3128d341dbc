//! Defence: following the contract's events, answering payer-started
//! closes with a claim at once, and re-reading channels after a gap.

use payment_channel::msg::ChannelStatus;
use relayer_core::chain::{BlockEventSource, ChainStatus, SmartQuery};
use relayer_core::follow::ContractEvent;
use tracing::{debug, info_span, warn, Instrument};

use crate::store::ChannelFilter;
use crate::{StepReport, Watchtower, WatchtowerError, CURSOR_STREAM};

impl<C: SmartQuery + ChainStatus + BlockEventSource + ?Sized + 'static> Watchtower<C> {
    // ------------------------------------------------------------ events

    /// Follows the contract's events once: updates the cache and the stored
    /// rows, answers payer-started closes, then moves and stores the cursor.
    /// If handling fails, the cursor stays and the batch comes again.
    pub async fn step(&self) -> Result<StepReport, WatchtowerError> {
        let mut follower = self.follower.lock().await;
        let batch = follower.next_batch(&*self.chain).await?;
        let mut report = StepReport {
            cursor: batch.cursor,
            ..StepReport::default()
        };
        for event in &batch.events {
            report.events += 1;
            if self.on_event(event).await? {
                report.defended += 1;
            }
        }
        if batch.gap.is_some() {
            // Events were lost: read the contract's state instead.
            self.metrics
                .event_gap_blocks
                .get_or_create(&relayer_core::metrics::ChainLabels {
                    chain: self.chain_id.clone(),
                })
                .inc_by(batch.gap_blocks);
            self.resync().await?;
        }
        let (chain_id, cursor) = (self.chain_id.clone(), batch.cursor);
        self.store
            .blocking(move |s| s.set_cursor(&chain_id, CURSOR_STREAM, cursor))
            .await?;
        follower.commit(&batch);
        Ok(report)
    }

    /// One event; returns whether it triggered a defence claim.
    async fn on_event(&self, ev: &ContractEvent) -> Result<bool, WatchtowerError> {
        let action = ev.event.attr("action").unwrap_or_default();
        let id = ev
            .event
            .attr("channel_id")
            .and_then(|s| s.parse::<u64>().ok());
        debug!(action, ?id, height = ev.height, "payment-channel event");
        match (action, id) {
            ("claim_batch", _) => {
                // The event does not name the channels: drop the cache.
                self.lock_cache().clear();
            }
            ("top_up" | "claim" | "finalize" | "close", Some(id)) => {
                self.lock_cache().remove(&id);
                if self.best_voucher(id).await?.is_some() {
                    self.sync_row(id).await?;
                }
            }
            ("start_close", Some(id)) => {
                self.lock_cache().remove(&id);
                if self.best_voucher(id).await?.is_some() {
                    self.sync_row(id).await?;
                    // A claim that cannot land now leaves the row closing:
                    // every settlement round claims it again.
                    return Ok(self.defend(id).await.unwrap_or_else(|e| {
                        warn!(channel = id, error = %e, "defence claim not finished; retried by the next settlement round");
                        false
                    }));
                }
            }
            _ => {}
        }
        Ok(false)
    }

    /// Answers a close on one channel with its best voucher if that is
    /// above what was claimed. Failures leave the row `closing`, so the
    /// next settlement round tries again.
    async fn defend(&self, id: u64) -> Result<bool, WatchtowerError> {
        let _guard = self.settling.lock().await;
        let Some(row) = self.best_voucher(id).await? else {
            return Ok(false);
        };
        if row.status == "closing" {
            if let Some(end) = row.finalize_after {
                let now = self.chain_now().await?;
                if end <= now.saturating_add(self.config.close_safety_margin_seconds) {
                    warn!(
                        channel = id,
                        finalize_after = end,
                        now,
                        "challenge period nearly over"
                    );
                }
            }
        }
        let now = self.chain_now().await?;
        let Some(candidate) = self.claimable(row, now).await? else {
            return Ok(false);
        };
        let span = info_span!("watchtower_defend", channel = id, amount = %candidate.row.amount);
        let report = self.submit_claims(vec![candidate]).instrument(span).await?;
        Ok(report.settled > 0)
    }

    /// Re-reads every stored open or closing channel from the contract
    /// (start-up, event gaps) and answers closes found there.
    pub async fn resync(&self) -> Result<u32, WatchtowerError> {
        let ids = self.db.channel_ids(ChannelFilter::NotClosed).await?;
        let mut defended = 0;
        for id in ids {
            if let Some(view) = self.sync_row(id).await? {
                if matches!(view.status, ChannelStatus::Closing { .. }) && self.defend(id).await? {
                    defended += 1;
                }
            }
        }
        Ok(defended)
    }
}
