//! Attesting: a single oracle's exact values and latency in blocks, and an
//! aggregator's one 2-of-3 report that ignores a disagreeing peer.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_oracle_attests_exact_values_and_measures_latency_in_blocks() {
    // Blocks every 50 ms; the service runs its own loop (poll 100 ms).
    let env = env(BlockMode::Manual, 1, 1, 1).await;
    let (task_id, households) = env.task_in_verification(&["h1", "h2", "h3"]).await;
    let task = env.task(task_id).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let (svc, _) = env
        .service(
            0,
            store.clone(),
            config(
                OracleMode::Single,
                0,
                vec![sim("meter", "devnet")],
                rule(1, 0),
            ),
        )
        .await;
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(svc.run(stopped));
    let deadline = Instant::now() + TIMEOUT;
    while env.task(task_id).await.status != TaskStatus::Disputable {
        assert!(
            Instant::now() < deadline,
            "the oracle never proved the task"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap().unwrap();

    let oracle = oracle_client(&env.chain, 0).await;
    let mut total = 0;
    for h in &households {
        let want = expected_sim("devnet", &task, h);
        assert!(want > 0, "a household saved something");
        let att = env.attestations(task_id, h).await;
        assert_eq!(att.accepted, Some(Uint128::new(want)));
        assert_eq!(att.attestations.len(), 1);
        assert_eq!(att.attestations[0].oracle.as_str(), oracle.sender());
        assert_eq!(att.attestations[0].value.u128(), want);
        assert!(att.attestations[0].evidence_cid.starts_with("bafkrei"));
        total += want;
    }
    let task = env.task(task_id).await;
    assert_eq!(task.value_total.u128(), total);
    assert_eq!(task.final_count, 3);

    // The latency: blocks from the one that crossed the execution deadline
    // to the one that included the attestation.
    let (svc, _) = env
        .service(
            0,
            store.clone(),
            config(OracleMode::Single, 0, vec![], rule(1, 0)),
        )
        .await;
    let rec = svc.record(task_id).await.unwrap().unwrap();
    assert_eq!(rec.state, TaskState::Done);
    let latency = rec.latency_blocks().unwrap();
    assert!(rec.verifying_height <= rec.seen_height);
    assert!((1..=10).contains(&latency), "latency {latency} blocks");
    assert_eq!(svc.latencies().await.unwrap(), vec![(task_id, latency)]);
    // The entry height really is the first block past the deadline.
    let entered = env
        .deployer
        .block_events(rec.verifying_height)
        .await
        .unwrap();
    let before = env
        .deployer
        .block_events(rec.verifying_height - 1)
        .await
        .unwrap();
    let deadline = task.terms.execution_deadline.nanos();
    assert!(entered.time_nanos >= deadline && before.time_nanos < deadline);
    println!(
        "ORACLE LATENCY single (blocks 50 ms, poll 100 ms): {latency} blocks (entered {} → included {})",
        rec.verifying_height,
        rec.included_height.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregator_submits_one_two_of_three_report_ignoring_a_disagreeing_peer() {
    let env = env(BlockMode::OnDemand, 3, 2, 1).await;
    let (task_id, households) = env.task_in_verification(&["h1", "h2"]).await;
    let task = env.task(task_id).await;
    let (stop, stopped) = watch::channel(false);
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();

    // Observers: oracle1 reads the same meter, oracle2 a differently seeded
    // one (an honest-looking but different report).
    let (mut b, _) = env
        .service(
            1,
            Arc::new(Store::open_in_memory().unwrap()),
            config(
                OracleMode::Observer,
                1,
                vec![sim("meter", "devnet")],
                rule(1, 0),
            ),
        )
        .await;
    let (mut c, _) = env
        .service(
            2,
            Arc::new(Store::open_in_memory().unwrap()),
            config(
                OracleMode::Observer,
                2,
                vec![sim("meter", "tampered")],
                rule(1, 0),
            ),
        )
        .await;
    let (b_addr, _) = b.serve_observations(any, stopped.clone()).unwrap();
    let (c_addr, _) = c.serve_observations(any, stopped.clone()).unwrap();
    let mut agg_cfg = config(
        OracleMode::Aggregator,
        0,
        vec![sim("meter", "devnet")],
        rule(1, 0),
    );
    agg_cfg.peers = vec![format!("http://{c_addr}"), format!("http://{b_addr}")];
    agg_cfg.http.retries = 0;
    let a_store = Arc::new(Store::open_in_memory().unwrap());
    let (mut a, a_client) = env.service(0, a_store.clone(), agg_cfg.clone()).await;

    // Before the observers measured, the aggregator has only its own.
    let r = a.tick().await.unwrap();
    assert_eq!(r.failures.len(), 1);
    assert!(matches!(
        r.failures[0].error,
        OracleError::NotEnoughObservations {
            have: 1,
            need: 2,
            ..
        }
    ));
    assert_eq!(b.tick().await.unwrap().measured, 1);
    assert_eq!(c.tick().await.unwrap().measured, 1);
    let r = a.tick().await.unwrap();
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    assert_eq!(r.included, 1);

    for h in &households {
        let want = expected_sim("devnet", &task, h);
        let m: value_contract::msg::MatchingResponse = query_smart(
            &env.deployer,
            &env.contract,
            &QueryMsg::Matching {
                task_id,
                start_after: None,
                limit: None,
            },
        )
        .await
        .unwrap();
        let slot = m
            .slots
            .iter()
            .find(|s| s.participant.as_str() == h)
            .unwrap();
        assert_eq!(slot.value, Some(Uint128::new(want)));
        assert_ne!(want, expected_sim("tampered", &task, h));
    }
    let after = env.task(task_id).await;
    assert_eq!(after.last_report_round, 1);
    assert_eq!(after.status, TaskStatus::Disputable);

    // Exactly the two agreeing signers; only the aggregator sent a tx.
    let rec = a.record(task_id).await.unwrap().unwrap();
    assert_eq!((rec.state, rec.round), (TaskState::Done, Some(1)));
    let entry = a_store
        .outbox_by_key(rec.outbox_key.as_deref().unwrap())
        .unwrap()
        .unwrap();
    let tx = a_client
        .find_tx(&entry.tx.unwrap().hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(find_attr(&tx.events, "wasm", "signers"), Some("2"));
    assert_eq!(a_client.account_sequence().await.unwrap(), 1);
    assert_eq!(
        oracle_client(&env.chain, 1)
            .await
            .account_sequence()
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        oracle_client(&env.chain, 2)
            .await
            .account_sequence()
            .await
            .unwrap(),
        0
    );
    println!(
        "ORACLE LATENCY aggregated (tick right after the deadline block): {} blocks",
        rec.latency_blocks().unwrap()
    );

    // A restarted aggregator on the same store sends nothing more.
    drop(a);
    let (mut a2, _) = env.service(0, a_store.clone(), agg_cfg).await;
    let r = a2.tick().await.unwrap();
    assert_eq!((r.verifying, r.included), (0, 0));
    assert_eq!(a_client.account_sequence().await.unwrap(), 1);
    stop.send(true).unwrap();
}
