//! Signed observations between oracles.
//!
//! Every observer (and the aggregator itself) serves
//!
//! ```text
//! GET /v1/observations/{task_id}?round={round}&config_version={version}
//! ```
//!
//! answering a [`SignedObservation`]: the report it measured (its stored
//! values for the participants still open on chain, bound to the chain id,
//! contract, config version and round the aggregator asks for) and its
//! signature over the report's canonical digest. `404` means "not measured
//! yet". The transport is not authenticated; the payload is: the aggregator
//! accepts an observation only if the signature verifies against the key
//! the contract's oracle set lists for that oracle, and only if the report
//! is identical to its own.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cosmwasm_std::{Addr, Binary};
use relayer_core::http::Limits;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use value_contract::msg::{ParticipantValue, Report};
use value_contract::state::KeyScheme;

use super::{OracleError, Shared};

/// One oracle's signed statement of a report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignedObservation {
    /// The oracle's account (its entry in the oracle set).
    pub oracle: String,
    /// Its report key's scheme.
    pub scheme: KeyScheme,
    /// Its report public key.
    pub pubkey: Binary,
    /// The report.
    pub report: Report,
    /// Signature over sha256 of the report's canonical bytes.
    pub signature: Binary,
}

/// sha256 of the contract's canonical report bytes (what oracles sign).
pub fn report_digest(report: &Report) -> Vec<u8> {
    let values: Vec<(Addr, cosmwasm_std::Uint128)> = report
        .values
        .iter()
        .map(|v| (Addr::unchecked(&v.participant), v.value))
        .collect();
    let bytes = value_contract::oracle::report_bytes(
        &report.chain_id,
        &report.contract,
        report.task_id,
        report.config_version,
        report.round,
        &report.evidence_cid,
        &values,
    );
    Sha256::digest(bytes).to_vec()
}

impl Shared {
    /// This oracle's signed observation for a task at (round, version), if measured.
    pub(crate) async fn observation(
        &self,
        task_id: u64,
        round: u64,
        config_version: u32,
    ) -> Result<Option<SignedObservation>, OracleError> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        let Some(rec) = self.db.get(task_id).await? else {
            return Ok(None);
        };
        let (Some(values), Some(evidence_cid)) = (rec.values_json, rec.evidence_cid) else {
            return Ok(None);
        };
        let values: Vec<ParticipantValue> = serde_json::from_str(&values)?;
        let open = self.open_participants(task_id).await?;
        let values: Vec<ParticipantValue> = values
            .into_iter()
            .filter(|v| open.contains(&v.participant))
            .collect();
        if values.is_empty() {
            return Ok(None);
        }
        let report = Report {
            chain_id: self.chain_id.clone(),
            contract: self.contract.clone(),
            task_id,
            config_version,
            round,
            evidence_cid,
            values,
        };
        let signature = key.sign_digest(&report_digest(&report))?;
        Ok(Some(SignedObservation {
            oracle: self.account.clone(),
            scheme: key.scheme(),
            pubkey: Binary::from(key.public_key()),
            report,
            signature: Binary::from(signature),
        }))
    }
}

/// `?round=…&config_version=…`.
#[derive(Deserialize)]
struct ObservationQuery {
    round: Option<u64>,
    config_version: Option<u32>,
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

async fn observation(
    State(shared): State<Arc<Shared>>,
    Path(task): Path<String>,
    query: Result<Query<ObservationQuery>, QueryRejection>,
) -> Response {
    let Ok(task) = task.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected /v1/observations/{task_id}",
        );
    };
    let query = match query {
        Ok(Query(q)) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let Some(round) = query.round else {
        return error(StatusCode::BAD_REQUEST, "round is required");
    };
    let Some(version) = query.config_version else {
        return error(StatusCode::BAD_REQUEST, "config_version is required");
    };
    match shared.observation(task, round, version).await {
        Ok(Some(obs)) => Json(obs).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "not measured"),
        Err(e) => {
            tracing::warn!(task, error = %e, "observation request failed");
            error(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        }
    }
}

/// Binds the observation endpoint (port 0 picks one) and serves it until
/// `shutdown` turns true. Returns the bound address and the server task.
pub(crate) fn serve(
    shared: Arc<Shared>,
    addr: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(SocketAddr, JoinHandle<()>), OracleError> {
    let router = Router::new()
        .route("/v1/observations/{task_id}", get(observation))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such route") })
        .with_state(shared);
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    let (bound, handle) =
        relayer_core::http::serve(router, addr, Limits::default(), "oracle observations", stop)
            .map_err(|e| OracleError::Serve(format!("{addr}: {e}")))?;
    tracing::info!(%bound, "serving oracle observations");
    Ok((bound, handle))
}
