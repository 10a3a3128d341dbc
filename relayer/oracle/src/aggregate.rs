//! How several sources' answers become one value: the lower median of the
//! answers that agree with it, refused when fewer than `min_sources` do;
//! and the devnet's simulated smart meter.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::metric::Measurement;
use crate::sources::{MeasurementQuery, MeasurementSource, SourceError};

// ------------------------------------------------------------ simulation

/// DEVNET: a deterministic smart meter. Each (seed, task, participant) has
/// a baseline rate of 0.5 to 1.5 kWh per metered hour and a saving of 0 to
/// 30%, so every oracle with the same seed computes the same kWh saved.
#[derive(Clone, Debug)]
pub struct SimulatedMeter {
    name: String,
    seed: String,
    time_scale: u64,
}

impl SimulatedMeter {
    /// A meter; `time_scale` simulated seconds per chain second.
    pub fn new(name: &str, seed: &str, time_scale: u64) -> Self {
        Self {
            name: name.to_string(),
            seed: seed.to_string(),
            time_scale,
        }
    }

    /// The reading for a query (what `measure` returns).
    pub fn reading(&self, q: &MeasurementQuery) -> Measurement {
        let h = Sha256::new()
            .chain_update(b"wevalue/simulated-meter/v1")
            .chain_update((self.seed.len() as u32).to_be_bytes())
            .chain_update(self.seed.as_bytes())
            .chain_update(q.task_id.to_be_bytes())
            .chain_update(q.participant.as_bytes())
            .finalize();
        let word = |i: usize| {
            u64::from_be_bytes([
                h[i],
                h[i + 1],
                h[i + 2],
                h[i + 3],
                h[i + 4],
                h[i + 5],
                h[i + 6],
                h[i + 7],
            ])
        };
        // micro-kWh per metered hour: 0.5 to 1.5 kWh/h.
        let rate = i128::from(500_000 + word(0) % 1_000_001);
        let saving_bps = i128::from(word(8) % 3_001);
        let metered_secs = i128::from(q.to.saturating_sub(q.from)) * i128::from(self.time_scale);
        let baseline = rate * metered_secs / 3_600;
        let actual = baseline - baseline * saving_bps / 10_000;
        Measurement {
            actual,
            baseline: Some(baseline),
        }
    }
}

#[async_trait]
impl MeasurementSource for SimulatedMeter {
    fn name(&self) -> &str {
        &self.name
    }

    async fn measure(&self, q: &MeasurementQuery) -> Result<Measurement, SourceError> {
        Ok(self.reading(q))
    }
}

// ------------------------------------------------------------ aggregation

/// Too few sources agreed.
#[derive(Debug, Error)]
#[error("{agreeing} of {answered} source answers agree (of {asked} asked), {required} required; failures: {failures:?}")]
pub struct InsufficientSources {
    /// Sources asked.
    pub asked: usize,
    /// Sources that answered.
    pub answered: usize,
    /// Answers within the agreement band around the median.
    pub agreeing: usize,
    /// `min_sources`.
    pub required: usize,
    /// `source: error` of each failed source.
    pub failures: Vec<String>,
}

/// The lower median of the answers within `agreement_bps` of the median of
/// all answers, if at least `min_sources` are; outliers are dropped.
pub fn aggregate(
    answers: &[(String, Result<u128, SourceError>)],
    min_sources: usize,
    agreement_bps: u32,
) -> Result<u128, InsufficientSources> {
    let mut ok: Vec<u128> = answers
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().copied())
        .collect();
    let failures: Vec<String> = answers
        .iter()
        .filter_map(|(n, r)| r.as_ref().err().map(|e| format!("{n}: {e}")))
        .collect();
    ok.sort_unstable();
    let insufficient = |agreeing| InsufficientSources {
        asked: answers.len(),
        answered: ok.len(),
        agreeing,
        required: min_sources.max(1),
        failures: failures.clone(),
    };
    if ok.is_empty() {
        return Err(insufficient(0));
    }
    let median = ok[(ok.len() - 1) / 2];
    let band = median.saturating_mul(u128::from(agreement_bps));
    let agreeing: Vec<u128> = ok
        .iter()
        .copied()
        .filter(|v| v.abs_diff(median).saturating_mul(10_000) <= band)
        .collect();
    if agreeing.len() < min_sources.max(1) {
        return Err(insufficient(agreeing.len()));
    }
    Ok(agreeing[(agreeing.len() - 1) / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(v: &[u128]) -> Vec<(String, Result<u128, SourceError>)> {
        v.iter()
            .enumerate()
            .map(|(i, v)| (format!("s{i}"), Ok(*v)))
            .collect()
    }

    #[test]
    fn median_drops_outliers_and_counts_agreement() {
        assert_eq!(aggregate(&ok(&[1000, 1020, 5000]), 2, 1_000).unwrap(), 1000);
        assert_eq!(aggregate(&ok(&[1000, 1020, 990]), 3, 1_000).unwrap(), 1000);
        let e = aggregate(&ok(&[1000, 5000]), 2, 1_000).unwrap_err();
        assert_eq!((e.answered, e.agreeing, e.required), (2, 1, 2));
        let mut a = ok(&[7]);
        a.push((
            "down".into(),
            Err(SourceError::NoData {
                participant: "p".into(),
                from: 0,
                to: 1,
            }),
        ));
        let e = aggregate(&a, 2, 1_000).unwrap_err();
        assert_eq!((e.asked, e.answered, e.failures.len()), (2, 1, 1));
        assert_eq!(aggregate(&a, 1, 0).unwrap(), 7);
    }

    #[test]
    fn simulated_meter_is_deterministic_and_saves_up_to_30_percent() {
        let m = SimulatedMeter::new("sim", "seed", 3600);
        let q = MeasurementQuery {
            task_id: 4,
            participant: "wasm1abc".into(),
            from: 100,
            to: 110,
        };
        let a = m.reading(&q);
        assert_eq!(a, m.reading(&q));
        let b = a.baseline.unwrap();
        assert!((5_000_000..=15_000_000).contains(&b), "{b}");
        assert!(a.actual <= b && a.actual * 10 >= b * 7);
        let other = m.reading(&MeasurementQuery {
            participant: "wasm1abd".into(),
            ..q
        });
        assert_ne!(other, a);
    }
}
