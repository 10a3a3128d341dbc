#![doc = include_str!("../README.md")]

pub mod chain;
pub mod config;
pub mod contracts;
pub mod cosmos;
pub mod daemon;
pub mod deploy;
pub mod devnet;
pub mod embedded;
pub mod error;
pub mod follow;
pub mod keys;
pub mod metrics;
pub mod outbox;
pub mod services;
pub mod store;

pub use error::{ChainError, ConfigError, DeployError, RelayerError, StoreError};
