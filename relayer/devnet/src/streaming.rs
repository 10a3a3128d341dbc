//! The data purchase, for real: the seller's data gateway serves the
//! listing over a websocket from a simulated PM2.5 sensor publishing to a
//! Mosquitto broker the devnet starts; the buyer finds the listing's
//! endpoint on chain, opens a payment channel, streams the feed paid per
//! message (vouchers in-band, stored durably by the seller's watchtower);
//! the watchtower settles in batches and defends a stale close.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cosmwasm_std::Uint128;
use relayer_gateway::buyer::{self, BuyerOptions};
use relayer_gateway::chain as gwchain;
use relayer_gateway::mosquitto::Mosquitto;
use relayer_gateway::source::publish_pm25;
use relayer_gateway::{Gateway, GatewayConfig, ListingConfig, SourceConfig};
use serde_json::{json, Value};
use tokio::sync::watch;
use wevalue_sdpp::crypto::{ChannelKeySigner, GatewayKey};
use wevalue_sdpp::handshake::{ChannelRef, Scheme};
use wevalue_sdpp::BuyerConfig;
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{Voucher, VoucherScheme};

use super::chaos::Chaos;
use super::net::{check, Net};
use super::relayers::Relayers;
use super::report::Figures;
use super::scenario::{coins, CHANNEL_DEPOSIT};
use super::{DevnetError, DevnetOptions};
use relayer_watchtower::http::VoucherRequest;

type HttpClient = reqwest::Client;

/// Posts one voucher; retries while the watchtower is down (a restart).
async fn post_voucher(
    client: &HttpClient,
    relayers: &Relayers,
    request: &VoucherRequest,
) -> Result<(), DevnetError> {
    let body = serde_json::to_vec(request).map_err(|e| DevnetError::Scenario(e.to_string()))?;
    let mut last = String::new();
    for attempt in 0..200u32 {
        let uri = format!("http://{}/v1/vouchers", relayers.city().voucher_api);
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

/// Claimed so far on a channel, per the contract.
async fn claimed(net: &Net, channel: u64) -> Result<u128, DevnetError> {
    let c: Value = net
        .query(
            "payment-channel",
            &json!({ "channel": { "channel_id": channel } }),
        )
        .await?;
    Ok(c["claimed"].as_str().unwrap_or("0").parse().unwrap_or(0))
}

/// The MQTT topic of the devnet's sensor.
const TOPIC: &str = "turin/porta-nuova/pm25";

/// The seller's gateway for `listing`, fed by the broker, storing vouchers
/// through the city relayer's watchtower; its stop switch.
async fn start_gateway(
    net: &Net,
    options: &DevnetOptions,
    relayers: &Relayers,
    broker: &Mosquitto,
    seller_label: &str,
    listing: u64,
) -> Result<(Gateway, std::net::SocketAddr, watch::Sender<bool>), DevnetError> {
    let gateway_err = |e: String| DevnetError::Service {
        service: "gateway",
        reason: e,
    };
    let registry = net.contract("data-registry")?;
    let gw_secret =
        wevalue_voucher::sha256(format!("devnet-{}-gateway-key", options.seed).as_bytes());
    let now_s = net.block_time_nanos().await? / 1_000_000_000;
    // The seller certifies its gateway key with its account key (ADR-036).
    let (seller, cert) = GatewayKey::certify(
        Net::secret(seller_label),
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
    let sink = relayers
        .city()
        .watchtower
        .clone()
        .ok_or_else(|| gateway_err("the city relayer runs no watchtower".into()))?;
    let config = GatewayConfig {
        enabled: true,
        listen: "127.0.0.1:0"
            .parse()
            .map_err(|e| gateway_err(format!("{e}")))?,
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
    };
    let (stop, stop_rx) = watch::channel(false);
    let gateway = Gateway::new(
        config,
        Arc::new(net.client(seller_label)?),
        sink,
        GatewayKey::new(gw_secret, cert),
        &registry,
        &net.contract("payment-channel")?,
        stop_rx,
    )
    .map_err(|e| gateway_err(e.to_string()))?;
    let (addr, _task) = gateway
        .spawn()
        .await
        .map_err(|e| gateway_err(e.to_string()))?;
    Ok((gateway, addr, stop))
}

/// Waits until `ready` holds (the gateway subscribed, the buyer streaming).
async fn until(what: &str, mut ready: impl FnMut() -> bool) -> Result<(), DevnetError> {
    for _ in 0..1_000 {
        if ready() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(DevnetError::Check(format!("{what} within 10 s")))
}

/// Opens the channel, streams the sensor feed through the gateway paid per
/// message, settles, defends a stale close.
pub(super) async fn run(
    net: &mut Net,
    options: &DevnetOptions,
    relayers: &mut Relayers,
    chaos: &mut Chaos,
    listing: u64,
    figures: &mut Figures,
) -> Result<(), DevnetError> {
    let registry = net.contract("data-registry")?;
    let seller_label = "air-seller";
    let seller = net.addr(seller_label)?;

    net.step("The seller starts its data gateway (MQTT sensor feed, websocket) and points the listing at it")?;
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
    let (gateway, addr, stop) =
        start_gateway(net, options, relayers, &broker, seller_label, listing).await?;
    let url = gateway.endpoint(addr, listing);
    net.exec(
        seller_label,
        "data-registry",
        &json!({ "update_listing": { "id": listing, "update": { "endpoint": url } } }),
        vec![],
    )
    .await?;
    let reader = net.client("buyer")?;
    let on_chain = gwchain::listing(&reader, &registry, listing)
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
        "gateway at {url} (certified by the seller until +1 day), fed by mosquitto on 127.0.0.1:{} topic {TOPIC}",
        broker.port
    ));

    net.step(
        "The buyer opens a channel and streams the PM2.5 feed over the websocket, paid per message",
    )?;
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
    let seller_before = net.balance(seller_label).await?;
    let buyer_before = net.balance("buyer").await?;
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
    let buyer = tokio::spawn(async move {
        let mut payloads = Vec::with_capacity(n as usize);
        let result = buyer::run(
            &opts,
            &signer,
            None,
            |d| payloads.push(d.payload.to_vec()),
            |_| Ok(()),
        )
        .await;
        result.map(|(stream, report)| (stream, report, payloads))
    });
    // Live data: publish once the gateway is subscribed and the buyer streams.
    until(
        "the gateway subscribed to the sensor and the buyer streaming",
        || gateway.live_subscribers(listing) >= 1,
    )
    .await?;
    let published = publish_pm25(
        "127.0.0.1",
        broker.port,
        TOPIC,
        n,
        Duration::from_millis(1),
        options.seed,
    )
    .await
    .map_err(|reason| DevnetError::Service {
        service: "sensor",
        reason,
    })?;
    let (stream, report, delivered) = buyer
        .await
        .map_err(|e| DevnetError::Scenario(e.to_string()))?
        .map_err(|e| DevnetError::Service {
            service: "buyer",
            reason: e.to_string(),
        })?;
    let elapsed = started.elapsed();
    check(
        delivered.len() as u64 == n && delivered.iter().zip(&published).all(|(d, p)| d == p),
        || {
            format!(
                "{} messages published, {} delivered (or not the same)",
                published.len(),
                delivered.len()
            )
        },
    )?;
    let paid = stream.paid.0;
    check(paid == u128::from(n) * price, || {
        format!("{n} messages at {price}: the buyer paid {paid}")
    })?;
    // The final voucher is durable in the watchtower before it is settled.
    let city = relayers.city().watchtower.clone();
    for _ in 0..1_000 {
        let stored = match &city {
            Some(wt) => wt.best_voucher(channel).await?.map_or(0, |r| r.amount),
            None => 0,
        };
        if stored == paid {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(true);
    drop(broker);
    let (received, skipped) = gateway.source_stats(listing).unwrap_or_default();
    figures.messages_published = published.len() as u64;
    figures.messages_delivered = delivered.len() as u64;
    figures.messages_paid = (paid / price) as u64;
    figures.vouchers_sent = report.vouchers;
    figures.vouchers_per_sec = n as f64 / elapsed.as_secs_f64().max(1e-9);
    net.note(format!(
        "{} PM2.5 readings published to MQTT, {received} taken in by the gateway ({skipped} skipped), {} delivered over the websocket, {paid} ustake paid with {} vouchers ({:.0} paid messages/s)",
        published.len(), delivered.len(), report.vouchers, figures.vouchers_per_sec
    ));

    net.step("The seller's watchtower settles the stream's vouchers in batches")?;
    let mut client: HttpClient = HttpClient::new();
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
    for _ in 0..2_000 {
        if claimed(net, channel).await? == best {
            break;
        }
        if chaos.point(relayers).await? {
            client = HttpClient::new();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let settled = claimed(net, channel).await?;
    check(settled == best, || {
        format!("the bridge should have settled {best}, claimed is {settled}")
    })?;
    figures.messages_settled = (settled / price) as u64;
    net.note(format!(
        "messages published {}, delivered {}, paid {}, settled {} ({settled} ustake claimed on chain)",
        figures.messages_published, figures.messages_delivered, figures.messages_paid, figures.messages_settled
    ));

    net.step("The buyer starts a close on a stale state; the watchtower defends it")?;
    // More data flows after the last settlement ...
    let extra = 25u128;
    for i in 1..=extra {
        post_voucher(&client, relayers, &sign(best + i * price)?).await?;
    }
    let final_best = best + extra * price;
    // ... and the buyer tries to leave with it unpaid.
    let claimed_at_close = claimed(net, channel).await?;
    check(claimed_at_close < final_best, || {
        format!("the close should start on a stale state: {claimed_at_close} of {final_best} claimed already")
    })?;
    net.exec(
        "buyer",
        "payment-channel",
        &json!({ "start_close": { "channel_id": channel } }),
        vec![],
    )
    .await?;
    for _ in 0..2_000 {
        if claimed(net, channel).await? == final_best {
            break;
        }
        chaos.point(relayers).await?;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(client);
    let defended = claimed(net, channel).await?;
    check(defended == final_best, || {
        format!("the watchtower should have claimed {final_best} during the challenge window, claimed is {defended}")
    })?;
    let c: Value = net
        .query("payment-channel", &json!({ "config": {} }))
        .await?;
    let window = c["min_challenge_period"].as_u64().unwrap_or(600);
    net.advance(window + 1).await?;
    net.exec(
        "buyer",
        "payment-channel",
        &json!({ "finalize": { "channel_id": channel } }),
        vec![],
    )
    .await?;
    let seller_got = net.balance(seller_label).await? - seller_before;
    let buyer_back = net.balance("buyer").await? - buyer_before;
    check(seller_got == final_best, || {
        format!("seller should have received {final_best}, got {seller_got}")
    })?;
    check(buyer_back == CHANNEL_DEPOSIT - final_best, || {
        format!(
            "buyer should get back {}, got {buyer_back}",
            CHANNEL_DEPOSIT - final_best
        )
    })?;
    figures.stale_closes_defended += 1;
    net.note(format!(
        "close started with {claimed_at_close} claimed of {final_best} owed; the watchtower claimed the rest inside the {window} s window"
    ));
    net.note(format!(
        "finalized: seller received {seller_got}, buyer refunded {buyer_back} ustake"
    ));

    // Vouchers are cumulative: each claim settles every voucher streamed
    // on its channel since the previous one. The claim txs are counted at
    // the end of the run, when the watchtower has recorded every outcome.
    figures.vouchers_settled = figures.vouchers_sent + extra as u64;
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
