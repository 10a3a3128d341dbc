//! The watchtower against the embedded chain: the voucher API's answers,
//! durability of acknowledged vouchers, closes answered with the best
//! voucher (100 seeded scenarios with restarts), batch settlement by amount
//! and age, hashlocks, and a crash in the middle of settlement.

#[path = "../common/mod.rs"]
mod common;

mod api;
mod closes;
mod crash;
mod settlement;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{DENOM, TIMEOUT};
use cosmwasm_std::{coins, Binary, Coin, HexBinary, Uint128};
use payment_channel::msg::{
    ChannelResponse, ChannelStatus, ExecuteMsg, InstantiateMsg, OpenChannel, QueryMsg,
};
use relayer::chain::{
    find_attr, query_smart, ChainMsg, ChainStatus, CodeClient, CodeUpload, TxClient, TxOutcome,
};
use relayer::embedded::{BlockMode, EmbeddedChain, EmbeddedClient};
use relayer::outbox::{Outbox, OutboxOptions};
use relayer::services::watchtower::http::VoucherRequest;
use relayer::services::watchtower::{batch_index, PayoutConfig, Watchtower, WatchtowerConfig};
use relayer::store::{OutboxStatus, Store};
use serde_json::{json, Value};
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{Hashlock, Voucher, VoucherScheme};

type Tower = Watchtower<EmbeddedClient>;

struct Env {
    chain: EmbeddedChain,
    manual: bool,
    deployer: EmbeddedClient,
    contract: String,
    payee: EmbeddedClient,
    tower: EmbeddedClient,
}

/// Signs, broadcasts, commits (manual mode) and waits.
async fn exec_msgs(env: &Env, client: &EmbeddedClient, msgs: &[ChainMsg]) -> TxOutcome {
    let seq = client.account_sequence().await.unwrap();
    let tx = client.sign(msgs, "", seq).await.unwrap();
    client.broadcast(&tx).await.unwrap();
    if env.manual {
        env.chain.produce_block().await.unwrap();
    }
    client.wait_for_tx(&tx.hash, TIMEOUT).await.unwrap()
}

async fn exec(env: &Env, client: &EmbeddedClient, msg: &ExecuteMsg, funds: Vec<Coin>) -> TxOutcome {
    let out = exec_msgs(
        env,
        client,
        &[ChainMsg::execute(&env.contract, msg, funds).unwrap()],
    )
    .await;
    assert_eq!(out.code, 0, "{msg:?}: {}", out.log);
    out
}

async fn setup(mode: BlockMode) -> Env {
    let chain = EmbeddedChain::start(common::options(mode)).unwrap();
    let deployer = chain.client(chain.addr_make("deployer").await.unwrap());
    let payee = chain.client(chain.addr_make("payee").await.unwrap());
    let tower = chain.client(chain.addr_make("tower").await.unwrap());
    let mut env = Env {
        chain: chain.clone(),
        manual: mode == BlockMode::Manual,
        deployer: deployer.clone(),
        contract: String::new(),
        payee,
        tower,
    };
    let code = deployer
        .store_code(&CodeUpload {
            name: "payment-channel".into(),
            wasm: None,
        })
        .await
        .unwrap();
    let init = InstantiateMsg {
        owner: None,
        min_challenge_period: 60,
        max_challenge_period: 86_400,
        max_batch_size: None,
    };
    let out = exec_msgs(
        &env,
        &deployer,
        &[ChainMsg::Instantiate {
            code_id: code.code_id,
            msg: serde_json::to_string(&init).unwrap(),
            funds: vec![],
            label: "payment-channel".into(),
            admin: None,
        }],
    )
    .await;
    env.contract = find_attr(&out.events, "instantiate", "_contract_address")
        .unwrap()
        .to_string();
    let payee = env.payee.clone();
    exec(
        &env,
        &payee,
        &ExecuteMsg::AuthorizeWatchtower {
            watchtower: env.tower.sender().to_string(),
        },
        vec![],
    )
    .await;
    env
}

fn signer(scheme: VoucherScheme, seed: u64) -> VoucherSigner {
    let mut secret = [0u8; 32];
    secret[..8].copy_from_slice(&seed.to_be_bytes());
    secret[31] = 1;
    VoucherSigner::from_secret(scheme, secret, "wasm").unwrap()
}

/// A funded payer opens a channel to `payee`; returns the id.
async fn open(
    env: &Env,
    payer: &EmbeddedClient,
    payee: &str,
    key: &VoucherSigner,
    deposit: u128,
) -> u64 {
    env.chain
        .fund(payer.sender(), coins(deposit, DENOM))
        .await
        .unwrap();
    let out = exec(
        env,
        payer,
        &ExecuteMsg::Open(OpenChannel {
            payee: payee.to_string(),
            pubkey: Binary::from(key.public_key()),
            scheme: key.scheme(),
            challenge_period: None,
            listing: None,
        }),
        coins(deposit, DENOM),
    )
    .await;
    find_attr(&out.events, "wasm", "channel_id")
        .unwrap()
        .parse()
        .unwrap()
}

async fn payer(env: &Env, label: &str) -> EmbeddedClient {
    env.chain.client(env.chain.addr_make(label).await.unwrap())
}

fn voucher(
    env: &Env,
    key: &VoucherSigner,
    id: u64,
    amount: u128,
    hashlock: Option<Vec<u8>>,
    expiry: Option<u64>,
) -> VoucherRequest {
    let v = Voucher {
        chain_id: "wevalue-test".into(),
        contract: env.contract.clone(),
        channel_id: id,
        amount: Uint128::new(amount),
        hashlock: hashlock
            .as_deref()
            .map(|h| Hashlock::try_from(h).expect("test hashlocks are 32 bytes")),
        expiry,
    };
    VoucherRequest {
        channel_id: id,
        amount: Uint128::new(amount),
        hashlock: hashlock.map(HexBinary::from),
        expiry,
        signature: Binary::from(key.sign(&v).unwrap().to_vec()),
        preimage: None,
    }
}

fn config(env: &Env) -> WatchtowerConfig {
    WatchtowerConfig {
        enabled: true,
        listen: "127.0.0.1:0".parse().unwrap(),
        contract: env.contract.clone(),
        payees: vec![env.payee.sender().to_string()],
        min_amount: Uint128::new(u128::MAX),
        max_age_seconds: u64::MAX,
        ..WatchtowerConfig::default()
    }
}

async fn tower(
    env: &Env,
    store: &Arc<Store>,
    config: WatchtowerConfig,
    clock: &Arc<AtomicU64>,
) -> Tower {
    let clock = clock.clone();
    let tower = Arc::new(env.tower.clone());
    let outbox = Arc::new(Outbox::new(
        store.clone(),
        tower.clone(),
        "wevalue-test",
        OutboxOptions {
            inclusion_timeout: TIMEOUT,
            max_attempts: 3,
            ..OutboxOptions::default()
        },
    ));
    Watchtower::new(config, env.contract.clone(), tower, store.clone(), outbox)
        .await
        .unwrap()
        .with_clock(Arc::new(move || clock.load(Ordering::SeqCst)))
}

fn clock() -> Arc<AtomicU64> {
    Arc::new(AtomicU64::new(1_700_000_000))
}

async fn channel(env: &Env, id: u64) -> ChannelResponse {
    query_smart(
        &env.deployer,
        &env.contract,
        &QueryMsg::Channel { channel_id: id },
    )
    .await
    .unwrap()
}

async fn balance(env: &Env, addr: &str) -> u128 {
    env.deployer.balance(addr, DENOM).await.unwrap()
}

async fn post(addr: std::net::SocketAddr, path: &str, body: String) -> (u16, Value) {
    let client = hyper::Client::new();
    let req = hyper::Request::post(format!("http://{addr}{path}"))
        .header("content-type", "application/json")
        .body(hyper::Body::from(body))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = hyper::body::to_bytes(resp.into_body()).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, Value) {
    let client = hyper::Client::new();
    let resp = client
        .get(format!("http://{addr}{path}").parse().unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = hyper::body::to_bytes(resp.into_body()).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn body(v: &VoucherRequest) -> String {
    serde_json::to_string(v).unwrap()
}
