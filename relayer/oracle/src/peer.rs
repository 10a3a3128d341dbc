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

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use cosmwasm_std::{Addr, Binary};
use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Method, Request, Response, Server, StatusCode};
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
        let Some(rec) = self.db.get(&self.store, task_id)? else {
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

fn parse_request(req: &Request<Body>) -> Result<(u64, u64, u32), &'static str> {
    let task = req
        .uri()
        .path()
        .strip_prefix("/v1/observations/")
        .and_then(|t| t.parse::<u64>().ok())
        .ok_or("expected /v1/observations/{task_id}")?;
    let (mut round, mut version) = (None, None);
    for pair in req.uri().query().unwrap_or("").split('&') {
        match pair.split_once('=') {
            Some(("round", v)) => round = v.parse().ok(),
            Some(("config_version", v)) => version = v.parse().ok(),
            _ => {}
        }
    }
    Ok((
        task,
        round.ok_or("round is required")?,
        version.ok_or("config_version is required")?,
    ))
}

async fn route(shared: Arc<Shared>, req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let reply = |status: StatusCode, body: String| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap_or_else(|_| Response::new(Body::empty()))
    };
    if req.method() != Method::GET {
        return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, "{}".into()));
    }
    let (task, round, version) = match parse_request(&req) {
        Ok(x) => x,
        Err(e) => {
            return Ok(reply(
                StatusCode::BAD_REQUEST,
                serde_json::json!({ "error": e }).to_string(),
            ))
        }
    };
    Ok(match shared.observation(task, round, version).await {
        Ok(Some(obs)) => match serde_json::to_string(&obs) {
            Ok(body) => reply(StatusCode::OK, body),
            Err(e) => reply(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        },
        Ok(None) => reply(StatusCode::NOT_FOUND, r#"{"error":"not measured"}"#.into()),
        Err(e) => {
            tracing::warn!(task, error = %e, "observation request failed");
            reply(
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({ "error": e.to_string() }).to_string(),
            )
        }
    })
}

/// Binds the observation endpoint (port 0 picks one) and serves it until
/// `shutdown` turns true. Returns the bound address and the server task.
pub(crate) fn serve(
    shared: Arc<Shared>,
    addr: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(SocketAddr, JoinHandle<()>), OracleError> {
    let make = make_service_fn(move |_conn| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(service_fn(move |req| route(shared.clone(), req))) }
    });
    let server = Server::try_bind(&addr)
        .map_err(|e| OracleError::Serve(format!("{addr}: {e}")))?
        .serve(make);
    let bound = server.local_addr();
    let handle = tokio::spawn(async move {
        let stop = async move {
            let _ = shutdown.wait_for(|s| *s).await;
        };
        if let Err(e) = server.with_graceful_shutdown(stop).await {
            tracing::warn!(error = %e, "observation server stopped");
        }
    });
    tracing::info!(%bound, "serving oracle observations");
    Ok((bound, handle))
}
