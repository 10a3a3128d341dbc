//! Watchtower and settlement bridge (issue 7).
//!
//! - **Vouchers in**: payees (or their wallets) post the payer's vouchers to
//!   a loopback HTTP API ([`http`]). Each is checked against the channel
//!   (payee served, status, deposit, what is already claimed, expiry, the
//!   payer's signature verified natively with `wevalue-voucher`), and the
//!   best voucher per channel is committed to SQLite before the 200 goes
//!   out, so an acknowledged voucher survives a crash.
//! - **Defence**: [`Watchtower::step`] follows the payment-channel contract's
//!   events from a stored cursor. A payer's `start_close` on a channel whose
//!   best voucher is above what was claimed is answered with a claim at once;
//!   [`Watchtower::settle`] also claims every closing channel it knows of as
//!   a backstop (after a restart, an event gap or a late voucher).
//! - **Settlement**: [`Watchtower::settle`] claims, in `claim_batch`
//!   transactions of at most `max_batch` vouchers, every channel whose
//!   unclaimed amount reached `min_amount` or whose oldest unsettled voucher
//!   is `max_age_seconds` old. Hashlocked vouchers go only with their
//!   preimage and before their expiry. A batch the contract refuses names
//!   the bad voucher's index: that voucher is set aside and the rest retried.
//!
//! Every transaction goes through the [`Outbox`] under a key derived from the
//! chain, the contract and the (channel, amount) set, plus the number of
//! earlier failed attempts for that set (recorded here), so a restart
//! re-drives the same transaction instead of sending another.
//!
//! **IBC payouts.** With `payout = { kind = "ibc", ... }`, claims on channels
//! whose payee is this relayer's own signer carry the contract's `Payout::Ibc`
//! (only the payee may choose a payout), in `ExecuteMsg::Claim { payout }`
//! and `ExecuteMsg::ClaimBatch { payout }` alike. Channels of other payees
//! are batched apart, without a payout.

mod config;
mod events;
pub mod http;
mod settle;
mod store;
mod verify;
mod vouchers;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use payment_channel::msg::{ChannelResponse, ChannelStatus, QueryMsg};
use relayer_core::chain::{query_smart, BlockEventSource, ChainStatus, SmartQuery};
use relayer_core::follow::{EventFilter, EventFollower};
use relayer_core::metrics::{ChannelLabels, Metrics};
use relayer_core::outbox::{Outbox, OutboxError};
use relayer_core::store::Store;
use relayer_core::{ChainError, StoreError};
use thiserror::Error;
use tokio::sync::watch;
use tracing::{info, warn};
use wevalue_voucher::VoucherScheme;

pub use config::{PayoutConfig, WatchtowerConfig, MAX_BATCH};
pub use settle::{batch_index, items_by_channel};
use store::WatchtowerStore;
pub use store::{SettlementRow, VoucherRow};

/// Event stream name of the cursor in the store.
pub const CURSOR_STREAM: &str = "watchtower";

/// Watchtower failures (the API's own answers are [`http::ApiError`]).
#[derive(Debug, Error)]
pub enum WatchtowerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The chain failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The outbox failed.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The configuration is unusable.
    #[error("watchtower config: {0}")]
    Config(String),
    /// The HTTP server could not bind.
    #[error("watchtower http: {0}")]
    Http(#[from] std::io::Error),
}

/// Unix seconds; injectable so tests control voucher ages.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

fn system_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A channel as the watchtower checks vouchers against it.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelView {
    /// Payee.
    pub payee: String,
    /// The payer's voucher key.
    pub pubkey: Vec<u8>,
    /// Signature scheme.
    pub scheme: VoucherScheme,
    /// Total deposit.
    pub deposit: u128,
    /// Claimed on chain.
    pub claimed: u128,
    /// Lifecycle.
    pub status: ChannelStatus,
}

impl From<ChannelResponse> for ChannelView {
    fn from(c: ChannelResponse) -> Self {
        Self {
            payee: c.payee.into_string(),
            pubkey: c.pubkey.to_vec(),
            scheme: c.scheme,
            deposit: c.deposit.u128(),
            claimed: c.claimed.u128(),
            status: c.status,
        }
    }
}

fn status_str(status: &ChannelStatus) -> &'static str {
    match status {
        ChannelStatus::Open => "open",
        ChannelStatus::Closing { .. } => "closing",
        ChannelStatus::Closed => "closed",
    }
}

/// What one settlement round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SettleReport {
    /// Transactions included and successful.
    pub txs: u32,
    /// Vouchers settled by them.
    pub settled: u32,
    /// Transactions the chain refused.
    pub failed: u32,
    /// Vouchers set aside as refused by the contract.
    pub rejected: u32,
    /// Gas the chain reported for the successful transactions.
    pub gas_used: u64,
}

impl SettleReport {
    fn add(&mut self, other: SettleReport) {
        self.txs += other.txs;
        self.settled += other.settled;
        self.failed += other.failed;
        self.rejected += other.rejected;
        self.gas_used += other.gas_used;
    }
}

/// What one event step did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepReport {
    /// Contract events handled.
    pub events: u32,
    /// Closes answered with a claim.
    pub defended: u32,
    /// Cursor after the step.
    pub cursor: u64,
}

/// The service: a payment-channel contract watched for the payees it
/// serves, on a chain it reads (queries, status, block events) and an
/// outbox it sends through (the signer's, shared with the other services).
pub struct Watchtower<C: SmartQuery + ChainStatus + BlockEventSource + ?Sized> {
    config: WatchtowerConfig,
    contract: String,
    chain_id: String,
    prefix: String,
    sender: String,
    payees: HashSet<String>,
    chain: Arc<C>,
    store: Arc<Store>,
    db: WatchtowerStore,
    outbox: Arc<Outbox>,
    metrics: Arc<Metrics>,
    follower: tokio::sync::Mutex<EventFollower>,
    cache: Mutex<HashMap<u64, ChannelView>>,
    clock: Clock,
    /// Serialises settlement rounds and defences (one tx at a time).
    settling: tokio::sync::Mutex<()>,
    /// Voucher signature checks, off the async workers.
    verifier: verify::VerifyPool,
}

impl<C: SmartQuery + ChainStatus + BlockEventSource + ?Sized + 'static> Watchtower<C> {
    /// Builds the service: migrates its tables and restores its cursor
    /// (or starts at `start_height` / the latest height). Claims go through
    /// `outbox`, whose signer is the watchtower's account.
    pub async fn new(
        config: WatchtowerConfig,
        contract: impl Into<String>,
        chain: Arc<C>,
        store: Arc<Store>,
        outbox: Arc<Outbox>,
    ) -> Result<Self, WatchtowerError> {
        let problems = config.problems();
        if !problems.is_empty() {
            return Err(WatchtowerError::Config(problems.join("; ")));
        }
        let contract = contract.into();
        if contract.is_empty() {
            return Err(WatchtowerError::Config(
                "no payment-channel contract address".into(),
            ));
        }
        let chain_id = chain.chain_id().to_string();
        let db = WatchtowerStore::open(&store, &chain_id, &contract)?;
        let sender = outbox.sender().to_string();
        let prefix = bech32::decode(&contract)
            .map(|(hrp, _)| hrp.to_string())
            .map_err(|e| WatchtowerError::Config(format!("contract {contract}: {e}")))?;
        let payees: HashSet<String> = if config.payees.is_empty() {
            HashSet::from([sender.clone()])
        } else {
            config.payees.iter().cloned().collect()
        };
        let cursor = match store.cursor(&chain_id, CURSOR_STREAM)? {
            Some(c) => c,
            None => match config.start_height {
                Some(h) => h.saturating_sub(1),
                None => chain.latest_block().await?.height,
            },
        };
        let follower = EventFollower::new(
            EventFilter::contracts([contract.clone()]).with_types(["wasm"]),
            cursor,
            config.max_blocks_per_poll,
        );
        Ok(Self {
            config,
            contract,
            chain_id,
            prefix,
            sender,
            payees,
            chain,
            store,
            db,
            outbox,
            metrics: Arc::new(Metrics::new()),
            follower: tokio::sync::Mutex::new(follower),
            cache: Mutex::new(HashMap::new()),
            clock: Arc::new(system_clock),
            settling: tokio::sync::Mutex::new(()),
            verifier: verify::VerifyPool::new(),
        })
    }

    /// Reports into the process's metrics (vouchers held and unsettled per
    /// channel, seconds left on closes with unclaimed vouchers).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Replaces the clock used for voucher ages (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &WatchtowerConfig {
        &self.config
    }

    /// The contract watched.
    pub fn contract(&self) -> &str {
        &self.contract
    }

    /// The event cursor (last processed height).
    pub async fn cursor(&self) -> u64 {
        self.follower.lock().await.cursor()
    }

    fn now(&self) -> u64 {
        (self.clock)()
    }

    async fn chain_now(&self) -> Result<u64, ChainError> {
        Ok(self.chain.latest_block().await?.time_nanos / 1_000_000_000)
    }

    // ------------------------------------------------------------ channels

    /// The channel, from the cache or the contract.
    async fn channel(&self, id: u64, refresh: bool) -> Result<Option<ChannelView>, ChainError> {
        if !refresh {
            if let Some(view) = self.lock_cache().get(&id) {
                return Ok(Some(view.clone()));
            }
        }
        match query_smart::<_, ChannelResponse>(
            &*self.chain,
            &self.contract,
            &QueryMsg::Channel { channel_id: id },
        )
        .await
        {
            Ok(resp) => {
                let view = ChannelView::from(resp);
                self.lock_cache().insert(id, view.clone());
                Ok(Some(view))
            }
            Err(ChainError::Query { reason, .. }) if reason.contains("not found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<u64, ChannelView>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings a stored row's claimed/status in line with the chain.
    async fn sync_row(&self, id: u64) -> Result<Option<ChannelView>, WatchtowerError> {
        let Some(view) = self.channel(id, true).await? else {
            return Ok(None);
        };
        let finalize_after = match &view.status {
            ChannelStatus::Closing { finalize_after } => Some(finalize_after.seconds()),
            _ => None,
        };
        self.db
            .sync_channel(id, view.claimed, status_str(&view.status), finalize_after)
            .await?;
        if let Some(row) = self.db.voucher(id).await? {
            self.observe_voucher(&row);
        }
        Ok(Some(view))
    }

    fn channel_labels(&self, id: u64) -> ChannelLabels {
        ChannelLabels {
            chain: self.chain_id.clone(),
            contract: self.contract.clone(),
            channel: id.to_string(),
        }
    }

    /// The channel's metrics from its stored row: the best voucher held,
    /// what of it is unclaimed, and for a close with unclaimed vouchers the
    /// seconds left in the challenge window (by the service clock).
    fn observe_voucher(&self, row: &VoucherRow) {
        let labels = self.channel_labels(row.channel_id);
        let unsettled = row.amount.saturating_sub(row.claimed);
        self.metrics
            .watchtower_voucher_amount
            .get_or_create(&labels)
            .set(row.amount as f64);
        self.metrics
            .watchtower_unsettled_amount
            .get_or_create(&labels)
            .set(unsettled as f64);
        match (row.status.as_str(), row.finalize_after) {
            ("closing", Some(end)) if unsettled > 0 => {
                let left = end.saturating_sub(self.now()) as i64;
                self.metrics
                    .watchtower_close_seconds_left
                    .get_or_create(&labels)
                    .set(left);
            }
            _ => {
                self.metrics.watchtower_close_seconds_left.remove(&labels);
            }
        }
    }

    // ------------------------------------------------------------ running

    /// Serves the API on `config.listen` until `shutdown` turns true;
    /// returns the bound address and the server task.
    pub fn spawn_http(
        self: &Arc<Self>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), WatchtowerError> {
        http::spawn(self.clone(), shutdown)
    }

    /// The service loop: the API, recovery (retried with backoff until it
    /// succeeds), then event steps every poll interval and a settlement
    /// round every settle interval, until `shutdown` turns true (between
    /// rounds). The API lives only as long as this loop: a watchtower that
    /// stopped, for whatever reason, accepts no more vouchers.
    pub async fn run(
        self: Arc<Self>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), WatchtowerError> {
        let (http_stop, http_rx) = watch::channel(false);
        // Dropped on every way out of this function, error or not.
        struct StopOnDrop(watch::Sender<bool>);
        impl Drop for StopOnDrop {
            fn drop(&mut self) {
                let _ = self.0.send(true);
            }
        }
        let http_stop = StopOnDrop(http_stop);
        {
            let mut outer = shutdown.clone();
            let tx = http_stop.0.clone();
            tokio::spawn(async move {
                let _ = outer.wait_for(|stop| *stop).await;
                let _ = tx.send(true);
            });
        }
        let (addr, server) = self.spawn_http(http_rx)?;
        info!(%addr, contract = self.contract, "watchtower: serving");
        let mut delay = Duration::from_millis(200);
        while let Err(e) = self.recover().await {
            warn!(error = %e, ?delay, "watchtower: recovery failed; retrying");
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = tokio::time::sleep(delay) => {}
            }
            if *shutdown.borrow() {
                drop(http_stop);
                let _ = server.await;
                return Ok(());
            }
            delay = (delay * 2).min(Duration::from_secs(30));
        }
        let poll = Duration::from_millis(self.config.poll_interval_ms);
        let settle_every = Duration::from_secs(self.config.settle_interval_seconds);
        let mut last_settle = tokio::time::Instant::now();
        loop {
            if let Err(e) = self.step().await {
                warn!(error = %e, "watchtower: event step failed");
            }
            if last_settle.elapsed() >= settle_every {
                last_settle = tokio::time::Instant::now();
                if let Err(e) = self.settle().await {
                    warn!(error = %e, "watchtower: settlement failed");
                }
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = tokio::time::sleep(poll) => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
        drop(http_stop);
        let _ = server.await;
        Ok(())
    }
}
