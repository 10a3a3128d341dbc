//! Figures on the wasmd localnet (issue 13 §4), printed as markdown and
//! written to `target/localnet-figures.md`; nothing here is a timed
//! assertion. `ci/relayer-localnet-test.sh` runs it with `-- --ignored
//! --nocapture` after the trials.
//!
//! - Gas used on wasmd (whole tx: the SDK's per-tx costs — signature,
//!   tx bytes, the 60,000 per contract instance — included) for the
//!   operations of the README's gas tables, next to the VM estimate
//!   (contract only) and a cw20-base transfer on the same chain.
//! - A 50-voucher `claim_batch` tx per voucher, as a ratio to that cw20
//!   transfer tx (goal ≤ 0.10).
//! - Blocks from a payer's `start_close` to the watchtower's defending
//!   claim and from a task's execution deadline to the oracle's
//!   attestation: undisturbed runs of the trials' scenario (a daemon
//!   process each).
//! - Txs per block one relayer signer's outbox sustains, and four.

#[allow(dead_code)]
#[path = "../common/sdpp_localnet.rs"]
mod lt;

#[path = "../trials/daemon.rs"]
mod daemon;
#[path = "../trials/kill.rs"]
mod kill;
#[allow(dead_code)]
#[path = "../trials/net.rs"]
mod net;
#[path = "../trials/plan.rs"]
mod plan;
#[allow(dead_code)]
#[path = "../trials/trial.rs"]
mod trial;

mod gas;
mod outbox;

use std::sync::Arc;

use net::Chain;
use plan::{Kill, Plan};

/// Its own test actor, so the figures never share a signer with the trials.
const FUNDER: &str = "test-08";
/// Undisturbed scenario runs for the latency figures.
const LATENCY_RUNS: u32 = 5;

fn median(mut v: Vec<u64>) -> String {
    v.sort_unstable();
    match (v.first(), v.get(v.len() / 2), v.last()) {
        (Some(lo), Some(mid), Some(hi)) => format!("{mid} (min {lo}, max {hi})"),
        _ => "-".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a wasmd localnet: ci/relayer-localnet-test.sh"]
async fn localnet_figures() {
    let chain = Chain::new(FUNDER);
    let dir = tempfile::tempdir().unwrap();
    let mut out = String::from("# Figures on the wasmd localnet\n\n");

    // Gas first, on a quiet chain.
    let gas = gas::measure(&chain).await.expect("gas figures");
    out += &gas;

    // The trials' scenario without a kill, a few at once.
    let shared = Arc::new(
        trial::setup(&chain, LATENCY_RUNS, dir.path().to_path_buf())
            .await
            .expect("setup"),
    );
    let mut handles = vec![];
    for t in 0..LATENCY_RUNS {
        let shared = shared.clone();
        handles.push(tokio::spawn(async move {
            let mut plan = Plan::new(1_000 + u64::from(t), 0, trial::MIN_AMOUNT);
            plan.kill = Kill::Never;
            trial::run(&shared, t, &plan).await
        }));
    }
    let mut close = vec![];
    let mut oracle = vec![];
    for h in handles {
        let o = h.await.unwrap().expect("an undisturbed run");
        close.push(o.close_to_claim_blocks);
        oracle.push(o.oracle_latency_blocks);
    }
    out += &format!(
        "\n## Latency ({LATENCY_RUNS} undisturbed runs at once, blocks of ~300 ms)\n\n\
         | figure | blocks, median |\n|---|---:|\n\
         | payer's `start_close` → watchtower's defending claim | {} |\n\
         | task's execution deadline → oracle's attestation included | {} |\n",
        median(close),
        median(oracle)
    );

    out += &outbox::throughput(&chain).await.expect("outbox throughput");

    println!("{out}");
    let path = lt::root().join("target/localnet-figures.md");
    std::fs::write(&path, &out).unwrap();
    println!("written to {}", path.display());
}
