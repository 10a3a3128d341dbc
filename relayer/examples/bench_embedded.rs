//! Throughput of the embedded backend: transactions per second (sign,
//! broadcast, include, confirm; one block per tx and batched blocks) and
//! contract events followed per second from a cursor.
//!
//! `cargo run -p relayer --example bench_embedded --release` (or without
//! `--release` for the dev profile). Set BENCH_TXS to change the count.

use std::time::Instant;

use cosmwasm_std::coins;
use relayer::chain::{self, ChainMsg, CodeClient, CodeUpload, TxClient};
use relayer::contracts::workspace_artifacts_dir;
use relayer::embedded::{BlockMode, EmbeddedChain, EmbeddedClient, EmbeddedOptions};
use relayer::follow::{EventFilter, EventFollower};
use serde_json::json;

fn listing(i: usize) -> serde_json::Value {
    json!({ "create_listing": {
        "title": format!("sensor {i}"), "description": "bench", "category": "air-quality",
        "sensor_type": "pm2.5", "unit": "ug/m3", "location": { "latitude": "45.0703", "longitude": "7.6869" },
        "price": { "asset": { "native": "ustake" }, "amount": "10", "model": "per_message" },
        "metadata_cid": "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
        "endpoint": "wss://sensors.example/air", "terms": { "license": "CC-BY-4.0", "terms_hash": "07".repeat(32) } } })
}

async fn setup(mode: BlockMode) -> (EmbeddedChain, EmbeddedClient, String) {
    let chain = EmbeddedChain::start(EmbeddedOptions {
        block_mode: mode,
        artifacts_dir: Some(workspace_artifacts_dir()),
        ..EmbeddedOptions::default()
    })
    .expect("chain starts");
    let addr = chain.addr_make("bench").await.unwrap();
    chain
        .fund(&addr, coins(1_000_000_000, "ustake"))
        .await
        .unwrap();
    let client = chain.client(addr);
    let code = client
        .store_code(&CodeUpload {
            name: "data-registry".into(),
            wasm: None,
        })
        .await
        .unwrap();
    let registry = if mode == BlockMode::Manual {
        let msg = [ChainMsg::Instantiate {
            code_id: code.code_id,
            msg: json!({}).to_string(),
            funds: vec![],
            label: "bench".into(),
            admin: None,
        }];
        let tx = client.sign(&msg, "", 0).await.unwrap();
        client.broadcast(&tx).await.unwrap();
        chain.produce_block().await.unwrap();
        let out = client.find_tx(&tx.hash).await.unwrap().unwrap();
        chain::find_attr(&out.events, "instantiate", "_contract_address")
            .unwrap()
            .to_string()
    } else {
        client
            .instantiate(code.code_id, &json!({}), "bench", None, vec![])
            .await
            .unwrap()
            .0
    };
    (chain, client, registry)
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_TXS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let timeout = std::time::Duration::from_secs(30);

    // 1. One block per tx: submit = sequence query, sign, broadcast, wait.
    let (chain_a, client, registry) = setup(BlockMode::OnDemand).await;
    let start = Instant::now();
    let mut gas = 0;
    for i in 0..n {
        gas += chain::execute(&client, &registry, &listing(i), vec![], timeout)
            .await
            .unwrap()
            .gas_used;
    }
    let submit_secs = start.elapsed().as_secs_f64();

    // 2. Follow every event of those blocks from cursor 0.
    let mut follower = EventFollower::new(EventFilter::contracts([registry.clone()]), 0, 500);
    let start = Instant::now();
    let (mut events, mut blocks) = (0u64, 0u64);
    loop {
        let batch = follower.poll(&client).await.unwrap();
        if batch.blocks == 0 {
            break;
        }
        events += batch.events.len() as u64;
        blocks += batch.blocks;
    }
    let follow_secs = start.elapsed().as_secs_f64();
    chain_a.shutdown();

    // 3. Batched blocks: many txs in the mempool, one block.
    let (chain_b, client_b, registry_b) = setup(BlockMode::Manual).await;
    let start = Instant::now();
    let seq = client_b.account_sequence().await.unwrap();
    let mut last = String::new();
    let mut commit_secs = 0.0;
    for i in 0..n {
        let tx = client_b
            .sign(
                &[ChainMsg::execute(&registry_b, &listing(i), vec![]).unwrap()],
                "",
                seq + i as u64,
            )
            .await
            .unwrap();
        client_b.broadcast(&tx).await.unwrap();
        last = tx.hash;
        if i % 100 == 99 {
            let t = Instant::now();
            chain_b.produce_block().await.unwrap();
            commit_secs += t.elapsed().as_secs_f64();
        }
    }
    chain_b.produce_block().await.unwrap();
    client_b.wait_for_tx(&last, timeout).await.unwrap();
    let batch_secs = start.elapsed().as_secs_f64();
    chain_b.shutdown();

    println!("## Embedded backend throughput ({n} data-registry create_listing txs)\n");
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| txs/s, one block per tx (sequence, sign, broadcast, wait) | {:.0} |",
        n as f64 / submit_secs
    );
    println!(
        "| txs/s, 100 txs per block (sign, broadcast; block commit) | {:.0} |",
        n as f64 / batch_secs
    );
    println!(
        "| events followed/s ({events} contract events in {blocks} blocks) | {:.0} |",
        events as f64 / follow_secs
    );
    println!("| blocks scanned/s | {:.0} |", blocks as f64 / follow_secs);
    println!(
        "| share of batched time in block commit (DeliverTx) | {:.0}% |",
        100.0 * commit_secs / batch_secs
    );
    println!("| mean estimated gas per tx | {} |", gas / n as u64);
}
