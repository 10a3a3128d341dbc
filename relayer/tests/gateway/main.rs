//! The SDPP data gateway end to end on the embedded chain: real sockets
//! (WebSockets on loopback), a real Mosquitto broker, the watchtower's
//! durable voucher store, and the buyer client. Each module is one feature:
//! paid streaming from MQTT, the credit window on each side, resume after a
//! disconnect and after the gateway is killed, many buyers, bad frames,
//! per-second billing.

#[path = "../common/mod.rs"]
mod common;

mod broker;
mod frames;
mod many;
mod resume;
mod seconds;
mod stream;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{DENOM, TIMEOUT};
use cosmwasm_std::{coins, Binary};
use payment_channel::msg::{ExecuteMsg, InstantiateMsg, OpenChannel};
use relayer::chain::{execute, find_attr, CodeClient, CodeUpload, TxClient};
use relayer::embedded::{BlockMode, EmbeddedChain, EmbeddedClient};
use relayer::outbox::{Outbox, OutboxOptions};
use relayer::services::gateway::buyer::{self, BuyerOptions, BuyerReport};
use relayer::services::gateway::chain::{self as gwchain, Listing};
use relayer::services::gateway::{Gateway, GatewayConfig, ListingConfig, SourceConfig};
use relayer::services::watchtower::{Watchtower, WatchtowerConfig};
use relayer::store::Store;
use serde_json::json;
use tokio::sync::watch;
use wevalue_sdpp::crypto::{ChannelKeySigner, GatewayKey};
use wevalue_sdpp::handshake::{Certificate, ChannelRef, Scheme};
use wevalue_sdpp::{BuyerConfig, BuyerStream, PricingModel};

pub const CHAIN_ID: &str = "wevalue-test";
const SELLER_SECRET: [u8; 32] = [0x51; 32];
const GATEWAY_SECRET: [u8; 32] = [0x47; 32];

pub type Tower = Watchtower<EmbeddedClient>;

/// The chain with the registry and the payment channel, a seller whose
/// address is its secp256k1 key's (so its gateway certificate verifies),
/// and the watchtower serving that seller on a SQLite file.
pub struct Env {
    pub chain: EmbeddedChain,
    pub deployer: EmbeddedClient,
    pub registry: String,
    pub channels: String,
    pub seller: EmbeddedClient,
    pub cert: Certificate,
    pub tower: Arc<Tower>,
    pub store: Arc<Store>,
    pub dir: tempfile::TempDir,
}

pub async fn setup() -> Env {
    let (chain, deployer) = common::chain(BlockMode::OnDemand).await;
    let registry_code = deployer
        .store_code(&CodeUpload {
            name: "data-registry".into(),
            wasm: None,
        })
        .await
        .unwrap();
    let mut registry_init = common::registry_instantiate();
    // Endpoints on 127.0.0.1: the test gateway's.
    registry_init["allow_private_endpoints"] = json!(true);
    let (registry, _) = deployer
        .instantiate(
            registry_code.code_id,
            &registry_init,
            "registry",
            None,
            vec![],
        )
        .await
        .unwrap();
    let code = deployer
        .store_code(&CodeUpload {
            name: "payment-channel".into(),
            wasm: None,
        })
        .await
        .unwrap();
    let init = serde_json::to_value(InstantiateMsg {
        owner: None,
        min_challenge_period: 60,
        max_challenge_period: 86_400,
        max_batch_size: None,
    })
    .unwrap();
    let (channels, _) = deployer
        .instantiate(code.code_id, &init, "payment-channel", None, vec![])
        .await
        .unwrap();
    let (seller_addr, cert) = GatewayKey::certify(
        SELLER_SECRET,
        "wasm",
        CHAIN_ID,
        &registry,
        GatewayKey::public_key(GATEWAY_SECRET),
        4_000_000_000,
    )
    .unwrap();
    chain
        .fund(&seller_addr, coins(1_000_000_000, DENOM))
        .await
        .unwrap();
    let seller = chain.client(seller_addr);
    let tower_client = chain.client(chain.addr_make("tower").await.unwrap());
    execute(
        &seller,
        &channels,
        &ExecuteMsg::AuthorizeWatchtower {
            watchtower: tower_client.sender().to_string(),
        },
        vec![],
        TIMEOUT,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("relayer.sqlite")).unwrap());
    let config = WatchtowerConfig {
        enabled: true,
        listen: "127.0.0.1:0".parse().unwrap(),
        contract: channels.clone(),
        payees: vec![seller.sender().to_string()],
        min_amount: u128::MAX.into(),
        max_age_seconds: u64::MAX,
        ..WatchtowerConfig::default()
    };
    let tower = Arc::new(tower_client.clone());
    let outbox = Arc::new(Outbox::new(
        store.clone(),
        tower.clone(),
        CHAIN_ID,
        OutboxOptions::default(),
    ));
    let wt = Watchtower::new(config, channels.clone(), tower, store.clone(), outbox)
        .await
        .unwrap();
    Env {
        chain,
        deployer,
        registry,
        channels,
        seller,
        cert,
        tower: Arc::new(wt),
        store,
        dir,
    }
}

impl Env {
    /// The seller lists a stream at 10 ustake per unit of `model`; returns its id.
    pub async fn list(&self, endpoint: &str, model: PricingModel) -> u64 {
        let model = serde_json::to_value(model).unwrap();
        let out = execute(
            &self.seller,
            &self.registry,
            &json!({ "create_listing": {
                "title": "PM2.5 at Porta Nuova",
                "description": "PM2.5 every second",
                "category": "air-quality",
                "sensor_type": "pm2.5",
                "unit": "ug/m3",
                "location": { "latitude": "45.0703", "longitude": "7.6869" },
                "price": { "asset": { "native": DENOM }, "amount": "10", "model": model },
                "metadata_cid": "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
                "endpoint": endpoint,
                "terms": { "license": "CC-BY-4.0", "terms_hash": "07".repeat(32) }
            }}),
            vec![],
            TIMEOUT,
        )
        .await
        .unwrap();
        find_attr(&out.events, "wasm", "listing_id")
            .or_else(|| find_attr(&out.events, "wasm", "id"))
            .expect("listing id attribute")
            .parse()
            .unwrap()
    }

    /// The listing as the buyer reads it.
    pub async fn listing(&self, id: u64) -> Listing {
        gwchain::listing(&self.deployer, &self.registry, id)
            .await
            .unwrap()
    }

    /// A funded payer (`label`) opens an ed25519 channel to the seller;
    /// returns the channel id and its signer.
    pub async fn open(&self, label: &str, seed: u64, deposit: u128) -> (u64, ChannelKeySigner) {
        let payer = self
            .chain
            .client(self.chain.addr_make(label).await.unwrap());
        self.chain
            .fund(payer.sender(), coins(deposit, DENOM))
            .await
            .unwrap();
        let secret = key_secret(seed);
        let probe = ChannelKeySigner::from_secret(
            Scheme::Ed25519,
            secret,
            "wasm",
            CHAIN_ID,
            &self.channels,
            0,
        )
        .unwrap();
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
            TIMEOUT,
        )
        .await
        .unwrap();
        let id: u64 = find_attr(&out.events, "wasm", "channel_id")
            .unwrap()
            .parse()
            .unwrap();
        let signer = ChannelKeySigner::from_secret(
            Scheme::Ed25519,
            secret,
            "wasm",
            CHAIN_ID,
            &self.channels,
            id,
        )
        .unwrap();
        (id, signer)
    }

    /// What the buyer expects of listing `l` on channel `id`.
    pub fn buyer_config(
        &self,
        l: &Listing,
        id: u64,
        deposit: u128,
        cap: Option<u128>,
    ) -> BuyerConfig {
        BuyerConfig {
            max_amount: cap,
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

    /// The best voucher amount the watchtower holds for a channel.
    pub async fn stored(&self, channel: u64) -> u128 {
        self.tower
            .best_voucher(channel)
            .await
            .unwrap()
            .map_or(0, |r| r.amount)
    }

    /// Waits until the watchtower holds `amount` for `channel`.
    pub async fn wait_stored(&self, channel: u64, amount: u128) {
        for _ in 0..500 {
            if self.stored(channel).await >= amount {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(self.stored(channel).await, amount, "channel {channel}");
    }
}

pub fn key_secret(seed: u64) -> [u8; 32] {
    let mut s = [0x33; 32];
    s[..8].copy_from_slice(&seed.to_be_bytes());
    s
}

/// Gateway settings for tests: a small window, fast timeouts.
pub fn gateway_config(listings: Vec<ListingConfig>) -> GatewayConfig {
    GatewayConfig {
        enabled: true,
        listen: "127.0.0.1:0".parse().unwrap(),
        credit_window: 10,
        max_payload: 65_536,
        max_in_flight: 64,
        payment_timeout_ms: 400,
        handshake_timeout_ms: 2_000,
        listings,
        ..GatewayConfig::default()
    }
}

/// A running gateway and its stop switch.
pub struct Running {
    pub gateway: Gateway,
    pub addr: SocketAddr,
    pub stop: watch::Sender<bool>,
}

impl Running {
    pub fn url(&self, listing: u64) -> String {
        self.gateway.endpoint(self.addr, listing)
    }
}

/// What a gateway needs of the environment (owned, for another runtime).
#[derive(Clone)]
pub struct Parts {
    chain: EmbeddedClient,
    tower: Arc<Tower>,
    cert: Certificate,
    registry: String,
    channels: String,
}

impl Env {
    pub fn parts(&self) -> Parts {
        Parts {
            chain: self.deployer.clone(),
            tower: self.tower.clone(),
            cert: self.cert.clone(),
            registry: self.registry.clone(),
            channels: self.channels.clone(),
        }
    }
}

/// Starts a gateway on the current runtime.
pub async fn start_gateway(env: &Env, config: GatewayConfig) -> Running {
    start_with(env.parts(), config).await
}

/// Starts a gateway on the current runtime from owned parts.
pub async fn start_with(p: Parts, config: GatewayConfig) -> Running {
    let (stop, rx) = watch::channel(false);
    let gateway = Gateway::new(
        config,
        Arc::new(p.chain),
        p.tower,
        GatewayKey::new(GATEWAY_SECRET, p.cert),
        &p.registry,
        &p.channels,
        rx,
    )
    .unwrap();
    let (addr, _task) = gateway.spawn().await.unwrap();
    Running {
        gateway,
        addr,
        stop,
    }
}

/// A simulated source, as fast as paid.
pub fn simulated(id: u64) -> ListingConfig {
    ListingConfig {
        id,
        source: SourceConfig::Simulated {
            sensor: Default::default(),
            interval_ms: 0,
            seed: 3,
        },
    }
}

/// One buyer connection collecting the payloads; the record persisted in memory.
pub async fn buy(
    opts: &BuyerOptions,
    signer: &ChannelKeySigner,
    stream: Option<BuyerStream>,
) -> (BuyerStream, BuyerReport, Vec<Vec<u8>>) {
    let mut got = vec![];
    let (s, r) = buyer::run(
        opts,
        signer,
        stream,
        |d| got.push(d.payload.to_vec()),
        |_| Ok(()),
    )
    .await
    .unwrap();
    (s, r, got)
}

/// The `n` field of a simulated reading.
pub fn reading_n(payload: &[u8]) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(payload).unwrap();
    v["n"].as_u64().unwrap()
}
