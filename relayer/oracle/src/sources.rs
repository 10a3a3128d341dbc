//! Measurement sources and how several answers become one value.
//!
//! - [`HttpSource`]: GET a URL template, read numbers by JSON pointer;
//!   per-request timeout, retries with exponential backoff and jitter
//!   (reqwest over rustls, backon).
//! - [`FileSource`]: JSONL or CSV readings, summed over the period.
//! - [`crate::SimulatedMeter`] (in `aggregate.rs`): a deterministic smart meter for the devnet.
//!
//! [`crate::aggregate`] turns several answers into one value.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
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
        SourceKind::SimulatedMeter { seed, time_scale } => {
            Arc::new(crate::SimulatedMeter::new(&cfg.name, seed, *time_scale))
        }
    }
}

// ------------------------------------------------------------------ HTTP

/// A JSON-over-HTTP client (reqwest over rustls: `https://` sources work,
/// with the system's roots) with a per-request timeout, a body cap and
/// retries with jittered exponential backoff.
#[derive(Clone, Debug)]
pub struct HttpJson {
    client: reqwest::Client,
    config: HttpConfig,
}

impl HttpJson {
    /// A client with this tuning.
    pub fn new(config: HttpConfig) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(config.timeout())
            .timeout(config.timeout())
            .build()
            .unwrap_or_default();
        Self { client, config }
    }

    /// One GET: status must be 2xx, body JSON, all within the timeout.
    pub async fn get_once(&self, url: &str) -> Result<serde_json::Value, SourceError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| SourceError::BadUrl {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                SourceError::Timeout {
                    url: url.to_string(),
                    timeout_ms: self.config.timeout_ms,
                }
            } else {
                SourceError::Transport {
                    url: url.to_string(),
                    reason: e.to_string(),
                }
            }
        };
        let max = self.config.max_body_bytes;
        let request = async {
            let mut res = self.client.get(parsed).send().await.map_err(transport)?;
            let status = res.status();
            if !status.is_success() {
                return Err(SourceError::Status {
                    url: url.to_string(),
                    status: status.as_u16(),
                });
            }
            let too_large = |n: usize| SourceError::Body {
                url: url.to_string(),
                reason: format!("{n} bytes, limit {max}"),
            };
            if let Some(n) = res.content_length().filter(|n| *n as usize > max) {
                return Err(too_large(n as usize));
            }
            // Read chunk by chunk so an endless body stops at the cap.
            let mut body = Vec::new();
            while let Some(chunk) = res.chunk().await.map_err(transport)? {
                body.extend_from_slice(&chunk);
                if body.len() > max {
                    return Err(too_large(body.len()));
                }
            }
            serde_json::from_slice(&body).map_err(|e| SourceError::Body {
                url: url.to_string(),
                reason: e.to_string(),
            })
        };
        // reqwest's own timeout covers the request; this one also bounds
        // reading a slow body.
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
        let attempts = std::sync::atomic::AtomicU32::new(0);
        let result = (|| async {
            attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            match self.get_once(url).await {
                Ok(v) => Ok(Some(v)),
                Err(SourceError::Status { status: 404, .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .retry(backoff(&self.config))
        .when(SourceError::is_transient)
        .notify(|e, wait| {
            tracing::debug!(url, wait_ms = wait.as_millis() as u64, error = %e, "retrying");
        })
        .await;
        let attempts = attempts.into_inner();
        match result {
            Err(e) if attempts > 1 || e.is_transient() => Err(SourceError::Exhausted {
                attempts,
                last: Box::new(e),
            }),
            other => other,
        }
    }
}

/// The retry schedule: `backoff_ms × 2^attempt`, capped at
/// `max_backoff_ms`, with random jitter (so instances do not retry in
/// lockstep), at most `retries` retries after the first attempt.
pub fn backoff(config: &HttpConfig) -> impl BackoffBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(config.backoff_ms))
        .with_max_delay(Duration::from_millis(
            config.max_backoff_ms.max(config.backoff_ms),
        ))
        .with_factor(2.0)
        .with_max_times(config.retries as usize)
        .with_jitter()
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
