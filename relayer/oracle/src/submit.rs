//! Proving a measured task on chain: a single `attest`, or the aggregator's
//! k-of-n `submit_report` from peers' signed observations; the message is
//! recorded before the outbox sees it, and its outcome recorded after.

use std::collections::BTreeMap;

use cosmwasm_std::Binary;
use relayer_core::chain::{query_smart, ChainMsg};
use relayer_core::store::OutboxStatus;
use value_contract::msg::{
    AttestationsResponse, ExecuteMsg, OracleSignature, OraclesResponse, ParticipantValue, QueryMsg,
    TaskResponse,
};

use crate::{
    keys, peer, Attestation, OracleError, OracleService, SignedObservation, TaskRecord, TaskState,
    TickReport,
};

impl OracleService {
    fn key(&self, task_id: u64, what: &str) -> String {
        format!(
            "oracle/{}/{}/{}/{}/{}",
            self.shared.chain_id, self.shared.contract, task_id, what, self.shared.account
        )
    }

    /// Single mode: one `attest` from this oracle's account.
    pub(crate) async fn attest(
        &self,
        task: &TaskResponse,
        oracles: &OraclesResponse,
        rec: &TaskRecord,
        report: &mut TickReport,
    ) -> Result<(), OracleError> {
        if !oracles
            .members
            .iter()
            .any(|m| m.address.as_str() == self.shared.account)
        {
            return Err(OracleError::NotInOracleSet {
                who: self.shared.account.clone(),
                version: oracles.version,
            });
        }
        let values: Vec<ParticipantValue> =
            serde_json::from_str(rec.values_json.as_deref().unwrap_or("[]"))?;
        let evidence_cid = rec.evidence_cid.clone().unwrap_or_default();
        // Skip what the contract already has: ours (e.g. sent before the
        // local record was lost) or an accepted value.
        let mut open = Vec::with_capacity(values.len());
        for v in values {
            let att: AttestationsResponse = query_smart(
                self.shared.chain.as_ref(),
                &self.shared.contract,
                &QueryMsg::Attestations {
                    task_id: task.id,
                    participant: v.participant.clone(),
                    start_after: None,
                    limit: Some(30),
                },
            )
            .await?;
            let ours = att
                .attestations
                .iter()
                .any(|a| a.oracle.as_str() == self.shared.account);
            if att.accepted.is_none() && !ours {
                open.push(v);
            }
        }
        if open.is_empty() {
            tracing::info!(task = task.id, "already attested on chain");
            self.shared
                .db
                .set_state(task.id, TaskState::Done, None, None)
                .await?;
            return Ok(());
        }
        let msg = ExecuteMsg::Attest {
            task_id: task.id,
            values: open,
            evidence_cid,
        };
        let msgs = vec![ChainMsg::execute(&self.shared.contract, &msg, vec![])?];
        let key = self.key(task.id, &format!("attest/v{}", oracles.version));
        self.record_submission(task.id, &key, &msgs, u64::from(oracles.version), &msg, &[])
            .await?;
        self.submit(task.id, &key, &msgs, rec, report).await
    }

    /// Aggregator mode: k identical signed observations → one `submit_report`.
    pub(crate) async fn aggregate_report(
        &self,
        task: &TaskResponse,
        oracles: &OraclesResponse,
        rec: &TaskRecord,
        report: &mut TickReport,
    ) -> Result<(), OracleError> {
        let round = task.last_report_round + 1;
        let Some(own) = self
            .shared
            .observation(task.id, round, oracles.version)
            .await?
        else {
            tracing::info!(task = task.id, "no open participants left");
            self.shared
                .db
                .set_state(task.id, TaskState::Done, None, None)
                .await?;
            return Ok(());
        };
        let index_of = |obs: &SignedObservation| {
            oracles.members.iter().find(|m| {
                m.address.as_str() == obs.oracle && m.pubkey == obs.pubkey && m.scheme == obs.scheme
            })
        };
        let own_member = index_of(&own).ok_or_else(|| OracleError::NotInOracleSet {
            who: self.shared.account.clone(),
            version: oracles.version,
        })?;
        let mut signatures: BTreeMap<u32, Binary> = BTreeMap::new();
        signatures.insert(own_member.index, own.signature.clone());
        let digest = peer::report_digest(&own.report);
        for peer in &self.config.peers {
            let url = format!(
                "{}/v1/observations/{}?round={}&config_version={}",
                peer.trim_end_matches('/'),
                task.id,
                round,
                oracles.version
            );
            let obs: SignedObservation = match self.peers.get(&url).await {
                Ok(Some(v)) => match serde_json::from_value(v) {
                    Ok(o) => o,
                    Err(e) => {
                        tracing::warn!(peer, error = %e, "malformed observation ignored");
                        continue;
                    }
                },
                Ok(None) => {
                    tracing::debug!(peer, task = task.id, "peer has no observation yet");
                    continue;
                }
                Err(e) => {
                    tracing::warn!(peer, error = %e, "peer unreachable");
                    continue;
                }
            };
            let Some(member) = index_of(&obs) else {
                tracing::warn!(
                    peer,
                    oracle = obs.oracle,
                    "observation from outside the oracle set ignored"
                );
                continue;
            };
            if obs.report != own.report {
                tracing::warn!(
                    peer,
                    oracle = obs.oracle,
                    ours = ?own.report.values,
                    theirs = ?obs.report.values,
                    "disagreeing report ignored"
                );
                continue;
            }
            if !keys::verify_digest(member.scheme, &member.pubkey, &digest, &obs.signature) {
                tracing::warn!(
                    peer,
                    oracle = obs.oracle,
                    "bad observation signature ignored"
                );
                continue;
            }
            signatures.insert(member.index, obs.signature);
        }
        let need = task.terms.min_quorum.max(oracles.threshold) as usize;
        if signatures.len() < need {
            return Err(OracleError::NotEnoughObservations {
                task_id: task.id,
                have: signatures.len(),
                need,
            });
        }
        let signatures: Vec<OracleSignature> = signatures
            .into_iter()
            .map(|(oracle_index, signature)| OracleSignature {
                oracle_index,
                signature,
            })
            .collect();
        let msg = ExecuteMsg::SubmitReport {
            task_id: task.id,
            report: own.report.clone(),
            signatures,
        };
        let msgs = vec![ChainMsg::execute(&self.shared.contract, &msg, vec![])?];
        let key = self.key(task.id, &format!("report/r{round}"));
        self.record_submission(task.id, &key, &msgs, round, &own.report, &own.signature)
            .await?;
        self.submit(task.id, &key, &msgs, rec, report).await
    }

    /// Writes the submission (task row and attestation log) before the outbox sees it.
    async fn record_submission(
        &self,
        task_id: u64,
        key: &str,
        msgs: &[ChainMsg],
        round: u64,
        payload: &impl serde::Serialize,
        signature: &[u8],
    ) -> Result<(), OracleError> {
        self.shared
            .db
            .set_submission(task_id, &serde_json::to_string(msgs)?, key, round)
            .await?;
        self.shared
            .db
            .put_attestation(&Attestation {
                chain_id: self.shared.chain_id.clone(),
                task_id: format!("{}/{}", self.shared.contract, task_id),
                round,
                attester: self.shared.account.clone(),
                payload: serde_json::to_vec(payload)?,
                signature: signature.to_vec(),
            })
            .await?;
        Ok(())
    }

    pub(crate) async fn submit(
        &self,
        task_id: u64,
        key: &str,
        msgs: &[ChainMsg],
        rec: &TaskRecord,
        report: &mut TickReport,
    ) -> Result<(), OracleError> {
        let entry = self.outbox.submit(key, msgs, "wevalue oracle").await?;
        let db = &self.shared.db;
        match entry.status {
            OutboxStatus::Done => {
                let height = entry.height.unwrap_or_default();
                db.set_state(task_id, TaskState::Done, Some(height), None)
                    .await?;
                report.included += 1;
                tracing::info!(
                    task = task_id,
                    verifying_height = rec.verifying_height,
                    included_height = height,
                    latency_blocks = height.saturating_sub(rec.verifying_height),
                    "oracle task proven"
                );
                Ok(())
            }
            OutboxStatus::Failed => {
                let reason = entry.last_error.unwrap_or_default();
                db.set_state(task_id, TaskState::Failed, entry.height, Some(&reason))
                    .await?;
                Err(OracleError::SubmissionFailed { task_id, reason })
            }
            // Not final yet: left to the next tick (same key, same message).
            _ => Ok(()),
        }
    }
}
