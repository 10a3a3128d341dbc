//! Settlement: batches by amount then age, a refused voucher set aside,
//! hashlocks claimed only with their preimage, a crash mid-settlement, IBC payouts.

use super::*;

#[tokio::test]
async fn batches_settle_by_amount_then_by_age() {
    let env = setup(BlockMode::OnDemand).await;
    let payee = env.payee.sender().to_string();
    let p = payer(&env, "payer").await;
    let keys: Vec<VoucherSigner> = (0..5)
        .map(|i| signer(VoucherScheme::Ed25519, 100 + i))
        .collect();
    let mut ids = vec![];
    for key in &keys {
        ids.push(open(&env, &p, &payee, key, 10_000).await);
    }
    let store = Arc::new(Store::open_in_memory().unwrap());
    let clk = clock();
    let cfg = WatchtowerConfig {
        min_amount: Uint128::new(500),
        max_age_seconds: 3_600,
        max_batch: 2,
        ..config(&env)
    };
    let wt = tower(&env, &store, cfg, &clk).await;
    let amounts = [600, 200, 800, 499, 1_000];
    for (i, a) in amounts.iter().enumerate() {
        wt.accept_voucher(voucher(&env, &keys[i], ids[i], *a, None, None))
            .await
            .unwrap();
    }
    // By amount: 600, 800 and 1000 are due; batches of at most two.
    let r = wt.settle().await.unwrap();
    assert_eq!((r.txs, r.settled, r.failed), (2, 3, 0));
    assert!(r.gas_used > 0);
    assert_eq!(balance(&env, &payee).await, 2_400);
    assert_eq!(channel(&env, ids[1]).await.claimed, Uint128::zero());
    // Nothing new is due.
    assert_eq!(wt.settle().await.unwrap().txs, 0);
    // A raise of 300 on a settled channel is below the amount threshold.
    wt.accept_voucher(voucher(&env, &keys[0], ids[0], 900, None, None))
        .await
        .unwrap();
    assert_eq!(wt.settle().await.unwrap().txs, 0);
    // By age: an hour later everything unsettled goes.
    clk.fetch_add(3_600, Ordering::SeqCst);
    let r = wt.settle().await.unwrap();
    assert_eq!((r.txs, r.settled), (2, 3));
    assert_eq!(balance(&env, &payee).await, 2_400 + 300 + 200 + 499);
    for (i, want) in [900u128, 200, 800, 499, 1_000].iter().enumerate() {
        assert_eq!(channel(&env, ids[i]).await.claimed.u128(), *want);
        assert_eq!(
            wt.best_voucher(ids[i])
                .await
                .unwrap()
                .unwrap()
                .unsettled_since,
            None
        );
    }
}

#[tokio::test]
async fn a_refused_voucher_is_set_aside_and_the_rest_of_the_batch_settles() {
    let env = setup(BlockMode::OnDemand).await;
    let payee = env.payee.sender().to_string();
    let p = payer(&env, "payer").await;
    let keys: Vec<VoucherSigner> = (0..3)
        .map(|i| signer(VoucherScheme::Ed25519, 200 + i))
        .collect();
    let mut ids = vec![];
    for key in &keys {
        ids.push(open(&env, &p, &payee, key, 1_000).await);
    }
    let store = Arc::new(Store::open_in_memory().unwrap());
    let cfg = WatchtowerConfig {
        min_amount: Uint128::new(1),
        ..config(&env)
    };
    let wt = tower(&env, &store, cfg, &clock()).await;
    for (i, key) in keys.iter().enumerate() {
        wt.accept_voucher(voucher(
            &env,
            key,
            ids[i],
            100 * (i as u128 + 1),
            None,
            None,
        ))
        .await
        .unwrap();
    }
    // The payee revokes nothing but the payer closes channel 2 and, in the
    // same breath, the window passes: its voucher can no longer be claimed.
    exec(
        &env,
        &p,
        &ExecuteMsg::StartClose { channel_id: ids[1] },
        vec![],
    )
    .await;
    env.chain
        .advance_time(Duration::from_secs(61))
        .await
        .unwrap();
    env.chain.produce_block().await.unwrap();
    // Make the watchtower believe channel 2 is still open (no events read).
    let r = wt.settle().await.unwrap();
    assert_eq!(r.failed, 1, "{r:?}");
    assert_eq!(r.settled, 2, "{r:?}");
    assert_eq!(balance(&env, &payee).await, 100 + 300);
    let failed: Vec<_> = wt
        .settlements(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.status == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(batch_index(failed[0].error.as_deref().unwrap()), Some(1));
    assert_eq!(wt.settle().await.unwrap().txs, 0);
}

#[tokio::test]
async fn a_hashlocked_voucher_is_claimed_only_with_its_preimage() {
    let env = setup(BlockMode::OnDemand).await;
    let payee = env.payee.sender().to_string();
    let ed = signer(VoucherScheme::Ed25519, 31);
    let p = payer(&env, "payer").await;
    let ch = open(&env, &p, &payee, &ed, 1_000).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let cfg = WatchtowerConfig {
        min_amount: Uint128::new(1),
        ..config(&env)
    };
    let wt = tower(&env, &store, cfg, &clock()).await;
    let lock = wevalue_voucher::sha256(b"the data was delivered").to_vec();
    let now = env.deployer.latest_block().await.unwrap().time_nanos / 1_000_000_000;
    wt.accept_voucher(voucher(
        &env,
        &ed,
        ch,
        400,
        Some(lock.clone()),
        Some(now + 3_600),
    ))
    .await
    .unwrap();
    assert_eq!(wt.settle().await.unwrap().txs, 0, "no preimage yet");
    assert_eq!(channel(&env, ch).await.claimed, Uint128::zero());
    let (got_lock, channels) = wt.accept_preimage(b"the data was delivered").await.unwrap();
    assert_eq!((got_lock.as_bytes().to_vec(), channels), (lock, vec![ch]));
    let r = wt.settle().await.unwrap();
    assert_eq!((r.txs, r.settled), (1, 1));
    assert_eq!(channel(&env, ch).await.claimed, Uint128::new(400));
    assert_eq!(balance(&env, &payee).await, 400);
}

#[tokio::test]
async fn a_crash_in_the_middle_of_settlement_does_not_claim_twice() {
    let env = setup(BlockMode::Manual).await;
    let payee = env.payee.sender().to_string();
    let p = payer(&env, "payer").await;
    let keys: Vec<VoucherSigner> = (0..3)
        .map(|i| signer(VoucherScheme::Secp256k1, 300 + i))
        .collect();
    let mut ids = vec![];
    for key in &keys {
        ids.push(open(&env, &p, &payee, key, 1_000).await);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relayer.sqlite");
    let clk = clock();
    let cfg = WatchtowerConfig {
        min_amount: Uint128::new(1),
        ..config(&env)
    };
    {
        let store = Arc::new(Store::open(&db).unwrap());
        let wt = Arc::new(tower(&env, &store, cfg.clone(), &clk).await);
        for (i, key) in keys.iter().enumerate() {
            wt.accept_voucher(voucher(&env, key, ids[i], 250, None, None))
                .await
                .unwrap();
        }
        // Settlement broadcasts and waits for a block that does not come...
        let task = tokio::spawn({
            let wt = wt.clone();
            async move { wt.settle().await }
        });
        let entry = loop {
            let open = store.outbox_open("wevalue-test").unwrap();
            if let Some(e) = open
                .into_iter()
                .find(|e| e.status == OutboxStatus::Broadcast)
            {
                break e;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        assert_eq!(entry.msgs.len(), 1);
        // ...and the process dies.
        task.abort();
        let _ = task.await;
    }
    // The block with the batch is committed while the watchtower is down.
    env.chain.produce_block().await.unwrap();
    let store = Arc::new(Store::open(&db).unwrap());
    let wt = tower(&env, &store, cfg, &clk).await;
    wt.recover().await.unwrap();
    let r = wt.settle().await.unwrap();
    assert_eq!(r.txs, 0, "nothing left to send: {r:?}");
    for id in &ids {
        assert_eq!(channel(&env, *id).await.claimed, Uint128::new(250));
        assert_eq!(
            wt.best_voucher(*id).await.unwrap().unwrap().unsettled_since,
            None
        );
    }
    assert_eq!(balance(&env, &payee).await, 750);
    let settlements = wt.settlements(None).await.unwrap();
    assert_eq!(settlements.len(), 1);
    assert_eq!(settlements[0].status, "done");
    assert_eq!(settlements[0].items.len(), 3);
    // One tx in the outbox, done; the tower's account sent exactly one tx.
    assert_eq!(store.outbox_backlog("wevalue-test").unwrap(), 0);
    assert_eq!(env.tower.account_sequence().await.unwrap(), 1);
}

#[tokio::test]
async fn ibc_payout_goes_in_the_batch_message_only_when_configured() {
    // The contract's own message carries the payout; without one it is
    // the plain batch.
    let local = ExecuteMsg::ClaimBatch {
        claims: vec![],
        payout: None,
    };
    assert_eq!(
        serde_json::to_value(&local).unwrap(),
        json!({"claim_batch": {"claims": [], "payout": null}})
    );
    let ibc = ExecuteMsg::ClaimBatch {
        claims: vec![],
        payout: Some(payment_channel::msg::Payout::Ibc {
            channel: "channel-0".into(),
            receiver: "osmo1xyz".into(),
            timeout_seconds: 600,
        }),
    };
    assert_eq!(
        serde_json::to_value(&ibc).unwrap()["claim_batch"]["payout"],
        json!({"ibc": {"channel": "channel-0", "receiver": "osmo1xyz", "timeout_seconds": 600}})
    );
    // Config: the TOML shape, and its checks.
    let cfg: WatchtowerConfig = toml::from_str(
        r#"
        listen = "127.0.0.1:9000"
        min_amount = "5000"
        payout = { kind = "ibc", channel = "channel-3", receiver = "osmo1abc", timeout_seconds = 600 }
        "#,
    )
    .unwrap();
    assert_eq!(cfg.min_amount, Uint128::new(5_000));
    assert!(matches!(cfg.payout, PayoutConfig::Ibc { .. }));
    assert!(cfg.problems().is_empty());
    let bad = WatchtowerConfig {
        listen: "0.0.0.0:9000".parse().unwrap(),
        max_batch: 51,
        ..WatchtowerConfig::default()
    };
    assert_eq!(bad.problems().len(), 2);
    assert!(toml::from_str::<WatchtowerConfig>("nope = 1").is_err());
}

#[tokio::test]
async fn a_claim_that_cannot_be_sent_blocks_no_other_and_sets_nothing_aside() {
    let env = setup(BlockMode::OnDemand).await;
    let payee = env.payee.sender().to_string();
    let p = payer(&env, "payer").await;
    let keys: Vec<VoucherSigner> = (0..2)
        .map(|i| signer(VoucherScheme::Ed25519, 300 + i))
        .collect();
    let mut ids = vec![];
    for key in &keys {
        ids.push(open(&env, &p, &payee, key, 1_000).await);
    }
    let store = Arc::new(Store::open_in_memory().unwrap());
    let tower_client = Arc::new(env.tower.clone());
    // Quick retries: a node that refuses every broadcast of the first claim
    // exhausts them.
    let outbox = Arc::new(Outbox::new(
        store.clone(),
        tower_client.clone(),
        "wevalue-test",
        OutboxOptions {
            inclusion_timeout: TIMEOUT,
            transient_retries: 2,
            retry_initial_delay: Duration::from_millis(5),
            retry_max_delay: Duration::from_millis(10),
            ..OutboxOptions::default()
        },
    ));
    let cfg = WatchtowerConfig {
        min_amount: Uint128::new(1),
        max_batch: 1,
        ..config(&env)
    };
    let wt = Watchtower::new(
        cfg,
        env.contract.clone(),
        tower_client,
        store.clone(),
        outbox,
    )
    .await
    .unwrap();
    for (i, id) in ids.iter().enumerate() {
        wt.accept_voucher(voucher(&env, &keys[i], *id, 400 + i as u128, None, None))
            .await
            .unwrap();
    }
    env.chain
        .inject(relayer::embedded::Fault::FailBroadcasts(3))
        .await
        .unwrap();
    // The first claim's three broadcasts fail; the round goes on with the second.
    let r = wt.settle().await.unwrap();
    assert_eq!((r.settled, r.rejected), (1, 0), "{r:?}");
    assert_eq!(channel(&env, ids[0]).await.claimed, Uint128::zero());
    assert_eq!(channel(&env, ids[1]).await.claimed.u128(), 401);
    // The next round finishes the recorded claim; no voucher was set aside.
    let r = wt.settle().await.unwrap();
    assert_eq!((r.settled, r.rejected), (1, 0), "{r:?}");
    assert_eq!(channel(&env, ids[0]).await.claimed.u128(), 400);
    for id in &ids {
        assert_eq!(
            wt.best_voucher(*id).await.unwrap().unwrap().rejected_amount,
            None
        );
    }
    assert_eq!(balance(&env, &payee).await, 801);
}
