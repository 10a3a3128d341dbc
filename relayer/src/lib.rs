#![doc = include_str!("../README.md")]

pub mod config;
pub mod daemon;
pub mod error;

// The crates the binary wires together, under the paths they had when the
// relayer was one crate (`relayer::chain`, `relayer::services::oracle`, ...),
// so call sites elsewhere keep working.
pub use relayer_chain_cosmos as cosmos;
pub use relayer_chain_cosmos::keys;
#[cfg(feature = "embedded")]
pub use relayer_chain_embedded as embedded;
pub use relayer_core::{chain, coins, contracts, deploy, follow, metrics, outbox, store};
#[cfg(feature = "embedded")]
pub use relayer_devnet as devnet;

/// The services, one crate each.
pub mod services {
    pub use relayer_bridge as bridge;
    pub use relayer_gateway as gateway;
    pub use relayer_oracle as oracle;
    pub use relayer_solver as solver;
    pub use relayer_watchtower as watchtower;
}

pub use error::RelayerError;
pub use relayer_core::{ChainError, ConfigError, DeployError, FailureClass, StoreError};
