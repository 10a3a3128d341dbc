//! A relayer instance as tasks of this process (the embedded chain lives
//! here too): the same services `relayer run` starts, on the instance's
//! SQLite file and signer. [`InProcess::kill`] aborts every task at whatever
//! await point it is (in-memory state is lost, as in a crash).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::relayers::{service, Services};
use super::DevnetError;
use relayer_core::chain::{Chain, ChainReader};
use relayer_core::metrics::Metrics;
use relayer_core::outbox::{Outbox, OutboxOptions};
use relayer_core::store::Store;
use relayer_gateway::Gateway;
use relayer_oracle::OracleService;
use relayer_solver::SolverService;
use relayer_watchtower::Watchtower;

/// Outbox options of in-process services: short waits, quick retries.
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

/// The contracts the services work on (deployment addresses).
#[derive(Clone, Debug)]
pub struct Contracts {
    /// `value-contract`.
    pub value_contract: String,
    /// `payment-channel`.
    pub payment_channel: String,
    /// `data-registry`.
    pub registry: String,
}

/// Services running as tasks of this process.
pub struct InProcess {
    client: Arc<dyn Chain>,
    reader: Arc<dyn ChainReader>,
    contracts: Contracts,
    metrics: Arc<Metrics>,
    stop: Option<watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
    gateway: Option<Gateway>,
}

impl InProcess {
    /// An instance signing with `client`, reporting into `metrics`.
    pub fn new(
        client: Arc<dyn Chain>,
        reader: Arc<dyn ChainReader>,
        contracts: Contracts,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            client,
            reader,
            contracts,
            metrics,
            stop: None,
            tasks: vec![],
            gateway: None,
        }
    }

    /// The running gateway, if configured.
    pub fn gateway(&self) -> Option<&Gateway> {
        self.gateway.as_ref()
    }

    /// Whether the services run.
    pub fn is_running(&self) -> bool {
        self.stop.is_some()
    }

    /// Starts every configured service on `db`.
    pub async fn start(&mut self, db: &Path, services: Services) -> Result<(), DevnetError> {
        if services.bridge.is_some() {
            return Err(service(
                "bridge",
                "the embedded chain has no IBC: the settlement bridge runs on a localnet only",
            ));
        }
        let store = Arc::new(Store::open(db)?);
        let (stop, stopped) = watch::channel(false);
        let mut tasks: Vec<JoinHandle<()>> = vec![];
        let reader = self.reader.clone();
        // One outbox for the instance's signer, shared by its services.
        let outbox = Arc::new(
            Outbox::new(
                store.clone(),
                self.client.clone(),
                self.client.chain_id(),
                outbox_options(),
            )
            .with_metrics(self.metrics.clone()),
        );
        // A crash leaves entries mid-flight; `relayer run` reconciles first too.
        outbox.reconcile().await.map_err(|e| service("outbox", e))?;

        let mut sink = None;
        if let Some(config) = services.watchtower {
            let wt = Arc::new(
                Watchtower::new(
                    config,
                    self.contracts.payment_channel.clone(),
                    reader.clone(),
                    store.clone(),
                    outbox.clone(),
                )
                .await
                .map_err(|e| service("watchtower", e))?
                .with_metrics(self.metrics.clone()),
            );
            sink = Some(wt.clone());
            let rx = stopped.clone();
            tasks.push(tokio::spawn(async move {
                if let Err(e) = wt.run(rx).await {
                    tracing::error!(error = %e, "watchtower stopped");
                }
            }));
        }

        if let Some(config) = services.solver {
            let solver = SolverService::new(
                reader.clone(),
                outbox.clone(),
                self.contracts.value_contract.clone(),
                config,
            );
            tasks.push(tokio::spawn(solver.run(stopped.clone())));
        }

        if let Some(mut config) = services.oracle {
            // The observation server is a task of its own here, so a crash
            // aborts it with the rest.
            let listen = config.listen.take();
            let svc = OracleService::new(
                config,
                reader.clone(),
                store.clone(),
                &self.contracts.value_contract,
                outbox.clone(),
            )
            .map_err(|e| service("oracle", e))?
            .with_metrics(self.metrics.clone());
            if let Some(listen) = listen {
                let addr: SocketAddr = listen
                    .parse()
                    .map_err(|e| service("oracle", format!("listen {listen}: {e}")))?;
                let (_, server) = svc
                    .serve_observations(addr, stopped.clone())
                    .map_err(|e| service("oracle", e))?;
                tasks.push(server);
            }
            let rx = stopped.clone();
            tasks.push(tokio::spawn(async move {
                if let Err(e) = svc.run(rx).await {
                    tracing::error!(error = %e, "oracle stopped");
                }
            }));
        }

        self.gateway = None;
        if let Some(config) = services.gateway {
            let sink = sink.ok_or_else(|| service("gateway", "needs the watchtower"))?;
            let key = relayer_gateway::load_key(&config).map_err(|e| service("gateway", e))?;
            let gateway = Gateway::new(
                config,
                reader.clone(),
                sink,
                key,
                &self.contracts.registry,
                &self.contracts.payment_channel,
                stopped.clone(),
            )
            .map_err(|e| service("gateway", e))?;
            let (_, task) = gateway.spawn().await.map_err(|e| service("gateway", e))?;
            tasks.push(task);
            self.gateway = Some(gateway);
        }

        self.stop = Some(stop);
        self.tasks = tasks;
        Ok(())
    }

    /// Crashes: every task is aborted where it stands.
    pub async fn kill(&mut self) {
        self.stop = None;
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        self.gateway = None;
    }

    /// Stops gracefully (services finish their round).
    pub async fn shutdown(&mut self, name: &str) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        for task in self.tasks.drain(..) {
            if tokio::time::timeout(Duration::from_secs(5), &mut Box::pin(task))
                .await
                .is_err()
            {
                tracing::warn!(instance = name, "a service did not stop in time");
            }
        }
        self.gateway = None;
    }
}
