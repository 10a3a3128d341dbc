//! A trial's relayer daemon as an OS process: `relayer run` with the
//! watchtower and the oracle on one SQLite file, killed with SIGKILL and
//! started again on the same file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::lt;
use crate::net::Chain;

const MNEMONIC_ENV: &str = "WEVALUE_TRIAL_MNEMONIC";

/// What a trial's daemon runs with.
pub struct DaemonSpec<'a> {
    pub dir: &'a Path,
    pub account_index: u32,
    pub deployment: &'a Path,
    pub tower_port: u16,
    /// Settle a channel once it owes this much.
    pub min_amount: u128,
    pub oracle_key: &'a Path,
    pub meter_seed: &'a str,
}

/// Writes the daemon's config file; returns its path.
pub fn write_config(chain: &Chain, spec: &DaemonSpec) -> Result<PathBuf> {
    let net = &chain.net;
    let text = format!(
        r#"[log]
level = "info"
[telemetry]
enabled = false
[state]
path = "{state}"
[signer]
mnemonic_env = "{MNEMONIC_ENV}"
account_index = {index}
[chain]
id = "{chain_id}"
backend = "cosmos"
fee_denom = "{denom}"
[chain.cosmos]
rpc_url = "{rpc}"
gas_price = {price}
inclusion_timeout_secs = 30
poll_interval_ms = 200
timeout_blocks = 40
[events]
poll_interval_ms = 300
[outbox]
flush_interval_ms = 300
retry_initial_delay_ms = 100
retry_max_delay_ms = 1000
[deploy]
deployment_file = "{deployment}"
[watchtower]
enabled = true
listen = "127.0.0.1:{port}"
min_amount = "{min_amount}"
max_age_seconds = 3600
settle_interval_seconds = 1
poll_interval_ms = 300
close_safety_margin_seconds = 5
[oracle]
mode = "single"
key = {{ scheme = "ed25519", source = {{ file = "{key}" }} }}
poll_interval_ms = 300
[[oracle.sources]]
name = "meter"
kind = "simulated_meter"
seed = "{seed}"
time_scale = 3600
[[oracle.templates]]
metric_name = "kwh_saved"
metric = "energy_saved"
units_per_unit = 1000
min_sources = 1
"#,
        state = spec.dir.join("daemon.sqlite").display(),
        index = spec.account_index,
        chain_id = net.chain_id,
        denom = net.denom,
        rpc = net.rpc,
        price = net.gas_price,
        deployment = spec.deployment.display(),
        port = spec.tower_port,
        min_amount = spec.min_amount,
        key = spec.oracle_key.display(),
        seed = spec.meter_seed,
    );
    let path = spec.dir.join("daemon.toml");
    std::fs::write(&path, text).with_context(|| path.display().to_string())?;
    Ok(path)
}

/// `relayer run` as a child process (killed on drop).
pub struct Daemon {
    child: Option<Child>,
    mnemonic: String,
    config: PathBuf,
    pub log: PathBuf,
    pub state: PathBuf,
    port: u16,
    pub starts: u32,
}

impl Daemon {
    pub async fn start(chain: &Chain, config: PathBuf, dir: &Path, port: u16) -> Result<Daemon> {
        let mut d = Daemon {
            child: None,
            mnemonic: lt::mnemonic(chain.funder),
            config,
            log: dir.join("daemon.log"),
            state: dir.join("daemon.sqlite"),
            port,
            starts: 0,
        };
        d.spawn().await?;
        Ok(d)
    }

    /// Starts the process and waits until its voucher API accepts connections.
    pub async fn spawn(&mut self) -> Result<()> {
        if self.child.is_some() {
            bail!("the daemon is already running");
        }
        // Appended: a restarted daemon's log follows the killed one's.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let child = Command::new(env!("CARGO_BIN_EXE_relayer"))
            .arg("run")
            .arg("--config")
            .arg(&self.config)
            .env(MNEMONIC_ENV, &self.mnemonic)
            .env_remove("RUST_LOG")
            .env_remove("WEVALUE_RELAYER_RPC_URL")
            .env_remove("WEVALUE_RELAYER_MNEMONIC_FILE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("spawning relayer run")?;
        self.child = Some(child);
        self.starts += 1;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                bail!("the daemon exited ({status}):\n{}", self.tail());
            }
            if Instant::now() > deadline {
                bail!(
                    "the voucher API did not listen within 60 s:\n{}",
                    self.tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush; only what is durable survives.
    pub fn sigkill(&mut self) -> Result<()> {
        let mut child = self.child.take().context("the daemon is not running")?;
        child.kill()?;
        child.wait()?;
        Ok(())
    }

    /// SIGTERM, then waits for the exit (a graceful stop).
    pub fn stop(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()?;
        if !sent.success() {
            bail!("kill -TERM {} failed", child.id());
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                child.kill()?;
                child.wait()?;
                bail!("the daemon did not stop within 20 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Whether the process is still alive (a crash would show here).
    pub fn exited(&mut self) -> Option<String> {
        let child = self.child.as_mut()?;
        child.try_wait().ok().flatten().map(|s| s.to_string())
    }

    /// The end of the log, for failure messages.
    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
