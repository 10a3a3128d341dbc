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

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use cosmwasm_std::{Binary, HexBinary, Uint128};
use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Method, Request, Response, Server, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::watch;

use super::{Watchtower, WatchtowerError};
use relayer_core::chain::Chain;
use relayer_core::error::{ChainError, StoreError};

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

    fn response(&self) -> Response<Body> {
        json_response(
            self.status,
            &json!({ "error": self.message, "code": self.code }),
        )
    }
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreimageRequest {
    preimage: HexBinary,
}

async fn read_json<T: for<'de> Deserialize<'de>>(
    req: Request<Body>,
    max: usize,
) -> Result<T, ApiError> {
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("body above {max} bytes"),
        )
    };
    if declared.is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let bytes = hyper::body::to_bytes(req.into_body())
        .await
        .map_err(|e| ApiError::malformed(e.to_string()))?;
    if bytes.len() > max {
        return Err(too_large());
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::malformed(e.to_string()))
}

async fn route<C: Chain + ?Sized + 'static>(
    wt: Arc<Watchtower<C>>,
    req: Request<Body>,
) -> Response<Body> {
    let max = wt.config().max_body_bytes;
    let path = req.uri().path().to_string();
    match (req.method(), path.as_str()) {
        (&Method::POST, "/v1/vouchers") => {
            let result = match read_json::<VoucherRequest>(req, max).await {
                Ok(v) => wt.accept_voucher(v).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(accepted) => json_response(StatusCode::OK, &json!(accepted)),
                Err(e) => e.response(),
            }
        }
        (&Method::POST, "/v1/preimages") => {
            let result = match read_json::<PreimageRequest>(req, max).await {
                Ok(p) => wt.accept_preimage(p.preimage.as_slice()),
                Err(e) => Err(e),
            };
            match result {
                Ok((lock, channels)) => json_response(
                    StatusCode::OK,
                    &json!({ "hashlock": hex::encode(lock), "channels": channels }),
                ),
                Err(e) => e.response(),
            }
        }
        (&Method::GET, "/health") => json_response(
            StatusCode::OK,
            &json!({ "status": "ok", "cursor": wt.cursor().await }),
        ),
        (&Method::GET, p) if p.starts_with("/v1/channels/") => {
            let Ok(id) = p["/v1/channels/".len()..].parse::<u64>() else {
                return ApiError::malformed("channel id must be a number").response();
            };
            channel_status(&wt, id)
        }
        _ => json_response(
            StatusCode::NOT_FOUND,
            &json!({ "error": "no such route", "code": "not_found" }),
        ),
    }
}

fn channel_status<C: Chain + ?Sized + 'static>(wt: &Watchtower<C>, id: u64) -> Response<Body> {
    let row = match wt.best_voucher(id) {
        Ok(Some(row)) => row,
        Ok(None) => return ApiError::unknown_channel(id).response(),
        Err(e) => return ApiError::internal(e).response(),
    };
    let settlements = wt.settlements(Some(id)).unwrap_or_default();
    let last = settlements.first().map(|s| {
        json!({
            "key": s.key, "kind": s.kind, "status": s.status, "tx_hash": s.tx_hash,
            "height": s.height, "gas_used": s.gas_used, "error": s.error,
        })
    });
    json_response(
        StatusCode::OK,
        &json!({
            "channel_id": id,
            "payee": row.payee,
            "best": {
                "amount": row.amount.to_string(),
                "hashlock": row.hashlock.map(hex::encode),
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
        }),
    )
}

/// Binds `config.listen` and serves until `shutdown` turns true.
pub(crate) fn spawn<C: Chain + ?Sized + 'static>(
    wt: Arc<Watchtower<C>>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), WatchtowerError> {
    let addr = wt.config().listen;
    let make = make_service_fn(move |_conn| {
        let wt = wt.clone();
        async move {
            Ok::<_, Infallible>(service_fn(move |req| {
                let wt = wt.clone();
                async move { Ok::<_, Infallible>(route(wt, req).await) }
            }))
        }
    });
    let server = Server::try_bind(&addr)?.serve(make);
    let bound = server.local_addr();
    let server = server.with_graceful_shutdown(async move {
        while !*shutdown.borrow() {
            if shutdown.changed().await.is_err() {
                break;
            }
        }
    });
    let handle = tokio::spawn(async move {
        if let Err(e) = server.await {
            tracing::warn!(error = %e, "watchtower: http server stopped");
        }
    });
    Ok((bound, handle))
}
