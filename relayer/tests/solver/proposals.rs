//! Proposals: the solver's becomes the contract's best with the optimal
//! score; a worse manual one is replaced, an optimal one left alone; paged offers.

use super::*;

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
    // Both in their matching window before the pass (`easy` opened later;
    // on a loaded machine its funding window may still be running).
    f.wait_matching(task).await;
    f.wait_matching(easy).await;

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
