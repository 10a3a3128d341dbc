//! The embedded backend, capability by capability.

mod common;

use std::time::Duration;

use common::*;
use cosmwasm_std::{coin, Checksum};
use relayer::chain::{
    self, find_attr, BlockEventSource, ChainMsg, ChainStatus, CodeClient, CodeUpload, SmartQuery,
    TxClient,
};
use relayer::embedded::{BlockMode, EmbeddedChain};
use relayer::follow::{EventFilter, EventFollower};
use relayer::ChainError;
use serde_json::{json, Value};

#[tokio::test]
async fn genesis_addresses_and_balances() {
    let (chain, client) = chain(BlockMode::OnDemand).await;
    assert_eq!(client.chain_id(), "wevalue-test");
    assert!(client.sender().starts_with("wasm1"), "{}", client.sender());
    assert_eq!(client.latest_block().await.unwrap().height, 1);
    assert_eq!(
        client.balance(client.sender(), DENOM).await.unwrap(),
        1_000_000_000
    );
    chain
        .fund(client.sender(), vec![coin(5, DENOM)])
        .await
        .unwrap();
    assert_eq!(
        client.balance(client.sender(), DENOM).await.unwrap(),
        1_000_000_005
    );
    let bad = chain
        .fund("cosmos1notours", vec![coin(1, DENOM)])
        .await
        .unwrap_err();
    assert!(matches!(bad, ChainError::InvalidAddress { .. }), "{bad}");
}

#[tokio::test]
async fn store_code_uses_artifact_checksum() {
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let info = client
        .store_code(&CodeUpload {
            name: "data-registry".into(),
            wasm: None,
        })
        .await
        .unwrap();
    assert_eq!(info.code_id, 1);
    let wasm =
        std::fs::read(relayer::contracts::workspace_artifacts_dir().join("data-registry.wasm"))
            .expect("artifacts/data-registry.wasm is built by ci/build-wasm.sh");
    assert_eq!(info.checksum, Checksum::generate(&wasm).to_hex());
    assert_eq!(client.code_info(1).await.unwrap(), Some(info.clone()));
    assert_eq!(client.code_info(2).await.unwrap(), None);
    // The store is in the block log as wasmd's store_code event.
    let block = client
        .block_events(client.latest_block().await.unwrap().height)
        .await
        .unwrap();
    assert_eq!(
        find_attr(&block.txs[0].events, "store_code", "code_id"),
        Some("1")
    );
    let unknown = client
        .store_code(&CodeUpload {
            name: "no-such-contract".into(),
            wasm: None,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(unknown, ChainError::UnknownContract { ref name } if name == "no-such-contract")
    );
}

#[tokio::test]
async fn instantiate_execute_query_with_events_and_gas() {
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let registry = deploy_registry(&client).await;
    assert!(registry.starts_with("wasm1"));
    let info = client.contract_info(&registry).await.unwrap().unwrap();
    assert_eq!(info.code_id, 1);
    assert_eq!(info.admin.as_deref(), Some(client.sender()));
    assert_eq!(info.label, "registry");
    assert_eq!(client.contract_info("wasm1nothing").await.unwrap(), None);

    let before = client.account_sequence().await.unwrap();
    let out = chain::execute(&client, &registry, &create_listing("air"), vec![], TIMEOUT)
        .await
        .unwrap();
    assert_eq!(out.code, 0);
    assert!(
        out.gas_used > 60_000 && out.gas_used < out.gas_wanted,
        "{}",
        out.gas_used
    );
    assert_eq!(
        find_attr(&out.events, "wasm", "action"),
        Some("create_listing")
    );
    assert_eq!(
        find_attr(&out.events, "wasm", "_contract_address"),
        Some(registry.as_str())
    );
    assert_eq!(client.account_sequence().await.unwrap(), before + 1);
    assert_eq!(listing_count(&client, &registry).await, 1);
    assert_eq!(client.find_tx(&out.hash).await.unwrap(), Some(out.clone()));

    let listing: Value = chain::query_smart(&client, &registry, &json!({ "listing": { "id": 1 } }))
        .await
        .unwrap();
    assert_eq!(listing["title"], "air");
    assert_eq!(listing["seller"], client.sender());

    // Contract errors come back typed.
    let err = client
        .query_smart_raw(&registry, br#"{"listing":{"id":99}}"#)
        .await
        .unwrap_err();
    assert!(matches!(err, ChainError::Query { .. }), "{err}");
    let err = chain::execute(
        &client,
        &registry,
        &json!({ "pause_listing": { "id": 99 } }),
        vec![],
        TIMEOUT,
    )
    .await
    .unwrap_err();
    let ChainError::TxFailed { code, log, .. } = err else {
        panic!("{err}")
    };
    assert_eq!(code, 5);
    assert!(
        log.to_lowercase().contains("99") || log.to_lowercase().contains("not found"),
        "{log}"
    );
    // A failed tx still consumes its sequence, as on a Cosmos chain.
    assert_eq!(client.account_sequence().await.unwrap(), before + 2);
}

#[tokio::test]
async fn funds_move_with_execute() {
    let (chain, client) = chain(BlockMode::OnDemand).await;
    let registry = deploy_registry(&client).await;
    // The registry is nonpayable: funds are refused and nothing moves.
    let err = chain::execute(
        &client,
        &registry,
        &create_listing("x"),
        vec![coin(7, DENOM)],
        TIMEOUT,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ChainError::TxFailed { .. }));
    assert_eq!(client.balance(&registry, DENOM).await.unwrap(), 0);
    // cw20 instantiate with initial balances, then a transfer.
    let cw20 = client
        .store_code(&CodeUpload {
            name: "cw20-base".into(),
            wasm: None,
        })
        .await
        .unwrap();
    let bob = chain.addr_make("bob").await.unwrap();
    let (token, _) = client
        .instantiate(
            cw20.code_id,
            &json!({ "name": "City Value", "symbol": "CITY", "decimals": 6,
                     "initial_balances": [{ "address": client.sender(), "amount": "1000" }] }),
            "city token",
            None,
            vec![],
        )
        .await
        .unwrap();
    chain::execute(
        &client,
        &token,
        &json!({ "transfer": { "recipient": bob, "amount": "400" } }),
        vec![],
        TIMEOUT,
    )
    .await
    .unwrap();
    let bal: Value = chain::query_smart(&client, &token, &json!({ "balance": { "address": bob } }))
        .await
        .unwrap();
    assert_eq!(bal["balance"], "400");
}

#[tokio::test]
async fn sequence_mismatch_is_detected_and_submit_retries_once() {
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let registry = deploy_registry(&client).await;
    let msgs = [ChainMsg::execute(&registry, &create_listing("a"), vec![]).unwrap()];
    let seq = client.account_sequence().await.unwrap();
    let stale = client.sign(&msgs, "", seq + 5).await.unwrap();
    let err = client.broadcast(&stale).await.unwrap_err();
    assert!(
        matches!(err, ChainError::SequenceMismatch { expected, got } if expected == seq && got == seq + 5)
    );
    // Same bytes twice: the chain refuses the duplicate.
    let tx = client.sign(&msgs, "", seq).await.unwrap();
    client.broadcast(&tx).await.unwrap();
    let dup = client.broadcast(&tx).await.unwrap_err();
    assert!(
        matches!(
            dup,
            ChainError::Rejected { code: 19, .. } | ChainError::SequenceMismatch { .. }
        ),
        "{dup}"
    );
    assert_eq!(listing_count(&client, &registry).await, 1);
}

#[tokio::test]
async fn wrong_chain_id_is_rejected() {
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let other = EmbeddedChain::start(relayer::embedded::EmbeddedOptions {
        chain_id: "other-chain".into(),
        ..options(BlockMode::OnDemand)
    })
    .unwrap();
    let foreign = other.client(client.sender());
    let tx = foreign.sign(&[], "", 0).await.unwrap();
    let err = client.broadcast(&tx).await.unwrap_err();
    assert!(matches!(err, ChainError::Rejected { code: 4, .. }), "{err}");
}

#[tokio::test]
async fn manual_blocks_hold_the_mempool_and_keep_order() {
    let (chain, client) = chain(BlockMode::Manual).await;
    // Manual mode: store code commits its own block; instantiate needs a block.
    let code = client
        .store_code(&CodeUpload {
            name: "data-registry".into(),
            wasm: None,
        })
        .await
        .unwrap();
    let inst = [ChainMsg::Instantiate {
        code_id: code.code_id,
        msg: registry_instantiate().to_string(),
        funds: vec![],
        label: "r".into(),
        admin: None,
    }];
    let tx = client.sign(&inst, "", 0).await.unwrap();
    client.broadcast(&tx).await.unwrap();
    assert_eq!(client.find_tx(&tx.hash).await.unwrap(), None);
    let height = chain.produce_block().await.unwrap().height;
    let out = client.find_tx(&tx.hash).await.unwrap().unwrap();
    assert_eq!(out.height, height);
    let registry = find_attr(&out.events, "instantiate", "_contract_address")
        .unwrap()
        .to_string();

    // Two txs in the mempool at consecutive sequences land in one block, in order.
    let a = client
        .sign(
            &[ChainMsg::execute(&registry, &create_listing("first"), vec![]).unwrap()],
            "",
            1,
        )
        .await
        .unwrap();
    let b = client
        .sign(
            &[ChainMsg::execute(&registry, &create_listing("second"), vec![]).unwrap()],
            "",
            2,
        )
        .await
        .unwrap();
    client.broadcast(&a).await.unwrap();
    client.broadcast(&b).await.unwrap();
    assert_eq!(
        client.account_sequence().await.unwrap(),
        1,
        "committed state lags the mempool"
    );
    let waiter = {
        let client = client.clone();
        let hash = b.hash.clone();
        tokio::spawn(async move { client.wait_for_tx(&hash, TIMEOUT).await })
    };
    let block = chain.produce_block().await.unwrap();
    let b_out = waiter.await.unwrap().unwrap();
    assert_eq!(b_out.height, block.height);
    let events = client.block_events(block.height).await.unwrap();
    assert_eq!(events.txs.len(), 2);
    assert_eq!(events.txs[0].hash, a.hash);
    assert_eq!(events.txs[1].hash, b.hash);
    assert_eq!(client.account_sequence().await.unwrap(), 3);

    let err = client
        .wait_for_tx("00FF", Duration::from_millis(50))
        .await
        .unwrap_err();
    assert!(matches!(err, ChainError::InclusionTimeout { .. }));
    let err = client.block_events(block.height + 1).await.unwrap_err();
    assert!(matches!(err, ChainError::BlockUnavailable { .. }));
}

#[tokio::test]
async fn interval_blocks_advance_time_and_include_txs() {
    let (_chain, client) = chain(BlockMode::Interval(Duration::from_millis(20))).await;
    let start = client.latest_block().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let later = client.latest_block().await.unwrap();
    assert!(later.height >= start.height + 3, "{start:?} -> {later:?}");
    assert!(later.time_nanos > start.time_nanos);
    let registry = deploy_registry(&client).await;
    let out = chain::execute(&client, &registry, &create_listing("tick"), vec![], TIMEOUT)
        .await
        .unwrap();
    assert!(out.height > later.height);
}

#[tokio::test]
async fn event_following_from_a_cursor() {
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let registry = deploy_registry(&client).await;
    let mut follower = EventFollower::new(EventFilter::contracts([registry.clone()]), 0, 1000);
    let first = follower.poll(&client).await.unwrap();
    // Instantiate emitted an `instantiate` event and a `wasm` event by the registry.
    assert!(first
        .events
        .iter()
        .any(|e| e.event.ty == "wasm" && e.event.attr("action") == Some("instantiate")));
    assert_eq!(first.cursor, client.latest_block().await.unwrap().height);

    for i in 0..3 {
        chain::execute(
            &client,
            &registry,
            &create_listing(&format!("l{i}")),
            vec![],
            TIMEOUT,
        )
        .await
        .unwrap();
    }
    // A failed tx emits nothing to follow.
    let _ = chain::execute(
        &client,
        &registry,
        &json!({ "pause_listing": { "id": 77 } }),
        vec![],
        TIMEOUT,
    )
    .await;

    let mut only_wasm = follower.clone();
    only_wasm.set_filter(EventFilter::contracts([registry.clone()]).with_types(["wasm"]));
    let batch = only_wasm.poll(&client).await.unwrap();
    let ids: Vec<_> = batch
        .events
        .iter()
        .filter_map(|e| e.event.attr("listing_id").or(e.event.attr("id")))
        .collect();
    assert_eq!(batch.events.len(), 3, "{:?}", batch.events);
    assert_eq!(batch.blocks, 4);
    assert!(batch.events.windows(2).all(|w| w[0].height < w[1].height));
    let _ = ids;

    // Resuming from a persisted cursor sees only what came after it.
    let mut resumed = EventFollower::new(
        EventFilter::contracts([registry.clone()]).with_types(["wasm"]),
        batch.cursor - 1,
        1000,
    );
    let tail = resumed.poll(&client).await.unwrap();
    assert_eq!(
        tail.events.len(),
        0,
        "the last block held the failed tx only"
    );
    let mut resumed = EventFollower::new(
        EventFilter::contracts([registry.clone()]).with_types(["wasm"]),
        batch.cursor - 2,
        1,
    );
    let tail = resumed.poll(&client).await.unwrap();
    assert_eq!(tail.events.len(), 1);
    assert_eq!(tail.events[0].event.attr("action"), Some("create_listing"));
    assert_eq!(
        tail.latest - tail.cursor,
        1,
        "max_blocks bounds a poll; lag is visible"
    );

    // Another contract's events are filtered out.
    let mut other = EventFollower::new(EventFilter::contracts(["wasm1someoneelse"]), 0, 1000);
    assert!(other.poll(&client).await.unwrap().events.is_empty());
}

#[tokio::test]
async fn pruned_blocks_are_reported_as_a_gap_and_skipped() {
    let chain = EmbeddedChain::start(relayer::embedded::EmbeddedOptions {
        retain_blocks: 5,
        ..options(BlockMode::Manual)
    })
    .unwrap();
    let client = chain.client(chain.addr_make("a").await.unwrap());
    for _ in 0..9 {
        chain.produce_block().await.unwrap();
    }
    // Heights 1..=10 were produced; 6..=10 are kept.
    let err = client.block_events(2).await.unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::BlockPruned {
                height: 2,
                earliest: 6
            }
        ),
        "{err}"
    );
    let mut follower = EventFollower::new(EventFilter::default(), 0, 100);
    let batch = follower.poll(&client).await.unwrap();
    assert_eq!(batch.gap, Some((1, 5)));
    assert_eq!(batch.blocks, 5);
    assert_eq!(batch.cursor, 10);
}
