//! Measurement sources and how several answers become one value.
//!
//! - [`HttpSource`]: GET a URL template, read numbers by JSON pointer;
//!   per-request timeout, retries with exponential backoff and jitter.
//! - [`FileSource`]: JSONL or CSV readings, summed over the period.
//! - [`SimulatedMeter`]: a deterministic smart meter for the devnet.
//!
//! [`aggregate`] takes the lower median of the answers that agree with it
//! and refuses when fewer than `min_sources` do.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use hyper::client::HttpConnector;
use hyper::{Body, Client, Uri};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::config::{FileFormat, HttpConfig, SourceConfig, SourceKind};
use super::metric::{to_micro, Measurement};

/// What is asked of a source: one participant over the execution period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeasurementQuery {
    /// Task id.
    pub task_id: u64,
    /// Participant address (bech32).
    pub participant: String,
    /// Period start, Unix seconds (inclusive).
    pub from: u64,
    /// Period end, Unix seconds (exclusive).
    pub to: u64,
}

/// Source failures.
#[derive(Debug, Error)]
pub enum SourceError {
    /// No answer within the per-request timeout.
    #[error("{url}: no answer within {timeout_ms} ms")]
    Timeout {
        /// URL.
        url: String,
        /// Timeout.
        timeout_ms: u64,
    },
    /// Connection or transport failure.
    #[error("{url}: {reason}")]
    Transport {
        /// URL.
        url: String,
        /// Cause.
        reason: String,
    },
    /// A non-success HTTP status.
    #[error("{url}: HTTP {status}")]
    Status {
        /// URL.
        url: String,
        /// Status code.
        status: u16,
    },
    /// The body is not the JSON expected.
    #[error("{url}: bad body: {reason}")]
    Body {
        /// URL.
        url: String,
        /// Cause.
        reason: String,
    },
    /// A JSON pointer found nothing or not a number.
    #[error("{url}: no number at {pointer}")]
    MissingNumber {
        /// URL.
        url: String,
        /// Pointer.
        pointer: String,
    },
    /// Every attempt failed; the last error.
    #[error("{attempts} attempts failed, last: {last}")]
    Exhausted {
        /// Attempts made.
        attempts: u32,
        /// Last failure.
        last: Box<SourceError>,
    },
    /// The URL template does not give a valid URI.
    #[error("bad url {url}: {reason}")]
    BadUrl {
        /// URL.
        url: String,
        /// Cause.
        reason: String,
    },
    /// A file could not be read.
    #[error("{path}: {reason}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        reason: String,
    },
    /// A line of a file could not be parsed.
    #[error("{path}:{line}: {reason}")]
    Parse {
        /// Path.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// Cause.
        reason: String,
    },
    /// No reading for the participant in the period.
    #[error("no reading for {participant} in [{from}, {to})")]
    NoData {
        /// Participant.
        participant: String,
        /// Period start.
        from: u64,
        /// Period end.
        to: u64,
    },
    /// The metric could not be computed from the answer.
    #[error(transparent)]
    Metric(#[from] super::metric::MetricError),
}

impl SourceError {
    /// Worth another attempt: timeouts, transport errors, 5xx and 429.
    pub fn is_transient(&self) -> bool {
        match self {
            SourceError::Timeout { .. } | SourceError::Transport { .. } => true,
            SourceError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// A data source: one participant's measurement over a period.
#[async_trait]
pub trait MeasurementSource: Send + Sync {
    /// Name, for logs and errors.
    fn name(&self) -> &str;
    /// Measures.
    async fn measure(&self, query: &MeasurementQuery) -> Result<Measurement, SourceError>;
}

/// Builds a source from its configuration.
pub fn build_source(cfg: &SourceConfig, http: &HttpConfig) -> Arc<dyn MeasurementSource> {
    match &cfg.kind {
        SourceKind::Http {
            url,
            value_pointer,
            baseline_pointer,
        } => Arc::new(HttpSource {
            name: cfg.name.clone(),
            url: url.clone(),
            value_pointer: value_pointer.clone(),
            baseline_pointer: baseline_pointer.clone(),
            client: HttpJson::new(http.clone()),
        }),
        SourceKind::File { path, format } => Arc::new(FileSource {
            name: cfg.name.clone(),
            path: path.clone(),
            format: *format,
        }),
        SourceKind::SimulatedMeter { seed, time_scale } => Arc::new(SimulatedMeter {
            name: cfg.name.clone(),
            seed: seed.clone(),
            time_scale: *time_scale,
        }),
    }
}

// ------------------------------------------------------------------ HTTP

/// A small JSON-over-HTTP client with timeouts and retries (http only; put
/// TLS in front with a local proxy if needed).
#[derive(Clone, Debug)]
pub struct HttpJson {
    client: Client<HttpConnector, Body>,
    config: HttpConfig,
}

impl HttpJson {
    /// A client with this tuning.
    pub fn new(config: HttpConfig) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(config.timeout()));
        Self {
            client: Client::builder().build(connector),
            config,
        }
    }

    /// One GET: status must be 2xx, body JSON, all within the timeout.
    pub async fn get_once(&self, url: &str) -> Result<serde_json::Value, SourceError> {
        let uri: Uri =
            url.parse()
                .map_err(|e: hyper::http::uri::InvalidUri| SourceError::BadUrl {
                    url: url.to_string(),
                    reason: e.to_string(),
                })?;
        let transport = |e: hyper::Error| SourceError::Transport {
            url: url.to_string(),
            reason: e.to_string(),
        };
        let max = self.config.max_body_bytes;
        let request = async {
            let res = self.client.get(uri).await.map_err(transport)?;
            let status = res.status();
            if !status.is_success() {
                return Err(SourceError::Status {
                    url: url.to_string(),
                    status: status.as_u16(),
                });
            }
            let body = hyper::body::to_bytes(res.into_body())
                .await
                .map_err(transport)?;
            if body.len() > max {
                return Err(SourceError::Body {
                    url: url.to_string(),
                    reason: format!("{} bytes, limit {max}", body.len()),
                });
            }
            serde_json::from_slice(&body).map_err(|e| SourceError::Body {
                url: url.to_string(),
                reason: e.to_string(),
            })
        };
        match tokio::time::timeout(self.config.timeout(), request).await {
            Ok(r) => r,
            Err(_) => Err(SourceError::Timeout {
                url: url.to_string(),
                timeout_ms: self.config.timeout_ms,
            }),
        }
    }

    /// GET with retries on transient failures; returns `Ok(None)` on 404
    /// (the resource is not there yet, not an error worth retrying).
    pub async fn get(&self, url: &str) -> Result<Option<serde_json::Value>, SourceError> {
        let mut attempt = 0u32;
        loop {
            match self.get_once(url).await {
                Ok(v) => return Ok(Some(v)),
                Err(SourceError::Status { status: 404, .. }) => return Ok(None),
                Err(e) if e.is_transient() && attempt < self.config.retries => {
                    let wait = backoff(&self.config, attempt, url);
                    tracing::debug!(url, attempt, wait_ms = wait.as_millis() as u64, error = %e, "retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) if attempt == 0 && !e.is_transient() => return Err(e),
                Err(e) => {
                    return Err(SourceError::Exhausted {
                        attempts: attempt + 1,
                        last: Box::new(e),
                    })
                }
            }
        }
    }
}

/// Exponential backoff `base × 2^attempt`, capped, plus up to 50% jitter
/// (from the clock and the URL, so instances do not retry in lockstep).
pub fn backoff(config: &HttpConfig, attempt: u32, url: &str) -> Duration {
    let exp = config
        .backoff_ms
        .saturating_mul(1u64 << attempt.min(20))
        .min(config.max_backoff_ms);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let h = Sha256::new()
        .chain_update(url.as_bytes())
        .chain_update(attempt.to_be_bytes())
        .chain_update(nanos.to_be_bytes())
        .finalize();
    let r = u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
    let jitter = if exp == 0 { 0 } else { r % (exp / 2 + 1) };
    Duration::from_millis(exp + jitter)
}

/// An HTTP JSON endpoint.
#[derive(Clone, Debug)]
pub struct HttpSource {
    name: String,
    url: String,
    value_pointer: String,
    baseline_pointer: Option<String>,
    client: HttpJson,
}

impl HttpSource {
    /// A source (`url` is a template, see [`SourceKind::Http`]).
    pub fn new(
        name: &str,
        url: &str,
        value_pointer: &str,
        baseline_pointer: Option<&str>,
        http: HttpConfig,
    ) -> Self {
        Self {
            name: name.to_string(),
            url: url.to_string(),
            value_pointer: value_pointer.to_string(),
            baseline_pointer: baseline_pointer.map(str::to_string),
            client: HttpJson::new(http),
        }
    }

    fn url_for(&self, q: &MeasurementQuery) -> String {
        self.url
            .replace("{task_id}", &q.task_id.to_string())
            .replace("{participant}", &q.participant)
            .replace("{from}", &q.from.to_string())
            .replace("{to}", &q.to.to_string())
    }
}

fn number_at(v: &serde_json::Value, url: &str, pointer: &str) -> Result<i128, SourceError> {
    v.pointer(pointer)
        .and_then(|x| x.as_f64().or_else(|| x.as_str()?.trim().parse().ok()))
        .and_then(to_micro)
        .ok_or_else(|| SourceError::MissingNumber {
            url: url.to_string(),
            pointer: pointer.to_string(),
        })
}

#[async_trait]
impl MeasurementSource for HttpSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn measure(&self, q: &MeasurementQuery) -> Result<Measurement, SourceError> {
        let url = self.url_for(q);
        let body = self
            .client
            .get(&url)
            .await?
            .ok_or_else(|| SourceError::NoData {
                participant: q.participant.clone(),
                from: q.from,
                to: q.to,
            })?;
        Ok(Measurement {
            actual: number_at(&body, &url, &self.value_pointer)?,
            baseline: match &self.baseline_pointer {
                Some(p) => Some(number_at(&body, &url, p)?),
                None => None,
            },
        })
    }
}

// ------------------------------------------------------------------ files

/// One file reading: (participant, timestamp, value, baseline).
type Row = (String, u64, f64, Option<f64>);

/// Readings in a JSONL or CSV file.
#[derive(Clone, Debug)]
pub struct FileSource {
    name: String,
    path: PathBuf,
    format: FileFormat,
}

impl FileSource {
    /// A file source.
    pub fn new(name: &str, path: impl Into<PathBuf>, format: FileFormat) -> Self {
        Self {
            name: name.to_string(),
            path: path.into(),
            format,
        }
    }

    fn parse_line(&self, line: &str, n: usize) -> Result<Option<Row>, SourceError> {
        let err = |reason: String| SourceError::Parse {
            path: self.path.clone(),
            line: n,
            reason,
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(None);
        }
        match self.format {
            FileFormat::Jsonl => {
                let v: serde_json::Value =
                    serde_json::from_str(line).map_err(|e| err(e.to_string()))?;
                let participant = v["participant"]
                    .as_str()
                    .ok_or_else(|| err("participant must be a string".into()))?;
                let ts = v["timestamp"]
                    .as_u64()
                    .ok_or_else(|| err("timestamp must be Unix seconds".into()))?;
                let value = v["value"]
                    .as_f64()
                    .ok_or_else(|| err("value must be a number".into()))?;
                let baseline = match v.get("baseline") {
                    None | Some(serde_json::Value::Null) => None,
                    Some(b) => Some(
                        b.as_f64()
                            .ok_or_else(|| err("baseline must be a number".into()))?,
                    ),
                };
                Ok(Some((participant.to_string(), ts, value, baseline)))
            }
            FileFormat::Csv => {
                let cols: Vec<&str> = line.split(',').map(str::trim).collect();
                if n == 1 && cols.first() == Some(&"participant") {
                    return Ok(None);
                }
                if !(3..=4).contains(&cols.len()) {
                    return Err(err(format!("{} columns, expected 3 or 4", cols.len())));
                }
                let ts = cols[1].parse().map_err(|_| err("bad timestamp".into()))?;
                let value = cols[2].parse().map_err(|_| err("bad value".into()))?;
                let baseline = match cols.get(3) {
                    Some(b) if !b.is_empty() => {
                        Some(b.parse().map_err(|_| err("bad baseline".into()))?)
                    }
                    _ => None,
                };
                Ok(Some((cols[0].to_string(), ts, value, baseline)))
            }
        }
    }
}

#[async_trait]
impl MeasurementSource for FileSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn measure(&self, q: &MeasurementQuery) -> Result<Measurement, SourceError> {
        let path = self.path.clone();
        let io = |reason: String| SourceError::Io {
            path: self.path.clone(),
            reason,
        };
        // Off the async workers: a file may sit on a slow disk.
        let text = tokio::task::spawn_blocking(move || std::fs::read_to_string(path))
            .await
            .map_err(|e| io(e.to_string()))?
            .map_err(|e| io(e.to_string()))?;
        let (mut actual, mut baseline, mut rows, mut baseline_rows) = (0i128, 0i128, 0, 0);
        for (i, line) in text.lines().enumerate() {
            let Some((p, ts, value, b)) = self.parse_line(line, i + 1)? else {
                continue;
            };
            if p != q.participant || ts < q.from || ts >= q.to {
                continue;
            }
            let bad = |what: &str| SourceError::Parse {
                path: self.path.clone(),
                line: i + 1,
                reason: format!("{what} out of range"),
            };
            actual += to_micro(value).ok_or_else(|| bad("value"))?;
            rows += 1;
            if let Some(b) = b {
                baseline += to_micro(b).ok_or_else(|| bad("baseline"))?;
                baseline_rows += 1;
            }
        }
        if rows == 0 {
            return Err(SourceError::NoData {
                participant: q.participant.clone(),
                from: q.from,
                to: q.to,
            });
        }
        Ok(Measurement {
            actual,
            baseline: (baseline_rows > 0).then_some(baseline),
        })
    }
}

// ------------------------------------------------------------ simulation

/// DEVNET: a deterministic smart meter. Each (seed, task, participant) has
/// a baseline rate of 0.5 to 1.5 kWh per metered hour and a saving of 0 to
/// 30%, so every oracle with the same seed computes the same kWh saved.
#[derive(Clone, Debug)]
pub struct SimulatedMeter {
    name: String,
    seed: String,
    time_scale: u64,
}

impl SimulatedMeter {
    /// A meter; `time_scale` simulated seconds per chain second.
    pub fn new(name: &str, seed: &str, time_scale: u64) -> Self {
        Self {
            name: name.to_string(),
            seed: seed.to_string(),
            time_scale,
        }
    }

    /// The reading for a query (what `measure` returns).
    pub fn reading(&self, q: &MeasurementQuery) -> Measurement {
        let h = Sha256::new()
            .chain_update(b"wevalue/simulated-meter/v1")
            .chain_update((self.seed.len() as u32).to_be_bytes())
            .chain_update(self.seed.as_bytes())
            .chain_update(q.task_id.to_be_bytes())
            .chain_update(q.participant.as_bytes())
            .finalize();
        let word = |i: usize| {
            u64::from_be_bytes([
                h[i],
                h[i + 1],
                h[i + 2],
                h[i + 3],
                h[i + 4],
                h[i + 5],
                h[i + 6],
                h[i + 7],
            ])
        };
        // micro-kWh per metered hour: 0.5 to 1.5 kWh/h.
        let rate = i128::from(500_000 + word(0) % 1_000_001);
        let saving_bps = i128::from(word(8) % 3_001);
        let metered_secs = i128::from(q.to.saturating_sub(q.from)) * i128::from(self.time_scale);
        let baseline = rate * metered_secs / 3_600;
        let actual = baseline - baseline * saving_bps / 10_000;
        Measurement {
            actual,
            baseline: Some(baseline),
        }
    }
}

#[async_trait]
impl MeasurementSource for SimulatedMeter {
    fn name(&self) -> &str {
        &self.name
    }

    async fn measure(&self, q: &MeasurementQuery) -> Result<Measurement, SourceError> {
        Ok(self.reading(q))
    }
}

// ------------------------------------------------------------ aggregation

/// Too few sources agreed.
#[derive(Debug, Error)]
#[error("{agreeing} of {answered} source answers agree (of {asked} asked), {required} required; failures: {failures:?}")]
pub struct InsufficientSources {
    /// Sources asked.
    pub asked: usize,
    /// Sources that answered.
    pub answered: usize,
    /// Answers within the agreement band around the median.
    pub agreeing: usize,
    /// `min_sources`.
    pub required: usize,
    /// `source: error` of each failed source.
    pub failures: Vec<String>,
}

/// The lower median of the answers within `agreement_bps` of the median of
/// all answers, if at least `min_sources` are; outliers are dropped.
pub fn aggregate(
    answers: &[(String, Result<u128, SourceError>)],
    min_sources: usize,
    agreement_bps: u32,
) -> Result<u128, InsufficientSources> {
    let mut ok: Vec<u128> = answers
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().copied())
        .collect();
    let failures: Vec<String> = answers
        .iter()
        .filter_map(|(n, r)| r.as_ref().err().map(|e| format!("{n}: {e}")))
        .collect();
    ok.sort_unstable();
    let insufficient = |agreeing| InsufficientSources {
        asked: answers.len(),
        answered: ok.len(),
        agreeing,
        required: min_sources.max(1),
        failures: failures.clone(),
    };
    if ok.is_empty() {
        return Err(insufficient(0));
    }
    let median = ok[(ok.len() - 1) / 2];
    let band = median.saturating_mul(u128::from(agreement_bps));
    let agreeing: Vec<u128> = ok
        .iter()
        .copied()
        .filter(|v| v.abs_diff(median).saturating_mul(10_000) <= band)
        .collect();
    if agreeing.len() < min_sources.max(1) {
        return Err(insufficient(agreeing.len()));
    }
    Ok(agreeing[(agreeing.len() - 1) / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(v: &[u128]) -> Vec<(String, Result<u128, SourceError>)> {
        v.iter()
            .enumerate()
            .map(|(i, v)| (format!("s{i}"), Ok(*v)))
            .collect()
    }

    #[test]
    fn median_drops_outliers_and_counts_agreement() {
        assert_eq!(aggregate(&ok(&[1000, 1020, 5000]), 2, 1_000).unwrap(), 1000);
        assert_eq!(aggregate(&ok(&[1000, 1020, 990]), 3, 1_000).unwrap(), 1000);
        let e = aggregate(&ok(&[1000, 5000]), 2, 1_000).unwrap_err();
        assert_eq!((e.answered, e.agreeing, e.required), (2, 1, 2));
        let mut a = ok(&[7]);
        a.push((
            "down".into(),
            Err(SourceError::NoData {
                participant: "p".into(),
                from: 0,
                to: 1,
            }),
        ));
        let e = aggregate(&a, 2, 1_000).unwrap_err();
        assert_eq!((e.asked, e.answered, e.failures.len()), (2, 1, 1));
        assert_eq!(aggregate(&a, 1, 0).unwrap(), 7);
    }

    #[test]
    fn simulated_meter_is_deterministic_and_saves_up_to_30_percent() {
        let m = SimulatedMeter::new("sim", "seed", 3600);
        let q = MeasurementQuery {
            task_id: 4,
            participant: "wasm1abc".into(),
            from: 100,
            to: 110,
        };
        let a = m.reading(&q);
        assert_eq!(a, m.reading(&q));
        let b = a.baseline.unwrap();
        assert!((5_000_000..=15_000_000).contains(&b), "{b}");
        assert!(a.actual <= b && a.actual * 10 >= b * 7);
        let other = m.reading(&MeasurementQuery {
            participant: "wasm1abd".into(),
            ..q
        });
        assert_ne!(other, a);
    }
}
