//! SDPP data gateway figures on the embedded chain, over loopback:
//!
//! 1. one stream, a voucher per chunk (window 100 messages, the buyer pays
//!    at 1 % of it), every voucher verified by the gateway and stored
//!    durably by the watchtower (group commit) before its receipt: paid
//!    chunks per second;
//! 2. the same with a voucher every 10 chunks;
//! 3. 50 concurrent buyers of one MQTT feed (a real Mosquitto): aggregate
//!    chunks per second and p50/p99 latency from MQTT publish to buyer
//!    receive;
//! 4. memory per open stream: resident memory before and after opening 500
//!    idle streams (both ends live in this process, so it is an upper bound
//!    for the gateway's share).
//!
//! `cargo run --release -p relayer --example gateway_bench [chunks]`

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use cosmwasm_std::{coins, Binary};
use payment_channel::msg::{ExecuteMsg, InstantiateMsg, OpenChannel};
use relayer::chain::{execute, find_attr, CodeClient, CodeUpload, TxClient};
use relayer::contracts::workspace_artifacts_dir;
use relayer::embedded::{BlockMode, EmbeddedChain, EmbeddedClient, EmbeddedOptions};
use relayer::outbox::{Outbox, OutboxOptions};
use relayer::services::gateway::buyer::{self, BuyerOptions};
use relayer::services::gateway::chain as gwchain;
use relayer::services::gateway::mosquitto::Mosquitto;
use relayer::services::gateway::{Gateway, GatewayConfig, ListingConfig, SourceConfig};
use relayer::services::watchtower::{Watchtower, WatchtowerConfig};
use relayer::store::Store;
use rumqttc::{AsyncClient, MqttOptions, QoS};
use serde_json::json;
use tokio::sync::watch;
use wevalue_sdpp::crypto::{ChannelKeySigner, GatewayKey};
use wevalue_sdpp::handshake::{ChannelRef, Scheme};
use wevalue_sdpp::BuyerConfig;

const CHAIN_ID: &str = "wevalue-bench";
const DENOM: &str = "ustake";
const T: Duration = Duration::from_secs(30);

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Bench {
    chain: EmbeddedChain,
    deployer: EmbeddedClient,
    registry: String,
    channels: String,
    seller: EmbeddedClient,
    tower: Arc<Watchtower<EmbeddedClient>>,
    key: (u64, wevalue_sdpp::handshake::Certificate),
    _dir: tempfile::TempDir,
}

const GW_SECRET: [u8; 32] = [0x47; 32];

async fn setup() -> Res<Bench> {
    let chain = EmbeddedChain::start(EmbeddedOptions {
        chain_id: CHAIN_ID.into(),
        prefix: "wasm".into(),
        block_mode: BlockMode::OnDemand,
        artifacts_dir: Some(workspace_artifacts_dir()),
        ..EmbeddedOptions::default()
    })?;
    let deployer = chain.client(chain.addr_make("deployer").await?);
    let code = deployer
        .store_code(&CodeUpload {
            name: "data-registry".into(),
            wasm: None,
        })
        .await?;
    let init = json!({ "owner": null, "listing_deposit": null, "curation_registry": null,
        "purchase_verifier": null, "allow_private_endpoints": true });
    let (registry, _) = deployer
        .instantiate(code.code_id, &init, "registry", None, vec![])
        .await?;
    let code = deployer
        .store_code(&CodeUpload {
            name: "payment-channel".into(),
            wasm: None,
        })
        .await?;
    let init = serde_json::to_value(InstantiateMsg {
        owner: None,
        min_challenge_period: 60,
        max_challenge_period: 86_400,
        max_batch_size: None,
    })?;
    let (channels, _) = deployer
        .instantiate(code.code_id, &init, "payment-channel", None, vec![])
        .await?;
    let (seller_addr, cert) = GatewayKey::certify(
        [0x51; 32],
        "wasm",
        CHAIN_ID,
        &registry,
        GatewayKey::public_key(GW_SECRET),
        4_000_000_000,
    )?;
    chain
        .fund(&seller_addr, coins(1_000_000_000, DENOM))
        .await?;
    let seller = chain.client(seller_addr);
    let tower_client = chain.client(chain.addr_make("tower").await?);
    execute(
        &seller,
        &channels,
        &ExecuteMsg::AuthorizeWatchtower {
            watchtower: tower_client.sender().to_string(),
        },
        vec![],
        T,
    )
    .await?;
    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open(dir.path().join("relayer.sqlite"))?);
    let config = WatchtowerConfig {
        enabled: true,
        listen: "127.0.0.1:0".parse()?,
        contract: channels.clone(),
        payees: vec![seller.sender().to_string()],
        min_amount: u128::MAX.into(),
        max_age_seconds: u64::MAX,
        ..WatchtowerConfig::default()
    };
    let tc = Arc::new(tower_client);
    let outbox = Arc::new(Outbox::new(
        store.clone(),
        tc.clone(),
        CHAIN_ID,
        OutboxOptions::default(),
    ));
    let tower = Arc::new(Watchtower::new(config, channels.clone(), tc, store, outbox).await?);
    Ok(Bench {
        chain,
        deployer,
        registry,
        channels,
        seller,
        tower,
        key: (0, cert),
        _dir: dir,
    })
}

impl Bench {
    async fn gateway(
        &self,
        listings: Vec<ListingConfig>,
        window: u64,
    ) -> Res<(Gateway, std::net::SocketAddr, watch::Sender<bool>)> {
        let (stop, rx) = watch::channel(false);
        let config = GatewayConfig {
            enabled: true,
            listen: "127.0.0.1:0".parse()?,
            credit_window: window,
            max_in_flight: 1_024,
            payment_timeout_ms: 30_000,
            listings,
            ..GatewayConfig::default()
        };
        let gw = Gateway::new(
            config,
            Arc::new(self.deployer.clone()),
            self.tower.clone(),
            GatewayKey::new(GW_SECRET, self.key.1.clone()),
            &self.registry,
            &self.channels,
            rx,
        )?;
        let (addr, _) = gw.spawn().await?;
        Ok((gw, addr, stop))
    }

    async fn list(&self, endpoint: &str) -> Res<gwchain::Listing> {
        let out = execute(
            &self.seller,
            &self.registry,
            &json!({ "create_listing": {
            "title": "PM2.5", "description": "bench", "category": "air-quality",
            "sensor_type": "pm2.5", "unit": "ug/m3",
            "location": { "latitude": "45.0703", "longitude": "7.6869" },
            "price": { "asset": { "native": DENOM }, "amount": "10", "model": "per_message" },
            "metadata_cid": "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
            "endpoint": endpoint,
            "terms": { "license": "CC-BY-4.0", "terms_hash": "07".repeat(32) } } }),
            vec![],
            T,
        )
        .await?;
        let id: u64 = find_attr(&out.events, "wasm", "listing_id")
            .ok_or("no listing id")?
            .parse()?;
        Ok(gwchain::listing(&self.deployer, &self.registry, id).await?)
    }

    async fn open(&self, i: u64, deposit: u128) -> Res<(u64, ChannelKeySigner)> {
        let payer = self
            .chain
            .client(self.chain.addr_make(&format!("payer{}", i / 8)).await?);
        self.chain
            .fund(payer.sender(), coins(deposit, DENOM))
            .await?;
        let mut secret = [0x33; 32];
        secret[..8].copy_from_slice(&i.to_be_bytes());
        let probe = ChannelKeySigner::from_secret(
            Scheme::Ed25519,
            secret,
            "wasm",
            CHAIN_ID,
            &self.channels,
            0,
        )?;
        let out = execute(
            &payer,
            &self.channels,
            &ExecuteMsg::Open(OpenChannel {
                payee: self.seller.sender().to_string(),
                pubkey: Binary::from(probe.public_key()),
                scheme: wevalue_voucher::VoucherScheme::Ed25519,
                challenge_period: None,
                listing: None,
            }),
            coins(deposit, DENOM),
            T,
        )
        .await?;
        let id: u64 = find_attr(&out.events, "wasm", "channel_id")
            .ok_or("no channel id")?
            .parse()?;
        Ok((
            id,
            ChannelKeySigner::from_secret(
                Scheme::Ed25519,
                secret,
                "wasm",
                CHAIN_ID,
                &self.channels,
                id,
            )?,
        ))
    }

    fn config(&self, l: &gwchain::Listing, id: u64, deposit: u128, pay_pct: u8) -> BuyerConfig {
        BuyerConfig {
            pay_at_percent: pay_pct,
            idle_pay_ms: 200,
            ..l.buyer_config(
                CHAIN_ID,
                &self.registry,
                ChannelRef {
                    contract: self.channels.clone(),
                    id,
                    scheme: Scheme::Ed25519,
                },
                deposit,
            )
        }
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_string)
        })
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// One stream of `n` chunks paying at `pct` % of a 100-message window.
async fn one_stream(b: &Bench, n: u64, pct: u8, seed: u64) -> Res<(f64, u64)> {
    let sim = ListingConfig {
        id: 0,
        source: SourceConfig::Simulated {
            sensor: Default::default(),
            interval_ms: 0,
            seed,
        },
    };
    // The listing id is known only after listing; list first with a placeholder endpoint.
    let listing = b.list("ws://127.0.0.1:1/sdpp/0").await?;
    let (gw, addr, _stop) = b
        .gateway(
            vec![ListingConfig {
                id: listing.id,
                ..sim
            }],
            100,
        )
        .await?;
    let (ch, signer) = b.open(1_000 + seed, 1_000_000_000).await?;
    let mut opts = BuyerOptions::new(
        gw.endpoint(addr, listing.id),
        b.config(&listing, ch, 1_000_000_000, pct),
    );
    opts.max_chunks = Some(n);
    let start = Instant::now();
    let (stream, report) = buyer::run(&opts, &signer, None, |_| {}, |_| Ok(())).await?;
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(stream.received.seq, n);
    // Wait until the final voucher is durable.
    while b.tower.best_voucher(ch).await?.map_or(0, |r| r.amount) < stream.paid.0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let _ = gw.stats().vouchers_stored.load(Ordering::Relaxed);
    Ok((n as f64 / secs, report.vouchers))
}

#[tokio::main]
async fn main() -> Res<()> {
    let n: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20_000);
    let b = setup().await?;
    println!("machine load before: {}", load());
    println!("| gateway | figure |");
    println!("|---|---|");

    let (rate, vouchers) = one_stream(&b, n, 1, 1).await?;
    println!("| one stream, a voucher per chunk, durable ({n} chunks, {vouchers} vouchers) | {rate:.0} paid chunks/s |");
    let (rate, vouchers) = one_stream(&b, n, 10, 2).await?;
    println!("| one stream, a voucher every 10 chunks ({n} chunks, {vouchers} vouchers) | {rate:.0} paid chunks/s |");

    // 50 buyers of one MQTT feed.
    let broker = Mosquitto::start()?;
    let listing = b.list("ws://127.0.0.1:1/sdpp/0").await?;
    let topic = "bench/pm25";
    let (gw, addr, _stop) = b
        .gateway(
            vec![ListingConfig {
                id: listing.id,
                source: SourceConfig::Mqtt {
                    host: "127.0.0.1".into(),
                    port: broker.port,
                    topic: topic.into(),
                    client_id: String::new(),
                    qos: 0,
                },
            }],
            64,
        )
        .await?;
    let messages: u64 = 2_000;
    let mut tasks = vec![];
    for i in 0..50u64 {
        let (ch, signer) = b.open(2_000 + i, 1_000_000_000).await?;
        let mut opts = BuyerOptions::new(
            gw.endpoint(addr, listing.id),
            b.config(&listing, ch, 1_000_000_000, 50),
        );
        opts.max_chunks = Some(messages);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(messages as usize);
            let r = buyer::run(
                &opts,
                &signer,
                None,
                |d| {
                    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(d.payload) {
                        if let Some(t) = v["t_us"].as_u64() {
                            lat.push(unix_us().saturating_sub(t));
                        }
                    }
                },
                |_| Ok(()),
            )
            .await;
            r.map(|(s, _)| (s.received.seq, lat))
                .map_err(|e| e.to_string())
        }));
    }
    while gw.live_subscribers(listing.id) < 50 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut opts = MqttOptions::new("bench-sensor", "127.0.0.1", broker.port);
    opts.set_keep_alive(Duration::from_secs(5));
    let (client, mut events) = AsyncClient::new(opts, 1_024);
    tokio::spawn(async move { while events.poll().await.is_ok() {} });
    let start = Instant::now();
    // 2,000 messages at 2 per ms (about 1,000 messages/s to each of 50 buyers).
    for i in 0..messages {
        let payload = Bytes::from(
            json!({ "sensor": "pm25", "n": i + 1, "t_us": unix_us(), "value": 17.5 }).to_string(),
        );
        client
            .publish(topic, QoS::AtMostOnce, false, payload)
            .await?;
        if i % 2 == 1 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let mut all = vec![];
    let mut delivered = 0u64;
    for t in tasks {
        let (seq, lat) = t.await??;
        delivered += seq;
        all.extend(lat);
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let (received, skipped) = gw.source_stats(listing.id).unwrap_or_default();
    println!(
        "| 50 buyers of one MQTT feed ({messages} messages each, {received} taken in, {skipped} skipped) | {:.0} chunks/s delivered in all; latency publish → receive p50 {:.2} ms, p99 {:.2} ms |",
        delivered as f64 / secs, pct(0.50) as f64 / 1e3, pct(0.99) as f64 / 1e3
    );
    drop(broker);

    // Memory per open stream: 500 idle streams (a sensor every 10 s).
    let listing = b.list("ws://127.0.0.1:1/sdpp/0").await?;
    let (gw, addr, _stop) = b
        .gateway(
            vec![ListingConfig {
                id: listing.id,
                source: SourceConfig::Simulated {
                    sensor: Default::default(),
                    interval_ms: 10_000,
                    seed: 9,
                },
            }],
            64,
        )
        .await?;
    let mut keys = vec![];
    for i in 0..500u64 {
        keys.push(b.open(10_000 + i, 1_000_000).await?);
    }
    let before = rss_kib();
    let mut idle = vec![];
    for (ch, signer) in keys {
        let mut opts = BuyerOptions::new(
            gw.endpoint(addr, listing.id),
            b.config(&listing, ch, 1_000_000, 50),
        );
        opts.max_chunks = Some(1_000);
        idle.push(tokio::spawn(async move {
            buyer::run(&opts, &signer, None, |_| {}, |_| Ok(()))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }));
    }
    while gw.open_connections() < 500 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib();
    println!(
        "| memory per open stream (500 idle streams, both ends in one process) | {:.1} KiB ({} KiB → {} KiB resident) |",
        (after.saturating_sub(before)) as f64 / 500.0, before, after
    );
    println!("machine load after: {}", load());
    for t in idle {
        t.abort();
    }
    b.chain.shutdown();
    Ok(())
}
