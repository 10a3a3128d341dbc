//! Watchtower figures on the embedded chain:
//!
//! - vouchers accepted per second over the loopback HTTP API (native ed25519
//!   verification on the blocking pool + the group commit: one durable SQLite
//!   transaction per batch of the vouchers that arrived meanwhile, temp-file
//!   database in WAL with `synchronous=FULL`), one client and several
//!   concurrent ones; and the same acceptance called in process (no HTTP),
//!   which is what the data gateway's hand-off costs;
//! - vouchers settled per transaction and gas per settled voucher for a
//!   single claim and batches of 10 and 50. Embedded gas is an estimate
//!   after wasmd's cost model (per message, byte and attribute), not metered.
//!
//! `cargo run --release -p relayer --example watchtower_bench [vouchers] [clients]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use cosmwasm_std::{coins, Binary, Uint128};
use payment_channel::msg::{ExecuteMsg, InstantiateMsg, OpenChannel};
use relayer::chain::{execute, find_attr, CodeClient, CodeUpload, TxClient};
use relayer::contracts::workspace_artifacts_dir;
use relayer::embedded::{BlockMode, EmbeddedChain, EmbeddedClient, EmbeddedOptions};
use relayer::outbox::{Outbox, OutboxOptions};
use relayer::services::watchtower::http::VoucherRequest;
use relayer::services::watchtower::{Watchtower, WatchtowerConfig};
use relayer::store::Store;
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{Voucher, VoucherScheme};

const DENOM: &str = "ustake";
const CHAIN_ID: &str = "wevalue-bench";
const T: Duration = Duration::from_secs(30);

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Bench {
    contract: String,
    payee: String,
}

async fn open(b: &Bench, payer: &EmbeddedClient, key: &VoucherSigner) -> Res<u64> {
    let msg = ExecuteMsg::Open(OpenChannel {
        payee: b.payee.clone(),
        pubkey: Binary::from(key.public_key()),
        scheme: key.scheme(),
        challenge_period: None,
        listing: None,
    });
    let out = execute(payer, &b.contract, &msg, coins(1_000_000_000, DENOM), T).await?;
    Ok(find_attr(&out.events, "wasm", "channel_id")
        .ok_or("no channel id")?
        .parse()?)
}

fn sign(b: &Bench, key: &VoucherSigner, id: u64, amount: u128) -> Res<String> {
    let v = Voucher {
        chain_id: CHAIN_ID.into(),
        contract: b.contract.clone(),
        channel_id: id,
        amount: Uint128::new(amount),
        hashlock: None,
        expiry: None,
    };
    let req = VoucherRequest {
        channel_id: id,
        amount: Uint128::new(amount),
        hashlock: None,
        expiry: None,
        signature: Binary::from(key.sign(&v)?.to_vec()),
        preimage: None,
    };
    Ok(serde_json::to_string(&req)?)
}

async fn post_all(addr: std::net::SocketAddr, bodies: Vec<String>) -> Res<()> {
    let client = hyper::Client::new();
    for body in bodies {
        let req = hyper::Request::post(format!("http://{addr}/v1/vouchers"))
            .header("content-type", "application/json")
            .body(hyper::Body::from(body))?;
        let resp = client.request(req).await?;
        let status = resp.status();
        let bytes = hyper::body::to_bytes(resp.into_body()).await?;
        if !status.is_success() {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)).into());
        }
    }
    Ok(())
}

/// CPU seconds this process used so far (user + system), from /proc.
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit(')').next()?.split_whitespace().collect::<Vec<_>>();
            // Fields 14 and 15 (utime, stime) are 12 and 13 after the name.
            Some(after.get(11)?.parse::<f64>().ok()? + after.get(12)?.parse::<f64>().ok()?)
        })
        .map(|ticks| ticks / 100.0)
        .unwrap_or(0.0)
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let total: usize = args
        .get(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20_000);
    let clients: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(64);

    let chain = EmbeddedChain::start(EmbeddedOptions {
        chain_id: CHAIN_ID.into(),
        block_mode: BlockMode::OnDemand,
        artifacts_dir: Some(workspace_artifacts_dir()),
        ..EmbeddedOptions::default()
    })?;
    let deployer = chain.client(chain.addr_make("deployer").await?);
    let payee = chain.client(chain.addr_make("payee").await?);
    let tower = chain.client(chain.addr_make("tower").await?);
    let code = deployer
        .store_code(&CodeUpload {
            name: "payment-channel".into(),
            wasm: None,
        })
        .await?;
    let init = serde_json::to_value(InstantiateMsg {
        owner: None,
        min_challenge_period: 60,
        max_challenge_period: 86_400,
        max_batch_size: None,
    })?;
    let (contract, _) = deployer
        .instantiate(code.code_id, &init, "payment-channel", None, vec![])
        .await?;
    let b = Bench {
        contract,
        payee: payee.sender().to_string(),
    };
    execute(
        &payee,
        &b.contract,
        &ExecuteMsg::AuthorizeWatchtower {
            watchtower: tower.sender().to_string(),
        },
        vec![],
        T,
    )
    .await?;

    // Channels: `clients` for the API runs, then 1 + 10 + 50 for settlement
    // (at most 8 open channels per payer and payee).
    let needed = clients + 61;
    let mut channels = vec![];
    for i in 0..needed {
        let payer = chain.client(chain.addr_make(&format!("payer{}", i / 8)).await?);
        chain
            .fund(payer.sender(), coins(1_000_000_000, DENOM))
            .await?;
        let mut secret = [7u8; 32];
        secret[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let key = VoucherSigner::from_secret(VoucherScheme::Ed25519, secret, "wasm")?;
        let id = open(&b, &payer, &key).await?;
        channels.push((id, key));
    }

    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open(dir.path().join("relayer.sqlite"))?);
    let config = WatchtowerConfig {
        enabled: true,
        listen: "127.0.0.1:0".parse()?,
        payees: vec![b.payee.clone()],
        min_amount: Uint128::new(1),
        max_age_seconds: u64::MAX,
        max_batch: 50,
        ..WatchtowerConfig::default()
    };
    let wt = Arc::new(
        Watchtower::new(
            config,
            b.contract.clone(),
            Arc::new(tower.clone()),
            store.clone(),
            Arc::new(Outbox::new(
                store.clone(),
                Arc::new(tower.clone()),
                CHAIN_ID,
                OutboxOptions::default(),
            )),
        )
        .await?,
    );
    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let (addr, _server) = wt.spawn_http(stop)?;

    // Pre-signed vouchers (signing is the payer's cost, not measured):
    // per API channel, increasing amounts; the first half goes sequentially
    // round-robin, the second half one client per channel.
    let per_channel = total / clients;
    let mut bodies: Vec<Vec<String>> = vec![];
    for (id, key) in &channels[..clients] {
        let mut v = vec![];
        for n in 1..=per_channel {
            v.push(sign(&b, key, *id, n as u128)?);
        }
        bodies.push(v);
    }
    let half = per_channel / 2;
    let mut sequential = vec![];
    for n in 0..half {
        for c in &bodies {
            sequential.push(c[n].clone());
        }
    }
    let seq_count = sequential.len();
    let start = Instant::now();
    post_all(addr, sequential).await?;
    let seq_secs = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let cpu = cpu_secs();
    let mut tasks = vec![];
    for c in &bodies {
        tasks.push(tokio::spawn(post_all(addr, c[half..].to_vec())));
    }
    let mut conc_count = 0;
    for t in tasks {
        t.await?.map_err(|e| e.to_string())?;
    }
    for c in &bodies {
        conc_count += c.len() - half;
    }
    let conc_secs = start.elapsed().as_secs_f64();
    let conc_cpu = cpu_secs() - cpu;

    // In process: the same checks, verification and group commit, no HTTP.
    let mut signed: Vec<Vec<VoucherRequest>> = vec![];
    for (id, key) in &channels[..clients] {
        let mut v = vec![];
        for n in per_channel + 1..=2 * per_channel {
            v.push(serde_json::from_str(&sign(&b, key, *id, n as u128)?)?);
        }
        signed.push(v);
    }
    let inproc_count: usize = signed.iter().map(Vec::len).sum();
    let start = Instant::now();
    let cpu = cpu_secs();
    let mut tasks = vec![];
    for reqs in signed {
        let wt = wt.clone();
        tasks.push(tokio::spawn(async move {
            for req in reqs {
                wt.accept_voucher(req).await.map_err(|e| e.message)?;
            }
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let inproc_secs = start.elapsed().as_secs_f64();
    let inproc_cpu = cpu_secs() - cpu;

    // The API channels' vouchers are due too: settle them first (one batch).
    let warm = wt.settle().await?;

    // Settlement: 1, 10, 50 vouchers per transaction.
    let mut rows = vec![];
    let mut next = clients;
    for size in [1usize, 10, 50] {
        for (id, key) in &channels[next..next + size] {
            let req: VoucherRequest = serde_json::from_str(&sign(&b, key, *id, 1_000)?)?;
            wt.accept_voucher(req).await.map_err(|e| e.message)?;
        }
        next += size;
        let r = wt.settle().await?;
        rows.push((size, r));
    }

    println!(
        "load average: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    println!("| watchtower | figure |");
    println!("|---|---|");
    println!(
        "| HTTP voucher accept, 1 client ({seq_count} ed25519 vouchers, {clients} channels) | {:.0} vouchers/s ({:.2} ms each) |",
        seq_count as f64 / seq_secs,
        seq_secs * 1_000.0 / seq_count as f64
    );
    println!(
        "| HTTP voucher accept, {clients} concurrent clients ({conc_count} vouchers) | {:.0} vouchers/s; {:.0} per CPU second (client and server) |",
        conc_count as f64 / conc_secs,
        conc_count as f64 / conc_cpu.max(1e-9)
    );
    println!(
        "| in-process accept (verify + group commit), {clients} concurrent payers ({inproc_count} vouchers) | {:.0} vouchers/s; {:.0} per CPU second |",
        inproc_count as f64 / inproc_secs,
        inproc_count as f64 / inproc_cpu.max(1e-9)
    );
    println!(
        "| settlement of the {clients} API channels | {} tx, {} vouchers, {} gas |",
        warm.txs, warm.settled, warm.gas_used
    );
    for (size, r) in rows {
        println!(
            "| {} ({size} voucher{}) | {} tx, {} settled, {} gas, {} gas/voucher (estimate) |",
            if size == 1 {
                "single claim"
            } else {
                "claim_batch"
            },
            if size == 1 { "" } else { "s" },
            r.txs,
            r.settled,
            r.gas_used,
            r.gas_used / u64::from(r.settled.max(1))
        );
    }
    chain.shutdown();
    Ok(())
}
