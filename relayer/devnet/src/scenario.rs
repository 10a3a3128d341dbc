//! The smart-city scenario (module docs of [`super`]).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Instant;

use cosmwasm_std::{to_json_binary, Coin};
use serde_json::{json, Value};

use super::chaos::Chaos;
use super::net::{check, Net, Tx, DENOM};
use super::relayers::Relayers;
use super::report::{Figures, Report};
use super::{ChainChoice, ChaosOptions, DevnetError, DevnetOptions};
use relayer_core::metrics::ChainLabels;
use relayer_gateway::mosquitto::Mosquitto;

/// A well-formed IPFS CID for metadata fields.
pub(super) const CID: &str = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
/// TCR stake per seller (city token, 6 decimals).
const STAKE: u128 = 1_000_000;
/// The buyer's channel deposit.
const DEPOSIT: u128 = 50_000_000;

/// Who takes part.
pub(super) const SELLERS: [&str; 2] = ["air-seller", "meter-seller"];
pub(super) const HOUSEHOLDS: [&str; 3] = ["house-1", "house-2", "house-3"];
pub(super) const SPONSORS: [&str; 2] = ["utility", "brand"];

fn json_err(e: impl std::fmt::Display) -> DevnetError {
    DevnetError::Scenario(e.to_string())
}

/// The chain and relayer instances after the scenario (`--serve` keeps them).
pub struct Running {
    /// The chain and deployment.
    pub net: Net,
    /// The relayer instances, still running.
    pub relayers: Relayers,
    /// Crashes the chaos schedule caused (instance names).
    pub crashes: Vec<String>,
    /// The MQTT broker the seller's gateway reads (stopped with the rest).
    broker: Option<Mosquitto>,
}

impl Running {
    /// Serves `/metrics` and `/health` on `addr` until `shutdown`, with the
    /// services running; then stops everything. Returns the bound address.
    pub async fn serve(
        self,
        addr: SocketAddr,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<SocketAddr, DevnetError> {
        let metrics = self.net.metrics.clone();
        metrics.set_ready(true);
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        let (bound, server) = relayer_core::metrics::serve(metrics.clone(), addr, async move {
            let _ = rx.changed().await;
        })
        .map_err(|e| DevnetError::Service {
            service: "metrics",
            reason: format!("serving on {addr}: {e}"),
        })?;
        eprintln!(
            "devnet serving: chain {} | metrics http://{bound}/metrics | voucher API http://{}/v1/vouchers | Ctrl-C to stop",
            self.net.chain_id,
            self.relayers.city().voucher_api
        );
        let height = self.net.height().await?;
        metrics
            .latest_height
            .get_or_create(&ChainLabels {
                chain: self.net.chain_id.clone(),
            })
            .set(height as i64);
        shutdown.await;
        let _ = tx.send(true);
        let _ = server.await;
        self.shutdown().await;
        Ok(bound)
    }

    /// Stops the services, the broker and the embedded chain.
    pub async fn shutdown(mut self) {
        self.relayers.shutdown_all().await;
        self.broker = None;
        self.net.shutdown();
    }
}

/// Runs the scenario without crashes.
pub async fn run(options: &DevnetOptions) -> Result<(Report, Running), DevnetError> {
    run_with(options, None).await
}

/// Runs the scenario, optionally crashing relayer instances on a seeded
/// schedule (the reliability trials); returns the report and what is still
/// running (kept alive by `--serve`).
pub async fn run_with(
    options: &DevnetOptions,
    chaos: Option<ChaosOptions>,
) -> Result<(Report, Running), DevnetError> {
    if options.vouchers < 10 {
        return Err(DevnetError::Option {
            option: "--vouchers",
            reason: format!("{} is too few; at least 10", options.vouchers),
        });
    }
    if chaos.is_some() && matches!(options.chain, ChainChoice::Localnet(_)) {
        return Err(DevnetError::Option {
            option: "chaos",
            reason: "the crash trials run on the embedded chain".into(),
        });
    }
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(&options.state_dir);
    std::fs::create_dir_all(&options.state_dir).map_err(|source| DevnetError::Io {
        path: options.state_dir.display().to_string(),
        source,
    })?;

    let mut net = Net::start(options).await?;
    net.step(&format!(
        "Deploy the suite (deploy.example.toml) on the {}",
        net.describe()
    ))
    .await?;
    if let Err(e) = net.deploy(options).await {
        net.shutdown();
        return Err(e);
    }
    if !net.is_localnet() {
        net.note("the embedded chain stores and instantiates without fee-paying txs");
    }
    let names: Vec<String> = net.deployment.contracts.keys().cloned().collect();
    net.note(format!("deployed: {}", names.join(", ")));

    let mut actors: Vec<&str> = vec!["buyer"];
    actors.extend(SELLERS);
    actors.extend(SPONSORS);
    actors.extend(HOUSEHOLDS);
    actors.extend(super::bikes::RIDERS);
    actors.push("deployer");
    if net.is_localnet() {
        actors.push(super::xchain::HUB_BUYER);
    }
    for a in &actors {
        net.actor(a).await?;
    }
    let mut figures = Figures::default();
    let mut chaos = chaos.map_or_else(Chaos::off, |c| {
        Chaos::seeded(c.seed, c.crashes, c.per_mille)
    });

    net.step(if net.is_localnet() {
        "Start three relayer processes (watchtower, solver, 2-of-3 oracles), each its own key and SQLite"
    } else {
        "Start three relayer instances (watchtower, solver, 2-of-3 oracles), each its own key and SQLite"
    })
    .await?;
    let mut relayers = match Relayers::new(&mut net, &options.state_dir, options.seed).await {
        Ok(r) => r,
        Err(e) => {
            net.shutdown();
            return Err(e);
        }
    };
    net.watch_services(relayers.instances.iter().map(|i| i.db.clone()).collect());
    if let Err(e) = relayers.start_all().await {
        relayers.kill_all().await;
        net.shutdown();
        return Err(e);
    }
    for i in &relayers.instances {
        let log = i
            .log_file()
            .map(|l| format!(", log {}", l.display()))
            .unwrap_or_default();
        net.note(format!(
            "{}: {} (SQLite {}{log})",
            i.name,
            i.account,
            i.db.file_name()
                .map(|f| f.to_string_lossy())
                .unwrap_or_default()
        ));
    }
    let before = net.balances(&actors).await?;

    let mut broker = None;
    let result = async {
        curation(&mut net).await?;
        chaos.point(&mut relayers).await?;
        let listing = listings_and_discovery(&mut net).await?;
        chaos.point(&mut relayers).await?;
        let (mqtt, closing) = super::streaming::run(
            &mut net,
            options,
            &mut relayers,
            &mut chaos,
            listing,
            &mut figures,
        )
        .await?;
        broker = Some(mqtt);
        rating(&mut net, listing).await?;
        chaos.point(&mut relayers).await?;
        super::tasks::run(
            &mut net,
            &mut relayers,
            &mut chaos,
            &mut figures,
            &options.state_dir,
        )
        .await?;
        super::streaming::finalize(&mut net, closing).await?;
        if net.is_localnet() {
            super::xchain::run(
                &mut net,
                &mut relayers,
                &options.state_dir,
                options.seed,
                &mut figures,
            )
            .await?;
        }
        net.close_step().await?;
        super::streaming::settlement_figures(&relayers, &mut figures)?;
        // No service effect was attempted twice: a second claim, attestation
        // or report would have been refused on chain and recorded as failed.
        let failed = relayers.failed_service_txs()?;
        check(failed == 0, || {
            format!("{failed} service transaction(s) failed on chain (a duplicated effect?)")
        })
    }
    .await;
    if let Err(e) = result {
        relayers.kill_all().await;
        net.shutdown();
        return Err(e);
    }

    let after = net.balances(&actors).await?;
    let crashes = chaos.crashes.clone();
    let report = Report {
        chain_id: net.chain_id.clone(),
        chain: net.describe(),
        start_height: net.start_height,
        end_height: net.height().await?,
        seed: options.seed,
        steps: net.steps().to_vec(),
        before,
        after,
        figures,
        wall_secs: started.elapsed().as_secs_f64(),
        crashes: crashes.len() as u32,
    };
    Ok((
        report,
        Running {
            net,
            relayers,
            crashes,
            broker,
        },
    ))
}

/// Sellers stake city tokens, apply, and are listed after the apply stage.
async fn curation(net: &mut Net) -> Result<(), DevnetError> {
    net.step("Sellers apply to the token-curated registry and get listed")
        .await?;
    let tcr = net.contract("tcr")?;
    let mut applies = vec![];
    for seller in SELLERS {
        let addr = net.addr(seller)?;
        net.exec(
            "deployer",
            "city-token",
            &json!({ "transfer": { "recipient": addr, "amount": (2 * STAKE).to_string() } }),
            vec![],
        )
        .await?;
        let apply =
            json!({ "apply": { "subject": addr, "data": format!("Qm{}", "S".repeat(44)) } });
        applies.push(Tx {
            actor: seller.to_string(),
            contract: "city-token".into(),
            msg: json!({ "send": {
                "contract": tcr,
                "amount": STAKE.to_string(),
                "msg": to_json_binary(&apply).map_err(json_err)?,
            } }),
            funds: vec![],
        });
    }
    net.exec_all(applies).await?;
    let params: Value = net.query("tcr", &json!({ "params": {} })).await?;
    let apply_secs = params["apply_stage_secs"].as_u64().unwrap_or(600);
    net.advance(apply_secs + 1).await?;
    let mut updates = vec![];
    for seller in SELLERS {
        updates.push(Tx {
            actor: seller.to_string(),
            contract: "tcr".into(),
            msg: json!({ "update_status": { "subject": net.addr(seller)? } }),
            funds: vec![],
        });
    }
    net.exec_all(updates).await?;
    for seller in SELLERS {
        let addr = net.addr(seller)?;
        let listed: Value = net
            .query("tcr", &json!({ "is_listed": { "subject": addr } }))
            .await?;
        check(listed["listed"] == json!(true), || {
            format!("{seller} should be listed after the apply stage: {listed}")
        })?;
    }
    net.note(format!(
        "{} sellers staked {STAKE} base units of CITY each and were listed after {apply_secs} s unchallenged",
        SELLERS.len()
    ));
    Ok(())
}

/// Sellers list streams; the buyer finds the air-quality one near the
/// Porta Nuova neighbourhood of Turin. Returns its listing id.
async fn listings_and_discovery(net: &mut Net) -> Result<u64, DevnetError> {
    net.step("Sellers list sensor streams in the data registry")
        .await?;
    let streams = [
        (
            "air-seller",
            "PM2.5 at Porta Nuova",
            "air-quality",
            "pm2.5",
            "ug/m3",
            ("45.0625", "7.6780"),
            "10",
        ),
        (
            "meter-seller",
            "Smart meters, San Salvario",
            "energy",
            "electricity-meter",
            "kWh",
            ("45.0560", "7.6840"),
            "25",
        ),
        (
            "air-seller",
            "NO2 at Lingotto",
            "air-quality",
            "no2",
            "ug/m3",
            ("45.0310", "7.6660"),
            "12",
        ),
    ];
    for (seller, title, category, sensor, unit, (lat, lon), price) in streams {
        let endpoint = format!("wss://{seller}.devnet.local/sdpp/{sensor}");
        net.exec(
            seller,
            "data-registry",
            &json!({ "create_listing": {
                "title": title,
                "description": format!("{sensor} every minute"),
                "category": category,
                "sensor_type": sensor,
                "unit": unit,
                "location": { "latitude": lat, "longitude": lon },
                "price": { "asset": { "native": DENOM }, "amount": price, "model": "per_message" },
                "metadata_cid": CID,
                "endpoint": endpoint,
                "terms": { "license": "CC-BY-4.0", "terms_hash": "07".repeat(32) }
            } }),
            vec![],
        )
        .await?;
    }
    net.note(format!(
        "{} listings created by curated sellers",
        streams.len()
    ));

    net.step("The buyer finds an air-quality stream by place and category")
        .await?;
    // The buyer stands at Porta Nuova station and asks for its ~5 km cell.
    let here = data_registry::validate::geohash(450_625_000, 76_780_000);
    let cell = &here[..5];
    let near: Value = net
        .query(
            "data-registry",
            &json!({ "listings_near": { "cell": cell, "start_after": null, "limit": 10 } }),
        )
        .await?;
    let by_category: Value = net
        .query(
            "data-registry",
            &json!({ "listings_by_category": { "category": "air-quality", "start_after": null, "limit": 10 } }),
        )
        .await?;
    let empty = vec![];
    let near = near["listings"].as_array().unwrap_or(&empty);
    let in_category = by_category["listings"].as_array().unwrap_or(&empty);
    let found = near
        .iter()
        .find(|l| l["category"] == "air-quality" && in_category.iter().any(|c| c["id"] == l["id"]))
        .ok_or_else(|| {
            DevnetError::Check(format!(
                "no air-quality listing in cell {cell} (near: {}, in category: {})",
                near.len(),
                in_category.len()
            ))
        })?;
    let id = found["id"]
        .as_u64()
        .ok_or_else(|| DevnetError::Check("listing without id".into()))?;
    net.note(format!(
        "cell {cell}: {} listing(s) near, {} in air-quality; picked #{id} \"{}\" at {} ustake/message",
        near.len(),
        in_category.len(),
        found["title"].as_str().unwrap_or(""),
        found["price"]["amount"].as_str().unwrap_or("?"),
    ));
    Ok(id)
}

/// The buyer, having paid through the channel, rates the listing. The
/// registry counts only payments for that listing (the verifier's
/// `paid_for_listing`); a payment channel that cannot answer it cannot be the
/// verifier, and the deploy spec then leaves the registry without one.
async fn rating(net: &mut Net, listing: u64) -> Result<(), DevnetError> {
    net.step(
        "The buyer rates the stream (purchase of this listing verified by the payment channel)",
    )
    .await?;
    let config: Value = net.query("data-registry", &json!({ "config": {} })).await?;
    if config["purchase_verifier"].is_null() {
        net.note(
            "ratings are off: the payment channel does not answer paid_for_listing yet (deploy.example.toml)",
        );
        return Ok(());
    }
    net.exec(
        "buyer",
        "data-registry",
        &json!({ "rate": { "id": listing, "score": 5, "review_cid": null } }),
        vec![],
    )
    .await?;
    let summary: Value = net
        .query(
            "data-registry",
            &json!({ "rating_summary": { "id": listing } }),
        )
        .await?;
    net.note(format!("rating summary: {summary}"));
    Ok(())
}

/// Coins of the devnet denom.
pub(super) fn coins(amount: u128) -> Vec<Coin> {
    vec![Coin::new(amount, DENOM)]
}

/// The buyer's channel deposit (streaming step).
pub(super) const CHANNEL_DEPOSIT: u128 = DEPOSIT;
