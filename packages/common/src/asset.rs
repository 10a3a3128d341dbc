//! Native coins and cw20 tokens behind one type.
//!
//! Messages carry [`AssetInfoUnchecked`] (raw strings from the user); a
//! contract validates it once with [`AssetInfoUnchecked::check`] and stores
//! and compares only the validated [`AssetInfo`].

use std::fmt;

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{
    to_json_binary, Addr, Api, BankMsg, Coin, CosmosMsg, StdError, StdResult, Uint128, WasmMsg,
};
use thiserror::Error;

#[derive(Error, Debug, PartialEq)]
pub enum AssetError {
    #[error("invalid native denom {denom:?}: {reason}")]
    InvalidDenom { denom: String, reason: &'static str },

    #[error("invalid cw20 address {address:?}: {source}")]
    InvalidCw20 { address: String, source: StdError },
}

/// A validated asset: a native denom or a cw20 contract address.
#[cw_serde]
#[derive(Eq, PartialOrd, Ord, Hash)]
pub enum AssetInfo {
    /// A native coin, by denom (`uatom`, `ibc/…`, `factory/…`).
    Native(String),
    /// A cw20 token, by its contract address.
    Cw20(Addr),
}

/// An asset as given by a user; validate it with [`AssetInfoUnchecked::check`].
#[cw_serde]
#[derive(Eq, PartialOrd, Ord, Hash)]
pub enum AssetInfoUnchecked {
    /// A native coin, by denom.
    Native(String),
    /// A cw20 token, by its contract address (bech32, lower case).
    Cw20(String),
}

/// An amount of a validated asset.
#[cw_serde]
pub struct Asset {
    /// Which asset.
    pub info: AssetInfo,
    /// How much of it, in the asset's smallest unit.
    pub amount: Uint128,
}

/// Checks a native denom the way the Cosmos SDK does:
/// `[a-zA-Z][a-zA-Z0-9/:._-]{2,127}`.
pub fn validate_denom(denom: &str) -> Result<(), AssetError> {
    let err = |reason| AssetError::InvalidDenom {
        denom: denom.to_string(),
        reason,
    };
    if denom.len() < 3 || denom.len() > 128 {
        return Err(err("length must be 3 to 128 characters"));
    }
    if !denom.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(err("must start with a letter"));
    }
    if !denom
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | ':' | '.' | '_' | '-'))
    {
        return Err(err("only letters, digits and / : . _ - are allowed"));
    }
    Ok(())
}

impl AssetInfoUnchecked {
    /// Validates the denom or the cw20 address.
    pub fn check(&self, api: &dyn Api) -> Result<AssetInfo, AssetError> {
        match self {
            AssetInfoUnchecked::Native(denom) => {
                validate_denom(denom)?;
                Ok(AssetInfo::Native(denom.clone()))
            }
            AssetInfoUnchecked::Cw20(address) => api
                .addr_validate(address)
                .map(AssetInfo::Cw20)
                .map_err(|source| AssetError::InvalidCw20 {
                    address: address.clone(),
                    source,
                }),
        }
    }
}

impl From<AssetInfo> for AssetInfoUnchecked {
    fn from(info: AssetInfo) -> Self {
        match info {
            AssetInfo::Native(denom) => AssetInfoUnchecked::Native(denom),
            AssetInfo::Cw20(addr) => AssetInfoUnchecked::Cw20(addr.into_string()),
        }
    }
}

impl AssetInfo {
    /// A stable storage key: `native:<denom>` or `cw20:<address>`.
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// An amount of this asset.
    pub fn with_amount(&self, amount: impl Into<Uint128>) -> Asset {
        Asset {
            info: self.clone(),
            amount: amount.into(),
        }
    }
}

impl fmt::Display for AssetInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssetInfo::Native(denom) => write!(f, "native:{denom}"),
            AssetInfo::Cw20(addr) => write!(f, "cw20:{addr}"),
        }
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.info)
    }
}

impl Asset {
    /// A message that sends this asset from the contract to `recipient`.
    pub fn transfer_msg(&self, recipient: &Addr) -> StdResult<CosmosMsg> {
        Ok(match &self.info {
            AssetInfo::Native(denom) => BankMsg::Send {
                to_address: recipient.to_string(),
                amount: vec![Coin::new(self.amount, denom)],
            }
            .into(),
            AssetInfo::Cw20(token) => WasmMsg::Execute {
                contract_addr: token.to_string(),
                msg: to_json_binary(&cw20::Cw20ExecuteMsg::Transfer {
                    recipient: recipient.to_string(),
                    amount: self.amount,
                })?,
                funds: vec![],
            }
            .into(),
        })
    }

    /// Like [`Asset::transfer_msg`], but `None` for a zero amount (the bank
    /// module and cw20-base both reject zero transfers).
    pub fn transfer_msg_if_positive(&self, recipient: &Addr) -> StdResult<Option<CosmosMsg>> {
        if self.amount.is_zero() {
            Ok(None)
        } else {
            self.transfer_msg(recipient).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockApi;

    #[test]
    fn denoms_follow_the_sdk_rule() {
        for ok in [
            "uatom",
            "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2",
            "factory/wasm1x/ucity",
            "u-t.k:n_x",
        ] {
            assert_eq!(validate_denom(ok), Ok(()), "{ok}");
        }
        for bad in ["", "ua", "1uatom", "u atom", "uatom!", &"u".repeat(129)] {
            assert!(
                matches!(validate_denom(bad), Err(AssetError::InvalidDenom { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn cw20_addresses_are_validated() {
        let api = MockApi::default();
        let token = api.addr_make("token");
        let info = AssetInfoUnchecked::Cw20(token.to_string())
            .check(&api)
            .unwrap();
        assert_eq!(info, AssetInfo::Cw20(token.clone()));
        assert_eq!(info.key(), format!("cw20:{token}"));
        let upper = token.as_str().to_uppercase();
        assert!(matches!(
            AssetInfoUnchecked::Cw20(upper).check(&api),
            Err(AssetError::InvalidCw20 { .. })
        ));
        assert!(matches!(
            AssetInfoUnchecked::Cw20("not-an-address".into()).check(&api),
            Err(AssetError::InvalidCw20 { .. })
        ));
    }

    #[test]
    fn transfers_build_the_right_message() {
        let api = MockApi::default();
        let to = api.addr_make("to");
        let native = AssetInfo::Native("ucity".into()).with_amount(5u128);
        assert_eq!(
            native.transfer_msg(&to).unwrap(),
            CosmosMsg::Bank(BankMsg::Send {
                to_address: to.to_string(),
                amount: vec![Coin::new(5u128, "ucity")]
            })
        );
        assert_eq!(native.to_string(), "5 native:ucity");
        let zero = AssetInfo::Native("ucity".into()).with_amount(0u128);
        assert_eq!(zero.transfer_msg_if_positive(&to).unwrap(), None);
        let token = api.addr_make("token");
        let cw20 = AssetInfo::Cw20(token.clone()).with_amount(7u128);
        match cw20.transfer_msg(&to).unwrap() {
            CosmosMsg::Wasm(WasmMsg::Execute {
                contract_addr,
                funds,
                ..
            }) => {
                assert_eq!(contract_addr, token.to_string());
                assert!(funds.is_empty());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
