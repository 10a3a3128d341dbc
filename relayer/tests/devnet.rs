//! The main job as a test: the whole smart-city scenario on the embedded
//! chain with the relayer services, once as is and then in 20 seeded trials
//! that kill and restart relayer instances at random points. Every step of
//! the scenario checks its effect on chain (exact balances, one claim of the
//! best voucher, one oracle report, nothing left in the task) and the run
//! fails if any service transaction failed on chain, which a duplicated
//! claim or attestation would.

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
    assert_eq!(report.steps.len(), 15, "{report}");
    assert_eq!(report.crashes, 0);
    // 400 vouchers of 10 ustake, then 25 more before the stale close.
    let paid = (400 + 25) * 10;
    assert_eq!(change(&report, "buyer"), -paid);
    assert_eq!(change(&report, "air-seller"), paid);
    assert_eq!(change(&report, "meter-seller"), 0);
    let f = &report.figures;
    assert_eq!(f.vouchers_sent, 400);
    assert_eq!(f.vouchers_settled, 425);
    assert_eq!(f.stale_closes_defended, 1);
    assert!(f.settlement_txs >= 2, "{report}");
    assert!(f.vouchers_per_sec > 0.0);
    assert!(f.oracle_latency_blocks >= 1);
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
    assert!(report.summary().starts_with("devnet OK: 15 steps"));
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
