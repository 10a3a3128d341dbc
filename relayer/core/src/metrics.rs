//! Prometheus metrics (names prefixed `wevalue_relayer_`), labelled by
//! chain, service, message kind and result code, and the `/metrics` +
//! `/health` endpoint ([`serve`], axum behind [`crate::http`]'s limits).
//!
//! One [`Metrics`] per process: the daemon (or the devnet) hands the same
//! `Arc` to the outbox of every signer and to every service, so whatever any
//! of them does is counted in the registry `/metrics` serves.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::http::{self, Limits};

/// A transaction's labels: chain, the service that sent it (its outbox
/// key's first segment) and its kind (the execute message's variant).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TxLabels {
    /// Chain id.
    pub chain: String,
    /// `watchtower`, `oracle`, `solver`, ...
    pub service: String,
    /// `claim_batch`, `submit_report`, `propose_matching`, `instantiate`, ...
    pub kind: String,
}

impl TxLabels {
    /// These labels plus a result code.
    pub fn with_code(&self, code: &str) -> TxResultLabels {
        TxResultLabels {
            chain: self.chain.clone(),
            service: self.service.clone(),
            kind: self.kind.clone(),
            code: code.to_string(),
        }
    }
}

/// A failed transaction's labels: [`TxLabels`] and the ABCI code
/// (`gave_up` when the outbox stopped trying).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TxResultLabels {
    /// Chain id.
    pub chain: String,
    /// Sending service.
    pub service: String,
    /// Message kind.
    pub kind: String,
    /// Result code.
    pub code: String,
}

/// An outbox alert (fee, funds, out of gas) per chain and signer.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    /// Chain id.
    pub chain: String,
    /// Signer address.
    pub signer: String,
    /// `fee`, `funds` or `out_of_gas`.
    pub reason: String,
}

/// Per chain.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChainLabels {
    /// Chain id.
    pub chain: String,
}

/// Per chain and signer (one outbox each).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SignerLabels {
    /// Chain id.
    pub chain: String,
    /// Signer address.
    pub signer: String,
}

/// Per payment channel watched.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChannelLabels {
    /// Chain id.
    pub chain: String,
    /// Payment-channel contract.
    pub contract: String,
    /// Channel id.
    pub channel: String,
}

/// Per oracle data source.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    /// Source name from the config.
    pub source: String,
}

/// Per chain and settled-payout outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PayoutLabels {
    /// Chain id (the sending chain).
    pub chain: String,
    /// `delivered`, `error_ack` or `timeout` (the contract's callback), or
    /// `settled` when the callback's event was not seen (a gap).
    pub outcome: String,
}

/// Builds the IBC payout latency histogram: 0.5 s to about 2.3 hours.
#[derive(Clone, Copy, Debug, Default)]
pub struct PayoutBuckets;

impl MetricConstructor<Histogram> for PayoutBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(0.5, 2.0, 15))
    }
}

/// Builds the latency histograms: 5 ms to about 80 s.
#[derive(Clone, Copy, Debug, Default)]
pub struct LatencyBuckets;

impl MetricConstructor<Histogram> for LatencyBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(0.005, 2.0, 15))
    }
}

/// The relayer's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Txs accepted by a node.
    pub txs_submitted: Family<TxLabels, Counter>,
    /// Txs that failed on chain or were given up on, by code.
    pub txs_failed: Family<TxResultLabels, Counter>,
    /// Transient chain failures the outbox backed off and retried.
    pub outbox_retries: Family<TxLabels, Counter>,
    /// Gas used by included txs.
    pub gas_used: Family<TxLabels, Counter>,
    /// Seconds from broadcast to inclusion.
    pub tx_latency_seconds: Family<TxLabels, Histogram, LatencyBuckets>,
    /// Contract events delivered to services.
    pub events_followed: Family<ChainLabels, Counter>,
    /// Blocks between the chain's head and the event cursor.
    pub event_lag_blocks: Family<ChainLabels, Gauge>,
    /// Latest chain height seen.
    pub latest_height: Family<ChainLabels, Gauge>,
    /// Signer balance in the fee denom (smallest unit).
    pub wallet_balance: Family<SignerLabels, Gauge<f64, AtomicU64>>,
    /// Outbox entries not yet final.
    pub outbox_backlog: Family<SignerLabels, Gauge>,
    /// Age of the oldest open outbox entry, seconds (0 = none open).
    pub outbox_oldest_age_seconds: Family<SignerLabels, Gauge>,
    /// Watchtower: best vouchers held, per channel (1 while held).
    pub watchtower_voucher_amount: Family<ChannelLabels, Gauge<f64, AtomicU64>>,
    /// Watchtower: best voucher amount not yet claimed on chain, per channel.
    pub watchtower_unsettled_amount: Family<ChannelLabels, Gauge<f64, AtomicU64>>,
    /// Watchtower: seconds left before a closing channel with unclaimed
    /// vouchers finalizes (absent when nothing is at stake).
    pub watchtower_close_seconds_left: Family<ChannelLabels, Gauge>,
    /// Oracle: failed answers of a data source.
    pub oracle_source_errors: Family<SourceLabels, Counter>,
    /// Fee, funds and gas problems the outbox retries (the operator must act).
    pub outbox_alerts: Family<AlertLabels, Counter>,
    /// Blocks whose events the follower could not read (pruned by the node,
    /// results missing): skipped, services re-read contract state.
    pub event_gap_blocks: Family<ChainLabels, Counter>,
    /// IBC payouts whose packet was sent (the contract's `payout_sent`).
    pub ibc_payouts_sent: Family<ChainLabels, Counter>,
    /// IBC payouts settled, by outcome.
    pub ibc_payouts_settled: Family<PayoutLabels, Counter>,
    /// IBC payouts sent and not settled yet.
    pub ibc_payouts_in_flight: Family<ChainLabels, Gauge>,
    /// Seconds from a payout's packet to its acknowledgement or timeout.
    pub ibc_payout_seconds: Family<ChainLabels, Histogram, PayoutBuckets>,
    /// 1 while the supervised Hermes process runs.
    pub hermes_up: Gauge,
    /// Times the supervisor started Hermes again after it exited.
    pub hermes_restarts: Counter,
    ready: AtomicBool,
    health: std::sync::Mutex<Health>,
}

/// What `/health` checks besides readiness: the node answers, the event
/// follower keeps up, and every service task runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Health {
    /// The last call to the node failed (its error).
    pub rpc_error: Option<String>,
    /// Blocks the event cursor is behind the head.
    pub lag_blocks: u64,
    /// Lag above which the relayer is unhealthy (0 = not checked).
    pub max_lag_blocks: u64,
    /// Service tasks that stopped.
    pub dead_services: Vec<String>,
    /// The supervised IBC relayer (Hermes) is down: why.
    pub ibc_relayer_error: Option<String>,
}

impl Health {
    /// What is wrong, one line each (empty = healthy).
    pub fn problems(&self) -> Vec<String> {
        let mut out = vec![];
        if let Some(e) = &self.rpc_error {
            out.push(format!("node unreachable: {e}"));
        }
        if self.max_lag_blocks > 0 && self.lag_blocks > self.max_lag_blocks {
            out.push(format!(
                "event follower {} blocks behind (limit {})",
                self.lag_blocks, self.max_lag_blocks
            ));
        }
        for s in &self.dead_services {
            out.push(format!("service {s} stopped"));
        }
        if let Some(e) = &self.ibc_relayer_error {
            out.push(format!("IBC relayer down: {e}"));
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers all metrics.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("wevalue_relayer");
        let m = Self {
            registry: Registry::default(),
            txs_submitted: Family::default(),
            txs_failed: Family::default(),
            outbox_retries: Family::default(),
            gas_used: Family::default(),
            tx_latency_seconds: Family::new_with_constructor(LatencyBuckets),
            events_followed: Family::default(),
            event_lag_blocks: Family::default(),
            latest_height: Family::default(),
            wallet_balance: Family::default(),
            outbox_backlog: Family::default(),
            outbox_oldest_age_seconds: Family::default(),
            watchtower_voucher_amount: Family::default(),
            watchtower_unsettled_amount: Family::default(),
            watchtower_close_seconds_left: Family::default(),
            oracle_source_errors: Family::default(),
            outbox_alerts: Family::default(),
            event_gap_blocks: Family::default(),
            ibc_payouts_sent: Family::default(),
            ibc_payouts_settled: Family::default(),
            ibc_payouts_in_flight: Family::default(),
            ibc_payout_seconds: Family::new_with_constructor(PayoutBuckets),
            hermes_up: Gauge::default(),
            hermes_restarts: Counter::default(),
            ready: AtomicBool::new(false),
            health: Default::default(),
        };
        let r = &mut registry;
        r.register(
            "txs_submitted",
            "Transactions accepted by a node",
            m.txs_submitted.clone(),
        );
        r.register(
            "txs_failed",
            "Transactions that failed on chain or were given up on",
            m.txs_failed.clone(),
        );
        r.register(
            "outbox_retries",
            "Transient chain failures the outbox backed off and retried",
            m.outbox_retries.clone(),
        );
        r.register(
            "gas_used",
            "Gas used by included transactions",
            m.gas_used.clone(),
        );
        r.register(
            "tx_latency_seconds",
            "Seconds from broadcast to inclusion",
            m.tx_latency_seconds.clone(),
        );
        r.register(
            "events_followed",
            "Contract events delivered to services",
            m.events_followed.clone(),
        );
        r.register(
            "event_lag_blocks",
            "Blocks between the chain head and the event cursor",
            m.event_lag_blocks.clone(),
        );
        r.register(
            "latest_height",
            "Latest chain height seen",
            m.latest_height.clone(),
        );
        r.register(
            "wallet_balance",
            "Signer balance in the fee denom",
            m.wallet_balance.clone(),
        );
        r.register(
            "outbox_backlog",
            "Outbox entries not yet done or failed",
            m.outbox_backlog.clone(),
        );
        r.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest open outbox entry in seconds",
            m.outbox_oldest_age_seconds.clone(),
        );
        r.register(
            "watchtower_voucher_amount",
            "Best voucher amount the watchtower holds per channel",
            m.watchtower_voucher_amount.clone(),
        );
        r.register(
            "watchtower_unsettled_amount",
            "Best voucher amount not yet claimed on chain per channel",
            m.watchtower_unsettled_amount.clone(),
        );
        r.register(
            "watchtower_close_seconds_left",
            "Seconds before a closing channel with unclaimed vouchers finalizes",
            m.watchtower_close_seconds_left.clone(),
        );
        r.register(
            "oracle_source_errors",
            "Failed answers of an oracle data source",
            m.oracle_source_errors.clone(),
        );
        r.register(
            "outbox_alerts",
            "Fee, funds or out-of-gas failures the outbox retries (fund the signer or raise the gas settings)",
            m.outbox_alerts.clone(),
        );
        r.register(
            "event_gap_blocks",
            "Blocks the event follower skipped because the node no longer had them",
            m.event_gap_blocks.clone(),
        );
        r.register(
            "ibc_payouts_sent",
            "IBC payouts whose ICS-20 packet was sent",
            m.ibc_payouts_sent.clone(),
        );
        r.register(
            "ibc_payouts_settled",
            "IBC payouts settled by acknowledgement or timeout, by outcome",
            m.ibc_payouts_settled.clone(),
        );
        r.register(
            "ibc_payouts_in_flight",
            "IBC payouts sent and not yet acknowledged or timed out",
            m.ibc_payouts_in_flight.clone(),
        );
        r.register(
            "ibc_payout_seconds",
            "Seconds from an IBC payout's packet to its acknowledgement or timeout",
            m.ibc_payout_seconds.clone(),
        );
        r.register(
            "hermes_up",
            "1 while the supervised Hermes IBC relayer runs",
            m.hermes_up.clone(),
        );
        r.register(
            "hermes_restarts",
            "Times the supervisor restarted Hermes after it exited",
            m.hermes_restarts.clone(),
        );
        Self { registry, ..m }
    }

    /// Marks the relayer ready (healthy) or not.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    /// Whether `/health` answers 200.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// The sum of a metric's samples over every label set, by its name
    /// without the prefix (`txs_submitted`, `gas_used`; a counter's
    /// `_total` is added), as `/metrics` shows them; 0 when none.
    pub fn total(&self, name: &str) -> f64 {
        let text = self.render();
        let full = format!("wevalue_relayer_{name}");
        let counter = format!("{full}_total");
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (series, value) = l.rsplit_once(' ')?;
                let metric = series.split('{').next()?;
                (metric == full || metric == counter).then(|| value.parse::<f64>().ok())?
            })
            .sum()
    }

    /// Updates what `/health` checks.
    pub fn update_health(&self, f: impl FnOnce(&mut Health)) {
        f(&mut self.health.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// A copy of the health state.
    pub fn health(&self) -> Health {
        self.health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Ready and nothing wrong: `/health` answers 200.
    pub fn is_healthy(&self) -> bool {
        self.is_ready() && self.health().problems().is_empty()
    }

    fn health_json(&self) -> String {
        let problems = self.health().problems();
        let status = match (self.is_ready(), problems.is_empty()) {
            (false, _) => "starting",
            (true, true) => "ok",
            (true, false) => "unhealthy",
        };
        serde_json::json!({
            "status": status,
            "problems": problems,
            "latest_height": self.total("latest_height"),
            "event_lag_blocks": self.total("event_lag_blocks"),
            "outbox_backlog": self.total("outbox_backlog"),
        })
        .to_string()
    }
}

async fn metrics_route(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.render(),
    )
}

async fn health_route(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    let status = if metrics.is_healthy() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        metrics.health_json(),
    )
}

/// The `/metrics` + `/health` router.
pub fn router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_route))
        .route("/health", get(health_route))
        .with_state(metrics)
}

/// Binds the endpoint (port 0 picks one) and serves it until `shutdown`
/// resolves; returns the bound address and the server task.
pub fn serve(
    metrics: Arc<Metrics>,
    addr: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    http::serve(
        router(metrics),
        addr,
        Limits::default(),
        "metrics",
        shutdown,
    )
}
