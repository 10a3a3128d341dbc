//! Every HTTP surface of the relayer (metrics and health, the voucher API,
//! oracle observations) is an axum router served here behind the same
//! tower-http limits: a request body cap, a per-request timeout and a cap on
//! requests in flight. Binding is synchronous, so callers know the address
//! (port 0 picks one) before anything is served.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tower::limit::ConcurrencyLimitLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// Limits applied to one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, bytes (larger ones get 413).
    pub max_body_bytes: usize,
    /// Longest a request may take end to end (then 408).
    pub timeout: Duration,
    /// Requests handled at once; more wait their turn.
    pub concurrency: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 * 1024,
            timeout: Duration::from_secs(10),
            concurrency: 256,
        }
    }
}

/// Applies the limits to a router.
pub fn limited(router: Router, limits: Limits) -> Router {
    router
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.timeout,
        ))
        .layer(ConcurrencyLimitLayer::new(limits.concurrency))
}

/// Binds `addr` and serves `router` with `limits` until `shutdown` resolves
/// (open connections are drained). `name` is for the logs.
pub fn serve(
    router: Router,
    addr: SocketAddr,
    limits: Limits,
    name: &'static str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let app = limited(router, limits);
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(server = name, error = %e, "http server stopped");
        }
    });
    Ok((bound, handle))
}
