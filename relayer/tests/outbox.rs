//! The outbox against the embedded chain: side effects are written before
//! broadcast, and after a crash at any point they land exactly once.

mod common;

use std::sync::Arc;

use common::*;
use relayer::chain::{ChainMsg, TxClient};
use relayer::embedded::BlockMode;
use relayer::outbox::{Outbox, OutboxOptions, ReconcileReport};
use relayer::store::{OutboxStatus, Store};

const CHAIN: &str = "wevalue-test";

fn outbox(store: &Arc<Store>, client: &relayer::embedded::EmbeddedClient) -> Outbox {
    Outbox::new(
        store.clone(),
        Arc::new(client.clone()),
        CHAIN,
        OutboxOptions {
            inclusion_timeout: TIMEOUT,
            max_attempts: 3,
            ..OutboxOptions::default()
        },
    )
}

fn listing(registry: &str, title: &str) -> Vec<ChainMsg> {
    vec![ChainMsg::execute(registry, &create_listing(title), vec![]).unwrap()]
}

#[tokio::test]
async fn submit_is_idempotent_by_key() {
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let registry = deploy_registry(&client).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let ob = outbox(&store, &client);
    let first = ob
        .submit("listing/1", &listing(&registry, "one"), "")
        .await
        .unwrap();
    assert_eq!(first.status, OutboxStatus::Done);
    assert!(first.height.is_some() && first.gas_used.unwrap() > 0);
    let again = ob
        .submit("listing/1", &listing(&registry, "one"), "")
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(listing_count(&client, &registry).await, 1);
}

#[tokio::test]
async fn crash_between_broadcast_and_confirmation_is_reconciled_without_resending() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relayer.sqlite");
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let registry = deploy_registry(&client).await;
    let seq_before;
    {
        // The process records the effect, signs, records the signed tx,
        // broadcasts (the chain includes it) ... and dies before it records
        // the confirmation.
        let store = Store::open(&db).unwrap();
        let entry = store
            .enqueue("listing/crash", CHAIN, &listing(&registry, "crash"), "")
            .unwrap();
        seq_before = client.account_sequence().await.unwrap();
        let tx = client.sign(&entry.msgs, "", seq_before).await.unwrap();
        store.record_signed(entry.id, &tx).unwrap();
        client.broadcast(&tx).await.unwrap();
        assert_eq!(
            store.outbox_entry(entry.id).unwrap().status,
            OutboxStatus::Signed
        );
    }
    assert_eq!(listing_count(&client, &registry).await, 1);

    // Restart: reconcile finds the tx on chain and sends nothing.
    let store = Arc::new(Store::open(&db).unwrap());
    let ob = outbox(&store, &client);
    let report = ob.reconcile().await.unwrap();
    assert_eq!(
        report,
        ReconcileReport {
            found_on_chain: 1,
            ..Default::default()
        }
    );
    let entry = store.outbox_by_key("listing/crash").unwrap().unwrap();
    assert_eq!(entry.status, OutboxStatus::Done);
    assert_eq!(
        client.account_sequence().await.unwrap(),
        seq_before + 1,
        "nothing was sent again"
    );
    assert_eq!(listing_count(&client, &registry).await, 1);
    // And submitting the same effect again is a no-op.
    ob.submit("listing/crash", &listing(&registry, "crash"), "")
        .await
        .unwrap();
    assert_eq!(listing_count(&client, &registry).await, 1);
    assert_eq!(store.outbox_backlog(CHAIN).unwrap(), 0);
}

#[tokio::test]
async fn crash_after_broadcast_before_inclusion_waits_for_the_same_tx() {
    let (chain, client) = chain(BlockMode::Manual).await;
    let code = relayer::chain::CodeClient::store_code(
        &client,
        &relayer::chain::CodeUpload {
            name: "data-registry".into(),
            wasm: None,
        },
    )
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
    chain.produce_block().await.unwrap();
    let out = client.find_tx(&tx.hash).await.unwrap().unwrap();
    let registry = relayer::chain::find_attr(&out.events, "instantiate", "_contract_address")
        .unwrap()
        .to_string();

    let store = Arc::new(Store::open_in_memory().unwrap());
    let entry = store
        .enqueue("listing/mempool", CHAIN, &listing(&registry, "m"), "")
        .unwrap();
    let tx = client.sign(&entry.msgs, "", 1).await.unwrap();
    store.record_signed(entry.id, &tx).unwrap();
    client.broadcast(&tx).await.unwrap();
    // Crash: the tx sits in the mempool. On restart the same bytes are
    // re-broadcast (the node says it already has them) and awaited.
    let ob = outbox(&store, &client);
    // The block comes once the outbox has sent the same bytes again (the
    // entry moves from signed to broadcast), not after a fixed delay that a
    // loaded machine can outrun.
    let producer = {
        let (chain, store, id) = (chain.clone(), store.clone(), entry.id);
        tokio::spawn(async move {
            for _ in 0..1000 {
                if store.outbox_entry(id).unwrap().status == OutboxStatus::Broadcast {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            chain.produce_block().await.unwrap();
        })
    };
    let report = ob.reconcile().await.unwrap();
    producer.await.unwrap();
    assert_eq!(report.rebroadcast, 1);
    let entry = store.outbox_entry(entry.id).unwrap();
    assert_eq!(entry.status, OutboxStatus::Done);
    assert_eq!(entry.tx.unwrap().hash, tx.hash, "the same signed tx landed");
    assert_eq!(listing_count(&client, &registry).await, 1);
}

#[tokio::test]
async fn crash_after_signing_before_broadcast_sends_once() {
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let registry = deploy_registry(&client).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let entry = store
        .enqueue("listing/unsent", CHAIN, &listing(&registry, "u"), "")
        .unwrap();
    let seq = client.account_sequence().await.unwrap();
    let tx = client.sign(&entry.msgs, "", seq).await.unwrap();
    store.record_signed(entry.id, &tx).unwrap();
    // Crash before broadcast.
    let report = outbox(&store, &client).reconcile().await.unwrap();
    assert_eq!(report.rebroadcast, 1);
    assert_eq!(
        store.outbox_entry(entry.id).unwrap().status,
        OutboxStatus::Done
    );
    assert_eq!(listing_count(&client, &registry).await, 1);
}

#[tokio::test]
async fn a_signed_tx_whose_sequence_was_taken_is_signed_again() {
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let registry = deploy_registry(&client).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let entry = store
        .enqueue("listing/late", CHAIN, &listing(&registry, "late"), "")
        .unwrap();
    let seq = client.account_sequence().await.unwrap();
    let stale = client.sign(&entry.msgs, "", seq).await.unwrap();
    store.record_signed(entry.id, &stale).unwrap();
    // Something else used the sequence (another process with the same key).
    relayer::chain::execute(
        &client,
        &registry,
        &create_listing("other"),
        vec![],
        TIMEOUT,
    )
    .await
    .unwrap();
    let report = outbox(&store, &client).reconcile().await.unwrap();
    assert_eq!(report.resigned, 1);
    let done = store.outbox_entry(entry.id).unwrap();
    assert_eq!(done.status, OutboxStatus::Done);
    assert_ne!(done.tx.unwrap().hash, stale.hash);
    assert_eq!(done.attempts, 2);
    assert_eq!(
        listing_count(&client, &registry).await,
        2,
        "other + late, once each"
    );
}

#[tokio::test]
async fn failed_effects_are_final_and_flush_drives_the_backlog() {
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let registry = deploy_registry(&client).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let ob = outbox(&store, &client);
    let bad = vec![ChainMsg::execute(
        &registry,
        &serde_json::json!({ "pause_listing": { "id": 5 } }),
        vec![],
    )
    .unwrap()];
    let failed = ob.submit("pause/5", &bad, "").await.unwrap();
    assert_eq!(failed.status, OutboxStatus::Failed);
    assert!(failed.last_error.unwrap().starts_with("code 5"));
    for i in 0..3 {
        ob.enqueue(
            &format!("listing/{i}"),
            &listing(&registry, &format!("t{i}")),
            "",
        )
        .await
        .unwrap();
    }
    assert_eq!(store.outbox_backlog(CHAIN).unwrap(), 3);
    assert_eq!(ob.flush().await.unwrap(), 3);
    assert_eq!(store.outbox_backlog(CHAIN).unwrap(), 0);
    assert_eq!(listing_count(&client, &registry).await, 3);
}

#[tokio::test]
async fn outbox_reports_metrics() {
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let registry = deploy_registry(&client).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let metrics = Arc::new(relayer::metrics::Metrics::new());
    let ob = outbox(&store, &client).with_metrics(metrics.clone());
    ob.submit("m/1", &listing(&registry, "m"), "")
        .await
        .unwrap();
    let bad = vec![ChainMsg::execute(
        &registry,
        &serde_json::json!({ "pause_listing": { "id": 9 } }),
        vec![],
    )
    .unwrap()];
    ob.submit("m/2", &bad, "").await.unwrap();
    ob.flush().await.unwrap();
    assert_eq!(metrics.total("txs_submitted"), 2.0);
    assert_eq!(metrics.total("txs_failed"), 1.0);
    assert!(metrics.total("gas_used") > 100_000.0);
    assert_eq!(metrics.total("outbox_backlog"), 0.0);
    // Both included (one failed on chain): one latency sample each, under
    // the service (the key's first segment) and the message kind.
    assert_eq!(metrics.total("tx_latency_seconds_count"), 2.0);
    let text = metrics.render();
    for kind in ["create_listing", "pause_listing"] {
        assert!(
            text.contains(&format!(
                "wevalue_relayer_tx_latency_seconds_count{{chain=\"{CHAIN}\",service=\"m\",kind=\"{kind}\"}} 1"
            )),
            "{text}"
        );
    }
    assert!(
        text.contains(&format!(
            "wevalue_relayer_txs_failed_total{{chain=\"{CHAIN}\",service=\"m\",kind=\"pause_listing\",code=\"5\"}} 1"
        )),
        "{text}"
    );
}

/// A client whose first signature waits for a go-ahead, so a test can line
/// up a second handle behind it.
struct Gated {
    inner: relayer::embedded::EmbeddedClient,
    entered: Arc<tokio::sync::Notify>,
    go: Arc<tokio::sync::Notify>,
    signs: std::sync::atomic::AtomicU32,
}

#[async_trait::async_trait]
impl TxClient for Gated {
    fn sender(&self) -> &str {
        self.inner.sender()
    }
    async fn account_sequence(&self) -> relayer::chain::ChainResult<u64> {
        self.inner.account_sequence().await
    }
    async fn sign(
        &self,
        msgs: &[ChainMsg],
        memo: &str,
        sequence: u64,
    ) -> relayer::chain::ChainResult<relayer::chain::SignedTx> {
        if self.signs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            self.entered.notify_one();
            self.go.notified().await;
        }
        self.inner.sign(msgs, memo, sequence).await
    }
    async fn broadcast(&self, tx: &relayer::chain::SignedTx) -> relayer::chain::ChainResult<()> {
        self.inner.broadcast(tx).await
    }
    async fn find_tx(
        &self,
        hash: &str,
    ) -> relayer::chain::ChainResult<Option<relayer::chain::TxOutcome>> {
        self.inner.find_tx(hash).await
    }
    async fn latest_height(&self) -> relayer::chain::ChainResult<u64> {
        self.inner.latest_height().await
    }
    async fn tx_in_block(
        &self,
        hash: &str,
        height: u64,
    ) -> relayer::chain::ChainResult<Option<relayer::chain::TxOutcome>> {
        self.inner.tx_in_block(hash, height).await
    }
    async fn wait_for_tx(
        &self,
        hash: &str,
        timeout: std::time::Duration,
    ) -> relayer::chain::ChainResult<relayer::chain::TxOutcome> {
        self.inner.wait_for_tx(hash, timeout).await
    }
}

#[tokio::test]
async fn a_flush_behind_a_service_never_signs_the_same_entry_again() {
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let registry = deploy_registry(&client).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let gated = Arc::new(Gated {
        inner: client.clone(),
        entered: Default::default(),
        go: Default::default(),
        signs: Default::default(),
    });
    let ob = Arc::new(Outbox::new(
        store.clone(),
        gated.clone(),
        CHAIN,
        OutboxOptions {
            inclusion_timeout: TIMEOUT,
            ..OutboxOptions::default()
        },
    ));
    let msgs = listing(&registry, "once");
    // A service submits: it holds the signer's turn, inside `sign`.
    let service = {
        let (ob, msgs) = (ob.clone(), msgs.clone());
        tokio::spawn(async move { ob.submit("svc/once", &msgs, "").await })
    };
    gated.entered.notified().await;
    // The daemon's flush reads the open entries (this one still pending)
    // and waits for the turn.
    let flush = {
        let ob = ob.clone();
        tokio::spawn(async move { ob.flush().await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    gated.go.notify_one();
    let done = service.await.unwrap().unwrap();
    flush.await.unwrap().unwrap();
    assert_eq!(done.status, OutboxStatus::Done);
    assert_eq!(
        gated.signs.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the flush re-read the entry under the turn and found it done"
    );
    assert_eq!(store.outbox_entry(done.id).unwrap().attempts, 1);
    assert_eq!(listing_count(&client, &registry).await, 1);
}
