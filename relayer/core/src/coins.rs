//! Coin strings as operators write them (`"100ustake,5uatom"`) and the SDK's denom rule.

use cosmwasm_std::{Coin, Uint128};

/// Parses `"100ustake,5uatom"` (also `ibc/…` and `factory/…` denoms).
pub fn parse_coins(s: &str) -> Result<Vec<Coin>, String> {
    let mut coins = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let split = part
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("{part:?} has no denom"))?;
        let (amount, denom) = part.split_at(split);
        if amount.is_empty() {
            return Err(format!("{part:?} has no amount"));
        }
        let amount: u128 = amount
            .parse()
            .map_err(|e| format!("{part:?}: amount {e}"))?;
        if !valid_denom(denom) {
            return Err(format!("{part:?}: invalid denom {denom:?}"));
        }
        coins.push(Coin {
            denom: denom.to_string(),
            amount: Uint128::new(amount),
        });
    }
    Ok(coins)
}

/// The SDK's denom rule: a letter, then 2 to 127 of letters, digits, `/:._-`.
pub fn valid_denom(denom: &str) -> bool {
    denom
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && (3..=128).contains(&denom.len())
        && denom
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/:._-".contains(c))
}
