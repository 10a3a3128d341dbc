//! A relayer instance as a separate OS process of the same binary:
//! `relayer run --config <generated toml>`, with its own key (a 0600
//! mnemonic file), SQLite file, telemetry port and log file. Ready once its
//! `/health` answers 200; stopped with SIGTERM (the daemon's graceful
//! shutdown), killed with SIGKILL after a grace period or on a crash trial.
//! A child is killed when its handle is dropped, and on Linux also when the
//! devnet process dies (`PR_SET_PDEATHSIG`), so a failed run leaves no
//! orphans.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::localnet::{Localnet, GAS_MULTIPLIER, MAX_GAS, TIMEOUT_BLOCKS};
use super::relayers::{free_port, service, Services};
use super::DevnetError;

/// Environment variables `relayer run` reads that would override the
/// generated config (`relayer::config::ENV_RPC_URL`, `ENV_MNEMONIC_FILE`
/// and the default mnemonic variable): removed from each child's environment.
pub const OVERRIDING_ENV: [&str; 3] = [
    "WEVALUE_RELAYER_RPC_URL",
    "WEVALUE_RELAYER_MNEMONIC_FILE",
    "WEVALUE_RELAYER_MNEMONIC",
];

/// How long a stopped process may take to exit before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// The chain and deployment every process instance is configured with.
#[derive(Clone, Debug)]
pub struct ProcessChain {
    /// The `relayer` binary.
    pub exe: PathBuf,
    /// Chain id.
    pub chain_id: String,
    /// CometBFT RPC URL.
    pub rpc: String,
    /// Fee denom.
    pub fee_denom: String,
    /// Gas price in it.
    pub gas_price: f64,
    /// The deployment file the devnet wrote.
    pub deployment_file: PathBuf,
}

impl ProcessChain {
    /// The localnet's settings.
    pub fn of(localnet: &Localnet, deployment_file: &Path) -> Self {
        Self {
            exe: localnet.relayer_exe.clone(),
            chain_id: localnet.chain_id.clone(),
            rpc: localnet.rpc.clone(),
            fee_denom: localnet.fee_denom.clone(),
            gas_price: localnet.gas_price,
            deployment_file: deployment_file.to_path_buf(),
        }
    }
}

// The sections of `relayer run`'s config file the devnet sets (the
// relayer crate's `Config` parses them; `relayer/tests/devnet.rs` checks
// that a generated file validates).
#[derive(Serialize)]
struct DaemonConfig<'a> {
    log: Log,
    telemetry: Telemetry,
    state: State<'a>,
    chain: ChainSection<'a>,
    signer: SignerSection<'a>,
    events: Events,
    outbox: OutboxSection,
    deploy: Deploy<'a>,
    #[serde(flatten)]
    services: &'a Services,
}

#[derive(Serialize)]
struct Log {
    level: &'static str,
    format: &'static str,
}

#[derive(Serialize)]
struct Telemetry {
    enabled: bool,
    host: String,
    port: u16,
}

#[derive(Serialize)]
struct State<'a> {
    path: &'a Path,
}

#[derive(Serialize)]
struct ChainSection<'a> {
    id: &'a str,
    prefix: &'static str,
    fee_denom: &'a str,
    backend: &'static str,
    cosmos: Cosmos<'a>,
}

#[derive(Serialize)]
struct Cosmos<'a> {
    rpc_url: &'a str,
    compat: &'static str,
    gas_price: f64,
    gas_multiplier: f64,
    max_gas: u64,
    inclusion_timeout_secs: u64,
    poll_interval_ms: u64,
    timeout_blocks: u64,
}

#[derive(Serialize)]
struct SignerSection<'a> {
    mnemonic_env: &'static str,
    mnemonic_file: &'a Path,
}

#[derive(Serialize)]
struct Events {
    poll_interval_ms: u64,
    max_blocks_per_poll: u64,
}

#[derive(Serialize)]
struct OutboxSection {
    max_attempts: u32,
    flush_interval_ms: u64,
    transient_retries: u32,
    retry_initial_delay_ms: u64,
    retry_max_delay_ms: u64,
}

#[derive(Serialize)]
struct Deploy<'a> {
    deployment_file: &'a Path,
}

/// What one process instance's config names besides its services.
#[derive(Clone, Debug)]
pub struct ProcessFiles {
    /// Its SQLite file.
    pub db: PathBuf,
    /// Its mnemonic file (0600).
    pub mnemonic_file: PathBuf,
    /// Where it serves `/metrics` and `/health`.
    pub telemetry: SocketAddr,
}

/// The `relayer run` config of a process instance (TOML).
pub fn daemon_config(
    chain: &ProcessChain,
    files: &ProcessFiles,
    services: &Services,
) -> Result<String, DevnetError> {
    let config = DaemonConfig {
        log: Log {
            level: "info",
            format: "text",
        },
        telemetry: Telemetry {
            enabled: true,
            host: files.telemetry.ip().to_string(),
            port: files.telemetry.port(),
        },
        state: State { path: &files.db },
        chain: ChainSection {
            id: &chain.chain_id,
            prefix: "wasm",
            fee_denom: &chain.fee_denom,
            backend: "cosmos",
            cosmos: Cosmos {
                rpc_url: &chain.rpc,
                compat: "0.38",
                gas_price: chain.gas_price,
                gas_multiplier: GAS_MULTIPLIER,
                max_gas: MAX_GAS,
                inclusion_timeout_secs: 30,
                poll_interval_ms: 100,
                timeout_blocks: TIMEOUT_BLOCKS,
            },
        },
        signer: SignerSection {
            mnemonic_env: "",
            mnemonic_file: &files.mnemonic_file,
        },
        events: Events {
            poll_interval_ms: 200,
            max_blocks_per_poll: 100,
        },
        outbox: OutboxSection {
            max_attempts: 5,
            flush_interval_ms: 200,
            transient_retries: 5,
            retry_initial_delay_ms: 100,
            retry_max_delay_ms: 2_000,
        },
        deploy: Deploy {
            deployment_file: &chain.deployment_file,
        },
        services,
    };
    toml::to_string(&config).map_err(|e| service("config", format!("relayer config: {e}")))
}

/// A relayer instance as an OS process.
pub struct OsProcess {
    chain: ProcessChain,
    files: ProcessFiles,
    config_file: PathBuf,
    log_file: PathBuf,
    child: Option<tokio::process::Child>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DevnetError + '_ {
    move |source| DevnetError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes a secret file no one else may read.
pub fn write_private(path: &Path, text: &str) -> Result<(), DevnetError> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).write(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io_err(path))?;
    file.write_all(text.as_bytes()).map_err(io_err(path))
}

/// The last `n` lines of a log, for an error message.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl OsProcess {
    /// An instance named `name` with its files under `state_dir`.
    pub fn new(
        name: &str,
        state_dir: &Path,
        chain: ProcessChain,
        mnemonic: &str,
        db: &Path,
    ) -> Result<Self, DevnetError> {
        let keys = state_dir.join("keys");
        std::fs::create_dir_all(&keys).map_err(io_err(&keys))?;
        let mnemonic_file = keys.join(format!("{name}.mnemonic"));
        write_private(&mnemonic_file, mnemonic)?;
        Ok(Self {
            chain,
            files: ProcessFiles {
                db: db.to_path_buf(),
                mnemonic_file,
                telemetry: free_port()?,
            },
            config_file: state_dir.join(format!("{name}.toml")),
            log_file: state_dir.join(format!("{name}.log")),
            child: None,
        })
    }

    /// Its log file.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// Whether its process is alive.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    fn failed(&self, name: &str, what: String) -> DevnetError {
        service(
            "relayer process",
            format!(
                "{name}: {what}; last lines of {}:\n{}",
                self.log_file.display(),
                tail(&self.log_file, 25)
            ),
        )
    }

    /// Writes the config and starts `relayer run`; returns once `/health`
    /// answers 200 (within `patience`).
    pub async fn start(
        &mut self,
        name: &str,
        services: &Services,
        patience: Duration,
    ) -> Result<(), DevnetError> {
        let toml = daemon_config(&self.chain, &self.files, services)?;
        std::fs::write(&self.config_file, toml).map_err(io_err(&self.config_file))?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_file)
            .map_err(io_err(&self.log_file))?;
        let err_log = log.try_clone().map_err(io_err(&self.log_file))?;
        let mut cmd = tokio::process::Command::new(&self.chain.exe);
        cmd.arg("run")
            .arg("--config")
            .arg(&self.config_file)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err_log)
            .kill_on_drop(true);
        for var in OVERRIDING_ENV {
            cmd.env_remove(var);
        }
        #[cfg(target_os = "linux")]
        // SAFETY: between fork and exec only prctl(2), which is
        // async-signal-safe, runs in the child.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| {
            service(
                "relayer process",
                format!("{name}: starting {}: {e}", self.chain.exe.display()),
            )
        })?;
        tracing::info!(instance = name, pid = child.id(), config = %self.config_file.display(), "relayer process started");
        self.child = Some(child);

        let url = format!("http://{}/health", self.files.telemetry);
        let http = reqwest::Client::new();
        let deadline = Instant::now() + patience;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(self.failed(name, format!("exited at start-up ({status})")));
                }
            }
            let ok = http
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.kill().await;
                return Err(self.failed(name, format!("{url} not healthy within {patience:?}")));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL (a crash).
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// SIGTERM, then SIGKILL if it has not exited after a grace period.
    pub async fn shutdown(&mut self, name: &str) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) on our own child's pid, which is not reaped yet.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        match tokio::time::timeout(STOP_GRACE, child.wait()).await {
            Ok(Ok(status)) if status.success() => {
                tracing::info!(instance = name, "relayer process stopped")
            }
            Ok(status) => tracing::warn!(instance = name, ?status, "relayer process stopped"),
            Err(_) => {
                tracing::warn!(
                    instance = name,
                    "relayer process ignored SIGTERM; killing it"
                );
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("wevalue-devnet-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn process(dir: &Path, exe: &Path) -> OsProcess {
        let chain = ProcessChain {
            exe: exe.to_path_buf(),
            chain_id: "wevalue-city-1".into(),
            rpc: "http://127.0.0.1:26657".into(),
            fee_denom: "ustake".into(),
            gas_price: 0.025,
            deployment_file: dir.join("deployment.json"),
        };
        OsProcess::new("city", dir, chain, "test words", &dir.join("city.sqlite")).unwrap()
    }

    #[test]
    fn the_mnemonic_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("keys");
        let _ = process(&dir, Path::new("/bin/false"));
        let file = dir.join("keys/city.mnemonic");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "test words");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_process_that_exits_at_start_up_fails_with_its_log() {
        let dir = scratch("exits");
        let script = dir.join("relayer");
        std::fs::write(
            &script,
            "#!/bin/sh\necho \"config $3 refused\" >&2\nexit 3\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut p = process(&dir, &script);
        let err = p
            .start("city", &Services::default(), Duration::from_secs(20))
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("relayer process: city: exited at start-up (exit status: 3)"),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "config {} refused",
                dir.join("city.toml").display()
            )),
            "{err}"
        );
        assert!(!p.is_running());
        // The config it was given is there to read.
        let toml = std::fs::read_to_string(dir.join("city.toml")).unwrap();
        assert!(toml.contains("backend = \"cosmos\""), "{toml}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_process_that_never_gets_healthy_is_killed() {
        let dir = scratch("hangs");
        let script = dir.join("relayer");
        std::fs::write(&script, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut p = process(&dir, &script);
        let started = Instant::now();
        let err = p
            .start("city", &Services::default(), Duration::from_millis(500))
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("/health not healthy within 500ms"), "{err}");
        assert!(!p.is_running());
        assert!(started.elapsed() < Duration::from_secs(10));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
