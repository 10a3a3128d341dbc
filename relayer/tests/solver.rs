//! The matching solver service against the embedded chain with the value
//! contract deployed: its proposal becomes the contract's best with the
//! optimal score, it stays silent when the best is already optimal, and a
//! restart never sends the same proposal twice.

mod common;

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

#[tokio::test]
async fn the_solvers_proposal_becomes_the_best_with_the_optimal_score() {
    let f = fixture().await;
    let (task, [_, b, c, _]) = f.knapsack_task().await;
    f.wait_matching(task).await;
    // Stored status is still Funding; the clock says Matching.
    assert_eq!(f.task_info(task).await.stored_status, TaskStatus::Funding);

    let signer = f.client("solver").await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let mut solver = f.solver(&signer, &store, config());
    let report = solver.tick().await.unwrap();
    assert_eq!(report.in_window, 1);
    let [(
        id,
        TaskOutcome::Proposed {
            score,
            key,
            status,
            proven_optimal,
        },
    )] = report.tasks.as_slice()
    else {
        panic!("unexpected report {report:?}");
    };
    assert_eq!(*id, task);
    assert_eq!(
        *score,
        Score {
            units: 100,
            cost: 100
        }
    );
    assert_eq!(*status, OutboxStatus::Done);
    assert!(*proven_optimal);
    assert!(key.starts_with(&format!("solver/{CHAIN}/{}/{task}/", f.contract)));

    let m = f.matching(task).await;
    let best = m.best_proposal.unwrap();
    assert_eq!(best.proposer.as_str(), signer.sender());
    assert_eq!((best.total_units, best.total_cost.u128()), (100, 100));
    let picked: Vec<_> = best
        .assignments
        .iter()
        .map(|a| (a.offer_id, a.units))
        .collect();
    assert_eq!(picked, vec![(b, 50), (c, 50)]);
    assert_eq!(m.status, TaskStatus::Matching);

    // A second pass finds its own proposal unbeatable and sends nothing.
    let seq = signer.account_sequence().await.unwrap();
    let report = solver.tick().await.unwrap();
    assert_eq!(
        report.tasks,
        vec![(
            task,
            TaskOutcome::NotBetter {
                score: Score {
                    units: 100,
                    cost: 100
                },
                best: Score {
                    units: 100,
                    cost: 100
                },
            }
        )]
    );
    assert_eq!(signer.account_sequence().await.unwrap(), seq);
}

#[tokio::test]
async fn a_worse_manual_proposal_is_replaced_an_optimal_one_is_left_alone() {
    let f = fixture().await;
    let (worse, [a, ..]) = f.knapsack_task().await;
    let (optimal, [_, b, c, _]) = f.knapsack_task().await;
    f.wait_matching(optimal).await;
    f.propose("alice", worse, vec![(a, 70)]).await;
    f.propose("alice", optimal, vec![(b, 50), (c, 50)]).await;

    let signer = f.client("solver").await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let mut solver = f.solver(&signer, &store, config());
    let report = solver.tick().await.unwrap();
    assert_eq!(report.in_window, 2);
    assert_eq!(report.proposed(), vec![worse]);
    assert_eq!(
        report.tasks[1],
        (
            optimal,
            TaskOutcome::NotBetter {
                score: Score {
                    units: 100,
                    cost: 100
                },
                best: Score {
                    units: 100,
                    cost: 100
                },
            }
        )
    );
    // Exactly one transaction from the solver: the proposal for `worse`.
    assert_eq!(signer.account_sequence().await.unwrap(), 1);
    let best = f.matching(worse).await.best_proposal.unwrap();
    assert_eq!(best.proposer.as_str(), signer.sender());
    assert_eq!(best.total_units, 100);
    let best = f.matching(optimal).await.best_proposal.unwrap();
    assert_ne!(best.proposer.as_str(), signer.sender());
}

#[tokio::test]
async fn paged_offers_are_solved_exactly_and_the_rule_optimum_is_not_sent() {
    let f = fixture().await;
    // Eight offers read three per page; exhaustive search checks the score.
    let task = f.task(60, 4).await;
    let terms = [
        (3, 3, 3),
        (2, 3, 2),
        (5, 2, 1),
        (4, 3, 3),
        (2, 2, 2),
        (6, 3, 1),
        (3, 3, 2),
        (1, 1, 1),
    ];
    let mut offers = vec![];
    for (i, (price, cap, min)) in terms.into_iter().enumerate() {
        let id = f.offer(&format!("p{i}"), task, price, cap, min).await;
        offers.push(OfferInput {
            offer_id: id,
            revision: 0,
            price,
            capacity: cap,
            min_units: min,
        });
    }
    // A second task where the contract's rule is already optimal.
    let easy = f.task(10, 2).await;
    f.offer("q1", easy, 1, 5, 1).await;
    f.offer("q2", easy, 2, 5, 1).await;
    f.wait_matching(task).await;

    let problem = Problem {
        kind: TaskKind::PerUnit,
        budget: 60,
        max_participants: 4,
        offers,
    };
    let exact = brute_force(&problem).unwrap();
    let signer = f.client("solver").await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let mut solver = f.solver(
        &signer,
        &store,
        SolverConfig {
            page_size: 3,
            ..config()
        },
    );
    let report = solver.tick().await.unwrap();
    // The rule fills its four slots cheapest first (9 units for 20); the
    // optimum takes the four cheapest 3-unit offers.
    assert_eq!(
        evaluate(&problem, &rule(&problem)).unwrap(),
        Score { units: 9, cost: 20 }
    );
    assert_eq!(
        exact,
        Score {
            units: 12,
            cost: 36
        }
    );
    let outcome = &report.tasks.iter().find(|(id, _)| *id == task).unwrap().1;
    assert!(
        matches!(outcome, TaskOutcome::Proposed { score, status: OutboxStatus::Done, .. } if *score == exact),
        "{outcome:?}"
    );
    let best = f.matching(task).await.best_proposal.unwrap();
    assert_eq!((best.total_units, best.total_cost.u128()), (12, 36));
    assert_eq!(
        report.tasks.iter().find(|(id, _)| *id == easy).unwrap().1,
        TaskOutcome::RuleIsOptimal {
            score: Score { units: 7, cost: 9 }
        }
    );
    assert!(f.matching(easy).await.best_proposal.is_none());
}

#[tokio::test]
async fn a_restart_after_the_outbox_recorded_sends_one_proposal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relayer.sqlite");
    let f = fixture().await;
    let (signed_task, _) = f.knapsack_task().await;
    let (pending_task, _) = f.knapsack_task().await;
    f.wait_matching(signed_task).await;
    let signer = f.client("solver").await;

    // The first process computes both proposals exactly as the service
    // does, records them, signs and broadcasts the first (it lands) and dies
    // before confirming it; the second is recorded only.
    {
        let store = Store::open(&db).unwrap();
        for (task, broadcast) in [(signed_task, true), (pending_task, false)] {
            let info = f.task_info(task).await;
            let offers: value_contract::msg::OffersResponse = query_smart(
                &signer,
                &f.contract,
                &QueryMsg::Offers {
                    task_id: task,
                    start_after: None,
                    limit: None,
                },
            )
            .await
            .unwrap();
            let problem = Problem {
                kind: info.terms.kind,
                budget: info.funded.u128(),
                max_participants: info.terms.max_participants,
                offers: offers
                    .offers
                    .iter()
                    .map(|o| OfferInput {
                        offer_id: o.offer_id,
                        revision: o.revision,
                        price: o.price.u128(),
                        capacity: o.capacity,
                        min_units: o.min_units,
                    })
                    .collect(),
            };
            let solution = solve(&problem).unwrap();
            let key = SolverService::<EmbeddedClient>::proposal_key(
                CHAIN,
                &f.contract,
                task,
                &solution.assignments,
            );
            let msgs = [ChainMsg::execute(
                &f.contract,
                &ExecuteMsg::ProposeMatching {
                    task_id: task,
                    assignments: solution.assignments,
                },
                vec![],
            )
            .unwrap()];
            let entry = store
                .enqueue(&key, CHAIN, &msgs, &SolverConfig::default().memo)
                .unwrap();
            if broadcast {
                let seq = signer.account_sequence().await.unwrap();
                let tx = signer.sign(&entry.msgs, &entry.memo, seq).await.unwrap();
                store.record_signed(entry.id, &tx).unwrap();
                signer.broadcast(&tx).await.unwrap();
            }
        }
    }
    assert_eq!(signer.account_sequence().await.unwrap(), 1);
    assert!(f.matching(pending_task).await.best_proposal.is_none());

    // Restart on the same file: reconcile (the daemon's start-up step)
    // finds the first on chain and sends the recorded second one.
    let store = Arc::new(Store::open(&db).unwrap());
    let mut solver = f.solver(&signer, &store, config());
    let outbox = Outbox::new(
        store.clone(),
        Arc::new(signer.clone()),
        CHAIN,
        OutboxOptions {
            inclusion_timeout: TIMEOUT,
            max_attempts: 3,
            ..OutboxOptions::default()
        },
    );
    let report = outbox.reconcile().await.unwrap();
    assert_eq!(
        report,
        ReconcileReport {
            found_on_chain: 1,
            sent: 1,
            ..Default::default()
        }
    );
    assert_eq!(signer.account_sequence().await.unwrap(), 2);
    // The service's pass then finds both proposals on chain and sends nothing.
    let report = solver.tick().await.unwrap();
    assert!(report.proposed().is_empty(), "{report:?}");
    assert_eq!(report.tasks.len(), 2);
    for task in [signed_task, pending_task] {
        let best = f.matching(task).await.best_proposal.unwrap();
        assert_eq!(best.proposer.as_str(), signer.sender());
        assert_eq!(best.total_units, 100);
    }
    assert_eq!(signer.account_sequence().await.unwrap(), 2);
    assert_eq!(store.outbox_backlog(CHAIN).unwrap(), 0);
}

#[tokio::test]
async fn a_restart_without_reconcile_continues_the_recorded_entry() {
    // Crash after recording, before signing, and no reconcile: the
    // service recomputes the same key and the outbox sends it once.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relayer.sqlite");
    let f = fixture().await;
    let (task, [_, b, c, _]) = f.knapsack_task().await;
    f.wait_matching(task).await;
    let signer = f.client("solver").await;
    let a = |offer_id, units| Assignment {
        offer_id,
        revision: 0,
        units,
    };
    let assignments = vec![a(b, 50), a(c, 50)];
    let key = SolverService::<EmbeddedClient>::proposal_key(CHAIN, &f.contract, task, &assignments);
    {
        let store = Store::open(&db).unwrap();
        let msgs = [ChainMsg::execute(
            &f.contract,
            &ExecuteMsg::ProposeMatching {
                task_id: task,
                assignments,
            },
            vec![],
        )
        .unwrap()];
        store
            .enqueue(&key, CHAIN, &msgs, &SolverConfig::default().memo)
            .unwrap();
    }
    let store = Arc::new(Store::open(&db).unwrap());
    let mut solver = f.solver(&signer, &store, config());
    let report = solver.tick().await.unwrap();
    assert!(matches!(
        &report.tasks[0].1,
        TaskOutcome::Proposed { key: k, status: OutboxStatus::Done, .. } if *k == key
    ));
    assert_eq!(store.outbox_backlog(CHAIN).unwrap(), 0);
    assert_eq!(signer.account_sequence().await.unwrap(), 1);
    let report = solver.tick().await.unwrap();
    assert!(report.proposed().is_empty());
    assert_eq!(signer.account_sequence().await.unwrap(), 1);
}

#[tokio::test]
async fn run_stops_on_shutdown() {
    let f = fixture().await;
    let signer = f.client("solver").await;
    let store = Arc::new(Store::open_in_memory().unwrap());
    let solver = f.solver(&signer, &store, config());
    let (tx, rx) = tokio::sync::watch::channel(false);
    let handle = tokio::spawn(solver.run(rx));
    tokio::time::sleep(Duration::from_millis(50)).await;
    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .expect("run returns on shutdown")
        .unwrap();
}
