//! `[oracle]` configuration. The contract's templates name a metric
//! (`kwh_saved`) and an oracle quorum but say nothing about data sources, so
//! how a template's value is measured (metric formula, scale, which sources,
//! how many must agree) is oracle-side configuration keyed by template id,
//! with a fallback by the template's metric name.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::metric::Metric;

/// How this instance proves values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OracleMode {
    /// Each oracle sends its own `attest` from its account; the contract
    /// accepts a value once k attestations agree.
    #[default]
    Single,
    /// Measures, signs the report and serves it to an aggregator on
    /// `GET /v1/observations/{task_id}`; never sends a transaction itself.
    Observer,
    /// An observer that also collects signed observations from `peers`,
    /// verifies them against the contract's oracle set and submits one
    /// `submit_report` once k identical ones (its own included) are in hand.
    Aggregator,
}

/// Where the oracle's report-signing key comes from (32 bytes, hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum KeySource {
    /// Hex secret in this environment variable.
    Env(String),
    /// Hex secret in this file (whitespace trimmed).
    File(PathBuf),
    /// DEVNET ONLY: sha256("wevalue/devnet-oracle-key/" ‖ label). Anybody
    /// who knows the label knows the key; never use it on a real chain.
    DevnetLabel(String),
}

/// The signature scheme of the key (must match the oracle set entry).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySchemeConfig {
    /// secp256k1 ECDSA (64-byte r‖s, low s) over the report digest.
    #[default]
    Secp256k1,
    /// ed25519 over the report digest.
    Ed25519,
}

/// The oracle's report key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Scheme.
    #[serde(default)]
    pub scheme: KeySchemeConfig,
    /// Where the secret is.
    pub source: KeySource,
}

/// File formats of a [`SourceKind::File`] source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// One JSON object a line: `{"participant","timestamp","value","baseline"?}`.
    Jsonl,
    /// `participant,timestamp,value[,baseline]`, an optional header line.
    Csv,
}

/// One configured data source. (serde cannot combine `flatten` with
/// `deny_unknown_fields` here; [`SourceKind`] denies unknown keys instead.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceConfig {
    /// Name (templates select sources by name; appears in logs and errors).
    pub name: String,
    /// What it is.
    #[serde(flatten)]
    pub kind: SourceKind,
}

/// Source kinds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceKind {
    /// An HTTP JSON endpoint.
    Http {
        /// URL with `{task_id}`, `{participant}`, `{from}`, `{to}` (Unix
        /// seconds of the execution period) substituted.
        url: String,
        /// JSON pointer (RFC 6901) to the measured quantity, e.g. `/actual_kwh`.
        value_pointer: String,
        /// JSON pointer to the baseline quantity (metrics that need one).
        #[serde(default)]
        baseline_pointer: Option<String>,
    },
    /// Readings in a local file; the rows of a participant whose timestamp
    /// is in `[from, to)` are summed.
    File {
        /// Path.
        path: PathBuf,
        /// `jsonl` or `csv`.
        format: FileFormat,
    },
    /// DEVNET: a deterministic smart meter seeded by (seed, task, participant).
    SimulatedMeter {
        /// Seed label; oracles that must agree use the same one.
        #[serde(default = "default_sim_seed")]
        seed: String,
        /// Simulated seconds per second of chain time (3600: a chain second
        /// is a metered hour, so a short devnet task meters real-looking kWh).
        #[serde(default = "default_time_scale")]
        time_scale: u64,
    },
}

fn default_sim_seed() -> String {
    "wevalue-devnet".into()
}
fn default_time_scale() -> u64 {
    3600
}

/// How one template's value is measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateRule {
    /// Template id this rule is for; `None` = any template whose `metric`
    /// equals `metric_name`.
    #[serde(default)]
    pub template_id: Option<u64>,
    /// Template metric name to match when `template_id` is not set.
    #[serde(default)]
    pub metric_name: Option<String>,
    /// Formula from measurements to the value.
    pub metric: Metric,
    /// Contract value units per unit of measurement (1000: values in Wh
    /// for kWh readings); the result is floored.
    #[serde(default = "default_units")]
    pub units_per_unit: u64,
    /// Source names to ask; empty = all configured sources.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Fewest agreeing source answers needed; fewer means no attestation.
    #[serde(default = "default_min_sources")]
    pub min_sources: usize,
    /// Answers further than this (basis points of the median) from the
    /// median do not count as agreeing. 10,000 accepts everything.
    #[serde(default = "default_agreement_bps")]
    pub agreement_bps: u32,
}

fn default_units() -> u64 {
    1
}
fn default_min_sources() -> usize {
    1
}
fn default_agreement_bps() -> u32 {
    1_000
}

/// HTTP client tuning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Per-request timeout (connect, headers and body), milliseconds.
    pub timeout_ms: u64,
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff, milliseconds; doubles each retry, plus up to 50% jitter.
    pub backoff_ms: u64,
    /// Longest backoff, milliseconds.
    pub max_backoff_ms: u64,
    /// Largest response body accepted, bytes.
    pub max_body_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            timeout_ms: 5_000,
            retries: 3,
            backoff_ms: 200,
            max_backoff_ms: 5_000,
            max_body_bytes: 1 << 20,
        }
    }
}

impl HttpConfig {
    /// Per-request timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

/// `[oracle]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OracleConfig {
    /// `single`, `observer` or `aggregator`.
    #[serde(default)]
    pub mode: OracleMode,
    /// The report-signing key (observer and aggregator; single mode signs
    /// with the account's tx key only).
    pub key: Option<KeyConfig>,
    /// Data sources.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Per-template measurement rules; a task whose template has no rule is skipped.
    #[serde(default)]
    pub templates: Vec<TemplateRule>,
    /// Aggregator: base URLs of peer oracles (`http://10.0.0.2:7410`).
    #[serde(default)]
    pub peers: Vec<String>,
    /// Observer/aggregator: where to serve `GET /v1/observations/{task_id}`
    /// (`None` = do not serve).
    #[serde(default)]
    pub listen: Option<String>,
    /// Time between ticks, milliseconds.
    #[serde(default = "default_poll")]
    pub poll_interval_ms: u64,
    /// Tasks read per `tasks_by_status` page (the contract caps it at 30).
    #[serde(default = "default_page")]
    pub page_size: u32,
    /// Most tasks handled per tick (bounds one tick's work).
    #[serde(default = "default_max_tasks")]
    pub max_tasks_per_tick: usize,
    /// Data source and peer HTTP tuning.
    #[serde(default)]
    pub http: HttpConfig,
    /// Accepted for old config files and ignored: the oracle sends through
    /// the signer's one outbox, whose wait for inclusion is the chain's
    /// (`chain.cosmos.inclusion_timeout_secs`).
    #[serde(default = "default_inclusion")]
    pub inclusion_timeout_secs: u64,
}

fn default_poll() -> u64 {
    1_000
}
fn default_page() -> u32 {
    30
}
fn default_max_tasks() -> usize {
    64
}
fn default_inclusion() -> u64 {
    60
}

impl Default for OracleConfig {
    fn default() -> Self {
        Self {
            mode: OracleMode::Single,
            key: None,
            sources: vec![],
            templates: vec![],
            peers: vec![],
            listen: None,
            poll_interval_ms: default_poll(),
            page_size: default_page(),
            max_tasks_per_tick: default_max_tasks(),
            http: HttpConfig::default(),
            inclusion_timeout_secs: default_inclusion(),
        }
    }
}

impl OracleConfig {
    /// The rule for a template: by id first, then by metric name.
    pub fn rule_for(&self, template_id: u64, metric_name: &str) -> Option<&TemplateRule> {
        self.templates
            .iter()
            .find(|r| r.template_id == Some(template_id))
            .or_else(|| {
                self.templates.iter().find(|r| {
                    r.template_id.is_none() && r.metric_name.as_deref() == Some(metric_name)
                })
            })
    }
}
