//! The oracle service against the embedded chain: a value-contract with an
//! oracle set of devnet keys, a competition task driven by the wall clock
//! into verification, and oracle instances (each with its own SQLite store,
//! account and key) proving the households' kWh saved.

#[path = "../common/mod.rs"]
mod common;

mod attest;
mod lifecycle;
mod sources;

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
