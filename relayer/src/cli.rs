//! The operator commands of the binary: `relayer keys …` (a keyring of
//! 0600 mnemonic files) and `relayer outbox …` (inspect and steer the
//! transaction outbox of a state file).

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use relayer::config::{Config, DEFAULT_MNEMONIC_ENV};
use relayer::keys::{generate_mnemonic, hd_path, load_mnemonic, Keyring, Signer};
use relayer::store::{OutboxStatus, Store};
use zeroize::Zeroizing;

/// Where named keys live unless `--keyring` says otherwise.
pub const DEFAULT_KEYRING: &str = "keys";

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Print the address of the configured (or given) mnemonic or named key.
    Show {
        /// Config to take the signer settings and prefix from.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// A key of the keyring, by name.
        #[arg(long)]
        key: Option<String>,
        /// Keyring directory (with --key).
        #[arg(long, env = "WEVALUE_RELAYER_KEYRING", default_value = DEFAULT_KEYRING)]
        keyring: PathBuf,
        /// Environment variable holding the mnemonic.
        #[arg(long)]
        mnemonic_env: Option<String>,
        /// File holding the mnemonic (mode 0600).
        #[arg(long)]
        mnemonic_file: Option<PathBuf>,
        /// bech32 prefix.
        #[arg(long)]
        prefix: Option<String>,
        /// BIP44 account index.
        #[arg(long)]
        account_index: Option<u32>,
        /// Print only the address.
        #[arg(long)]
        address: bool,
    },
    /// Add a key to the keyring as a 0600 file: a new 24-word phrase
    /// (printed once), or with --recover an existing phrase of 12 to 24
    /// words read from standard input.
    Add {
        /// Name of the key.
        name: String,
        /// Read an existing phrase from standard input.
        #[arg(long)]
        recover: bool,
        /// Keyring directory.
        #[arg(long, env = "WEVALUE_RELAYER_KEYRING", default_value = DEFAULT_KEYRING)]
        keyring: PathBuf,
        /// bech32 prefix of the address printed.
        #[arg(long, default_value = "wasm")]
        prefix: String,
    },
    /// List the keyring's keys with their addresses.
    List {
        /// Keyring directory.
        #[arg(long, env = "WEVALUE_RELAYER_KEYRING", default_value = DEFAULT_KEYRING)]
        keyring: PathBuf,
        /// bech32 prefix of the addresses.
        #[arg(long, default_value = "wasm")]
        prefix: String,
    },
    /// Delete a key file from the keyring.
    Delete {
        /// Name of the key.
        name: String,
        /// Keyring directory.
        #[arg(long, env = "WEVALUE_RELAYER_KEYRING", default_value = DEFAULT_KEYRING)]
        keyring: PathBuf,
        /// Required: the phrase is gone for good unless backed up.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// Entries newest first (JSON lines).
    List {
        /// Path to the TOML config (its `state.path` is opened).
        #[arg(long, short, default_value = "relayer.toml")]
        config: PathBuf,
        /// Only entries of this status: pending, signed, broadcast, done, failed.
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// One entry with its messages and attempts (JSON).
    Show {
        /// Path to the TOML config.
        #[arg(long, short, default_value = "relayer.toml")]
        config: PathBuf,
        /// Entry id.
        id: i64,
    },
    /// Send a failed entry again: back to pending, signed anew at the
    /// daemon's next flush.
    Retry {
        /// Path to the TOML config.
        #[arg(long, short, default_value = "relayer.toml")]
        config: PathBuf,
        /// Entry id.
        id: i64,
    },
    /// Give up on an open entry (a tx already broadcast may still land).
    Abandon {
        /// Path to the TOML config.
        #[arg(long, short, default_value = "relayer.toml")]
        config: PathBuf,
        /// Entry id.
        id: i64,
        /// Why, recorded as the entry's last error.
        #[arg(long, default_value = "abandoned by the operator")]
        reason: String,
    },
}

/// `relayer payouts`: the bridge's record of IBC payouts (JSON lines,
/// newest first).
#[derive(clap::Args)]
pub struct PayoutsArgs {
    /// Path to the TOML config (its `state.path` and `[bridge]` are used).
    #[arg(long, short, default_value = "relayer.toml")]
    pub config: PathBuf,
    /// Only payouts of this status: in_flight, delivered, error_ack, timeout, settled.
    #[arg(long)]
    pub status: Option<String>,
    /// Only payouts with an id below this (the next page).
    #[arg(long)]
    pub before: Option<u64>,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

/// `relayer payouts …`.
pub async fn payouts(
    args: PayoutsArgs,
    load: impl Fn(&std::path::Path) -> Result<Config>,
) -> Result<()> {
    use relayer::services::bridge::{PayoutStatus, PayoutStore};
    let config = load(&args.config)?;
    let status = args
        .status
        .as_deref()
        .map(|s| {
            PayoutStatus::parse(s).with_context(|| {
                format!("--status {s:?}: in_flight, delivered, error_ack, timeout or settled")
            })
        })
        .transpose()?;
    let contract = if config.bridge.contract.is_empty() {
        let file = &config.deploy.deployment_file;
        let deployment = relayer::deploy::Deployment::load(file)?.with_context(|| {
            format!(
                "no deployment file at {}; set bridge.contract",
                file.display()
            )
        })?;
        relayer::daemon::resolve_contract(&deployment, "payment-channel")?
    } else {
        config.bridge.contract.clone()
    };
    let store = std::sync::Arc::new(open_store(&config)?);
    let payouts = PayoutStore::open(&store, &config.chain.id, &contract)?;
    for p in payouts.list(status, args.before, args.limit).await? {
        let mut line = serde_json::to_value(&p)?;
        line["amount"] = serde_json::Value::String(p.amount.to_string());
        line["latency_blocks"] = serde_json::json!(p.latency_blocks());
        line["latency_seconds"] = serde_json::json!(p.latency_seconds());
        println!("{line}");
    }
    Ok(())
}

fn signer_json(signer: &Signer, index: u32) -> serde_json::Value {
    serde_json::json!({
        "address": signer.address(),
        "pubkey": hex::encode(signer.public_key().to_bytes()),
        "hd_path": hd_path(index),
    })
}

/// `relayer keys …`.
pub fn keys(command: KeysCommand, load: impl Fn(&std::path::Path) -> Result<Config>) -> Result<()> {
    match command {
        KeysCommand::Show {
            config,
            key,
            keyring,
            mnemonic_env,
            mnemonic_file,
            prefix,
            account_index,
            address,
        } => {
            let config = config.map(|p| load(&p)).transpose()?;
            let prefix = prefix
                .or_else(|| config.as_ref().map(|c| c.chain.prefix.clone()))
                .unwrap_or_else(|| "wasm".into());
            let index = account_index
                .or_else(|| config.as_ref().map(|c| c.signer.account_index))
                .unwrap_or(0);
            let mnemonic = match key {
                Some(name) => Keyring::new(keyring)
                    .read(&name)
                    .map_err(anyhow::Error::msg)?,
                None => {
                    let env = mnemonic_env
                        .or_else(|| config.as_ref().map(|c| c.signer.mnemonic_env.clone()))
                        .unwrap_or_else(|| DEFAULT_MNEMONIC_ENV.to_string());
                    let file = mnemonic_file
                        .or_else(|| config.as_ref().and_then(|c| c.signer.mnemonic_file.clone()));
                    load_mnemonic(Some(&env), file.as_deref(), "--mnemonic-env")?
                }
            };
            let signer = Signer::from_mnemonic(&mnemonic, &prefix, index)?;
            if address {
                println!("{}", signer.address());
            } else {
                println!("{}", signer_json(&signer, index));
            }
            Ok(())
        }
        KeysCommand::Add {
            name,
            recover,
            keyring,
            prefix,
        } => {
            let phrase = if recover {
                let mut text = Zeroizing::new(String::new());
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("reading the phrase from standard input")?;
                text
            } else {
                generate_mnemonic()?
            };
            let signer = Signer::from_mnemonic(&phrase, &prefix, 0)?;
            let path = Keyring::new(keyring)
                .add(&name, &phrase)
                .map_err(anyhow::Error::msg)?;
            if !recover {
                eprintln!(
                    "new key {name}: write these 24 words down and keep them offline; \
                     they are shown once:\n\n{}\n",
                    phrase.as_str()
                );
            }
            let mut out = signer_json(&signer, 0);
            out["name"] = name.into();
            out["file"] = path.display().to_string().into();
            println!("{out}");
            Ok(())
        }
        KeysCommand::List { keyring, prefix } => {
            let ring = Keyring::new(keyring);
            for name in ring.list().map_err(anyhow::Error::msg)? {
                let line = match ring
                    .read(&name)
                    .map_err(anyhow::Error::msg)
                    .and_then(|m| Ok(Signer::from_mnemonic(&m, &prefix, 0)?))
                {
                    Ok(s) => serde_json::json!({ "name": name, "address": s.address() }),
                    Err(e) => serde_json::json!({ "name": name, "error": e.to_string() }),
                };
                println!("{line}");
            }
            Ok(())
        }
        KeysCommand::Delete { name, keyring, yes } => {
            if !yes {
                bail!("deleting key {name} loses its phrase unless it is backed up; pass --yes");
            }
            Keyring::new(keyring)
                .delete(&name)
                .map_err(anyhow::Error::msg)?;
            eprintln!("deleted key {name}");
            Ok(())
        }
    }
}

fn open_store(config: &Config) -> Result<Store> {
    Store::open(&config.state.path)
        .with_context(|| format!("opening {}", config.state.path.display()))
}

/// `relayer outbox …`.
pub fn outbox(
    command: OutboxCommand,
    load: impl Fn(&std::path::Path) -> Result<Config>,
) -> Result<()> {
    match command {
        OutboxCommand::List {
            config,
            status,
            limit,
        } => {
            let store = open_store(&load(&config)?)?;
            let status = status
                .map(|s| OutboxStatus::parse(&s))
                .transpose()
                .context("--status: pending, signed, broadcast, done or failed")?;
            for entry in store.outbox_list(status, limit)? {
                println!("{}", serde_json::to_string(&entry)?);
            }
            Ok(())
        }
        OutboxCommand::Show { config, id } => {
            let store = open_store(&load(&config)?)?;
            let e = store.outbox_entry(id)?;
            let attempts = store.outbox_attempt_hashes(id)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "id": e.id,
                    "key": e.key,
                    "chain_id": e.chain_id,
                    "status": e.status,
                    "msgs": e.msgs,
                    "memo": e.memo,
                    "tx_hash": e.tx.as_ref().map(|t| &t.hash),
                    "sequence": e.tx.as_ref().map(|t| t.sequence),
                    "attempts": e.attempts,
                    "signed_as": attempts,
                    "last_error": e.last_error,
                    "height": e.height,
                    "gas_used": e.gas_used,
                }))?
            );
            Ok(())
        }
        OutboxCommand::Retry { config, id } => {
            let store = open_store(&load(&config)?)?;
            let e = store.outbox_retry(id)?;
            eprintln!(
                "outbox entry {id} ({}) is pending again; the daemon sends it at its next flush",
                e.key
            );
            Ok(())
        }
        OutboxCommand::Abandon { config, id, reason } => {
            let store = open_store(&load(&config)?)?;
            let e = store.outbox_abandon(id, &reason)?;
            eprintln!("outbox entry {id} ({}) abandoned: {reason}", e.key);
            Ok(())
        }
    }
}
