//! The data purchase, for real: the seller's data gateway (run by the city
//! relayer next to its watchtower, which keeps the vouchers) serves the
//! listing over a websocket from a simulated PM2.5 sensor publishing to a
//! Mosquitto broker the devnet starts; the buyer finds the listing's
//! endpoint on chain, opens a payment channel, streams the feed paid per
//! message; the watchtower settles in batches and defends a stale close,
//! and after the challenge window the buyer finalizes the channel.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cosmwasm_std::Uint128;
use relayer_gateway::buyer::{self, BuyerOptions};
use relayer_gateway::chain as gwchain;
use relayer_gateway::config::listing_path;
use relayer_gateway::mosquitto::Mosquitto;
use relayer_gateway::{GatewayConfig, ListingConfig, SourceConfig};
use serde_json::{json, Value};
use wevalue_sdpp::crypto::{ChannelKeySigner, GatewayKey};
use wevalue_sdpp::handshake::{ChannelRef, Scheme};
use wevalue_sdpp::BuyerConfig;
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{Voucher, VoucherScheme};

use super::chaos::Chaos;
use super::net::{check, Net};
use super::process::write_private;
use super::relayers::{free_port, Relayers};
use super::report::Figures;
use super::scenario::{coins, CHANNEL_DEPOSIT};
use super::sensor::Sensor;
use super::{DevnetError, DevnetOptions};
use relayer_watchtower::http::VoucherRequest;

type HttpClient = reqwest::Client;

/// The MQTT topic of the devnet's sensor.
const TOPIC: &str = "turin/porta-nuova/pm25";
/// Vouchers the buyer sends after the last settlement, before its stale close.
const EXTRA: u128 = 25;

/// A channel whose close the watchtower defended, waiting for the end of
/// its challenge window (the last step finalizes it).
pub(super) struct Closing {
    channel: u64,
    seller: &'static str,
    owed: u128,
    finalize_after: u64,
    seller_before: u128,
    buyer_before: u128,
}

/// Posts one voucher to a watchtower's API; retries while the watchtower
/// is down (a restart).
pub(super) async fn post_voucher(
    client: &HttpClient,
    api: std::net::SocketAddr,
    request: &VoucherRequest,
) -> Result<(), DevnetError> {
    let body = serde_json::to_vec(request).map_err(|e| DevnetError::Scenario(e.to_string()))?;
    let mut last = String::new();
    for attempt in 0..200u32 {
        let uri = format!("http://{api}/v1/vouchers");
        let sent = client
            .post(uri)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(resp) => {
                let status = resp.status();
                let bytes = resp.bytes().await.unwrap_or_default();
                if status.is_success() {
                    return Ok(());
                }
                last = format!("{status}: {}", String::from_utf8_lossy(&bytes));
                // Only "service unavailable" is worth retrying.
                if status != reqwest::StatusCode::SERVICE_UNAVAILABLE {
                    break;
                }
            }
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt.min(20)) + 5)).await;
    }
    Err(DevnetError::Service {
        service: "watchtower",
        reason: format!(
            "voucher {} for channel {} refused: {last}",
            request.amount, request.channel_id
        ),
    })
}

/// The channel as the contract reports it.
async fn channel_info(net: &Net, channel: u64) -> Result<Value, DevnetError> {
    net.query(
        "payment-channel",
        &json!({ "channel": { "channel_id": channel } }),
    )
    .await
}

/// Claimed so far on a channel, per the contract.
async fn claimed(net: &Net, channel: u64) -> Result<u128, DevnetError> {
    let c = channel_info(net, channel).await?;
    Ok(c["claimed"].as_str().unwrap_or("0").parse().unwrap_or(0))
}

/// Waits (services running, chaos points taken) until `claimed` is `want`.
async fn until_claimed(
    net: &Net,
    relayers: &mut Relayers,
    chaos: &mut Chaos,
    channel: u64,
    want: u128,
) -> Result<(u128, bool), DevnetError> {
    let deadline = Instant::now() + net.timing.patience;
    let mut crashed = false;
    loop {
        let now = claimed(net, channel).await?;
        if now == want || Instant::now() > deadline {
            return Ok((now, crashed));
        }
        crashed |= chaos.point(relayers).await?;
        tokio::time::sleep(net.timing.poll).await;
    }
}

/// The seller certifies a gateway key (ADR-036, with its account key) and
/// configures the gateway on the city relayer, which restarts with it.
/// Returns the listing's endpoint.
async fn start_gateway(
    net: &Net,
    options: &DevnetOptions,
    relayers: &mut Relayers,
    broker: &Mosquitto,
    seller_label: &str,
    listing: u64,
) -> Result<String, DevnetError> {
    let gateway_err = |e: String| DevnetError::Service {
        service: "gateway",
        reason: e,
    };
    let registry = net.contract("data-registry")?;
    let gw_secret =
        wevalue_voucher::sha256(format!("devnet-{}-gateway-key", options.seed).as_bytes());
    let now_s = net.block_time_nanos().await? / 1_000_000_000;
    let (seller, cert) = GatewayKey::certify(
        net.secret(seller_label)?,
        "wasm",
        &net.chain_id,
        &registry,
        GatewayKey::public_key(gw_secret),
        now_s + 86_400,
    )
    .map_err(|e| gateway_err(e.to_string()))?;
    check(seller == net.addr(seller_label)?, || {
        format!("the certificate names {seller}, not the seller's account")
    })?;
    let dir = options.state_dir.join("gateway");
    std::fs::create_dir_all(&dir).map_err(|source| DevnetError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let (key_file, certificate_file) = (dir.join("gateway.key"), dir.join("certificate.json"));
    write_private(&key_file, &hex::encode(gw_secret))?;
    let cert = serde_json::to_string_pretty(&cert).map_err(|e| gateway_err(e.to_string()))?;
    std::fs::write(&certificate_file, cert).map_err(|source| DevnetError::Io {
        path: certificate_file.display().to_string(),
        source,
    })?;
    let listen = free_port()?;
    let city = relayers.city_mut();
    city.set_gateway(Some(GatewayConfig {
        enabled: true,
        listen,
        key_file,
        certificate_file,
        credit_window: 64,
        max_in_flight: 256,
        payment_timeout_ms: 30_000,
        listings: vec![ListingConfig {
            id: listing,
            source: SourceConfig::Mqtt {
                host: "127.0.0.1".into(),
                port: broker.port,
                topic: TOPIC.into(),
                client_id: String::new(),
                qos: 1,
            },
        }],
        ..GatewayConfig::default()
    }));
    city.restart().await?;
    Ok(format!("ws://{listen}{}", listing_path(listing)))
}

/// Opens the channel, streams the sensor feed through the gateway paid per
/// message, settles, defends a stale close. Returns the broker (kept for
/// the gateway's lifetime) and the closing channel.
pub(super) async fn run(
    net: &mut Net,
    options: &DevnetOptions,
    relayers: &mut Relayers,
    chaos: &mut Chaos,
    listing: u64,
    figures: &mut Figures,
) -> Result<(Mosquitto, Closing), DevnetError> {
    let registry = net.contract("data-registry")?;
    let seller_label = "air-seller";
    let seller = net.addr(seller_label)?;

    net.step("The seller starts its data gateway (MQTT sensor feed, websocket) on the city relayer and points the listing at it").await?;
    let tower = relayers.city().account.clone();
    net.exec(
        seller_label,
        "payment-channel",
        &json!({ "authorize_watchtower": { "watchtower": tower } }),
        vec![],
    )
    .await?;
    let broker = Mosquitto::start().map_err(|reason| DevnetError::Service {
        service: "mosquitto",
        reason,
    })?;
    let url = start_gateway(net, options, relayers, &broker, seller_label, listing).await?;
    net.exec(
        seller_label,
        "data-registry",
        &json!({ "update_listing": { "id": listing, "update": { "endpoint": url } } }),
        vec![],
    )
    .await?;
    let reader = net.reader("buyer")?;
    let on_chain = gwchain::listing(reader.as_ref(), &registry, listing)
        .await
        .map_err(|e| DevnetError::Check(format!("listing {listing}: {e}")))?;
    check(on_chain.endpoint == url, || {
        format!(
            "the listing names {}, the gateway serves {url}",
            on_chain.endpoint
        )
    })?;
    let price = on_chain.price.amount.0;
    net.note(format!(
        "gateway at {url} in the city relayer (certified by the seller until +1 day), fed by mosquitto on 127.0.0.1:{} topic {TOPIC}",
        broker.port
    ));

    net.step(
        "The buyer opens a channel and streams the PM2.5 feed over the websocket, paid per message",
    )
    .await?;
    let secret =
        wevalue_voucher::sha256(format!("devnet-{}-buyer-voucher-key", options.seed).as_bytes());
    let key = VoucherSigner::from_secret(VoucherScheme::Ed25519, secret, "wasm")
        .map_err(|e| DevnetError::Scenario(e.to_string()))?;
    let out = net
        .exec(
            "buyer",
            "payment-channel",
            &json!({ "open": {
                "payee": seller,
                "pubkey": cosmwasm_std::Binary::from(key.public_key()),
                "scheme": "ed25519",
                "challenge_period": null
            } }),
            coins(CHANNEL_DEPOSIT),
        )
        .await?;
    let channel: u64 = relayer_core::chain::find_attr(&out.events, "wasm", "channel_id")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| DevnetError::Check("open emitted no channel_id".into()))?;
    let seller_before = net.gross(seller_label).await?;
    let buyer_before = net.gross("buyer").await?;
    let (chain_id, contract) = (net.chain_id.clone(), net.contract("payment-channel")?);
    let signer = ChannelKeySigner::from_secret(
        Scheme::Ed25519,
        secret,
        "wasm",
        &chain_id,
        &contract,
        channel,
    )
    .map_err(|e| DevnetError::Scenario(e.to_string()))?;
    let n = u64::from(options.vouchers);
    let mut opts = BuyerOptions::new(
        on_chain.endpoint.clone(),
        BuyerConfig {
            chain_id: chain_id.clone(),
            registry: registry.clone(),
            listing_id: listing,
            seller: on_chain.seller.clone(),
            terms: on_chain.terms.clone(),
            price: on_chain.price.clone(),
            channel: ChannelRef {
                contract: contract.clone(),
                id: channel,
                scheme: Scheme::Ed25519,
            },
            deposit: CHANNEL_DEPOSIT,
            max_amount: None,
            max_payload: 65_536,
            pay_at_percent: 50,
            idle_pay_ms: 500,
        },
    );
    opts.max_chunks = Some(n);
    let started = Instant::now();
    let delivered = Arc::new(Mutex::new(Vec::<Vec<u8>>::with_capacity(n as usize)));
    let sink = delivered.clone();
    let buyer = tokio::spawn(async move {
        buyer::run(
            &opts,
            &signer,
            None,
            |d| {
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(d.payload.to_vec())
            },
            |_| Ok(()),
        )
        .await
    });
    let count = || delivered.lock().unwrap_or_else(|e| e.into_inner()).len();
    let sensor_err = |reason: String| DevnetError::Service {
        service: "sensor",
        reason,
    };
    // A live feed starts where the buyer joins. In process the devnet sees
    // the gateway's subscription; a gateway in another process is found
    // joined by the first reading that reaches the buyer.
    let deadline = Instant::now() + net.timing.patience;
    if let Some(gw) = relayers.city().gateway() {
        while gw.live_subscribers(listing) == 0 {
            check(Instant::now() < deadline, || {
                "the gateway did not subscribe the buyer to the sensor feed".into()
            })?;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let mut sensor = Sensor::connect(broker.port, TOPIC, options.seed);
    while count() == 0 {
        check(Instant::now() < deadline && !buyer.is_finished(), || {
            "no reading reached the buyer: its stream never started".into()
        })?;
        sensor.publish().await.map_err(sensor_err)?;
        sensor
            .flush(Duration::from_secs(10))
            .await
            .map_err(sensor_err)?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first = delivered.lock().unwrap_or_else(|e| e.into_inner())[0].clone();
    let joined = sensor
        .published
        .iter()
        .position(|p| *p == first)
        .ok_or_else(|| {
            DevnetError::Check("the buyer got a reading the sensor never published".into())
        })?;
    // A reading a millisecond (the sensor's pace; a late tick catches up).
    let mut pace = tokio::time::interval(Duration::from_millis(1));
    while (sensor.published.len() - joined) < n as usize {
        pace.tick().await;
        sensor.publish().await.map_err(sensor_err)?;
    }
    sensor
        .flush(Duration::from_secs(30))
        .await
        .map_err(sensor_err)?;
    let (stream, report) = buyer
        .await
        .map_err(|e| DevnetError::Scenario(e.to_string()))?
        .map_err(|e| DevnetError::Service {
            service: "buyer",
            reason: e.to_string(),
        })?;
    let elapsed = started.elapsed();
    let delivered = std::mem::take(&mut *delivered.lock().unwrap_or_else(|e| e.into_inner()));
    let published = &sensor.published;
    check(delivered.as_slice() == &published[joined..], || {
        format!(
            "{} readings published ({joined} before the buyer joined), {} delivered (or not the same)",
            published.len(),
            delivered.len()
        )
    })?;
    let paid = stream.paid.0;
    check(paid == u128::from(n) * price, || {
        format!("{n} messages at {price}: the buyer paid {paid}")
    })?;
    // The final voucher is durable in the watchtower before it is settled.
    let http = HttpClient::new();
    let deadline = Instant::now() + net.timing.patience;
    loop {
        let stored = relayers.city().best_voucher(&http, channel).await?;
        if stored == Some(paid) {
            break;
        }
        check(Instant::now() < deadline, || {
            format!("the watchtower holds {stored:?}, not the buyer's last voucher {paid}")
        })?;
        tokio::time::sleep(net.timing.poll).await;
    }
    figures.messages_published = published.len() as u64;
    figures.messages_before_join = joined as u64;
    figures.messages_delivered = delivered.len() as u64;
    figures.messages_paid = (paid / price) as u64;
    figures.vouchers_sent = report.vouchers;
    figures.vouchers_per_sec = n as f64 / elapsed.as_secs_f64().max(1e-9);
    let taken_in = relayers
        .city()
        .gateway()
        .and_then(|g| g.source_stats(listing))
        .map(|(received, skipped)| {
            format!(", {received} taken in by the gateway ({skipped} skipped)")
        })
        .unwrap_or_default();
    net.note(format!(
        "{} PM2.5 readings published to MQTT ({joined} before the buyer joined the live feed){taken_in}, {} delivered over the websocket, {paid} ustake paid with {} vouchers ({:.0} paid messages/s)",
        published.len(), delivered.len(), report.vouchers, figures.vouchers_per_sec
    ));
    drop(sensor);

    net.step("The seller's watchtower settles the stream's vouchers in batches")
        .await?;
    let sign = |amount: u128| -> Result<VoucherRequest, DevnetError> {
        let voucher = Voucher {
            chain_id: chain_id.clone(),
            contract: contract.clone(),
            channel_id: channel,
            amount: Uint128::new(amount),
            hashlock: None,
            expiry: None,
        };
        let signature = key
            .sign(&voucher)
            .map_err(|e| DevnetError::Scenario(e.to_string()))?;
        Ok(VoucherRequest {
            channel_id: channel,
            amount: voucher.amount,
            hashlock: None,
            expiry: None,
            signature: signature.to_vec().into(),
            preimage: None,
        })
    };
    let best = paid;
    // The bridge settles by amount and age; wait for it to catch up.
    let (settled, crashed) = until_claimed(net, relayers, chaos, channel, best).await?;
    check(settled == best, || {
        format!("the bridge should have settled {best}, claimed is {settled}")
    })?;
    figures.messages_settled = (settled / price) as u64;
    net.note(format!(
        "messages published {}, delivered {}, paid {}, settled {} ({settled} ustake claimed on chain)",
        figures.messages_published, figures.messages_delivered, figures.messages_paid, figures.messages_settled
    ));

    net.step("The buyer starts a close on a stale state; the watchtower defends it")
        .await?;
    // More data flows after the last settlement (over a fresh connection
    // if a crash dropped the kept-alive one) ...
    let client = if crashed { HttpClient::new() } else { http };
    for i in 1..=EXTRA {
        post_voucher(
            &client,
            relayers.city().voucher_api,
            &sign(best + i * price)?,
        )
        .await?;
    }
    drop(client);
    let owed = best + EXTRA * price;
    // ... and the buyer tries to leave with it unpaid.
    let claimed_at_close = claimed(net, channel).await?;
    check(claimed_at_close < owed, || {
        format!(
            "the close should start on a stale state: {claimed_at_close} of {owed} claimed already"
        )
    })?;
    net.exec(
        "buyer",
        "payment-channel",
        &json!({ "start_close": { "channel_id": channel } }),
        vec![],
    )
    .await?;
    let (defended, _) = until_claimed(net, relayers, chaos, channel, owed).await?;
    check(defended == owed, || {
        format!("the watchtower should have claimed {owed} during the challenge window, claimed is {defended}")
    })?;
    let c = channel_info(net, channel).await?;
    let finalize_after: u64 = c["status"]["closing"]["finalize_after"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| DevnetError::Check(format!("channel {channel} is not closing: {c}")))?;
    let window = c["challenge_period"].as_u64().unwrap_or(0);
    figures.stale_closes_defended += 1;
    net.note(format!(
        "close started with {claimed_at_close} claimed of {owed} owed; the watchtower claimed the rest inside the {window} s window"
    ));
    // Vouchers are cumulative: each claim settles every voucher streamed
    // on its channel since the previous one. The claim txs are counted at
    // the end of the run, when the watchtower has recorded every outcome.
    figures.vouchers_settled = figures.vouchers_sent + EXTRA as u64;
    Ok((
        broker,
        Closing {
            channel,
            seller: seller_label,
            owed,
            finalize_after,
            seller_before,
            buyer_before,
        },
    ))
}

/// After the challenge window: the buyer finalizes; the seller got exactly
/// what was owed, the buyer the rest of the deposit (fees aside).
pub(super) async fn finalize(net: &mut Net, closing: Closing) -> Result<(), DevnetError> {
    net.step("The buyer finalizes the channel after the challenge window")
        .await?;
    let Closing {
        channel,
        seller,
        owed,
        finalize_after,
        seller_before,
        buyer_before,
    } = closing;
    net.advance_to(finalize_after).await?;
    net.exec(
        "buyer",
        "payment-channel",
        &json!({ "finalize": { "channel_id": channel } }),
        vec![],
    )
    .await?;
    let seller_got = net.gross(seller).await? - seller_before;
    let buyer_back = net.gross("buyer").await? - buyer_before;
    check(seller_got == owed, || {
        format!("seller should have received {owed}, got {seller_got}")
    })?;
    check(buyer_back == CHANNEL_DEPOSIT - owed, || {
        format!(
            "buyer should get back {}, got {buyer_back}",
            CHANNEL_DEPOSIT - owed
        )
    })?;
    net.note(format!(
        "finalized: seller received {seller_got}, buyer refunded {buyer_back} ustake (fees aside)"
    ));
    Ok(())
}

/// The watchtower's claim txs (count, gas) into the figures.
pub(super) fn settlement_figures(
    relayers: &Relayers,
    figures: &mut Figures,
) -> Result<(), DevnetError> {
    let (txs, gas, _) = super::relayers::outbox_done(&relayers.city().db, "watchtower/")?;
    figures.settlement_txs = txs;
    figures.gas_per_settled_voucher = gas.checked_div(figures.vouchers_settled).unwrap_or(0);
    Ok(())
}
