//! The devnet's relayer instances, each with its own account, SQLite file
//! and services:
//!
//! - `city`: the city operator's relayer — the seller's watchtower and
//!   settlement bridge (and, once the seller starts it, the seller's data
//!   gateway), the matching solver and the oracle aggregator;
//! - `oracle-2`, `oracle-3`: oracle observers that sign and serve their
//!   observations to the aggregator;
//! - on a localnet, for the cross-chain steps, `meter-seller`: a seller's
//!   own relayer paying its claims out on the hub (watchtower with an IBC
//!   payout, the settlement bridge and its supervised Hermes; [`super::xchain`]).
//!
//! On the embedded chain an instance runs as tasks of this process
//! ([`super::inproc`]); on a localnet as a separate OS process of the same
//! binary (`relayer run --config <generated toml>`, [`super::process`]).
//! Either way [`Instance::kill`] crashes it (SQLite keeps what was
//! committed) and [`Instance::start`] brings it back on the same file.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

use cosmwasm_std::Uint128;
use serde::Serialize;

use super::inproc::{Contracts, InProcess};
use super::net::Net;
use super::process::{OsProcess, ProcessChain};
use super::timing::Timing;
use super::DevnetError;
use relayer_bridge::BridgeConfig;
use relayer_core::store::Store;
use relayer_gateway::GatewayConfig;
use relayer_oracle::config::{
    FileFormat, KeyConfig, KeySchemeConfig, KeySource, OracleConfig, OracleMode, SourceConfig,
    SourceKind, TemplateRule,
};
use relayer_oracle::metric::Metric;
use relayer_oracle::OracleKey;
use relayer_solver::SolverConfig;
use relayer_watchtower::{PayoutConfig, WatchtowerConfig};

/// What an instance runs.
#[derive(Clone, Debug)]
pub struct Roles {
    /// Watchtower for these payees (empty = none).
    pub watch_payees: Vec<String>,
    /// Run the matching solver.
    pub solver: bool,
    /// Oracle mode and the peers' observation URLs (aggregator).
    pub oracle: Option<(OracleMode, Vec<String>)>,
    /// Pay the signer's own claims out over IBC, followed by the bridge
    /// (localnet only: the embedded chain has no IBC).
    pub ibc_payout: Option<IbcPayout>,
}

/// A seller's payout over IBC: where to, and the Hermes that relays it.
#[derive(Clone, Debug)]
pub struct IbcPayout {
    /// `watchtower.payout` (kind `ibc`).
    pub payout: PayoutConfig,
    /// `[bridge]`, with `[bridge.hermes]`.
    pub bridge: BridgeConfig,
}

/// The services of an instance, as `relayer run` configures them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Services {
    /// `[watchtower]`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watchtower: Option<WatchtowerConfig>,
    /// `[oracle]`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oracle: Option<OracleConfig>,
    /// `[solver]`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solver: Option<SolverConfig>,
    /// `[gateway]`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayConfig>,
    /// `[bridge]` (process instances only)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bridge: Option<BridgeConfig>,
}

/// The name of the oracle source reading the dock stations' log.
pub const DOCK_SOURCE: &str = "dock-log";
/// The simulated meter feeds (the same meters read twice).
pub const METER_SOURCES: [&str; 2] = ["meter-feed-a", "meter-feed-b"];

/// How an instance runs (boxed: the two differ much in size).
enum Runner {
    InProcess(Box<InProcess>),
    Process(Box<OsProcess>),
}

/// What an instance is configured with: its services follow from it.
#[derive(Clone, Debug)]
pub struct InstanceSpec {
    /// Name (`city`, `oracle-2`); also its actor label.
    pub name: String,
    /// What it runs.
    pub roles: Roles,
    /// The run's seed (meter readings, report key labels).
    pub seed: u64,
    /// Durations and cadences of the backend.
    pub timing: Timing,
    /// Where its observations are served (observers and the aggregator).
    pub observations: SocketAddr,
    /// Where its voucher API is served (watchtower).
    pub voucher_api: SocketAddr,
    /// The dock stations' log (the oracle's `dock-log` source).
    pub dock_log: PathBuf,
    /// The data gateway it serves, once the seller starts one.
    pub gateway: Option<GatewayConfig>,
}

/// One relayer instance.
pub struct Instance {
    /// Name (`city`, `oracle-2`); also its actor label.
    pub name: String,
    /// Its account.
    pub account: String,
    /// Its SQLite file.
    pub db: PathBuf,
    /// Where its observations are served (observers and the aggregator).
    pub observations: SocketAddr,
    /// Where its voucher API is served (watchtower).
    pub voucher_api: SocketAddr,
    /// Times this instance was (re)started.
    pub starts: u32,
    spec: InstanceSpec,
    runner: Runner,
}

/// A free loopback port for a server that is stopped and restarted on the same
/// port (crash trials, a reconfigured relayer). Taken below the kernel's
/// ephemeral range: a port the kernel hands out (`bind(0)`) can be taken by
/// an outgoing connection while the server is down, and its restart then
/// fails with "address in use".
pub fn free_port() -> Result<SocketAddr, DevnetError> {
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

pub(crate) fn service(service: &'static str, e: impl std::fmt::Display) -> DevnetError {
    DevnetError::Service {
        service,
        reason: e.to_string(),
    }
}

impl InstanceSpec {
    /// The oracle configuration this instance runs with.
    pub fn oracle_config(&self, mode: OracleMode, peers: Vec<String>) -> OracleConfig {
        let meter = |name: &str| SourceConfig {
            name: name.into(),
            // Two independent feeds of the same physical meters (they
            // agree); the energy rule asks for both.
            kind: SourceKind::SimulatedMeter {
                seed: format!("wevalue-devnet-{}", self.seed),
                time_scale: self.timing.meter_time_scale,
            },
        };
        OracleConfig {
            mode,
            key: Some(KeyConfig {
                scheme: KeySchemeConfig::Secp256k1,
                source: KeySource::DevnetLabel(format!(
                    "devnet-{}-oracle-{}",
                    self.seed, self.name
                )),
            }),
            sources: vec![
                meter(METER_SOURCES[0]),
                meter(METER_SOURCES[1]),
                SourceConfig {
                    name: DOCK_SOURCE.into(),
                    kind: SourceKind::File {
                        path: self.dock_log.clone(),
                        format: FileFormat::Jsonl,
                    },
                },
            ],
            templates: vec![
                TemplateRule {
                    template_id: None,
                    metric_name: Some("kwh_saved".into()),
                    metric: Metric::EnergySaved,
                    units_per_unit: 1_000,
                    sources: METER_SOURCES.iter().map(|s| s.to_string()).collect(),
                    min_sources: 2,
                    agreement_bps: 1_000,
                },
                TemplateRule {
                    template_id: None,
                    metric_name: Some("bikes_moved".into()),
                    metric: Metric::Quantity,
                    units_per_unit: 1,
                    sources: vec![DOCK_SOURCE.into()],
                    min_sources: 1,
                    agreement_bps: 1_000,
                },
            ],
            peers,
            listen: Some(self.observations.to_string()),
            poll_interval_ms: self.timing.service_poll_ms,
            ..OracleConfig::default()
        }
    }

    /// The services this instance runs now.
    pub fn services(&self) -> Services {
        let watchtower = (!self.roles.watch_payees.is_empty()).then(|| WatchtowerConfig {
            enabled: true,
            listen: self.voucher_api,
            payees: self.roles.watch_payees.clone(),
            // Settle once a channel owes 10,000 ustake or its oldest
            // unsettled voucher is 3 s old; a round every second.
            min_amount: Uint128::new(10_000),
            max_age_seconds: 3,
            max_batch: 50,
            poll_interval_ms: self.timing.service_poll_ms,
            settle_interval_seconds: 1,
            payout: self
                .roles
                .ibc_payout
                .as_ref()
                .map_or(PayoutConfig::Local, |i| i.payout.clone()),
            ..WatchtowerConfig::default()
        });
        let solver = self.roles.solver.then(|| SolverConfig {
            poll_interval_secs: 1,
            deadline_margin_secs: self.timing.solver_margin_secs,
            ..SolverConfig::default()
        });
        let oracle = self
            .roles
            .oracle
            .as_ref()
            .map(|(mode, peers)| self.oracle_config(*mode, peers.clone()));
        Services {
            watchtower,
            oracle,
            solver,
            gateway: self.gateway.clone(),
            bridge: self.roles.ibc_payout.as_ref().map(|i| i.bridge.clone()),
        }
    }
}

impl Instance {
    /// Creates the instance (its account is the actor of the same name);
    /// services start with [`Instance::start`].
    pub(crate) async fn new(
        net: &mut Net,
        name: &str,
        state_dir: &Path,
        seed: u64,
        roles: Roles,
    ) -> Result<Self, DevnetError> {
        let account = net.actor(name).await?;
        let db = state_dir.join(format!("{name}.sqlite"));
        let runner = match net.localnet() {
            None => Runner::InProcess(Box::new(InProcess::new(
                net.client(name)?,
                net.reader(name)?,
                Contracts {
                    value_contract: net.contract("value-contract")?,
                    payment_channel: net.contract("payment-channel")?,
                    registry: net.contract("data-registry")?,
                },
                net.metrics.clone(),
            ))),
            Some(l) => Runner::Process(Box::new(OsProcess::new(
                name,
                state_dir,
                ProcessChain::of(l, &net.deployment_file),
                l.mnemonic(name)?,
                &db,
            )?)),
        };
        let spec = InstanceSpec {
            name: name.to_string(),
            roles,
            seed,
            timing: net.timing.clone(),
            observations: free_port()?,
            voucher_api: free_port()?,
            dock_log: super::bikes::dock_log(state_dir),
            gateway: None,
        };
        Ok(Self {
            name: name.to_string(),
            account,
            db,
            observations: spec.observations,
            voucher_api: spec.voucher_api,
            starts: 0,
            spec,
            runner,
        })
    }

    /// The oracle-set entry of this instance (for `set_oracles`): its
    /// account and the public half of its report key.
    pub fn oracle_member(&self) -> Result<value_contract::msg::OracleMemberMsg, DevnetError> {
        let config = self.spec.oracle_config(OracleMode::Observer, vec![]);
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

    /// Serves a data gateway from the next start on (`None`: no gateway).
    pub fn set_gateway(&mut self, gateway: Option<GatewayConfig>) {
        self.spec.gateway = gateway;
    }

    /// The in-process gateway, if this instance runs one in this process.
    pub fn gateway(&self) -> Option<&relayer_gateway::Gateway> {
        match &self.runner {
            Runner::InProcess(p) => p.gateway(),
            Runner::Process(_) => None,
        }
    }

    /// Starts (or restarts) every service of the instance on its SQLite file.
    pub async fn start(&mut self) -> Result<(), DevnetError> {
        if self.is_running() {
            return Ok(());
        }
        let services = self.spec.services();
        match &mut self.runner {
            Runner::InProcess(p) => p.start(&self.db, services).await?,
            Runner::Process(p) => {
                p.start(&self.name, &services, self.spec.timing.patience)
                    .await?
            }
        }
        self.starts += 1;
        // The voucher API is up once its port accepts connections.
        if self.spec.roles.watch_payees.is_empty() {
            return Ok(());
        }
        for _ in 0..500 {
            if tokio::net::TcpStream::connect(self.voucher_api)
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        Err(service(
            "watchtower",
            format!(
                "{}: the voucher API is not up on {}",
                self.name, self.voucher_api
            ),
        ))
    }

    /// Crashes the instance (in process: every task aborted where it
    /// stands; a process: SIGKILL).
    pub async fn kill(&mut self) {
        match &mut self.runner {
            Runner::InProcess(p) => p.kill().await,
            Runner::Process(p) => p.kill().await,
        }
    }

    /// Stops the instance gracefully (services finish their round; a
    /// process gets SIGTERM).
    pub async fn shutdown(&mut self) {
        match &mut self.runner {
            Runner::InProcess(p) => p.shutdown(&self.name).await,
            Runner::Process(p) => p.shutdown(&self.name).await,
        }
    }

    /// Stops gracefully and starts again (with the services configured now).
    pub async fn restart(&mut self) -> Result<(), DevnetError> {
        self.shutdown().await;
        self.start().await
    }

    /// Whether the instance is running.
    pub fn is_running(&self) -> bool {
        match &self.runner {
            Runner::InProcess(p) => p.is_running(),
            Runner::Process(p) => p.is_running(),
        }
    }

    /// Where a process instance logs (none in process).
    pub fn log_file(&self) -> Option<&Path> {
        match &self.runner {
            Runner::InProcess(_) => None,
            Runner::Process(p) => Some(p.log_file()),
        }
    }

    /// The best voucher the watchtower holds for a channel, from its API.
    pub async fn best_voucher(
        &self,
        http: &reqwest::Client,
        channel: u64,
    ) -> Result<Option<u128>, DevnetError> {
        let url = format!("http://{}/v1/channels/{channel}", self.voucher_api);
        let resp = http
            .get(&url)
            .send()
            .await
            .map_err(|e| service("watchtower", format!("{url}: {e}")))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body: serde_json::Value = resp
            .error_for_status()
            .map_err(|e| service("watchtower", format!("{url}: {e}")))?
            .json()
            .await
            .map_err(|e| service("watchtower", format!("{url}: {e}")))?;
        body["best"]["amount"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .map(Some)
            .ok_or_else(|| service("watchtower", format!("{url}: no best amount in {body}")))
    }
}

/// Done outbox entries of an instance whose key starts with `prefix`:
/// (count, gas, highest inclusion height).
pub fn outbox_done(db: &Path, prefix: &str) -> Result<(u64, u64, u64), DevnetError> {
    let t = Store::open(db)?.outbox_done_totals(prefix)?;
    Ok((t.count, t.gas_used, t.max_height))
}

/// (inclusion height, gas) of every transaction an instance has sent and
/// seen included.
pub fn outbox_included(db: &Path) -> Result<Vec<(u64, u64)>, DevnetError> {
    use relayer_core::store::OutboxStatus;
    let store = Store::open(db)?;
    let mut out = vec![];
    for summary in store.outbox_list(Some(OutboxStatus::Done), u32::MAX)? {
        let entry = store.outbox_entry(summary.id)?;
        if let Some(height) = entry.height {
            out.push((height, entry.gas_used.unwrap_or(0)));
        }
    }
    Ok(out)
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
                        ibc_payout: None,
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
                ibc_payout: None,
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

    /// The city operator's instance, to reconfigure it.
    pub fn city_mut(&mut self) -> &mut Instance {
        &mut self.instances[0]
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

    /// Starts every instance (the observers first: the aggregator asks them).
    pub async fn start_all(&mut self) -> Result<(), DevnetError> {
        for i in self.instances.iter_mut().rev() {
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
