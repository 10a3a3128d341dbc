//! Prices and pricing models, and the exact integer rules for counting
//! units and the amount owed.

use core::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Payload bytes in a kilobyte (SI: 1,000, not 1,024).
pub const BYTES_PER_KILOBYTE: u64 = 1_000;
/// Milliseconds in a second.
pub const MS_PER_SECOND: u64 = 1_000;

/// What one unit of data is (the data registry's `PricingModel`, same JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PricingModel {
    /// One data frame (one message) is one unit.
    PerMessage,
    /// One started second of streaming time on this connection is one unit.
    PerSecond,
    /// One started kilobyte (1,000 bytes) of cumulative payload is one unit.
    PerKilobyte,
}

impl PricingModel {
    /// The byte used for the model in signed encodings.
    pub fn tag(self) -> u8 {
        match self {
            PricingModel::PerMessage => 0,
            PricingModel::PerSecond => 1,
            PricingModel::PerKilobyte => 2,
        }
    }

    /// The most units one chunk of at most `max_payload` bytes can charge:
    /// the smallest credit window that lets every chunk through.
    pub fn max_chunk_units(self, max_payload: u32) -> u64 {
        match self {
            // A per-second chunk bills at most the credit it has (≥ 1).
            PricingModel::PerMessage | PricingModel::PerSecond => 1,
            // ⌈a + L⌉ − ⌈a⌉ ≤ ⌈L⌉ for any cumulative offset a.
            PricingModel::PerKilobyte => kilobytes_started(u64::from(max_payload)).max(1),
        }
    }
}

/// The asset a listing is priced in and a channel holds (the same JSON as
/// `wevalue_common::asset::AssetInfo`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Asset {
    /// A native coin, by denom.
    Native(String),
    /// A cw20 token, by contract address.
    Cw20(String),
}

/// A listing's price: `amount` of `asset` per unit of `model`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// What the buyer pays in.
    pub asset: Asset,
    /// Price of one unit, in the asset's smallest unit; above zero.
    pub amount: Amount,
    /// What a unit is.
    pub model: PricingModel,
}

/// An amount in an asset's smallest unit. JSON: a decimal string without
/// sign, spaces or leading zeros (as CosmWasm's `Uint128`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(pub u128);

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal string of a 128-bit unsigned integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                parse_amount(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_str(V)
    }
}

/// Parses a canonical decimal amount (`"0"`, `"1500"`; not `"01"`, `"+1"`, `""`).
pub fn parse_amount(s: &str) -> Option<Amount> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if !canonical {
        return None;
    }
    s.parse::<u128>().ok().map(Amount)
}

/// Kilobytes started by `bytes` payload bytes: ⌈bytes / 1000⌉.
pub fn kilobytes_started(bytes: u64) -> u64 {
    bytes.div_ceil(BYTES_PER_KILOBYTE)
}

/// Units a chunk of `len` payload bytes charges per kilobyte after
/// `bytes_before` cumulative payload bytes on the stream:
/// ⌈(before + len) / 1000⌉ − ⌈before / 1000⌉. Rounding is on the cumulative
/// total, so the stream as a whole is charged ⌈total / 1000⌉ kilobytes —
/// never a whole kilobyte per small chunk. `None` on overflow.
pub fn kilobyte_units(bytes_before: u64, len: u64) -> Option<u64> {
    let after = bytes_before.checked_add(len)?;
    Some(kilobytes_started(after) - kilobytes_started(bytes_before))
}

/// Seconds started `elapsed_ms` after the connection's billing origin:
/// ⌊elapsed / 1000⌋ + 1 (the first second counts as soon as it starts).
pub fn seconds_started(elapsed_ms: u64) -> u64 {
    elapsed_ms / MS_PER_SECOND + 1
}

/// The amount owed for `units` units at `price` each; `None` if it does not
/// fit in 128 bits.
pub fn amount_owed(units: u64, price: u128) -> Option<u128> {
    u128::from(units).checked_mul(price)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kilobytes_round_up_on_the_cumulative_total() {
        assert_eq!(kilobytes_started(0), 0);
        assert_eq!(kilobytes_started(1), 1);
        assert_eq!(kilobytes_started(1_000), 1);
        assert_eq!(kilobytes_started(1_001), 2);
        // Ten chunks of 100 bytes: one kilobyte in all, charged by the first.
        let mut total = 0;
        let mut units = vec![];
        for _ in 0..10 {
            units.push(kilobyte_units(total, 100).unwrap());
            total += 100;
        }
        assert_eq!(units, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(kilobyte_units(999, 2), Some(1));
        assert_eq!(kilobyte_units(u64::MAX, 1), None);
        assert_eq!(PricingModel::PerKilobyte.max_chunk_units(65_536), 66);
        assert_eq!(PricingModel::PerKilobyte.max_chunk_units(0), 1);
    }

    #[test]
    fn seconds_and_amounts() {
        assert_eq!(seconds_started(0), 1);
        assert_eq!(seconds_started(999), 1);
        assert_eq!(seconds_started(1_000), 2);
        assert_eq!(amount_owed(3, 7), Some(21));
        assert_eq!(
            amount_owed(u64::MAX, u128::MAX / u128::from(u64::MAX)),
            Some(u128::MAX)
        );
        assert_eq!(amount_owed(2, u128::MAX), None);
    }

    #[test]
    fn amounts_are_canonical_decimal_strings() {
        assert_eq!(parse_amount("0"), Some(Amount(0)));
        assert_eq!(parse_amount("1500"), Some(Amount(1500)));
        for bad in [
            "",
            "01",
            "+1",
            "-1",
            " 1",
            "1e3",
            "340282366920938463463374607431768211456",
        ] {
            assert_eq!(parse_amount(bad), None, "{bad:?}");
        }
        let json = serde_json::to_string(&Amount(u128::MAX)).unwrap();
        assert_eq!(json, "\"340282366920938463463374607431768211455\"");
        assert_eq!(
            serde_json::from_str::<Amount>(&json).unwrap(),
            Amount(u128::MAX)
        );
        assert!(serde_json::from_str::<Amount>("15").is_err());
    }

    #[test]
    fn json_matches_the_data_registry() {
        let p = Price {
            asset: Asset::Native("ustake".into()),
            amount: Amount(10),
            model: PricingModel::PerMessage,
        };
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"asset":{"native":"ustake"},"amount":"10","model":"per_message"}"#
        );
    }
}
