//! `[gateway]` configuration: where the gateway listens (ws on loopback by
//! default, wss with a certificate and key), its key and the seller's
//! certificate for it, the SDPP parameters it offers, and each listing's
//! data source.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use wevalue_sdpp::frame::MAX_PAYLOAD;

/// `[gateway]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Serve the gateway at all.
    pub enabled: bool,
    /// Where to listen; loopback by default (port 0 picks a free one).
    pub listen: SocketAddr,
    /// The URL base buyers reach the gateway at (`ws://host:port` or
    /// `wss://…`), which listings name as `<base>/sdpp/<listing id>`;
    /// empty = derived from `listen` and `tls`.
    pub public_url: String,
    /// Data-registry address; empty = the deployed `data-registry`.
    pub registry: String,
    /// Payment-channel address; empty = the deployed `payment-channel`.
    pub payment_channel: String,
    /// wss: PEM certificate chain and private key (rustls). Unset = ws.
    pub tls: Option<TlsConfig>,
    /// The gateway's ed25519 secret: a file holding 64 hex digits, mode 0600.
    pub key_file: PathBuf,
    /// The seller's certificate for the gateway key (JSON
    /// `{seller_pubkey, not_after, signature}`, SDPP §4.4).
    pub certificate_file: PathBuf,
    /// Units delivered ahead of payment (raised to the largest chunk's
    /// units): the seller risks at most this × the price per stream.
    pub credit_window: u64,
    /// Largest payload sent, bytes (1 to 1,048,576).
    pub max_payload: u32,
    /// Chunks sent ahead of acknowledgement.
    pub max_in_flight: u32,
    /// How long to wait for a voucher while out of credit, ms.
    pub payment_timeout_ms: u64,
    /// How long a buyer has for each handshake message, ms.
    pub handshake_timeout_ms: u64,
    /// Open connections at most; more are refused with HTTP 503.
    pub max_connections: usize,
    /// The listings served, each with its source.
    pub listings: Vec<ListingConfig>,
}

/// PEM files for wss.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM, PKCS#8, RSA or SEC1).
    pub key: PathBuf,
}

/// One listing and where its data comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListingConfig {
    /// The listing id in the data registry (its seller must be the gateway
    /// certificate's seller).
    pub id: u64,
    /// The data source.
    pub source: SourceConfig,
}

/// A listing's data source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceConfig {
    /// Messages of an MQTT topic (one chunk per message), from a broker.
    Mqtt {
        /// Broker host.
        host: String,
        /// Broker port (1883 for plain MQTT).
        port: u16,
        /// Topic filter to subscribe to (wildcards allowed).
        topic: String,
        /// Client id; empty = `wevalue-gateway-<listing>`.
        #[serde(default)]
        client_id: String,
        /// Subscription QoS, 0 or 1.
        #[serde(default = "default_qos")]
        qos: u8,
    },
    /// A simulated sensor, one reading per chunk (each buyer its own
    /// deterministic series).
    Simulated {
        /// What it measures.
        #[serde(default)]
        sensor: SensorKind,
        /// Milliseconds between readings; 0 = as fast as the buyer pays.
        interval_ms: u64,
        /// Seed of the series.
        #[serde(default)]
        seed: u64,
    },
    /// File replay, one chunk per CSV row (as a JSON object keyed by the
    /// header) or JSONL line; each buyer replays from its stream position.
    File {
        /// The file.
        path: PathBuf,
        /// `csv` or `jsonl`.
        format: FileFormat,
        /// Milliseconds between chunks; 0 = as fast as the buyer pays.
        interval_ms: u64,
        /// Start again at the first record after the last.
        #[serde(default)]
        repeat: bool,
    },
}

fn default_qos() -> u8 {
    1
}

/// Simulated sensor kinds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorKind {
    /// Fine particulate matter, µg/m³.
    #[default]
    Pm25,
    /// Temperature, °C.
    Temperature,
}

/// Replay file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON value per line.
    Jsonl,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 8790)),
            public_url: String::new(),
            registry: String::new(),
            payment_channel: String::new(),
            tls: None,
            key_file: PathBuf::from("gateway.key"),
            certificate_file: PathBuf::from("gateway-certificate.json"),
            credit_window: 64,
            max_payload: 64 * 1024,
            max_in_flight: 256,
            payment_timeout_ms: 30_000,
            handshake_timeout_ms: 10_000,
            max_connections: 4_096,
            listings: Vec::new(),
        }
    }
}

impl GatewayConfig {
    /// Every problem, naming the field (empty = valid).
    pub fn problems(&self) -> Vec<String> {
        let mut p = vec![];
        if !self.enabled {
            return p;
        }
        if self.credit_window == 0 {
            p.push("gateway.credit_window must be at least 1".into());
        }
        if self.max_payload == 0 || self.max_payload as usize > MAX_PAYLOAD {
            p.push(format!("gateway.max_payload must be 1 to {MAX_PAYLOAD}"));
        }
        if self.max_in_flight == 0 {
            p.push("gateway.max_in_flight must be at least 1".into());
        }
        if self.payment_timeout_ms == 0 {
            p.push("gateway.payment_timeout_ms must be at least 1".into());
        }
        if self.handshake_timeout_ms == 0 {
            p.push("gateway.handshake_timeout_ms must be at least 1".into());
        }
        if self.max_connections == 0 {
            p.push("gateway.max_connections must be at least 1".into());
        }
        let url = &self.public_url;
        if !(url.is_empty() || url.starts_with("ws://") || url.starts_with("wss://")) {
            p.push("gateway.public_url must start with ws:// or wss://".into());
        }
        if self.listings.is_empty() {
            p.push("gateway.listings: no listing to serve".into());
        }
        let mut ids: Vec<u64> = self.listings.iter().map(|l| l.id).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            p.push("gateway.listings: a listing id appears twice".into());
        }
        for l in &self.listings {
            if l.id == 0 {
                p.push("gateway.listings.id must be at least 1".into());
            }
            if let SourceConfig::Mqtt { topic, qos, .. } = &l.source {
                if topic.is_empty() {
                    p.push(format!("gateway.listings[{}].source.topic is empty", l.id));
                }
                if *qos > 1 {
                    p.push(format!(
                        "gateway.listings[{}].source.qos must be 0 or 1",
                        l.id
                    ));
                }
            }
        }
        p
    }

    /// The URL base buyers use: `public_url`, or `ws(s)://<listen>`.
    pub fn base_url(&self, bound: SocketAddr) -> String {
        if !self.public_url.is_empty() {
            return self.public_url.trim_end_matches('/').to_string();
        }
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{bound}")
    }
}

/// The path a listing is served at.
pub fn listing_path(id: u64) -> String {
    format!("/sdpp/{id}")
}
