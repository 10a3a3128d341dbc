//! Restarts and shutdown: a proposal recorded in the outbox is sent once,
//! with or without reconcile; `run` stops on shutdown.

use super::*;

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
