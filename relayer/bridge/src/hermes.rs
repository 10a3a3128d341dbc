//! Hermes, supervised: the packet-relay engine runs as a child process of
//! the daemon (`hermes --config <file> start`), restarted with a doubling
//! delay when it exits, its log lines forwarded to tracing, its state shown
//! in `/metrics` (`hermes_up`, `hermes_restarts`) and `/health`.
//!
//! Why a child process and not the `ibc-relayer` library: Hermes links the
//! Namada and Penumbra stacks (a half-hour build), pins its own
//! tendermint-rs and keeps its own config, keys and telemetry; a separate
//! process keeps all that out of the relayer's build and address space, and
//! a Hermes crash cannot take the watchtower down. Hermes keeps no state of
//! its own (everything it relays is read back from the chains), so stopping
//! it with SIGKILL loses nothing and a restart clears what is pending
//! (`clear_on_start`).

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use relayer_core::metrics::Metrics;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::watch;

use crate::config::HermesConfig;

/// A run this long resets the restart delay to its minimum.
const STABLE_RUN: Duration = Duration::from_secs(60);
/// Longest `hermes clear packets` is given.
const CLEAR_TIMEOUT: Duration = Duration::from_secs(120);

/// The supervisor of one Hermes process.
pub struct Hermes {
    config: HermesConfig,
    metrics: Arc<Metrics>,
}

impl Hermes {
    /// A supervisor (nothing starts until [`Hermes::supervise`]).
    pub fn new(config: HermesConfig, metrics: Arc<Metrics>) -> Self {
        Self { config, metrics }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.config.binary);
        cmd.arg("--config").arg(&self.config.config);
        cmd
    }

    fn set_down(&self, why: Option<String>) {
        self.metrics.hermes_up.set(i64::from(why.is_none()));
        self.metrics.update_health(|h| h.ibc_relayer_error = why);
    }

    /// Runs `hermes start` until `stop`, restarting it whenever it exits.
    pub async fn supervise(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let min = Duration::from_millis(self.config.restart_min_ms);
        let max = Duration::from_millis(self.config.restart_max_ms);
        let mut delay = min;
        loop {
            if *stop.borrow_and_update() {
                break;
            }
            let started = Instant::now();
            let mut cmd = self.command();
            cmd.arg("start")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true);
            die_with_parent(&mut cmd);
            let why = match cmd.spawn() {
                Ok(mut child) => {
                    tracing::info!(pid = child.id(), config = %self.config.config.display(), "hermes started");
                    self.set_down(None);
                    let out = child.stdout.take().map(|o| tokio::spawn(forward(o)));
                    let err = child.stderr.take().map(|e| tokio::spawn(forward(e)));
                    let status = tokio::select! {
                        s = child.wait() => s,
                        _ = stopped(&mut stop) => {
                            // Stateless: SIGKILL loses nothing (module docs).
                            let _ = child.kill().await;
                            for t in [out, err].into_iter().flatten() {
                                let _ = t.await;
                            }
                            self.metrics.hermes_up.set(0);
                            tracing::info!("hermes stopped");
                            return;
                        }
                    };
                    for t in [out, err].into_iter().flatten() {
                        let _ = t.await;
                    }
                    match status {
                        Ok(s) => format!("hermes exited ({s})"),
                        Err(e) => format!("hermes: waiting for the process failed: {e}"),
                    }
                }
                Err(e) => format!(
                    "cannot start {} ({e}); install it with ci/install-hermes.sh",
                    self.config.binary.display()
                ),
            };
            if started.elapsed() >= STABLE_RUN {
                delay = min;
            }
            self.metrics.hermes_restarts.inc();
            tracing::warn!(
                reason = why,
                restart_in_ms = delay.as_millis() as u64,
                "hermes is down"
            );
            self.set_down(Some(format!(
                "{why}; restarting in {} ms",
                delay.as_millis()
            )));
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stopped(&mut stop) => break,
            }
            delay = (delay * 2).min(max);
        }
        self.metrics.hermes_up.set(0);
    }

    /// `hermes clear packets` on one ICS-20 channel of this chain: relays
    /// what is pending on it now (used for stuck payouts). Returns
    /// Hermes' output, or why it failed.
    pub async fn clear_packets(&self, channel: &str) -> Result<String, String> {
        let mut cmd = self.command();
        cmd.args(["clear", "packets", "--chain"])
            .arg(&self.config.chain_id)
            .args(["--port", "transfer", "--channel", channel])
            .stdin(Stdio::null())
            .kill_on_drop(true);
        match tokio::time::timeout(CLEAR_TIMEOUT, cmd.output()).await {
            Err(_) => Err(format!(
                "hermes clear packets on {channel}: no answer in {} s",
                CLEAR_TIMEOUT.as_secs()
            )),
            Ok(Err(e)) => Err(format!("hermes clear packets on {channel}: {e}")),
            Ok(Ok(out)) if out.status.success() => {
                Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
            }
            Ok(Ok(out)) => Err(format!(
                "hermes clear packets on {channel} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )),
        }
    }
}

/// A daemon killed with SIGKILL runs no destructor: the kernel then kills
/// Hermes too (`PR_SET_PDEATHSIG`), so a restarted daemon never finds a
/// second Hermes relaying with the same key.
fn die_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    // SAFETY: the closure runs in the forked child before exec and only
    // makes an async-signal-safe system call.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

/// Resolves once the stop flag is set (or its sender is gone); returns `()`
/// so no `watch` guard is held across an await.
pub(crate) async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Forwards Hermes' log lines to tracing at the level Hermes gave them.
async fn forward(stream: impl AsyncRead + Unpin) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        // Hermes' text log: "<time> <LEVEL> <message>"; colour codes off
        // when not a terminal.
        if line.contains(" ERROR ") {
            tracing::error!(target: "hermes", "{line}");
        } else if line.contains(" WARN ") {
            tracing::warn!(target: "hermes", "{line}");
        } else {
            tracing::info!(target: "hermes", "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn config(binary: &str) -> HermesConfig {
        HermesConfig {
            binary: PathBuf::from(binary),
            config: PathBuf::from("/nonexistent/hermes.toml"),
            restart_min_ms: 20,
            restart_max_ms: 80,
            chain_id: "wevalue-city-1".into(),
        }
    }

    #[tokio::test]
    async fn a_process_that_keeps_exiting_is_restarted_and_reported_down() {
        // `false` exits at once with status 1, whatever its arguments.
        let metrics = Arc::new(Metrics::new());
        let hermes = Arc::new(Hermes::new(config("false"), metrics.clone()));
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(hermes.supervise(rx));
        tokio::time::sleep(Duration::from_millis(400)).await;
        let _ = tx.send(true);
        task.await.unwrap();
        // 20 + 40 + 80 + 80 ms of delays fit in 400 ms: at least 3 restarts.
        assert!(
            metrics.hermes_restarts.get() >= 3,
            "{}",
            metrics.hermes_restarts.get()
        );
        assert_eq!(metrics.hermes_up.get(), 0);
        let problems = metrics.health().problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("IBC relayer down: hermes exited"),
            "{problems:?}"
        );
    }

    #[tokio::test]
    async fn a_missing_binary_is_named_and_retried() {
        let metrics = Arc::new(Metrics::new());
        let hermes = Arc::new(Hermes::new(config("/nonexistent/hermes"), metrics.clone()));
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(hermes.clone().supervise(rx));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = tx.send(true);
        task.await.unwrap();
        let problems = metrics.health().problems();
        assert!(
            problems[0].contains("cannot start /nonexistent/hermes"),
            "{problems:?}"
        );
        let err = hermes.clear_packets("channel-0").await.unwrap_err();
        assert!(err.contains("hermes clear packets on channel-0"), "{err}");
    }

    #[tokio::test]
    async fn a_running_process_is_up_until_stopped() {
        // A script stands in for a Hermes that starts and keeps running.
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("fake-hermes");
        std::fs::write(
            &script,
            "#!/bin/sh\necho \"2026-12-02 INFO started $*\"\nexec sleep 30\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let metrics = Arc::new(Metrics::new());
        let hermes = Arc::new(Hermes::new(
            config(script.to_str().unwrap()),
            metrics.clone(),
        ));
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(hermes.supervise(rx));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(metrics.hermes_up.get(), 1);
        assert!(metrics.health().problems().is_empty());
        assert_eq!(metrics.hermes_restarts.get(), 0);
        let _ = tx.send(true);
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("stops promptly")
            .unwrap();
        assert_eq!(metrics.hermes_up.get(), 0);
    }
}
