//! The Cosmos backend against a scripted CometBFT JSON-RPC node on
//! localhost: account lookup, simulation-based gas, broadcast with the
//! sequence-mismatch retry, polling for inclusion, smart queries, code and
//! contract info, store (gzip) and instantiate; and the outbox on it where a
//! real node cannot be made to misbehave: a tx indexer that never reports a
//! tx that is in a block. The node decodes what the client sends (TxRaw,
//! AuthInfo, messages) and answers in CometBFT 0.38's format (one block per
//! accepted broadcast, `/status`, `/block`, `/block_results`, and the
//! JSON-RPC error "tx already exists in cache" for a tx it has), so this
//! exercises the real request/response path without wasmd.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cosmrs::proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountResponse};
use cosmrs::proto::cosmos::base::abci::v1beta1::GasInfo;
use cosmrs::proto::cosmos::tx::v1beta1::{
    AuthInfo, SimulateRequest, SimulateResponse, TxBody, TxRaw,
};
use cosmrs::proto::cosmwasm::wasm::v1::{
    CodeInfoResponse, QueryCodeRequest, QueryCodeResponse, QuerySmartContractStateRequest,
    QuerySmartContractStateResponse,
};
use cosmrs::proto::prost::Message;
use cosmrs::Any;
use cosmwasm_std::Binary;
use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Request, Response, Server};
use relayer::chain::{self, ChainMsg, ChainStatus, CodeClient, CodeUpload, SmartQuery, TxClient};
use relayer::config::RpcCompat;
use relayer::cosmos::{CosmosClient, CosmosOptions};
use relayer::keys::Signer;
use relayer::outbox::{Outbox, OutboxOptions};
use relayer::store::{OutboxStatus, Store};
use relayer::ChainError;
use serde_json::{json, Value};

const MNEMONIC: &str = "notice oak worry limit wrap speak medal online prefer cluster roof addict wrist behave treat actual wasp year salad speed social layer crew genius";
const REGISTRY: &str = "wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s0phg4d";
const SIMULATED_GAS: u64 = 100_000;

#[derive(Default)]
struct Node {
    account_number: u64,
    sequence: u64,
    /// Another client takes the next sequence just before our broadcast.
    race_next_broadcast: bool,
    /// `/tx` answers "not found" this many times before the tx shows up.
    polls_before_inclusion: u32,
    broadcasts: Vec<TxRaw>,
    simulations: u32,
    included: HashMap<String, (TxRaw, u32, u64)>,
    height: u64,
    /// Tx bytes per block height (one block per accepted broadcast).
    blocks: HashMap<u64, Vec<u8>>,
    /// `/tx` never finds anything (indexing off, or an RPC behind a load
    /// balancer whose indexer lags).
    indexer_off: bool,
}

const HASH_A: &str = "A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0";
const HASH_B: &str = "0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20";
const VALIDATOR: &str = "5E0C2A9F1B3D4C6E7F8091A2B3C4D5E6F7081920";

fn block_id() -> Value {
    json!({ "hash": HASH_A, "parts": { "total": 1, "hash": HASH_B } })
}

fn status(id: &Value, height: u64) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": {
        "node_info": {
            "protocol_version": { "p2p": "8", "block": "11", "app": "0" },
            "id": "5e0c2a9f1b3d4c6e7f8091a2b3c4d5e6f7081920",
            "listen_addr": "tcp://127.0.0.1:26656", "network": "wevalue-testnet-1",
            "version": "0.38.17", "channels": "40202122233038606100", "moniker": "mock",
            "other": { "tx_index": "on", "rpc_address": "tcp://127.0.0.1:26657" } },
        "sync_info": {
            "latest_block_hash": HASH_A, "latest_app_hash": HASH_B,
            "latest_block_height": height.to_string(), "latest_block_time": "2026-01-01T00:00:00Z",
            "earliest_block_hash": HASH_A, "earliest_app_hash": HASH_B,
            "earliest_block_height": "1", "earliest_block_time": "2026-01-01T00:00:00Z",
            "catching_up": false },
        "validator_info": { "address": VALIDATOR,
            "pub_key": { "type": "tendermint/PubKeyEd25519", "value": "bNNlGls5R25wC3Sd8720F/3+7IZBhXcD22MNFtPk/v0=" },
            "voting_power": "10" } } })
}

fn block(id: &Value, height: u64, txs: &[Vec<u8>]) -> Value {
    let txs: Vec<String> = txs.iter().map(|t| b64(t)).collect();
    json!({ "jsonrpc": "2.0", "id": id, "result": { "block_id": block_id(), "block": {
        "header": { "version": { "block": "11", "app": "0" }, "chain_id": "wevalue-testnet-1",
            "height": height.to_string(), "time": "2026-01-01T00:00:00Z", "last_block_id": block_id(),
            "last_commit_hash": HASH_A, "data_hash": HASH_A, "validators_hash": HASH_A,
            "next_validators_hash": HASH_A, "consensus_hash": HASH_A, "app_hash": HASH_B,
            "last_results_hash": HASH_A, "evidence_hash": HASH_A, "proposer_address": VALIDATOR },
        "data": { "txs": txs },
        "evidence": { "evidence": [] },
        "last_commit": { "height": (height - 1).to_string(), "round": 0, "block_id": block_id(),
            "signatures": [{ "block_id_flag": 1, "validator_address": "", "timestamp": "0001-01-01T00:00:00Z", "signature": null }] } } } })
}

fn block_results(id: &Value, height: u64, txs: usize) -> Value {
    let results: Vec<Value> = (0..txs)
        .map(|_| json!({ "code": 0, "data": null, "log": "", "info": "", "gas_wanted": "130000",
            "gas_used": "98765", "codespace": "",
            "events": [{ "type": "wasm", "attributes": [attr("_contract_address", REGISTRY), attr("action", "pause_listing")] }] }))
        .collect();
    json!({ "jsonrpc": "2.0", "id": id, "result": { "height": height.to_string(),
        "txs_results": results, "finalize_block_events": [], "validator_updates": null,
        "consensus_param_updates": null, "app_hash": null } })
}

fn b64(bytes: &[u8]) -> String {
    Binary::from(bytes).to_base64()
}

fn abci(id: &Value, code: u32, value: &[u8], log: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": { "response": {
        "code": code, "log": log, "info": "", "index": "0", "key": null,
        "value": if value.is_empty() { Value::Null } else { json!(b64(value)) },
        "proofOps": null, "height": "10", "codespace": if code == 0 { "" } else { "wasm" } } } })
}

fn attr(k: &str, v: &str) -> Value {
    json!({ "key": k, "value": v, "index": true })
}

fn handle(node: &Mutex<Node>, req: Value) -> Value {
    let id = req["id"].clone();
    let params = &req["params"];
    let mut n = node.lock().unwrap();
    match req["method"].as_str().unwrap() {
        "abci_query" => {
            let data = hex::decode(params["data"].as_str().unwrap_or("")).unwrap();
            match params["path"].as_str().unwrap() {
                "/cosmos.auth.v1beta1.Query/Account" => {
                    let base = BaseAccount {
                        address: String::new(),
                        pub_key: None,
                        account_number: n.account_number,
                        sequence: n.sequence,
                    };
                    let resp = QueryAccountResponse {
                        account: Some(Any {
                            type_url: "/cosmos.auth.v1beta1.BaseAccount".into(),
                            value: base.encode_to_vec(),
                        }),
                    };
                    abci(&id, 0, &resp.encode_to_vec(), "")
                }
                "/cosmos.tx.v1beta1.Service/Simulate" => {
                    let req = SimulateRequest::decode(data.as_slice()).unwrap();
                    let raw =
                        TxRaw::decode(req.tx_bytes.as_slice()).expect("simulation gets a TxRaw");
                    let fee = AuthInfo::decode(raw.auth_info_bytes.as_slice())
                        .unwrap()
                        .fee
                        .unwrap();
                    assert!(
                        fee.amount.is_empty(),
                        "no zero-amount coin in the simulated fee"
                    );
                    n.simulations += 1;
                    let resp = SimulateResponse {
                        gas_info: Some(GasInfo {
                            gas_wanted: 0,
                            gas_used: SIMULATED_GAS,
                        }),
                        result: None,
                    };
                    abci(&id, 0, &resp.encode_to_vec(), "")
                }
                "/cosmwasm.wasm.v1.Query/SmartContractState" => {
                    let req = QuerySmartContractStateRequest::decode(data.as_slice()).unwrap();
                    if req.address != REGISTRY {
                        return abci(&id, 9, &[], "no such contract: query wasm contract failed");
                    }
                    assert_eq!(req.query_data, br#"{"config":{}}"#);
                    let resp = QuerySmartContractStateResponse {
                        data: br#"{"listing_count":3}"#.to_vec(),
                    };
                    abci(&id, 0, &resp.encode_to_vec(), "")
                }
                "/cosmwasm.wasm.v1.Query/Code" => {
                    let req = QueryCodeRequest::decode(data.as_slice()).unwrap();
                    if req.code_id != 4 {
                        return abci(&id, 8, &[], "no such code: not found");
                    }
                    let resp = QueryCodeResponse {
                        code_info: Some(CodeInfoResponse {
                            code_id: 4,
                            creator: String::new(),
                            data_hash: vec![0xab; 32],
                            instantiate_permission: None,
                        }),
                        data: vec![],
                    };
                    abci(&id, 0, &resp.encode_to_vec(), "")
                }
                other => panic!("unexpected abci path {other}"),
            }
        }
        "broadcast_tx_sync" => {
            let bytes = Binary::from_base64(params["tx"].as_str().unwrap()).unwrap();
            let raw = TxRaw::decode(bytes.as_slice()).unwrap();
            let auth = AuthInfo::decode(raw.auth_info_bytes.as_slice()).unwrap();
            let seq = auth.signer_infos[0].sequence;
            let fee = auth.fee.clone().unwrap();
            assert_eq!(fee.gas_limit, 130_000, "simulated gas x 1.3");
            assert_eq!(fee.amount[0].amount, "3250", "130000 x 0.025");
            let hash = relayer::chain::tx_hash(&bytes);
            n.broadcasts.push(raw.clone());
            if n.included.contains_key(&hash) {
                // CometBFT: the mempool cache has it (a JSON-RPC error, not a CheckTx code).
                return json!({ "jsonrpc": "2.0", "id": id, "error": { "code": -32603, "message": "Internal error", "data": "error on broadcastTxSync: tx already exists in cache" } });
            }
            if n.race_next_broadcast {
                n.race_next_broadcast = false;
                n.sequence += 1;
            }
            if seq != n.sequence {
                let log = format!(
                    "account sequence mismatch, expected {}, got {seq}: incorrect account sequence",
                    n.sequence
                );
                return json!({ "jsonrpc": "2.0", "id": id, "result": { "code": 32, "data": "", "log": log, "codespace": "sdk", "hash": hash } });
            }
            n.sequence += 1;
            let polls = n.polls_before_inclusion;
            n.height += 1;
            let height = n.height;
            n.included.insert(hash.clone(), (raw, polls, height));
            n.blocks.insert(height, bytes.to_vec());
            json!({ "jsonrpc": "2.0", "id": id, "result": { "code": 0, "data": "", "log": "", "codespace": "", "hash": hash } })
        }
        "tx" => {
            let hash = hex::encode_upper(
                Binary::from_base64(params["hash"].as_str().unwrap())
                    .unwrap()
                    .as_slice(),
            );
            if n.indexer_off {
                return json!({ "jsonrpc": "2.0", "id": id, "error": { "code": -32603, "message": "Internal error", "data": format!("tx ({hash}) not found") } });
            }
            let Some((raw, polls, height)) = n.included.get_mut(&hash) else {
                return json!({ "jsonrpc": "2.0", "id": id, "error": { "code": -32603, "message": "Internal error", "data": format!("tx ({hash}) not found") } });
            };
            if *polls > 0 {
                *polls -= 1;
                return json!({ "jsonrpc": "2.0", "id": id, "error": { "code": -32603, "message": "Internal error", "data": format!("tx ({hash}) not found") } });
            }
            let body = TxBody::decode(raw.body_bytes.as_slice()).unwrap();
            let msg = &body.messages[0];
            let events = match msg.type_url.as_str() {
                "/cosmwasm.wasm.v1.MsgExecuteContract" => json!([
                    { "type": "message", "attributes": [attr("action", &msg.type_url), attr("module", "wasm")] },
                    { "type": "execute", "attributes": [attr("_contract_address", REGISTRY)] },
                    { "type": "wasm", "attributes": [attr("_contract_address", REGISTRY), attr("action", "pause_listing")] }
                ]),
                "/cosmwasm.wasm.v1.MsgStoreCode" => json!([
                    { "type": "store_code", "attributes": [attr("code_checksum", &"cd".repeat(32)), attr("code_id", "5")] }
                ]),
                "/cosmwasm.wasm.v1.MsgInstantiateContract" => json!([
                    { "type": "instantiate", "attributes": [attr("_contract_address", REGISTRY), attr("code_id", "5")] }
                ]),
                other => panic!("unexpected message {other}"),
            };
            json!({ "jsonrpc": "2.0", "id": id, "result": {
                "hash": hash, "height": height.to_string(), "index": 0,
                "tx_result": { "code": 0, "data": null, "log": "", "info": "", "gas_wanted": "130000",
                               "gas_used": "98765", "events": events, "codespace": "" },
                "tx": b64(&raw.encode_to_vec()) } })
        }
        "status" => status(&id, n.height),
        "block" | "block_results" => {
            let height: u64 = params["height"].as_str().unwrap().parse().unwrap();
            if height > n.height {
                return json!({ "jsonrpc": "2.0", "id": id, "error": { "code": -32603, "message": "Internal error",
                    "data": format!("height {height} must be less than or equal to the current blockchain height {}", n.height) } });
            }
            let txs: Vec<Vec<u8>> = n.blocks.get(&height).cloned().into_iter().collect();
            if req["method"] == "block" {
                block(&id, height, &txs)
            } else {
                block_results(&id, height, txs.len())
            }
        }
        other => panic!("unexpected method {other}"),
    }
}

async fn start(node: Arc<Mutex<Node>>) -> SocketAddr {
    let make = make_service_fn(move |_| {
        let node = node.clone();
        async move {
            Ok::<_, Infallible>(service_fn(move |req: Request<Body>| {
                let node = node.clone();
                async move {
                    let body = hyper::body::to_bytes(req.into_body()).await.unwrap();
                    let reply = handle(&node, serde_json::from_slice(&body).unwrap());
                    Ok::<_, Infallible>(Response::new(Body::from(reply.to_string())))
                }
            }))
        }
    });
    let server = Server::bind(&"127.0.0.1:0".parse().unwrap()).serve(make);
    let addr = server.local_addr();
    tokio::spawn(server);
    addr
}

async fn client(node: Node) -> (Arc<Mutex<Node>>, CosmosClient) {
    let node = Arc::new(Mutex::new(node));
    let addr = start(node.clone()).await;
    let signer = Signer::from_mnemonic(MNEMONIC, "wasm", 0).unwrap();
    let client = CosmosClient::new(
        CosmosOptions {
            chain_id: "wevalue-testnet-1".into(),
            rpc_url: format!("http://{addr}"),
            compat: RpcCompat::V0_38,
            fee_denom: "ustake".into(),
            gas_price: 0.025,
            gas_multiplier: 1.3,
            max_gas: 1_000_000,
            inclusion_timeout: Duration::from_secs(5),
            poll_interval: Duration::from_millis(10),
            timeout_blocks: 5,
        },
        signer,
    )
    .unwrap();
    (node, client)
}

#[tokio::test]
async fn execute_simulates_signs_broadcasts_and_waits() {
    let (node, client) = client(Node {
        account_number: 42,
        sequence: 7,
        polls_before_inclusion: 3,
        ..Node::default()
    })
    .await;
    assert_eq!(
        client.sender(),
        "wasm1cyyzpxplxdzkeea7kwsydadg87357qna465cff"
    );
    assert_eq!(client.account_sequence().await.unwrap(), 7);
    let out = chain::execute(
        &client,
        REGISTRY,
        &json!({ "pause_listing": { "id": 7 } }),
        vec![],
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(out.gas_used, 98_765);
    assert_eq!(
        chain::find_attr(&out.events, "wasm", "action"),
        Some("pause_listing")
    );
    let n = node.lock().unwrap();
    assert_eq!(n.broadcasts.len(), 1);
    assert_eq!(n.simulations, 1);
    assert_eq!(n.sequence, 8);
    assert_eq!(
        relayer::chain::tx_hash(&n.broadcasts[0].encode_to_vec()),
        out.hash
    );
}

#[tokio::test]
async fn sequence_mismatch_is_refetched_and_retried_once() {
    let (node, client) = client(Node {
        account_number: 42,
        sequence: 7,
        race_next_broadcast: true,
        ..Node::default()
    })
    .await;
    let msgs =
        [ChainMsg::execute(REGISTRY, &json!({ "pause_listing": { "id": 1 } }), vec![]).unwrap()];
    let out = chain::submit(&client, &msgs, "", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(out.code, 0);
    let n = node.lock().unwrap();
    assert_eq!(n.broadcasts.len(), 2, "one mismatch, one retry");
    let seqs: Vec<u64> = n
        .broadcasts
        .iter()
        .map(|r| {
            AuthInfo::decode(r.auth_info_bytes.as_slice())
                .unwrap()
                .signer_infos[0]
                .sequence
        })
        .collect();
    assert_eq!(seqs, [7, 8]);
}

#[tokio::test]
async fn broadcast_reports_the_mismatch_and_inclusion_times_out() {
    let (_node, client) = client(Node {
        account_number: 1,
        sequence: 3,
        polls_before_inclusion: 1_000,
        ..Node::default()
    })
    .await;
    let msgs =
        [ChainMsg::execute(REGISTRY, &json!({ "pause_listing": { "id": 1 } }), vec![]).unwrap()];
    let stale = client.sign(&msgs, "", 2).await.unwrap();
    let err = client.broadcast(&stale).await.unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::SequenceMismatch {
                expected: 3,
                got: 2
            }
        ),
        "{err}"
    );
    let tx = client.sign(&msgs, "", 3).await.unwrap();
    client.broadcast(&tx).await.unwrap();
    assert_eq!(client.find_tx(&tx.hash).await.unwrap(), None);
    let err = client
        .wait_for_tx(&tx.hash, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(matches!(err, ChainError::InclusionTimeout { .. }), "{err}");
}

#[tokio::test]
async fn queries_code_info_store_and_instantiate() {
    let (_node, client) = client(Node {
        account_number: 1,
        sequence: 0,
        ..Node::default()
    })
    .await;
    let raw = client
        .query_smart_raw(REGISTRY, br#"{"config":{}}"#)
        .await
        .unwrap();
    assert_eq!(raw, br#"{"listing_count":3}"#);
    let err = client
        .query_smart_raw("wasm1other", b"{}")
        .await
        .unwrap_err();
    assert!(
        matches!(err, ChainError::Query { ref reason, .. } if reason.contains("code 9")),
        "{err}"
    );
    let info = client.code_info(4).await.unwrap().unwrap();
    assert_eq!(info.checksum, "ab".repeat(32));
    assert_eq!(client.code_info(99).await.unwrap(), None);

    let stored = client
        .store_code(&CodeUpload {
            name: "data-registry".into(),
            wasm: Some(vec![0u8; 10_000]),
        })
        .await
        .unwrap();
    assert_eq!(
        (stored.code_id, stored.checksum.as_str()),
        (5, "cd".repeat(32).as_str())
    );
    let (address, _) = client
        .instantiate(5, &json!({}), "registry", None, vec![])
        .await
        .unwrap();
    assert_eq!(address, REGISTRY);
    let err = client
        .store_code(&CodeUpload {
            name: "data-registry".into(),
            wasm: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, ChainError::Signer(_)));
    assert_eq!(client.chain_id(), "wevalue-testnet-1");
}

#[tokio::test]
async fn gas_above_the_ceiling_is_refused_before_broadcast() {
    let node = Node {
        account_number: 1,
        sequence: 0,
        ..Node::default()
    };
    let node = Arc::new(Mutex::new(node));
    let addr = start(node.clone()).await;
    let client = CosmosClient::new(
        CosmosOptions {
            chain_id: "wevalue-testnet-1".into(),
            rpc_url: format!("http://{addr}"),
            compat: RpcCompat::V0_38,
            fee_denom: "ustake".into(),
            gas_price: 0.025,
            gas_multiplier: 1.3,
            max_gas: 120_000,
            inclusion_timeout: Duration::from_secs(1),
            poll_interval: Duration::from_millis(10),
            timeout_blocks: 5,
        },
        Signer::from_mnemonic(MNEMONIC, "wasm", 0).unwrap(),
    )
    .unwrap();
    let msgs =
        [ChainMsg::execute(REGISTRY, &json!({ "pause_listing": { "id": 1 } }), vec![]).unwrap()];
    let err = client.sign(&msgs, "", 0).await.unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::GasAboveMax {
                estimated: 130_000,
                max: 120_000
            }
        ),
        "{err}"
    );
    assert!(node.lock().unwrap().broadcasts.is_empty());
}

fn outbox(client: CosmosClient, store: &Arc<Store>) -> Outbox {
    Outbox::new(
        store.clone(),
        Arc::new(client),
        "wevalue-testnet-1",
        OutboxOptions {
            inclusion_timeout: Duration::from_millis(100),
            transient_retries: 0,
            ..OutboxOptions::default()
        },
    )
}

fn pause(id: u64) -> Vec<ChainMsg> {
    vec![ChainMsg::execute(REGISTRY, &json!({ "pause_listing": { "id": id } }), vec![]).unwrap()]
}

#[tokio::test]
async fn txs_carry_a_timeout_height_and_already_in_cache_means_accepted() {
    let (node, client) = client(Node {
        account_number: 42,
        sequence: 7,
        height: 100,
        ..Node::default()
    })
    .await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let entry = store
        .enqueue("mock/cache", "wevalue-testnet-1", &pause(1), "")
        .unwrap();
    let tx = client.sign(&entry.msgs, "", 7).await.unwrap();
    assert_eq!((tx.signed_height, tx.timeout_height), (100, 105));
    let raw = TxRaw::decode(tx.bytes.as_slice()).unwrap();
    assert_eq!(
        TxBody::decode(raw.body_bytes.as_slice())
            .unwrap()
            .timeout_height,
        105
    );
    // Broadcast before a crash, its confirmation never recorded.
    assert!(store.record_signed(entry.id, &tx).unwrap());
    client.broadcast(&tx).await.unwrap();
    let err = client.broadcast(&tx).await.unwrap_err();
    assert!(err.is_already_in_mempool(), "{err}");

    let ob = outbox(client, &store);
    assert_eq!(ob.flush().await.unwrap(), 1);
    let done = store.outbox_entry(entry.id).unwrap();
    assert_eq!(done.status, OutboxStatus::Done, "{done:?}");
    assert_eq!((done.attempts, done.gas_used), (1, Some(98_765)));
    let n = node.lock().unwrap();
    assert_eq!(n.sequence, 8, "one tx landed");
    assert_eq!(
        n.broadcasts.len(),
        3,
        "the outbox's broadcast was answered from the cache"
    );
}

#[tokio::test]
async fn a_tx_the_indexer_never_reports_is_found_in_its_block_not_signed_again() {
    let (node, client) = client(Node {
        account_number: 42,
        sequence: 7,
        height: 100,
        indexer_off: true,
        ..Node::default()
    })
    .await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let ob = outbox(client, &store);
    // Broadcast and included, but `/tx` says "not found", and the account
    // sequence moved past it: the old rule would have signed it again.
    let err = ob.submit("mock/indexer", &pause(2), "").await.unwrap_err();
    assert!(err.to_string().contains("not included"), "{err}");
    let entry = store.outbox_by_key("mock/indexer").unwrap().unwrap();
    let tx = entry.tx.clone().unwrap();
    assert_eq!(entry.attempts, 1);
    assert_ne!(
        entry.status,
        OutboxStatus::Pending,
        "not requeued before its timeout"
    );
    {
        let mut n = node.lock().unwrap();
        assert_eq!(n.sequence, 8);
        // Past the timeout height.
        n.height = n.height.max(tx.timeout_height + 1);
    }
    ob.flush().await.unwrap();
    let done = store.outbox_entry(entry.id).unwrap();
    assert_eq!(done.status, OutboxStatus::Done, "{done:?}");
    assert_eq!(done.attempts, 1, "never signed twice");
    assert_eq!(done.height, Some(101), "the block that holds it");
    assert_eq!(done.gas_used, Some(98_765), "from the block's results");
    let n = node.lock().unwrap();
    let hashes: std::collections::HashSet<String> = n
        .broadcasts
        .iter()
        .map(|r| relayer::chain::tx_hash(&r.encode_to_vec()))
        .collect();
    assert_eq!(hashes.len(), 1, "only the one signed tx was ever broadcast");
    assert_eq!(n.sequence, 8);
}
