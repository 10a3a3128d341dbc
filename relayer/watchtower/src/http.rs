//! The voucher API, on a loopback address.
//!
//! | route | body / answer |
//! |---|---|
//! | `POST /v1/vouchers` | [`VoucherRequest`] → 200 [`Accepted`] |
//! | `POST /v1/preimages` | `{"preimage":"<hex>"}` → 200 `{"hashlock":"<hex>","channels":[ids]}` |
//! | `GET /v1/channels/{id}` | best voucher and settlement status |
//! | `GET /health` | `{"status":"ok","cursor":<height>}` |
//!
//! Encodings follow the contract's JSON: `amount` is a decimal string,
//! `signature` is **base64** (64 bytes), `hashlock` and `preimage` are hex.
//! Errors are `{"error":"<message>","code":"<code>"}` with these codes:
//! `malformed` (400), `body_too_large` (413), `unknown_channel` (404),
//! `payee_not_served` (403), `channel_closed` (409), `stale_voucher` (409),
//! `bad_signature` (422), `exceeds_deposit` (422), `expired_voucher` (422),
//! `bad_preimage` (422), `chain_unavailable` (503), `internal` (500).
//! Re-posting the stored best voucher is an idempotent 200.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cosmwasm_std::{Binary, HexBinary, Uint128};
use relayer_core::chain::{BlockEventSource, ChainStatus, SmartQuery};
use relayer_core::http::Limits;
use relayer_core::{ChainError, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::watch;

use super::{Watchtower, WatchtowerError};

/// `POST /v1/vouchers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoucherRequest {
    /// The channel.
    pub channel_id: u64,
    /// Cumulative amount (decimal string).
    pub amount: Uint128,
    /// sha256 hashlock, hex, if conditional.
    #[serde(default)]
    pub hashlock: Option<HexBinary>,
    /// Expiry, unix seconds, if any.
    #[serde(default)]
    pub expiry: Option<u64>,
    /// The payer's signature, base64.
    pub signature: Binary,
    /// The hashlock's preimage, hex, if already known.
    #[serde(default)]
    pub preimage: Option<HexBinary>,
}

/// The answer to an accepted voucher.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// The channel.
    pub channel_id: u64,
    /// The stored best amount.
    pub best_amount: Uint128,
    /// Claimed on chain as far as the watchtower knows.
    pub claimed: Uint128,
    /// `open`, `closing` or `closed`.
    pub status: String,
}

/// A typed API error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine code.
    pub code: &'static str,
    /// Human message.
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    pub(crate) fn malformed(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed", m)
    }
    pub(crate) fn unknown_channel(id: u64) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "unknown_channel",
            format!("channel {id} not found"),
        )
    }
    pub(crate) fn payee_not_served(payee: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "payee_not_served",
            format!("this watchtower does not serve payee {payee}"),
        )
    }
    pub(crate) fn channel_closed(id: u64) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "channel_closed",
            format!("channel {id} is closed"),
        )
    }
    pub(crate) fn stale(amount: u128, best: u128, what: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "stale_voucher",
            format!("voucher for {amount} is not above {best}, {what}"),
        )
    }
    pub(crate) fn bad_signature(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_signature", m)
    }
    pub(crate) fn exceeds_deposit(amount: u128, deposit: u128) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "exceeds_deposit",
            format!("voucher for {amount} exceeds the deposit of {deposit}"),
        )
    }
    pub(crate) fn expired(expiry: u64, now: u64) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "expired_voucher",
            format!("voucher expired at {expiry} (chain time {now})"),
        )
    }
    pub(crate) fn bad_preimage(m: String) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_preimage", m)
    }
    pub(crate) fn chain(e: ChainError) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "chain_unavailable",
            e.to_string(),
        )
    }
    pub(crate) fn internal(e: StoreError) -> Self {
        tracing::error!(error = %e, "watchtower: store failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the voucher could not be stored",
        )
    }

    fn too_large(max: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("body above {max} bytes"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": self.message, "code": self.code })),
        )
            .into_response()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreimageRequest {
    preimage: HexBinary,
}

/// The body as JSON: a body over the limit is `body_too_large`, anything
/// that is not the expected JSON `malformed`.
fn read_json<T: for<'de> Deserialize<'de>>(
    body: Result<Bytes, BytesRejection>,
    max: usize,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(max)
        } else {
            ApiError::malformed(e.body_text())
        }
    })?;
    if bytes.len() > max {
        return Err(ApiError::too_large(max));
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::malformed(e.to_string()))
}

type Shared<C> = Arc<Watchtower<C>>;

async fn post_voucher<C>(
    State(wt): State<Shared<C>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Accepted>, ApiError>
where
    C: SmartQuery + ChainStatus + BlockEventSource + ?Sized + 'static,
{
    let req = read_json::<VoucherRequest>(body, wt.config().max_body_bytes)?;
    wt.accept_voucher(req).await.map(Json)
}

async fn post_preimage<C>(
    State(wt): State<Shared<C>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError>
where
    C: SmartQuery + ChainStatus + BlockEventSource + ?Sized + 'static,
{
    let p = read_json::<PreimageRequest>(body, wt.config().max_body_bytes)?;
    let (lock, channels) = wt.accept_preimage(p.preimage.as_slice()).await?;
    Ok(Json(
        json!({ "hashlock": lock.to_hex(), "channels": channels }),
    ))
}

async fn health<C>(State(wt): State<Shared<C>>) -> Json<serde_json::Value>
where
    C: SmartQuery + ChainStatus + BlockEventSource + ?Sized + 'static,
{
    Json(json!({ "status": "ok", "cursor": wt.cursor().await }))
}

async fn get_channel<C>(
    State(wt): State<Shared<C>>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError>
where
    C: SmartQuery + ChainStatus + BlockEventSource + ?Sized + 'static,
{
    let id = id
        .parse::<u64>()
        .map_err(|_| ApiError::malformed("channel id must be a number"))?;
    channel_status(&wt, id).await.map(Json)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn channel_status<C>(wt: &Watchtower<C>, id: u64) -> Result<serde_json::Value, ApiError>
where
    C: SmartQuery + ChainStatus + BlockEventSource + ?Sized + 'static,
{
    let row = match wt.best_voucher(id).await {
        Ok(Some(row)) => row,
        Ok(None) => return Err(ApiError::unknown_channel(id)),
        Err(e) => return Err(ApiError::internal(e)),
    };
    let settlements = wt.settlements(Some(id)).await.map_err(ApiError::internal)?;
    let last = settlements.first().map(|s| {
        json!({
            "key": s.key, "kind": s.kind, "status": s.status, "tx_hash": s.tx_hash,
            "height": s.height, "gas_used": s.gas_used, "error": s.error,
        })
    });
    Ok(json!({
        "channel_id": id,
        "payee": row.payee,
        "best": {
            "amount": row.amount.to_string(),
            "hashlock": row.hashlock.map(|h| h.to_hex()),
            "expiry": row.expiry,
            "received_at": row.received_at,
        },
        "claimed": row.claimed.to_string(),
        "unsettled": row.amount.saturating_sub(row.claimed).to_string(),
        "unsettled_since": row.unsettled_since,
        "status": row.status,
        "finalize_after": row.finalize_after,
        "rejected": row.rejected_amount.map(|a| json!({
            "amount": a.to_string(), "reason": row.rejected_reason,
        })),
        "last_settlement": last,
    }))
}

/// The API's router.
pub fn router<C>(wt: Arc<Watchtower<C>>) -> Router
where
    C: SmartQuery + ChainStatus + BlockEventSource + ?Sized + 'static,
{
    // One byte over the configured limit still reaches `read_json`, which
    // answers it as `body_too_large` in the API's own error format.
    let limit = wt.config().max_body_bytes + 1;
    Router::new()
        .route("/v1/vouchers", post(post_voucher::<C>))
        .route("/v1/preimages", post(post_preimage::<C>))
        .route("/v1/channels/{id}", get(get_channel::<C>))
        .route("/health", get(health::<C>))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(wt)
}

/// Binds `config.listen` and serves until `shutdown` turns true.
pub(crate) fn spawn<C>(
    wt: Arc<Watchtower<C>>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), WatchtowerError>
where
    C: SmartQuery + ChainStatus + BlockEventSource + ?Sized + 'static,
{
    let addr = wt.config().listen;
    let limits = Limits {
        // The route's own limit answers oversized bodies; this outer cap
        // only stops a body far beyond it.
        max_body_bytes: wt.config().max_body_bytes.saturating_mul(4).max(64 * 1024),
        timeout: Duration::from_secs(30),
        concurrency: 512,
    };
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    Ok(relayer_core::http::serve(
        router(wt),
        addr,
        limits,
        "watchtower",
        stop,
    )?)
}
