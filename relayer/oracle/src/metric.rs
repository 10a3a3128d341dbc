//! Metrics: from one participant's measurement over the execution period to
//! the integer value the contract stores. Everything is integer fixed point
//! (micro-units), so oracles reading the same data compute the same value
//! bit for bit, which aggregated reports need (only identical reports can
//! be combined).

use serde::{Deserialize, Serialize};

/// Fixed-point scale of measurements: 1 unit = 1,000,000 micro-units.
pub const MICRO: i128 = 1_000_000;

/// One participant's measurement over a period, in micro-units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measurement {
    /// What was measured (consumption in kWh, bikes moved, …).
    pub actual: i128,
    /// The counterfactual (consumption without the intervention), if the source has one.
    pub baseline: Option<i128>,
}

/// Converts a decimal reading to micro-units (rounded half away from zero).
/// `None` for NaN, infinities and magnitudes beyond 10^20 units.
pub fn to_micro(x: f64) -> Option<i128> {
    if !x.is_finite() || x.abs() > 1e20 {
        return None;
    }
    Some((x * MICRO as f64).round() as i128)
}

/// The formulas the oracle knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Energy saved: baseline − actual, clamped at 0 (a household that used
    /// more than its baseline saved nothing). Needs a baseline.
    EnergySaved,
    /// The measured quantity itself, clamped at 0 (bikes moved, benches painted).
    Quantity,
}

/// Why a metric cannot be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MetricError {
    /// The metric needs a baseline and the source gave none.
    #[error("metric {metric:?} needs a baseline")]
    MissingBaseline {
        /// Metric.
        metric: Metric,
    },
    /// The scaled value does not fit.
    #[error("value overflows")]
    Overflow,
}

impl Metric {
    /// The metric in micro-units of the measurement (≥ 0).
    pub fn micro(self, m: &Measurement) -> Result<i128, MetricError> {
        let v = match self {
            Metric::EnergySaved => {
                let baseline = m
                    .baseline
                    .ok_or(MetricError::MissingBaseline { metric: self })?;
                baseline
                    .checked_sub(m.actual)
                    .ok_or(MetricError::Overflow)?
            }
            Metric::Quantity => m.actual,
        };
        Ok(v.max(0))
    }

    /// The contract value: floor(metric × units_per_unit), e.g. kWh saved
    /// with `units_per_unit = 1000` gives Wh.
    pub fn value(self, m: &Measurement, units_per_unit: u64) -> Result<u128, MetricError> {
        let micro = self.micro(m)? as u128;
        micro
            .checked_mul(u128::from(units_per_unit))
            .map(|x| x / MICRO as u128)
            .ok_or(MetricError::Overflow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(actual: f64, baseline: Option<f64>) -> Measurement {
        Measurement {
            actual: to_micro(actual).unwrap(),
            baseline: baseline.map(|b| to_micro(b).unwrap()),
        }
    }

    #[test]
    fn energy_saved_is_baseline_minus_actual_clamped_and_scaled() {
        let e = Metric::EnergySaved;
        assert_eq!(e.value(&m(7.25, Some(10.0)), 1).unwrap(), 2);
        assert_eq!(e.value(&m(7.25, Some(10.0)), 1000).unwrap(), 2_750);
        assert_eq!(e.value(&m(12.0, Some(10.0)), 1000).unwrap(), 0);
        assert_eq!(
            e.value(&m(1.0, None), 1),
            Err(MetricError::MissingBaseline {
                metric: Metric::EnergySaved
            })
        );
    }

    #[test]
    fn quantity_is_the_reading_clamped_and_scaled() {
        assert_eq!(Metric::Quantity.value(&m(3.9999, None), 1).unwrap(), 3);
        assert_eq!(Metric::Quantity.value(&m(-2.0, None), 1).unwrap(), 0);
        assert_eq!(Metric::Quantity.value(&m(0.5, Some(9.0)), 10).unwrap(), 5);
    }

    #[test]
    fn micro_conversion_rounds_and_rejects_non_finite() {
        assert_eq!(to_micro(0.1234567), Some(123_457));
        assert_eq!(to_micro(-1.5), Some(-1_500_000));
        assert_eq!(to_micro(f64::NAN), None);
        assert_eq!(to_micro(1e30), None);
    }
}
