//! Decoding recorded CometBFT JSON-RPC responses (tests/fixtures) the way
//! the Cosmos backend does: block_results in the 0.38 and 0.34 dialects,
//! tx, abci_query (smart query answer and contract error) and
//! broadcast_tx_sync (accepted and sequence mismatch).

use std::path::Path;

use cosmrs::proto::cosmwasm::wasm::v1::QuerySmartContractStateResponse;
use cosmrs::rpc::endpoint::{abci_query, block_results, broadcast, tx};
use cosmrs::rpc::Response;
use relayer::chain::find_attr;
use relayer::cosmos::{block_events, check_broadcast, decode_abci, tx_outcome};
use relayer::follow::EventFilter;
use relayer::ChainError;

const CONTRACT: &str = "wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s0phg4d";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn vector_hash() -> String {
    let v: serde_json::Value = serde_json::from_str(&fixture("cosmjs-vectors.json")).unwrap();
    v["tx_hash"].as_str().unwrap().to_string()
}

fn check_block(resp: &block_results::Response) {
    assert_eq!(resp.height.value(), 1234);
    let events = block_events(
        resp,
        &[vector_hash(), "AB".repeat(32)],
        1_700_000_000_000_000_000,
    );
    assert_eq!(events.height, 1234);
    assert_eq!(events.txs.len(), 2);
    let ok = &events.txs[0];
    assert_eq!(ok.code, 0);
    assert_eq!(ok.hash, vector_hash());
    assert_eq!(
        find_attr(&ok.events, "wasm", "action"),
        Some("pause_listing")
    );
    assert_eq!(
        find_attr(&ok.events, "wasm", "_contract_address"),
        Some(CONTRACT)
    );
    assert_eq!(
        find_attr(&ok.events, "wasm-listing_status", "status"),
        Some("paused")
    );
    assert_eq!(events.txs[1].code, 5);
    // The follower's filter keeps only the contract's events.
    let filter = EventFilter::contracts([CONTRACT]);
    let matched: Vec<_> = ok
        .events
        .iter()
        .filter(|e| e.contract() == Some(CONTRACT))
        .collect();
    assert_eq!(matched.len(), 3, "execute, wasm, wasm-listing_status");
    let _ = filter;
}

#[test]
fn block_results_cometbft_0_38() {
    let resp = block_results::Response::from_string(fixture("block_results_v0_38.json")).unwrap();
    assert_eq!(resp.finalize_block_events.len(), 3);
    assert_eq!(resp.finalize_block_events[2].kind, "mint");
    check_block(&resp);
}

#[test]
fn block_results_cometbft_0_34_base64_attributes() {
    let dialect =
        block_results::v0_34::DialectResponse::from_string(fixture("block_results_v0_34.json"))
            .unwrap();
    let resp: block_results::Response = dialect.into();
    assert_eq!(resp.begin_block_events.as_ref().map(Vec::len), Some(3));
    check_block(&resp);
}

#[test]
fn tx_by_hash() {
    let resp = tx::Response::from_string(fixture("tx_v0_38.json")).unwrap();
    let out = tx_outcome(&resp);
    assert_eq!(out.hash, vector_hash());
    assert_eq!(out.height, 1234);
    assert_eq!(out.code, 0);
    assert_eq!(out.gas_used, 151_372);
    assert_eq!(out.gas_wanted, 200_000);
    assert_eq!(
        find_attr(&out.events, "tx", "acc_seq"),
        Some("wasm1cyyzpxplxdzkeea7kwsydadg87357qna465cff/7")
    );
    // The recorded tx is the signed vector: its hash is sha256 of the bytes.
    assert_eq!(relayer::chain::tx_hash(&resp.tx), vector_hash());
    out.into_result().unwrap();
}

#[test]
fn tx_not_found_is_an_rpc_error_naming_not_found() {
    let err = tx::Response::from_string(fixture("tx_not_found.json")).unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
}

#[test]
fn abci_query_smart_contract_state() {
    let resp = abci_query::Response::from_string(fixture("abci_query_smart.json")).unwrap();
    let answer: QuerySmartContractStateResponse =
        decode_abci("/cosmwasm.wasm.v1.Query/SmartContractState", &resp.response)
            .unwrap()
            .unwrap();
    let config: serde_json::Value = serde_json::from_slice(&answer.data).unwrap();
    assert_eq!(config["listing_count"], 3);
    assert_eq!(resp.response.height.value(), 1234);

    let err = abci_query::Response::from_string(fixture("abci_query_error.json")).unwrap();
    let refused = decode_abci::<QuerySmartContractStateResponse>("smart", &err.response)
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.0, 9);
    assert!(refused.1.contains("query wasm contract failed"));
}

#[test]
fn broadcast_tx_sync_results() {
    let ok =
        broadcast::tx_sync::Response::from_string(fixture("broadcast_tx_sync_ok.json")).unwrap();
    assert_eq!(ok.hash.to_string(), vector_hash());
    check_broadcast(
        &ok.hash.to_string(),
        &ok.codespace,
        ok.code.value(),
        &ok.log,
    )
    .unwrap();

    let seq = broadcast::tx_sync::Response::from_string(fixture(
        "broadcast_tx_sync_sequence_mismatch.json",
    ))
    .unwrap();
    assert_eq!(seq.code.value(), 32);
    let err = check_broadcast(
        &seq.hash.to_string(),
        &seq.codespace,
        seq.code.value(),
        &seq.log,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::SequenceMismatch {
                expected: 8,
                got: 7
            }
        ),
        "{err}"
    );
    let other = check_broadcast("H", "sdk", 13, "insufficient fee").unwrap_err();
    assert!(matches!(other, ChainError::Rejected { code: 13, .. }));
}

#[test]
fn pruned_height_errors_name_the_lowest_height() {
    assert_eq!(
        relayer::cosmos::parse_lowest_height("height 3 is not available, lowest height is 4183"),
        Some(4183)
    );
    assert_eq!(
        relayer::cosmos::parse_lowest_height("height 9 must be less than or equal to 8"),
        None
    );
}
