//! Prometheus metrics and the `/metrics` + `/health` HTTP endpoint.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Method, Request, Response, Server, StatusCode};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The relayer's metrics (names are prefixed `wevalue_relayer_`).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Txs accepted by a node.
    pub txs_submitted: Counter,
    /// Txs that failed on chain or were given up on.
    pub txs_failed: Counter,
    /// Transient chain failures the outbox backed off and retried.
    pub outbox_retries: Counter,
    /// Gas used by included txs.
    pub gas_used: Counter,
    /// Contract events delivered to services.
    pub events_followed: Counter,
    /// Blocks between the chain's head and the event cursor.
    pub event_lag_blocks: Gauge,
    /// Latest chain height seen.
    pub latest_height: Gauge,
    /// Signer balance in the fee denom (smallest unit).
    pub wallet_balance: Gauge<f64, AtomicU64>,
    /// Outbox entries not yet final.
    pub outbox_backlog: Gauge,
    /// Seconds from broadcast to inclusion.
    pub tx_latency_seconds: Histogram,
    ready: AtomicBool,
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
            txs_submitted: Counter::default(),
            txs_failed: Counter::default(),
            outbox_retries: Counter::default(),
            gas_used: Counter::default(),
            events_followed: Counter::default(),
            event_lag_blocks: Gauge::default(),
            latest_height: Gauge::default(),
            wallet_balance: Gauge::default(),
            outbox_backlog: Gauge::default(),
            // 5 ms to about 80 s.
            tx_latency_seconds: Histogram::new(exponential_buckets(0.005, 2.0, 15)),
            ready: AtomicBool::new(false),
            registry: Registry::default(),
        };
        registry.register(
            "txs_submitted",
            "Transactions accepted by a node",
            m.txs_submitted.clone(),
        );
        registry.register(
            "txs_failed",
            "Transactions that failed on chain or were given up on",
            m.txs_failed.clone(),
        );
        registry.register(
            "outbox_retries",
            "Transient chain failures the outbox backed off and retried",
            m.outbox_retries.clone(),
        );
        registry.register(
            "gas_used",
            "Gas used by included transactions",
            m.gas_used.clone(),
        );
        registry.register(
            "events_followed",
            "Contract events delivered to services",
            m.events_followed.clone(),
        );
        registry.register(
            "event_lag_blocks",
            "Blocks between the chain head and the event cursor",
            m.event_lag_blocks.clone(),
        );
        registry.register(
            "latest_height",
            "Latest chain height seen",
            m.latest_height.clone(),
        );
        registry.register(
            "wallet_balance",
            "Signer balance in the fee denom",
            m.wallet_balance.clone(),
        );
        registry.register(
            "outbox_backlog",
            "Outbox entries not yet done or failed",
            m.outbox_backlog.clone(),
        );
        registry.register(
            "tx_latency_seconds",
            "Seconds from broadcast to inclusion",
            m.tx_latency_seconds.clone(),
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

    fn health_json(&self) -> String {
        serde_json::json!({
            "status": if self.is_ready() { "ok" } else { "starting" },
            "latest_height": self.latest_height.get(),
            "event_lag_blocks": self.event_lag_blocks.get(),
            "outbox_backlog": self.outbox_backlog.get(),
        })
        .to_string()
    }
}

async fn route(metrics: Arc<Metrics>, req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let response = match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => Response::builder()
            .header(
                "content-type",
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )
            .body(Body::from(metrics.render())),
        (&Method::GET, "/health") => Response::builder()
            .status(if metrics.is_ready() {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            })
            .header("content-type", "application/json")
            .body(Body::from(metrics.health_json())),
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::from("not found\n")),
    };
    Ok(response.unwrap_or_else(|_| Response::new(Body::empty())))
}

/// Binds the endpoint; returns the bound address (port 0 picks one) and
/// the server future, which ends when `shutdown` resolves.
pub fn serve(
    metrics: Arc<Metrics>,
    addr: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, impl Future<Output = Result<(), hyper::Error>>), hyper::Error> {
    let make = make_service_fn(move |_conn| {
        let metrics = metrics.clone();
        async move { Ok::<_, Infallible>(service_fn(move |req| route(metrics.clone(), req))) }
    });
    let server = Server::try_bind(&addr)?.serve(make);
    let bound = server.local_addr();
    Ok((bound, server.with_graceful_shutdown(shutdown)))
}
