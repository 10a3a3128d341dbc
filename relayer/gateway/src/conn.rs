//! One buyer connection: the handshake (the listing and the channel checked
//! on chain, the offer signed, the acceptance checked), then the stream —
//! data from the listing's source under the credit window, every voucher
//! verified by the session and handed to the durable voucher store, receipts
//! only once stored, and the typed CLOSE on any error.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use bytes::Bytes;
use futures_util::{FutureExt, SinkExt};
use relayer_core::vouchers::{SinkError, SinkVoucher, StoredVoucher};
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};
use tracing::{debug, warn};
use wevalue_sdpp::crypto::ChannelKey;
use wevalue_sdpp::frame::{self, Close, Frame, FrameType};
use wevalue_sdpp::handshake::{ChannelRef, Hello, MAX_HANDSHAKE_LEN};
use wevalue_sdpp::seller::SellerStream;
use wevalue_sdpp::{
    Blocked, ErrorCode, Phase, PricingModel, SellerConfig, SellerEvent, SellerSession, SendError,
};

use crate::chain::{self, refuse_channel, LookupError};
use crate::source::{unix_ms, Chunk};
use crate::Inner;

/// How long a closing session waits for the buyer's CLOSE.
const CLOSING_GRACE: Duration = Duration::from_secs(5);

type Res = Result<(), axum::Error>;

/// The CLOSE frame and the WebSocket close for a refusal before a session exists.
async fn refuse(ws: &mut WebSocket, code: ErrorCode, reason: &str) {
    let mut end = reason.len().min(frame::MAX_REASON_LEN);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let reason = &reason[..end];
    debug!(code = code.name(), reason, "gateway: refusing a buyer");
    if let Ok(bytes) = (Frame::Close(Close {
        code,
        last_seq: 0,
        reason,
    }))
    .to_vec()
    {
        let _ = ws.send(Message::Binary(bytes.into())).await;
    }
    close_ws(ws, code, reason).await;
}

async fn close_ws(ws: &mut WebSocket, code: ErrorCode, reason: &str) {
    let _ = ws
        .send(Message::Close(Some(CloseFrame {
            code: code.ws_close_code(),
            reason: reason.into(),
        })))
        .await;
}

/// The next handshake text, or the refusal already sent.
async fn handshake_text(ws: &mut WebSocket, wait: Duration, what: &str) -> Option<String> {
    match timeout(wait, ws.recv()).await {
        Err(_) => {
            refuse(ws, ErrorCode::BadHandshake, &format!("no {what} in time")).await;
            None
        }
        Ok(Some(Ok(Message::Text(t)))) => {
            if t.len() > MAX_HANDSHAKE_LEN {
                let reason = format!("{what} of {} bytes is above 16 KiB", t.len());
                refuse(ws, ErrorCode::FrameTooLarge, &reason).await;
                return None;
            }
            Some(t.as_str().to_string())
        }
        Ok(Some(Ok(Message::Binary(_)))) => {
            let reason = format!("a binary frame instead of the {what}");
            refuse(ws, ErrorCode::UnexpectedFrame, &reason).await;
            None
        }
        _ => None,
    }
}

fn random_nonce() -> [u8; 32] {
    let mut n = [0u8; 32];
    // The OS generator; a failure leaves zeros, which the buyer's own
    // nonce still keeps from being replayed into another session.
    if getrandom::getrandom(&mut n).is_err() {
        warn!("gateway: no OS randomness for the offer nonce");
    }
    n
}

/// Serves one connection to the end.
pub(crate) async fn serve(mut ws: WebSocket, listing_id: u64, gw: Arc<Inner>) {
    gw.stats.connections.fetch_add(1, Ordering::Relaxed);
    if let Err(e) = run(&mut ws, listing_id, &gw).await {
        debug!(error = %e, "gateway: connection ended");
    }
    gw.open.fetch_sub(1, Ordering::Relaxed);
}

async fn run(ws: &mut WebSocket, listing_id: u64, gw: &Arc<Inner>) -> Res {
    let wait = Duration::from_millis(gw.config.handshake_timeout_ms);
    let Some(hello_text) = handshake_text(ws, wait, "HELLO").await else {
        return Ok(());
    };
    let hello = match Hello::from_json(&hello_text) {
        Ok(h) => h,
        Err(e) => {
            refuse(ws, e.code(), &e.to_string()).await;
            return Ok(());
        }
    };
    let listing = match gw.listing(listing_id).await {
        Ok(l) if l.active => l,
        Ok(_) => {
            let reason = format!("listing {listing_id} is not active");
            refuse(ws, ErrorCode::UnknownListing, &reason).await;
            return Ok(());
        }
        Err(LookupError::NotFound) => {
            let reason = format!("listing {listing_id} not found");
            refuse(ws, ErrorCode::UnknownListing, &reason).await;
            return Ok(());
        }
        Err(e) => {
            refuse(
                ws,
                ErrorCode::Unavailable,
                &format!("reading the listing: {e}"),
            )
            .await;
            return Ok(());
        }
    };
    let channel = match chain::channel(&*gw.chain, &gw.payment_channel, hello.channel.id).await {
        Ok(c) => c,
        Err(LookupError::NotFound) => {
            let reason = format!("channel {} not found", hello.channel.id);
            refuse(ws, ErrorCode::ChannelInvalid, &reason).await;
            return Ok(());
        }
        Err(e) => {
            refuse(
                ws,
                ErrorCode::Unavailable,
                &format!("reading the channel: {e}"),
            )
            .await;
            return Ok(());
        }
    };
    if let Some((code, reason)) = refuse_channel(&channel, &listing, &gw.registry) {
        refuse(ws, code, &reason).await;
        return Ok(());
    }
    let key = match ChannelKey::new(
        &gw.chain_id,
        &gw.payment_channel,
        channel.id,
        channel.scheme,
        &channel.pubkey,
        &gw.prefix,
    ) {
        Ok(k) => k,
        Err(e) => {
            let reason = format!("channel key: {e}");
            refuse(ws, ErrorCode::ChannelInvalid, &reason).await;
            return Ok(());
        }
    };
    let Ok(mut checkout) = gw.streams.checkout(channel.id) else {
        let reason = format!("a session is open on channel {}", channel.id);
        refuse(ws, ErrorCode::ChannelInUse, &reason).await;
        return Ok(());
    };
    let stream = match checkout.take() {
        Some(s) => s,
        // No record here (new, or lost in a restart): rebuilt from the best
        // voucher the store holds.
        None => match gw.sink.best(channel.id).await {
            Ok(best) => {
                let (amount, sig) = best
                    .map(|b| (b.amount, b.signature.as_slice().try_into().ok()))
                    .unwrap_or((0, None));
                SellerStream::recovered(listing_id, channel.id, amount, sig)
            }
            Err(e) => {
                let reason = format!("voucher store: {e}");
                refuse(ws, ErrorCode::Unavailable, &reason).await;
                return Ok(());
            }
        },
    };
    let cfg = &gw.config;
    let model = listing.price.model;
    let scfg = SellerConfig {
        chain_id: gw.chain_id.clone(),
        registry: gw.registry.clone(),
        listing_id,
        seller: listing.seller.clone(),
        terms: listing.terms.clone(),
        price: listing.price.clone(),
        channel: ChannelRef {
            contract: gw.payment_channel.clone(),
            id: channel.id,
            scheme: channel.scheme,
        },
        deposit: channel.deposit,
        credit_window: cfg
            .credit_window
            .max(model.max_chunk_units(cfg.max_payload)),
        max_payload: cfg.max_payload,
        max_in_flight: cfg.max_in_flight,
        payment_timeout_ms: cfg.payment_timeout_ms,
    };
    let mut session = match SellerSession::new(scfg, Some(stream)) {
        Ok(s) => s.credit_from_stored(),
        Err(e) => {
            refuse(ws, ErrorCode::Internal, &format!("session: {e}")).await;
            return Ok(());
        }
    };
    let outcome = async {
        let offer = match session.on_hello(&hello_text, random_nonce(), &gw.key) {
            Ok(o) => o,
            Err(_) => return finish(ws, &mut session, gw).await,
        };
        ws.send(Message::Text(offer.to_json().into())).await?;
        let Some(accept) = handshake_text(ws, wait, "ACCEPT").await else {
            return Ok(());
        };
        if session.on_accept(&accept, &key, gw.now_ms()).is_err() {
            return finish(ws, &mut session, gw).await;
        }
        stream_data(ws, &mut session, &key, listing_id, model, gw).await
    }
    .await;
    checkout.give_back(session.into_stream());
    outcome
}

/// Sends what the session queued (its CLOSE) and closes the WebSocket.
async fn finish(ws: &mut WebSocket, session: &mut SellerSession, gw: &Inner) -> Res {
    let mut out = vec![];
    let mut code = ErrorCode::Normal;
    while let Some(ft) = session.poll_transmit(gw.now_ms(), &mut out) {
        if ft == FrameType::Close {
            if let Ok(Frame::Close(c)) = frame::decode(&out) {
                code = c.code;
            }
        }
        ws.send(Message::Binary(Bytes::copy_from_slice(&out)))
            .await?;
        out.clear();
    }
    close_ws(ws, code, code.name()).await;
    Ok(())
}

/// The streaming phase until the session closes or the buyer goes away.
async fn stream_data(
    ws: &mut WebSocket,
    session: &mut SellerSession,
    key: &ChannelKey,
    listing_id: u64,
    model: PricingModel,
    gw: &Arc<Inner>,
) -> Res {
    let Some(source) = gw.sources.get(&listing_id) else {
        session.close(ErrorCode::Unavailable, "no source for this listing");
        return finish(ws, session, gw).await;
    };
    // New data continues after what the buyer holds and what is resent.
    let position = session.sent().seq + session.stream().resend.len() as u64;
    let mut feed = source.subscribe(position);
    let channel_id = session.stream().channel_id;
    let (stored_tx, mut stored_rx) =
        mpsc::unbounded_channel::<(u128, Result<StoredVoucher, SinkError>)>();
    let mut pending: Option<Chunk> = None;
    let mut out = Vec::with_capacity(4_096);
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut close_code: Option<ErrorCode> = None;
    let mut closing_since: Option<Instant> = None;
    let mut last_data = Instant::now();
    let mut shutdown = gw.shutdown.clone();
    let mut stopping = false;
    loop {
        let now = gw.now_ms();
        let mut wrote = false;
        // Control frames (receipts, CLOSE, chunks resent), then new data,
        // then control again (a LIMIT_REACHED close queued by the data).
        for round in 0..2 {
            loop {
                out.clear();
                let Some(ft) = session.poll_transmit(now, &mut out) else {
                    break;
                };
                if ft == FrameType::Close {
                    if let Ok(Frame::Close(c)) = frame::decode(&out) {
                        close_code.get_or_insert(c.code);
                    }
                }
                if ft == FrameType::Data {
                    gw.stats.chunks_sent.fetch_add(1, Ordering::Relaxed);
                }
                ws.feed(Message::Binary(Bytes::copy_from_slice(&out)))
                    .await?;
                wrote = true;
            }
            if round == 1 {
                break;
            }
            while let Some(chunk) = pending.take() {
                out.clear();
                match session.send_data(now, chunk.timestamp_ms, &chunk.payload, &mut out) {
                    Ok(_) => {
                        gw.stats.chunks_sent.fetch_add(1, Ordering::Relaxed);
                        ws.feed(Message::Binary(Bytes::copy_from_slice(&out)))
                            .await?;
                        wrote = true;
                        last_data = Instant::now();
                        // Take what the source has ready without waiting.
                        pending = feed.next().now_or_never().flatten();
                    }
                    Err(SendError::Blocked(Blocked::LimitReached { .. })) => break,
                    Err(SendError::Blocked(_)) => {
                        pending = Some(chunk);
                        break;
                    }
                    Err(SendError::PayloadTooLarge { len, max }) => {
                        gw.stats.oversized.fetch_add(1, Ordering::Relaxed);
                        warn!(
                            len,
                            max, listing_id, "gateway: a chunk above max_payload skipped"
                        );
                    }
                }
            }
        }
        if wrote {
            ws.flush().await?;
        }
        match session.phase() {
            Phase::Closed => break,
            Phase::Closing => {
                let since = *closing_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= CLOSING_GRACE {
                    break;
                }
            }
            _ => {}
        }
        let streaming = session.phase() == Phase::Streaming;
        tokio::select! {
            biased;
            m = ws.recv() => match m {
                Some(Ok(Message::Binary(b))) => match session.on_frame(&b, key) {
                    Ok(SellerEvent::Voucher(v)) => {
                        let (sink, tx) = (gw.sink.clone(), stored_tx.clone());
                        let voucher = SinkVoucher {
                            channel_id,
                            amount: v.amount,
                            signature: v.signature.to_vec(),
                        };
                        tokio::spawn(async move {
                            let r = sink.store(voucher).await;
                            let _ = tx.send((v.amount, r));
                        });
                    }
                    Ok(_) => {}
                    // The session queued its CLOSE with the code.
                    Err(e) => debug!(error = %e, "gateway: buyer refused"),
                },
                Some(Ok(Message::Text(_))) => {
                    session.close(ErrorCode::UnexpectedFrame, "a text message while streaming");
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                // Gone without a CLOSE frame: the stream waits for a resume.
                _ => return Ok(()),
            },
            Some((amount, r)) = stored_rx.recv() => match r {
                Ok(s) => {
                    gw.stats.vouchers_stored.fetch_add(1, Ordering::Relaxed);
                    session.voucher_stored(s.amount.min(amount));
                }
                // A later voucher of this stream got there first: this one is covered.
                Err(SinkError::Stale { best, .. }) if best >= amount => session.voucher_stored(amount),
                Err(e) => {
                    warn!(error = %e, channel_id, "gateway: the voucher store refused a voucher");
                    session.close(ErrorCode::Internal, "the voucher could not be stored");
                }
            },
            c = feed.next(), if pending.is_none() && streaming => match c {
                Some(c) => pending = Some(c),
                None => session.close(ErrorCode::Unavailable, "the data source is down"),
            },
            _ = tick.tick() => {
                let _ = session.tick(gw.now_ms());
                // Per second, quiet sensors still bill time: an empty heartbeat.
                if model == PricingModel::PerSecond && streaming && pending.is_none()
                    && last_data.elapsed() >= Duration::from_millis(1_000)
                {
                    pending = Some(Chunk { timestamp_ms: unix_ms(), payload: Bytes::new() });
                }
            }
            _ = shutdown.wait_for(|s| *s), if !stopping => {
                stopping = true;
                session.close(ErrorCode::ShuttingDown, "the gateway is stopping");
            }
        }
    }
    let code = close_code.unwrap_or(ErrorCode::Normal);
    close_ws(ws, code, code.name()).await;
    Ok(())
}
