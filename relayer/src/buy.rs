//! `relayer buy`: the buyer's side of SDPP from the command line. Finds a
//! listing on chain (by id, or by category, place and price), shows its
//! terms and price, opens a payment channel to its seller or reuses the one
//! in the state directory (topping it up when low), streams the data as
//! JSONL to stdout or a file while paying with vouchers (ed25519 by default,
//! secp256k1), stops at `--max-spend` or `--duration`, and can rate the
//! listing afterwards. The state directory keeps the channel's voucher key
//! (0600) and the stream record, so the next run resumes where this one
//! stopped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use relayer::chain::{self, find_attr, query_smart, ChainReader};
use relayer::config::Config;
use relayer::daemon;
use relayer::services::gateway::buyer::{self, BuyerOptions};
use relayer::services::gateway::chain::{self as gwchain, Listing};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wevalue_sdpp::crypto::ChannelKeySigner;
use wevalue_sdpp::handshake::{ChannelRef, Scheme};
use wevalue_sdpp::{Asset, BuyerConfig, BuyerStream, PricingModel};

#[derive(Args)]
pub struct BuyArgs {
    /// Path to the TOML config (chain, signer: the buyer's account).
    #[arg(long, short, default_value = "relayer.toml")]
    pub config: PathBuf,
    /// The listing, by id.
    #[arg(long)]
    pub listing: Option<u64>,
    /// Or search: category slug (e.g. `air-quality`).
    #[arg(long)]
    pub category: Option<String>,
    /// Search: geohash cell the listing must lie in (e.g. `u0j2q`).
    #[arg(long)]
    pub near: Option<String>,
    /// Search: highest price per unit (base units).
    #[arg(long)]
    pub max_price: Option<u128>,
    /// Search: pricing model (per_message, per_second, per_kilobyte).
    #[arg(long, default_value = "per_message")]
    pub model: String,
    /// Search: the native denom prices are in.
    #[arg(long, default_value = "ustake")]
    pub denom: String,
    /// Channel deposit when opening, and top-up amount (base units).
    #[arg(long, default_value_t = 1_000_000)]
    pub deposit: u128,
    /// Top up when less than this is left on the channel.
    #[arg(long, default_value_t = 100_000)]
    pub top_up_below: u128,
    /// Voucher scheme of a new channel: ed25519 or secp256k1.
    #[arg(long, default_value = "ed25519")]
    pub scheme: String,
    /// Spend at most this much in this run (base units).
    #[arg(long)]
    pub max_spend: Option<u128>,
    /// Stop after this many seconds.
    #[arg(long)]
    pub duration: Option<u64>,
    /// Write the data here (JSONL) instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where the voucher key and the stream record are kept.
    #[arg(long, default_value = "buyer-state")]
    pub state_dir: PathBuf,
    /// Extra root certificates (PEM) for a wss endpoint.
    #[arg(long)]
    pub roots: Option<PathBuf>,
    /// Rate the listing afterwards, 1 to 5.
    #[arg(long)]
    pub rate: Option<u8>,
}

/// What the state directory remembers per listing.
#[derive(Serialize, Deserialize)]
struct Saved {
    channel: u64,
    scheme: Scheme,
    /// The voucher key's secret (hex); the file is 0600.
    secret: String,
    stream: Option<BuyerStream>,
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp).with_context(|| tmp.display().to_string())?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| path.display().to_string())?;
    Ok(())
}

async fn find(args: &BuyArgs, chain: &dyn ChainReader, registry: &str) -> Result<Listing> {
    if let Some(id) = args.listing {
        return gwchain::listing(chain, registry, id)
            .await
            .with_context(|| format!("listing {id}"));
    }
    let model: PricingModel = serde_json::from_value(json!(args.model)).context("--model")?;
    let query = match (&args.near, &args.category) {
        (Some(cell), _) => {
            json!({ "listings_near": { "cell": cell, "start_after": null, "limit": 30 } })
        }
        (None, Some(category)) => json!({ "listings_by_price": {
            "category": category, "asset": { "native": args.denom }, "model": model,
            "min_price": null, "max_price": args.max_price.map(|p| p.to_string()),
            "start_after": null, "limit": 30 } }),
        (None, None) => bail!("name a --listing, or search with --category and/or --near"),
    };
    let page: data_registry::msg::ListingsResponse = query_smart(chain, registry, &query).await?;
    let mut found = vec![];
    for info in page.listings {
        let l = gwchain::listing_from(info)?;
        let ok = l.active
            && args.category.as_ref().is_none_or(|c| &l.category == c)
            && l.price.model == model
            && l.price.asset == Asset::Native(args.denom.clone())
            && args.max_price.is_none_or(|m| l.price.amount.0 <= m);
        if ok {
            found.push(l);
        }
    }
    found.sort_by_key(|l| (l.price.amount.0, l.id));
    found
        .into_iter()
        .next()
        .context("no active listing matches the search")
}

/// Runs `relayer buy`.
pub async fn buy(args: BuyArgs, config: Config) -> Result<()> {
    let connected = daemon::connect(&config).await?;
    let result = run(&args, &config, &connected).await;
    connected.shutdown();
    result
}

async fn run(args: &BuyArgs, config: &Config, connected: &daemon::Connected) -> Result<()> {
    let chain = connected.chain.as_ref();
    let reader = connected.reader.as_ref();
    let deployment = daemon::prepare_deployment(config, connected).await?;
    let registry = daemon::resolve_contract(&deployment, "data-registry")?;
    let channels = daemon::resolve_contract(&deployment, "payment-channel")?;
    let prefix = bech32::decode(&channels)
        .map(|(hrp, _)| hrp.to_string())
        .context("payment-channel address")?;
    let chain_id = chain.chain_id().to_string();
    let timeout = Duration::from_secs(60);

    let listing = find(args, reader, &registry).await?;
    eprintln!(
        "listing {} by {}: {} {} per {:?}, licence {}, terms sha256 {:?}, endpoint {}",
        listing.id,
        listing.seller,
        listing.price.amount,
        match &listing.price.asset {
            Asset::Native(d) => d.clone(),
            Asset::Cw20(a) => a.clone(),
        },
        listing.price.model,
        listing.terms.license,
        listing.terms.terms_hash,
        listing.endpoint
    );
    if !listing.active {
        bail!("listing {} is not active", listing.id);
    }
    let Asset::Native(denom) = listing.price.asset.clone() else {
        bail!("cw20-priced listings are bought through the token's send hook; not supported here");
    };

    std::fs::create_dir_all(&args.state_dir)?;
    let path = args.state_dir.join(format!("listing-{}.json", listing.id));
    let mut saved: Option<Saved> = match std::fs::read(&path) {
        Ok(b) => Some(serde_json::from_slice(&b).with_context(|| path.display().to_string())?),
        Err(_) => None,
    };
    // Reuse the channel if it is still open; top it up when low.
    if let Some(s) = &saved {
        match gwchain::channel(reader, &channels, s.channel).await {
            Ok(c) if c.open => {
                let paid = s.stream.as_ref().map_or(0, |st| st.paid.0);
                if c.deposit.saturating_sub(paid) < args.top_up_below {
                    chain::execute(
                        chain,
                        &channels,
                        &json!({ "top_up": { "channel_id": c.id } }),
                        vec![cosmwasm_std::Coin::new(args.deposit, denom.clone())],
                        timeout,
                    )
                    .await?;
                    eprintln!("channel {}: topped up by {} {denom}", c.id, args.deposit);
                }
            }
            _ => {
                eprintln!("channel {} is closed or gone: opening a new one", s.channel);
                saved = None;
            }
        }
    }
    let mut saved = match saved {
        Some(s) => s,
        None => {
            let scheme: Scheme = serde_json::from_value(json!(args.scheme)).context("--scheme")?;
            if scheme == Scheme::Adr036 {
                bail!("--scheme adr036 signs with a wallet; use ed25519 or secp256k1 here");
            }
            let mut secret = [0u8; 32];
            getrandom::getrandom(&mut secret).context("no OS randomness")?;
            let probe =
                ChannelKeySigner::from_secret(scheme, secret, &prefix, &chain_id, &channels, 0)?;
            let out = chain::execute(chain, &channels, &json!({ "open": {
                    "payee": listing.seller, "pubkey": cosmwasm_std::Binary::from(probe.public_key()),
                    "scheme": scheme, "challenge_period": null,
                    "listing": { "registry": registry, "listing_id": listing.id } } }),
                vec![cosmwasm_std::Coin::new(args.deposit, denom.clone())], timeout).await?;
            let id: u64 = find_attr(&out.events, "wasm", "channel_id")
                .context("open emitted no channel_id")?
                .parse()?;
            eprintln!("channel {id} opened with {} {denom}", args.deposit);
            let s = Saved {
                channel: id,
                scheme,
                secret: hex::encode(secret),
                stream: None,
            };
            write_private(&path, &serde_json::to_vec_pretty(&s)?)?;
            s
        }
    };
    let secret: [u8; 32] = hex::decode(&saved.secret)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("stored key is not 32 bytes"))?;
    let signer = ChannelKeySigner::from_secret(
        saved.scheme,
        secret,
        &prefix,
        &chain_id,
        &channels,
        saved.channel,
    )?;
    let channel = gwchain::channel(reader, &channels, saved.channel).await?;
    let already = saved.stream.as_ref().map_or(0, |s| s.paid.0);
    let mut opts = BuyerOptions::new(
        listing.endpoint.clone(),
        BuyerConfig {
            max_amount: args.max_spend.map(|m| already.saturating_add(m)),
            max_payload: 1 << 20,
            ..listing.buyer_config(
                &chain_id,
                &registry,
                ChannelRef {
                    contract: channels.clone(),
                    id: saved.channel,
                    scheme: saved.scheme,
                },
                channel.deposit,
            )
        },
    );
    opts.duration = args.duration.map(Duration::from_secs);
    opts.roots_pem = args.roots.clone();
    let mut out: Box<dyn Write + Send> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)?,
        )),
        None => Box::new(std::io::stdout()),
    };
    let record = |stream: &BuyerStream| -> Result<(), String> {
        let s = Saved {
            channel: saved.channel,
            scheme: saved.scheme,
            secret: saved.secret.clone(),
            stream: Some(stream.clone()),
        };
        serde_json::to_vec(&s)
            .map_err(|e| e.to_string())
            .and_then(|b| write_private(&path, &b).map_err(|e| e.to_string()))
    };
    let (stream, report) = buyer::run(
        &opts,
        &signer,
        saved.stream.take(),
        |d| {
            // Sensor payloads are JSON; anything else is wrapped.
            let line = match serde_json::from_slice::<Value>(d.payload) {
                Ok(v) => v.to_string(),
                Err(_) => {
                    json!({ "seq": d.seq, "payload_hex": hex::encode(d.payload) }).to_string()
                }
            };
            let _ = writeln!(out, "{line}");
        },
        record,
    )
    .await?;
    out.flush()?;
    eprintln!(
        "{} chunks ({} bytes) on this connection; stream at chunk {}, {} units, {} paid in all; seller close: {:?}; refused: {:?}",
        report.chunks,
        report.bytes,
        stream.received.seq,
        stream.received.units,
        stream.paid,
        report.seller_close,
        report.refused.as_ref().map(|e| e.to_string())
    );
    if let Some(score) = args.rate {
        if !(1..=5).contains(&score) {
            bail!("--rate must be 1 to 5");
        }
        chain::execute(
            chain,
            &registry,
            &json!({ "rate": { "id": listing.id, "score": score, "review_cid": null } }),
            vec![],
            timeout,
        )
        .await?;
        eprintln!("rated listing {} with {score}", listing.id);
    }
    if let Some(e) = report.refused {
        bail!("the seller was refused: {e}");
    }
    Ok(())
}
