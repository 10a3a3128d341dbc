//! The devnet report: steps with their transactions and gas, balances
//! before and after, and the figures (vouchers per second, settlement,
//! oracle latency). Printed as text; `--report-json` writes it as JSON.

use std::fmt;

use serde::Serialize;

use super::xchain::CrossChain;

/// One step of the scenario.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// What the step does.
    pub title: String,
    /// Transactions sent in it (by actors and services).
    pub txs: u32,
    /// Their gas, from the chain's tx results (on the embedded chain its
    /// wasmd-like estimate).
    pub gas: u64,
    /// Of them, the relayer instances' (claims, proposals, reports),
    /// attributed by inclusion height.
    pub service_txs: u32,
    /// Their gas.
    pub service_gas: u64,
    /// Fees the actors' transactions paid (0 on the embedded chain).
    pub fees: u128,
    /// Latest height when the step began.
    pub from_height: u64,
    /// Highest height its transactions reached (or the chain had when it ended).
    pub to_height: u64,
    /// Wall-clock seconds it took.
    pub secs: f64,
    #[serde(skip)]
    pub(crate) started: std::time::Instant,
    /// What happened, one line each.
    pub notes: Vec<String>,
}

impl Step {
    pub(crate) fn new(title: &str, height: u64) -> Self {
        Self {
            title: title.to_string(),
            txs: 0,
            gas: 0,
            service_txs: 0,
            service_gas: 0,
            fees: 0,
            from_height: height,
            to_height: height,
            secs: 0.0,
            started: std::time::Instant::now(),
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
    /// Fees the actor's scenario transactions had paid by then.
    pub fees: u128,
}

/// Figures measured during the run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Figures {
    /// PM2.5 readings the simulated sensor published to MQTT (acknowledged by the broker).
    pub messages_published: u64,
    /// Of those, readings published before the buyer's stream joined the
    /// live feed (a live feed starts where the buyer joins; 0 when the
    /// devnet can watch the gateway's subscription in process).
    pub messages_before_join: u64,
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
    /// Gas per settled voucher (the chain's gas of the claim txs).
    pub gas_per_settled_voucher: u64,
    /// Stale closes attempted by the buyer and defended by the watchtower.
    pub stale_closes_defended: u64,
    /// Blocks from the tasks entering verification to the last oracle report's inclusion.
    pub oracle_latency_blocks: u64,
    /// Oracle reports the aggregator sent (one per task).
    pub oracle_reports: u64,
    /// Bike rebalancing: bikes the contract's greedy rule would assign, and at what cost.
    pub bikes_rule: (u64, u128),
    /// Bikes the accepted solver proposal assigned, and at what cost.
    pub bikes_matched: (u64, u128),
    /// Bikes the dock stations logged as moved by the matched riders, and
    /// what the task paid for them (price × min(moved, assigned)).
    pub bikes_moved_paid: (u64, u128),
    /// The cross-chain steps (localnet only; the embedded chain has no IBC).
    pub cross_chain: Option<CrossChain>,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Chain id.
    pub chain_id: String,
    /// What the chain is (embedded, or a localnet and its RPC).
    pub chain: String,
    /// Height when the scenario started.
    pub start_height: u64,
    /// Height when it ended.
    pub end_height: u64,
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
            "devnet OK on {}: {} steps, {} txs, {} gas; {} vouchers, {:.0} paid messages/s, {} settled by {} claim txs ({} gas per voucher), {} stale close(s) defended, solver matched {} bikes where the rule would {}, {} oracle reports {} blocks after verification opened; {:.1} s",
            self.chain_id,
            self.steps.len(),
            self.txs(),
            self.gas(),
            self.figures.vouchers_sent,
            self.figures.vouchers_per_sec,
            self.figures.vouchers_settled,
            self.figures.settlement_txs,
            self.figures.gas_per_settled_voucher,
            self.figures.stale_closes_defended,
            self.figures.bikes_matched.0,
            self.figures.bikes_rule.0,
            self.figures.oracle_reports,
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
            "WeValue devnet — chain {} on the {} (seed {}), heights {} to {}",
            self.chain_id, self.chain, self.seed, self.start_height, self.end_height
        )?;
        writeln!(f)?;
        for (i, step) in self.steps.iter().enumerate() {
            write!(
                f,
                "{:>2}. {}  [{} tx, {} gas",
                i + 1,
                step.title,
                step.txs,
                amount(step.gas as u128)
            )?;
            if step.fees > 0 {
                write!(f, ", {} ustake fees", amount(step.fees))?;
            }
            writeln!(
                f,
                "; blocks {}-{}; {:.1} s]",
                step.from_height, step.to_height, step.secs
            )?;
            for note in &step.notes {
                writeln!(f, "      {note}")?;
            }
        }
        writeln!(f)?;
        writeln!(
            f,
            "Balances (ustake)          before            after           change     (of it fees)"
        )?;
        for b in &self.before {
            let after = self.after.iter().find(|a| a.actor == b.actor);
            let (amount_after, fees) = after.map_or((0, 0), |a| (a.amount, a.fees - b.fees));
            let change = amount_after as i128 - b.amount as i128;
            writeln!(
                f,
                "  {:<16} {:>16} {:>16} {:>16} {:>16}",
                b.actor,
                amount(b.amount),
                amount(amount_after),
                if change < 0 {
                    format!("-{}", amount(change.unsigned_abs()))
                } else {
                    format!("+{}", amount(change as u128))
                },
                if fees > 0 {
                    format!("-{}", amount(fees))
                } else {
                    "0".into()
                }
            )?;
        }
        writeln!(f)?;
        if let Some(x) = &self.figures.cross_chain {
            writeln!(
                f,
                "Balances on {} ({})   before            after           change     (of it fees)",
                x.hub_chain_id, x.hub_denom
            )?;
            for b in &x.hub_balances {
                let change = b.after as i128 - b.before as i128;
                writeln!(
                    f,
                    "  {:<16} {:>16} {:>16} {:>16} {:>16}",
                    b.actor,
                    amount(b.before),
                    amount(b.after),
                    if change < 0 {
                        format!("-{}", amount(change.unsigned_abs()))
                    } else {
                        format!("+{}", amount(change as u128))
                    },
                    if b.fees > 0 {
                        format!("-{}", amount(b.fees))
                    } else {
                        "0".into()
                    }
                )?;
            }
        } else {
            writeln!(
                f,
                "Cross-chain settlement: not on the embedded chain (it has no IBC; `--chain localnet` runs it between two wasmd chains)"
            )?;
        }
        writeln!(f)?;
        let fig = &self.figures;
        writeln!(f, "Figures")?;
        writeln!(
            f,
            "  data stream (MQTT → ws)     published {} ({} before the buyer joined the live feed), delivered {}, paid {}, settled {} messages; {:.0} paid messages/s",
            fig.messages_published,
            fig.messages_before_join,
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
            "  bike matching               solver {} bikes for {} ustake, the contract's rule {} bikes for {} ustake; {} moved, {} ustake paid",
            fig.bikes_matched.0,
            amount(fig.bikes_matched.1),
            fig.bikes_rule.0,
            amount(fig.bikes_rule.1),
            fig.bikes_moved_paid.0,
            amount(fig.bikes_moved_paid.1)
        )?;
        writeln!(
            f,
            "  oracle latency              {} report(s), the last {} blocks after verification opened",
            fig.oracle_reports, fig.oracle_latency_blocks
        )?;
        if let Some(x) = &fig.cross_chain {
            writeln!(
                f,
                "  cross-chain ({} ↔ {})  channel #{} funded from the hub with {} {} ({:.1} s to open); {} settled, paid out on the hub: {} after {} blocks ({:.1} s)",
                x.channels.0,
                x.channels.1,
                x.channel_id,
                amount(x.deposit),
                x.hub_denom,
                x.deposit_secs,
                amount(x.settled),
                x.payout_status,
                x.payout_latency.0,
                x.payout_latency.1
            )?;
        }
        writeln!(f)?;
        write!(f, "{}", self.summary())
    }
}
