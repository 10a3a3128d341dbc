//! Durability and close defence: an acknowledged voucher survives a restart,
//! a stale close is answered with the best voucher, 100 seeded scenarios.

use super::*;

#[tokio::test]
async fn an_acknowledged_voucher_survives_a_restart() {
    let env = setup(BlockMode::OnDemand).await;
    let payee = env.payee.sender().to_string();
    let ed = signer(VoucherScheme::Ed25519, 11);
    let p = payer(&env, "payer").await;
    let ch = open(&env, &p, &payee, &ed, 5_000).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relayer.sqlite");
    let clk = clock();
    {
        let store = Arc::new(Store::open(&db).unwrap());
        let wt = Arc::new(tower(&env, &store, config(&env), &clk).await);
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let (addr, server) = wt.spawn_http(stop).unwrap();
        for amount in [100, 900, 2_500] {
            let (s, j) = post(
                addr,
                "/v1/vouchers",
                body(&voucher(&env, &ed, ch, amount, None, None)),
            )
            .await;
            assert_eq!(s, 200, "{j}");
        }
        // Stop and drop everything, as a crash right after the 200 would.
        stop_tx.send(true).unwrap();
        server.await.unwrap();
    }
    let store = Arc::new(Store::open(&db).unwrap());
    let wt = tower(
        &env,
        &store,
        WatchtowerConfig {
            min_amount: Uint128::new(1),
            ..config(&env)
        },
        &clk,
    )
    .await;
    let best = wt.best_voucher(ch).await.unwrap().unwrap();
    assert_eq!(best.amount, 2_500);
    wt.recover().await.unwrap();
    let report = wt.settle().await.unwrap();
    assert_eq!((report.txs, report.settled), (1, 1));
    assert_eq!(balance(&env, &payee).await, 2_500);
    assert_eq!(channel(&env, ch).await.claimed, Uint128::new(2_500));
}

#[tokio::test]
async fn a_stale_close_is_answered_with_the_best_voucher() {
    let env = setup(BlockMode::OnDemand).await;
    let payee = env.payee.sender().to_string();
    let ed = signer(VoucherScheme::Ed25519, 21);
    let p = payer(&env, "payer").await;
    let ch = open(&env, &p, &payee, &ed, 1_000).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let wt = tower(&env, &store, config(&env), &clock()).await;
    for amount in [100, 300, 700] {
        wt.accept_voucher(voucher(&env, &ed, ch, amount, None, None))
            .await
            .unwrap();
    }
    // The payer closes hoping the payee holds nothing (or only an old voucher).
    exec(&env, &p, &ExecuteMsg::StartClose { channel_id: ch }, vec![]).await;
    let report = wt.step().await.unwrap();
    assert_eq!(report.defended, 1);
    let c = channel(&env, ch).await;
    assert_eq!(c.claimed, Uint128::new(700));
    let ChannelStatus::Closing { finalize_after } = c.status else {
        panic!("closing expected: {:?}", c.status)
    };
    let now = env.deployer.latest_block().await.unwrap().time_nanos / 1_000_000_000;
    assert!(
        finalize_after.seconds() >= now + 55,
        "claimed well inside the window"
    );
    // A second step and a settlement round do nothing more.
    assert_eq!(wt.step().await.unwrap().defended, 0);
    assert_eq!(wt.settle().await.unwrap().txs, 0);
    env.chain
        .advance_time(Duration::from_secs(61))
        .await
        .unwrap();
    exec(
        &env,
        &env.deployer,
        &ExecuteMsg::Finalize { channel_id: ch },
        vec![],
    )
    .await;
    assert_eq!(balance(&env, &payee).await, 700);
    assert_eq!(balance(&env, p.sender()).await, 300);
    wt.step().await.unwrap();
    assert_eq!(wt.best_voucher(ch).await.unwrap().unwrap().status, "closed");
    assert_eq!(wt.settlements(Some(ch)).await.unwrap().len(), 1);
}

/// splitmix64: deterministic scenarios without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.range(1, one_in) == 1
    }
}

enum Step {
    Voucher(usize, u128),
    Close(usize),
}

#[tokio::test]
async fn one_hundred_seeded_stale_closes_are_all_defended() {
    let schemes = [
        VoucherScheme::Ed25519,
        VoucherScheme::Secp256k1,
        VoucherScheme::Adr036,
    ];
    let mut restarts = 0;
    let mut defended_total = 0;
    for seed in 0..100u64 {
        let mut rng = Rng(seed);
        let env = setup(BlockMode::OnDemand).await;
        let payee = env.payee.sender().to_string();
        let n = rng.range(1, 4) as usize;
        let mut chans = vec![];
        for i in 0..n {
            let key = signer(schemes[rng.range(0, 2) as usize], seed * 10 + i as u64);
            let p = payer(&env, &format!("payer-{seed}-{i}")).await;
            let deposit = rng.range(1_000, 10_000) as u128;
            let id = open(&env, &p, &payee, &key, deposit).await;
            let count = rng.range(1, 8);
            let mut amounts = vec![];
            let mut a = 0u128;
            for _ in 0..count {
                a += rng.range(1, (deposit as u64 / count).max(1)) as u128;
                amounts.push(a.min(deposit));
            }
            amounts.dedup();
            // Closed after k vouchers were delivered (0 = before any).
            let k = rng.range(0, amounts.len() as u64) as usize;
            chans.push((id, key, p, deposit, amounts, k));
        }
        // Interleave the channels' steps, keeping each channel's order.
        let mut queues: Vec<Vec<Step>> = chans
            .iter()
            .enumerate()
            .map(|(i, (_, _, _, _, amounts, k))| {
                let mut q: Vec<Step> = amounts[..*k].iter().map(|a| Step::Voucher(i, *a)).collect();
                q.push(Step::Close(i));
                q
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("relayer.sqlite");
        let clk = clock();
        let min_amount = rng.range(1, 5_000) as u128;
        let cfg = WatchtowerConfig {
            min_amount: Uint128::new(min_amount),
            max_batch: rng.range(1, 3) as u32,
            ..config(&env)
        };
        let mut store = Arc::new(Store::open(&db).unwrap());
        let mut wt = tower(&env, &store, cfg.clone(), &clk).await;
        while queues.iter().any(|q| !q.is_empty()) {
            let live: Vec<usize> = (0..queues.len())
                .filter(|&i| !queues[i].is_empty())
                .collect();
            let i = live[rng.range(0, live.len() as u64 - 1) as usize];
            match queues[i].remove(0) {
                Step::Voucher(c, amount) => {
                    let (id, key, ..) = &chans[c];
                    wt.accept_voucher(voucher(&env, key, *id, amount, None, None))
                        .await
                        .unwrap();
                }
                Step::Close(c) => {
                    let (id, _, p, ..) = &chans[c];
                    exec(&env, p, &ExecuteMsg::StartClose { channel_id: *id }, vec![]).await;
                }
            }
            // The watchtower may run now, later, or restart first.
            if rng.chance(3) {
                drop(wt);
                drop(store);
                store = Arc::new(Store::open(&db).unwrap());
                wt = tower(&env, &store, cfg.clone(), &clk).await;
                wt.recover().await.unwrap();
                restarts += 1;
            }
            if rng.chance(2) {
                defended_total += wt.step().await.unwrap().defended;
            }
            if rng.chance(3) {
                clk.fetch_add(rng.range(0, 100), Ordering::SeqCst);
                wt.settle().await.unwrap();
            }
        }
        defended_total += wt.step().await.unwrap().defended;
        // Every claim landed inside the challenge window; now let it end.
        env.chain
            .advance_time(Duration::from_secs(61))
            .await
            .unwrap();
        let mut expected_payee = 0;
        for (id, _, p, deposit, amounts, k) in &chans {
            let best = if *k == 0 { 0 } else { amounts[k - 1] };
            let c = channel(&env, *id).await;
            assert_eq!(c.claimed.u128(), best, "seed {seed} channel {id}");
            exec(
                &env,
                &env.deployer,
                &ExecuteMsg::Finalize { channel_id: *id },
                vec![],
            )
            .await;
            assert_eq!(
                balance(&env, p.sender()).await,
                deposit - best,
                "seed {seed} payer of {id}"
            );
            expected_payee += best;
        }
        assert_eq!(balance(&env, &payee).await, expected_payee, "seed {seed}");
        env.chain.shutdown();
    }
    assert!(restarts > 50, "restarts exercised: {restarts}");
    assert!(defended_total > 20, "defences exercised: {defended_total}");
}
