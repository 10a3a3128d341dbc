//! The SDPP seller data gateway (issue 15) and the buyer client library.
//!
//! - **Gateway** ([`Gateway`]): serves each configured listing at
//!   `/sdpp/<listing id>` over WebSockets (subprotocol `sdpp.1`; ws on
//!   loopback by default, wss with rustls when a certificate and key are
//!   configured). Per connection it reads the listing and the buyer's channel
//!   through the core's read capability (payee = the seller, the listing's
//!   asset, deposit, scheme and key, open and not closing), drives
//!   `wevalue_sdpp::SellerSession` — which verifies every voucher with the
//!   chain's own code — and hands each voucher to the durable
//!   [`relayer_core::vouchers::VoucherSink`] (the watchtower), sending the
//!   receipt and counting the credit only once it is stored. Data comes from
//!   the listing's source ([`source`]): an MQTT topic, a simulated sensor or
//!   a CSV/JSONL replay.
//! - **Buyer** ([`buyer`]): connects, checks the offer against the chain's
//!   listing, pays with cumulative vouchers, refuses a seller that over-sends
//!   or over-asks, and resumes from its record.
//!
//! The protocol itself (codec, handshake, state machines) is the
//! `wevalue-sdpp` crate; this crate is its I/O.

pub mod buyer;
pub mod chain;
pub mod config;
mod conn;
pub mod mosquitto;
mod server;
pub mod source;
mod streams;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use relayer_core::chain::ChainReader;
use relayer_core::vouchers::VoucherSink;
use thiserror::Error;
use tokio::sync::watch;
use tokio::time::Instant;
use wevalue_sdpp::crypto::GatewayKey;
use wevalue_sdpp::handshake::Certificate;

pub use config::{FileFormat, GatewayConfig, ListingConfig, SensorKind, SourceConfig, TlsConfig};
use source::Source;
use streams::Streams;

/// How long a listing read from the chain is reused.
const LISTING_TTL: Duration = Duration::from_secs(10);

/// Gateway failures at start-up.
#[derive(Debug, Error)]
pub enum GatewayError {
    /// The configuration is unusable.
    #[error("gateway config: {0}")]
    Config(String),
    /// The key or certificate files.
    #[error("gateway key: {0}")]
    Key(String),
    /// A data source could not start.
    #[error("gateway source of listing {listing}: {reason}")]
    Source {
        /// The listing.
        listing: u64,
        /// Why.
        reason: String,
    },
    /// Binding or TLS.
    #[error("gateway server: {0}")]
    Io(#[from] std::io::Error),
}

/// Counters of a gateway (the devnet's report, the benchmark).
#[derive(Debug, Default)]
pub struct GatewayStats {
    /// Connections accepted (upgraded).
    pub connections: AtomicU64,
    /// Data frames sent (new and resent).
    pub chunks_sent: AtomicU64,
    /// Vouchers the store acknowledged.
    pub vouchers_stored: AtomicU64,
    /// Source chunks above `max_payload`, skipped.
    pub oversized: AtomicU64,
}

pub(crate) struct Inner {
    config: GatewayConfig,
    chain: Arc<dyn ChainReader>,
    sink: Arc<dyn VoucherSink>,
    key: GatewayKey,
    chain_id: String,
    registry: String,
    payment_channel: String,
    prefix: String,
    sources: HashMap<u64, Source>,
    listings: Mutex<HashMap<u64, (Instant, chain::Listing)>>,
    streams: Arc<Streams>,
    stats: Arc<GatewayStats>,
    open: AtomicUsize,
    epoch: Instant,
    shutdown: watch::Receiver<bool>,
}

impl Inner {
    /// Monotonic milliseconds (the sessions' clock).
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// The listing, from a short cache or the chain.
    async fn listing(&self, id: u64) -> Result<chain::Listing, chain::LookupError> {
        if let Some((at, l)) = self.lock_listings().get(&id) {
            if at.elapsed() < LISTING_TTL {
                return Ok(l.clone());
            }
        }
        let l = chain::listing(&*self.chain, &self.registry, id).await?;
        self.lock_listings().insert(id, (Instant::now(), l.clone()));
        Ok(l)
    }

    fn lock_listings(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Instant, chain::Listing)>> {
        self.listings.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The data gateway service.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

impl Gateway {
    /// Builds the gateway and starts its sources. `registry` and
    /// `payment_channel` are the contracts' addresses; vouchers go to `sink`.
    pub fn new(
        config: GatewayConfig,
        chain: Arc<dyn ChainReader>,
        sink: Arc<dyn VoucherSink>,
        key: GatewayKey,
        registry: &str,
        payment_channel: &str,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Gateway, GatewayError> {
        let problems = config.problems();
        if !problems.is_empty() {
            return Err(GatewayError::Config(problems.join("; ")));
        }
        let prefix = bech32::decode(payment_channel)
            .map(|(hrp, _)| hrp.to_string())
            .map_err(|e| GatewayError::Config(format!("payment channel {payment_channel}: {e}")))?;
        let mut sources = HashMap::new();
        for l in &config.listings {
            let source = Source::start(l.id, &l.source, shutdown.clone()).map_err(|reason| {
                GatewayError::Source {
                    listing: l.id,
                    reason,
                }
            })?;
            sources.insert(l.id, source);
        }
        Ok(Gateway {
            inner: Arc::new(Inner {
                chain_id: chain.chain_id().to_string(),
                config,
                chain,
                sink,
                key,
                registry: registry.to_string(),
                payment_channel: payment_channel.to_string(),
                prefix,
                sources,
                listings: Mutex::new(HashMap::new()),
                streams: Arc::new(Streams::default()),
                stats: Arc::new(GatewayStats::default()),
                open: AtomicUsize::new(0),
                epoch: Instant::now(),
                shutdown,
            }),
        })
    }

    /// Binds `config.listen` and serves until shutdown; returns the bound
    /// address and the server task.
    pub async fn spawn(&self) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), GatewayError> {
        server::spawn(self.inner.clone()).await
    }

    /// The endpoint of a listing, for a gateway bound at `addr`.
    pub fn endpoint(&self, addr: SocketAddr, listing: u64) -> String {
        format!(
            "{}{}",
            self.inner.config.base_url(addr),
            config::listing_path(listing)
        )
    }

    /// The gateway's counters.
    pub fn stats(&self) -> Arc<GatewayStats> {
        self.inner.stats.clone()
    }

    /// Messages an MQTT listing received and skipped for lagging buyers.
    pub fn source_stats(&self, listing: u64) -> Option<(u64, u64)> {
        let s = self.inner.sources.get(&listing)?.stats()?;
        Some((
            s.received.load(Ordering::Relaxed),
            s.skipped.load(Ordering::Relaxed),
        ))
    }

    /// Buyers reading a listing's MQTT feed now (0 until the broker
    /// acknowledged the gateway's subscription).
    pub fn live_subscribers(&self, listing: u64) -> usize {
        self.inner
            .sources
            .get(&listing)
            .and_then(Source::live_subscribers)
            .unwrap_or(0)
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.inner.open.load(Ordering::Relaxed)
    }

    /// Streams the gateway keeps a record of.
    pub fn streams(&self) -> usize {
        self.inner.streams.len()
    }
}

/// Reads the gateway key (64 hex digits in a file no one else may read)
/// and the seller's certificate (JSON) named by the config.
pub fn load_key(config: &GatewayConfig) -> Result<GatewayKey, GatewayError> {
    let secret = read_secret(&config.key_file)?;
    let text = std::fs::read_to_string(&config.certificate_file)
        .map_err(|e| GatewayError::Key(format!("{}: {e}", config.certificate_file.display())))?;
    let certificate: Certificate = serde_json::from_str(&text)
        .map_err(|e| GatewayError::Key(format!("{}: {e}", config.certificate_file.display())))?;
    Ok(GatewayKey::new(secret, certificate))
}

fn read_secret(path: &Path) -> Result<[u8; 32], GatewayError> {
    let err = |m: String| GatewayError::Key(format!("{}: {m}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file
            .metadata()
            .map_err(|e| err(e.to_string()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(err(format!(
                "mode {:o} lets others read the key; chmod 600",
                mode & 0o777
            )));
        }
    }
    let text = std::io::read_to_string(file).map_err(|e| err(e.to_string()))?;
    let bytes = hex::decode(text.trim()).map_err(|e| err(e.to_string()))?;
    bytes
        .try_into()
        .map_err(|_| err("the key must be 32 bytes (64 hex digits)".into()))
}
