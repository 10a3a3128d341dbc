//! Shared test helpers: an embedded chain with the data registry deployed.
#![allow(dead_code)]

use std::time::Duration;

use cosmwasm_std::coins;
use relayer::chain::{CodeClient, CodeUpload};
use relayer::contracts::workspace_artifacts_dir;
use relayer::embedded::{BlockMode, EmbeddedChain, EmbeddedClient, EmbeddedOptions};
use serde_json::{json, Value};

pub const DENOM: &str = "ustake";
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub fn options(mode: BlockMode) -> EmbeddedOptions {
    EmbeddedOptions {
        chain_id: "wevalue-test".into(),
        prefix: "wasm".into(),
        block_mode: mode,
        artifacts_dir: Some(workspace_artifacts_dir()),
        ..EmbeddedOptions::default()
    }
}

/// A chain and a funded client for the label `deployer`.
pub async fn chain(mode: BlockMode) -> (EmbeddedChain, EmbeddedClient) {
    let chain = EmbeddedChain::start(options(mode)).expect("chain starts");
    let addr = chain.addr_make("deployer").await.unwrap();
    chain
        .fund(&addr, coins(1_000_000_000, DENOM))
        .await
        .unwrap();
    let client = chain.client(addr);
    (chain, client)
}

pub fn registry_instantiate() -> Value {
    json!({ "owner": null, "listing_deposit": null, "curation_registry": null, "purchase_verifier": null })
}

pub fn create_listing(title: &str) -> Value {
    json!({ "create_listing": {
        "title": title,
        "description": "PM2.5 every minute",
        "category": "air-quality",
        "sensor_type": "pm2.5",
        "unit": "ug/m3",
        "location": { "latitude": "45.0703", "longitude": "7.6869" },
        "price": { "asset": { "native": DENOM }, "amount": "10", "model": "per_message" },
        "metadata_cid": "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
        "endpoint": "wss://sensors.turin.example/air",
        "terms": { "license": "CC-BY-4.0", "terms_hash": "07".repeat(32) }
    }})
}

/// Stores and instantiates the data registry; returns its address.
pub async fn deploy_registry(client: &EmbeddedClient) -> String {
    let code = client
        .store_code(&CodeUpload {
            name: "data-registry".into(),
            wasm: None,
        })
        .await
        .unwrap();
    let (address, _) = client
        .instantiate(
            code.code_id,
            &registry_instantiate(),
            "registry",
            Some(client_sender(client)),
            vec![],
        )
        .await
        .unwrap();
    address
}

pub fn client_sender(client: &EmbeddedClient) -> String {
    use relayer::chain::TxClient;
    client.sender().to_string()
}

/// Listing count from the registry's config.
pub async fn listing_count(client: &EmbeddedClient, registry: &str) -> u64 {
    let config: Value = relayer::chain::query_smart(client, registry, &json!({ "config": {} }))
        .await
        .unwrap();
    config["listing_count"].as_u64().unwrap()
}
