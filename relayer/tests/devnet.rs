//! The main job as a test: the whole smart-city scenario on the embedded
//! chain with the relayer services, once as is and then in 20 seeded trials
//! that kill and restart relayer instances at random points. Every step of
//! the scenario checks its effect on chain (exact balances, one claim of the
//! best voucher, one oracle report per task, the solver's bike matching
//! used, nothing left in the tasks) and the run fails if any service
//! transaction failed on chain, which a duplicated claim or attestation
//! would. The same scenario on a wasmd localnet, with the relayer instances
//! as OS processes, is `ci/devnet-localnet-test.sh`; here the configs those
//! processes are given are checked against the relayer's config parser.

use relayer::devnet::{run, run_with, ChaosOptions, DevnetOptions, Report};

fn options(seed: u64, vouchers: u32) -> (tempfile::TempDir, DevnetOptions) {
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions {
        chain_id: format!("wevalue-devnet-{seed}"),
        seed,
        vouchers,
        state_dir: dir.path().join("state"),
        ..DevnetOptions::default()
    };
    (dir, options)
}

fn change(report: &Report, actor: &str) -> i128 {
    let before = report.before.iter().find(|b| b.actor == actor).unwrap();
    let after = report.after.iter().find(|b| b.actor == actor).unwrap();
    after.amount as i128 - before.amount as i128
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_devnet_scenario_runs_end_to_end() {
    let (_dir, opts) = options(3, 400);
    let (report, running) = run(&opts).await.unwrap();
    running.shutdown().await;
    assert_eq!(report.steps.len(), 17, "{report}");
    assert_eq!(report.crashes, 0);
    // 400 PM2.5 messages at 10 ustake over the gateway, then 25 more
    // vouchers before the stale close.
    let paid = (400 + 25) * 10;
    assert_eq!(change(&report, "buyer"), -paid);
    assert_eq!(change(&report, "air-seller"), paid);
    assert_eq!(change(&report, "meter-seller"), 0);
    let f = &report.figures;
    // Published, delivered, paid and settled agree.
    assert_eq!(
        (
            f.messages_published,
            f.messages_delivered,
            f.messages_paid,
            f.messages_settled
        ),
        (400, 400, 400, 400),
        "{report}"
    );
    // Paid at half the credit window (64 messages): a voucher every 32.
    assert!(f.vouchers_sent >= 400 / 32, "{report}");
    assert_eq!(f.vouchers_settled, f.vouchers_sent + 25);
    assert_eq!(f.stale_closes_defended, 1);
    assert!(f.settlement_txs >= 2, "{report}");
    assert!(f.vouchers_per_sec > 0.0);
    assert!(f.oracle_latency_blocks >= 1);
    assert_eq!(f.oracle_reports, 2, "{report}");
    // Bike rebalancing: the contract's rule would match 8 bikes for
    // 340,000; the solver's 38 bikes for 1,980,000 was used; the van moved
    // 30 bikes and the trailer 7 of its 8, paid 50,000 and 60,000 each.
    assert_eq!(f.bikes_rule, (8, 340_000));
    assert_eq!(f.bikes_matched, (38, 1_980_000));
    assert_eq!(f.bikes_moved_paid, (37, 1_920_000));
    assert_eq!(change(&report, "rider-3"), 1_500_000);
    assert_eq!(change(&report, "rider-4"), 420_000);
    assert_eq!(change(&report, "rider-1"), 0);
    assert_eq!(change(&report, "rider-2"), 0);
    assert_eq!(change(&report, "deployer"), -1_920_000);
    // Sponsors put in 9,000,001; households got it all back (with their
    // bonds) but the rounding dust, which went back to a sponsor.
    let households: i128 = ["house-1", "house-2", "house-3"]
        .iter()
        .map(|h| change(&report, h))
        .sum();
    let sponsors = change(&report, "utility") + change(&report, "brand");
    assert_eq!(households + sponsors, 0, "{report}");
    // Pro-rata rewards round down: at most one unit per household is dust.
    assert!((8_999_997..=9_000_000).contains(&households), "{report}");
    assert!(
        report
            .summary()
            .starts_with("devnet OK on wevalue-devnet-3: 17 steps"),
        "{}",
        report.summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_option_is_refused_with_a_clear_error() {
    let (_dir, opts) = options(1, 3);
    let err = run(&opts).await.err().unwrap();
    assert_eq!(
        err.to_string(),
        "devnet option --vouchers: 3 is too few; at least 10"
    );
}

/// Kill and restart at random points: 20 seeds, up to 4 crashes each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_seeded_crash_trials_lose_nothing_and_duplicate_nothing() {
    let mut crashes = 0;
    for seed in 0..20u64 {
        let (_dir, opts) = options(100 + seed, 150);
        let chaos = ChaosOptions {
            seed,
            crashes: 4,
            per_mille: 250,
        };
        let (report, running) = match run_with(&opts, Some(chaos)).await {
            Ok(r) => r,
            Err(e) => panic!("seed {seed}: {e}"),
        };
        running.shutdown().await;
        let paid = (150 + 25) * 10;
        assert_eq!(change(&report, "buyer"), -paid, "seed {seed}");
        assert_eq!(change(&report, "air-seller"), paid, "seed {seed}");
        assert_eq!(report.figures.stale_closes_defended, 1, "seed {seed}");
        crashes += report.crashes;
    }
    // The schedule did crash things (about 4 per trial).
    assert!(crashes >= 40, "only {crashes} crashes in 20 trials");
}

/// Samples of a metric whose labels contain every `label="value"` given, summed.
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.ok()?;
    buf.split("\r\n\r\n").nth(1).map(str::to_string)
}

/// What `relayer devnet --serve` shows after the run: the instances' work
/// counted in the served registry, labelled by chain, service and kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_shows_the_runs_work_in_labelled_metrics() {
    let (_dir, opts) = options(5, 100);
    let (report, running) = run(&opts).await.unwrap();
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(running.serve(addr, async move {
        let _ = stopped.await;
    }));
    let mut text = String::new();
    for _ in 0..200 {
        if let Some(t) = http_get(addr, "/metrics").await {
            text = t;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let chain = format!("chain=\"{}\"", opts.chain_id);
    let tower = ["service=\"watchtower\"", chain.as_str()];
    let claims = sample(&text, "wevalue_relayer_txs_submitted_total", &tower);
    assert_eq!(claims, report.figures.settlement_txs as f64, "{text}");
    assert!(claims >= 2.0, "{text}");
    assert!(
        sample(&text, "wevalue_relayer_gas_used_total", &tower) > 0.0,
        "{text}"
    );
    let report_tx = sample(
        &text,
        "wevalue_relayer_txs_submitted_total",
        &[
            "service=\"oracle\"",
            "kind=\"submit_report\"",
            chain.as_str(),
        ],
    );
    // One report per task: the energy competition and the bike rebalancing.
    assert_eq!(report_tx, 2.0, "{text}");
    assert_eq!(
        sample(&text, "wevalue_relayer_txs_failed_total", &[chain.as_str()]),
        0.0,
        "{text}"
    );
    // The channel's best voucher, all of it claimed.
    let paid = ((100 + 25) * 10) as f64;
    assert_eq!(
        sample(
            &text,
            "wevalue_relayer_watchtower_voucher_amount",
            &["channel=\"1\""]
        ),
        paid,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "wevalue_relayer_watchtower_unsettled_amount",
            &["channel=\"1\""]
        ),
        0.0,
        "{text}"
    );
    stop.send(()).unwrap();
    assert_eq!(served.await.unwrap().unwrap(), addr);
}

/// The config a localnet relayer process is started with parses and
/// validates as `relayer run` reads it, with every service in it.
#[test]
fn a_relayer_process_config_validates_with_every_service() {
    use relayer::config::{Backend, Config};
    use relayer::devnet::{
        daemon_config, free_port, InstanceSpec, ProcessChain, ProcessFiles, Roles, Timing,
    };
    use relayer::services::gateway::{GatewayConfig, ListingConfig, SourceConfig};
    use relayer::services::oracle::config::OracleMode;

    let dir = tempfile::tempdir().unwrap();
    let spec = InstanceSpec {
        name: "city".into(),
        roles: Roles {
            watch_payees: vec!["wasm19fdxnmf4q3kdfpzsluk4r6z6xr4xequ45hfplt".into()],
            solver: true,
            oracle: Some((
                OracleMode::Aggregator,
                vec!["http://127.0.0.1:12001".into()],
            )),
            // The cross-chain steps' seller: claims paid out on the hub.
            ibc_payout: Some(relayer::devnet::IbcPayout {
                payout: relayer::services::watchtower::PayoutConfig::Ibc {
                    channel: "channel-0".into(),
                    receiver: "wasm1vlqahlkkn5jypd700v585wz4djn7mat0qfkjr7".into(),
                    timeout_seconds: 600,
                },
                bridge: relayer::services::bridge::BridgeConfig {
                    enabled: true,
                    hermes: Some(relayer::services::bridge::HermesConfig {
                        binary: "hermes".into(),
                        config: dir.path().join("hermes.toml"),
                        restart_min_ms: 500,
                        restart_max_ms: 10_000,
                        chain_id: "wevalue-city-1".into(),
                    }),
                    ..Default::default()
                },
            }),
        },
        seed: 7,
        timing: Timing::localnet(),
        observations: free_port().unwrap(),
        voucher_api: free_port().unwrap(),
        dock_log: dir.path().join("dock-log.jsonl"),
        gateway: Some(GatewayConfig {
            enabled: true,
            listen: free_port().unwrap(),
            key_file: dir.path().join("gateway.key"),
            certificate_file: dir.path().join("certificate.json"),
            listings: vec![ListingConfig {
                id: 1,
                source: SourceConfig::Mqtt {
                    host: "127.0.0.1".into(),
                    port: 1883,
                    topic: "turin/porta-nuova/pm25".into(),
                    client_id: String::new(),
                    qos: 1,
                },
            }],
            ..GatewayConfig::default()
        }),
    };
    let chain = ProcessChain {
        exe: "relayer".into(),
        chain_id: "wevalue-city-1".into(),
        rpc: "http://127.0.0.1:26657".into(),
        fee_denom: "ustake".into(),
        gas_price: 0.025,
        deployment_file: dir.path().join("deployment.json"),
    };
    let files = ProcessFiles {
        db: dir.path().join("city.sqlite"),
        mnemonic_file: dir.path().join("city.mnemonic"),
        telemetry: free_port().unwrap(),
    };
    let services = spec.services();
    let text = daemon_config(&chain, &files, &services).unwrap();
    let config = Config::from_toml(&text, "city.toml").unwrap();
    let problems: Vec<String> = config.problems().iter().map(|p| p.to_string()).collect();
    assert!(problems.is_empty(), "{problems:?}\n{text}");
    assert_eq!(config.chain.backend, Backend::Cosmos);
    assert_eq!(config.chain.id, "wevalue-city-1");
    assert_eq!(
        config.signer.mnemonic_file,
        Some(files.mnemonic_file.clone())
    );
    assert_eq!(config.state.path, files.db);
    assert_eq!(config.telemetry.port, files.telemetry.port());
    assert_eq!(config.deploy.deployment_file, chain.deployment_file);
    assert_eq!(config.watchtower, services.watchtower.clone().unwrap());
    assert_eq!(config.oracle, services.oracle.clone());
    assert_eq!(config.solver, services.solver.clone());
    assert_eq!(config.gateway, services.gateway.clone().unwrap());
    assert_eq!(config.bridge, services.bridge.clone().unwrap());
    assert!(matches!(
        config.watchtower.payout,
        relayer::services::watchtower::PayoutConfig::Ibc {
            timeout_seconds: 600,
            ..
        }
    ));
    let oracle = config.oracle.unwrap();
    assert_eq!(oracle.templates.len(), 2);
    assert_eq!(oracle.sources.len(), 3);
    assert_eq!(oracle.listen, Some(spec.observations.to_string()));
    assert_eq!(config.solver.unwrap().deadline_margin_secs, 2);
}

/// The variables that would override a generated config are the ones the
/// relayer reads; the devnet removes them from its processes' environment.
#[test]
fn the_processes_environment_cannot_override_their_config() {
    use relayer::config::{DEFAULT_MNEMONIC_ENV, ENV_MNEMONIC_FILE, ENV_RPC_URL};
    let removed = relayer::devnet::OVERRIDING_ENV;
    for var in [ENV_RPC_URL, ENV_MNEMONIC_FILE, DEFAULT_MNEMONIC_ENV] {
        assert!(removed.contains(&var), "{var} is not removed");
    }
}
