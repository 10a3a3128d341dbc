//! The start-up check of a node and the signer (`relayer health-check`, and
//! `relayer run` before anything else): the chain id, the CometBFT version
//! and its RPC dialect (detected from the node, not configured), tx
//! indexing, catching up, the node's minimum gas price against ours, and the
//! signer's account existing and holding enough for a tx at `max_gas`.

use cosmrs::proto::cosmos::base::node::v1beta1::{ConfigRequest, ConfigResponse};
use cosmrs::rpc::Client;
use relayer_core::chain::{ChainResult, ChainStatus};
use serde::Serialize;

use crate::client::CosmosClient;
use crate::rpc::RpcCompat;

/// What the check found; `problems` empty = fit to run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeHealth {
    /// RPC URL checked.
    pub rpc_url: String,
    /// The node's chain id (`node_info.network`).
    pub chain_id: String,
    /// CometBFT version the node reports.
    pub cometbft_version: String,
    /// The RPC dialect that version speaks (`None` = unknown version).
    pub compat: Option<RpcCompat>,
    /// Whether the node indexes txs (`node_info.other.tx_index`).
    pub tx_index: bool,
    /// Whether the node is still syncing.
    pub catching_up: bool,
    /// Latest height.
    pub latest_height: u64,
    /// Lowest height the node still has.
    pub earliest_height: u64,
    /// The node's `minimum-gas-prices` (`None` = the node does not say).
    pub minimum_gas_price: Option<String>,
    /// Its price in our fee denom (`None` = none set for it).
    pub minimum_price_in_fee_denom: Option<f64>,
    /// The signer's address.
    pub signer: String,
    /// Whether the signer's account exists on chain.
    pub account_exists: bool,
    /// The signer's balance in the fee denom.
    pub balance: u128,
    /// The fee of one tx at `max_gas`: the least the signer must hold.
    pub min_balance: u128,
    /// Everything that is wrong, each naming what to fix.
    pub problems: Vec<String>,
}

/// The dialect a CometBFT version speaks: 0.34 (base64 event attributes),
/// 0.37, 0.38 (and 1.x, which kept 0.38's RPC).
pub fn compat_of_version(version: &str) -> Option<RpcCompat> {
    let v = version.trim_start_matches('v');
    let mut parts = v.split('.');
    let major: u64 = parts.next()?.parse().ok()?;
    let minor: u64 = parts
        .next()?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    match (major, minor) {
        (0, 34) => Some(RpcCompat::V0_34),
        (0, 37) => Some(RpcCompat::V0_37),
        (0, 38) | (1, _) => Some(RpcCompat::V0_38),
        _ => None,
    }
}

/// The price of `denom` in an SDK `minimum-gas-prices` string
/// (`"0.025000000000000000ustake,0.1uatom"`).
pub fn price_in(min_gas_prices: &str, denom: &str) -> Option<f64> {
    min_gas_prices.split(',').find_map(|p| {
        let p = p.trim();
        let split = p.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let (amount, d) = p.split_at(split);
        (d == denom).then(|| amount.parse().ok())?
    })
}

impl CosmosClient {
    /// Asks the node its CometBFT version and switches to the dialect it
    /// speaks (an unknown version keeps the configured one; the health
    /// check reports it).
    pub async fn detect_compat(&mut self) -> ChainResult<RpcCompat> {
        let status = self.rpc().status().await.map_err(|e| {
            relayer_core::ChainError::Rpc(format!("{}: {e}", self.options().rpc_url))
        })?;
        match compat_of_version(&status.node_info.version.to_string()) {
            Some(mode) => {
                if mode != self.options().compat {
                    self.set_compat(mode)?;
                }
                Ok(mode)
            }
            None => Ok(self.options().compat),
        }
    }

    /// Checks the node and the signer (module docs). Errors only when the
    /// node cannot be reached at all; everything else is a problem in the report.
    pub async fn health_check(&self) -> ChainResult<NodeHealth> {
        let options = self.options();
        let status = self
            .rpc()
            .status()
            .await
            .map_err(|e| relayer_core::ChainError::Rpc(format!("{}: {e}", options.rpc_url)))?;
        let mut problems = vec![];
        let chain_id = status.node_info.network.to_string();
        if chain_id != options.chain_id {
            problems.push(format!(
                "chain id: the node at {} serves `{chain_id}`, the config says `{}` (chain.id)",
                options.rpc_url, options.chain_id
            ));
        }
        let version = status.node_info.version.to_string();
        let compat = compat_of_version(&version);
        if compat.is_none() {
            problems.push(format!(
                "CometBFT {version}: unknown RPC dialect (0.34, 0.37, 0.38 and 1.x are supported)"
            ));
        }
        let tx_index = matches!(
            status.node_info.other.tx_index,
            cosmrs::tendermint::node::info::TxIndexStatus::On
        );
        if !tx_index {
            problems.push(
                "tx indexing is off on the node: set [tx_index] indexer = \"kv\" in its config.toml"
                    .into(),
            );
        }
        let catching_up = status.sync_info.catching_up;
        if catching_up {
            problems.push("the node is catching up (still syncing)".into());
        }
        // The node's minimum gas price (SDK node service; older nodes may not serve it).
        let minimum_gas_price = match self
            .abci_query::<ConfigRequest, ConfigResponse>(
                "/cosmos.base.node.v1beta1.Service/Config",
                ConfigRequest {},
            )
            .await
        {
            Ok(Ok(c)) => Some(c.minimum_gas_price),
            _ => None,
        };
        let minimum_price_in_fee_denom = minimum_gas_price
            .as_deref()
            .and_then(|p| price_in(p, &options.fee_denom));
        if let Some(min) = minimum_price_in_fee_denom {
            if options.gas_price < min {
                problems.push(format!(
                    "gas price {} {} is below the node's minimum {min} (chain.cosmos.gas_price)",
                    options.gas_price, options.fee_denom
                ));
            }
        }
        let signer = self.signer_address().to_string();
        let account_exists = self.account().await.is_ok();
        if !account_exists {
            problems.push(format!(
                "the signer's account {signer} does not exist on chain: send it {} first",
                options.fee_denom
            ));
        }
        let balance = self.balance(&signer, &options.fee_denom).await.unwrap_or(0);
        let min_balance = (options.max_gas as f64 * options.gas_price).ceil() as u128;
        if balance < min_balance.max(1) {
            problems.push(format!(
                "the signer {signer} holds {balance}{denom}, less than one tx at max_gas costs ({min_balance}{denom}): fund it",
                denom = options.fee_denom
            ));
        }
        Ok(NodeHealth {
            rpc_url: options.rpc_url.clone(),
            chain_id,
            cometbft_version: version,
            compat,
            tx_index,
            catching_up,
            latest_height: status.sync_info.latest_block_height.value(),
            earliest_height: status.sync_info.earliest_block_height.value(),
            minimum_gas_price,
            minimum_price_in_fee_denom,
            signer,
            account_exists,
            balance,
            min_balance,
            problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_from_version() {
        assert_eq!(compat_of_version("0.34.27"), Some(RpcCompat::V0_34));
        assert_eq!(compat_of_version("v0.37.4"), Some(RpcCompat::V0_37));
        assert_eq!(compat_of_version("0.38.17"), Some(RpcCompat::V0_38));
        assert_eq!(compat_of_version("1.0.1"), Some(RpcCompat::V0_38));
        assert_eq!(compat_of_version("0.33.9"), None);
        assert_eq!(compat_of_version("garbage"), None);
    }

    #[test]
    fn price_of_the_fee_denom() {
        let p = "0.025000000000000000ustake,1.5uatom";
        assert_eq!(price_in(p, "ustake"), Some(0.025));
        assert_eq!(price_in(p, "uatom"), Some(1.5));
        assert_eq!(price_in(p, "uosmo"), None);
        assert_eq!(price_in("", "ustake"), None);
    }
}
