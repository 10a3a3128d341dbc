//! The daemon end to end on the embedded chain: deploys the spec, serves
//! /health and /metrics, follows events into the stored cursor, and shuts
//! down gracefully.

use std::time::Duration;

use relayer::chain;
use relayer::config::Config;
use relayer::store::Store;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.unwrap();
    let status = buf[9..12].parse().unwrap();
    let body = buf.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
    (status, body)
}

/// A metric's value summed over its label sets (chain, signer, ...).
fn metric(text: &str, name: &str) -> f64 {
    let values: Vec<f64> = text
        .lines()
        .filter(|l| {
            l.starts_with(name) && matches!(l[name.len()..].chars().next(), Some(' ' | '{'))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    assert!(!values.is_empty(), "{name} not in metrics:\n{text}");
    values.iter().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_deploys_follows_serves_metrics_and_shuts_down() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = format!(
        r#"
[telemetry]
port = 0
[state]
path = "{state}"
[chain]
id = "wevalue-daemon"
backend = "embedded"
[chain.embedded]
block_interval_ms = 20
artifacts_dir = "{artifacts}"
[signer]
mnemonic_env = "WEVALUE_TEST_NO_SUCH_VAR"
[events]
poll_interval_ms = 20
start_height = 1
[outbox]
flush_interval_ms = 20
[deploy]
spec = "{spec}"
deployment_file = "{deployment}"
"#,
        state = dir.path().join("state.sqlite").display(),
        artifacts = manifest.join("../artifacts").display(),
        spec = manifest.join("deploy.example.toml").display(),
        deployment = dir.path().join("deployment.json").display(),
    );
    let config = Config::from_toml(&text, "test").unwrap();
    config.validate().unwrap();

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let daemon = tokio::spawn(relayer::daemon::run(
        config,
        async move {
            let _ = stop_rx.await;
        },
        move |running| {
            let _ = ready_tx.send((
                running.telemetry.unwrap(),
                running.chain.clone(),
                running.deployment.clone(),
            ));
        },
    ));
    let (addr, chain, deployment) = tokio::time::timeout(Duration::from_secs(30), ready_rx)
        .await
        .unwrap()
        .unwrap();
    assert!(addr.ip().is_loopback());
    let registry = deployment.address("data-registry").unwrap().to_string();

    let (status, body) = http_get(addr, "/health").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    let (status, _) = http_get(addr, "/nope").await;
    assert_eq!(status, 404);

    // The example deployment curates sellers through the TCR; this test is
    // about following events, so the owner (the deployer) lifts curation.
    chain::execute(
        chain.as_ref(),
        &registry,
        &json!({ "set_curation_registry": { "address": null } }),
        vec![],
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    let listing = json!({ "create_listing": {
        "title": "daemon", "description": "", "category": "energy", "sensor_type": "smart-meter",
        "unit": "kWh", "location": { "latitude": "45.07", "longitude": "7.68" },
        "price": { "asset": { "native": "ustake" }, "amount": "1", "model": "per_message" },
        "metadata_cid": "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
        "endpoint": "wss://meter.example/1", "terms": { "license": "ODbL-1.0", "terms_hash": "01".repeat(32) } } });
    let out = chain::execute(
        chain.as_ref(),
        &registry,
        &listing,
        vec![],
        Duration::from_secs(10),
    )
    .await
    .unwrap();

    // Wait until the follower has passed the tx's block.
    let mut text = String::new();
    for _ in 0..200 {
        text = http_get(addr, "/metrics").await.1;
        if metric(&text, "wevalue_relayer_events_followed_total") >= 3.0
            && metric(&text, "wevalue_relayer_latest_height") >= out.height as f64
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // The instantiations, the config change and the listing, each with a
    // `wasm` event and more.
    assert!(
        metric(&text, "wevalue_relayer_events_followed_total") >= 3.0,
        "{text}"
    );
    assert!(
        metric(&text, "wevalue_relayer_wallet_balance") > 0.0,
        "{text}"
    );
    assert_eq!(metric(&text, "wevalue_relayer_outbox_backlog"), 0.0);
    assert!(text.contains("# TYPE wevalue_relayer_txs_submitted counter"));
    assert!(text.contains("# TYPE wevalue_relayer_tx_latency_seconds histogram"));
    assert!(metric(&text, "wevalue_relayer_event_lag_blocks") <= 2.0);

    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), daemon)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let latest = chain.latest_block().await;
    assert!(
        latest.is_err(),
        "the embedded chain stopped with the daemon"
    );
    // The cursor was persisted on the way out.
    let store = Store::open(dir.path().join("state.sqlite")).unwrap();
    assert!(
        store
            .cursor("wevalue-daemon", "contracts")
            .unwrap()
            .unwrap()
            >= out.height
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "telemetry closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_starts_the_configured_services_and_stops_them() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let voucher_api = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let text = format!(
        r#"
[telemetry]
enabled = false
[state]
path = "{state}"
[chain]
id = "wevalue-services"
backend = "embedded"
[chain.embedded]
block_interval_ms = 20
artifacts_dir = "{artifacts}"
[signer]
mnemonic_env = "WEVALUE_TEST_NO_SUCH_VAR"
[deploy]
spec = "{spec}"
deployment_file = "{deployment}"
[watchtower]
enabled = true
listen = "{voucher_api}"
poll_interval_ms = 20
[oracle]
mode = "single"
poll_interval_ms = 50
[[oracle.sources]]
name = "sim"
kind = "simulated_meter"
[[oracle.templates]]
metric_name = "kwh_saved"
metric = "energy_saved"
[solver]
poll_interval_secs = 1
"#,
        state = dir.path().join("state.sqlite").display(),
        artifacts = manifest.join("../artifacts").display(),
        spec = manifest.join("deploy.example.toml").display(),
        deployment = dir.path().join("deployment.json").display(),
    );
    let config = Config::from_toml(&text, "test").unwrap();
    config.validate().unwrap();
    assert!(config.watchtower.enabled && config.oracle.is_some() && config.solver.is_some());

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let daemon = tokio::spawn(relayer::daemon::run(
        config,
        async move {
            let _ = stop_rx.await;
        },
        move |_| {
            let _ = ready_tx.send(());
        },
    ));
    tokio::time::timeout(Duration::from_secs(30), ready_rx)
        .await
        .unwrap()
        .unwrap();
    // The watchtower's voucher API answers.
    let mut health = (0, String::new());
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(voucher_api).await.is_ok() {
            health = http_get(voucher_api, "/health").await;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(health.0, 200, "{}", health.1);
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), daemon)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(voucher_api).await.is_err(),
        "the voucher API closed with the daemon"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_503_naming_a_service_that_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // The voucher API's port is taken: the watchtower cannot serve and stops.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let text = format!(
        r#"
[telemetry]
port = 0
[state]
path = "{state}"
[chain]
id = "wevalue-health"
backend = "embedded"
[chain.embedded]
block_interval_ms = 20
artifacts_dir = "{artifacts}"
[signer]
mnemonic_env = "WEVALUE_TEST_NO_SUCH_VAR"
[events]
poll_interval_ms = 20
[deploy]
spec = "{spec}"
deployment_file = "{deployment}"
[watchtower]
enabled = true
listen = "{voucher_api}"
poll_interval_ms = 20
"#,
        state = dir.path().join("state.sqlite").display(),
        artifacts = manifest.join("../artifacts").display(),
        spec = manifest.join("deploy.example.toml").display(),
        deployment = dir.path().join("deployment.json").display(),
        voucher_api = taken.local_addr().unwrap(),
    );
    let config = Config::from_toml(&text, "test").unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let daemon = tokio::spawn(relayer::daemon::run(
        config,
        async move {
            let _ = stop_rx.await;
        },
        move |running| {
            let _ = ready_tx.send(running.telemetry.unwrap());
        },
    ));
    let addr = tokio::time::timeout(Duration::from_secs(30), ready_rx)
        .await
        .unwrap()
        .unwrap();
    let mut health = (0, String::new());
    for _ in 0..200 {
        health = http_get(addr, "/health").await;
        if health.0 == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(health.0, 503, "{}", health.1);
    assert!(
        health.1.contains("\"status\":\"unhealthy\""),
        "{}",
        health.1
    );
    assert!(
        health.1.contains("service watchtower stopped"),
        "{}",
        health.1
    );
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), daemon)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn no_test_key_unless_the_embedded_backend_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let base = format!(
        "[state]\npath = \"{}\"\n[signer]\nmnemonic_env = \"WEVALUE_TEST_NO_SUCH_VAR\"\n[chain]\nid = \"wevalue-keys\"\n",
        dir.path().join("s.sqlite").display()
    );
    // `backend` left out: the default is the embedded chain, but without a
    // mnemonic that is a configuration error, not a silent test key.
    let implicit = Config::from_toml(&base, "test").unwrap();
    assert!(!implicit.chain.backend_explicit);
    let err = relayer::daemon::connect(&implicit)
        .await
        .err()
        .expect("refused without a mnemonic");
    assert!(
        err.to_string().contains("WEVALUE_TEST_NO_SUCH_VAR"),
        "{err}"
    );
    // Named explicitly: a test address is fine.
    let explicit = Config::from_toml(&format!("{base}backend = \"embedded\"\n"), "test").unwrap();
    assert!(explicit.chain.backend_explicit);
    let connected = relayer::daemon::connect(&explicit).await.unwrap();
    assert!(connected.is_embedded());
    connected.shutdown();
}
