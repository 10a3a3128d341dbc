//! The oracle service against the embedded chain: a value-contract with an
//! oracle set of devnet keys, a competition task driven by the wall clock
//! into verification, and oracle instances (each with its own SQLite store,
//! account and key) proving the households' kWh saved.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use cosmwasm_std::{coins, Timestamp, Uint128};
use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Request, Response, Server, StatusCode};
use relayer::chain::{
    find_attr, query_smart, BlockEventSource, ChainReader, CodeClient, CodeUpload, TxClient,
};
use relayer::embedded::{BlockMode, EmbeddedChain, EmbeddedClient};
use relayer::outbox::{Outbox, OutboxOptions};
use relayer::services::oracle::*;
use relayer::store::Store;
use tokio::sync::watch;
use value_contract::msg::{
    AttestationsResponse, DurationOverrides, Durations, ExecuteMsg, InstantiateMsg,
    OracleMemberMsg, OracleSetMsg, QueryMsg, TaskParams, TaskResponse, TemplateMsg,
};
use value_contract::state::{TaskKind, TaskStatus};

const CID: &str = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
/// The template's offer deposit (back when the household confirms).
const OFFER_DEPOSIT: u128 = 10;

/// A chain with the value contract, its oracle set and a clock-driven task.
struct Env {
    chain: EmbeddedChain,
    deployer: EmbeddedClient,
    contract: String,
    template_id: u64,
    /// Manual mode: blocks every 50 ms while set (a test can hold them back).
    producing: Arc<AtomicBool>,
}

/// Oracle `i`: its account client and devnet key.
async fn oracle_client(chain: &EmbeddedChain, i: usize) -> EmbeddedClient {
    let addr = chain.addr_make(&format!("oracle{i}")).await.unwrap();
    chain.client(addr)
}

fn key_config(i: usize) -> KeyConfig {
    KeyConfig {
        // Even oracles sign with secp256k1, odd ones with ed25519.
        scheme: [KeySchemeConfig::Secp256k1, KeySchemeConfig::Ed25519][i % 2],
        source: KeySource::DevnetLabel(format!("oracle{i}")),
    }
}

fn member(address: &str, i: usize) -> OracleMemberMsg {
    let key = OracleKey::load(&key_config(i)).unwrap();
    OracleMemberMsg {
        address: address.to_string(),
        pubkey: key.public_key().into(),
        scheme: key.scheme(),
    }
}

async fn env(mode: BlockMode, oracles: usize, threshold: u32, min_quorum: u32) -> Env {
    let (chain, deployer) = common::chain(mode).await;
    let producing = Arc::new(AtomicBool::new(mode == BlockMode::Manual));
    if mode == BlockMode::Manual {
        let (chain, on) = (chain.clone(), producing.clone());
        tokio::spawn(async move {
            loop {
                if on.load(Ordering::SeqCst) && chain.produce_block().await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }
    let code = deployer
        .store_code(&CodeUpload {
            name: "value-contract".into(),
            wasm: None,
        })
        .await
        .unwrap();
    let mut members = Vec::new();
    for i in 0..oracles {
        let c = oracle_client(&chain, i).await;
        members.push(member(c.sender(), i));
    }
    let (contract, _) = deployer
        .instantiate(
            code.code_id,
            &serde_json::to_value(InstantiateMsg {
                owner: None,
                oracles: Some(OracleSetMsg { members, threshold }),
            })
            .unwrap(),
            "value-contract",
            None,
            vec![],
        )
        .await
        .unwrap();
    let template = TemplateMsg {
        name: "Energy saving competition".into(),
        kind: TaskKind::Competition,
        metric: "kwh_saved".into(),
        unit: "Wh".into(),
        asset: None,
        durations: Durations {
            funding: 2,
            matching: 1,
            acceptance: 1,
            execution: 2,
            verification: 120,
            dispute: 1,
        },
        min_quorum,
        tolerance_bps: 0,
        max_participants: 16,
        offer_deposit: Uint128::new(OFFER_DEPOSIT),
    };
    let out = relayer::chain::execute(
        &deployer,
        &contract,
        &ExecuteMsg::CreateTemplate(template),
        vec![],
        TIMEOUT,
    )
    .await
    .unwrap();
    let template_id = find_attr(&out.events, "wasm", "template_id")
        .unwrap()
        .parse()
        .unwrap();
    Env {
        chain,
        deployer,
        contract,
        template_id,
        producing,
    }
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

async fn sleep_past(t: Timestamp) {
    let target = t.nanos() + 150_000_000;
    let now = now_nanos();
    if target > now {
        tokio::time::sleep(Duration::from_nanos(target - now)).await;
    }
}

impl Env {
    async fn exec(&self, client: &EmbeddedClient, msg: &ExecuteMsg, funds: u128) {
        let funds = if funds == 0 {
            vec![]
        } else {
            coins(funds, DENOM)
        };
        relayer::chain::execute(client, &self.contract, msg, funds, TIMEOUT)
            .await
            .unwrap()
            .into_result()
            .unwrap();
    }

    async fn task(&self, id: u64) -> TaskResponse {
        query_smart(&self.deployer, &self.contract, &QueryMsg::Task { id })
            .await
            .unwrap()
    }

    async fn household(&self, name: &str) -> EmbeddedClient {
        let a = self.chain.addr_make(name).await.unwrap();
        self.chain.client(a)
    }

    async fn tick_block(&self) {
        if !self.producing.load(Ordering::SeqCst) {
            self.chain.produce_block().await.unwrap();
        } else {
            tokio::time::sleep(Duration::from_millis(120)).await;
        }
    }

    /// A funded competition whose households confirmed, with the clock past
    /// the execution deadline (in verification). Returns (task id, households).
    async fn task_in_verification(&self, households: &[&str]) -> (u64, Vec<String>) {
        let params = TaskParams {
            title: "Save energy this winter".into(),
            description_cid: CID.into(),
            asset: serde_json::from_value(serde_json::json!({ "native": DENOM })).unwrap(),
            funding_goal: Uint128::new(1_000),
            target: Uint128::zero(),
            max_participants: households.len() as u32,
            bond: Uint128::zero(),
            durations: DurationOverrides::default(),
        };
        let out = relayer::chain::execute(
            &self.deployer,
            &self.contract,
            &ExecuteMsg::CreateTask {
                template_id: self.template_id,
                params,
            },
            vec![],
            TIMEOUT,
        )
        .await
        .unwrap();
        let id: u64 = find_attr(&out.events, "wasm", "task_id")
            .unwrap()
            .parse()
            .unwrap();
        self.exec(
            &self.deployer,
            &ExecuteMsg::Contribute { task_id: id },
            1_000,
        )
        .await;
        let mut addrs = Vec::new();
        for h in households {
            let c = self.household(h).await;
            addrs.push(c.sender().to_string());
            self.chain
                .fund(c.sender(), coins(OFFER_DEPOSIT, DENOM))
                .await
                .unwrap();
            self.exec(
                &c,
                &ExecuteMsg::SubmitOffer {
                    task_id: id,
                    price: Uint128::zero(),
                    capacity: 1,
                    min_units: 1,
                    reputation_ref: None,
                },
                OFFER_DEPOSIT,
            )
            .await;
        }
        let terms = self.task(id).await.terms;
        sleep_past(terms.matching_deadline).await;
        for h in households {
            let c = self.household(h).await;
            self.exec(&c, &ExecuteMsg::Confirm { task_id: id }, 0).await;
        }
        assert_eq!(self.task(id).await.status, TaskStatus::Executing);
        sleep_past(terms.execution_deadline).await;
        self.tick_block().await;
        assert_eq!(self.task(id).await.status, TaskStatus::Verifying);
        (id, addrs)
    }

    async fn attestations(&self, task_id: u64, participant: &str) -> AttestationsResponse {
        query_smart(
            &self.deployer,
            &self.contract,
            &QueryMsg::Attestations {
                task_id,
                participant: participant.to_string(),
                start_after: None,
                limit: None,
            },
        )
        .await
        .unwrap()
    }

    async fn service(
        &self,
        i: usize,
        store: Arc<Store>,
        config: OracleConfig,
    ) -> (OracleService, EmbeddedClient) {
        let options = OutboxOptions {
            inclusion_timeout: Duration::from_secs(config.inclusion_timeout_secs),
            ..OutboxOptions::default()
        };
        self.service_with(i, store, config, options).await
    }

    /// A service whose outbox (its signer's) has these options.
    async fn service_with(
        &self,
        i: usize,
        store: Arc<Store>,
        config: OracleConfig,
        options: OutboxOptions,
    ) -> (OracleService, EmbeddedClient) {
        let client = oracle_client(&self.chain, i).await;
        let chain: Arc<dyn ChainReader> = Arc::new(client.clone());
        let outbox = Arc::new(Outbox::new(
            store.clone(),
            Arc::new(client.clone()),
            "wevalue-test",
            options,
        ));
        let svc = OracleService::new(config, chain, store, &self.contract, outbox).unwrap();
        (svc, client)
    }
}

fn sim(name: &str, seed: &str) -> SourceConfig {
    SourceConfig {
        name: name.into(),
        kind: SourceKind::SimulatedMeter {
            seed: seed.into(),
            time_scale: 3600,
        },
    }
}

fn rule(min_sources: usize, agreement_bps: u32) -> TemplateRule {
    TemplateRule {
        template_id: None,
        metric_name: Some("kwh_saved".into()),
        metric: Metric::EnergySaved,
        units_per_unit: 1000,
        sources: vec![],
        min_sources,
        agreement_bps,
    }
}

fn config(
    mode: OracleMode,
    i: usize,
    sources: Vec<SourceConfig>,
    rule: TemplateRule,
) -> OracleConfig {
    OracleConfig {
        mode,
        key: Some(key_config(i)),
        sources,
        templates: vec![rule],
        poll_interval_ms: 100,
        inclusion_timeout_secs: 10,
        ..OracleConfig::default()
    }
}

/// What the simulated meter gives a participant of a task, in Wh saved.
fn expected_sim(seed: &str, task: &TaskResponse, participant: &str) -> u128 {
    let m = SimulatedMeter::new("x", seed, 3600).reading(&MeasurementQuery {
        task_id: task.id,
        participant: participant.to_string(),
        from: task.terms.acceptance_deadline.seconds(),
        to: task.terms.execution_deadline.seconds(),
    });
    Metric::EnergySaved.value(&m, 1000).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_oracle_attests_exact_values_and_measures_latency_in_blocks() {
    // Blocks every 50 ms; the service runs its own loop (poll 100 ms).
    let env = env(BlockMode::Manual, 1, 1, 1).await;
    let (task_id, households) = env.task_in_verification(&["h1", "h2", "h3"]).await;
    let task = env.task(task_id).await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let (svc, _) = env
        .service(
            0,
            store.clone(),
            config(
                OracleMode::Single,
                0,
                vec![sim("meter", "devnet")],
                rule(1, 0),
            ),
        )
        .await;
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(svc.run(stopped));
    let deadline = Instant::now() + TIMEOUT;
    while env.task(task_id).await.status != TaskStatus::Disputable {
        assert!(
            Instant::now() < deadline,
            "the oracle never proved the task"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap().unwrap();

    let oracle = oracle_client(&env.chain, 0).await;
    let mut total = 0;
    for h in &households {
        let want = expected_sim("devnet", &task, h);
        assert!(want > 0, "a household saved something");
        let att = env.attestations(task_id, h).await;
        assert_eq!(att.accepted, Some(Uint128::new(want)));
        assert_eq!(att.attestations.len(), 1);
        assert_eq!(att.attestations[0].oracle.as_str(), oracle.sender());
        assert_eq!(att.attestations[0].value.u128(), want);
        assert!(att.attestations[0].evidence_cid.starts_with("bafkrei"));
        total += want;
    }
    let task = env.task(task_id).await;
    assert_eq!(task.value_total.u128(), total);
    assert_eq!(task.final_count, 3);

    // The latency: blocks from the one that crossed the execution deadline
    // to the one that included the attestation.
    let (svc, _) = env
        .service(
            0,
            store.clone(),
            config(OracleMode::Single, 0, vec![], rule(1, 0)),
        )
        .await;
    let rec = svc.record(task_id).unwrap().unwrap();
    assert_eq!(rec.state, TaskState::Done);
    let latency = rec.latency_blocks().unwrap();
    assert!(rec.verifying_height <= rec.seen_height);
    assert!((1..=10).contains(&latency), "latency {latency} blocks");
    assert_eq!(svc.latencies().unwrap(), vec![(task_id, latency)]);
    // The entry height really is the first block past the deadline.
    let entered = env
        .deployer
        .block_events(rec.verifying_height)
        .await
        .unwrap();
    let before = env
        .deployer
        .block_events(rec.verifying_height - 1)
        .await
        .unwrap();
    let deadline = task.terms.execution_deadline.nanos();
    assert!(entered.time_nanos >= deadline && before.time_nanos < deadline);
    println!(
        "ORACLE LATENCY single (blocks 50 ms, poll 100 ms): {latency} blocks (entered {} → included {})",
        rec.verifying_height,
        rec.included_height.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregator_submits_one_two_of_three_report_ignoring_a_disagreeing_peer() {
    let env = env(BlockMode::OnDemand, 3, 2, 1).await;
    let (task_id, households) = env.task_in_verification(&["h1", "h2"]).await;
    let task = env.task(task_id).await;
    let (stop, stopped) = watch::channel(false);
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();

    // Observers: oracle1 reads the same meter, oracle2 a differently seeded
    // one (an honest-looking but different report).
    let (mut b, _) = env
        .service(
            1,
            Arc::new(Store::open_in_memory().unwrap()),
            config(
                OracleMode::Observer,
                1,
                vec![sim("meter", "devnet")],
                rule(1, 0),
            ),
        )
        .await;
    let (mut c, _) = env
        .service(
            2,
            Arc::new(Store::open_in_memory().unwrap()),
            config(
                OracleMode::Observer,
                2,
                vec![sim("meter", "tampered")],
                rule(1, 0),
            ),
        )
        .await;
    let (b_addr, _) = b.serve_observations(any, stopped.clone()).unwrap();
    let (c_addr, _) = c.serve_observations(any, stopped.clone()).unwrap();
    let mut agg_cfg = config(
        OracleMode::Aggregator,
        0,
        vec![sim("meter", "devnet")],
        rule(1, 0),
    );
    agg_cfg.peers = vec![format!("http://{c_addr}"), format!("http://{b_addr}")];
    agg_cfg.http.retries = 0;
    let a_store = Arc::new(Store::open_in_memory().unwrap());
    let (mut a, a_client) = env.service(0, a_store.clone(), agg_cfg.clone()).await;

    // Before the observers measured, the aggregator has only its own.
    let r = a.tick().await.unwrap();
    assert_eq!(r.failures.len(), 1);
    assert!(matches!(
        r.failures[0].error,
        OracleError::NotEnoughObservations {
            have: 1,
            need: 2,
            ..
        }
    ));
    assert_eq!(b.tick().await.unwrap().measured, 1);
    assert_eq!(c.tick().await.unwrap().measured, 1);
    let r = a.tick().await.unwrap();
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    assert_eq!(r.included, 1);

    for h in &households {
        let want = expected_sim("devnet", &task, h);
        let m: value_contract::msg::MatchingResponse = query_smart(
            &env.deployer,
            &env.contract,
            &QueryMsg::Matching {
                task_id,
                start_after: None,
                limit: None,
            },
        )
        .await
        .unwrap();
        let slot = m
            .slots
            .iter()
            .find(|s| s.participant.as_str() == h)
            .unwrap();
        assert_eq!(slot.value, Some(Uint128::new(want)));
        assert_ne!(want, expected_sim("tampered", &task, h));
    }
    let after = env.task(task_id).await;
    assert_eq!(after.last_report_round, 1);
    assert_eq!(after.status, TaskStatus::Disputable);

    // Exactly the two agreeing signers; only the aggregator sent a tx.
    let rec = a.record(task_id).unwrap().unwrap();
    assert_eq!((rec.state, rec.round), (TaskState::Done, Some(1)));
    let entry = a_store
        .outbox_by_key(rec.outbox_key.as_deref().unwrap())
        .unwrap()
        .unwrap();
    let tx = a_client
        .find_tx(&entry.tx.unwrap().hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(find_attr(&tx.events, "wasm", "signers"), Some("2"));
    assert_eq!(a_client.account_sequence().await.unwrap(), 1);
    assert_eq!(
        oracle_client(&env.chain, 1)
            .await
            .account_sequence()
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        oracle_client(&env.chain, 2)
            .await
            .account_sequence()
            .await
            .unwrap(),
        0
    );
    println!(
        "ORACLE LATENCY aggregated (tick right after the deadline block): {} blocks",
        rec.latency_blocks().unwrap()
    );

    // A restarted aggregator on the same store sends nothing more.
    drop(a);
    let (mut a2, _) = env.service(0, a_store.clone(), agg_cfg).await;
    let r = a2.tick().await.unwrap();
    assert_eq!((r.verifying, r.included), (0, 0));
    assert_eq!(a_client.account_sequence().await.unwrap(), 1);
    stop.send(true).unwrap();
}

/// A JSON server: `fail_first` requests get 503, every answer waits `delay`.
async fn flaky_server(
    fail_first: u32,
    delay: Duration,
    body: serde_json::Value,
) -> (SocketAddr, Arc<AtomicU32>) {
    let hits = Arc::new(AtomicU32::new(0));
    let counter = hits.clone();
    let make = make_service_fn(move |_| {
        let (counter, body) = (counter.clone(), body.clone());
        async move {
            Ok::<_, Infallible>(service_fn(move |req: Request<Body>| {
                let (counter, body) = (counter.clone(), body.clone());
                async move {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(delay).await;
                    let res = if req.uri().path().contains("missing") {
                        Response::builder()
                            .status(StatusCode::NOT_FOUND)
                            .body(Body::empty())
                    } else if req.uri().path().contains("bad") {
                        Response::builder()
                            .status(StatusCode::BAD_REQUEST)
                            .body(Body::empty())
                    } else if n < fail_first {
                        Response::builder()
                            .status(StatusCode::SERVICE_UNAVAILABLE)
                            .body(Body::empty())
                    } else {
                        Response::builder().body(Body::from(body.to_string()))
                    };
                    Ok::<_, Infallible>(res.unwrap())
                }
            }))
        }
    });
    let server = Server::bind(&"127.0.0.1:0".parse().unwrap()).serve(make);
    let addr = server.local_addr();
    tokio::spawn(server);
    (addr, hits)
}

fn query(participant: &str) -> MeasurementQuery {
    MeasurementQuery {
        task_id: 7,
        participant: participant.into(),
        from: 1_000,
        to: 2_000,
    }
}

#[tokio::test]
async fn http_source_retries_with_backoff_and_times_out() {
    let body = serde_json::json!({ "meter": { "actual_kwh": 7.25, "baseline_kwh": "10.5" } });
    let http = HttpConfig {
        timeout_ms: 300,
        retries: 3,
        backoff_ms: 40,
        max_backoff_ms: 1_000,
        max_body_bytes: 1 << 16,
    };
    // Two 503s, then an answer: 3 requests, at least 40 + 80 ms of backoff.
    let (addr, hits) = flaky_server(2, Duration::ZERO, body.clone()).await;
    let src = HttpSource::new(
        "flaky",
        &format!(
            "http://{addr}/v1/meters/{{participant}}?task={{task_id}}&from={{from}}&to={{to}}"
        ),
        "/meter/actual_kwh",
        Some("/meter/baseline_kwh"),
        http.clone(),
    );
    let started = Instant::now();
    let m = src.measure(&query("wasm1house")).await.unwrap();
    assert_eq!(
        m,
        Measurement {
            actual: 7_250_000,
            baseline: Some(10_500_000)
        }
    );
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(120),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(Metric::EnergySaved.value(&m, 1000).unwrap(), 3_250);

    // Always 503: 1 + 3 attempts, then a typed error.
    let (addr, hits) = flaky_server(u32::MAX, Duration::ZERO, body.clone()).await;
    let src = HttpSource::new(
        "down",
        &format!("http://{addr}/m"),
        "/meter/actual_kwh",
        None,
        http.clone(),
    );
    match src.measure(&query("p")).await.unwrap_err() {
        SourceError::Exhausted { attempts: 4, last } => {
            assert!(matches!(*last, SourceError::Status { status: 503, .. }))
        }
        e => panic!("unexpected {e:?}"),
    }
    assert_eq!(hits.load(Ordering::SeqCst), 4);

    // Slower than the timeout: every attempt times out.
    let (addr, hits) = flaky_server(0, Duration::from_millis(800), body.clone()).await;
    let slow = HttpConfig {
        retries: 1,
        ..http.clone()
    };
    let src = HttpSource::new(
        "slow",
        &format!("http://{addr}/m"),
        "/meter/actual_kwh",
        None,
        slow,
    );
    let started = Instant::now();
    match src.measure(&query("p")).await.unwrap_err() {
        SourceError::Exhausted { attempts: 2, last } => {
            assert!(matches!(
                *last,
                SourceError::Timeout {
                    timeout_ms: 300,
                    ..
                }
            ))
        }
        e => panic!("unexpected {e:?}"),
    }
    assert!(started.elapsed() < Duration::from_millis(1_500));
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // Client errors are not retried; 404 is "no data"; a bad pointer is typed.
    let (addr, hits) = flaky_server(0, Duration::ZERO, body).await;
    let bad = HttpSource::new("x", &format!("http://{addr}/bad"), "/v", None, http.clone());
    assert!(matches!(
        bad.measure(&query("p")).await.unwrap_err(),
        SourceError::Status { status: 400, .. }
    ));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let missing = HttpSource::new(
        "x",
        &format!("http://{addr}/missing"),
        "/v",
        None,
        http.clone(),
    );
    assert!(matches!(
        missing.measure(&query("p")).await.unwrap_err(),
        SourceError::NoData { .. }
    ));
    let ptr = HttpSource::new("x", &format!("http://{addr}/ok"), "/nope", None, http);
    assert!(matches!(
        ptr.measure(&query("p")).await.unwrap_err(),
        SourceError::MissingNumber { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn median_of_three_sources_drops_the_outlier_and_too_few_sources_attest_nothing() {
    let env = env(BlockMode::OnDemand, 2, 1, 1).await;
    let (task_id, households) = env.task_in_verification(&["h1"]).await;
    let task = env.task(task_id).await;
    let h1 = &households[0];
    let mid = task.terms.acceptance_deadline.seconds() + 1;
    let dir = tempfile::tempdir().unwrap();
    // HTTP: saved 3.0 kWh; JSONL: 1.5 + 1.6 = 3.1 kWh in two readings (one
    // outside the period ignored); CSV: 30 kWh (a broken meter).
    let (addr, _) = flaky_server(
        0,
        Duration::ZERO,
        serde_json::json!({ "a": 7.0, "b": 10.0 }),
    )
    .await;
    let jsonl = dir.path().join("readings.jsonl");
    std::fs::write(
        &jsonl,
        format!(
            "{{\"participant\":\"{h1}\",\"timestamp\":{mid},\"value\":3.5,\"baseline\":5.0}}\n\
             {{\"participant\":\"{h1}\",\"timestamp\":{mid},\"value\":3.4,\"baseline\":5.0}}\n\
             {{\"participant\":\"{h1}\",\"timestamp\":1,\"value\":100,\"baseline\":0}}\n\
             {{\"participant\":\"someone-else\",\"timestamp\":{mid},\"value\":1,\"baseline\":9}}\n"
        ),
    )
    .unwrap();
    let csv = dir.path().join("readings.csv");
    std::fs::write(
        &csv,
        format!("participant,timestamp,value,baseline\n{h1},{mid},10,40\n"),
    )
    .unwrap();
    let sources = vec![
        SourceConfig {
            name: "api".into(),
            kind: SourceKind::Http {
                url: format!("http://{addr}/{{participant}}"),
                value_pointer: "/a".into(),
                baseline_pointer: Some("/b".into()),
            },
        },
        SourceConfig {
            name: "jsonl".into(),
            kind: SourceKind::File {
                path: jsonl,
                format: FileFormat::Jsonl,
            },
        },
        SourceConfig {
            name: "csv".into(),
            kind: SourceKind::File {
                path: csv,
                format: FileFormat::Csv,
            },
        },
    ];

    // Oracle 1 wants all three to agree: the outlier leaves two, no attestation.
    let (mut strict, _) = env
        .service(
            1,
            Arc::new(Store::open_in_memory().unwrap()),
            config(OracleMode::Single, 1, sources.clone(), rule(3, 1_000)),
        )
        .await;
    let r = strict.tick().await.unwrap();
    assert_eq!(r.failures.len(), 1);
    match &r.failures[0].error {
        OracleError::Sources {
            task_id: t,
            participant,
            source,
        } => {
            assert_eq!((*t, participant.as_str()), (task_id, h1.as_str()));
            assert_eq!(
                (
                    source.asked,
                    source.answered,
                    source.agreeing,
                    source.required
                ),
                (3, 3, 2, 3)
            );
        }
        e => panic!("unexpected {e:?}"),
    }
    assert!(env.attestations(task_id, h1).await.attestations.is_empty());
    let rec = strict.record(task_id).unwrap().unwrap();
    assert_eq!(rec.state, TaskState::Seen);
    assert!(rec
        .last_error
        .unwrap()
        .contains("2 of 3 source answers agree"));
    assert_eq!(
        oracle_client(&env.chain, 1)
            .await
            .account_sequence()
            .await
            .unwrap(),
        0
    );

    // Oracle 0 needs two: sorted 3000, 3100, 30000 Wh; the median 3100's
    // ±10% band keeps 3000 and 3100; their lower median is 3000.
    let (mut ok, _) = env
        .service(
            0,
            Arc::new(Store::open_in_memory().unwrap()),
            config(OracleMode::Single, 0, sources, rule(2, 1_000)),
        )
        .await;
    let r = ok.tick().await.unwrap();
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let att = env.attestations(task_id, h1).await;
    assert_eq!(att.accepted, Some(Uint128::new(3_000)));
    assert_eq!(att.attestations.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_after_the_outbox_recorded_but_before_inclusion_attests_once() {
    // Two oracles must agree, so one attestation leaves the task verifying.
    let env = env(BlockMode::Manual, 2, 2, 1).await;
    let (task_id, households) = env.task_in_verification(&["h1", "h2"]).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("oracle0.sqlite");
    let cfg = config(
        OracleMode::Single,
        0,
        vec![sim("meter", "devnet")],
        rule(1, 0),
    );
    let oracle = oracle_client(&env.chain, 0).await;
    let seq_before = oracle.account_sequence().await.unwrap();
    {
        // Blocks stop; the attestation is recorded, signed and broadcast, and
        // the process dies while it waits for inclusion.
        env.producing.store(false, Ordering::SeqCst);
        let store = Arc::new(Store::open(&db).unwrap());
        let (mut svc, _) = env
            .service_with(
                0,
                store.clone(),
                cfg.clone(),
                OutboxOptions {
                    inclusion_timeout: Duration::from_millis(300),
                    max_attempts: 3,
                    // Fail fast: the test crashes the service while blocks are held.
                    transient_retries: 0,
                    ..OutboxOptions::default()
                },
            )
            .await;
        let r = svc.tick().await.unwrap();
        assert_eq!(r.failures.len(), 1);
        assert!(matches!(r.failures[0].error, OracleError::Outbox(_)));
        let rec = svc.record(task_id).unwrap().unwrap();
        assert_eq!(rec.state, TaskState::Submitted);
        assert_eq!(svc.attestation_log(task_id, 1).unwrap().len(), 1);
    }
    // The chain includes it while the oracle is down.
    env.chain.produce_block().await.unwrap();
    for h in &households {
        assert_eq!(env.attestations(task_id, h).await.attestations.len(), 1);
    }
    env.producing.store(true, Ordering::SeqCst);

    // Restart on the same file: reconciliation finds the tx, nothing is resent.
    let store = Arc::new(Store::open(&db).unwrap());
    let (mut svc, _) = env.service(0, store, cfg.clone()).await;
    for _ in 0..3 {
        let r = svc.tick().await.unwrap();
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        env.tick_block().await;
    }
    assert_eq!(oracle.account_sequence().await.unwrap(), seq_before + 1);
    let task = env.task(task_id).await;
    for h in &households {
        let att = env.attestations(task_id, h).await;
        assert_eq!(att.attestations.len(), 1);
        assert_eq!(
            att.attestations[0].value.u128(),
            expected_sim("devnet", &task, h)
        );
    }
    let rec = svc.record(task_id).unwrap().unwrap();
    assert_eq!(rec.state, TaskState::Done);
    assert!(rec.latency_blocks().unwrap() >= 1);

    // Even with the local record lost, the contract's attestations query stops a second one.
    let (mut fresh, _) = env
        .service(0, Arc::new(Store::open_in_memory().unwrap()), cfg)
        .await;
    let r = fresh.tick().await.unwrap();
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    assert_eq!(
        fresh.record(task_id).unwrap().unwrap().state,
        TaskState::Done
    );
    assert_eq!(oracle.account_sequence().await.unwrap(), seq_before + 1);
}

#[tokio::test]
async fn config_round_trips_through_toml_and_rejects_unknown_fields() {
    let toml_text = r#"
        mode = "aggregator"
        peers = ["http://10.0.0.2:7410"]
        listen = "127.0.0.1:7410"
        key = { scheme = "ed25519", source = { devnet_label = "oracle0" } }

        [[sources]]
        name = "meter-api"
        kind = "http"
        url = "http://meters.local/v1/{participant}?from={from}&to={to}"
        value_pointer = "/actual_kwh"
        baseline_pointer = "/baseline_kwh"

        [[sources]]
        name = "sim"
        kind = "simulated_meter"

        [[templates]]
        metric_name = "kwh_saved"
        metric = "energy_saved"
        units_per_unit = 1000
        min_sources = 2

        [http]
        timeout_ms = 2000
    "#;
    let cfg: OracleConfig = toml::from_str(toml_text).unwrap();
    assert_eq!(cfg.mode, OracleMode::Aggregator);
    assert_eq!(cfg.http.timeout_ms, 2000);
    assert_eq!(cfg.http.retries, 3);
    assert_eq!(cfg.rule_for(9, "kwh_saved").unwrap().min_sources, 2);
    assert!(cfg.rule_for(9, "bikes_moved").is_none());
    assert!(matches!(
        &cfg.sources[1].kind,
        SourceKind::SimulatedMeter {
            time_scale: 3600,
            ..
        }
    ));
    let again: OracleConfig = toml::from_str(&toml::to_string(&cfg).unwrap()).unwrap();
    assert_eq!(again, cfg);
    assert!(toml::from_str::<OracleConfig>("mode = \"single\"\nbogus = 1").is_err());
    let bad_source = "[[sources]]\nname = \"s\"\nkind = \"simulated_meter\"\nsede = \"typo\"\n";
    assert!(toml::from_str::<OracleConfig>(bad_source).is_err());
    let good_source = "[[sources]]\nname = \"s\"\nkind = \"simulated_meter\"\nseed = \"x\"\n";
    assert!(toml::from_str::<OracleConfig>(good_source).is_ok());
}
