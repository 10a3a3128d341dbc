//! The devnet report: steps with their transactions and gas, balances
//! before and after, and the figures (vouchers per second, settlement,
//! oracle latency). Printed as text; `--report-json` writes it as JSON.

use std::fmt;

use serde::Serialize;

/// One step of the scenario.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// What the step does.
    pub title: String,
    /// Transactions sent in it (by actors and services).
    pub txs: u32,
    /// Their gas (the embedded chain's wasmd-like estimate).
    pub gas: u64,
    /// What happened, one line each.
    pub notes: Vec<String>,
}

impl Step {
    pub(crate) fn new(title: &str) -> Self {
        Self {
            title: title.to_string(),
            txs: 0,
            gas: 0,
            notes: vec![],
        }
    }
}

/// A native balance.
#[derive(Clone, Debug, Serialize)]
pub struct Balance {
    /// Actor label.
    pub actor: String,
    /// Amount of the devnet denom.
    pub amount: u128,
}

/// Figures measured during the run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Figures {
    /// PM2.5 readings the simulated sensor published to MQTT (acknowledged by the broker).
    pub messages_published: u64,
    /// Readings the gateway delivered to the buyer over the websocket.
    pub messages_delivered: u64,
    /// Readings the buyer's final voucher pays for (amount / price).
    pub messages_paid: u64,
    /// Readings claimed on chain by the watchtower's settlement (claimed / price).
    pub messages_settled: u64,
    /// Vouchers the buyer sent in-band over the websocket (the gateway
    /// stored each through the watchtower).
    pub vouchers_sent: u64,
    /// Paid messages per second over the websocket (publish to final voucher).
    pub vouchers_per_sec: f64,
    /// Batch-claim transactions the settlement bridge sent.
    pub settlement_txs: u64,
    /// Vouchers settled by those transactions (one per channel and batch).
    pub vouchers_settled: u64,
    /// Gas per settled voucher (embedded estimate).
    pub gas_per_settled_voucher: u64,
    /// Stale closes attempted by the buyer and defended by the watchtower.
    pub stale_closes_defended: u64,
    /// Blocks from the task entering verification to the oracle report's inclusion.
    pub oracle_latency_blocks: u64,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Chain id.
    pub chain_id: String,
    /// Seed of the run.
    pub seed: u64,
    /// Steps in order.
    pub steps: Vec<Step>,
    /// Balances before the scenario.
    pub before: Vec<Balance>,
    /// Balances after it.
    pub after: Vec<Balance>,
    /// Figures.
    pub figures: Figures,
    /// Wall time of the scenario, seconds.
    pub wall_secs: f64,
    /// Relayer crashes injected (reliability trials; 0 in a normal run).
    pub crashes: u32,
}

impl Report {
    /// Total transactions.
    pub fn txs(&self) -> u32 {
        self.steps.iter().map(|s| s.txs).sum()
    }

    /// Total gas.
    pub fn gas(&self) -> u64 {
        self.steps.iter().map(|s| s.gas).sum()
    }

    /// One-line summary.
    pub fn summary(&self) -> String {
        format!(
            "devnet OK: {} steps, {} txs, {} gas; {} vouchers, {:.0} paid messages/s, {} settled by {} claim txs ({} gas per voucher), {} stale close(s) defended, oracle report {} blocks after verification opened; {:.1} s",
            self.steps.len(),
            self.txs(),
            self.gas(),
            self.figures.vouchers_sent,
            self.figures.vouchers_per_sec,
            self.figures.vouchers_settled,
            self.figures.settlement_txs,
            self.figures.gas_per_settled_voucher,
            self.figures.stale_closes_defended,
            self.figures.oracle_latency_blocks,
            self.wall_secs
        )
    }
}

fn amount(n: u128) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "WeValue devnet — chain {} (seed {})",
            self.chain_id, self.seed
        )?;
        writeln!(f)?;
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(
                f,
                "{:>2}. {}  [{} tx, {} gas]",
                i + 1,
                step.title,
                step.txs,
                amount(step.gas as u128)
            )?;
            for note in &step.notes {
                writeln!(f, "      {note}")?;
            }
        }
        writeln!(f)?;
        writeln!(
            f,
            "Balances (ustake)          before            after           change"
        )?;
        for b in &self.before {
            let after = self
                .after
                .iter()
                .find(|a| a.actor == b.actor)
                .map_or(0, |a| a.amount);
            let change = after as i128 - b.amount as i128;
            writeln!(
                f,
                "  {:<16} {:>16} {:>16} {:>16}",
                b.actor,
                amount(b.amount),
                amount(after),
                if change < 0 {
                    format!("-{}", amount(change.unsigned_abs()))
                } else {
                    format!("+{}", amount(change as u128))
                }
            )?;
        }
        writeln!(f)?;
        let fig = &self.figures;
        writeln!(f, "Figures")?;
        writeln!(
            f,
            "  data stream (MQTT → ws)     published {}, delivered {}, paid {}, settled {} messages; {:.0} paid messages/s",
            fig.messages_published,
            fig.messages_delivered,
            fig.messages_paid,
            fig.messages_settled,
            fig.vouchers_per_sec
        )?;
        writeln!(
            f,
            "  vouchers streamed           {} in-band (verified by the gateway, stored durably by the watchtower)",
            fig.vouchers_sent
        )?;
        writeln!(
            f,
            "  settlement                  {} streamed vouchers settled by {} claim tx(s), {} gas per voucher",
            fig.vouchers_settled, fig.settlement_txs, fig.gas_per_settled_voucher
        )?;
        writeln!(
            f,
            "  stale closes defended       {}",
            fig.stale_closes_defended
        )?;
        writeln!(
            f,
            "  oracle latency              {} blocks from verification to report",
            fig.oracle_latency_blocks
        )?;
        writeln!(f)?;
        write!(f, "{}", self.summary())
    }
}
