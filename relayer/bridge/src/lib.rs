//! The IBC settlement bridge: a service of the relayer daemon (`[bridge]`)
//! that sees every IBC payout of the payment-channel contract through to
//! the other chain.
//!
//! - **Follows payouts.** A claim with `payout = ibc` sends an ICS-20
//!   transfer; the contract's reply records the packet's sequence and emits
//!   `payout_sent` with the whole payout (id, channel, sequence, payee,
//!   receiver, amount, timeout). The ibc-go callbacks middleware later calls
//!   the contract back when Hermes relays the acknowledgement or the
//!   timeout, and the contract emits `ibc_payout_callback` with the outcome
//!   (`delivered`, `error_ack`, `timeout`). The bridge records both in its
//!   table (`bridge_payouts`), so each payout's latency in blocks and
//!   seconds is known, and `relayer payouts` lists them. The event cursor
//!   is stored only after a batch is recorded (at-least-once; recording is
//!   idempotent). After a gap in the blocks it follows, payouts still in
//!   flight are read back from the contract.
//! - **Makes sure packets are relayed.** With `[bridge.hermes]` it runs
//!   Hermes as a supervised child process ([`hermes`]). A payout still in
//!   flight `clear_after_seconds` after its claim makes the bridge run
//!   `hermes clear packets` on its channel (Hermes relays from its event
//!   subscription, and a `send_packet` it missed, e.g. while starting,
//!   would otherwise wait for the next packet on the channel); one still in
//!   flight `overdue_after_seconds` past its timeout is logged as overdue.
//!
//! The bridge never signs: Hermes relays with its own key, the contract
//! settles in its callbacks, and what the payee may do after a refund
//! (`withdraw_credit`) is theirs to sign.

pub mod config;
pub mod hermes;
pub mod store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use relayer_core::chain::{query_smart, BlockEventSource, ChainStatus, SmartQuery};
use relayer_core::error::{ChainError, StoreError};
use relayer_core::follow::{ContractEvent, EventFilter, EventFollower};
use relayer_core::metrics::{ChainLabels, Metrics, PayoutLabels};
use relayer_core::store::Store;
use thiserror::Error;
use tokio::sync::watch;

pub use config::{BridgeConfig, HermesConfig};
use hermes::stopped;
pub use hermes::Hermes;
pub use store::{PayoutRecord, PayoutStatus, PayoutStore};

/// The cursor's stream name in the core's `cursors` table.
pub const CURSOR_STREAM: &str = "bridge";

/// Why the bridge stopped or a step failed.
#[derive(Debug, Error)]
pub enum BridgeError {
    /// A chain call failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event the contract emitted lacks what it should carry.
    #[error("{action} event at height {height}: {reason}")]
    Event {
        /// The event's action.
        action: String,
        /// Its height.
        height: u64,
        /// What is wrong.
        reason: String,
    },
}

/// What one [`Bridge::step`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepReport {
    /// Payouts newly recorded as sent.
    pub sent: u32,
    /// Payouts newly settled.
    pub settled: u32,
    /// Cursor after the step.
    pub cursor: u64,
}

/// The bridge service (module docs).
pub struct Bridge<C: SmartQuery + ChainStatus + BlockEventSource + ?Sized> {
    config: BridgeConfig,
    contract: String,
    chain_id: String,
    chain: Arc<C>,
    store: Arc<Store>,
    payouts: PayoutStore,
    metrics: Arc<Metrics>,
    follower: tokio::sync::Mutex<EventFollower>,
    hermes: Option<Arc<Hermes>>,
    /// When Hermes was last asked to clear each channel (stuck payouts).
    cleared: Mutex<HashMap<String, std::time::Instant>>,
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
}

impl<C: SmartQuery + ChainStatus + BlockEventSource + ?Sized + 'static> Bridge<C> {
    /// Builds the service: migrates its table and restores its cursor (or
    /// starts at `start_height` / the latest height).
    pub async fn new(
        config: BridgeConfig,
        contract: String,
        chain: Arc<C>,
        store: Arc<Store>,
    ) -> Result<Self, BridgeError> {
        let chain_id = chain.chain_id().to_string();
        let payouts = PayoutStore::open(&store, &chain_id, &contract)?;
        let cursor = match store.cursor(&chain_id, CURSOR_STREAM)? {
            Some(c) => c,
            None => match config.start_height {
                Some(h) => h.saturating_sub(1),
                None => chain.latest_block().await?.height.saturating_sub(1),
            },
        };
        let follower = EventFollower::new(
            EventFilter::contracts([contract.clone()]),
            cursor,
            config.max_blocks_per_poll,
        );
        Ok(Self {
            contract,
            chain_id,
            chain,
            store,
            payouts,
            metrics: Arc::new(Metrics::new()),
            follower: tokio::sync::Mutex::new(follower),
            hermes: None,
            cleared: Mutex::new(HashMap::new()),
            config,
        })
    }

    /// Reports into the daemon's metrics (and `/health`).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Supervises Hermes as configured (`[bridge.hermes]`).
    pub fn with_hermes(mut self) -> Self {
        self.hermes = self
            .config
            .hermes
            .clone()
            .map(|h| Arc::new(Hermes::new(h, self.metrics.clone())));
        self
    }

    /// The payouts table.
    pub fn payouts(&self) -> &PayoutStore {
        &self.payouts
    }

    fn labels(&self) -> ChainLabels {
        ChainLabels {
            chain: self.chain_id.clone(),
        }
    }

    /// Follows the contract's events once: records sent and settled
    /// payouts, then stores and moves the cursor. If recording fails, the
    /// cursor stays and the batch comes again.
    pub async fn step(&self) -> Result<StepReport, BridgeError> {
        let mut follower = self.follower.lock().await;
        let batch = follower.next_batch(&*self.chain).await?;
        let mut report = StepReport {
            cursor: batch.cursor,
            ..StepReport::default()
        };
        for ev in &batch.events {
            match ev.event.attr("action").unwrap_or_default() {
                "payout_sent" => report.sent += u32::from(self.on_sent(ev).await?),
                "ibc_payout_callback" => report.settled += u32::from(self.on_callback(ev).await?),
                _ => {}
            }
        }
        if batch.gap.is_some() {
            report.settled += self.resync().await?;
        }
        let (chain_id, cursor) = (self.chain_id.clone(), batch.cursor);
        self.store
            .blocking(move |s| s.set_cursor(&chain_id, CURSOR_STREAM, cursor))
            .await?;
        follower.commit(&batch);
        let in_flight = self.payouts.count_in_flight().await?;
        self.metrics
            .ibc_payouts_in_flight
            .get_or_create(&self.labels())
            .set(in_flight as i64);
        Ok(report)
    }

    async fn on_sent(&self, ev: &ContractEvent) -> Result<bool, BridgeError> {
        let bad = |reason: String| BridgeError::Event {
            action: "payout_sent".into(),
            height: ev.height,
            reason,
        };
        let text = |key: &str| {
            ev.event
                .attr(key)
                .map(str::to_string)
                .ok_or_else(|| bad(format!("no `{key}` attribute")))
        };
        let number = |key: &str| {
            text(key)?
                .parse::<u64>()
                .map_err(|_| bad(format!("`{key}` is not a number")))
        };
        let amount = text("amount")?;
        let coin: cosmwasm_std::Coin = amount
            .parse()
            .map_err(|_| bad(format!("`amount` {amount:?} is not a coin")))?;
        let record = PayoutRecord {
            payout_id: number("payout_id")?,
            ibc_channel: text("ibc_channel")?,
            sequence: number("sequence")?,
            payee: text("payee")?,
            receiver: text("receiver")?,
            denom: coin.denom,
            amount: coin.amount.u128(),
            timeout_nanos: number("timeout")?,
            sent_height: ev.height,
            sent_nanos: ev.time_nanos,
            status: PayoutStatus::InFlight,
            settled_height: None,
            settled_nanos: None,
            settle_tx: None,
        };
        let (id, channel, sequence) = (
            record.payout_id,
            record.ibc_channel.clone(),
            record.sequence,
        );
        let new = self.payouts.record_sent(record).await?;
        if new {
            tracing::info!(
                payout = id,
                channel,
                sequence,
                height = ev.height,
                "IBC payout sent"
            );
            self.metrics
                .ibc_payouts_sent
                .get_or_create(&self.labels())
                .inc();
        }
        Ok(new)
    }

    async fn on_callback(&self, ev: &ContractEvent) -> Result<bool, BridgeError> {
        // A callback for a packet that is not a payout in flight.
        let Some(id) = ev
            .event
            .attr("payout_id")
            .and_then(|s| s.parse::<u64>().ok())
        else {
            return Ok(false);
        };
        let outcome = ev.event.attr("outcome").unwrap_or_default();
        let status = PayoutStatus::parse(outcome)
            .filter(|s| *s != PayoutStatus::InFlight)
            .ok_or_else(|| BridgeError::Event {
                action: "ibc_payout_callback".into(),
                height: ev.height,
                reason: format!("unknown outcome {outcome:?}"),
            })?;
        let tx = Some(ev.tx_hash.clone()).filter(|h| !h.is_empty());
        let settled = self
            .payouts
            .settle(id, status, ev.height, ev.time_nanos, tx)
            .await?;
        match settled {
            Some(p) => {
                self.observe_settled(&p);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn observe_settled(&self, p: &PayoutRecord) {
        tracing::info!(
            payout = p.payout_id,
            outcome = p.status.as_str(),
            blocks = p.latency_blocks(),
            seconds = p.latency_seconds(),
            amount = %p.amount,
            denom = p.denom,
            "IBC payout settled"
        );
        self.metrics
            .ibc_payouts_settled
            .get_or_create(&PayoutLabels {
                chain: self.chain_id.clone(),
                outcome: p.status.as_str().into(),
            })
            .inc();
        if let Some(s) = p.latency_seconds() {
            self.metrics
                .ibc_payout_seconds
                .get_or_create(&self.labels())
                .observe(s);
        }
    }

    /// After a gap: payouts the contract no longer holds were settled in
    /// the missing blocks (outcome unknown here: a refund shows as the
    /// payee's credit).
    async fn resync(&self) -> Result<u32, BridgeError> {
        let mut settled = 0;
        let head = self.chain.latest_block().await?;
        for p in self.payouts.in_flight(1_000).await? {
            let q = payment_channel::msg::QueryMsg::Payout {
                payout_id: p.payout_id,
            };
            match query_smart::<_, serde_json::Value>(&*self.chain, &self.contract, &q).await {
                Ok(_) => {}
                Err(ChainError::Query { reason, .. }) if reason.contains("not found") => {
                    if let Some(p) = self
                        .payouts
                        .settle(
                            p.payout_id,
                            PayoutStatus::Settled,
                            head.height,
                            head.time_nanos,
                            None,
                        )
                        .await?
                    {
                        self.observe_settled(&p);
                        settled += 1;
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(settled)
    }

    /// Payouts in flight for `clear_after_seconds` since their claim: Hermes
    /// is asked to clear their channels (once per that period per channel).
    /// Those also `overdue_after_seconds` past their timeout are logged.
    /// Returns the ids of the payouts found stuck.
    pub async fn check_stuck(&self) -> Result<Vec<u64>, BridgeError> {
        const NANOS: u64 = 1_000_000_000;
        let clear_after = self.config.clear_after_seconds.saturating_mul(NANOS);
        let overdue_after = self.config.overdue_after_seconds.saturating_mul(NANOS);
        let now = now_nanos();
        let stuck: Vec<PayoutRecord> = self
            .payouts
            .in_flight(100)
            .await?
            .into_iter()
            .filter(|p| now > p.sent_nanos.saturating_add(clear_after))
            .collect();
        let overdue: Vec<u64> = stuck
            .iter()
            .filter(|p| now > p.timeout_nanos.saturating_add(overdue_after))
            .map(|p| p.payout_id)
            .collect();
        if !overdue.is_empty() {
            tracing::warn!(payouts = ?overdue, "IBC payouts overdue: no acknowledgement or timeout relayed");
        }
        if let Some(hermes) = &self.hermes {
            let mut channels: Vec<String> = stuck.iter().map(|p| p.ibc_channel.clone()).collect();
            channels.sort();
            channels.dedup();
            let period = Duration::from_secs(self.config.clear_after_seconds.max(1));
            for channel in channels {
                let due = {
                    let mut cleared = self.cleared.lock().unwrap_or_else(|e| e.into_inner());
                    let due = cleared.get(&channel).is_none_or(|t| t.elapsed() >= period);
                    if due {
                        cleared.insert(channel.clone(), std::time::Instant::now());
                    }
                    due
                };
                if due {
                    tracing::info!(
                        channel,
                        "payouts in flight too long: asking hermes to clear the channel"
                    );
                    match hermes.clear_packets(&channel).await {
                        Ok(_) => {
                            tracing::info!(channel, "hermes cleared the channel's pending packets")
                        }
                        Err(e) => tracing::warn!(channel, error = e, "clearing packets failed"),
                    }
                }
            }
        }
        Ok(stuck.iter().map(|p| p.payout_id).collect())
    }

    /// Runs until `stop`: Hermes supervised (if configured), events
    /// followed every `poll_interval_ms`, stuck payouts checked about every
    /// 5 s.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) -> Result<(), BridgeError> {
        let hermes = self
            .hermes
            .clone()
            .map(|h| tokio::spawn(h.supervise(stop.clone())));
        let mut tick = tokio::time::interval(Duration::from_millis(self.config.poll_interval_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut polls: u64 = 0;
        loop {
            tokio::select! {
                _ = stopped(&mut stop) => break,
                _ = tick.tick() => {}
            }
            if let Err(e) = self.step().await {
                tracing::warn!(error = %e, "bridge: following payouts failed; retrying");
            }
            polls += 1;
            let every = (5_000 / self.config.poll_interval_ms.max(1)).max(1);
            if polls.is_multiple_of(every) {
                if let Err(e) = self.check_stuck().await {
                    tracing::warn!(error = %e, "bridge: checking stuck payouts failed");
                }
            }
        }
        if let Some(task) = hermes {
            let _ = task.await;
        }
        Ok(())
    }
}
