//! One round of work: find the tasks in verification (paged), record when
//! each entered it, measure every confirmed participant from the sources
//! and hand the result to the submission step.

use std::sync::Arc;

use cosmwasm_std::Uint128;
use relayer_core::chain::{query_smart, ChainMsg};
use relayer_core::metrics::SourceLabels;
use relayer_core::StoreError;
use tokio::task::JoinSet;
use value_contract::msg::{
    OraclesResponse, ParticipantValue, QueryMsg, TaskResponse, TasksResponse,
};
use value_contract::state::TaskStatus;

use crate::{
    aggregate, evidence_cid, MeasurementQuery, MeasurementSource, OracleError, OracleMode,
    OracleService, SourceError, TaskFailure, TaskState, TemplateRule, TickReport,
};

/// Tasks scanned per tick at most (bounds the `tasks_by_status` walk).
const MAX_SCAN: usize = 2_000;
/// Blocks walked back at most to find where verification started.
const MAX_WALK_BACK: u64 = 512;

impl OracleService {
    /// One round of work: reconcile the outbox (first tick), find the tasks
    /// in verification and prove each one this oracle has not proven yet.
    #[tracing::instrument(skip(self), fields(oracle = %self.shared.account, mode = ?self.config.mode))]
    pub async fn tick(&mut self) -> Result<TickReport, OracleError> {
        if !self.reconciled {
            let r = self.outbox.reconcile().await?;
            tracing::info!(?r, "oracle outbox reconciled");
            self.reconciled = true;
        }
        let latest = self.shared.chain.latest_block().await?;
        let mut report = TickReport {
            height: latest.height,
            ..TickReport::default()
        };
        let oracles: OraclesResponse = query_smart(
            self.shared.chain.as_ref(),
            &self.shared.contract,
            &QueryMsg::Oracles {},
        )
        .await?;
        let tasks = self.verifying_tasks(&mut report).await?;
        report.verifying = tasks.len();
        for task in tasks {
            let id = task.id;
            if let Err(error) = self
                .process(&task, &oracles, latest.height, &mut report)
                .await
            {
                if let Err(e) = self.shared.db.set_error(id, &error.to_string()).await {
                    tracing::warn!(task = id, error = %e, "recording oracle error");
                }
                report.failures.push(TaskFailure { task_id: id, error });
            }
        }
        Ok(report)
    }

    /// Tasks whose clock status is `Verifying`, stored as `Executing` or
    /// `Verifying`, in id order, bounded by `max_tasks_per_tick`.
    async fn verifying_tasks(
        &self,
        report: &mut TickReport,
    ) -> Result<Vec<TaskResponse>, OracleError> {
        let mut out = Vec::new();
        for status in [TaskStatus::Verifying, TaskStatus::Executing] {
            let mut start_after = None;
            loop {
                let page: TasksResponse = query_smart(
                    self.shared.chain.as_ref(),
                    &self.shared.contract,
                    &QueryMsg::TasksByStatus {
                        status,
                        start_after,
                        limit: Some(self.config.page_size),
                    },
                )
                .await?;
                let n = page.tasks.len();
                report.scanned += n;
                start_after = page.tasks.last().map(|t| t.id);
                out.extend(
                    page.tasks
                        .into_iter()
                        .filter(|t| t.status == TaskStatus::Verifying),
                );
                if n < self.config.page_size as usize
                    || report.scanned >= MAX_SCAN
                    || out.len() >= self.config.max_tasks_per_tick
                {
                    break;
                }
            }
        }
        out.sort_by_key(|t| t.id);
        out.truncate(self.config.max_tasks_per_tick);
        Ok(out)
    }

    async fn process(
        &self,
        task: &TaskResponse,
        oracles: &OraclesResponse,
        height: u64,
        report: &mut TickReport,
    ) -> Result<(), OracleError> {
        let db = &self.shared.db;
        let Some(rule) = self
            .config
            .rule_for(task.terms.template_id, &task.terms.metric)
            .cloned()
        else {
            report.skipped += 1;
            tracing::debug!(
                task = task.id,
                template = task.terms.template_id,
                "no rule for template"
            );
            return Ok(());
        };
        let mut rec = match db.get(task.id).await? {
            Some(r) => r,
            None => {
                let entered = self
                    .entry_height(task.terms.execution_deadline.nanos(), height)
                    .await?;
                tracing::info!(
                    task = task.id,
                    entered,
                    seen = height,
                    "task in verification"
                );
                db.insert_seen(task.id, task.terms.template_id, entered, height)
                    .await?;
                db.get(task.id).await?.ok_or(StoreError::Corrupt {
                    table: "oracle_tasks",
                    reason: format!("task {} vanished", task.id),
                })?
            }
        };
        if matches!(rec.state, TaskState::Done | TaskState::Failed) {
            return Ok(());
        }
        if rec.values_json.is_none() {
            let (values, cid) = self.measure(task, &rule).await?;
            db.set_values(task.id, &serde_json::to_string(&values)?, &cid)
                .await?;
            report.measured += 1;
            rec = db.get(task.id).await?.unwrap_or(rec);
        }
        // A submission recorded before a crash is resumed as recorded.
        if let (Some(msg_json), Some(key)) = (&rec.msg_json, &rec.outbox_key) {
            if self.config.mode != OracleMode::Observer {
                let msgs: Vec<ChainMsg> = serde_json::from_str(msg_json)?;
                return self.submit(task.id, key, &msgs, &rec, report).await;
            }
        }
        match self.config.mode {
            OracleMode::Observer => Ok(()),
            OracleMode::Single => self.attest(task, oracles, &rec, report).await,
            OracleMode::Aggregator => self.aggregate_report(task, oracles, &rec, report).await,
        }
    }

    /// The first block whose time reached `deadline_nanos`, walking back
    /// from `height` (whose block is past it).
    async fn entry_height(&self, deadline_nanos: u64, height: u64) -> Result<u64, OracleError> {
        let mut h = height;
        while h > 1 && height - h < MAX_WALK_BACK {
            match self.shared.chain.block_events(h - 1).await {
                Ok(b) if b.time_nanos >= deadline_nanos => h -= 1,
                Ok(_) => break,
                // Pruned or unavailable: the oldest block known past the deadline.
                Err(e) => {
                    tracing::debug!(error = %e, "walk back stopped");
                    break;
                }
            }
        }
        Ok(h)
    }

    /// Measures every confirmed participant; all or nothing.
    async fn measure(
        &self,
        task: &TaskResponse,
        rule: &TemplateRule,
    ) -> Result<(Vec<ParticipantValue>, String), OracleError> {
        let from = task.terms.acceptance_deadline.seconds();
        let to = task.terms.execution_deadline.seconds();
        let sources: Vec<Arc<dyn MeasurementSource>> = self
            .sources
            .iter()
            .filter(|s| rule.sources.is_empty() || rule.sources.iter().any(|n| n == s.name()))
            .cloned()
            .collect();
        if sources.is_empty() {
            return Err(OracleError::Config(format!(
                "template {}: no sources",
                task.terms.template_id
            )));
        }
        let mut participants: Vec<String> = self
            .shared
            .slots(task.id)
            .await?
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        participants.sort();
        let mut values = Vec::with_capacity(participants.len());
        for participant in participants {
            let query = MeasurementQuery {
                task_id: task.id,
                participant: participant.clone(),
                from,
                to,
            };
            let mut set = JoinSet::new();
            for (i, source) in sources.iter().enumerate() {
                let (source, query, rule) = (source.clone(), query.clone(), rule.clone());
                set.spawn(async move {
                    let r = source.measure(&query).await.and_then(|m| {
                        rule.metric
                            .value(&m, rule.units_per_unit)
                            .map_err(SourceError::from)
                    });
                    (i, source.name().to_string(), r)
                });
            }
            let mut answers: Vec<(usize, String, Result<u128, SourceError>)> = Vec::new();
            while let Some(joined) = set.join_next().await {
                match joined {
                    Ok(a) => answers.push(a),
                    Err(e) => tracing::warn!(error = %e, "source task panicked"),
                }
            }
            answers.sort_by_key(|(i, _, _)| *i);
            let answers: Vec<(String, Result<u128, SourceError>)> =
                answers.into_iter().map(|(_, n, r)| (n, r)).collect();
            for (name, r) in &answers {
                match r {
                    Ok(v) => {
                        tracing::debug!(task = task.id, %participant, source = %name, value = %v, "measured")
                    }
                    Err(e) => {
                        self.metrics
                            .oracle_source_errors
                            .get_or_create(&SourceLabels {
                                source: name.clone(),
                            })
                            .inc();
                        tracing::warn!(task = task.id, %participant, source = %name, error = %e, "source failed")
                    }
                }
            }
            let value =
                aggregate(&answers, rule.min_sources, rule.agreement_bps).map_err(|source| {
                    OracleError::Sources {
                        task_id: task.id,
                        participant: participant.clone(),
                        source,
                    }
                })?;
            values.push(ParticipantValue {
                participant,
                value: Uint128::new(value),
            });
        }
        let evidence = serde_json::json!({
            "task_id": task.id,
            "template_id": task.terms.template_id,
            "metric": rule.metric,
            "units_per_unit": rule.units_per_unit,
            "from": from,
            "to": to,
            "values": values,
        });
        let cid = evidence_cid(&serde_json::to_vec(&evidence)?);
        Ok((values, cid))
    }
}
