//! Txs per block through the relayer's outbox: entries enqueued at once
//! and flushed, as the daemon does. One signer has one tx in flight at a
//! time (one owner per signer, each entry waits for its inclusion), so a
//! relayer scales by batching (`claim_batch`) and by signers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use relayer::chain::{ChainMsg, ChainStatus, TxClient};
use relayer::outbox::{Outbox, OutboxOptions};
use relayer::store::{OutboxStatus, Store};
use serde_json::json;

use crate::net::{Chain, TX_TIMEOUT};

/// Txs each signer sends.
const PER_SIGNER: usize = 30;
/// HD indices of the signers.
const FIRST: u32 = 20;

/// Runs `signers` outboxes at once; returns (txs, blocks spanned, seconds).
async fn run(chain: &Chain, contract: &str, signers: u32) -> Result<(usize, u64, f64)> {
    let started = Instant::now();
    let mut tasks = vec![];
    for s in 0..signers {
        let client = chain.client(FIRST + s);
        let contract = contract.to_string();
        tasks.push(tokio::spawn(async move {
            let store = Arc::new(Store::open_in_memory()?);
            let outbox = Outbox::new(
                store.clone(),
                client.clone(),
                client.chain_id(),
                OutboxOptions {
                    inclusion_timeout: TX_TIMEOUT,
                    ..OutboxOptions::default()
                },
            );
            let msg = json!({ "transfer": { "recipient": client.sender(), "amount": "1" } });
            for i in 0..PER_SIGNER {
                outbox
                    .enqueue(
                        &format!("figures/{s}/{i}"),
                        &[ChainMsg::execute(&contract, &msg, vec![])?],
                        "",
                    )
                    .await?;
            }
            let deadline = Instant::now() + Duration::from_secs(180);
            while store.outbox_backlog(client.chain_id())? > 0 {
                ensure!(
                    Instant::now() < deadline,
                    "the outbox did not drain in 180 s"
                );
                outbox.flush().await?;
            }
            let mut heights = vec![];
            for i in 0..PER_SIGNER {
                let e = store
                    .outbox_by_key(&format!("figures/{s}/{i}"))?
                    .ok_or_else(|| anyhow::anyhow!("entry {i} lost"))?;
                ensure!(e.status == OutboxStatus::Done, "{e:?}");
                heights.extend(e.height);
            }
            anyhow::Ok(heights)
        }));
    }
    let mut heights = vec![];
    for t in tasks {
        heights.extend(t.await??);
    }
    let (lo, hi) = (
        heights.iter().min().copied().unwrap_or(0),
        heights.iter().max().copied().unwrap_or(0),
    );
    Ok((heights.len(), hi - lo + 1, started.elapsed().as_secs_f64()))
}

/// The markdown section.
pub async fn throughput(chain: &Chain) -> Result<String> {
    // A cw20 token each signer holds, so every tx is the same small transfer.
    let signers: Vec<String> = (0..4).map(|s| chain.address(FIRST + s)).collect();
    chain.fund(0, &signers, 20_000_000).await?;
    let code = chain.store(0, "cw20-base").await?;
    let balances: Vec<_> = signers
        .iter()
        .map(|a| json!({ "address": a, "amount": "1000000" }))
        .collect();
    let (token, _) = relayer::chain::CodeClient::instantiate(
        &*chain.client(0),
        code,
        &json!({ "name": "Outbox", "symbol": "OUTB", "decimals": 6,
                 "initial_balances": balances, "mint": null, "marketing": null }),
        "figures outbox token",
        None,
        vec![],
    )
    .await?;
    let mut s = String::from(
        "\n## Txs per block through the outbox (cw20 transfers, blocks of ~300 ms)\n\n\
         | signers (relayer instances) | txs | blocks spanned | txs per block | seconds |\n\
         |---:|---:|---:|---:|---:|\n",
    );
    for n in [1, 4] {
        let (txs, blocks, secs) = run(chain, &token, n).await?;
        s += &format!(
            "| {n} | {txs} | {blocks} | {:.2} | {secs:.1} |\n",
            txs as f64 / blocks as f64
        );
    }
    Ok(s)
}
