//! The relayer's TOML configuration. Unknown keys are errors
//! (`deny_unknown_fields`), defaults are documented in
//! `relayer/config.example.toml`, secrets come from the environment or files
//! and never from this file, and [`Config::problems`] names every bad field.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use relayer_chain_cosmos::RpcCompat;
pub use relayer_core::coins::{parse_coins, valid_denom};
use relayer_core::ConfigError;

/// Environment variable that overrides `chain.cosmos.rpc_url` (URLs often
/// carry provider API keys).
pub const ENV_RPC_URL: &str = "WEVALUE_RELAYER_RPC_URL";
/// Environment variable that overrides `signer.mnemonic_file`.
pub const ENV_MNEMONIC_FILE: &str = "WEVALUE_RELAYER_MNEMONIC_FILE";
/// Default name of the mnemonic variable (`signer.mnemonic_env`).
pub const DEFAULT_MNEMONIC_ENV: &str = "WEVALUE_RELAYER_MNEMONIC";

/// The whole file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// `/metrics` and `/health`.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// The SQLite state.
    #[serde(default)]
    pub state: StateConfig,
    /// The chain and its backend.
    pub chain: ChainConfig,
    /// Where the key comes from.
    #[serde(default)]
    pub signer: SignerConfig,
    /// Event following.
    #[serde(default)]
    pub events: EventsConfig,
    /// Transaction outbox.
    #[serde(default)]
    pub outbox: OutboxConfig,
    /// Deployment files.
    #[serde(default)]
    pub deploy: DeployConfig,
    /// Payment-channel watchtower and settlement bridge (`enabled = true` to run).
    #[serde(default)]
    pub watchtower: crate::services::watchtower::WatchtowerConfig,
    /// Oracle for value-contract tasks (runs when the section is present).
    #[serde(default)]
    pub oracle: Option<crate::services::oracle::config::OracleConfig>,
    /// Matching solver (runs when the section is present and enabled).
    #[serde(default)]
    pub solver: Option<crate::services::solver::SolverConfig>,
    /// SDPP data gateway (`enabled = true` to run; needs the watchtower,
    /// which keeps its vouchers).
    #[serde(default)]
    pub gateway: crate::services::gateway::GatewayConfig,
    /// IBC settlement bridge: follows IBC payouts to their acknowledgement
    /// or timeout and supervises Hermes (`enabled = true` to run).
    #[serde(default)]
    pub bridge: crate::services::bridge::BridgeConfig,
}

/// Log output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[log]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter (`info`, `relayer=debug,info`); `RUST_LOG` wins if set.
    pub level: String,
    /// `text` or `json`.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// `[telemetry]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// Serve `/metrics` and `/health`.
    pub enabled: bool,
    /// Loopback address to bind.
    pub host: IpAddr,
    /// Port (0 = any free port).
    pub port: u16,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            host: IpAddr::from([127, 0, 0, 1]),
            port: 3001,
        }
    }
}

/// `[state]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// SQLite file (created if missing), relative to the working directory.
    pub path: PathBuf,
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("relayer.sqlite"),
        }
    }
}

/// Which chain backend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// In-process cw-multi-test chain.
    #[default]
    Embedded,
    /// A wasmd chain over CometBFT RPC.
    Cosmos,
}

/// `[chain]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// Chain id (`wevalue-local`, `malaga-420`).
    pub id: String,
    /// bech32 account prefix.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Denom fees are paid in (and the wallet balance metric is read in).
    #[serde(default = "default_fee_denom")]
    pub fee_denom: String,
    /// `embedded` or `cosmos`.
    #[serde(default)]
    pub backend: Backend,
    /// Whether the file names the backend (only an explicit `embedded` may
    /// sign with a test address when no mnemonic is configured).
    #[serde(skip)]
    pub backend_explicit: bool,
    /// `[chain.embedded]`
    #[serde(default)]
    pub embedded: EmbeddedConfig,
    /// `[chain.cosmos]`, required when `backend = "cosmos"`.
    pub cosmos: Option<CosmosConfig>,
}

fn default_prefix() -> String {
    "wasm".into()
}

fn default_fee_denom() -> String {
    "ustake".into()
}

/// `[chain.embedded]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddedConfig {
    /// Milliseconds between blocks; 0 = a block per broadcast (on demand).
    pub block_interval_ms: u64,
    /// Directory with `<contract>.wasm` (their sha256 become code checksums).
    pub artifacts_dir: PathBuf,
    /// Gas limit of every tx.
    pub gas_limit: u64,
    /// Coins the signer gets at genesis, e.g. `"1000000000ustake"`.
    pub signer_balance: String,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        Self {
            block_interval_ms: 1000,
            artifacts_dir: PathBuf::from("artifacts"),
            gas_limit: 10_000_000,
            signer_balance: "1000000000ustake".into(),
        }
    }
}

/// `[chain.cosmos]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosmosConfig {
    /// CometBFT RPC URL (overridden by `WEVALUE_RELAYER_RPC_URL`).
    pub rpc_url: String,
    /// RPC dialect: `"0.34"`, `"0.37"` or `"0.38"`.
    #[serde(default)]
    pub compat: RpcCompat,
    /// Fee per unit of gas in `chain.fee_denom`.
    #[serde(default = "default_gas_price")]
    pub gas_price: f64,
    /// Simulated gas is multiplied by this.
    #[serde(default = "default_gas_multiplier")]
    pub gas_multiplier: f64,
    /// Refuse txs whose gas limit would exceed this.
    #[serde(default = "default_max_gas")]
    pub max_gas: u64,
    /// Seconds to wait for a tx to be included.
    #[serde(default = "default_inclusion_timeout")]
    pub inclusion_timeout_secs: u64,
    /// Milliseconds between polls for inclusion.
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    /// Txs time out this many blocks after the height they were signed at
    /// (`timeout_height`); a lost tx is signed again only after that.
    #[serde(default = "default_timeout_blocks")]
    pub timeout_blocks: u64,
}

fn default_timeout_blocks() -> u64 {
    100
}

fn default_gas_price() -> f64 {
    0.025
}
fn default_gas_multiplier() -> f64 {
    1.3
}
fn default_max_gas() -> u64 {
    10_000_000
}
fn default_inclusion_timeout() -> u64 {
    60
}
fn default_poll_ms() -> u64 {
    1000
}

/// `[signer]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignerConfig {
    /// Environment variable holding the mnemonic.
    pub mnemonic_env: String,
    /// File holding the mnemonic, used when the variable is unset
    /// (overridden by `WEVALUE_RELAYER_MNEMONIC_FILE`).
    pub mnemonic_file: Option<PathBuf>,
    /// BIP44 account index (`m/44'/118'/0'/0/{index}`).
    pub account_index: u32,
}

impl Default for SignerConfig {
    fn default() -> Self {
        Self {
            mnemonic_env: DEFAULT_MNEMONIC_ENV.into(),
            mnemonic_file: None,
            account_index: 0,
        }
    }
}

/// `[events]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Milliseconds between polls for new blocks.
    pub poll_interval_ms: u64,
    /// Blocks scanned per poll at most.
    pub max_blocks_per_poll: u64,
    /// First height to follow when there is no stored cursor (default: the
    /// chain's height at start-up).
    pub start_height: Option<u64>,
    /// Deployment names whose events are followed (empty = all deployed).
    pub contracts: Vec<String>,
    /// `/health` answers 503 when the cursor is more blocks behind the head
    /// than this (0 = never).
    pub max_lag_blocks: u64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            poll_interval_ms: 1000,
            max_blocks_per_poll: 100,
            start_height: None,
            contracts: vec![],
            max_lag_blocks: 100,
        }
    }
}

/// `[outbox]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Signing attempts before an entry is given up.
    pub max_attempts: u32,
    /// Milliseconds between outbox flushes.
    pub flush_interval_ms: u64,
    /// Retries of a transient chain failure (transport, inclusion timeout)
    /// within one submission, with exponential backoff.
    pub transient_retries: u32,
    /// First backoff delay, milliseconds; doubles per retry.
    pub retry_initial_delay_ms: u64,
    /// Longest backoff delay, milliseconds.
    pub retry_max_delay_ms: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            flush_interval_ms: 1000,
            transient_retries: 5,
            retry_initial_delay_ms: 200,
            retry_max_delay_ms: 10_000,
        }
    }
}

impl OutboxConfig {
    /// Outbox options with this section's values and an inclusion timeout.
    pub fn options(&self, inclusion_timeout: std::time::Duration) -> crate::outbox::OutboxOptions {
        crate::outbox::OutboxOptions {
            inclusion_timeout,
            max_attempts: self.max_attempts,
            transient_retries: self.transient_retries,
            retry_initial_delay: std::time::Duration::from_millis(self.retry_initial_delay_ms),
            retry_max_delay: std::time::Duration::from_millis(self.retry_max_delay_ms),
            ..crate::outbox::OutboxOptions::default()
        }
    }
}

/// `[deploy]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeployConfig {
    /// Deploy spec; `run` on the embedded chain deploys it at start-up.
    pub spec: Option<PathBuf>,
    /// Deployment JSON written by `deploy` and read by `run`, `query`, `execute`.
    pub deployment_file: PathBuf,
}

impl Default for DeployConfig {
    fn default() -> Self {
        Self {
            spec: None,
            deployment_file: PathBuf::from("deployment.json"),
        }
    }
}

impl Config {
    /// Parses TOML text (no validation beyond shape; see [`Config::problems`]).
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let mut config: Self = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        config.chain.backend_explicit = text
            .parse::<toml::Table>()
            .ok()
            .and_then(|t| t.get("chain")?.get("backend").cloned())
            .is_some();
        Ok(config)
    }

    /// Reads, parses, applies environment overrides and validates.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Self::from_toml(&text, &path.display().to_string())?;
        config.apply_env(|k| std::env::var(k).ok());
        config.validate()?;
        Ok(config)
    }

    /// Applies the environment overrides through `get` (injectable for tests).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) {
        if let Some(url) = get(ENV_RPC_URL).filter(|v| !v.is_empty()) {
            if let Some(cosmos) = self.chain.cosmos.as_mut() {
                cosmos.rpc_url = url;
            }
        }
        if let Some(file) = get(ENV_MNEMONIC_FILE).filter(|v| !v.is_empty()) {
            self.signer.mnemonic_file = Some(PathBuf::from(file));
        }
    }

    /// The first problem, if any.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.problems().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Every problem found, each naming its field.
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut out = Vec::new();
        let mut invalid = |field: &str, reason: String| {
            out.push(ConfigError::Invalid {
                field: field.into(),
                reason,
            })
        };
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            invalid("log.level", e.to_string());
        }
        if !self.telemetry.host.is_loopback() {
            invalid(
                "telemetry.host",
                format!(
                    "{} is not a loopback address; metrics stay on localhost",
                    self.telemetry.host
                ),
            );
        }
        if self.chain.id.is_empty()
            || self.chain.id.len() > 50
            || !self
                .chain
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            invalid(
                "chain.id",
                format!(
                    "{:?} is not a chain id (1-50 of a-z, A-Z, 0-9, -, _, .)",
                    self.chain.id
                ),
            );
        }
        if self.chain.prefix.is_empty()
            || self.chain.prefix.len() > 20
            || !self
                .chain
                .prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            invalid(
                "chain.prefix",
                format!(
                    "{:?} is not a bech32 prefix (1-20 of a-z, 0-9)",
                    self.chain.prefix
                ),
            );
        }
        if !valid_denom(&self.chain.fee_denom) {
            invalid(
                "chain.fee_denom",
                format!("{:?} is not a denom", self.chain.fee_denom),
            );
        }
        if let Err(e) = parse_coins(&self.chain.embedded.signer_balance) {
            invalid("chain.embedded.signer_balance", e);
        }
        if self.chain.embedded.gas_limit == 0 {
            invalid("chain.embedded.gas_limit", "must be above 0".into());
        }
        match (&self.chain.backend, &self.chain.cosmos) {
            (Backend::Cosmos, None) => out.push(ConfigError::Missing {
                field: "chain.cosmos".into(),
                reason: "backend = \"cosmos\" needs a [chain.cosmos] table".into(),
            }),
            (_, Some(c)) => {
                let mut invalid = |field: &str, reason: String| {
                    out.push(ConfigError::Invalid {
                        field: field.into(),
                        reason,
                    })
                };
                if !(c.rpc_url.starts_with("http://") || c.rpc_url.starts_with("https://")) {
                    invalid(
                        "chain.cosmos.rpc_url",
                        format!("{:?} is not an http(s) URL", c.rpc_url),
                    );
                }
                if !c.gas_price.is_finite() || c.gas_price < 0.0 {
                    invalid(
                        "chain.cosmos.gas_price",
                        format!("{} must be a finite number >= 0", c.gas_price),
                    );
                }
                if !c.gas_multiplier.is_finite() || !(1.0..=10.0).contains(&c.gas_multiplier) {
                    invalid(
                        "chain.cosmos.gas_multiplier",
                        format!("{} must be between 1.0 and 10.0", c.gas_multiplier),
                    );
                }
                if c.max_gas == 0 {
                    invalid("chain.cosmos.max_gas", "must be above 0".into());
                }
                if c.inclusion_timeout_secs == 0 {
                    invalid(
                        "chain.cosmos.inclusion_timeout_secs",
                        "must be above 0".into(),
                    );
                }
                if c.poll_interval_ms < 10 {
                    invalid(
                        "chain.cosmos.poll_interval_ms",
                        "must be at least 10".into(),
                    );
                }
            }
            (Backend::Embedded, None) => {}
        }
        if self.signer.mnemonic_env.is_empty() && self.signer.mnemonic_file.is_none() {
            out.push(ConfigError::Missing {
                field: "signer.mnemonic_env".into(),
                reason: "set mnemonic_env or mnemonic_file".into(),
            });
        }
        let mut invalid = |field: &str, reason: String| {
            out.push(ConfigError::Invalid {
                field: field.into(),
                reason,
            })
        };
        if self.events.poll_interval_ms < 10 {
            invalid("events.poll_interval_ms", "must be at least 10".into());
        }
        if !(1..=10_000).contains(&self.events.max_blocks_per_poll) {
            invalid(
                "events.max_blocks_per_poll",
                "must be between 1 and 10000".into(),
            );
        }
        if self.outbox.max_attempts == 0 {
            invalid("outbox.max_attempts", "must be at least 1".into());
        }
        for problem in self.watchtower.problems() {
            invalid("watchtower", problem);
        }
        for problem in self.gateway.problems() {
            invalid("gateway", problem);
        }
        for problem in self.bridge.problems() {
            invalid("bridge", problem);
        }
        if self.gateway.enabled && !self.watchtower.enabled {
            invalid(
                "gateway.enabled",
                "the gateway stores its vouchers through the watchtower: enable [watchtower]"
                    .into(),
            );
        }
        if let Some(oracle) = &self.oracle {
            if oracle.mode != crate::services::oracle::config::OracleMode::Single
                && oracle.key.is_none()
            {
                invalid(
                    "oracle.key",
                    format!("mode {:?} signs reports and needs a key", oracle.mode),
                );
            }
            if oracle.page_size == 0 || oracle.page_size > 30 {
                invalid("oracle.page_size", "must be 1 to 30".into());
            }
        }
        if let Some(solver) = &self.solver {
            if solver.page_size == 0 || solver.page_size > 30 {
                invalid("solver.page_size", "must be 1 to 30".into());
            }
        }
        if self.outbox.retry_initial_delay_ms == 0
            || self.outbox.retry_max_delay_ms < self.outbox.retry_initial_delay_ms
        {
            invalid(
                "outbox.retry_initial_delay_ms",
                "must be at least 1 and at most retry_max_delay_ms".into(),
            );
        }
        if self.outbox.flush_interval_ms < 10 {
            invalid("outbox.flush_interval_ms", "must be at least 10".into());
        }
        out
    }

    /// Blocks on an interval, or on demand when `block_interval_ms = 0`.
    #[cfg(feature = "embedded")]
    pub fn embedded_block_mode(&self) -> crate::embedded::BlockMode {
        match self.chain.embedded.block_interval_ms {
            0 => crate::embedded::BlockMode::OnDemand,
            ms => crate::embedded::BlockMode::Interval(std::time::Duration::from_millis(ms)),
        }
    }
}
