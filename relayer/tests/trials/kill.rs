//! The SIGKILL of a trial and what the daemon's SQLite file and log say
//! about it (read while the daemon runs: WAL lets a reader in).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use tokio::sync::watch;

use crate::daemon::Daemon;
use crate::plan::{Kill, Plan};
use crate::trial::Progress;

/// Waits for the plan's kill point, SIGKILLs the daemon, keeps it down for
/// the plan's time and starts it again on the same SQLite file. Returns
/// what the kill caught: the daemon's outbox entries not yet done.
pub async fn kill_and_restart(
    daemon: &mut Daemon,
    plan: &Plan,
    mut progress: watch::Receiver<Progress>,
) -> Result<String> {
    let kill = plan.kill;
    if kill == Kill::Never {
        return Ok("no kill".into());
    }
    let reached = move |p: &Progress| match kill {
        Kill::Voucher { after, .. } => p.vouchers >= after,
        Kill::Settling { .. } => p.threshold_crossed,
        Kill::Close { .. } => p.close_sent,
        Kill::Oracle { .. } => p.verifying,
        Kill::Never => false,
    };
    let delay = match kill {
        Kill::Voucher { delay_ms, .. }
        | Kill::Settling { delay_ms }
        | Kill::Close { delay_ms }
        | Kill::Oracle { delay_ms } => delay_ms,
        Kill::Never => 0,
    };
    tokio::time::timeout(Duration::from_secs(150), progress.wait_for(reached))
        .await
        .map_err(|_| anyhow!("the kill point {} was never reached", plan.kill))?
        .map_err(|_| anyhow!("the trial ended before the kill point {}", plan.kill))?;
    // The service's tx of this phase: wait until the outbox holds it
    // (pending, signed, broadcast) or has finished it, then count the delay.
    let tx_of_phase = match kill {
        Kill::Voucher { .. } | Kill::Never => None,
        // The settlement is the watchtower's first tx, the defence its second.
        Kill::Settling { .. } => Some(("watchtower/", 1)),
        Kill::Close { .. } => Some(("watchtower/", 2)),
        Kill::Oracle { .. } => Some(("oracle/", 1)),
    };
    if let Some((prefix, nth)) = tx_of_phase {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (open, done) = outbox_counts(&daemon.state, prefix)?;
            if open > 0 || done >= nth {
                break;
            }
            if Instant::now() > deadline {
                bail!("the daemon's {prefix}* tx #{nth} did not show in its outbox within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(delay)).await;
    if let Some(status) = daemon.exited() {
        bail!("the daemon died on its own ({status}):\n{}", daemon.tail());
    }
    daemon.sigkill()?;
    let caught = open_outbox_entries(&daemon.state)?
        .iter()
        .map(|(key, status, _)| format!("{} {status}", service_of(key)))
        .collect::<Vec<_>>();
    tokio::time::sleep(Duration::from_millis(plan.down_ms)).await;
    daemon.spawn().await?;
    Ok(if caught.is_empty() {
        "nothing in flight".into()
    } else {
        caught.join(", ")
    })
}

/// `watchtower claim`, `oracle attest` from an outbox key
/// (`watchtower/<chain>/<contract>/claim/…`, `oracle/<chain>/<contract>/<task>/attest/…`).
fn service_of(key: &str) -> String {
    let parts: Vec<&str> = key.split('/').collect();
    let what = match parts.first() {
        Some(&"oracle") => parts.get(4),
        _ => parts.get(3),
    };
    format!("{} {}", parts[0], what.unwrap_or(&"?"))
}

/// The daemon's outbox entries whose key starts with `prefix`: (not yet
/// done or failed, done).
fn outbox_counts(state: &Path, prefix: &str) -> Result<(u64, u64)> {
    if !state.exists() {
        return Ok((0, 0));
    }
    let db = rusqlite::Connection::open(state)?;
    db.busy_timeout(Duration::from_secs(2))?;
    Ok(db.query_row(
        "SELECT COALESCE(SUM(status NOT IN ('done', 'failed')), 0), COALESCE(SUM(status = 'done'), 0)
         FROM outbox WHERE substr(idempotency_key, 1, length(?1)) = ?1",
        [prefix],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// The restarted daemon's outbox reconciliation, from its log.
pub fn last_reconcile(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let plain = strip_ansi(&text);
    plain
        .lines()
        .rev()
        .find(|l| l.contains("relayer::daemon") && l.contains("outbox reconciled"))
        .and_then(|l| Some(l[l.find('{')? + 1..l.rfind('}')?].trim().to_string()))
        .unwrap_or_else(|| "no reconciliation logged".into())
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte (a letter).
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The watchtower's durable best voucher of a channel (daemon stopped).
pub fn stored_best(state: &Path, contract: &str, channel: u64) -> Result<u128> {
    let db = rusqlite::Connection::open(state)?;
    let amount: String = db.query_row(
        "SELECT amount FROM watchtower_vouchers WHERE contract = ?1 AND channel_id = ?2",
        rusqlite::params![contract, channel as i64],
        |r| r.get(0),
    )?;
    Ok(amount.parse()?)
}

/// Outbox entries not done: (key, status, last error).
pub fn open_outbox_entries(state: &Path) -> Result<Vec<(String, String, Option<String>)>> {
    let db = rusqlite::Connection::open(state)?;
    db.busy_timeout(Duration::from_secs(2))?;
    let mut stmt = db.prepare(
        "SELECT idempotency_key, status, last_error FROM outbox WHERE status != 'done' ORDER BY id",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
