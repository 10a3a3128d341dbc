//! The HTTP side: one WebSocket endpoint per listing (`/sdpp/<id>`, the
//! buyer must offer subprotocol `sdpp.1`), a connection limit, and the
//! listener — plain TCP (ws) or rustls (wss) when a certificate and key are
//! configured. TLS handshakes run in their own tasks, so a slow client
//! never holds up the others.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, info};
use wevalue_sdpp::frame::MAX_FRAME_LEN;
use wevalue_sdpp::SUBPROTOCOL;

use crate::config::TlsConfig;
use crate::{conn, GatewayError, Inner};

/// WebSocket messages above this are cut off by the transport; between
/// the SDPP limit and this, SDPP answers `FRAME_TOO_LARGE` itself.
const WS_MAX_MESSAGE: usize = 2 * MAX_FRAME_LEN;

async fn upgrade(
    State(gw): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(id) = id
        .parse::<u64>()
        .ok()
        .filter(|id| gw.sources.contains_key(id))
    else {
        return (StatusCode::NOT_FOUND, "no such listing on this gateway").into_response();
    };
    let offered = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == SUBPROTOCOL);
    if !offered {
        return (
            StatusCode::BAD_REQUEST,
            "offer the WebSocket subprotocol sdpp.1",
        )
            .into_response();
    }
    if gw.open.fetch_add(1, Ordering::Relaxed) >= gw.config.max_connections {
        gw.open.fetch_sub(1, Ordering::Relaxed);
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    }
    let failed = gw.clone();
    ws.protocols([SUBPROTOCOL])
        .max_message_size(WS_MAX_MESSAGE)
        .max_frame_size(WS_MAX_MESSAGE)
        .on_failed_upgrade(move |_| {
            failed.open.fetch_sub(1, Ordering::Relaxed);
        })
        .on_upgrade(move |socket| conn::serve(socket, id, gw))
        .into_response()
}

fn router(gw: Arc<Inner>) -> Router {
    Router::new()
        .route("/sdpp/{id}", get(upgrade))
        .with_state(gw)
}

/// Binds and serves until shutdown.
pub(crate) async fn spawn(
    gw: Arc<Inner>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), GatewayError> {
    let listener = TcpListener::bind(gw.config.listen).await?;
    let addr = listener.local_addr()?;
    let app = router(gw.clone());
    let mut stop = gw.shutdown.clone();
    let stop = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    let task = match &gw.config.tls {
        None => {
            info!(%addr, "gateway: serving ws");
            tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(stop)
                    .await;
            })
        }
        Some(tls) => {
            let acceptor = TlsAcceptor::from(Arc::new(server_config(tls)?));
            info!(%addr, "gateway: serving wss");
            let listener = TlsListener::start(listener, acceptor);
            tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(stop)
                    .await;
            })
        }
    };
    Ok((addr, task))
}

/// rustls from the PEM files (ring provider, TLS 1.2 and 1.3).
fn server_config(tls: &TlsConfig) -> Result<ServerConfig, GatewayError> {
    let bad = |what: &std::path::Path, e: String| {
        GatewayError::Config(format!("gateway.tls {}: {e}", what.display()))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert)
        .map_err(|e| bad(&tls.cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(&tls.cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(bad(&tls.cert, "no certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| bad(&tls.key, e.to_string()))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| GatewayError::Config(format!("gateway.tls: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| GatewayError::Config(format!("gateway.tls: {e}")))
}

/// TLS connections, handshaken in their own tasks, for `axum::serve`.
struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
}

impl TlsListener {
    fn start(listener: TcpListener, acceptor: TlsAcceptor) -> TlsListener {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        debug!(error = %e, "gateway: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (acceptor, conn_tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    let hs = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp));
                    match hs.await {
                        Ok(Ok(tls)) => {
                            let _ = conn_tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => debug!(error = %e, %peer, "gateway: TLS handshake failed"),
                        Err(_) => debug!(%peer, "gateway: TLS handshake timed out"),
                    }
                });
                if tx.is_closed() {
                    break;
                }
            }
        });
        TlsListener { rx, addr }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The accept loop ended: nothing will come again.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}
