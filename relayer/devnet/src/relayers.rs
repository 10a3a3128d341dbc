//! The devnet's relayer instances. Each has its own account, its own SQLite
//! file and its own services, like a separate process:
//!
//! - `city`: the city operator's relayer — the seller's watchtower and
//!   settlement bridge, the matching solver and the oracle aggregator;
//! - `oracle-2`, `oracle-3`: oracle observers that sign and serve their
//!   observations to the aggregator.
//!
//! [`Instance::kill`] aborts every task of an instance at whatever await
//! point it is (in-memory state is lost, as in a crash; SQLite keeps what
//! was committed) and [`Instance::start`] brings it back on the same file.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cosmwasm_std::Uint128;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::net::Net;
use super::DevnetError;
use relayer_chain_embedded::EmbeddedClient;
use relayer_core::chain::ChainReader;
use relayer_core::metrics::Metrics;
use relayer_core::outbox::{Outbox, OutboxOptions};
use relayer_core::store::Store;
use relayer_oracle::config::{
    KeyConfig, KeySchemeConfig, KeySource, OracleConfig, OracleMode, SourceConfig, SourceKind,
    TemplateRule,
};
use relayer_oracle::metric::Metric;
use relayer_oracle::{OracleKey, OracleService};
use relayer_solver::{SolverConfig, SolverService};
use relayer_watchtower::{Watchtower, WatchtowerConfig};

/// What an instance runs.
#[derive(Clone, Debug)]
pub struct Roles {
    /// Watchtower for these payees (empty = none).
    pub watch_payees: Vec<String>,
    /// Run the matching solver.
    pub solver: bool,
    /// Oracle mode and the peers' observation URLs (aggregator).
    pub oracle: Option<(OracleMode, Vec<String>)>,
}

/// Service cadence in the devnet: fast, so the scenario is quick.
pub const POLL_MS: u64 = 25;

/// One relayer instance.
pub struct Instance {
    /// Name (`city`, `oracle-2`).
    pub name: String,
    /// Its account.
    pub account: String,
    /// Its SQLite file.
    pub db: PathBuf,
    /// Its oracle key label (devnet keys).
    pub oracle_key: String,
    /// Where its observations are served (observers and the aggregator).
    pub observations: SocketAddr,
    /// Where its voucher API is served (watchtower).
    pub voucher_api: SocketAddr,
    roles: Roles,
    client: Arc<EmbeddedClient>,
    value_contract: String,
    payment_channel: String,
    seed: u64,
    stop: Option<watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
    /// The live watchtower, if this instance runs one.
    pub watchtower: Option<Arc<Watchtower<EmbeddedClient>>>,
    /// The live oracle's latencies source (its store), for the report.
    store: Option<Arc<Store>>,
    /// Times this instance was (re)started.
    pub starts: u32,
    /// The process's metrics, shared by every instance (what `--serve` shows).
    metrics: Arc<Metrics>,
}

/// A free loopback port for a server that is stopped and restarted on the same
/// port by the chaos trials. Taken below the kernel's ephemeral range: a port
/// the kernel hands out (`bind(0)`) can be taken by an outgoing connection
/// while the server is down, and its restart then fails with "address in use".
fn free_port() -> Result<SocketAddr, DevnetError> {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let (low, high) = (10_000u16, ephemeral_low.max(10_001));
    // Start at a point that differs between processes and calls, then probe.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let salt = std::process::id()
        .wrapping_mul(2_654_435_761)
        .wrapping_add(NEXT.fetch_add(7_919, std::sync::atomic::Ordering::Relaxed));
    let span = u32::from(high - low);
    for i in 0..span {
        let port = low + ((salt.wrapping_add(i)) % span) as u16;
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            return listener.local_addr().map_err(|source| DevnetError::Io {
                path: format!("127.0.0.1:{port}"),
                source,
            });
        }
    }
    Err(DevnetError::Io {
        path: format!("127.0.0.1:{low}-{high}"),
        source: std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            "no free loopback port below the ephemeral range",
        ),
    })
}

fn service(service: &'static str, e: impl std::fmt::Display) -> DevnetError {
    DevnetError::Service {
        service,
        reason: e.to_string(),
    }
}

/// Outbox options of the devnet's services: short waits, quick retries.
pub fn outbox_options() -> OutboxOptions {
    OutboxOptions {
        inclusion_timeout: Duration::from_secs(10),
        max_attempts: 5,
        transient_retries: 5,
        retry_initial_delay: Duration::from_millis(20),
        retry_max_delay: Duration::from_millis(500),
        ..OutboxOptions::default()
    }
}

impl Instance {
    /// Creates (and funds) the instance's account; services start with [`Instance::start`].
    pub async fn new(
        net: &mut Net,
        name: &str,
        state_dir: &Path,
        seed: u64,
        roles: Roles,
    ) -> Result<Self, DevnetError> {
        let account = net.actor(&format!("relayer-{name}")).await?;
        Ok(Self {
            name: name.to_string(),
            db: state_dir.join(format!("{name}.sqlite")),
            oracle_key: format!("devnet-{seed}-oracle-{name}"),
            observations: free_port()?,
            voucher_api: free_port()?,
            client: Arc::new(net.chain.client(account.clone())),
            account,
            roles,
            value_contract: net.contract("value-contract")?,
            payment_channel: net.contract("payment-channel")?,
            seed,
            stop: None,
            tasks: vec![],
            watchtower: None,
            store: None,
            starts: 0,
            metrics: net.metrics.clone(),
        })
    }

    /// The oracle configuration this instance runs with.
    pub fn oracle_config(&self, mode: OracleMode, peers: Vec<String>) -> OracleConfig {
        OracleConfig {
            mode,
            key: Some(KeyConfig {
                scheme: KeySchemeConfig::Secp256k1,
                source: KeySource::DevnetLabel(self.oracle_key.clone()),
            }),
            // Two independent meter feeds (same physical meters, so they
            // agree), and the template asks for both.
            sources: vec![
                SourceConfig {
                    name: "meter-feed-a".into(),
                    kind: SourceKind::SimulatedMeter {
                        seed: format!("wevalue-devnet-{}", self.seed),
                        time_scale: 1,
                    },
                },
                SourceConfig {
                    name: "meter-feed-b".into(),
                    kind: SourceKind::SimulatedMeter {
                        seed: format!("wevalue-devnet-{}", self.seed),
                        time_scale: 1,
                    },
                },
            ],
            templates: vec![TemplateRule {
                template_id: None,
                metric_name: Some("kwh_saved".into()),
                metric: Metric::EnergySaved,
                units_per_unit: 1_000,
                sources: vec![],
                min_sources: 2,
                agreement_bps: 1_000,
            }],
            peers,
            listen: None,
            poll_interval_ms: POLL_MS,
            inclusion_timeout_secs: 10,
            ..OracleConfig::default()
        }
    }

    /// The oracle-set entry of this instance (for `set_oracles`): its
    /// account and the public half of its report key.
    pub fn oracle_member(&self) -> Result<value_contract::msg::OracleMemberMsg, DevnetError> {
        let config = self.oracle_config(OracleMode::Observer, vec![]);
        let key = config
            .key
            .as_ref()
            .ok_or_else(|| service("oracle", "no report key configured"))?;
        let key = OracleKey::load(key).map_err(|e| service("oracle", e))?;
        Ok(value_contract::msg::OracleMemberMsg {
            address: self.account.clone(),
            pubkey: cosmwasm_std::Binary::from(key.public_key()),
            scheme: key.scheme(),
        })
    }

    /// Starts (or restarts) every service of the instance on its SQLite file.
    pub async fn start(&mut self) -> Result<(), DevnetError> {
        if self.stop.is_some() {
            return Ok(());
        }
        let store = Arc::new(Store::open(&self.db)?);
        let (stop, stopped) = watch::channel(false);
        let mut tasks: Vec<JoinHandle<()>> = vec![];
        // One outbox for the instance's signer, shared by its services.
        let outbox = Arc::new(
            Outbox::new(
                store.clone(),
                self.client.clone(),
                relayer_core::chain::ChainStatus::chain_id(self.client.as_ref()),
                outbox_options(),
            )
            .with_metrics(self.metrics.clone()),
        );

        if !self.roles.watch_payees.is_empty() {
            let config = WatchtowerConfig {
                enabled: true,
                listen: self.voucher_api,
                contract: self.payment_channel.clone(),
                payees: self.roles.watch_payees.clone(),
                // Settle once a channel owes 10,000 ustake or its oldest
                // unsettled voucher is 3 s old; a round every second.
                min_amount: Uint128::new(10_000),
                max_age_seconds: 3,
                max_batch: 50,
                poll_interval_ms: POLL_MS,
                settle_interval_seconds: 1,
                ..WatchtowerConfig::default()
            };
            let wt = Arc::new(
                Watchtower::new(
                    config,
                    self.payment_channel.clone(),
                    self.client.clone(),
                    store.clone(),
                    outbox.clone(),
                )
                .await
                .map_err(|e| service("watchtower", e))?
                .with_metrics(self.metrics.clone()),
            );
            self.watchtower = Some(wt.clone());
            let rx = stopped.clone();
            tasks.push(tokio::spawn(async move {
                if let Err(e) = wt.run(rx).await {
                    tracing::error!(error = %e, "watchtower stopped");
                }
            }));
        }

        if self.roles.solver {
            let solver = SolverService::new(
                self.client.clone(),
                outbox.clone(),
                self.value_contract.clone(),
                SolverConfig {
                    poll_interval_secs: 1,
                    ..SolverConfig::default()
                },
            );
            let rx = stopped.clone();
            tasks.push(tokio::spawn(solver.run(rx)));
        }

        if let Some((mode, peers)) = &self.roles.oracle {
            let svc = OracleService::new(
                self.oracle_config(*mode, peers.clone()),
                self.client.clone() as Arc<dyn ChainReader>,
                store.clone(),
                &self.value_contract,
                outbox.clone(),
            )
            .map_err(|e| service("oracle", e))?
            .with_metrics(self.metrics.clone());
            let (_, server) = svc
                .serve_observations(self.observations, stopped.clone())
                .map_err(|e| service("oracle", e))?;
            tasks.push(server);
            let rx = stopped.clone();
            tasks.push(tokio::spawn(async move {
                if let Err(e) = svc.run(rx).await {
                    tracing::error!(error = %e, "oracle stopped");
                }
            }));
        }

        self.store = Some(store);
        self.stop = Some(stop);
        self.tasks = tasks;
        self.starts += 1;
        // The voucher API is up once its port accepts connections.
        if self.watchtower.is_some() {
            for _ in 0..200 {
                if tokio::net::TcpStream::connect(self.voucher_api)
                    .await
                    .is_ok()
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        Ok(())
    }

    /// Crashes the instance: every task is aborted where it stands.
    pub async fn kill(&mut self) {
        self.stop = None;
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        self.watchtower = None;
        self.store = None;
    }

    /// Stops the instance gracefully (services finish their round).
    pub async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        for task in self.tasks.drain(..) {
            if tokio::time::timeout(Duration::from_secs(5), &mut Box::pin(task))
                .await
                .is_err()
            {
                tracing::warn!(instance = self.name, "a service did not stop in time");
            }
        }
        self.watchtower = None;
        self.store = None;
    }

    /// Whether the instance is running.
    pub fn is_running(&self) -> bool {
        self.stop.is_some()
    }
}

/// Done outbox entries of an instance whose key starts with `prefix`:
/// (count, gas, highest inclusion height).
pub fn outbox_done(db: &Path, prefix: &str) -> Result<(u64, u64, u64), DevnetError> {
    let t = Store::open(db)?.outbox_done_totals(prefix)?;
    Ok((t.count, t.gas_used, t.max_height))
}
/// The three instances of the devnet.
pub struct Relayers {
    /// `city`, `oracle-2`, `oracle-3`.
    pub instances: Vec<Instance>,
}

impl Relayers {
    /// Creates the instances (not started).
    pub async fn new(net: &mut Net, state_dir: &Path, seed: u64) -> Result<Self, DevnetError> {
        let seller = net.addr("air-seller")?;
        let mut observers = vec![];
        for name in ["oracle-2", "oracle-3"] {
            observers.push(
                Instance::new(
                    net,
                    name,
                    state_dir,
                    seed,
                    Roles {
                        watch_payees: vec![],
                        solver: false,
                        oracle: Some((OracleMode::Observer, vec![])),
                    },
                )
                .await?,
            );
        }
        let peers = observers
            .iter()
            .map(|o| format!("http://{}", o.observations))
            .collect();
        let city = Instance::new(
            net,
            "city",
            state_dir,
            seed,
            Roles {
                watch_payees: vec![seller],
                solver: true,
                oracle: Some((OracleMode::Aggregator, peers)),
            },
        )
        .await?;
        let mut instances = vec![city];
        instances.extend(observers);
        Ok(Self { instances })
    }

    /// The city operator's instance.
    pub fn city(&self) -> &Instance {
        &self.instances[0]
    }

    /// Outbox entries of every instance that failed for good.
    pub fn failed_service_txs(&self) -> Result<u64, DevnetError> {
        let mut failed = 0;
        for i in &self.instances {
            if i.db.exists() {
                failed += Store::open(&i.db)?.outbox_failed_count()?;
            }
        }
        Ok(failed)
    }

    /// Starts every instance.
    pub async fn start_all(&mut self) -> Result<(), DevnetError> {
        for i in &mut self.instances {
            i.start().await?;
        }
        Ok(())
    }

    /// Kills every instance.
    pub async fn kill_all(&mut self) {
        for i in &mut self.instances {
            i.kill().await;
        }
    }

    /// Stops every instance gracefully.
    pub async fn shutdown_all(&mut self) {
        for i in &mut self.instances {
            i.shutdown().await;
        }
    }
}
