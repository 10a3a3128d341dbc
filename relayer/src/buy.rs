//! `relayer buy`: the buyer's side of SDPP from the command line. Finds a
//! listing on chain (by id, or by category, place and price), shows its
//! terms and price, opens a payment channel to its seller or reuses the one
//! in the state directory, streams the data as JSONL to stdout or a file
//! while paying with vouchers (ed25519 by default, secp256k1), and stops at
//! `--max-spend` or `--duration`. When the channel runs low it is topped up
//! and the stream resumed; a dropped connection or a gateway that is
//! restarting is retried for `--retry-for` seconds. It can rate the listing
//! afterwards. The state directory keeps the channel's voucher key (0600)
//! and the stream record, so the next run resumes where this one stopped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use relayer::chain::{self, find_attr, query_smart, ChainReader};
use relayer::config::Config;
use relayer::daemon;
use relayer::services::gateway::buyer::{self, BuyerError, BuyerOptions, BuyerReport};
use relayer::services::gateway::chain::{self as gwchain, Listing};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::time::Instant;
use wevalue_sdpp::crypto::ChannelKeySigner;
use wevalue_sdpp::handshake::{ChannelRef, Scheme};
use wevalue_sdpp::{Asset, BuyerConfig, BuyerStream, ErrorCode, PricingModel};

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
    #[arg(long, default_value = "per_message", value_parser = parse_model)]
    pub model: PricingModel,
    /// Search: the native denom prices are in.
    #[arg(long, default_value = "ustake")]
    pub denom: String,
    /// Channel deposit when opening, and top-up amount (base units).
    #[arg(long, default_value_t = 1_000_000)]
    pub deposit: u128,
    /// Top up before (re)connecting when less than this is left on the
    /// channel for the stream (the deposit minus what is owed); a stream
    /// stopped by the deposit is always topped up.
    #[arg(long, default_value_t = 100_000)]
    pub top_up_below: u128,
    /// Voucher scheme of a new channel: ed25519 or secp256k1.
    #[arg(long, default_value = "ed25519", value_parser = parse_scheme)]
    pub scheme: Scheme,
    /// Spend at most this much in this run (base units).
    #[arg(long)]
    pub max_spend: Option<u128>,
    /// Stop after this many seconds.
    #[arg(long)]
    pub duration: Option<u64>,
    /// Keep reconnecting (resuming the stream) for this many seconds after
    /// a dropped connection or an unreachable or restarting gateway.
    #[arg(long, default_value_t = 30)]
    pub retry_for: u64,
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
    /// How long a first rating waits for the seller to claim enough of the
    /// vouchers on chain (the registry counts claimed payments only), seconds.
    #[arg(long, default_value_t = 120)]
    pub rate_wait: u64,
}

fn parse_model(s: &str) -> Result<PricingModel, String> {
    serde_json::from_value(json!(s))
        .map_err(|_| format!("`{s}`: per_message, per_second or per_kilobyte"))
}

/// The schemes a key generated here can sign with (ADR-036 needs a wallet).
fn parse_scheme(s: &str) -> Result<Scheme, String> {
    match s {
        "ed25519" => Ok(Scheme::Ed25519),
        "secp256k1" => Ok(Scheme::Secp256k1),
        "adr036" => Err("adr036 signs with a wallet; use ed25519 or secp256k1 here".into()),
        _ => Err(format!("`{s}`: ed25519 or secp256k1")),
    }
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
    let model = args.model;
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

/// The chain and contracts a run works with.
struct Ctx<'a> {
    args: &'a BuyArgs,
    chain: &'a dyn chain::Chain,
    reader: &'a dyn ChainReader,
    registry: String,
    channels: String,
    denom: String,
    listing: Listing,
}

const TX_TIMEOUT: Duration = Duration::from_secs(60);

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
    let ctx = Ctx {
        args,
        chain,
        reader,
        registry,
        channels,
        denom,
        listing,
    };

    std::fs::create_dir_all(&args.state_dir)?;
    let path = args
        .state_dir
        .join(format!("listing-{}.json", ctx.listing.id));
    let saved = open_or_reuse(&ctx, &path, &prefix, &chain_id).await?;
    let secret: [u8; 32] = hex::decode(&saved.secret)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("stored key is not 32 bytes"))?;
    let signer = ChannelKeySigner::from_secret(
        saved.scheme,
        secret,
        &prefix,
        &chain_id,
        &ctx.channels,
        saved.channel,
    )?;
    let summary = stream(&ctx, &saved, &path, &signer, &chain_id).await?;
    eprintln!(
        "stream at chunk {}, {} units, {} paid in all; {} chunks written, {} top-ups, {} connections; stopped: {}",
        summary.stream.received.seq,
        summary.stream.received.units,
        summary.stream.paid,
        summary.written,
        summary.top_ups,
        summary.connections,
        summary.stop
    );
    if let Some(score) = args.rate {
        rate(&ctx, score).await?;
    }
    Ok(())
}

/// The saved channel if it is still open, else a new one (key generated
/// here, the record written before anything is streamed).
async fn open_or_reuse(ctx: &Ctx<'_>, path: &Path, prefix: &str, chain_id: &str) -> Result<Saved> {
    let args = ctx.args;
    if let Ok(bytes) = std::fs::read(path) {
        let s: Saved =
            serde_json::from_slice(&bytes).with_context(|| path.display().to_string())?;
        match gwchain::channel(ctx.reader, &ctx.channels, s.channel).await {
            Ok(c) if c.open => return Ok(s),
            Ok(_) | Err(gwchain::LookupError::NotFound) => {
                // Its record is kept aside, never overwritten.
                let old = path.with_extension(format!("channel-{}.json", s.channel));
                std::fs::rename(path, &old).with_context(|| old.display().to_string())?;
                eprintln!(
                    "channel {} is closed or gone (its record is now {}): opening a new one",
                    s.channel,
                    old.display()
                );
            }
            // A chain that cannot answer now is no reason to open another channel.
            Err(e) => return Err(e).with_context(|| format!("reading channel {}", s.channel)),
        }
    }
    let scheme = args.scheme;
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret).context("no OS randomness")?;
    let probe = ChannelKeySigner::from_secret(scheme, secret, prefix, chain_id, &ctx.channels, 0)?;
    let open = json!({ "open": {
        "payee": ctx.listing.seller, "pubkey": cosmwasm_std::Binary::from(probe.public_key()),
        "scheme": scheme, "challenge_period": null,
        "listing": { "registry": ctx.registry, "listing_id": ctx.listing.id } } });
    let funds = vec![cosmwasm_std::Coin::new(args.deposit, ctx.denom.clone())];
    let out = chain::execute(ctx.chain, &ctx.channels, &open, funds, TX_TIMEOUT).await?;
    let id: u64 = find_attr(&out.events, "wasm", "channel_id")
        .context("open emitted no channel_id")?
        .parse()?;
    eprintln!("channel {id} opened with {} {}", args.deposit, ctx.denom);
    let s = Saved {
        channel: id,
        scheme,
        secret: hex::encode(secret),
        stream: None,
    };
    write_private(path, &serde_json::to_vec_pretty(&s)?)?;
    Ok(s)
}

/// How a run's streaming ended.
struct Summary {
    stream: BuyerStream,
    written: u64,
    top_ups: u32,
    connections: u32,
    stop: String,
}

/// Whether a failed connection attempt may succeed later (the gateway is
/// down or restarting, the network dropped), as opposed to a refusal.
fn transient(e: &BuyerError) -> bool {
    match e {
        BuyerError::Connect { .. } | BuyerError::Ws(_) | BuyerError::Timeout(_) => true,
        BuyerError::Refused { code, .. } => matches!(
            code,
            ErrorCode::Unavailable | ErrorCode::ShuttingDown | ErrorCode::ChannelInUse
        ),
        _ => false,
    }
}

/// Connects, streams and pays until the spend cap, the duration or the
/// seller ends it: tops the channel up when it runs low (a session's limit
/// is fixed at its handshake, so the stream resumes on a new connection),
/// and reconnects after a drop for up to `--retry-for`.
async fn stream(
    ctx: &Ctx<'_>,
    saved: &Saved,
    path: &Path,
    signer: &ChannelKeySigner,
    chain_id: &str,
) -> Result<Summary> {
    let args = ctx.args;
    let price = ctx.listing.price.amount.0;
    let mut stream = saved.stream.clone();
    let already = stream.as_ref().map_or(0, |s| s.paid.0);
    // The highest cumulative voucher this run may sign.
    let cap = args.max_spend.map(|m| already.saturating_add(m));
    let deadline = args
        .duration
        .map(|d| Instant::now() + Duration::from_secs(d));
    let retry_for = Duration::from_secs(args.retry_for);
    let mut out: Box<dyn Write + Send> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| p.display().to_string())?,
        )),
        None => Box::new(std::io::stdout()),
    };
    let mut written = 0u64;
    let mut write_error: Option<std::io::Error> = None;
    let mut record = |s: &BuyerStream| -> Result<(), String> {
        let rec = Saved {
            channel: saved.channel,
            scheme: saved.scheme,
            secret: saved.secret.clone(),
            stream: Some(s.clone()),
        };
        serde_json::to_vec(&rec)
            .map_err(|e| e.to_string())
            .and_then(|b| write_private(path, &b).map_err(|e| e.to_string()))
    };
    let channel_ref = ChannelRef {
        contract: ctx.channels.clone(),
        id: saved.channel,
        scheme: saved.scheme,
    };
    let (mut top_ups, mut connections) = (0u32, 0u32);
    let mut must_top_up = false;
    let mut retrying: Option<(Instant, Duration)> = None;
    let stop = loop {
        let owed = stream
            .as_ref()
            .map_or(Some(0), |s| s.received.owed(price))
            .context("the amount owed overflows")?;
        if cap.is_some_and(|c| c.saturating_sub(owed) < price) {
            break "the spend cap is reached".to_string();
        }
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if remaining.is_some_and(|r| r.is_zero()) {
            break "the duration is over".to_string();
        }
        let mut channel = gwchain::channel(ctx.reader, &ctx.channels, saved.channel).await?;
        if !channel.open {
            bail!("channel {} is closing or closed", channel.id);
        }
        // Topped up because the deposit stopped the last session.
        let forced = std::mem::take(&mut must_top_up);
        if forced || channel.deposit.saturating_sub(owed) < args.top_up_below {
            let msg = json!({ "top_up": { "channel_id": channel.id } });
            let funds = vec![cosmwasm_std::Coin::new(args.deposit, ctx.denom.clone())];
            chain::execute(ctx.chain, &ctx.channels, &msg, funds, TX_TIMEOUT).await?;
            channel = gwchain::channel(ctx.reader, &ctx.channels, saved.channel).await?;
            top_ups += 1;
            eprintln!(
                "channel {}: topped up by {} {}, deposit now {}",
                channel.id, args.deposit, ctx.denom, channel.deposit
            );
        }
        let mut opts = BuyerOptions::new(
            ctx.listing.endpoint.clone(),
            BuyerConfig {
                max_amount: cap,
                max_payload: 1 << 20,
                ..ctx.listing.buyer_config(
                    chain_id,
                    &ctx.registry,
                    channel_ref.clone(),
                    channel.deposit,
                )
            },
        );
        opts.duration = remaining;
        opts.roots_pem = args.roots.clone();
        connections += 1;
        let on_data = |d: &wevalue_sdpp::frame::Data<'_>| {
            // An empty chunk is a per-second heartbeat: time billed, no data.
            if d.payload.is_empty() || write_error.is_some() {
                return;
            }
            // Sensor payloads are JSON; anything else is wrapped.
            let line = match serde_json::from_slice::<Value>(d.payload) {
                Ok(v) => v.to_string(),
                Err(_) => {
                    json!({ "seq": d.seq, "payload_hex": hex::encode(d.payload) }).to_string()
                }
            };
            // Flushed per chunk: the record already counts it as received.
            match writeln!(out, "{line}").and_then(|()| out.flush()) {
                Ok(()) => written += 1,
                Err(e) => write_error = Some(e),
            }
        };
        let result = buyer::run(&opts, signer, stream.clone(), on_data, &mut record).await;
        if let Some(e) = write_error.take() {
            bail!("writing the data: {e}");
        }
        let (report, retry_reason): (Option<BuyerReport>, String) = match result {
            Ok((s, report)) => {
                stream = Some(s);
                if let Some(e) = &report.refused {
                    bail!("the seller was refused: {e}");
                }
                (Some(report), String::new())
            }
            Err(e) if transient(&e) => (None, e.to_string()),
            Err(e) => return Err(e.into()),
        };
        if let Some(report) = report {
            if report.chunks > 0 {
                retrying = None;
            }
            if report.stopped {
                break "the duration is over".to_string();
            }
            match &report.seller_close {
                Some((ErrorCode::LimitReached, _)) => {
                    // The session's limit was min(deposit, cap): which one bound it?
                    if cap.is_some_and(|c| c <= channel.deposit) {
                        break "the spend cap is reached".to_string();
                    }
                    if forced && report.chunks == 0 {
                        bail!(
                            "a top-up of {} does not cover the next chunk; raise --deposit",
                            args.deposit
                        );
                    }
                    must_top_up = true;
                    continue;
                }
                Some((ErrorCode::Normal, reason)) => {
                    break format!("the seller ended the stream ({reason})")
                }
                Some((code @ (ErrorCode::ShuttingDown | ErrorCode::Unavailable), reason)) => {
                    eprintln!("the seller paused the stream: {code} {reason}; reconnecting");
                }
                Some((code, reason)) => bail!("the seller closed the stream: {code} {reason}"),
                None if report.dropped => eprintln!("the connection dropped; reconnecting"),
                // Closed without the seller's answer (it went quiet).
                None => eprintln!("the seller did not answer the close; reconnecting"),
            }
        } else {
            eprintln!("no connection ({retry_reason}); retrying");
        }
        // Reconnect after a pause, within the retry window.
        let (since, delay) = retrying.get_or_insert((Instant::now(), Duration::from_millis(200)));
        if since.elapsed() > retry_for {
            bail!(
                "no progress for {}s of reconnecting; last: {}",
                retry_for.as_secs(),
                if retry_reason.is_empty() {
                    "dropped"
                } else {
                    &retry_reason
                }
            );
        }
        tokio::time::sleep(*delay).await;
        *delay = (*delay * 2).min(Duration::from_secs(2));
    };
    let stream = stream.unwrap_or_else(|| BuyerStream::new(ctx.listing.id, saved.channel));
    Ok(Summary {
        stream,
        written,
        top_ups,
        connections,
        stop,
    })
}

/// Rates the listing. A first rating needs payments the seller has claimed
/// on chain (the registry asks the payment channel's `paid_for_listing`);
/// vouchers the seller holds but has not claimed yet do not count, so this
/// waits up to `--rate-wait` for them. A revision needs no new payment.
async fn rate(ctx: &Ctx<'_>, score: u8) -> Result<()> {
    if !(1..=5).contains(&score) {
        bail!("--rate must be 1 to 5");
    }
    let id = ctx.listing.id;
    let me = ctx.chain.sender().to_string();
    let config: data_registry::msg::ConfigResponse =
        query_smart(ctx.reader, &ctx.registry, &json!({ "config": {} })).await?;
    let Some(verifier) = config.purchase_verifier else {
        bail!("the data registry has no purchase verifier: ratings are disabled");
    };
    let rated_before = query_smart::<_, Value>(
        ctx.reader,
        &ctx.registry,
        &json!({ "rating": { "id": id, "buyer": me } }),
    )
    .await
    .is_ok();
    if !rated_before {
        let need = ctx
            .listing
            .price
            .amount
            .0
            .saturating_mul(u128::from(config.min_rating_units));
        let deadline = Instant::now() + Duration::from_secs(ctx.args.rate_wait);
        let query = json!({ "paid_for_listing": {
            "payer": me, "payee": ctx.listing.seller, "registry": ctx.registry, "listing_id": id } });
        loop {
            let paid: Value = query_smart(ctx.reader, verifier.as_str(), &query).await?;
            let claimed = claimed_in(&paid, &ctx.denom);
            if claimed >= need {
                break;
            }
            if Instant::now() >= deadline {
                // The registry's refusal below says why, with the figures.
                eprintln!("the seller has claimed {claimed} of the {need} a first rating needs");
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let msg = json!({ "rate": { "id": id, "score": score, "review_cid": null } });
    let out = chain::execute(ctx.chain, &ctx.registry, &msg, vec![], TX_TIMEOUT)
        .await
        .with_context(|| format!("rating listing {id}"))?;
    let revision = find_attr(&out.events, "wasm", "revision").unwrap_or_default();
    eprintln!("rated listing {id} with {score} (revision: {revision})");
    Ok(())
}

/// The amount of `denom` in a `paid_for_listing` answer.
fn claimed_in(paid: &Value, denom: &str) -> u128 {
    paid["paid"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["info"]["native"] == denom)
        .filter_map(|a| a["amount"].as_str()?.parse::<u128>().ok())
        .sum()
}
