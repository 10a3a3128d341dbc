//! A restart between the outbox record and inclusion attests once; the
//! config round-trips through TOML and refuses unknown fields.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_after_the_outbox_recorded_but_before_inclusion_attests_once() {
    // Two oracles must agree, so one attestation leaves the task verifying.
    let env = env(BlockMode::Manual, 2, 2, 1).await;
    let (task_id, households) = env.task_in_verification(&["h1", "h2"]).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("oracle0.sqlite");
    let cfg = config(
        OracleMode::Single,
        0,
        vec![sim("meter", "devnet")],
        rule(1, 0),
    );
    let oracle = oracle_client(&env.chain, 0).await;
    let seq_before = oracle.account_sequence().await.unwrap();
    {
        // Blocks stop; the attestation is recorded, signed and broadcast, and
        // the process dies while it waits for inclusion.
        env.producing.store(false, Ordering::SeqCst);
        let store = Arc::new(Store::open(&db).unwrap());
        let (mut svc, _) = env
            .service_with(
                0,
                store.clone(),
                cfg.clone(),
                OutboxOptions {
                    inclusion_timeout: Duration::from_millis(300),
                    max_attempts: 3,
                    // Fail fast: the test crashes the service while blocks are held.
                    transient_retries: 0,
                    ..OutboxOptions::default()
                },
            )
            .await;
        let r = svc.tick().await.unwrap();
        assert_eq!(r.failures.len(), 1);
        assert!(matches!(r.failures[0].error, OracleError::Outbox(_)));
        let rec = svc.record(task_id).await.unwrap().unwrap();
        assert_eq!(rec.state, TaskState::Submitted);
        assert_eq!(svc.attestation_log(task_id, 1).await.unwrap().len(), 1);
    }
    // The chain includes it while the oracle is down.
    env.chain.produce_block().await.unwrap();
    for h in &households {
        assert_eq!(env.attestations(task_id, h).await.attestations.len(), 1);
    }
    env.producing.store(true, Ordering::SeqCst);

    // Restart on the same file: reconciliation finds the tx, nothing is resent.
    let store = Arc::new(Store::open(&db).unwrap());
    let (mut svc, _) = env.service(0, store, cfg.clone()).await;
    for _ in 0..3 {
        let r = svc.tick().await.unwrap();
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        env.tick_block().await;
    }
    assert_eq!(oracle.account_sequence().await.unwrap(), seq_before + 1);
    let task = env.task(task_id).await;
    for h in &households {
        let att = env.attestations(task_id, h).await;
        assert_eq!(att.attestations.len(), 1);
        assert_eq!(
            att.attestations[0].value.u128(),
            expected_sim("devnet", &task, h)
        );
    }
    let rec = svc.record(task_id).await.unwrap().unwrap();
    assert_eq!(rec.state, TaskState::Done);
    assert!(rec.latency_blocks().unwrap() >= 1);

    // Even with the local record lost, the contract's attestations query stops a second one.
    let (mut fresh, _) = env
        .service(0, Arc::new(Store::open_in_memory().unwrap()), cfg)
        .await;
    let r = fresh.tick().await.unwrap();
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    assert_eq!(
        fresh.record(task_id).await.unwrap().unwrap().state,
        TaskState::Done
    );
    assert_eq!(oracle.account_sequence().await.unwrap(), seq_before + 1);
}

#[tokio::test]
async fn config_round_trips_through_toml_and_rejects_unknown_fields() {
    let toml_text = r#"
        mode = "aggregator"
        peers = ["http://10.0.0.2:7410"]
        listen = "127.0.0.1:7410"
        key = { scheme = "ed25519", source = { devnet_label = "oracle0" } }

        [[sources]]
        name = "meter-api"
        kind = "http"
        url = "http://meters.local/v1/{participant}?from={from}&to={to}"
        value_pointer = "/actual_kwh"
        baseline_pointer = "/baseline_kwh"

        [[sources]]
        name = "sim"
        kind = "simulated_meter"

        [[templates]]
        metric_name = "kwh_saved"
        metric = "energy_saved"
        units_per_unit = 1000
        min_sources = 2

        [http]
        timeout_ms = 2000
    "#;
    let cfg: OracleConfig = toml::from_str(toml_text).unwrap();
    assert_eq!(cfg.mode, OracleMode::Aggregator);
    assert_eq!(cfg.http.timeout_ms, 2000);
    assert_eq!(cfg.http.retries, 3);
    assert_eq!(cfg.rule_for(9, "kwh_saved").unwrap().min_sources, 2);
    assert!(cfg.rule_for(9, "bikes_moved").is_none());
    assert!(matches!(
        &cfg.sources[1].kind,
        SourceKind::SimulatedMeter {
            time_scale: 3600,
            ..
        }
    ));
    let again: OracleConfig = toml::from_str(&toml::to_string(&cfg).unwrap()).unwrap();
    assert_eq!(again, cfg);
    assert!(toml::from_str::<OracleConfig>("mode = \"single\"\nbogus = 1").is_err());
    let bad_source = "[[sources]]\nname = \"s\"\nkind = \"simulated_meter\"\nsede = \"typo\"\n";
    assert!(toml::from_str::<OracleConfig>(bad_source).is_err());
    let good_source = "[[sources]]\nname = \"s\"\nkind = \"simulated_meter\"\nseed = \"x\"\n";
    assert!(toml::from_str::<OracleConfig>(good_source).is_ok());
}
