//! `relayer`: the WeValue relayer daemon and its operator commands.

mod buy;
mod cli;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use relayer::chain;
use relayer::config::{Config, LogFormat, DEFAULT_MNEMONIC_ENV};
use relayer::daemon;
use relayer::deploy::DeploySpec;
use tracing_subscriber::EnvFilter;

use cli::{KeysCommand, OutboxCommand};

#[derive(Parser)]
#[command(
    name = "relayer",
    version,
    about = "WeValue relayer: watchtower and settlement bridge, oracle, matching solver; chain access, outbox, deploy, devnet"
)]
struct Cli {
    /// Log format (overrides `log.format`).
    #[arg(long, global = true, value_parser = ["text", "json"])]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct ConfigArg {
    /// Path to the TOML config.
    #[arg(long, short, default_value = "relayer.toml")]
    config: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// The main job: a chain (embedded, or a running wasmd localnet with
    /// `--chain localnet`), the whole suite, the relayer services, and the
    /// smart-city scenario end to end with a report. Exits 0 when every step
    /// checked out. (Built with the default `embedded` feature.)
    #[cfg(feature = "embedded")]
    Devnet(DevnetArgs),
    /// Run the daemon until SIGINT/SIGTERM.
    Run(ConfigArg),
    /// Check the node and the signer as `run` does before starting: chain
    /// id, CometBFT version and RPC dialect, tx indexing, minimum gas price,
    /// the signer's account and balance. Prints JSON; exits 1 naming what
    /// is wrong.
    HealthCheck(ConfigArg),
    /// Store and instantiate contracts from a deploy spec; idempotent.
    Deploy {
        #[command(flatten)]
        config: ConfigArg,
        /// Deploy spec (default: `deploy.spec` from the config).
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Deployment JSON to read and write (default: `deploy.deployment_file`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Smart query by contract name (deployment key) or address; prints JSON.
    Query {
        #[command(flatten)]
        config: ConfigArg,
        /// Contract name or address.
        contract: String,
        /// Query message JSON.
        msg: String,
    },
    /// Execute a message by contract name or address; prints the outcome.
    Execute {
        #[command(flatten)]
        config: ConfigArg,
        /// Contract name or address.
        contract: String,
        /// Execute message JSON.
        msg: String,
        /// Funds to send, e.g. `100ustake,5uatom`.
        #[arg(long, default_value = "")]
        funds: String,
    },
    /// Key management: show, add (--recover), list, delete.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The transaction outbox: list, show, retry, abandon.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// IBC payouts the bridge followed (JSON lines, newest first): status,
    /// latency in blocks and seconds.
    Payouts(cli::PayoutsArgs),
    /// Buy a data stream: find a listing, open or reuse a channel, stream
    /// it as JSONL while paying per unit (SDPP), optionally rate it.
    Buy(buy::BuyArgs),
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[cfg(feature = "embedded")]
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DevnetChain {
    /// cw-multi-test in this process; time jumps over the scenario's periods.
    Embedded,
    /// A running two-chain wasmd localnet (`ci/localnet.sh up all`); the
    /// relayer instances run as separate processes of this binary, and the
    /// scenario gains its cross-chain steps (a hub-funded channel, a payout
    /// on the hub).
    Localnet,
}

#[cfg(feature = "embedded")]
#[derive(Args)]
struct DevnetArgs {
    /// Which chain the scenario runs on.
    #[arg(long, value_enum, default_value = "embedded")]
    chain: DevnetChain,
    /// The localnet's state folder, holding `localnet.json` (`--chain localnet`).
    #[arg(long, env = "WEVALUE_LOCALNET_DIR", default_value = ".localnet")]
    localnet_dir: PathBuf,
    /// The localnet's test actors (`--chain localnet`).
    #[arg(long, default_value = "ci/localnet/accounts.json")]
    accounts: PathBuf,
    /// Seed of keys, meter readings and voucher amounts.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// PM2.5 messages the buyer streams and pays for, a voucher every 32
    /// (at least 10; default 5,000 on the embedded chain, 300 on a localnet).
    #[arg(long)]
    vouchers: Option<u32>,
    /// Directory of the optimized wasm (code checksums).
    #[arg(long, default_value = "artifacts")]
    artifacts: PathBuf,
    /// Directory for the services' SQLite files (emptied first).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    report_json: Option<PathBuf>,
    /// Keep the chain and services running afterwards, with /metrics and
    /// /health on localhost, until SIGINT/SIGTERM.
    #[arg(long)]
    serve: bool,
    /// Port of /metrics and /health with --serve (0 = any free port).
    #[arg(long, default_value_t = 9464)]
    metrics_port: u16,
    /// Log level (e.g. `info`, `relayer=debug`); RUST_LOG wins.
    #[arg(long, default_value = "warn")]
    log_level: String,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Check a config file; names every bad field.
    Validate(ConfigArg),
}

fn init_logging(level: &str, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn load_config(path: &Path) -> Result<Config> {
    Config::load(path).with_context(|| format!("loading config {}", path.display()))
}

fn log_format(cli: &Option<String>, config: Option<&Config>) -> LogFormat {
    match cli.as_deref() {
        Some("json") => LogFormat::Json,
        Some(_) => LogFormat::Text,
        None => config.map(|c| c.log.format).unwrap_or_default(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => tracing::info!("SIGINT received"),
            _ = term.recv() => tracing::info!("SIGTERM received"),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    take_secrets(&cli.command)?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(run(cli))
}

/// Moves the mnemonic variable a command will read out of the environment
/// while this process still has one thread (`keys::take_env_secret` says
/// why); the command reads it from memory later, once.
fn take_secrets(command: &Command) -> Result<()> {
    // Validation errors are the command's to report; here only the name.
    let configured = |path: &Path| {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|text| Config::from_toml(&text, "").ok())
            .map(|c| c.signer.mnemonic_env)
            .unwrap_or_else(|| DEFAULT_MNEMONIC_ENV.to_string())
    };
    let var = match command {
        Command::Run(arg) | Command::HealthCheck(arg) => Some(configured(&arg.config)),
        Command::Deploy { config, .. }
        | Command::Query { config, .. }
        | Command::Execute { config, .. } => Some(configured(&config.config)),
        Command::Buy(args) => Some(configured(&args.config)),
        Command::Keys {
            command:
                KeysCommand::Show {
                    key: None,
                    config,
                    mnemonic_env,
                    ..
                },
        } => Some(match (mnemonic_env, config) {
            (Some(var), _) => var.clone(),
            (None, Some(path)) => configured(path),
            (None, None) => DEFAULT_MNEMONIC_ENV.to_string(),
        }),
        _ => None,
    };
    match var.filter(|v| !v.is_empty()) {
        Some(var) => relayer::keys::take_env_secret(&var).map_err(anyhow::Error::msg),
        None => Ok(()),
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        #[cfg(feature = "embedded")]
        Command::Devnet(args) => devnet(args, &cli.log_format).await,
        Command::Config {
            command: ConfigCommand::Validate(arg),
        } => {
            let text = std::fs::read_to_string(&arg.config)
                .with_context(|| format!("reading {}", arg.config.display()))?;
            let mut config = Config::from_toml(&text, &arg.config.display().to_string())?;
            config.apply_env(|k| std::env::var(k).ok());
            let problems = config.problems();
            if problems.is_empty() {
                println!("{}: ok", arg.config.display());
                return Ok(());
            }
            for p in &problems {
                eprintln!("error: {p}");
            }
            bail!("{}: {} problem(s)", arg.config.display(), problems.len());
        }
        Command::Keys { command } => cli::keys(command, load_config),
        Command::Buy(args) => {
            let config = load_config(&args.config)?;
            init_logging("warn", log_format(&cli.log_format, Some(&config)));
            buy::buy(args, config).await
        }
        Command::Outbox { command } => cli::outbox(command, load_config),
        Command::Payouts(args) => cli::payouts(args, load_config).await,
        Command::Run(arg) => {
            let config = load_config(&arg.config)?;
            init_logging(
                &config.log.level,
                log_format(&cli.log_format, Some(&config)),
            );
            daemon::run(config, shutdown_signal(), |_| {}).await?;
            Ok(())
        }
        Command::HealthCheck(arg) => {
            let config = load_config(&arg.config)?;
            init_logging("warn", log_format(&cli.log_format, Some(&config)));
            let connected = daemon::connect(&config).await?;
            let health = daemon::health_check(&connected).await;
            connected.shutdown();
            match health? {
                None => {
                    println!(r#"{{"backend":"embedded","problems":[]}}"#);
                    Ok(())
                }
                Some(h) => {
                    println!("{}", serde_json::to_string_pretty(&h)?);
                    for p in &h.problems {
                        eprintln!("error: {p}");
                    }
                    if h.problems.is_empty() {
                        Ok(())
                    } else {
                        bail!("{}: {} problem(s)", h.rpc_url, h.problems.len())
                    }
                }
            }
        }
        Command::Deploy { config, spec, out } => {
            let config = load_config(&config.config)?;
            init_logging(
                &config.log.level,
                log_format(&cli.log_format, Some(&config)),
            );
            let spec_path = spec
                .or_else(|| config.deploy.spec.clone())
                .context("no deploy spec: pass --spec or set deploy.spec")?;
            let spec = DeploySpec::load(&spec_path)?;
            let out = out.unwrap_or_else(|| config.deploy.deployment_file.clone());
            let connected = daemon::connect(&config).await?;
            let result = daemon::deploy_to_file(&config, &connected.chain, &spec, &out).await;
            connected.shutdown();
            let (deployment, report) = result?;
            eprintln!(
                "deploy: stored {:?}, kept codes {:?}, instantiated {:?}, kept instances {:?}{}",
                report.stored,
                report.codes_kept,
                report.instantiated,
                report.contracts_kept,
                if report.is_noop() {
                    " (nothing to do)"
                } else {
                    ""
                }
            );
            println!("{}", serde_json::to_string_pretty(&deployment)?);
            Ok(())
        }
        Command::Query {
            config,
            contract,
            msg,
        } => {
            let config = load_config(&config.config)?;
            init_logging("warn", log_format(&cli.log_format, Some(&config)));
            let msg: serde_json::Value =
                serde_json::from_str(&msg).context("query message is not JSON")?;
            let connected = daemon::connect(&config).await?;
            let result = async {
                let deployment = daemon::prepare_deployment(&config, &connected).await?;
                let address = daemon::resolve_contract(&deployment, &contract)?;
                let raw = connected
                    .chain
                    .query_smart_raw(&address, &serde_json::to_vec(&msg)?)
                    .await?;
                let value: serde_json::Value = serde_json::from_slice(&raw)?;
                anyhow::Ok(value)
            }
            .await;
            connected.shutdown();
            println!("{}", serde_json::to_string_pretty(&result?)?);
            Ok(())
        }
        Command::Execute {
            config,
            contract,
            msg,
            funds,
        } => {
            let config = load_config(&config.config)?;
            init_logging("warn", log_format(&cli.log_format, Some(&config)));
            let msg: serde_json::Value =
                serde_json::from_str(&msg).context("execute message is not JSON")?;
            let funds = relayer::config::parse_coins(&funds)
                .map_err(anyhow::Error::msg)
                .context("--funds")?;
            let connected = daemon::connect(&config).await?;
            let result = async {
                let deployment = daemon::prepare_deployment(&config, &connected).await?;
                let address = daemon::resolve_contract(&deployment, &contract)?;
                let timeout = std::time::Duration::from_secs(
                    config
                        .chain
                        .cosmos
                        .as_ref()
                        .map(|c| c.inclusion_timeout_secs)
                        .unwrap_or(60),
                );
                let out = chain::execute(connected.chain.as_ref(), &address, &msg, funds, timeout)
                    .await?;
                anyhow::Ok(serde_json::json!({
                    "chain_id": connected.chain.chain_id(),
                    "sender": connected.chain.sender(),
                    "txhash": out.hash,
                    "height": out.height,
                    "gas_used": out.gas_used,
                    "gas_wanted": out.gas_wanted,
                    "events": out.events,
                }))
            }
            .await;
            connected.shutdown();
            println!("{}", serde_json::to_string_pretty(&result?)?);
            Ok(())
        }
    }
}

#[cfg(feature = "embedded")]
async fn devnet(args: DevnetArgs, format: &Option<String>) -> Result<()> {
    use relayer::devnet::{ChainChoice, LocalnetOptions};
    init_logging(&args.log_level, log_format(format, None));
    let (chain, vouchers) = match args.chain {
        DevnetChain::Embedded => (ChainChoice::Embedded, 5_000),
        DevnetChain::Localnet => (
            ChainChoice::Localnet(LocalnetOptions {
                dir: args.localnet_dir,
                accounts: args.accounts,
                relayer_exe: std::env::current_exe()
                    .context("finding this binary (the relayer processes run it)")?,
            }),
            300,
        ),
    };
    let options = relayer::devnet::DevnetOptions {
        chain,
        seed: args.seed,
        vouchers: args.vouchers.unwrap_or(vouchers),
        artifacts_dir: args.artifacts,
        state_dir: args.state_dir.unwrap_or_else(|| {
            std::env::temp_dir().join(format!("wevalue-devnet-{}", std::process::id()))
        }),
        ..relayer::devnet::DevnetOptions::default()
    };
    // Interrupted, the scenario is dropped where it stands: its relayer
    // processes and the MQTT broker are killed with it, no orphans.
    let (report, running) = tokio::select! {
        result = relayer::devnet::run(&options) => result.with_context(|| format!(
            "devnet scenario failed (configs, SQLite files and relayer logs in {})",
            options.state_dir.display()
        ))?,
        _ = shutdown_signal() => bail!("devnet interrupted; its relayer processes were stopped"),
    };
    println!("{report}");
    if let Some(path) = &args.report_json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.serve {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], args.metrics_port));
        let bound = running
            .serve(addr, shutdown_signal())
            .await
            .context("serving the devnet")?;
        eprintln!("devnet stopped (served on {bound})");
    } else {
        running.shutdown().await;
    }
    Ok(())
}
