//! The matching solver service against the embedded chain with the value
//! contract deployed: its proposal becomes the contract's best with the
//! optimal score, it stays silent when the best is already optimal, and a
//! restart never sends the same proposal twice.

#[path = "../common/mod.rs"]
mod common;

mod proposals;
mod restarts;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use cosmwasm_std::{coin, coins, Uint128};
use relayer::chain::{execute, find_attr, query_smart, ChainMsg, CodeClient, CodeUpload, TxClient};
use relayer::embedded::{BlockMode, EmbeddedChain, EmbeddedClient};
use relayer::outbox::{Outbox, OutboxOptions, ReconcileReport};
use relayer::services::solver::algo::brute_force;
use relayer::services::solver::{
    evaluate, rule, solve, OfferInput, Problem, Score, SolverConfig, SolverService, TaskOutcome,
};
use relayer::store::{OutboxStatus, Store};
use value_contract::msg::{
    Assignment, DurationOverrides, Durations, ExecuteMsg, InstantiateMsg, MatchingResponse,
    OracleMemberMsg, OracleSetMsg, QueryMsg, TaskParams, TaskResponse, TemplateMsg,
};
use value_contract::state::{KeyScheme, TaskKind, TaskStatus};
use wevalue_common::asset::AssetInfoUnchecked;

const CHAIN: &str = "wevalue-test";
const CID: &str = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
/// Funding window (seconds of real time: the embedded chain's clock is the wall clock).
const FUNDING_SECS: u64 = 3;
/// The template's offer deposit.
const OFFER_DEPOSIT: u128 = 10;

struct Fixture {
    chain: EmbeddedChain,
    deployer: EmbeddedClient,
    contract: String,
    template: u64,
}

async fn fixture() -> Fixture {
    let (chain, deployer) = chain(BlockMode::OnDemand).await;
    let code = deployer
        .store_code(&CodeUpload {
            name: "value-contract".into(),
            wasm: None,
        })
        .await
        .unwrap();
    // A template's quorum must be reachable: one (unused) oracle.
    let msg = serde_json::to_value(InstantiateMsg {
        owner: None,
        oracles: Some(OracleSetMsg {
            members: vec![OracleMemberMsg {
                address: deployer.sender().to_string(),
                pubkey: vec![7u8; 32].into(),
                scheme: KeyScheme::Ed25519,
            }],
            threshold: 1,
        }),
    })
    .unwrap();
    let (contract, _) = deployer
        .instantiate(code.code_id, &msg, "value-contract", None, vec![])
        .await
        .unwrap();
    let out = execute(
        &deployer,
        &contract,
        &ExecuteMsg::CreateTemplate(TemplateMsg {
            name: "bike rebalancing".into(),
            kind: TaskKind::PerUnit,
            metric: "bikes_moved".into(),
            unit: "bike".into(),
            asset: None,
            durations: Durations {
                funding: FUNDING_SECS,
                matching: 600,
                acceptance: 600,
                execution: 600,
                verification: 600,
                dispute: 600,
            },
            min_quorum: 1,
            tolerance_bps: 0,
            max_participants: 64,
            offer_deposit: Uint128::new(OFFER_DEPOSIT),
        }),
        vec![],
        TIMEOUT,
    )
    .await
    .unwrap();
    let template = find_attr(&out.events, "wasm", "template_id")
        .map(|s| s.parse().unwrap())
        .unwrap_or(1);
    Fixture {
        chain,
        deployer,
        contract,
        template,
    }
}

impl Fixture {
    /// A funded per-unit task; returns its id.
    async fn task(&self, budget: u128, max_participants: u32) -> u64 {
        let out = execute(
            &self.deployer,
            &self.contract,
            &ExecuteMsg::CreateTask {
                template_id: self.template,
                params: TaskParams {
                    title: "Move bikes to the station".into(),
                    description_cid: CID.into(),
                    asset: AssetInfoUnchecked::Native(DENOM.into()),
                    funding_goal: Uint128::new(budget),
                    target: Uint128::zero(),
                    max_participants,
                    bond: Uint128::zero(),
                    durations: DurationOverrides::default(),
                },
            },
            vec![],
            TIMEOUT,
        )
        .await
        .unwrap();
        let id = find_attr(&out.events, "wasm", "task_id")
            .unwrap()
            .parse()
            .unwrap();
        execute(
            &self.deployer,
            &self.contract,
            &ExecuteMsg::Contribute { task_id: id },
            vec![coin(budget, DENOM)],
            TIMEOUT,
        )
        .await
        .unwrap();
        id
    }

    async fn client(&self, label: &str) -> EmbeddedClient {
        let addr = self.chain.addr_make(label).await.unwrap();
        self.chain.fund(&addr, coins(1_000, DENOM)).await.unwrap();
        self.chain.client(addr)
    }

    /// `label` offers on the task; returns the offer id.
    async fn offer(&self, label: &str, task_id: u64, price: u128, cap: u32, min: u32) -> u64 {
        let p = self.client(label).await;
        let out = execute(
            &p,
            &self.contract,
            &ExecuteMsg::SubmitOffer {
                task_id,
                price: Uint128::new(price),
                capacity: cap,
                min_units: min,
                reputation_ref: Some(format!("did:example:{label}")),
            },
            coins(OFFER_DEPOSIT, DENOM),
            TIMEOUT,
        )
        .await
        .unwrap();
        find_attr(&out.events, "wasm", "offer_id")
            .unwrap()
            .parse()
            .unwrap()
    }

    async fn propose(&self, label: &str, task_id: u64, a: Vec<(u64, u32)>) {
        let p = self.client(label).await;
        execute(
            &p,
            &self.contract,
            &ExecuteMsg::ProposeMatching {
                task_id,
                assignments: a
                    .into_iter()
                    .map(|(offer_id, units)| Assignment {
                        offer_id,
                        revision: 0,
                        units,
                    })
                    .collect(),
            },
            vec![],
            TIMEOUT,
        )
        .await
        .unwrap();
    }

    async fn task_info(&self, id: u64) -> TaskResponse {
        query_smart(&self.deployer, &self.contract, &QueryMsg::Task { id })
            .await
            .unwrap()
    }

    /// Waits (real time) until the task's clock status is `Matching`.
    async fn wait_matching(&self, id: u64) {
        for _ in 0..100 {
            if self.task_info(id).await.status == TaskStatus::Matching {
                return;
            }
            // The clock only moves with blocks.
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.chain.produce_block().await.unwrap();
        }
        panic!("task {id} never reached its matching window");
    }

    async fn matching(&self, task_id: u64) -> MatchingResponse {
        query_smart(
            &self.deployer,
            &self.contract,
            &QueryMsg::Matching {
                task_id,
                start_after: None,
                limit: None,
            },
        )
        .await
        .unwrap()
    }

    fn solver(
        &self,
        signer: &EmbeddedClient,
        store: &Arc<Store>,
        config: SolverConfig,
    ) -> SolverService<EmbeddedClient> {
        let client = Arc::new(signer.clone());
        let outbox = Outbox::new(
            store.clone(),
            client.clone(),
            CHAIN,
            OutboxOptions {
                inclusion_timeout: TIMEOUT,
                max_attempts: 3,
                ..OutboxOptions::default()
            },
        );
        SolverService::new(client, Arc::new(outbox), self.contract.clone(), config)
    }

    /// The three offers of the contract's own "solver beats greedy"
    /// example plus a pricier flexible one: the rule takes a (70) and d (15
    /// units for the 30 left), 85 units; the optimum is b + c, 100 units.
    async fn knapsack_task(&self) -> (u64, [u64; 4]) {
        let task = self.task(100, 3).await;
        let a = self.offer("a", task, 1, 70, 70).await;
        let b = self.offer("b", task, 1, 50, 50).await;
        let c = self.offer("c", task, 1, 50, 50).await;
        let d = self.offer("d", task, 2, 40, 10).await;
        (task, [a, b, c, d])
    }
}

fn config() -> SolverConfig {
    SolverConfig {
        deadline_margin_secs: 5,
        ..SolverConfig::default()
    }
}
