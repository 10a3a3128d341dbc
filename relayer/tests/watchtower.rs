//! The watchtower against the embedded chain: the voucher API's answers,
//! durability of acknowledged vouchers, closes answered with the best
//! voucher (100 seeded scenarios with restarts), batch settlement by amount
//! and age, hashlocks, and a crash in the middle of settlement.

mod common;

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

#[tokio::test]
async fn api_accepts_the_best_voucher_and_names_every_refusal() {
    let env = setup(BlockMode::OnDemand).await;
    let payee = env.payee.sender().to_string();
    let ed = signer(VoucherScheme::Ed25519, 1);
    let k1 = signer(VoucherScheme::Secp256k1, 2);
    let adr = signer(VoucherScheme::Adr036, 3);
    let p1 = payer(&env, "payer1").await;
    let ch = open(&env, &p1, &payee, &ed, 1_000).await;
    let ch_k1 = open(&env, &p1, &payee, &k1, 1_000).await;
    let ch_adr = open(&env, &p1, &payee, &adr, 1_000).await;
    let other = env.chain.addr_make("other-payee").await.unwrap();
    let ch_other = open(&env, &p1, &other, &ed, 1_000).await;
    let ch_closed = open(&env, &p1, &payee, &ed, 1_000).await;
    let payee_client = env.payee.clone();
    exec(
        &env,
        &payee_client,
        &ExecuteMsg::Close {
            channel_id: ch_closed,
            voucher: None,
            preimage: None,
            payout: None,
        },
        vec![],
    )
    .await;

    let store = Arc::new(Store::open_in_memory().unwrap());
    let wt = Arc::new(tower(&env, &store, config(&env), &clock()).await);
    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let (addr, _server) = wt.spawn_http(stop).unwrap();

    let now = env.deployer.latest_block().await.unwrap().time_nanos / 1_000_000_000;
    let good = voucher(&env, &ed, ch, 100, None, None);
    let mut forged = voucher(&env, &ed, ch, 200, None, None);
    forged.signature = voucher(&env, &ed, ch_other, 200, None, None).signature;
    let mut short_sig = voucher(&env, &ed, ch, 200, None, None);
    short_sig.signature = Binary::from(vec![1; 10]);
    let mut wrong_key = voucher(&env, &k1, ch, 200, None, None);
    wrong_key.signature = voucher(
        &env,
        &signer(VoucherScheme::Ed25519, 9),
        ch,
        200,
        None,
        None,
    )
    .signature;
    let lock = wevalue_voucher::sha256(b"secret").to_vec();
    let mut bad_preimage = voucher(&env, &ed, ch, 300, Some(lock.clone()), None);
    bad_preimage.preimage = Some(HexBinary::from(b"guess".to_vec()));
    let mut unknown_field = serde_json::to_value(&good).unwrap();
    unknown_field["nonce"] = json!(1);

    let cases: Vec<(&str, String, u16, Option<&str>)> = vec![
        ("first voucher", body(&good), 200, None),
        ("the same again is idempotent", body(&good), 200, None),
        (
            "lower amount",
            body(&voucher(&env, &ed, ch, 50, None, None)),
            409,
            Some("stale_voucher"),
        ),
        (
            "same amount, other terms",
            body(&voucher(&env, &ed, ch, 100, None, Some(now + 10_000))),
            409,
            Some("stale_voucher"),
        ),
        (
            "above the deposit",
            body(&voucher(&env, &ed, ch, 1_001, None, None)),
            422,
            Some("exceeds_deposit"),
        ),
        (
            "signed for another channel",
            body(&forged),
            422,
            Some("bad_signature"),
        ),
        (
            "short signature",
            body(&short_sig),
            422,
            Some("bad_signature"),
        ),
        ("another key", body(&wrong_key), 422, Some("bad_signature")),
        (
            "unknown channel",
            body(&voucher(&env, &ed, 999, 10, None, None)),
            404,
            Some("unknown_channel"),
        ),
        (
            "payee not served",
            body(&voucher(&env, &ed, ch_other, 10, None, None)),
            403,
            Some("payee_not_served"),
        ),
        (
            "closed channel",
            body(&voucher(&env, &ed, ch_closed, 10, None, None)),
            409,
            Some("channel_closed"),
        ),
        (
            "expired",
            body(&voucher(
                &env,
                &ed,
                ch,
                400,
                Some(lock.clone()),
                Some(now.saturating_sub(5)),
            )),
            422,
            Some("expired_voucher"),
        ),
        (
            "wrong preimage",
            body(&bad_preimage),
            422,
            Some("bad_preimage"),
        ),
        ("not json", "{".into(), 400, Some("malformed")),
        (
            "unknown field",
            unknown_field.to_string(),
            400,
            Some("malformed"),
        ),
        (
            "amount as a number",
            json!({"channel_id": ch, "amount": 5, "signature": ""}).to_string(),
            400,
            Some("malformed"),
        ),
        (
            "secp256k1 voucher",
            body(&voucher(&env, &k1, ch_k1, 10, None, None)),
            200,
            None,
        ),
        (
            "adr036 voucher",
            body(&voucher(&env, &adr, ch_adr, 20, None, None)),
            200,
            None,
        ),
        (
            "a higher voucher",
            body(&voucher(&env, &ed, ch, 250, None, None)),
            200,
            None,
        ),
        (
            "oversized body",
            format!("{{\"x\":\"{}\"}}", "a".repeat(20_000)),
            413,
            Some("body_too_large"),
        ),
    ];
    for (name, body, status, code) in cases {
        let (got, json) = post(addr, "/v1/vouchers", body).await;
        assert_eq!(got, status, "{name}: {json}");
        match code {
            Some(code) => {
                assert_eq!(json["code"], code, "{name}: {json}");
                assert!(
                    json["error"].as_str().is_some_and(|e| !e.is_empty()),
                    "{name}"
                );
            }
            None => assert!(json["best_amount"].is_string(), "{name}: {json}"),
        }
    }
    // Best amounts after the table.
    let (_, first) = post(
        addr,
        "/v1/vouchers",
        body(&voucher(&env, &ed, ch, 250, None, None)),
    )
    .await;
    assert_eq!(first["best_amount"], "250");
    assert_eq!(first["status"], "open");
    let (s, status) = get(addr, &format!("/v1/channels/{ch}")).await;
    assert_eq!(s, 200);
    assert_eq!(status["best"]["amount"], "250");
    assert_eq!(status["claimed"], "0");
    assert_eq!(status["unsettled"], "250");
    let (s, status) = get(addr, "/v1/channels/4242").await;
    assert_eq!((s, status["code"].as_str()), (404, Some("unknown_channel")));
    let (s, health) = get(addr, "/health").await;
    assert_eq!((s, health["status"].as_str()), (200, Some("ok")));
    // A preimage for an unknown hashlock is stored; a bad one is refused.
    let (s, pre) = post(
        addr,
        "/v1/preimages",
        json!({"preimage": hex::encode(b"secret")}).to_string(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(pre["hashlock"], hex::encode(&lock));
    let (s, pre) = post(addr, "/v1/preimages", json!({"preimage": ""}).to_string()).await;
    assert_eq!((s, pre["code"].as_str()), (422, Some("bad_preimage")));
}

#[tokio::test]
async fn an_acknowledged_voucher_survives_a_restart() {
    let env = setup(BlockMode::OnDemand).await;
    let payee = env.payee.sender().to_string();
    let ed = signer(VoucherScheme::Ed25519, 11);
    let p = payer(&env, "payer").await;
    let ch = open(&env, &p, &payee, &ed, 5_000).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relayer.sqlite");
    let clk = clock();
    {
        let store = Arc::new(Store::open(&db).unwrap());
        let wt = Arc::new(tower(&env, &store, config(&env), &clk).await);
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let (addr, server) = wt.spawn_http(stop).unwrap();
        for amount in [100, 900, 2_500] {
            let (s, j) = post(
                addr,
                "/v1/vouchers",
                body(&voucher(&env, &ed, ch, amount, None, None)),
            )
            .await;
            assert_eq!(s, 200, "{j}");
        }
        // Stop and drop everything, as a crash right after the 200 would.
        stop_tx.send(true).unwrap();
        server.await.unwrap();
    }
    let store = Arc::new(Store::open(&db).unwrap());
    let wt = tower(
        &env,
        &store,
        WatchtowerConfig {
            min_amount: Uint128::new(1),
            ..config(&env)
        },
        &clk,
    )
    .await;
    let best = wt.best_voucher(ch).unwrap().unwrap();
    assert_eq!(best.amount, 2_500);
    wt.recover().await.unwrap();
    let report = wt.settle().await.unwrap();
    assert_eq!((report.txs, report.settled), (1, 1));
    assert_eq!(balance(&env, &payee).await, 2_500);
    assert_eq!(channel(&env, ch).await.claimed, Uint128::new(2_500));
}

#[tokio::test]
async fn a_stale_close_is_answered_with_the_best_voucher() {
    let env = setup(BlockMode::OnDemand).await;
    let payee = env.payee.sender().to_string();
    let ed = signer(VoucherScheme::Ed25519, 21);
    let p = payer(&env, "payer").await;
    let ch = open(&env, &p, &payee, &ed, 1_000).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let wt = tower(&env, &store, config(&env), &clock()).await;
    for amount in [100, 300, 700] {
        wt.accept_voucher(voucher(&env, &ed, ch, amount, None, None))
            .await
            .unwrap();
    }
    // The payer closes hoping the payee holds nothing (or only an old voucher).
    exec(&env, &p, &ExecuteMsg::StartClose { channel_id: ch }, vec![]).await;
    let report = wt.step().await.unwrap();
    assert_eq!(report.defended, 1);
    let c = channel(&env, ch).await;
    assert_eq!(c.claimed, Uint128::new(700));
    let ChannelStatus::Closing { finalize_after } = c.status else {
        panic!("closing expected: {:?}", c.status)
    };
    let now = env.deployer.latest_block().await.unwrap().time_nanos / 1_000_000_000;
    assert!(
        finalize_after.seconds() >= now + 55,
        "claimed well inside the window"
    );
    // A second step and a settlement round do nothing more.
    assert_eq!(wt.step().await.unwrap().defended, 0);
    assert_eq!(wt.settle().await.unwrap().txs, 0);
    env.chain
        .advance_time(Duration::from_secs(61))
        .await
        .unwrap();
    exec(
        &env,
        &env.deployer,
        &ExecuteMsg::Finalize { channel_id: ch },
        vec![],
    )
    .await;
    assert_eq!(balance(&env, &payee).await, 700);
    assert_eq!(balance(&env, p.sender()).await, 300);
    wt.step().await.unwrap();
    assert_eq!(wt.best_voucher(ch).unwrap().unwrap().status, "closed");
    assert_eq!(wt.settlements(Some(ch)).unwrap().len(), 1);
}

/// splitmix64: deterministic scenarios without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.range(1, one_in) == 1
    }
}

enum Step {
    Voucher(usize, u128),
    Close(usize),
}

#[tokio::test]
async fn one_hundred_seeded_stale_closes_are_all_defended() {
    let schemes = [
        VoucherScheme::Ed25519,
        VoucherScheme::Secp256k1,
        VoucherScheme::Adr036,
    ];
    let mut restarts = 0;
    let mut defended_total = 0;
    for seed in 0..100u64 {
        let mut rng = Rng(seed);
        let env = setup(BlockMode::OnDemand).await;
        let payee = env.payee.sender().to_string();
        let n = rng.range(1, 4) as usize;
        let mut chans = vec![];
        for i in 0..n {
            let key = signer(schemes[rng.range(0, 2) as usize], seed * 10 + i as u64);
            let p = payer(&env, &format!("payer-{seed}-{i}")).await;
            let deposit = rng.range(1_000, 10_000) as u128;
            let id = open(&env, &p, &payee, &key, deposit).await;
            let count = rng.range(1, 8);
            let mut amounts = vec![];
            let mut a = 0u128;
            for _ in 0..count {
                a += rng.range(1, (deposit as u64 / count).max(1)) as u128;
                amounts.push(a.min(deposit));
            }
            amounts.dedup();
            // Closed after k vouchers were delivered (0 = before any).
            let k = rng.range(0, amounts.len() as u64) as usize;
            chans.push((id, key, p, deposit, amounts, k));
        }
        // Interleave the channels' steps, keeping each channel's order.
        let mut queues: Vec<Vec<Step>> = chans
            .iter()
            .enumerate()
            .map(|(i, (_, _, _, _, amounts, k))| {
                let mut q: Vec<Step> = amounts[..*k].iter().map(|a| Step::Voucher(i, *a)).collect();
                q.push(Step::Close(i));
                q
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("relayer.sqlite");
        let clk = clock();
        let min_amount = rng.range(1, 5_000) as u128;
        let cfg = WatchtowerConfig {
            min_amount: Uint128::new(min_amount),
            max_batch: rng.range(1, 3) as u32,
            ..config(&env)
        };
        let mut store = Arc::new(Store::open(&db).unwrap());
        let mut wt = tower(&env, &store, cfg.clone(), &clk).await;
        while queues.iter().any(|q| !q.is_empty()) {
            let live: Vec<usize> = (0..queues.len())
                .filter(|&i| !queues[i].is_empty())
                .collect();
            let i = live[rng.range(0, live.len() as u64 - 1) as usize];
            match queues[i].remove(0) {
                Step::Voucher(c, amount) => {
                    let (id, key, ..) = &chans[c];
                    wt.accept_voucher(voucher(&env, key, *id, amount, None, None))
                        .await
                        .unwrap();
                }
                Step::Close(c) => {
                    let (id, _, p, ..) = &chans[c];
                    exec(&env, p, &ExecuteMsg::StartClose { channel_id: *id }, vec![]).await;
                }
            }
            // The watchtower may run now, later, or restart first.
            if rng.chance(3) {
                drop(wt);
                drop(store);
                store = Arc::new(Store::open(&db).unwrap());
                wt = tower(&env, &store, cfg.clone(), &clk).await;
                wt.recover().await.unwrap();
                restarts += 1;
            }
            if rng.chance(2) {
                defended_total += wt.step().await.unwrap().defended;
            }
            if rng.chance(3) {
                clk.fetch_add(rng.range(0, 100), Ordering::SeqCst);
                wt.settle().await.unwrap();
            }
        }
        defended_total += wt.step().await.unwrap().defended;
        // Every claim landed inside the challenge window; now let it end.
        env.chain
            .advance_time(Duration::from_secs(61))
            .await
            .unwrap();
        let mut expected_payee = 0;
        for (id, _, p, deposit, amounts, k) in &chans {
            let best = if *k == 0 { 0 } else { amounts[k - 1] };
            let c = channel(&env, *id).await;
            assert_eq!(c.claimed.u128(), best, "seed {seed} channel {id}");
            exec(
                &env,
                &env.deployer,
                &ExecuteMsg::Finalize { channel_id: *id },
                vec![],
            )
            .await;
            assert_eq!(
                balance(&env, p.sender()).await,
                deposit - best,
                "seed {seed} payer of {id}"
            );
            expected_payee += best;
        }
        assert_eq!(balance(&env, &payee).await, expected_payee, "seed {seed}");
        env.chain.shutdown();
    }
    assert!(restarts > 50, "restarts exercised: {restarts}");
    assert!(defended_total > 20, "defences exercised: {defended_total}");
}

#[tokio::test]
async fn batches_settle_by_amount_then_by_age() {
    let env = setup(BlockMode::OnDemand).await;
    let payee = env.payee.sender().to_string();
    let p = payer(&env, "payer").await;
    let keys: Vec<VoucherSigner> = (0..5)
        .map(|i| signer(VoucherScheme::Ed25519, 100 + i))
        .collect();
    let mut ids = vec![];
    for key in &keys {
        ids.push(open(&env, &p, &payee, key, 10_000).await);
    }
    let store = Arc::new(Store::open_in_memory().unwrap());
    let clk = clock();
    let cfg = WatchtowerConfig {
        min_amount: Uint128::new(500),
        max_age_seconds: 3_600,
        max_batch: 2,
        ..config(&env)
    };
    let wt = tower(&env, &store, cfg, &clk).await;
    let amounts = [600, 200, 800, 499, 1_000];
    for (i, a) in amounts.iter().enumerate() {
        wt.accept_voucher(voucher(&env, &keys[i], ids[i], *a, None, None))
            .await
            .unwrap();
    }
    // By amount: 600, 800 and 1000 are due; batches of at most two.
    let r = wt.settle().await.unwrap();
    assert_eq!((r.txs, r.settled, r.failed), (2, 3, 0));
    assert!(r.gas_used > 0);
    assert_eq!(balance(&env, &payee).await, 2_400);
    assert_eq!(channel(&env, ids[1]).await.claimed, Uint128::zero());
    // Nothing new is due.
    assert_eq!(wt.settle().await.unwrap().txs, 0);
    // A raise of 300 on a settled channel is below the amount threshold.
    wt.accept_voucher(voucher(&env, &keys[0], ids[0], 900, None, None))
        .await
        .unwrap();
    assert_eq!(wt.settle().await.unwrap().txs, 0);
    // By age: an hour later everything unsettled goes.
    clk.fetch_add(3_600, Ordering::SeqCst);
    let r = wt.settle().await.unwrap();
    assert_eq!((r.txs, r.settled), (2, 3));
    assert_eq!(balance(&env, &payee).await, 2_400 + 300 + 200 + 499);
    for (i, want) in [900u128, 200, 800, 499, 1_000].iter().enumerate() {
        assert_eq!(channel(&env, ids[i]).await.claimed.u128(), *want);
        assert_eq!(
            wt.best_voucher(ids[i]).unwrap().unwrap().unsettled_since,
            None
        );
    }
}

#[tokio::test]
async fn a_refused_voucher_is_set_aside_and_the_rest_of_the_batch_settles() {
    let env = setup(BlockMode::OnDemand).await;
    let payee = env.payee.sender().to_string();
    let p = payer(&env, "payer").await;
    let keys: Vec<VoucherSigner> = (0..3)
        .map(|i| signer(VoucherScheme::Ed25519, 200 + i))
        .collect();
    let mut ids = vec![];
    for key in &keys {
        ids.push(open(&env, &p, &payee, key, 1_000).await);
    }
    let store = Arc::new(Store::open_in_memory().unwrap());
    let cfg = WatchtowerConfig {
        min_amount: Uint128::new(1),
        ..config(&env)
    };
    let wt = tower(&env, &store, cfg, &clock()).await;
    for (i, key) in keys.iter().enumerate() {
        wt.accept_voucher(voucher(
            &env,
            key,
            ids[i],
            100 * (i as u128 + 1),
            None,
            None,
        ))
        .await
        .unwrap();
    }
    // The payee revokes nothing but the payer closes channel 2 and, in the
    // same breath, the window passes: its voucher can no longer be claimed.
    exec(
        &env,
        &p,
        &ExecuteMsg::StartClose { channel_id: ids[1] },
        vec![],
    )
    .await;
    env.chain
        .advance_time(Duration::from_secs(61))
        .await
        .unwrap();
    env.chain.produce_block().await.unwrap();
    // Make the watchtower believe channel 2 is still open (no events read).
    let r = wt.settle().await.unwrap();
    assert_eq!(r.failed, 1, "{r:?}");
    assert_eq!(r.settled, 2, "{r:?}");
    assert_eq!(balance(&env, &payee).await, 100 + 300);
    let failed: Vec<_> = wt
        .settlements(None)
        .unwrap()
        .into_iter()
        .filter(|s| s.status == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(batch_index(failed[0].error.as_deref().unwrap()), Some(1));
    assert_eq!(wt.settle().await.unwrap().txs, 0);
}

#[tokio::test]
async fn a_hashlocked_voucher_is_claimed_only_with_its_preimage() {
    let env = setup(BlockMode::OnDemand).await;
    let payee = env.payee.sender().to_string();
    let ed = signer(VoucherScheme::Ed25519, 31);
    let p = payer(&env, "payer").await;
    let ch = open(&env, &p, &payee, &ed, 1_000).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let cfg = WatchtowerConfig {
        min_amount: Uint128::new(1),
        ..config(&env)
    };
    let wt = tower(&env, &store, cfg, &clock()).await;
    let lock = wevalue_voucher::sha256(b"the data was delivered").to_vec();
    let now = env.deployer.latest_block().await.unwrap().time_nanos / 1_000_000_000;
    wt.accept_voucher(voucher(
        &env,
        &ed,
        ch,
        400,
        Some(lock.clone()),
        Some(now + 3_600),
    ))
    .await
    .unwrap();
    assert_eq!(wt.settle().await.unwrap().txs, 0, "no preimage yet");
    assert_eq!(channel(&env, ch).await.claimed, Uint128::zero());
    let (got_lock, channels) = wt.accept_preimage(b"the data was delivered").unwrap();
    assert_eq!((got_lock, channels), (lock, vec![ch]));
    let r = wt.settle().await.unwrap();
    assert_eq!((r.txs, r.settled), (1, 1));
    assert_eq!(channel(&env, ch).await.claimed, Uint128::new(400));
    assert_eq!(balance(&env, &payee).await, 400);
}

#[tokio::test]
async fn a_crash_in_the_middle_of_settlement_does_not_claim_twice() {
    let env = setup(BlockMode::Manual).await;
    let payee = env.payee.sender().to_string();
    let p = payer(&env, "payer").await;
    let keys: Vec<VoucherSigner> = (0..3)
        .map(|i| signer(VoucherScheme::Secp256k1, 300 + i))
        .collect();
    let mut ids = vec![];
    for key in &keys {
        ids.push(open(&env, &p, &payee, key, 1_000).await);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relayer.sqlite");
    let clk = clock();
    let cfg = WatchtowerConfig {
        min_amount: Uint128::new(1),
        ..config(&env)
    };
    {
        let store = Arc::new(Store::open(&db).unwrap());
        let wt = Arc::new(tower(&env, &store, cfg.clone(), &clk).await);
        for (i, key) in keys.iter().enumerate() {
            wt.accept_voucher(voucher(&env, key, ids[i], 250, None, None))
                .await
                .unwrap();
        }
        // Settlement broadcasts and waits for a block that does not come...
        let task = tokio::spawn({
            let wt = wt.clone();
            async move { wt.settle().await }
        });
        let entry = loop {
            let open = store.outbox_open("wevalue-test").unwrap();
            if let Some(e) = open
                .into_iter()
                .find(|e| e.status == OutboxStatus::Broadcast)
            {
                break e;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        assert_eq!(entry.msgs.len(), 1);
        // ...and the process dies.
        task.abort();
        let _ = task.await;
    }
    // The block with the batch is committed while the watchtower is down.
    env.chain.produce_block().await.unwrap();
    let store = Arc::new(Store::open(&db).unwrap());
    let wt = tower(&env, &store, cfg, &clk).await;
    wt.recover().await.unwrap();
    let r = wt.settle().await.unwrap();
    assert_eq!(r.txs, 0, "nothing left to send: {r:?}");
    for id in &ids {
        assert_eq!(channel(&env, *id).await.claimed, Uint128::new(250));
        assert_eq!(wt.best_voucher(*id).unwrap().unwrap().unsettled_since, None);
    }
    assert_eq!(balance(&env, &payee).await, 750);
    let settlements = wt.settlements(None).unwrap();
    assert_eq!(settlements.len(), 1);
    assert_eq!(settlements[0].status, "done");
    assert_eq!(settlements[0].items.len(), 3);
    // One tx in the outbox, done; the tower's account sent exactly one tx.
    assert_eq!(store.outbox_backlog("wevalue-test").unwrap(), 0);
    assert_eq!(env.tower.account_sequence().await.unwrap(), 1);
}

#[tokio::test]
async fn ibc_payout_goes_in_the_batch_message_only_when_configured() {
    // The contract's own message carries the payout; without one it is
    // the plain batch.
    let local = ExecuteMsg::ClaimBatch {
        claims: vec![],
        payout: None,
    };
    assert_eq!(
        serde_json::to_value(&local).unwrap(),
        json!({"claim_batch": {"claims": [], "payout": null}})
    );
    let ibc = ExecuteMsg::ClaimBatch {
        claims: vec![],
        payout: Some(payment_channel::msg::Payout::Ibc {
            channel: "channel-0".into(),
            receiver: "osmo1xyz".into(),
            timeout_seconds: 600,
        }),
    };
    assert_eq!(
        serde_json::to_value(&ibc).unwrap()["claim_batch"]["payout"],
        json!({"ibc": {"channel": "channel-0", "receiver": "osmo1xyz", "timeout_seconds": 600}})
    );
    // Config: the TOML shape, and its checks.
    let cfg: WatchtowerConfig = toml::from_str(
        r#"
        listen = "127.0.0.1:9000"
        min_amount = "5000"
        payout = { kind = "ibc", channel = "channel-3", receiver = "osmo1abc", timeout_seconds = 600 }
        "#,
    )
    .unwrap();
    assert_eq!(cfg.min_amount, Uint128::new(5_000));
    assert!(matches!(cfg.payout, PayoutConfig::Ibc { .. }));
    assert!(cfg.problems().is_empty());
    let bad = WatchtowerConfig {
        listen: "0.0.0.0:9000".parse().unwrap(),
        max_batch: 51,
        ..WatchtowerConfig::default()
    };
    assert_eq!(bad.problems().len(), 2);
    assert!(toml::from_str::<WatchtowerConfig>("nope = 1").is_err());
}
