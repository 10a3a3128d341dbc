//! Matching solver service (issue 7).
//!
//! For every value-contract task in its matching window the service reads
//! the live offers, computes the assignment that is optimal under the
//! contract's own objective ([`algo`]: exact branch and bound, documented
//! there) and proposes it with `ProposeMatching` when it is strictly better
//! than both the contract's best still-valid proposal and the contract's
//! greedy rule (a proposal that does not beat the rule would never be used
//! at the deadline, so sending it would only cost gas).
//!
//! One [`SolverService::tick`] is one pass:
//!
//! 1. `tasks_by_status` pages (stored `matching`, and stored `funding`
//!    whose clock status is already `matching`), keeping tasks whose
//!    matching deadline is more than `deadline_margin_secs` away;
//! 2. `offers` page by page (`start_after` / `limit`);
//! 3. `matching` for the best proposal, re-checked against the offers;
//! 4. solve, compare, and submit through the [`Outbox`] under the key
//!    `solver/<chain-id>/<contract>/<task>/<assignment hash>`. The outbox
//!    records the messages before broadcasting and never sends one key
//!    twice, so a restart that recomputes the same assignment sends
//!    nothing (and the contract would refuse it as not better anyway).
//!
//! Outbox reconciliation after a crash is the daemon's job at start-up
//! (`Outbox::reconcile`), before services tick.

pub mod algo;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;
use tokio::sync::watch;
use tracing::Instrument;
use value_contract::msg::{
    Assignment, ExecuteMsg, MatchingResponse, OffersResponse, QueryMsg, TaskResponse, TasksResponse,
};
use value_contract::state::TaskStatus;

use relayer_core::chain::{query_smart, ChainMsg, ChainStatus, SmartQuery};
use relayer_core::error::ChainError;
use relayer_core::outbox::{Outbox, OutboxError};
use relayer_core::store::OutboxStatus;

pub use algo::{
    evaluate, rule, solve, solve_with_limit, Infeasible, OfferInput, Problem, Score, Solution,
};

/// Resolves once the stop flag is set or its sender is gone (no `watch`
/// guard is held across an await).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// The contract's page size cap.
const MAX_PAGE: u32 = 30;

/// `[solver]` section of the relayer configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SolverConfig {
    /// Run the solver at all.
    pub enabled: bool,
    /// Seconds between two passes over the tasks in their matching window.
    pub poll_interval_secs: u64,
    /// Most tasks solved per pass; the next pass continues after the last
    /// one solved (round robin), so every task gets its turn.
    pub max_tasks_per_tick: u32,
    /// Page size of the `tasks_by_status` and `offers` queries (1 to 30).
    pub page_size: u32,
    /// Search nodes per task before the branch and bound stops and the
    /// best assignment found so far is used (not proven optimal).
    pub node_limit: u64,
    /// Skip tasks whose matching deadline is this close (seconds): a
    /// proposal included after the deadline is refused.
    pub deadline_margin_secs: u64,
    /// Memo of the proposal transactions.
    pub memo: String,
}

impl Default for SolverConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_interval_secs: 30,
            max_tasks_per_tick: 20,
            page_size: MAX_PAGE,
            node_limit: algo::DEFAULT_NODE_LIMIT,
            deadline_margin_secs: 12,
            memo: "wevalue solver".to_string(),
        }
    }
}

/// Solver failures.
#[derive(Debug, Error)]
pub enum SolverError {
    /// A query or the chain status failed.
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    /// The outbox failed (the entry stays open for the next flush).
    #[error(transparent)]
    Outbox(#[from] OutboxError),
}

/// What happened to one task in a pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskOutcome {
    /// No offer fits the budget.
    NoSolution,
    /// The optimum does not beat the contract's greedy rule.
    RuleIsOptimal {
        /// The optimum (equal to the rule's score).
        score: Score,
    },
    /// The best valid proposal already scores at least as well.
    NotBetter {
        /// Our optimum.
        score: Score,
        /// The current best proposal's score.
        best: Score,
    },
    /// Proposed (or found already proposed under the same key).
    Proposed {
        /// Its score.
        score: Score,
        /// Outbox idempotency key.
        key: String,
        /// Final outbox status (`Done`, or `Failed` if the contract refused it).
        status: OutboxStatus,
        /// Whether the search proved optimality.
        proven_optimal: bool,
    },
    /// Too close to the matching deadline.
    DeadlineTooClose,
}

/// One pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Tasks in their matching window found.
    pub in_window: u32,
    /// Per task solved this pass, by task id.
    pub tasks: Vec<(u64, TaskOutcome)>,
}

impl TickReport {
    /// Tasks proposed for this pass.
    pub fn proposed(&self) -> Vec<u64> {
        self.tasks
            .iter()
            .filter(|(_, o)| matches!(o, TaskOutcome::Proposed { .. }))
            .map(|(id, _)| *id)
            .collect()
    }
}

/// The solver service for one value contract and one signer.
pub struct SolverService<C: SmartQuery + ChainStatus + ?Sized> {
    client: Arc<C>,
    outbox: Arc<Outbox>,
    contract: String,
    config: SolverConfig,
    /// Round-robin position: the last task id solved.
    cursor: Option<u64>,
}

impl<C: SmartQuery + ChainStatus + ?Sized> SolverService<C> {
    /// A solver for `contract` (a value-contract address) that reads the
    /// chain through `client` and submits through `outbox` (the signer's,
    /// shared with the other services).
    pub fn new(
        client: Arc<C>,
        outbox: Arc<Outbox>,
        contract: impl Into<String>,
        config: SolverConfig,
    ) -> Self {
        Self {
            client,
            outbox,
            contract: contract.into(),
            config,
            cursor: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SolverConfig {
        &self.config
    }

    fn page(&self) -> u32 {
        self.config.page_size.clamp(1, MAX_PAGE)
    }

    /// Every task whose clock status is `Matching`, by id.
    async fn tasks_in_window(&self) -> Result<Vec<TaskResponse>, SolverError> {
        let mut out = Vec::new();
        // A funded task stays stored as `Funding` until a call records the
        // transition; its clock status already says `Matching`.
        for stored in [TaskStatus::Matching, TaskStatus::Funding] {
            let mut start_after = None;
            loop {
                let page: TasksResponse = query_smart(
                    &*self.client,
                    &self.contract,
                    &QueryMsg::TasksByStatus {
                        status: stored,
                        start_after,
                        limit: Some(self.page()),
                    },
                )
                .await?;
                let n = page.tasks.len();
                start_after = page.tasks.last().map(|t| t.id);
                out.extend(
                    page.tasks
                        .into_iter()
                        .filter(|t| t.status == TaskStatus::Matching),
                );
                if n < self.page() as usize {
                    break;
                }
            }
        }
        out.sort_by_key(|t| t.id);
        Ok(out)
    }

    /// Every live offer of a task, page by page.
    async fn offers(&self, task_id: u64) -> Result<Vec<OfferInput>, SolverError> {
        let mut out = Vec::new();
        let mut start_after = None;
        loop {
            let page: OffersResponse = query_smart(
                &*self.client,
                &self.contract,
                &QueryMsg::Offers {
                    task_id,
                    start_after,
                    limit: Some(self.page()),
                },
            )
            .await?;
            let n = page.offers.len();
            start_after = page.offers.last().map(|o| o.offer_id);
            out.extend(page.offers.into_iter().map(|o| OfferInput {
                offer_id: o.offer_id,
                revision: o.revision,
                price: o.price.u128(),
                capacity: o.capacity,
                min_units: o.min_units,
            }));
            if n < self.page() as usize {
                break;
            }
        }
        Ok(out)
    }

    /// The idempotency key of a proposal.
    pub fn proposal_key(chain_id: &str, contract: &str, task_id: u64, a: &[Assignment]) -> String {
        let mut h = Sha256::new();
        for x in a {
            h.update(x.offer_id.to_be_bytes());
            h.update(x.revision.to_be_bytes());
            h.update(x.units.to_be_bytes());
        }
        let digest = hex::encode(&h.finalize()[..16]);
        format!("solver/{chain_id}/{contract}/{task_id}/{digest}")
    }

    /// One pass over the tasks in their matching window (module docs).
    pub async fn tick(&mut self) -> Result<TickReport, SolverError> {
        let span = tracing::info_span!("solver_tick", contract = %self.contract);
        async {
            let tasks = self.tasks_in_window().await?;
            let mut report = TickReport {
                in_window: tasks.len() as u32,
                tasks: vec![],
            };
            if tasks.is_empty() {
                return Ok(report);
            }
            let now = self.client.latest_block().await?.time_nanos / 1_000_000_000;
            // Round robin: continue after the last task solved, wrapping.
            let split = tasks
                .iter()
                .position(|t| Some(t.id) > self.cursor)
                .unwrap_or(tasks.len());
            let order = tasks[split..].iter().chain(tasks[..split].iter());
            for task in order.take(self.config.max_tasks_per_tick as usize) {
                self.cursor = Some(task.id);
                let outcome = self.solve_task(task, now).await?;
                report.tasks.push((task.id, outcome));
            }
            Ok(report)
        }
        .instrument(span)
        .await
    }

    async fn solve_task(
        &self,
        task: &TaskResponse,
        now_secs: u64,
    ) -> Result<TaskOutcome, SolverError> {
        let task_id = task.id;
        let span = tracing::info_span!("solver_task", task_id);
        async {
            if task.terms.matching_deadline.seconds()
                < now_secs.saturating_add(self.config.deadline_margin_secs)
            {
                return Ok(TaskOutcome::DeadlineTooClose);
            }
            let problem = Problem {
                kind: task.terms.kind,
                budget: task.funded.u128(),
                max_participants: task.terms.max_participants,
                offers: self.offers(task_id).await?,
            };
            let started = std::time::Instant::now();
            let Some(solution) = solve_with_limit(&problem, self.config.node_limit) else {
                return Ok(TaskOutcome::NoSolution);
            };
            tracing::debug!(
                offers = problem.offers.len(),
                nodes = solution.nodes,
                proven = solution.proven_optimal,
                micros = started.elapsed().as_micros() as u64,
                units = solution.score.units,
                cost = %solution.score.cost,
                "solved"
            );
            let score = solution.score;
            let rule_score = evaluate(&problem, &rule(&problem)).ok();
            if let Some(r) = rule_score {
                if !score.better_than(&r) {
                    return Ok(TaskOutcome::RuleIsOptimal { score });
                }
            }
            let matching: MatchingResponse = query_smart(
                &*self.client,
                &self.contract,
                &QueryMsg::Matching {
                    task_id,
                    start_after: None,
                    limit: Some(1),
                },
            )
            .await?;
            // The contract ignores a best proposal that no longer fits the
            // offers (revised or withdrawn); so do we.
            if let Some(best) = matching.best_proposal {
                if evaluate(&problem, &best.assignments).is_ok() {
                    let best = Score {
                        units: best.total_units,
                        cost: best.total_cost.u128(),
                    };
                    if !score.better_than(&best) {
                        return Ok(TaskOutcome::NotBetter { score, best });
                    }
                }
            }
            let key = Self::proposal_key(
                self.client.chain_id(),
                &self.contract,
                task_id,
                &solution.assignments,
            );
            let msg = ChainMsg::execute(
                &self.contract,
                &ExecuteMsg::ProposeMatching {
                    task_id,
                    assignments: solution.assignments.clone(),
                },
                vec![],
            )?;
            let entry = self.outbox.submit(&key, &[msg], &self.config.memo).await?;
            if entry.status == OutboxStatus::Failed {
                tracing::warn!(key, error = ?entry.last_error, "proposal refused");
            } else {
                tracing::info!(key, units = score.units, cost = %score.cost, "proposed");
            }
            Ok(TaskOutcome::Proposed {
                score,
                key,
                status: entry.status,
                proven_optimal: solution.proven_optimal,
            })
        }
        .instrument(span)
        .await
    }

    /// Ticks every `poll_interval_secs` until `shutdown` turns true (or its
    /// sender is dropped). A failed pass is logged and retried next time.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        if !self.config.enabled {
            return;
        }
        let interval = Duration::from_secs(self.config.poll_interval_secs.max(1));
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.tick().await {
                Ok(r) => {
                    let proposed = r.proposed();
                    if !proposed.is_empty() {
                        tracing::info!(?proposed, "solver pass");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "solver pass failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stopped(&mut shutdown) => return,
            }
        }
    }
}
