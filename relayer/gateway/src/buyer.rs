//! The buyer client: connects to a listing's endpoint (offering `sdpp.1`,
//! over ws or wss), checks the seller's offer against the listing read on
//! chain (`wevalue_sdpp::BuyerSession` does the checks), pays with
//! cumulative vouchers for what it received and never more, refuses and
//! disconnects a seller that over-sends or over-asks, persists its stream
//! record before handing data on or sending a voucher, and resumes from
//! that record on the next connection.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tokio::time::{timeout, Instant};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::{self};
use tokio_tungstenite::Connector;
use wevalue_sdpp::crypto::OfferVerifier;
use wevalue_sdpp::frame::{self, Data, Frame, FrameType, MAX_FRAME_LEN};
use wevalue_sdpp::{
    BuyerConfig, BuyerEvent, BuyerSession, BuyerStream, ChannelSigner, ErrorCode, Phase,
    SessionError, SUBPROTOCOL,
};

/// How a buyer connects and when it stops.
#[derive(Clone, Debug)]
pub struct BuyerOptions {
    /// The listing's endpoint (`ws://…/sdpp/<id>` or `wss://…`).
    pub url: String,
    /// The listing as read on chain, the channel, and the payment policy
    /// (`max_amount` is the spend cap: the stream ends at LIMIT_REACHED).
    pub config: BuyerConfig,
    /// Extra trusted root certificates (PEM) for wss, e.g. a private CA
    /// (the system's roots are trusted too).
    pub roots_pem: Option<PathBuf>,
    /// Stop (closing gracefully, paying everything received) after this long.
    pub duration: Option<Duration>,
    /// Stop after this many chunks on this connection.
    pub max_chunks: Option<u64>,
    /// Drop the connection without a CLOSE after this many chunks (fault
    /// drills: what a network failure does).
    pub drop_after: Option<u64>,
    /// How long to wait for the OFFER.
    pub handshake_timeout: Duration,
}

impl BuyerOptions {
    /// Options for `url` and `config` with no stop condition but the cap.
    pub fn new(url: impl Into<String>, config: BuyerConfig) -> Self {
        Self {
            url: url.into(),
            config,
            roots_pem: None,
            duration: None,
            max_chunks: None,
            drop_after: None,
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// How a connection ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuyerReport {
    /// Chunks received and counted on this connection.
    pub chunks: u64,
    /// Payload bytes of those chunks.
    pub bytes: u64,
    /// Vouchers signed and sent on this connection.
    pub vouchers: u64,
    /// The seller's CLOSE, if it closed: code and reason.
    pub seller_close: Option<(ErrorCode, String)>,
    /// The error this buyer closed with (a seller it refused), if any.
    pub refused: Option<SessionError>,
    /// Whether the connection ended without a CLOSE (dropped).
    pub dropped: bool,
    /// Whether this buyer ended the session because its own stop condition
    /// (`duration`, `max_chunks`) was met; the seller's answering CLOSE
    /// NORMAL is then in `seller_close`.
    pub stopped: bool,
}

/// Why a connection could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum BuyerError {
    #[error("connecting to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("the gateway did not select the subprotocol sdpp.1")]
    Subprotocol,
    #[error("the gateway refused the handshake: {code:?} {reason}")]
    Refused { code: ErrorCode, reason: String },
    #[error("handshake: {0}")]
    Handshake(SessionError),
    #[error("the buyer's stream record: {0}")]
    Config(#[from] wevalue_sdpp::ConfigError),
    #[error("persisting the stream record: {0}")]
    Persist(String),
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("no OFFER within {0:?}")]
    Timeout(Duration),
}

fn unix_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn nonce() -> [u8; 32] {
    let mut n = [0u8; 32];
    let _ = getrandom::getrandom(&mut n);
    n
}

/// For wss: the system's trusted roots plus `roots_pem` (rustls, ring).
fn connector(opts: &BuyerOptions) -> Result<Option<Connector>, BuyerError> {
    if !opts.url.starts_with("wss://") {
        return Ok(None);
    }
    let err = |what: String, e: String| BuyerError::Connect {
        url: opts.url.clone(),
        reason: format!("{what}: {e}"),
    };
    let mut roots = RootCertStore::empty();
    // The system store as the OS has it; unreadable entries are skipped.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = &opts.roots_pem {
        let what = path.display().to_string();
        for cert in
            CertificateDer::pem_file_iter(path).map_err(|e| err(what.clone(), e.to_string()))?
        {
            roots
                .add(cert.map_err(|e| err(what.clone(), e.to_string()))?)
                .map_err(|e| err(what.clone(), e.to_string()))?;
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err("rustls".into(), e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Some(Connector::Rustls(Arc::new(config))))
}

/// One connection (see [`run_once`]). A resume that finds the channel still
/// in use is tried again for a few seconds: after a drop the buyer can be back
/// before the seller has seen its old socket close.
pub async fn run(
    opts: &BuyerOptions,
    signer: &(dyn ChannelSigner + Sync),
    stream: Option<BuyerStream>,
    mut on_data: impl FnMut(&Data<'_>) + Send,
    mut persist: impl FnMut(&BuyerStream) -> Result<(), String> + Send,
) -> Result<(BuyerStream, BuyerReport), BuyerError> {
    let mut delay = Duration::from_millis(50);
    let give_up = Instant::now() + Duration::from_secs(5);
    loop {
        match run_once(opts, signer, stream.clone(), &mut on_data, &mut persist).await {
            Err(BuyerError::Refused {
                code: ErrorCode::ChannelInUse,
                ..
            }) if stream.is_some() && Instant::now() + delay < give_up => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(1));
            }
            result => return result,
        }
    }
}

/// One connection: handshake, then data until a stop condition, the
/// seller's CLOSE, a refusal or a drop. `on_data` gets each counted chunk
/// (after `persist` saw the record that includes it); `persist` gets the
/// record before each chunk is handed on and before each voucher leaves.
/// Returns the record to resume from and what happened.
pub async fn run_once(
    opts: &BuyerOptions,
    signer: &(dyn ChannelSigner + Sync),
    stream: Option<BuyerStream>,
    mut on_data: impl FnMut(&Data<'_>) + Send,
    mut persist: impl FnMut(&BuyerStream) -> Result<(), String> + Send,
) -> Result<(BuyerStream, BuyerReport), BuyerError> {
    let mut session = BuyerSession::new(opts.config.clone(), stream)?;
    let mut request = opts
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| BuyerError::Connect {
            url: opts.url.clone(),
            reason: e.to_string(),
        })?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(2 * MAX_FRAME_LEN))
        .max_frame_size(Some(2 * MAX_FRAME_LEN));
    let (mut ws, response) = tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(ws_config),
        true,
        connector(opts)?,
    )
    .await
    .map_err(|e| match e {
        // The transport refuses a response without our subprotocol itself.
        tungstenite::Error::Protocol(ProtocolError::SecWebSocketSubProtocolError(_)) => {
            BuyerError::Subprotocol
        }
        e => BuyerError::Connect {
            url: opts.url.clone(),
            reason: e.to_string(),
        },
    })?;
    let selected = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .and_then(|v| v.to_str().ok());
    if selected != Some(SUBPROTOCOL) {
        let _ = ws.close(None).await;
        return Err(BuyerError::Subprotocol);
    }
    let epoch = Instant::now();
    let now_ms = || epoch.elapsed().as_millis() as u64;

    ws.send(Message::text(session.hello(nonce()).to_json()))
        .await?;
    let offer = loop {
        match timeout(opts.handshake_timeout, ws.next()).await {
            Err(_) => return Err(BuyerError::Timeout(opts.handshake_timeout)),
            Ok(Some(Ok(Message::Text(t)))) => break t.as_str().to_string(),
            Ok(Some(Ok(Message::Binary(b)))) => {
                return Err(match frame::decode(&b) {
                    Ok(Frame::Close(c)) => BuyerError::Refused {
                        code: c.code,
                        reason: c.reason.to_string(),
                    },
                    _ => BuyerError::Refused {
                        code: ErrorCode::UnexpectedFrame,
                        reason: "a binary frame instead of the OFFER".into(),
                    },
                });
            }
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(Some(Ok(_))) | Ok(None) => {
                return Err(BuyerError::Connect {
                    url: opts.url.clone(),
                    reason: "closed before the OFFER".into(),
                })
            }
            Ok(Some(Err(e))) => return Err(e.into()),
        }
    };
    let accept = match session.on_offer(&offer, now_ms(), unix_s(), &OfferVerifier, signer) {
        Ok(a) => a,
        Err(e) => {
            let mut out = vec![];
            if let Ok(Some(_)) = session.poll_transmit(now_ms(), signer, &mut out) {
                let _ = ws.send(Message::binary(out)).await;
            }
            let _ = ws.close(Some(close_frame(e.code()))).await;
            return Err(BuyerError::Handshake(e));
        }
    };
    ws.send(Message::text(accept.to_json())).await?;

    let mut report = BuyerReport::default();
    let deadline = opts.duration.map(|d| Instant::now() + d);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut out = Vec::with_capacity(256);
    let mut close_sent: Option<ErrorCode> = None;
    let mut closing_since: Option<Instant> = None;
    'conn: loop {
        let stop = opts.max_chunks.is_some_and(|m| report.chunks >= m)
            || deadline.is_some_and(|d| Instant::now() >= d);
        if stop && session.phase() == Phase::Streaming {
            session.close(ErrorCode::Normal, "the buyer is done");
            report.stopped = true;
        }
        let mut wrote = false;
        loop {
            out.clear();
            let sent = match session.poll_transmit(now_ms(), signer, &mut out) {
                Ok(Some(ft)) => ft,
                Ok(None) => break,
                // A signing failure: the session queued its CLOSE.
                Err(e) => {
                    report.refused = Some(e);
                    continue;
                }
            };
            if sent == FrameType::Voucher {
                // The voucher is recorded before it leaves.
                persist(session.stream()).map_err(BuyerError::Persist)?;
                report.vouchers += 1;
            }
            if sent == FrameType::Close {
                if let Ok(Frame::Close(c)) = frame::decode(&out) {
                    close_sent.get_or_insert(c.code);
                }
            }
            // A write that fails means the seller is gone (killed, say): the
            // stream ends as dropped, its record kept for a resume.
            if ws.feed(Message::binary(out.clone())).await.is_err() {
                report.dropped = close_sent.is_none() && report.seller_close.is_none();
                break 'conn;
            }
            wrote = true;
        }
        if wrote && ws.flush().await.is_err() {
            report.dropped = close_sent.is_none() && report.seller_close.is_none();
            break 'conn;
        }
        if session.phase() == Phase::Closed && close_sent.is_some() {
            break;
        }
        if session.phase() == Phase::Closing {
            let since = *closing_since.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_secs(5) {
                break;
            }
        }
        tokio::select! {
            m = ws.next() => match m {
                Some(Ok(Message::Binary(b))) => match session.on_frame(&b, now_ms()) {
                    Ok(BuyerEvent::Data(d)) => {
                        persist(session.stream()).map_err(BuyerError::Persist)?;
                        report.chunks += 1;
                        report.bytes += d.payload.len() as u64;
                        on_data(&d);
                        if opts.drop_after.is_some_and(|n| report.chunks >= n) {
                            report.dropped = true;
                            drop(ws);
                            return Ok((session.into_stream(), report));
                        }
                    }
                    Ok(BuyerEvent::Closed { code, reason, .. }) => {
                        report.seller_close = Some((code, reason));
                    }
                    Ok(BuyerEvent::Receipt(_) | BuyerEvent::Ignored) => {}
                    Err(e) => report.refused = Some(e),
                },
                Some(Ok(Message::Text(_))) => {
                    // A protocol error like any other: closed and reported.
                    let e = SessionError::Unexpected { what: "a text message", when: "while streaming" };
                    session.close(e.code(), &e.to_string());
                    report.refused = Some(e);
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    report.dropped = close_sent.is_none() && report.seller_close.is_none();
                    break;
                }
            },
            _ = tick.tick() => {}
        }
    }
    let code = close_sent.unwrap_or(ErrorCode::Normal);
    let _ = ws.close(Some(close_frame(code))).await;
    persist(session.stream()).map_err(BuyerError::Persist)?;
    Ok((session.into_stream(), report))
}

fn close_frame(code: ErrorCode) -> CloseFrame {
    CloseFrame {
        code: CloseCode::from(code.ws_close_code()),
        reason: code.name().into(),
    }
}
