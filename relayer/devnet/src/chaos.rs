//! Crashes for the reliability trials: at the scenario's crash points a
//! seeded coin decides whether to kill a relayer instance (every task aborted
//! where it stands) and start it again on the same SQLite file after a short
//! outage. With chaos off, crash points do nothing.

use std::time::Duration;

use super::relayers::Relayers;
use super::DevnetError;

/// Seeded crash schedule.
#[derive(Clone, Debug)]
pub struct Chaos {
    rng: u64,
    /// Chance of a crash at each point, per mille.
    per_mille: u64,
    /// Crashes left to do.
    budget: u32,
    /// Crashes done, by instance name.
    pub crashes: Vec<String>,
}

impl Chaos {
    /// No crashes.
    pub fn off() -> Self {
        Self {
            rng: 1,
            per_mille: 0,
            budget: 0,
            crashes: vec![],
        }
    }

    /// Up to `budget` crashes, each point crashing with `per_mille`/1000.
    pub fn seeded(seed: u64, budget: u32, per_mille: u64) -> Self {
        Self {
            rng: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            per_mille: per_mille.min(1000),
            budget,
            crashes: vec![],
        }
    }

    /// Whether this schedule crashes anything.
    pub fn enabled(&self) -> bool {
        self.budget > 0 && self.per_mille > 0
    }

    /// xorshift64*: deterministic per seed, no dependency.
    fn next(&mut self, n: u64) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }

    /// A crash point: maybe kill one instance and bring it back. Returns
    /// whether it did (clients then drop their kept-alive connections, which
    /// the dead instance's server tasks would otherwise go on serving).
    pub async fn point(&mut self, relayers: &mut Relayers) -> Result<bool, DevnetError> {
        if !self.enabled() || self.next(1000) >= self.per_mille {
            return Ok(false);
        }
        self.budget -= 1;
        let i = self.next(relayers.instances.len() as u64) as usize;
        let outage = Duration::from_millis(self.next(40));
        let instance = &mut relayers.instances[i];
        tracing::info!(
            instance = instance.name,
            ?outage,
            "chaos: killing a relayer instance"
        );
        instance.kill().await;
        tokio::time::sleep(outage).await;
        instance.start().await?;
        self.crashes.push(instance.name.clone());
        Ok(true)
    }
}
