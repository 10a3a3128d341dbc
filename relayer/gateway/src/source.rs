//! Data sources: what a listing's chunks are made of. An MQTT topic is
//! one live feed shared by every buyer of the listing (a broadcast: a buyer
//! that falls behind by more than the buffer skips the oldest messages and
//! the gateway counts them); a simulated sensor and a file replay are one
//! feed per buyer, starting at its stream position.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::config::{FileFormat, SensorKind, SourceConfig};

/// Messages buffered per MQTT feed for buyers that fall behind.
const BROADCAST_BUFFER: usize = 4_096;

/// One piece of data from a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// When the gateway took it in (ms since the Unix epoch).
    pub timestamp_ms: u64,
    pub payload: Bytes,
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// A buyer's view of a source. `next` is cancel-safe (it may be dropped in
/// a `select!` without losing a chunk).
#[async_trait]
pub trait Feed: Send {
    /// The next chunk; `None` when the source is down or ended.
    async fn next(&mut self) -> Option<Chunk>;
}

/// Counters of a source, for the report and metrics.
#[derive(Debug, Default)]
pub struct SourceStats {
    /// Messages taken in from the source (MQTT messages received).
    pub received: AtomicU64,
    /// Messages a lagging buyer skipped (MQTT feeds only).
    pub skipped: AtomicU64,
    /// The broker acknowledged the subscription (MQTT feeds only).
    pub subscribed: AtomicBool,
}

/// A listing's source, started.
pub enum Source {
    Live {
        tx: broadcast::Sender<Chunk>,
        stats: Arc<SourceStats>,
    },
    Simulated {
        sensor: SensorKind,
        interval: Duration,
        seed: u64,
    },
    File {
        records: Arc<Vec<Bytes>>,
        interval: Duration,
        repeat: bool,
    },
}

impl Source {
    /// Starts a source (an MQTT subscription runs until `shutdown`).
    pub fn start(
        listing: u64,
        cfg: &SourceConfig,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Source, String> {
        Ok(match cfg {
            SourceConfig::Mqtt {
                host,
                port,
                topic,
                client_id,
                qos,
            } => {
                let (tx, _) = broadcast::channel(BROADCAST_BUFFER);
                let stats = Arc::new(SourceStats::default());
                let id = if client_id.is_empty() {
                    format!("wevalue-gateway-{listing}")
                } else {
                    client_id.clone()
                };
                let qos = if *qos == 0 {
                    QoS::AtMostOnce
                } else {
                    QoS::AtLeastOnce
                };
                tokio::spawn(mqtt_loop(
                    MqttOptions::new(id, host.clone(), *port),
                    topic.clone(),
                    qos,
                    tx.clone(),
                    stats.clone(),
                    shutdown,
                ));
                Source::Live { tx, stats }
            }
            SourceConfig::Simulated {
                sensor,
                interval_ms,
                seed,
            } => Source::Simulated {
                sensor: *sensor,
                interval: Duration::from_millis(*interval_ms),
                seed: *seed,
            },
            SourceConfig::File {
                path,
                format,
                interval_ms,
                repeat,
            } => Source::File {
                records: Arc::new(load_file(path, *format)?),
                interval: Duration::from_millis(*interval_ms),
                repeat: *repeat,
            },
        })
    }

    /// A feed for one buyer whose stream has delivered `position` chunks.
    pub fn subscribe(&self, position: u64) -> Box<dyn Feed> {
        match self {
            Source::Live { tx, stats } => Box::new(LiveFeed {
                rx: tx.subscribe(),
                stats: stats.clone(),
            }),
            Source::Simulated {
                sensor,
                interval,
                seed,
            } => Box::new(SimulatedFeed {
                sensor: *sensor,
                rng: seed ^ 0x9e37_79b9_7f4a_7c15,
                n: position,
                interval: *interval,
                next_at: Instant::now(),
            }),
            Source::File {
                records,
                interval,
                repeat,
            } => Box::new(FileFeed {
                records: records.clone(),
                at: position,
                repeat: *repeat,
                interval: *interval,
                next_at: Instant::now(),
            }),
        }
    }

    /// Buyers reading a live feed now, once the broker acknowledged the
    /// subscription (0 before; `None` for other sources).
    pub fn live_subscribers(&self) -> Option<usize> {
        match self {
            Source::Live { tx, stats } => Some(if stats.subscribed.load(Ordering::Relaxed) {
                tx.receiver_count()
            } else {
                0
            }),
            _ => None,
        }
    }

    /// The source's counters (live feeds only).
    pub fn stats(&self) -> Option<Arc<SourceStats>> {
        match self {
            Source::Live { stats, .. } => Some(stats.clone()),
            _ => None,
        }
    }
}

/// Subscribes (again after every reconnection: the session is clean) and
/// broadcasts each message; reconnects with a pause after a failure.
async fn mqtt_loop(
    mut options: MqttOptions,
    topic: String,
    qos: QoS,
    tx: broadcast::Sender<Chunk>,
    stats: Arc<SourceStats>,
    mut shutdown: watch::Receiver<bool>,
) {
    options.set_keep_alive(Duration::from_secs(5));
    options.set_max_packet_size(2 * 1024 * 1024, 64 * 1024);
    let (client, mut events) = AsyncClient::new(options, 64);
    loop {
        let event = tokio::select! {
            _ = shutdown.wait_for(|s| *s) => break,
            e = events.poll() => e,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                debug!(topic, "gateway: MQTT connected, subscribing");
                if let Err(e) = client.try_subscribe(topic.clone(), qos) {
                    warn!(error = %e, topic, "gateway: MQTT subscribe failed");
                }
            }
            Ok(Event::Incoming(Packet::SubAck(_))) => {
                stats.subscribed.store(true, Ordering::Relaxed);
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                stats.received.fetch_add(1, Ordering::Relaxed);
                // No receiver (no buyer) is fine: live data is not kept.
                let _ = tx.send(Chunk {
                    timestamp_ms: unix_ms(),
                    payload: p.payload,
                });
            }
            Ok(_) => {}
            Err(e) => {
                stats.subscribed.store(false, Ordering::Relaxed);
                warn!(error = %e, topic, "gateway: MQTT connection failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    let _ = client.try_disconnect();
}

struct LiveFeed {
    rx: broadcast::Receiver<Chunk>,
    stats: Arc<SourceStats>,
}

#[async_trait]
impl Feed for LiveFeed {
    async fn next(&mut self) -> Option<Chunk> {
        loop {
            match self.rx.recv().await {
                Ok(c) => return Some(c),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    self.stats.skipped.fetch_add(n, Ordering::Relaxed);
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// Waits until `next_at` (cancel-safe: the deadline is kept), then moves it on.
async fn pace(next_at: &mut Instant, interval: Duration) {
    if !interval.is_zero() {
        tokio::time::sleep_until(*next_at).await;
        *next_at = (*next_at + interval).max(Instant::now() - interval);
    }
}

struct SimulatedFeed {
    sensor: SensorKind,
    rng: u64,
    n: u64,
    interval: Duration,
    next_at: Instant,
}

impl SimulatedFeed {
    /// xorshift64*: a deterministic series per seed and position.
    fn random(&mut self) -> f64 {
        let mut x = self
            .rng
            .wrapping_add(self.n.wrapping_mul(0x2545_f491_4f6c_dd1d))
            | 1;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One simulated reading as JSON.
pub fn reading(sensor: SensorKind, n: u64, r: f64, ts: u64) -> String {
    match sensor {
        SensorKind::Pm25 => {
            // A daily-ish wave around 18 µg/m³ with noise.
            let v = 18.0 + 6.0 * ((n as f64) / 60.0).sin() + 4.0 * (r - 0.5);
            format!(r#"{{"sensor":"pm25","n":{n},"ts":{ts},"value":{v:.1},"unit":"ug/m3"}}"#)
        }
        SensorKind::Temperature => {
            let v = 12.0 + 8.0 * ((n as f64) / 90.0).sin() + (r - 0.5);
            format!(r#"{{"sensor":"temperature","n":{n},"ts":{ts},"value":{v:.2},"unit":"C"}}"#)
        }
    }
}

#[async_trait]
impl Feed for SimulatedFeed {
    async fn next(&mut self) -> Option<Chunk> {
        pace(&mut self.next_at, self.interval).await;
        let r = self.random();
        self.n += 1;
        let ts = unix_ms();
        Some(Chunk {
            timestamp_ms: ts,
            payload: Bytes::from(reading(self.sensor, self.n, r, ts)),
        })
    }
}

struct FileFeed {
    records: Arc<Vec<Bytes>>,
    at: u64,
    repeat: bool,
    interval: Duration,
    next_at: Instant,
}

#[async_trait]
impl Feed for FileFeed {
    async fn next(&mut self) -> Option<Chunk> {
        let len = self.records.len() as u64;
        if len == 0 || (!self.repeat && self.at >= len) {
            return None;
        }
        pace(&mut self.next_at, self.interval).await;
        let record = self.records[(self.at % len) as usize].clone();
        self.at += 1;
        Some(Chunk {
            timestamp_ms: unix_ms(),
            payload: record,
        })
    }
}

/// Reads a replay file: JSONL lines (each checked to be JSON) or CSV rows
/// turned into JSON objects keyed by the header (numbers stay numbers).
pub fn load_file(path: &Path, format: FileFormat) -> Result<Vec<Bytes>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = vec![];
    match format {
        FileFormat::Jsonl => {
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                serde_json::from_str::<serde_json::Value>(line)
                    .map_err(|e| format!("{} line {}: {e}", path.display(), i + 1))?;
                out.push(Bytes::from(line.to_string()));
            }
        }
        FileFormat::Csv => {
            let mut lines = text.lines().filter(|l| !l.trim().is_empty());
            let header: Vec<String> = lines
                .next()
                .ok_or_else(|| format!("{}: no header row", path.display()))?
                .split(',')
                .map(|h| h.trim().to_string())
                .collect();
            for (i, line) in lines.enumerate() {
                let cells: Vec<&str> = line.split(',').map(str::trim).collect();
                if cells.len() != header.len() {
                    return Err(format!(
                        "{} row {}: {} cells, the header has {}",
                        path.display(),
                        i + 2,
                        cells.len(),
                        header.len()
                    ));
                }
                let obj: serde_json::Map<String, serde_json::Value> = header
                    .iter()
                    .zip(cells)
                    .map(|(h, c)| {
                        let v = if let Ok(i) = c.parse::<i64>() {
                            serde_json::json!(i)
                        } else {
                            match c.parse::<f64>() {
                                Ok(n) if n.is_finite() => serde_json::json!(n),
                                _ => serde_json::Value::String(c.to_string()),
                            }
                        };
                        (h.clone(), v)
                    })
                    .collect();
                out.push(Bytes::from(serde_json::Value::Object(obj).to_string()));
            }
        }
    }
    Ok(out)
}

/// Publishes `count` simulated PM2.5 readings to an MQTT topic, one every
/// `interval` (the devnet's and the tests' sensor); returns the payloads
/// once the broker acknowledged every one (QoS 1). A broker that cannot be
/// reached is an error.
pub async fn publish_pm25(
    host: &str,
    port: u16,
    topic: &str,
    count: u64,
    interval: Duration,
    seed: u64,
) -> Result<Vec<Bytes>, String> {
    let mut options = MqttOptions::new(format!("wevalue-sensor-{seed}-{}", unix_ms()), host, port);
    options.set_keep_alive(Duration::from_secs(5));
    options.set_inflight(1_000);
    let (client, mut events) = AsyncClient::new(options, 256);
    let (acks_tx, mut acks) = watch::channel(Ok::<u64, String>(0));
    let poller = tokio::spawn(async move {
        let mut n = 0u64;
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => {
                    n += 1;
                    let _ = acks_tx.send(Ok(n));
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = acks_tx.send(Err(format!("MQTT {e}")));
                    return;
                }
            }
        }
    });
    let mut feed = SimulatedFeed {
        sensor: SensorKind::Pm25,
        rng: seed,
        n: 0,
        interval,
        next_at: Instant::now(),
    };
    let mut sent = Vec::with_capacity(count as usize);
    let result = async {
        for _ in 0..count {
            let chunk = feed.next().await.ok_or("simulated feed ended")?;
            if let Err(e) = acks.borrow().as_ref() {
                return Err(e.clone());
            }
            client
                .publish(topic, QoS::AtLeastOnce, false, chunk.payload.clone())
                .await
                .map_err(|e| format!("MQTT publish: {e}"))?;
            sent.push(chunk.payload);
        }
        let all = tokio::time::timeout(
            Duration::from_secs(30),
            acks.wait_for(|a| !matches!(a, Ok(n) if *n < count)),
        )
        .await
        .map_err(|_| format!("MQTT: not every one of {count} publications was acknowledged"))?
        .map_err(|_| "MQTT event loop stopped".to_string())?;
        all.clone().map(|_| ())
    }
    .await;
    let _ = client.try_disconnect();
    poller.abort();
    result.map(|()| sent)
}
