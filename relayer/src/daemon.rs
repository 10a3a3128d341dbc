//! Wiring: connect the configured backend, deploy on the embedded chain,
//! serve metrics, reconcile the outbox, then follow events and flush the
//! outbox until shutdown. Shutdown is graceful: the loop stops between
//! steps, so an event batch is either handled and its cursor stored or not
//! started, and transactions are already durable in the outbox.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use relayer_chain_cosmos::{load_mnemonic, CosmosClient, CosmosOptions, NodeHealth, Signer};
#[cfg(feature = "embedded")]
use relayer_chain_embedded::{EmbeddedChain, EmbeddedOptions};
use relayer_core::chain::{Chain, ChainReader};
use relayer_core::deploy::{deploy_with, DeployReport, DeploySpec, Deployment};
use relayer_core::follow::{EventFilter, EventFollower};
use relayer_core::metrics::{ChainLabels, Metrics, SignerLabels};
use relayer_core::outbox::Outbox;
use relayer_core::store::Store;
use relayer_core::ConfigError;

use crate::config::{Backend as BackendKind, Config};
use crate::error::RelayerError;

/// Resolves once the stop flag is set (or its sender is gone). Returns `()`
/// so no `watch` guard is held across an await.
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// A connected chain.
pub struct Connected {
    /// All capabilities.
    pub chain: Arc<dyn Chain>,
    /// The same client, read-only (queries, status, block events), for the
    /// services that send through the outbox.
    pub reader: Arc<dyn ChainReader>,
    /// The embedded chain's handle, when that is the backend.
    #[cfg(feature = "embedded")]
    pub embedded: Option<EmbeddedChain>,
    /// The Cosmos client, when that is the backend (for its health check).
    pub cosmos: Option<Arc<CosmosClient>>,
}

impl Connected {
    /// Whether the chain runs in this process (the embedded backend).
    pub fn is_embedded(&self) -> bool {
        #[cfg(feature = "embedded")]
        return self.embedded.is_some();
        #[cfg(not(feature = "embedded"))]
        false
    }

    /// Stops the embedded chain (no-op for a remote chain).
    pub fn shutdown(&self) {
        #[cfg(feature = "embedded")]
        if let Some(e) = &self.embedded {
            e.shutdown();
        }
    }
}

/// The signer from the configured mnemonic source.
pub fn load_signer(config: &Config) -> Result<Signer, RelayerError> {
    let mnemonic = load_mnemonic(
        Some(config.signer.mnemonic_env.as_str()).filter(|s| !s.is_empty()),
        config.signer.mnemonic_file.as_deref(),
        "signer.mnemonic_env",
    )?;
    Ok(Signer::from_mnemonic(
        &mnemonic,
        &config.chain.prefix,
        config.signer.account_index,
    )?)
}

/// Connects the configured backend. The embedded chain signs as the
/// mnemonic's address when one is available, else as a fixed test address.
pub async fn connect(config: &Config) -> Result<Connected, RelayerError> {
    match config.chain.backend {
        #[cfg(feature = "embedded")]
        BackendKind::Embedded => connect_embedded(config).await,
        #[cfg(not(feature = "embedded"))]
        BackendKind::Embedded => Err(RelayerError::BackendUnavailable {
            backend: "embedded",
            reason: "build the relayer with its default `embedded` feature",
        }),
        BackendKind::Cosmos => {
            let cosmos = config.chain.cosmos.as_ref().ok_or(ConfigError::Missing {
                field: "chain.cosmos".into(),
                reason: "backend = \"cosmos\" needs a [chain.cosmos] table".into(),
            })?;
            let signer = load_signer(config)?;
            let mut client = CosmosClient::new(
                CosmosOptions {
                    chain_id: config.chain.id.clone(),
                    rpc_url: cosmos.rpc_url.clone(),
                    compat: cosmos.compat,
                    fee_denom: config.chain.fee_denom.clone(),
                    gas_price: cosmos.gas_price,
                    gas_multiplier: cosmos.gas_multiplier,
                    max_gas: cosmos.max_gas,
                    inclusion_timeout: Duration::from_secs(cosmos.inclusion_timeout_secs),
                    poll_interval: Duration::from_millis(cosmos.poll_interval_ms),
                    timeout_blocks: cosmos.timeout_blocks,
                },
                signer,
            )?;
            // Speak the node's dialect, whatever the config guessed.
            let detected = client.detect_compat().await?;
            if detected != cosmos.compat {
                tracing::info!(configured = ?cosmos.compat, ?detected, "using the RPC dialect the node speaks");
            }
            let client = Arc::new(client);
            Ok(Connected {
                chain: client.clone(),
                reader: client.clone(),
                #[cfg(feature = "embedded")]
                embedded: None,
                cosmos: Some(client),
            })
        }
    }
}

/// The embedded chain in this process, signing as the mnemonic's address
/// when one is available, else as a fixed test address.
#[cfg(feature = "embedded")]
async fn connect_embedded(config: &Config) -> Result<Connected, RelayerError> {
    let signer_address = match load_signer(config) {
        Ok(s) => Some(s.address().to_string()),
        // A test address only when the embedded chain was asked for by
        // name: a config that merely left `backend` out must not end up
        // signing with a test key.
        Err(_) if config.chain.backend_explicit => None,
        Err(e) => return Err(e),
    };
    let mut options = EmbeddedOptions {
        chain_id: config.chain.id.clone(),
        prefix: config.chain.prefix.clone(),
        block_mode: config.embedded_block_mode(),
        artifacts_dir: Some(config.chain.embedded.artifacts_dir.clone()),
        gas_limit: config.chain.embedded.gas_limit,
        ..EmbeddedOptions::default()
    };
    let balance = relayer_core::coins::parse_coins(&config.chain.embedded.signer_balance).map_err(
        |reason| ConfigError::Invalid {
            field: "chain.embedded.signer_balance".into(),
            reason,
        },
    )?;
    if let Some(addr) = &signer_address {
        options
            .genesis_balances
            .push((addr.clone(), balance.clone()));
    }
    let chain = EmbeddedChain::start(options)?;
    let address = match signer_address {
        Some(a) => a,
        None => {
            let a = chain.addr_make("relayer").await?;
            chain.fund(&a, balance).await?;
            tracing::warn!(
                address = a,
                "no mnemonic configured: the embedded chain signs as a test address"
            );
            a
        }
    };
    let client = Arc::new(chain.client(address));
    Ok(Connected {
        chain: client.clone(),
        reader: client,
        embedded: Some(chain),
        cosmos: None,
    })
}

/// The deploy journal next to a deployment file (`deployment.journal.sqlite`).
pub fn journal_path(out: &std::path::Path) -> std::path::PathBuf {
    out.with_extension("journal.sqlite")
}

/// Deploys `spec` and writes the deployment file; returns what was done. On
/// a Cosmos chain every step goes through a journal (an outbox in its own
/// SQLite file next to the deployment file) and instances are created with
/// `instantiate2`, so a rerun after a crash creates nothing twice.
pub async fn deploy_to_file(
    config: &Config,
    chain: &Arc<dyn Chain>,
    spec: &DeploySpec,
    out: &std::path::Path,
) -> Result<(Deployment, DeployReport), RelayerError> {
    let previous = Deployment::load(out)?;
    let cosmos = config.chain.backend == BackendKind::Cosmos;
    let journal = if cosmos {
        let store = Arc::new(Store::open(journal_path(out))?);
        let client: Arc<dyn relayer_core::chain::TxClient> = chain.clone();
        let timeout = config
            .chain
            .cosmos
            .as_ref()
            .map(|c| Duration::from_secs(c.inclusion_timeout_secs))
            .unwrap_or(Duration::from_secs(60));
        Some(Outbox::new(
            store,
            client,
            chain.chain_id(),
            config.outbox.options(timeout),
        ))
    } else {
        None
    };
    let (deployment, report) = deploy_with(
        chain.as_ref(),
        spec,
        &config.chain.embedded.artifacts_dir,
        previous.as_ref(),
        cosmos,
        journal.as_ref(),
    )
    .await?;
    deployment.save(out)?;
    Ok((deployment, report))
}

/// The deployment the daemon and passthrough commands use: on the embedded
/// chain the configured spec is deployed first (the chain lives in this
/// process), on a Cosmos chain the deployment file is read.
pub async fn prepare_deployment(
    config: &Config,
    connected: &Connected,
) -> Result<Deployment, RelayerError> {
    let file = &config.deploy.deployment_file;
    if connected.is_embedded() {
        if let Some(spec_path) = &config.deploy.spec {
            let spec = DeploySpec::load(spec_path)?;
            return Ok(deploy_to_file(config, &connected.chain, &spec, file)
                .await?
                .0);
        }
    }
    match Deployment::load(file)? {
        Some(d) if d.chain_id != config.chain.id => Err(RelayerError::DeploymentChainMismatch {
            path: file.display().to_string(),
            found: d.chain_id,
            expected: config.chain.id.clone(),
        }),
        Some(d) => Ok(d),
        None => Ok(Deployment::default()),
    }
}

/// Resolves a contract name (deployment key) or a literal address.
pub fn resolve_contract(deployment: &Deployment, name: &str) -> Result<String, RelayerError> {
    if let Some(addr) = deployment.address(name) {
        return Ok(addr.to_string());
    }
    // A valid bech32 address is accepted as is.
    if bech32::decode(name).is_ok() {
        return Ok(name.to_string());
    }
    Err(RelayerError::NotDeployed {
        name: name.to_string(),
        available: deployment
            .contracts
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Checks the node and the signer (Cosmos backend; `None` for the embedded
/// chain, which has nothing to check).
pub async fn health_check(connected: &Connected) -> Result<Option<NodeHealth>, RelayerError> {
    match &connected.cosmos {
        Some(client) => Ok(Some(client.health_check().await?)),
        None => Ok(None),
    }
}

/// Handle to a running daemon (for tests and the binary).
pub struct Running {
    /// Address `/metrics` and `/health` are served on, if enabled.
    pub telemetry: Option<SocketAddr>,
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// The deployment in use.
    pub deployment: Deployment,
    /// The chain.
    pub chain: Arc<dyn Chain>,
}

/// Runs the daemon until `shutdown` resolves. `on_ready` is called once
/// everything is up (tests use it to find the telemetry port).
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(&Running) + Send,
) -> Result<(), RelayerError> {
    let store = Arc::new(Store::open(&config.state.path)?);
    let connected = connect(&config).await?;
    let result = run_connected(&config, &connected, store, shutdown, on_ready).await;
    connected.shutdown();
    result
}

async fn run_connected(
    config: &Config,
    connected: &Connected,
    store: Arc<Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(&Running) + Send,
) -> Result<(), RelayerError> {
    if let Some(health) = health_check(connected).await? {
        if !health.problems.is_empty() {
            return Err(RelayerError::Unhealthy {
                rpc_url: health.rpc_url,
                problems: health.problems.join("; "),
            });
        }
        tracing::info!(
            chain_id = health.chain_id,
            cometbft = health.cometbft_version,
            height = health.latest_height,
            balance = health.balance,
            "node health check passed"
        );
    }
    let chain = connected.chain.clone();
    let chain_id = chain.chain_id().to_string();
    let metrics = Arc::new(Metrics::new());
    metrics.update_health(|h| h.max_lag_blocks = config.events.max_lag_blocks);
    let deployment = prepare_deployment(config, connected).await?;

    let (stop_tx, mut stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });

    let mut telemetry = None;
    let mut server_task = None;
    if config.telemetry.enabled {
        let addr = SocketAddr::new(config.telemetry.host, config.telemetry.port);
        let mut rx = stop_rx.clone();
        let (bound, server) = relayer_core::metrics::serve(metrics.clone(), addr, async move {
            stopped(&mut rx).await;
        })
        .map_err(|e| RelayerError::Telemetry {
            addr: addr.to_string(),
            reason: e.to_string(),
        })?;
        tracing::info!(%bound, "serving /metrics and /health");
        telemetry = Some(bound);
        server_task = Some(tokio::spawn(server));
    }

    // One outbox for the signer: the daemon's flushes and every service
    // send through it.
    let outbox = Arc::new(
        Outbox::new(
            store.clone(),
            chain.clone(),
            &chain_id,
            config.outbox.options(
                config
                    .chain
                    .cosmos
                    .as_ref()
                    .map(|c| Duration::from_secs(c.inclusion_timeout_secs))
                    .unwrap_or(Duration::from_secs(60)),
            ),
        )
        .with_metrics(metrics.clone()),
    );
    let report = outbox.reconcile().await?;
    tracing::info!(?report, "outbox reconciled");
    let services = start_services(
        config,
        &deployment,
        &connected.reader,
        &store,
        &outbox,
        &metrics,
        &stop_rx,
    )
    .await?;

    // Follow the configured contracts (all deployed ones by default).
    let names: Vec<&String> = if config.events.contracts.is_empty() {
        deployment.contracts.keys().collect()
    } else {
        config.events.contracts.iter().collect()
    };
    let mut addresses = Vec::new();
    for name in names {
        addresses.push(resolve_contract(&deployment, name)?);
    }
    const STREAM: &str = "contracts";
    let start = match store.cursor(&chain_id, STREAM)? {
        Some(c) => c,
        None => match config.events.start_height {
            Some(h) => h.saturating_sub(1),
            None => chain.latest_block().await?.height.saturating_sub(1),
        },
    };
    let mut follower = EventFollower::new(
        EventFilter::contracts(addresses),
        start,
        config.events.max_blocks_per_poll,
    );

    let running = Running {
        telemetry,
        metrics: metrics.clone(),
        deployment: deployment.clone(),
        chain: chain.clone(),
    };
    // Every chain-level series exists from the start (0 until measured).
    let chain_labels = ChainLabels {
        chain: chain_id.clone(),
    };
    let _ = metrics.events_followed.get_or_create(&chain_labels);
    let _ = metrics.latest_height.get_or_create(&chain_labels);
    let _ = metrics.event_lag_blocks.get_or_create(&chain_labels);
    metrics.set_ready(true);
    on_ready(&running);
    tracing::info!(
        chain_id,
        cursor = start,
        contracts = deployment.contracts.len(),
        "relayer running"
    );

    let mut events_tick =
        tokio::time::interval(Duration::from_millis(config.events.poll_interval_ms));
    let mut outbox_tick =
        tokio::time::interval(Duration::from_millis(config.outbox.flush_interval_ms));
    events_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    outbox_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stopped(&mut stop_rx) => break,
            _ = events_tick.tick() => {
                let dead: Vec<String> = services
                    .iter()
                    .filter(|(_, task)| task.is_finished())
                    .map(|(name, _)| name.to_string())
                    .collect();
                metrics.update_health(|h| h.dead_services = dead);
                match follower.next_batch(chain.as_ref()).await {
                    Ok(batch) => {
                        for e in &batch.events {
                            tracing::info!(height = e.height, contract = e.contract, ty = e.event.ty,
                                action = e.event.attr("action").unwrap_or(""), "contract event");
                        }
                        let chain_labels = ChainLabels { chain: chain_id.clone() };
                        metrics.events_followed.get_or_create(&chain_labels).inc_by(batch.events.len() as u64);
                        metrics.latest_height.get_or_create(&chain_labels).set(batch.latest as i64);
                        metrics.event_lag_blocks.get_or_create(&chain_labels)
                            .set(batch.latest.saturating_sub(batch.cursor) as i64);
                        metrics.event_gap_blocks.get_or_create(&chain_labels).inc_by(batch.gap_blocks);
                        metrics.update_health(|h| {
                            h.rpc_error = None;
                            h.lag_blocks = batch.latest.saturating_sub(batch.cursor);
                        });
                        if batch.cursor > follower.cursor() {
                            let (id, cursor) = (chain_id.clone(), batch.cursor);
                            store.blocking(move |s| s.set_cursor(&id, STREAM, cursor)).await?;
                        }
                        // Handled (logged, counted) and stored: move on.
                        follower.commit(&batch);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "event poll failed; retrying");
                        if matches!(e, relayer_core::ChainError::Rpc(_) | relayer_core::ChainError::ChainStopped) {
                            metrics.update_health(|h| h.rpc_error = Some(e.to_string()));
                        }
                    }
                }
                match chain.balance(chain.sender(), &config.chain.fee_denom).await {
                    Ok(b) => {
                        metrics.wallet_balance.get_or_create(&SignerLabels {
                            chain: chain_id.clone(),
                            signer: chain.sender().to_string(),
                        }).set(b as f64);
                    }
                    Err(e) => tracing::debug!(error = %e, "balance query failed"),
                }
            }
            _ = outbox_tick.tick() => {
                if let Err(e) = outbox.flush().await {
                    tracing::warn!(error = %e, "outbox flush failed");
                }
            }
        }
    }
    tracing::info!(cursor = follower.cursor(), "shutting down");
    metrics.set_ready(false);
    for (name, task) in services {
        match tokio::time::timeout(Duration::from_secs(10), task).await {
            Ok(_) => tracing::info!(service = name, "stopped"),
            Err(_) => tracing::warn!(service = name, "did not stop in 10 s"),
        }
    }
    let cursor = follower.cursor();
    store
        .blocking(move |s| s.set_cursor(&chain_id, STREAM, cursor))
        .await?;
    if let Some(task) = server_task {
        let _ = task.await;
    }
    Ok(())
}

/// Starts the configured services (watchtower, oracle, solver, gateway,
/// bridge) on the daemon's store and shutdown signal; returns their tasks.
/// Each reads the chain through the read-only capabilities and sends only
/// through the signer's outbox: no service holds a client that can sign.
async fn start_services(
    config: &Config,
    deployment: &Deployment,
    reader: &Arc<dyn ChainReader>,
    store: &Arc<Store>,
    outbox: &Arc<Outbox>,
    metrics: &Arc<Metrics>,
    stop: &watch::Receiver<bool>,
) -> Result<Vec<(&'static str, tokio::task::JoinHandle<()>)>, RelayerError> {
    use relayer_oracle::OracleService;
    use relayer_solver::SolverService;
    use relayer_watchtower::Watchtower;
    let service_err = |service: &'static str, e: &dyn std::fmt::Display| RelayerError::Service {
        service,
        reason: e.to_string(),
    };
    let mut tasks = vec![];
    let mut sink: Option<Arc<dyn relayer_core::vouchers::VoucherSink>> = None;
    if config.watchtower.enabled {
        let contract = if config.watchtower.contract.is_empty() {
            resolve_contract(deployment, "payment-channel")?
        } else {
            config.watchtower.contract.clone()
        };
        let wt = Arc::new(
            Watchtower::new(
                config.watchtower.clone(),
                contract,
                reader.clone(),
                store.clone(),
                outbox.clone(),
            )
            .await
            .map_err(|e| service_err("watchtower", &e))?
            .with_metrics(metrics.clone()),
        );
        sink = Some(wt.clone());
        let rx = stop.clone();
        tasks.push((
            "watchtower",
            tokio::spawn(async move {
                if let Err(e) = wt.run(rx).await {
                    tracing::error!(error = %e, "watchtower stopped");
                }
            }),
        ));
    }
    if let Some(oracle) = &config.oracle {
        let contract = resolve_contract(deployment, "value-contract")?;
        let svc = OracleService::new(
            oracle.clone(),
            reader.clone(),
            store.clone(),
            &contract,
            outbox.clone(),
        )
        .map_err(|e| service_err("oracle", &e))?
        .with_metrics(metrics.clone());
        let rx = stop.clone();
        tasks.push((
            "oracle",
            tokio::spawn(async move {
                if let Err(e) = svc.run(rx).await {
                    tracing::error!(error = %e, "oracle stopped");
                }
            }),
        ));
    }
    if let Some(solver) = config.solver.as_ref().filter(|s| s.enabled) {
        let contract = resolve_contract(deployment, "value-contract")?;
        let svc = SolverService::new(reader.clone(), outbox.clone(), contract, solver.clone());
        tasks.push(("solver", tokio::spawn(svc.run(stop.clone()))));
    }
    if config.gateway.enabled {
        use relayer_gateway::Gateway;
        let gw_config = &config.gateway;
        let sink = sink.ok_or_else(|| {
            service_err(
                "gateway",
                &"needs the watchtower (its voucher store) enabled",
            )
        })?;
        let registry = if gw_config.registry.is_empty() {
            resolve_contract(deployment, "data-registry")?
        } else {
            gw_config.registry.clone()
        };
        let channels = if gw_config.payment_channel.is_empty() {
            resolve_contract(deployment, "payment-channel")?
        } else {
            gw_config.payment_channel.clone()
        };
        let key = relayer_gateway::load_key(gw_config).map_err(|e| service_err("gateway", &e))?;
        let gateway = Gateway::new(
            gw_config.clone(),
            reader.clone(),
            sink,
            key,
            &registry,
            &channels,
            stop.clone(),
        )
        .map_err(|e| service_err("gateway", &e))?;
        let (addr, task) = gateway
            .spawn()
            .await
            .map_err(|e| service_err("gateway", &e))?;
        tracing::info!(%addr, "gateway: listening");
        tasks.push(("gateway", task));
    }
    if config.bridge.enabled {
        use relayer_bridge::Bridge;
        let contract = if config.bridge.contract.is_empty() {
            resolve_contract(deployment, "payment-channel")?
        } else {
            config.bridge.contract.clone()
        };
        let bridge = Arc::new(
            Bridge::new(
                config.bridge.clone(),
                contract,
                reader.clone(),
                store.clone(),
            )
            .await
            .map_err(|e| service_err("bridge", &e))?
            .with_metrics(metrics.clone())
            .with_hermes(),
        );
        let rx = stop.clone();
        tasks.push((
            "bridge",
            tokio::spawn(async move {
                if let Err(e) = bridge.run(rx).await {
                    tracing::error!(error = %e, "bridge stopped");
                }
            }),
        ));
    }
    for (name, _) in &tasks {
        tracing::info!(service = name, "service started");
    }
    Ok(tasks)
}
