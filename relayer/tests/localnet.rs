//! The relayer against a real wasmd localnet (issue 13 §3): every tx carries
//! a timeout height; CometBFT's "tx already exists in cache" means accepted;
//! a tx whose sequence was taken is signed again only after its timeout
//! height passed and it is in none of the blocks; errors are classified by
//! codespace and code (a contract's refusal at simulation is bounded and
//! final, insufficient funds is an alert and never a failure); blocks' own
//! `finalize_block_events` are read; the start-up health check names what
//! is wrong (also as `relayer health-check`).
//!
//! `ci/relayer-localnet-test.sh` starts a fresh localnet and runs these with
//! `-- --ignored`; there a missing chain fails (`WEVALUE_LOCALNET_DIR` must
//! point at a running localnet). Each test signs with its own test actor
//! from `ci/localnet/accounts.json`, so they run in parallel.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cosmrs::proto::cosmos::tx::v1beta1::{TxBody, TxRaw};
use cosmrs::proto::prost::Message;
use relayer::chain::{
    self, BlockEventSource, ChainMsg, ChainStatus, CodeClient, CodeUpload, TxClient,
};
use relayer::config::RpcCompat;
use relayer::cosmos::{CosmosClient, CosmosOptions};
use relayer::deploy::{deploy_with, recorded_checksum, DeploySpec};
use relayer::keys::{generate_mnemonic, Signer};
use relayer::metrics::Metrics;
use relayer::outbox::{Outbox, OutboxError, OutboxOptions};
use relayer::store::{OutboxStatus, Store};
use relayer::FailureClass;
use serde_json::{json, Value};

const IGNORED: &str = "needs a wasmd localnet: ci/relayer-localnet-test.sh";

/// The city chain of the running localnet.
struct Localnet {
    rpc: String,
    chain_id: String,
    denom: String,
    gas_price: f64,
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn localnet() -> Localnet {
    let dir = std::env::var("WEVALUE_LOCALNET_DIR")
        .unwrap_or_else(|_| panic!("WEVALUE_LOCALNET_DIR is not set ({IGNORED})"));
    let path = Path::new(&dir).join("localnet.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} ({IGNORED})", path.display()));
    let info: Value = serde_json::from_str(&text).unwrap();
    let city = &info["chains"]["city"];
    let price = city["gas_price"].as_str().unwrap();
    let split = price.find(|c: char| c.is_ascii_alphabetic()).unwrap();
    Localnet {
        rpc: city["rpc"].as_str().unwrap().to_string(),
        chain_id: city["chain_id"].as_str().unwrap().to_string(),
        denom: price[split..].to_string(),
        gas_price: price[..split].parse().unwrap(),
    }
}

fn mnemonic(actor: &str) -> String {
    let text = std::fs::read_to_string(root().join("ci/localnet/accounts.json")).unwrap();
    let accounts: Value = serde_json::from_str(&text).unwrap();
    accounts["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == actor)
        .unwrap_or_else(|| panic!("no actor {actor}"))["mnemonic"]
        .as_str()
        .unwrap()
        .to_string()
}

fn options(net: &Localnet) -> CosmosOptions {
    CosmosOptions {
        chain_id: net.chain_id.clone(),
        rpc_url: net.rpc.clone(),
        compat: RpcCompat::V0_38,
        fee_denom: net.denom.clone(),
        gas_price: net.gas_price,
        gas_multiplier: 1.4,
        max_gas: 20_000_000,
        inclusion_timeout: Duration::from_secs(20),
        poll_interval: Duration::from_millis(100),
        timeout_blocks: 10,
    }
}

fn client_with(phrase: &str, options: CosmosOptions) -> Arc<CosmosClient> {
    let signer = Signer::from_mnemonic(phrase, "wasm", 0).unwrap();
    Arc::new(CosmosClient::new(options, signer).unwrap())
}

fn client(
    net: &Localnet,
    actor: &str,
    tweak: impl FnOnce(&mut CosmosOptions),
) -> Arc<CosmosClient> {
    let mut o = options(net);
    tweak(&mut o);
    client_with(&mnemonic(actor), o)
}

fn outbox(store: &Arc<Store>, client: &Arc<CosmosClient>, metrics: Option<Arc<Metrics>>) -> Outbox {
    let ob = Outbox::new(
        store.clone(),
        client.clone(),
        client.chain_id(),
        OutboxOptions {
            inclusion_timeout: Duration::from_secs(20),
            transient_retries: 1,
            retry_initial_delay: Duration::from_millis(100),
            retry_max_delay: Duration::from_millis(200),
            max_refusals: 3,
            ..OutboxOptions::default()
        },
    );
    match metrics {
        Some(m) => ob.with_metrics(m),
        None => ob,
    }
}

/// Stores the data registry's artifact and instantiates it (no admin).
async fn deploy_registry(client: &CosmosClient) -> String {
    let wasm = std::fs::read(root().join("artifacts/data-registry.wasm"))
        .expect("artifacts/data-registry.wasm: run ci/build-wasm.sh");
    let code = client
        .store_code(&CodeUpload {
            name: "data-registry".into(),
            wasm: Some(wasm),
        })
        .await
        .unwrap();
    let msg = json!({ "owner": null, "listing_deposit": null, "curation_registry": null, "purchase_verifier": null });
    client
        .instantiate(code.code_id, &msg, "registry", None, vec![])
        .await
        .unwrap()
        .0
}

fn create_listing(title: &str) -> Value {
    json!({ "create_listing": {
        "title": title,
        "description": "PM2.5 every minute",
        "category": "air-quality",
        "sensor_type": "pm2.5",
        "unit": "ug/m3",
        "location": { "latitude": "45.0703", "longitude": "7.6869" },
        "price": { "asset": { "native": "ustake" }, "amount": "10", "model": "per_message" },
        "metadata_cid": "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
        "endpoint": "wss://sensors.turin.example/air",
        "terms": { "license": "CC-BY-4.0", "terms_hash": "07".repeat(32) }
    }})
}

fn listing(registry: &str, title: &str) -> Vec<ChainMsg> {
    vec![ChainMsg::execute(registry, &create_listing(title), vec![]).unwrap()]
}

async fn listing_count(client: &CosmosClient, registry: &str) -> u64 {
    let config: Value = chain::query_smart(client, registry, &json!({ "config": {} }))
        .await
        .unwrap();
    config["listing_count"].as_u64().unwrap()
}

/// Waits until the chain is past `height`.
async fn past(client: &CosmosClient, height: u64) {
    for _ in 0..600 {
        if client.latest_height().await.unwrap() > height {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the chain did not pass height {height} in 120 s");
}

#[tokio::test]
#[ignore = "needs a wasmd localnet: ci/relayer-localnet-test.sh"]
async fn txs_carry_a_timeout_height_and_a_rebroadcast_already_in_cache_is_accepted() {
    let net = localnet();
    let client = client(&net, "test-20", |o| o.timeout_blocks = 40);
    let registry = deploy_registry(&client).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let ob = outbox(&store, &client, None);

    let done = ob
        .submit("lt/cache/1", &listing(&registry, "one"), "")
        .await
        .unwrap();
    assert_eq!(done.status, OutboxStatus::Done, "{done:?}");
    let tx = done.tx.clone().unwrap();
    assert!(tx.signed_height > 0);
    assert_eq!(tx.timeout_height, tx.signed_height + 40);
    let body = TxBody::decode(
        TxRaw::decode(tx.bytes.as_slice())
            .unwrap()
            .body_bytes
            .as_slice(),
    )
    .unwrap();
    assert_eq!(
        body.timeout_height, tx.timeout_height,
        "the signed body carries it"
    );
    let included = done.height.unwrap();
    assert!(tx.signed_height < included && included <= tx.timeout_height);

    // The same bytes again: CometBFT answers with a JSON-RPC error, not a
    // CheckTx code; it means the node has the tx.
    let err = client.broadcast(&tx).await.unwrap_err();
    assert!(err.is_already_in_mempool(), "{err}");

    // An entry whose tx reached the node before a crash (broadcast, not
    // recorded): the outbox's broadcast is answered "already in cache" and
    // the entry is done without a second tx.
    let entry = store
        .enqueue(
            "lt/cache/2",
            client.chain_id(),
            &listing(&registry, "two"),
            "",
        )
        .unwrap();
    let seq = client.account_sequence().await.unwrap();
    let tx = client.sign(&entry.msgs, "", seq).await.unwrap();
    assert!(store.record_signed(entry.id, &tx).unwrap());
    client.broadcast(&tx).await.unwrap();
    client
        .wait_for_tx(&tx.hash, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(ob.flush().await.unwrap(), 1);
    let entry = store.outbox_entry(entry.id).unwrap();
    assert_eq!(entry.status, OutboxStatus::Done, "{entry:?}");
    assert_eq!(entry.attempts, 1);
    assert_eq!(
        client.account_sequence().await.unwrap(),
        seq + 1,
        "nothing sent twice"
    );
    assert_eq!(listing_count(&client, &registry).await, 2);
}

#[tokio::test]
#[ignore = "needs a wasmd localnet: ci/relayer-localnet-test.sh"]
async fn a_tx_whose_sequence_was_taken_is_signed_again_only_after_its_timeout() {
    let net = localnet();
    let client = client(&net, "test-21", |o| o.timeout_blocks = 12);
    let registry = deploy_registry(&client).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let ob = outbox(&store, &client, None);

    // Signed and recorded, never broadcast (the node lost it) ...
    let entry = store
        .enqueue(
            "lt/resign",
            client.chain_id(),
            &listing(&registry, "late"),
            "",
        )
        .unwrap();
    let seq = client.account_sequence().await.unwrap();
    let lost = client.sign(&entry.msgs, "", seq).await.unwrap();
    assert!(store.record_signed(entry.id, &lost).unwrap());
    // ... and another tx took its sequence.
    chain::execute(
        &*client,
        &registry,
        &create_listing("other"),
        vec![],
        Duration::from_secs(20),
    )
    .await
    .unwrap();

    // Before the timeout height, "not in the indexer" proves nothing: the
    // entry keeps its signature.
    ob.flush().await.unwrap();
    let open = store.outbox_entry(entry.id).unwrap();
    assert_eq!(open.status, OutboxStatus::Signed, "{open:?}");
    assert_eq!(open.attempts, 1, "not signed again before the timeout");
    assert!(client.latest_height().await.unwrap() <= lost.timeout_height);

    // Past it, and in none of the blocks since signing: signed again, once.
    past(&client, lost.timeout_height).await;
    ob.flush().await.unwrap();
    let done = store.outbox_entry(entry.id).unwrap();
    assert_eq!(done.status, OutboxStatus::Done, "{done:?}");
    assert_eq!(done.attempts, 2);
    assert_ne!(done.tx.unwrap().hash, lost.hash);
    assert_eq!(
        listing_count(&client, &registry).await,
        2,
        "other + late, once each"
    );
}

#[tokio::test]
#[ignore = "needs a wasmd localnet: ci/relayer-localnet-test.sh"]
async fn a_contract_refusal_at_simulation_is_retried_a_bounded_number_of_times() {
    let net = localnet();
    let client = client(&net, "test-22", |_| {});
    let registry = deploy_registry(&client).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let metrics = Arc::new(Metrics::new());
    let ob = outbox(&store, &client, Some(metrics.clone()));
    let seq = client.account_sequence().await.unwrap();

    let bad = vec![ChainMsg::execute(
        &registry,
        &json!({ "pause_listing": { "id": 999 } }),
        vec![],
    )
    .unwrap()];
    let err = ob.submit("lt/refused", &bad, "").await.unwrap_err();
    let OutboxError::Chain { source, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        matches!(source, relayer::ChainError::TxFailed { codespace, .. } if codespace == "wasm"),
        "{source}"
    );
    assert_eq!(source.failure_class(), Some(FailureClass::Contract));
    let entry = store.outbox_by_key("lt/refused").unwrap().unwrap();
    assert_eq!((entry.status, entry.refusals), (OutboxStatus::Pending, 1));

    // A good entry behind it is not held up; the refused one fails for good
    // on its third refusal, with its class.
    ob.enqueue("lt/after", &listing(&registry, "after"), "")
        .await
        .unwrap();
    ob.flush().await.unwrap();
    assert_eq!(
        store.outbox_by_key("lt/after").unwrap().unwrap().status,
        OutboxStatus::Done
    );
    ob.flush().await.unwrap();
    let failed = store.outbox_by_key("lt/refused").unwrap().unwrap();
    assert_eq!(failed.status, OutboxStatus::Failed, "{failed:?}");
    assert_eq!(failed.failure, Some(FailureClass::Contract));
    assert_eq!(failed.refusals, 3);
    assert_eq!(failed.attempts, 0, "never signed");
    assert!(failed.last_error.unwrap().contains("codespace wasm"));
    assert_eq!(
        client.account_sequence().await.unwrap(),
        seq + 1,
        "only the good entry was sent"
    );
    assert_eq!(metrics.total("txs_failed"), 1.0);
}

#[tokio::test]
#[ignore = "needs a wasmd localnet: ci/relayer-localnet-test.sh"]
async fn insufficient_funds_is_an_alert_and_the_effect_lands_once_funded() {
    let net = localnet();
    let phrase = mnemonic("test-23");
    let normal = client(&net, "test-23", |_| {});
    let registry = deploy_registry(&normal).await;
    // A price no balance covers: the node refuses the fee (`sdk`/5, the
    // code a contract failure has in `wasm`).
    let mut o = options(&net);
    o.gas_price = 1_000_000.0;
    let broke = client_with(&phrase, o);
    let store = Arc::new(Store::open_in_memory().unwrap());
    let metrics = Arc::new(Metrics::new());
    let ob = outbox(&store, &broke, Some(metrics.clone()));

    let err = ob
        .submit("lt/funds", &listing(&registry, "funds"), "")
        .await
        .unwrap_err();
    let OutboxError::Chain { source, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        matches!(source, relayer::ChainError::Rejected { codespace, code: 5, .. } if codespace == "sdk"),
        "{source}"
    );
    let entry = store.outbox_by_key("lt/funds").unwrap().unwrap();
    assert_eq!(
        entry.status,
        OutboxStatus::Signed,
        "kept, not failed: {entry:?}"
    );
    assert_eq!(entry.failure, Some(FailureClass::Funds));
    assert!(metrics.total("outbox_alerts") >= 2.0, "one alert per try");
    assert!(metrics.render().contains("reason=\"funds\""));
    assert_eq!(metrics.total("txs_failed"), 0.0);

    // The operator fixes the fee; once the first signature timed out it is
    // signed again at the new price and lands once.
    let tx = entry.tx.unwrap();
    past(&normal, tx.timeout_height).await;
    let fixed = outbox(&store, &normal, None);
    fixed.flush().await.unwrap();
    let done = store.outbox_by_key("lt/funds").unwrap().unwrap();
    assert_eq!(done.status, OutboxStatus::Done, "{done:?}");
    assert_eq!(done.attempts, 2);
    assert_eq!(listing_count(&normal, &registry).await, 1);
}

#[tokio::test]
#[ignore = "needs a wasmd localnet: ci/relayer-localnet-test.sh"]
async fn blocks_own_finalize_block_events_are_read() {
    let net = localnet();
    let client = client(&net, "test-24", |_| {});
    let latest = client.latest_height().await.unwrap();
    let mut seen = vec![];
    for height in latest.saturating_sub(5).max(1)..=latest {
        let block = client.block_events(height).await.unwrap();
        assert_eq!(block.height, height);
        seen.extend(block.block_events.into_iter().map(|e| e.ty));
    }
    // The mint and distribution modules emit in every block's FinalizeBlock.
    assert!(seen.iter().any(|t| t == "mint"), "{seen:?}");
}

#[tokio::test]
#[ignore = "needs a wasmd localnet: ci/relayer-localnet-test.sh"]
async fn the_health_check_names_what_is_wrong() {
    let net = localnet();
    let good = client(&net, "test-25", |_| {})
        .health_check()
        .await
        .unwrap();
    assert!(good.problems.is_empty(), "{:?}", good.problems);
    assert_eq!(good.chain_id, net.chain_id);
    assert_eq!(good.compat, Some(RpcCompat::V0_38));
    assert!(
        good.cometbft_version.starts_with("0.38"),
        "{}",
        good.cometbft_version
    );
    assert!(good.tx_index && !good.catching_up && good.account_exists);
    assert_eq!(good.minimum_price_in_fee_denom, Some(net.gas_price));

    let wrong = client(&net, "test-25", |o| {
        o.chain_id = "wevalue-other-1".into();
        o.gas_price = net.gas_price / 10.0;
    })
    .health_check()
    .await
    .unwrap();
    let text = wrong.problems.join("\n");
    assert!(text.contains("`wevalue-other-1`"), "{text}");
    assert!(text.contains("below the node's minimum"), "{text}");

    let stranger = client_with(&generate_mnemonic().unwrap(), options(&net))
        .health_check()
        .await
        .unwrap();
    let text = stranger.problems.join("\n");
    assert!(!stranger.account_exists);
    assert!(text.contains("does not exist on chain"), "{text}");
    assert!(text.contains("fund it"), "{text}");
}

#[tokio::test]
#[ignore = "needs a wasmd localnet: ci/relayer-localnet-test.sh"]
async fn relayer_health_check_and_run_refuse_a_wrong_node() {
    let net = localnet();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, chain_id: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                "[telemetry]\nenabled = false\n[state]\npath = \"{state}\"\n[signer]\nmnemonic_env = \"WEVALUE_LT_MNEMONIC\"\n[chain]\nid = \"{chain_id}\"\nbackend = \"cosmos\"\nfee_denom = \"{denom}\"\n[chain.cosmos]\nrpc_url = \"{rpc}\"\ngas_price = {price}\n",
                state = dir.path().join("state.sqlite").display(),
                denom = net.denom,
                rpc = net.rpc,
                price = net.gas_price,
            ),
        )
        .unwrap();
        path
    };
    let good = write("good.toml", &net.chain_id);
    let bad = write("bad.toml", "wevalue-other-1");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_relayer"))
            .args(args)
            .env("WEVALUE_LT_MNEMONIC", mnemonic("test-26"))
            .env_remove("WEVALUE_RELAYER_RPC_URL")
            .env_remove("WEVALUE_RELAYER_MNEMONIC_FILE")
            .output()
            .unwrap()
    };
    let ok = run(&["health-check", "--config", good.to_str().unwrap()]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let report: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(report["chain_id"], net.chain_id);
    assert_eq!(report["problems"], json!([]));

    let refused = run(&["health-check", "--config", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("`wevalue-other-1`"), "{stderr}");

    // `run` checks the same before anything else, and refuses to start.
    let refused = run(&["run", "--config", bad.to_str().unwrap()]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("health check of"), "{stderr}");
    assert!(stderr.contains("`wevalue-other-1`"), "{stderr}");
}

#[tokio::test]
#[ignore = "needs a wasmd localnet: ci/relayer-localnet-test.sh"]
async fn deploy_is_crash_safe_and_a_second_run_changes_nothing() {
    let net = localnet();
    let client = client(&net, "test-27", |_| {});
    let artifacts = root().join("artifacts");
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Store::open(dir.path().join("journal.sqlite")).unwrap());
    let ob = outbox(&journal, &client, None);
    let spec = DeploySpec::parse(
        "[[instances]]\nname = 'registry'\ncode = 'data-registry'\nlabel = 'lt registry'\nadmin = 'none'\n[instances.msg]\nallow_private_endpoints = true\n\
         [[instances]]\nname = 'channels'\ncode = 'payment-channel'\nlabel = 'lt channels'\nadmin = '${contract:registry}'\n[instances.msg]\nmin_challenge_period = 60\nmax_challenge_period = 86400\n",
        "lt-deploy.toml",
    )
    .unwrap();
    // Killed after storing the codes, before any instance (and before the
    // deployment file was written): the journal has the codes.
    let codes_only = DeploySpec::parse(
        "store_only = ['data-registry', 'payment-channel']\n",
        "lt-codes.toml",
    )
    .unwrap();
    let (_, stored) = deploy_with(&*client, &codes_only, &artifacts, None, true, Some(&ob))
        .await
        .unwrap();
    assert_eq!(stored.stored, ["data-registry", "payment-channel"]);
    let seq = client.account_sequence().await.unwrap();
    let (first, report) = deploy_with(&*client, &spec, &artifacts, None, true, Some(&ob))
        .await
        .unwrap();
    assert!(report.stored.is_empty(), "{report:?}");
    assert_eq!(report.codes_kept, ["data-registry", "payment-channel"]);
    assert_eq!(report.instantiated, ["registry", "channels"]);
    assert_eq!(
        client.account_sequence().await.unwrap(),
        seq + 2,
        "two instantiate2 txs, no second store"
    );
    for (name, code) in &first.codes {
        assert_eq!(
            Some(code.checksum.clone()),
            recorded_checksum(&artifacts, &format!("{name}.wasm")),
            "{name}: the chain's checksum is the artifact's"
        );
        let info = client.code_info(code.code_id).await.unwrap().unwrap();
        assert_eq!(info.checksum, code.checksum);
    }
    let registry = first.address("registry").unwrap();
    let channels = client
        .contract_info(first.address("channels").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        channels.admin.as_deref(),
        Some(registry),
        "admin from the spec"
    );
    assert_eq!(
        client.contract_info(registry).await.unwrap().unwrap().admin,
        None
    );

    // Killed before writing the deployment file, or run again with it: the
    // same deployment, nothing sent.
    let seq = client.account_sequence().await.unwrap();
    for previous in [None, Some(&first)] {
        let (again, report) = deploy_with(&*client, &spec, &artifacts, previous, true, Some(&ob))
            .await
            .unwrap();
        assert!(report.is_noop(), "{report:?}");
        assert_eq!(again, first);
    }
    assert_eq!(
        client.account_sequence().await.unwrap(),
        seq,
        "a second run changes nothing"
    );
}

#[tokio::test]
#[ignore = "needs a wasmd localnet: ci/relayer-localnet-test.sh"]
async fn relayer_deploy_on_the_localnet_twice_changes_nothing_the_second_time() {
    let net = localnet();
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.toml");
    std::fs::write(
        &spec,
        "[[instances]]\nname = 'registry'\ncode = 'data-registry'\nlabel = 'cli registry'\nadmin = 'sender'\n[instances.msg]\nallow_private_endpoints = true\n",
    )
    .unwrap();
    let deployment = dir.path().join("deployment.json");
    let config = dir.path().join("relayer.toml");
    std::fs::write(
        &config,
        format!(
            "[telemetry]\nenabled = false\n[state]\npath = \"{state}\"\n[signer]\nmnemonic_env = \"WEVALUE_LT_MNEMONIC\"\n[chain]\nid = \"{chain}\"\nbackend = \"cosmos\"\nfee_denom = \"{denom}\"\n[chain.embedded]\nartifacts_dir = \"{artifacts}\"\n[chain.cosmos]\nrpc_url = \"{rpc}\"\ngas_price = {price}\n[deploy]\nspec = \"{spec}\"\ndeployment_file = \"{deployment}\"\n",
            state = dir.path().join("state.sqlite").display(),
            chain = net.chain_id,
            denom = net.denom,
            artifacts = root().join("artifacts").display(),
            rpc = net.rpc,
            price = net.gas_price,
            spec = spec.display(),
            deployment = deployment.display(),
        ),
    )
    .unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_relayer"))
            .args(["deploy", "--config", config.to_str().unwrap()])
            .env("WEVALUE_LT_MNEMONIC", mnemonic("test-28"))
            .env_remove("WEVALUE_RELAYER_RPC_URL")
            .env_remove("WEVALUE_RELAYER_MNEMONIC_FILE")
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let written: Value = serde_json::from_slice(&std::fs::read(&deployment).unwrap()).unwrap();
    assert!(
        dir.path().join("deployment.journal.sqlite").exists(),
        "the journal"
    );
    // Killed before it wrote the file: the rerun finds everything anyway.
    std::fs::remove_file(&deployment).unwrap();
    let second = run();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("(nothing to do)"), "{stderr}");
    let again: Value = serde_json::from_slice(&std::fs::read(&deployment).unwrap()).unwrap();
    assert_eq!(again, written);
    let third = run();
    assert!(String::from_utf8_lossy(&third.stderr).contains("(nothing to do)"));
    assert_eq!(
        written["contracts"]["registry"]["admin"], written["deployer"],
        "admin = sender, named"
    );
}
