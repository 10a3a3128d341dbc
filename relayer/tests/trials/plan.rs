//! What a seed decides in a trial: the vouchers the payer sends before and
//! after the first settlement, and where the daemon is SIGKILLed.

use std::fmt;

/// splitmix64: a seed gives the same trial on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5745_5641_4c55_4531)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// Where the SIGKILL lands, relative to what the trial has done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kill {
    /// Right after the payer's `after`-th voucher was acknowledged (the
    /// watchtower stored it), `delay_ms` later.
    Voucher { after: usize, delay_ms: u64 },
    /// `delay_ms` after the settlement's tx shows in the daemon's outbox
    /// (the voucher crossing the threshold was sent): signed, in flight.
    Settling { delay_ms: u64 },
    /// `delay_ms` after the defending claim shows in the daemon's outbox
    /// (the payer's stale `start_close` was broadcast): signed, in flight.
    Close { delay_ms: u64 },
    /// `delay_ms` after the attestation shows in the daemon's outbox (the
    /// chain passed the task's execution deadline): signed, in flight.
    Oracle { delay_ms: u64 },
    /// No kill (the figures' undisturbed runs).
    Never,
}

impl fmt::Display for Kill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kill::Voucher { after, delay_ms } => write!(f, "voucher #{after} +{delay_ms}ms"),
            Kill::Settling { delay_ms } => write!(f, "settlement tx +{delay_ms}ms"),
            Kill::Close { delay_ms } => write!(f, "defending claim tx +{delay_ms}ms"),
            Kill::Oracle { delay_ms } => write!(f, "attest tx +{delay_ms}ms"),
            Kill::Never => write!(f, "never"),
        }
    }
}

/// One trial's choices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub seed: u64,
    /// Cumulative voucher amounts before the settlement (the last one
    /// reaches the watchtower's `min_amount`) ...
    pub before: Vec<u128>,
    /// ... and after it, staying below `min_amount` more: nothing settles
    /// them until the payer's close on the old state.
    pub after: Vec<u128>,
    pub kill: Kill,
    /// How long the daemon stays dead.
    pub down_ms: u64,
}

impl Plan {
    /// The trial of `seed`; `kind` (0..4) picks the kill point's kind so a
    /// run of trials covers each, the seed places it.
    pub fn new(seed: u64, kind: u64, min_amount: u128) -> Plan {
        let mut rng = Rng::new(seed);
        let mut amount = 0u128;
        let n1 = rng.range(2, 5) as usize;
        let mut before = vec![];
        for i in 0..n1 {
            amount = if i + 1 == n1 {
                min_amount + u128::from(rng.range(0, 3_000))
            } else {
                amount + u128::from(rng.range(1, min_amount as u64 / n1 as u64))
            };
            before.push(amount);
        }
        let n2 = rng.range(2, 5) as usize;
        let budget = min_amount as u64 - 1;
        let mut after = vec![];
        for _ in 0..n2 {
            amount += u128::from(rng.range(1, budget / n2 as u64));
            after.push(amount);
        }
        let kill = match kind % 4 {
            0 => Kill::Voucher {
                after: rng.range(1, (n1 + n2 - 1) as u64) as usize,
                delay_ms: rng.range(0, 300),
            },
            1 => Kill::Settling {
                delay_ms: rng.range(0, 600),
            },
            2 => Kill::Close {
                delay_ms: rng.range(0, 600),
            },
            _ => Kill::Oracle {
                delay_ms: rng.range(0, 600),
            },
        };
        Plan {
            seed,
            before,
            after,
            kill,
            down_ms: rng.range(0, 1_500),
        }
    }

    /// The best voucher: the seller must end up paid exactly this.
    pub fn best(&self) -> u128 {
        *self.after.last().unwrap_or(&0)
    }

    pub fn settled_first(&self) -> u128 {
        *self.before.last().unwrap_or(&0)
    }
}

#[test]
fn a_seed_gives_one_plan_and_the_amounts_follow_the_settlement_rule() {
    for seed in 0..500 {
        let p = Plan::new(seed, seed, 5_000);
        assert_eq!(p, Plan::new(seed, seed, 5_000));
        let all: Vec<u128> = p.before.iter().chain(&p.after).copied().collect();
        assert!(all.windows(2).all(|w| w[0] < w[1]), "{p:?}");
        assert!(p.settled_first() >= 5_000, "{p:?}");
        assert!(
            p.before[..p.before.len() - 1].iter().all(|a| *a < 5_000),
            "{p:?}"
        );
        assert!(p.best() - p.settled_first() < 5_000, "{p:?}");
        if let Kill::Voucher { after, .. } = p.kill {
            assert!((1..all.len()).contains(&after), "{p:?}");
        }
    }
    assert_ne!(Plan::new(1, 0, 5_000), Plan::new(2, 0, 5_000));
}
