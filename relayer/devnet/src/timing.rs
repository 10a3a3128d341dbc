//! How long things take on each backend. The embedded chain jumps in time,
//! so the scenario keeps realistic periods (an hour to fund, a week of
//! saving); a real chain cannot jump, so there the periods are seconds and
//! the scenario waits for block time to pass them.

use std::time::Duration;

/// Durations and cadences of one backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// TCR apply, commit and reveal stages (localnet deploy only; the
    /// embedded chain keeps `deploy.example.toml`'s).
    pub tcr_stage_secs: u64,
    /// The payment channel's minimum challenge window (localnet deploy
    /// only; 60 s is the contract's floor).
    pub challenge_secs: u64,
    /// A task's funding phase.
    pub funding: u64,
    /// Its matching window.
    pub matching: u64,
    /// One acceptance round (a task has three).
    pub acceptance: u64,
    /// Its execution period.
    pub execution: u64,
    /// The oracles' deadline after execution.
    pub verification: u64,
    /// The dispute window.
    pub dispute: u64,
    /// Simulated metered seconds per chain second: every backend meters a
    /// week of energy use over its execution period.
    pub meter_time_scale: u64,
    /// How often the scenario polls the chain while it waits.
    pub poll: Duration,
    /// The longest wait for a service's effect (a settlement, a report).
    pub patience: Duration,
    /// Services' polling cadence, milliseconds.
    pub service_poll_ms: u64,
    /// The solver leaves a task alone this close to its matching deadline.
    pub solver_margin_secs: u64,
}

/// A week, in seconds.
pub const WEEK: u64 = 7 * 24 * 3_600;

impl Timing {
    /// The embedded chain: realistic periods, time jumps over them.
    pub fn embedded() -> Self {
        Self {
            tcr_stage_secs: 600,
            challenge_secs: 600,
            funding: 3_600,
            matching: 3_600,
            acceptance: 3_600,
            execution: WEEK,
            verification: 24 * 3_600,
            dispute: 24 * 3_600,
            meter_time_scale: 1,
            poll: Duration::from_millis(10),
            patience: Duration::from_secs(20),
            service_poll_ms: 25,
            solver_margin_secs: 12,
        }
    }

    /// A wasmd localnet (blocks every ~300 ms): periods of seconds, long
    /// enough for the few blocks each phase's transactions need on a
    /// loaded machine.
    pub fn localnet() -> Self {
        let execution = 4;
        Self {
            tcr_stage_secs: 3,
            challenge_secs: 60,
            funding: 10,
            matching: 8,
            // Confirmations land a few blocks after the matching deadline;
            // a round is long enough for them on a loaded machine.
            acceptance: 6,
            execution,
            verification: 60,
            dispute: 3,
            meter_time_scale: WEEK / execution,
            poll: Duration::from_millis(200),
            patience: Duration::from_secs(90),
            service_poll_ms: 200,
            solver_margin_secs: 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_meter_a_week_of_saving() {
        for t in [Timing::embedded(), Timing::localnet()] {
            assert_eq!(t.execution * t.meter_time_scale, WEEK, "{t:?}");
            // The solver has time to propose inside the matching window.
            assert!(t.matching > t.solver_margin_secs, "{t:?}");
        }
    }
}
