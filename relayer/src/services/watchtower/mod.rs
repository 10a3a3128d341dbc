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

mod db;
pub mod http;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cosmwasm_std::{Binary, HexBinary, Uint128};
use payment_channel::msg::{
    BatchClaim, ChannelResponse, ChannelStatus, ExecuteMsg, Payout, QueryMsg, SignedVoucher,
};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;
use tokio::sync::watch;
use tracing::{debug, info, info_span, warn, Instrument};
use wevalue_voucher::{Hashlock, Voucher, VoucherScheme};

use crate::chain::{query_smart, Chain, ChainMsg};
use crate::error::{ChainError, StoreError};
use crate::follow::{ContractEvent, EventFilter, EventFollower};
use crate::outbox::{Outbox, OutboxError, OutboxOptions};
use crate::store::{OutboxEntry, OutboxStatus, Store};

pub use db::{SettlementRow, VoucherRow};

/// Event stream name of the cursor in the store.
pub const CURSOR_STREAM: &str = "watchtower";
/// The contract's batch limit.
pub const MAX_BATCH: u32 = 50;

/// Where claimed funds go.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PayoutConfig {
    /// To the payee on this chain.
    #[default]
    Local,
    /// An ICS-20 transfer from the contract (native denoms, channels whose
    /// payee is this relayer's signer).
    Ibc {
        /// ICS-20 channel on this chain (`channel-<n>`).
        channel: String,
        /// Receiver on the other chain.
        receiver: String,
        /// Packet timeout from the claim, 60 to 604,800 seconds.
        timeout_seconds: u64,
    },
}

/// `[watchtower]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchtowerConfig {
    /// Serve the watchtower at all.
    pub enabled: bool,
    /// Loopback address of the voucher API (port 0 picks a free one).
    pub listen: SocketAddr,
    /// Payment-channel contract address; empty = the deployed `payment-channel`.
    pub contract: String,
    /// Payees whose vouchers are accepted (they must authorize this
    /// relayer's signer with `authorize_watchtower` unless it is the payee);
    /// empty = the relayer's own signer.
    pub payees: Vec<String>,
    /// Settle a channel once its unclaimed amount reaches this (base units).
    pub min_amount: Uint128,
    /// Settle a channel once its oldest unsettled voucher is this old.
    pub max_age_seconds: u64,
    /// Vouchers per `claim_batch`, 1 to 50 (and at most the contract's limit).
    pub max_batch: u32,
    /// How often to follow events, in milliseconds.
    pub poll_interval_ms: u64,
    /// How often to run a settlement round, in seconds.
    pub settle_interval_seconds: u64,
    /// Blocks scanned per event poll.
    pub max_blocks_per_poll: u64,
    /// Height to start following from on the first start (no stored
    /// cursor); unset = the latest height then.
    pub start_height: Option<u64>,
    /// Vouchers expiring within this many seconds are not claimed (a claim
    /// would likely land too late); a close whose challenge period ends
    /// within it is logged as at risk.
    pub close_safety_margin_seconds: u64,
    /// Where claimed funds go.
    pub payout: PayoutConfig,
    /// Largest request body the API accepts, in bytes.
    pub max_body_bytes: usize,
}

impl Default for WatchtowerConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 8788)),
            contract: String::new(),
            payees: vec![],
            min_amount: Uint128::new(1_000_000),
            max_age_seconds: 3_600,
            max_batch: MAX_BATCH,
            poll_interval_ms: 1_000,
            settle_interval_seconds: 30,
            max_blocks_per_poll: 500,
            start_height: None,
            close_safety_margin_seconds: 30,
            payout: PayoutConfig::Local,
            max_body_bytes: 16 * 1024,
        }
    }
}

impl WatchtowerConfig {
    /// Names every bad field.
    pub fn problems(&self) -> Vec<String> {
        let mut out = vec![];
        if !self.listen.ip().is_loopback() {
            out.push(format!(
                "watchtower.listen {} is not a loopback address",
                self.listen
            ));
        }
        if self.max_batch == 0 || self.max_batch > MAX_BATCH {
            out.push(format!("watchtower.max_batch must be 1 to {MAX_BATCH}"));
        }
        if self.poll_interval_ms == 0 {
            out.push("watchtower.poll_interval_ms must be positive".into());
        }
        if let PayoutConfig::Ibc {
            channel,
            receiver,
            timeout_seconds,
        } = &self.payout
        {
            if !channel.starts_with("channel-") {
                out.push("watchtower.payout.channel must look like channel-<n>".into());
            }
            if receiver.is_empty() {
                out.push("watchtower.payout.receiver is empty".into());
            }
            if !(60..=604_800).contains(timeout_seconds) {
                out.push("watchtower.payout.timeout_seconds must be 60 to 604800".into());
            }
        }
        out
    }
}

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
    /// The HTTP server failed.
    #[error("watchtower http: {0}")]
    Http(#[from] hyper::Error),
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

/// A claim to make: the stored voucher with its preimage.
#[derive(Clone, Debug)]
struct Candidate {
    row: VoucherRow,
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

/// The service.
pub struct Watchtower<C: Chain + ?Sized> {
    config: WatchtowerConfig,
    contract: String,
    chain_id: String,
    prefix: String,
    sender: String,
    payees: HashSet<String>,
    chain: Arc<C>,
    store: Arc<Store>,
    outbox: Outbox<C>,
    follower: tokio::sync::Mutex<EventFollower>,
    cache: Mutex<HashMap<u64, ChannelView>>,
    clock: Clock,
    /// Serialises settlement rounds and defences (one tx at a time).
    settling: tokio::sync::Mutex<()>,
}

impl<C: Chain + ?Sized + 'static> Watchtower<C> {
    /// Builds the service: migrates its tables and restores its cursor
    /// (or starts at `start_height` / the latest height).
    pub async fn new(
        config: WatchtowerConfig,
        contract: impl Into<String>,
        chain: Arc<C>,
        store: Arc<Store>,
        outbox_options: OutboxOptions,
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
        store.migrate_component("watchtower", db::MIGRATIONS)?;
        let chain_id = chain.chain_id().to_string();
        let sender = chain.sender().to_string();
        let prefix = contract
            .rsplit_once('1')
            .map(|(hrp, _)| hrp.to_string())
            .unwrap_or_default();
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
        let outbox = Outbox::new(store.clone(), chain.clone(), &chain_id, outbox_options);
        Ok(Self {
            config,
            contract,
            chain_id,
            prefix,
            sender,
            payees,
            chain,
            store,
            outbox,
            follower: tokio::sync::Mutex::new(follower),
            cache: Mutex::new(HashMap::new()),
            clock: Arc::new(system_clock),
            settling: tokio::sync::Mutex::new(()),
        })
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
            ChannelStatus::Closing { finalize_after } => Some(finalize_after.seconds() as i64),
            _ => None,
        };
        let (chain_id, contract) = (self.chain_id.clone(), self.contract.clone());
        let (claimed, status) = (view.claimed, status_str(&view.status));
        self.store.with_conn("watchtower: syncing a channel", |conn| {
            let tx = conn.transaction()?;
            if let Some(row) = db::load_voucher(&tx, &chain_id, &contract, id)? {
                let claimed = claimed.max(row.claimed);
                let unsettled = if row.amount <= claimed {
                    None
                } else {
                    row.unsettled_since.map(|t| t as i64)
                };
                tx.execute(
                    "UPDATE watchtower_vouchers SET claimed = ?4, status = ?5, finalize_after = ?6,
                     unsettled_since = ?7 WHERE chain_id = ?1 AND contract = ?2 AND channel_id = ?3",
                    params![
                        chain_id,
                        contract,
                        id as i64,
                        claimed.to_string(),
                        status,
                        finalize_after,
                        unsettled
                    ],
                )?;
            }
            tx.commit()
        })?;
        Ok(Some(view))
    }

    // ------------------------------------------------------------ vouchers

    /// Checks a voucher against the channel and, if it is the new best,
    /// commits it durably. Returns the stored best amount.
    pub async fn accept_voucher(
        &self,
        req: http::VoucherRequest,
    ) -> Result<http::Accepted, http::ApiError> {
        use http::ApiError as E;
        let id = req.channel_id;
        let amount = req.amount.u128();
        if amount == 0 {
            return Err(E::malformed("amount must be positive"));
        }
        if req.signature.len() != 64 {
            return Err(E::bad_signature(format!(
                "signature must be 64 bytes, got {}",
                req.signature.len()
            )));
        }
        let hashlock = match &req.hashlock {
            Some(lock) => Some(
                Hashlock::try_from(lock.as_slice())
                    .map_err(|_| E::malformed("hashlock must be 32 bytes (sha256)"))?,
            ),
            None => None,
        };
        match (&req.hashlock, &req.preimage) {
            (None, Some(_)) => return Err(E::malformed("a preimage needs a hashlock")),
            (Some(lock), Some(p)) => check_preimage(lock, p)?,
            _ => {}
        }
        let mut view = self
            .channel(id, false)
            .await
            .map_err(E::chain)?
            .ok_or_else(|| E::unknown_channel(id))?;
        if !self.payees.contains(&view.payee) {
            return Err(E::payee_not_served(&view.payee));
        }
        if amount > view.deposit || view.status == ChannelStatus::Closed {
            // A top-up or close may not have reached the cache yet.
            view = self
                .channel(id, true)
                .await
                .map_err(E::chain)?
                .ok_or_else(|| E::unknown_channel(id))?;
        }
        if view.status == ChannelStatus::Closed {
            return Err(E::channel_closed(id));
        }
        if amount > view.deposit {
            return Err(E::exceeds_deposit(amount, view.deposit));
        }
        if amount <= view.claimed {
            return Err(E::stale(amount, view.claimed, "claimed on chain"));
        }
        if let Some(expiry) = req.expiry {
            let now = self.chain_now().await.map_err(E::chain)?;
            if expiry <= now {
                return Err(E::expired(expiry, now));
            }
        }
        let voucher = Voucher {
            chain_id: self.chain_id.clone(),
            contract: self.contract.clone(),
            channel_id: id,
            amount: req.amount,
            hashlock,
            expiry: req.expiry,
        };
        wevalue_voucher::sign::verify(
            view.scheme,
            &view.pubkey,
            &voucher,
            req.signature.as_slice(),
            &self.prefix,
        )
        .map_err(|e| E::bad_signature(e.to_string()))?;

        let row = VoucherRow {
            channel_id: id,
            payee: view.payee.clone(),
            amount,
            hashlock,
            expiry: req.expiry,
            signature: req.signature.to_vec(),
            received_at: self.now(),
            unsettled_since: Some(self.now()),
            claimed: view.claimed,
            status: status_str(&view.status).to_string(),
            finalize_after: match &view.status {
                ChannelStatus::Closing { finalize_after } => Some(finalize_after.seconds()),
                _ => None,
            },
            rejected_amount: None,
            rejected_reason: None,
        };
        let preimage = req.preimage.as_ref().map(|p| p.to_vec());
        // The commit waits for fsync: keep it off the async workers.
        let (store, chain_id, contract) = (
            self.store.clone(),
            self.chain_id.clone(),
            self.contract.clone(),
        );
        let now = self.now() as i64;
        let stored = tokio::task::spawn_blocking(move || {
            store_best(&store, &chain_id, &contract, now, &row, preimage.as_deref())
        })
        .await
        .map_err(|e| {
            E::internal(StoreError::Corrupt {
                table: "watchtower_vouchers",
                reason: format!("store task failed: {e}"),
            })
        })??;
        Ok(http::Accepted {
            channel_id: id,
            best_amount: Uint128::new(stored.amount),
            claimed: Uint128::new(stored.claimed),
            status: stored.status,
        })
    }

    /// Stores a hashlock preimage; returns its hashlock and the channels
    /// whose best voucher it unlocks.
    pub fn accept_preimage(&self, preimage: &[u8]) -> Result<(Vec<u8>, Vec<u64>), http::ApiError> {
        use http::ApiError as E;
        if preimage.is_empty() || preimage.len() > wevalue_voucher::MAX_PREIMAGE_LEN {
            return Err(E::bad_preimage(format!(
                "preimage must be 1 to {} bytes",
                wevalue_voucher::MAX_PREIMAGE_LEN
            )));
        }
        let lock = wevalue_voucher::sha256(preimage).to_vec();
        let now = self.now() as i64;
        let (chain_id, contract) = (self.chain_id.as_str(), self.contract.as_str());
        let channels = self
            .store
            .with_conn("watchtower: storing a preimage", |conn| {
                let tx = conn.transaction()?;
                put_preimage(&tx, &lock, preimage, now)?;
                let ids = {
                    let mut stmt = tx.prepare(
                        "SELECT channel_id FROM watchtower_vouchers
                         WHERE chain_id = ?1 AND contract = ?2 AND hashlock = ?3 ORDER BY channel_id",
                    )?;
                    let rows =
                        stmt.query_map(params![chain_id, contract, lock], |r| r.get::<_, i64>(0))?;
                    rows.map(|r| r.map(|i| i as u64))
                        .collect::<rusqlite::Result<Vec<_>>>()?
                };
                tx.commit()?;
                Ok(ids)
            })
            .map_err(E::internal)?;
        Ok((lock, channels))
    }

    /// The stored best voucher of a channel.
    pub fn best_voucher(&self, channel_id: u64) -> Result<Option<VoucherRow>, StoreError> {
        let (chain_id, contract) = (self.chain_id.as_str(), self.contract.as_str());
        self.store
            .with_conn("watchtower: reading a voucher", |conn| {
                db::load_voucher(conn, chain_id, contract, channel_id)
            })
    }

    /// Settlements that claimed from a channel, newest first.
    pub fn settlements(&self, channel_id: Option<u64>) -> Result<Vec<SettlementRow>, StoreError> {
        let (chain_id, contract) = (self.chain_id.as_str(), self.contract.as_str());
        let rows = self
            .store
            .with_conn("watchtower: reading settlements", |conn| {
                let mut stmt = conn.prepare(&format!(
                    "SELECT {} FROM watchtower_settlements WHERE chain_id = ?1 AND contract = ?2
                     ORDER BY created_at DESC, rowid DESC",
                    db::SETTLEMENT_COLUMNS
                ))?;
                let rows = stmt.query_map(params![chain_id, contract], db::settlement_row)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })?;
        Ok(match channel_id {
            None => rows,
            Some(id) => rows
                .into_iter()
                .filter(|s| s.items.iter().any(|(c, _)| *c == id))
                .collect(),
        })
    }

    // ------------------------------------------------------------ events

    /// Follows the contract's events once: updates the cache and the stored
    /// rows, answers payer-started closes, then stores the cursor.
    pub async fn step(&self) -> Result<StepReport, WatchtowerError> {
        let mut follower = self.follower.lock().await;
        let batch = follower.poll(&*self.chain).await?;
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
            self.resync().await?;
        }
        self.store
            .set_cursor(&self.chain_id, CURSOR_STREAM, batch.cursor)?;
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
                if self.best_voucher(id)?.is_some() {
                    self.sync_row(id).await?;
                }
            }
            ("start_close", Some(id)) => {
                self.lock_cache().remove(&id);
                if self.best_voucher(id)?.is_some() {
                    self.sync_row(id).await?;
                    return self.defend(id).await;
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
        let Some(row) = self.best_voucher(id)? else {
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
        let Some(candidate) = self.claimable(row, now)? else {
            return Ok(false);
        };
        let span = info_span!("watchtower_defend", channel = id, amount = %candidate.row.amount);
        let report = self.submit_claims(vec![candidate]).instrument(span).await?;
        Ok(report.settled > 0)
    }

    /// Re-reads every stored open or closing channel from the contract
    /// (start-up, event gaps) and answers closes found there.
    pub async fn resync(&self) -> Result<u32, WatchtowerError> {
        let ids = self.channel_ids("status != 'closed'")?;
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

    fn channel_ids(&self, filter: &str) -> Result<Vec<u64>, StoreError> {
        let (chain_id, contract) = (self.chain_id.as_str(), self.contract.as_str());
        let sql = format!(
            "SELECT channel_id FROM watchtower_vouchers WHERE chain_id = ?1 AND contract = ?2
             AND {filter} ORDER BY channel_id"
        );
        self.store
            .with_conn("watchtower: listing channels", |conn| {
                let mut stmt = conn.prepare(&sql)?;
                let rows = stmt.query_map(params![chain_id, contract], |r| r.get::<_, i64>(0))?;
                rows.map(|r| r.map(|i| i as u64))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
    }

    // ------------------------------------------------------------ settlement

    /// Start-up: reconciles the outbox, finishes settlements recorded before
    /// a crash and re-reads stored channels (answering closes missed while down).
    pub async fn recover(&self) -> Result<(), WatchtowerError> {
        let report = self.outbox.reconcile().await?;
        info!(?report, "watchtower: outbox reconciled");
        {
            let _guard = self.settling.lock().await;
            self.resume_pending().await?;
        }
        self.resync().await?;
        Ok(())
    }

    /// Pending settlements: drive their outbox entries to a final state.
    async fn resume_pending(&self) -> Result<SettleReport, WatchtowerError> {
        let pending: Vec<SettlementRow> = self
            .settlements(None)?
            .into_iter()
            .filter(|s| s.status == "pending")
            .collect();
        let mut report = SettleReport::default();
        for s in pending {
            match self.store.outbox_by_key(&s.key)? {
                // The outbox records before it broadcasts: nothing was sent.
                None => self.finish_settlement(&s.key, "abandoned", None, None)?,
                Some(entry) => {
                    let entry = self
                        .outbox
                        .submit(&entry.key, &entry.msgs, &entry.memo)
                        .await?;
                    report.add(self.apply_outcome(&s, &entry).await?);
                }
            }
        }
        Ok(report)
    }

    /// One settlement round: closing channels first, then every channel at
    /// the amount or age threshold, in batches.
    pub async fn settle(&self) -> Result<SettleReport, WatchtowerError> {
        let _guard = self.settling.lock().await;
        let mut report = self.resume_pending().await?;
        // A refused batch sets one voucher aside and the rest go again.
        for _ in 0..MAX_BATCH + 1 {
            let now = self.chain_now().await?;
            let candidates = self.candidates(now)?;
            if candidates.is_empty() {
                break;
            }
            let mut round = SettleReport::default();
            for group in self.group(candidates) {
                for chunk in group.chunks(self.config.max_batch as usize) {
                    round.add(self.submit_claims(chunk.to_vec()).await?);
                }
            }
            let retry = round.failed > 0;
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
    fn claimable(&self, row: VoucherRow, now: u64) -> Result<Option<Candidate>, StoreError> {
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
                let p = self
                    .store
                    .with_conn("watchtower: reading a preimage", |conn| {
                        db::load_preimage(conn, lock.as_ref())
                    })?;
                match p {
                    Some(p) => Some(p),
                    None => return Ok(None),
                }
            }
        };
        Ok(Some(Candidate { row, preimage }))
    }

    /// Channels due for settlement, by id.
    fn candidates(&self, chain_now: u64) -> Result<Vec<Candidate>, StoreError> {
        let (chain_id, contract) = (self.chain_id.as_str(), self.contract.as_str());
        let rows = self.store.with_conn("watchtower: due channels", |conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {} FROM watchtower_vouchers WHERE chain_id = ?1 AND contract = ?2
                 AND status != 'closed' AND unsettled_since IS NOT NULL ORDER BY channel_id",
                db::VOUCHER_COLUMNS
            ))?;
            let rows = stmt.query_map(params![chain_id, contract], db::voucher_row)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        let busy = self.busy_channels()?;
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
            if let Some(c) = self.claimable(row, chain_now)? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Channels in a settlement still pending.
    fn busy_channels(&self) -> Result<BTreeSet<u64>, StoreError> {
        Ok(self
            .settlements(None)?
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
    async fn submit_claims(
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
        let key = self.record_settlement(&base, kind, &items)?;
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

    /// Inserts the pending settlement; the key carries the number of earlier
    /// failed attempts of the same set, so a refused set can be tried again
    /// while a restart finds the same key.
    fn record_settlement(
        &self,
        base: &str,
        kind: &str,
        items: &[(u64, u128)],
    ) -> Result<String, StoreError> {
        let (chain_id, contract) = (self.chain_id.as_str(), self.contract.as_str());
        let now = self.now() as i64;
        let items = db::items_json(items);
        self.store
            .with_conn("watchtower: recording a settlement", |conn| {
                let tx = conn.transaction()?;
                let failed: i64 = tx.query_row(
                    "SELECT COUNT(*) FROM watchtower_settlements
                     WHERE base_key = ?1 AND status IN ('failed', 'abandoned')",
                    params![base],
                    |r| r.get(0),
                )?;
                let key = format!("{base}/{failed}");
                tx.execute(
                    "INSERT INTO watchtower_settlements (key, base_key, chain_id, contract, kind,
                        items, status, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7)
                     ON CONFLICT (key) DO NOTHING",
                    params![key, base, chain_id, contract, kind, items, now],
                )?;
                tx.commit()?;
                Ok(key)
            })
    }

    fn finish_settlement(
        &self,
        key: &str,
        status: &str,
        entry: Option<&OutboxEntry>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = self.now() as i64;
        let hash = entry.and_then(|e| e.tx.as_ref().map(|t| t.hash.clone()));
        let height = entry.and_then(|e| e.height.map(|h| h as i64));
        let gas = entry.and_then(|e| e.gas_used.map(|g| g as i64));
        self.store
            .with_conn("watchtower: finishing a settlement", |conn| {
                conn.execute(
                    "UPDATE watchtower_settlements SET status = ?2, tx_hash = ?3, height = ?4,
                     gas_used = ?5, error = ?6, updated_at = ?7 WHERE key = ?1",
                    params![key, status, hash, height, gas, error, now],
                )
            })?;
        Ok(())
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
                self.finish_settlement(&s.key, "done", Some(entry), None)?;
                self.mark_settled(&s.items)?;
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
                warn!(key = s.key, error, "watchtower: claim refused");
                self.finish_settlement(&s.key, "failed", Some(entry), Some(&error))?;
                report.failed = 1;
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
                    if let Some(row) = self.best_voucher(id)? {
                        if row.amount == amount && row.claimed < amount && row.status != "closed" {
                            self.reject(id, amount, &error)?;
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

    fn mark_settled(&self, items: &[(u64, u128)]) -> Result<(), StoreError> {
        let (chain_id, contract) = (self.chain_id.as_str(), self.contract.as_str());
        self.store.with_conn("watchtower: marking settled", |conn| {
            let tx = conn.transaction()?;
            for (id, amount) in items {
                if let Some(row) = db::load_voucher(&tx, chain_id, contract, *id)? {
                    let claimed = row.claimed.max(*amount);
                    let unsettled = if row.amount <= claimed {
                        None
                    } else {
                        row.unsettled_since.map(|t| t as i64)
                    };
                    tx.execute(
                        "UPDATE watchtower_vouchers SET claimed = ?4, unsettled_since = ?5
                         WHERE chain_id = ?1 AND contract = ?2 AND channel_id = ?3",
                        params![
                            chain_id,
                            contract,
                            *id as i64,
                            claimed.to_string(),
                            unsettled
                        ],
                    )?;
                }
            }
            tx.commit()
        })
    }

    fn reject(&self, id: u64, amount: u128, reason: &str) -> Result<(), StoreError> {
        let (chain_id, contract) = (self.chain_id.as_str(), self.contract.as_str());
        self.store
            .with_conn("watchtower: rejecting a voucher", |conn| {
                conn.execute(
                    "UPDATE watchtower_vouchers SET rejected_amount = ?4, rejected_reason = ?5
                 WHERE chain_id = ?1 AND contract = ?2 AND channel_id = ?3",
                    params![chain_id, contract, id as i64, amount.to_string(), reason],
                )
            })?;
        Ok(())
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

    /// The service loop: recovery, the API, then event steps every poll
    /// interval and a settlement round every settle interval, until
    /// `shutdown` turns true (between rounds).
    pub async fn run(
        self: Arc<Self>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), WatchtowerError> {
        let (addr, server) = self.spawn_http(shutdown.clone())?;
        info!(%addr, contract = self.contract, "watchtower: serving");
        self.recover().await?;
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
        let _ = server.await;
        Ok(())
    }
}

/// The compare-and-store in one SQLite transaction.
fn store_best(
    store: &Store,
    chain_id: &str,
    contract: &str,
    now: i64,
    row: &VoucherRow,
    preimage: Option<&[u8]>,
) -> Result<VoucherRow, http::ApiError> {
    use http::ApiError as E;
    let result = store
        .with_conn("watchtower: storing a voucher", |conn| {
            let tx = conn.transaction()?;
            let existing = db::load_voucher(&tx, chain_id, contract, row.channel_id)?;
            if let Some(best) = &existing {
                let same = best.amount == row.amount
                    && best.signature == row.signature
                    && best.hashlock == row.hashlock
                    && best.expiry == row.expiry;
                if same {
                    if let (Some(lock), Some(p)) = (&row.hashlock, preimage) {
                        put_preimage(&tx, lock.as_ref(), p, now)?;
                    }
                    tx.commit()?;
                    return Ok(Ok(best.clone()));
                }
                if row.amount <= best.amount {
                    return Ok(Err(best.amount));
                }
            }
            let unsettled_since = existing
                .as_ref()
                .and_then(|b| b.unsettled_since)
                .unwrap_or(row.received_at) as i64;
            let claimed = existing
                .as_ref()
                .map(|b| b.claimed.max(row.claimed))
                .unwrap_or(row.claimed);
            tx.execute(
                "INSERT INTO watchtower_vouchers (chain_id, contract, channel_id, payee, amount,
                    hashlock, expiry, signature, received_at, unsettled_since, claimed, status,
                    finalize_after)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (chain_id, contract, channel_id) DO UPDATE SET
                    amount = excluded.amount, hashlock = excluded.hashlock,
                    expiry = excluded.expiry, signature = excluded.signature,
                    received_at = excluded.received_at,
                    unsettled_since = excluded.unsettled_since, claimed = excluded.claimed,
                    rejected_amount = NULL, rejected_reason = NULL",
                params![
                    chain_id,
                    contract,
                    row.channel_id as i64,
                    row.payee,
                    row.amount.to_string(),
                    row.hashlock.as_ref().map(|h| h.as_bytes().as_slice()),
                    row.expiry.map(|e| e as i64),
                    row.signature,
                    row.received_at as i64,
                    unsettled_since,
                    claimed.to_string(),
                    row.status,
                    row.finalize_after.map(|f| f as i64),
                ],
            )?;
            if let (Some(lock), Some(p)) = (&row.hashlock, preimage) {
                put_preimage(&tx, lock.as_ref(), p, now)?;
            }
            let stored = db::load_voucher(&tx, chain_id, contract, row.channel_id)?;
            tx.commit()?;
            Ok(stored.ok_or(row.amount))
        })
        .map_err(E::internal)?;
    result.map_err(|best| E::stale(row.amount, best, "the stored best voucher"))
}

fn put_preimage(
    tx: &rusqlite::Transaction<'_>,
    lock: &[u8],
    preimage: &[u8],
    now: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO watchtower_preimages (hashlock, preimage, received_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (hashlock) DO NOTHING",
        params![lock, preimage, now],
    )?;
    Ok(())
}

fn check_preimage(lock: &HexBinary, preimage: &HexBinary) -> Result<(), http::ApiError> {
    if preimage.is_empty() || preimage.len() > wevalue_voucher::MAX_PREIMAGE_LEN {
        return Err(http::ApiError::bad_preimage(format!(
            "preimage must be 1 to {} bytes",
            wevalue_voucher::MAX_PREIMAGE_LEN
        )));
    }
    if wevalue_voucher::sha256(preimage.as_slice()) != lock.as_slice() {
        return Err(http::ApiError::bad_preimage(
            "preimage does not hash to the hashlock".into(),
        ));
    }
    Ok(())
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
