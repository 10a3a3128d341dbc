//! Fault injection in the embedded chain: failed, lost and delayed
//! broadcasts, blocks not yet indexed and failing queries. The outbox retries
//! with backoff and every effect lands exactly once; the event follower loses
//! no event across missing blocks.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use relayer::chain::{query_smart, ChainMsg, ChainStatus};
use relayer::embedded::{BlockMode, EmbeddedClient, Fault};
use relayer::follow::{EventFilter, EventFollower};
use relayer::metrics::Metrics;
use relayer::outbox::{Outbox, OutboxOptions};
use relayer::store::{OutboxStatus, Store};
use serde_json::{json, Value};

const CHAIN: &str = "wevalue-test";
/// Blocks every 10 ms: delayed txs and lost txs need blocks to keep coming.
const BLOCKS: BlockMode = BlockMode::Interval(Duration::from_millis(10));

fn outbox(store: &Arc<Store>, client: &EmbeddedClient, metrics: &Arc<Metrics>) -> Outbox {
    Outbox::new(
        store.clone(),
        Arc::new(client.clone()),
        CHAIN,
        OutboxOptions {
            inclusion_timeout: Duration::from_millis(300),
            max_attempts: 5,
            transient_retries: 8,
            retry_initial_delay: Duration::from_millis(5),
            retry_max_delay: Duration::from_millis(50),
            ..OutboxOptions::default()
        },
    )
    .with_metrics(metrics.clone())
}

fn listing(registry: &str, title: &str) -> Vec<ChainMsg> {
    vec![ChainMsg::execute(registry, &create_listing(title), vec![]).unwrap()]
}

/// Titles of every listing in the registry, page by page.
async fn titles(client: &EmbeddedClient, registry: &str) -> Vec<String> {
    let mut out = vec![];
    let mut start_after: Option<u64> = None;
    loop {
        let page: Value = query_smart(
            client,
            registry,
            &json!({ "listings": { "start_after": start_after, "limit": 30 } }),
        )
        .await
        .unwrap();
        let items = page["listings"].as_array().unwrap().clone();
        if items.is_empty() {
            return out;
        }
        for item in &items {
            out.push(item["title"].as_str().unwrap().to_string());
        }
        start_after = items.last().unwrap()["id"].as_u64();
    }
}

#[tokio::test]
async fn failed_broadcasts_are_retried_with_backoff_and_land_once() {
    let (chain, client) = chain(BLOCKS).await;
    let registry = deploy_registry(&client).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let metrics = Arc::new(Metrics::new());
    let ob = outbox(&store, &client, &metrics);
    chain.inject(Fault::FailBroadcasts(3)).await.unwrap();
    let entry = ob
        .submit("listing/a", &listing(&registry, "a"), "")
        .await
        .unwrap();
    assert_eq!(entry.status, OutboxStatus::Done);
    assert_eq!(chain.fault_counts().await.unwrap().failed_broadcasts, 3);
    assert_eq!(metrics.total("outbox_retries") as u64, 3);
    assert_eq!(titles(&client, &registry).await, vec!["a"]);
}

#[tokio::test]
async fn a_tx_the_node_lost_is_rebroadcast_as_the_same_bytes() {
    let (chain, client) = chain(BLOCKS).await;
    let registry = deploy_registry(&client).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let metrics = Arc::new(Metrics::new());
    let ob = outbox(&store, &client, &metrics);
    chain.inject(Fault::DropBroadcasts(1)).await.unwrap();
    let entry = ob
        .submit("listing/lost", &listing(&registry, "lost"), "")
        .await
        .unwrap();
    assert_eq!(entry.status, OutboxStatus::Done);
    assert_eq!(chain.fault_counts().await.unwrap().dropped_broadcasts, 1);
    // One signature: the same bytes went out again (no re-sign).
    assert_eq!(store.outbox_attempt_hashes(entry.id).unwrap().len(), 1);
    assert_eq!(titles(&client, &registry).await, vec!["lost"]);
}

#[tokio::test]
async fn a_delayed_tx_is_waited_for_not_duplicated() {
    let (chain, client) = chain(BLOCKS).await;
    let registry = deploy_registry(&client).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let metrics = Arc::new(Metrics::new());
    let ob = outbox(&store, &client, &metrics);
    // Held for 60 blocks (~600 ms), twice the inclusion timeout.
    chain
        .inject(Fault::DelayTxs {
            count: 1,
            blocks: 60,
        })
        .await
        .unwrap();
    let entry = ob
        .submit("listing/slow", &listing(&registry, "slow"), "")
        .await
        .unwrap();
    assert_eq!(entry.status, OutboxStatus::Done);
    assert!(metrics.total("outbox_retries") as u64 >= 1);
    assert_eq!(store.outbox_attempt_hashes(entry.id).unwrap().len(), 1);
    assert_eq!(titles(&client, &registry).await, vec!["slow"]);
}

#[tokio::test]
async fn the_follower_loses_no_event_across_missing_blocks() {
    let (chain, client) = chain(BlockMode::OnDemand).await;
    let registry = deploy_registry(&client).await;
    let start = client.latest_block().await.unwrap().height;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let metrics = Arc::new(Metrics::new());
    let ob = outbox(&store, &client, &metrics);
    for i in 0..12 {
        ob.submit(&format!("l/{i}"), &listing(&registry, &format!("t{i}")), "")
            .await
            .unwrap();
    }
    let mut follower = EventFollower::new(
        EventFilter::contracts([registry.clone()]).with_types(["wasm"]),
        start,
        5,
    );
    let mut seen = vec![];
    let mut errors = 0;
    let mut polls = 0;
    // A node that has not indexed blocks yet, again and again.
    chain.inject(Fault::MissingBlocks(7)).await.unwrap();
    loop {
        polls += 1;
        assert!(polls < 100, "follower made no progress");
        match follower.poll(&client).await {
            Ok(batch) => {
                seen.extend(
                    batch
                        .events
                        .iter()
                        .filter(|e| e.event.attr("action") == Some("create_listing"))
                        .map(|e| (e.height, e.tx_hash.clone())),
                );
                if batch.blocks == 0 && batch.cursor == batch.latest {
                    break;
                }
            }
            Err(e) => {
                assert!(e.is_transient(), "{e}");
                errors += 1;
            }
        }
        if polls % 3 == 0 {
            chain.inject(Fault::MissingBlocks(1)).await.unwrap();
        }
    }
    assert!(errors >= 1);
    assert_eq!(seen.len(), 12, "every create_listing seen once");
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), 12);
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "in order");
}

#[tokio::test]
async fn failed_queries_are_typed_transient_errors() {
    let (chain, client) = chain(BlockMode::OnDemand).await;
    let registry = deploy_registry(&client).await;
    chain.inject(Fault::FailQueries(1)).await.unwrap();
    let err = query_smart::<_, Value>(&client, &registry, &json!({ "config": {} }))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    let ok: Value = query_smart(&client, &registry, &json!({ "config": {} }))
        .await
        .unwrap();
    assert_eq!(ok["listing_count"], 0);
}

#[tokio::test]
async fn advancing_time_moves_block_time() {
    let (chain, client) = chain(BlockMode::OnDemand).await;
    let before = client.latest_block().await.unwrap();
    let after = chain.advance_time(Duration::from_secs(3600)).await.unwrap();
    assert_eq!(after.height, before.height + 1);
    assert!(
        after.time_nanos >= before.time_nanos + 3_600_000_000_000,
        "{before:?} {after:?}"
    );
}

/// Seeded mixes of every broadcast fault under a stream of submissions: each
/// effect lands exactly once, nothing is left open.
#[tokio::test]
async fn twenty_seeded_fault_mixes_land_every_effect_exactly_once() {
    for seed in 0..20u64 {
        let (chain, client) = chain(BLOCKS).await;
        let registry = deploy_registry(&client).await;
        let store = Arc::new(Store::open_in_memory().unwrap());
        let metrics = Arc::new(Metrics::new());
        let ob = outbox(&store, &client, &metrics);
        let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move |n: u64| {
            // xorshift64*: small, deterministic, enough for test schedules.
            rng ^= rng >> 12;
            rng ^= rng << 25;
            rng ^= rng >> 27;
            rng.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
        };
        let n = 6;
        for i in 0..n {
            match next(5) {
                0 => {
                    chain
                        .inject(Fault::FailBroadcasts(1 + next(3) as u32))
                        .await
                }
                1 => chain.inject(Fault::DropBroadcasts(1)).await,
                2 => {
                    chain
                        .inject(Fault::DelayTxs {
                            count: 1,
                            blocks: 5 + next(40),
                        })
                        .await
                }
                _ => Ok(()),
            }
            .unwrap();
            let key = format!("seed{seed}/{i}");
            let result = ob.submit(&key, &listing(&registry, &key), "").await;
            if result.is_err() {
                // Out of retries for now: a later flush finishes it.
                for _ in 0..20 {
                    ob.flush().await.unwrap();
                    if store.outbox_backlog(CHAIN).unwrap() == 0 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        for _ in 0..40 {
            if store.outbox_backlog(CHAIN).unwrap() == 0 {
                break;
            }
            ob.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(store.outbox_backlog(CHAIN).unwrap(), 0, "seed {seed}");
        let mut got = titles(&client, &registry).await;
        got.sort();
        let mut want: Vec<String> = (0..n).map(|i| format!("seed{seed}/{i}")).collect();
        want.sort();
        assert_eq!(got, want, "seed {seed}: each effect exactly once");
        chain.shutdown();
    }
}
