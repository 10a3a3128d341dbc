//! Seeded SIGKILL trials on the wasmd localnet (issue 13 §3): in each, a
//! seller's relayer daemon — `relayer run` as its own process, with the
//! watchtower and the oracle on one SQLite file — is SIGKILLed at a seeded
//! point (mid-vouchers, mid-settlement, right after the payer's stale
//! close, or as the oracle's task ends its execution) and restarted on its
//! file. Every trial must end with the seller paid exactly the best
//! voucher, the stale close defended within the challenge period, exactly
//! one oracle attestation for the task, every outbox entry done and no tx
//! of the daemon's account failed on chain.
//!
//! The trials run in parallel on one chain, each with its own accounts
//! (HD indices of one funded test actor), value contract and daemon; they
//! share one payment-channel instance. `ci/relayer-localnet-test.sh` runs
//! them with `-- --ignored --nocapture`. `WEVALUE_TRIALS` (default 20) and
//! `WEVALUE_TRIALS_SEED` (default 1; trial i gets seed + i) choose which;
//! `WEVALUE_TRIALS_KEEP` keeps the daemons' logs and SQLite files (a
//! failure always does).

#[allow(dead_code)]
#[path = "../common/sdpp_localnet.rs"]
mod lt;

mod daemon;
mod kill;
mod net;
mod plan;
mod trial;

use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, Result};

use net::Chain;
use plan::Plan;
use trial::{setup, Outcome, MIN_AMOUNT};

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}")),
        Err(_) => default,
    }
}

fn describe(trial: u32, plan: &Plan, result: &Result<Outcome>) -> String {
    let head = format!(
        "trial {trial:02} seed {:>3}: kill at {}, down {} ms",
        plan.seed, plan.kill, plan.down_ms
    );
    match result {
        Ok(o) => format!(
            "{head} (caught: {}; restart reconciled: {}) → ok: paid {} = best voucher, \
             close defended {} blocks after start_close, 1 attestation {} blocks after the \
             execution deadline, {} service txs all ok, {} starts, {:.1} s",
            o.caught,
            o.reconciled,
            o.best,
            o.close_to_claim_blocks,
            o.oracle_latency_blocks,
            o.service_txs,
            o.starts,
            o.secs
        ),
        Err(e) => format!("{head} → FAILED: {e:#}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a wasmd localnet: ci/relayer-localnet-test.sh"]
async fn seeded_sigkill_trials_end_paid_defended_attested_once_and_without_failed_txs() {
    let started = Instant::now();
    let trials = env_u64("WEVALUE_TRIALS", 20) as u32;
    let first_seed = env_u64("WEVALUE_TRIALS_SEED", 1);
    let chain = Chain::new(net::TRIALS_FUNDER);
    let dir = tempfile::Builder::new()
        .prefix("wevalue-trials-")
        .tempdir()
        .unwrap();
    let shared = Arc::new(
        setup(&chain, trials, dir.path().to_path_buf())
            .await
            .expect("setup: codes, channel contract, funded accounts"),
    );
    let setup_secs = started.elapsed().as_secs_f64();
    let mut handles = vec![];
    for t in 0..trials {
        let plan = Plan::new(first_seed + u64::from(t), u64::from(t), MIN_AMOUNT);
        let shared = shared.clone();
        handles.push(tokio::spawn(async move {
            let result = trial::run(&shared, t, &plan).await;
            (t, plan, result)
        }));
    }
    let mut results = vec![];
    for h in handles {
        let (t, plan, result) = h.await.map_err(|e| anyhow!("trial task: {e}")).unwrap();
        println!("{}", describe(t, &plan, &result));
        results.push(result);
    }
    let ok: Vec<&Outcome> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let failed = results.len() - ok.len();
    let figure = |f: fn(&Outcome) -> u64| {
        let mut v: Vec<u64> = ok.iter().map(|o| f(o)).collect();
        v.sort_unstable();
        match (v.first(), v.get(v.len() / 2), v.last()) {
            (Some(lo), Some(mid), Some(hi)) => format!("{lo} / {mid} / {hi}"),
            _ => "-".into(),
        }
    };
    println!(
        "trials: {} passed, {failed} failed in {:.1} s (setup {setup_secs:.1} s); \
         blocks start_close → defending claim (min / median / max): {}; \
         blocks execution deadline → attestation: {}",
        ok.len(),
        started.elapsed().as_secs_f64(),
        figure(|o| o.close_to_claim_blocks),
        figure(|o| o.oracle_latency_blocks),
    );
    if failed > 0 || std::env::var_os("WEVALUE_TRIALS_KEEP").is_some() {
        let kept = dir.keep();
        println!("daemon logs and SQLite files kept in {}", kept.display());
    }
    if failed > 0 {
        panic!("{failed} of {trials} trials failed");
    }
}
