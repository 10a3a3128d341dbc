//! The binary's top-level error: every crate's typed errors plus what only
//! the daemon and the CLI can get wrong; the CLI adds context with anyhow.

use relayer_core::outbox::OutboxError;
use relayer_core::{ChainError, ConfigError, DeployError, StoreError};
use thiserror::Error;

/// Top-level failures of the daemon and the CLI commands.
#[derive(Debug, Error)]
pub enum RelayerError {
    /// Configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// State store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Chain access.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// Deployment.
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// Outbox.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The metrics endpoint could not start.
    #[error("telemetry endpoint {addr}: {reason}")]
    Telemetry {
        /// Address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The deployment file belongs to another chain.
    #[error("deployment file {path} is for chain {found}, not {expected}")]
    DeploymentChainMismatch {
        /// File.
        path: String,
        /// Chain id in the file.
        found: String,
        /// Configured chain id.
        expected: String,
    },
    /// A contract name missing from the deployment.
    #[error("contract `{name}` is not in the deployment ({available})")]
    NotDeployed {
        /// Name asked for.
        name: String,
        /// Names available.
        available: String,
    },
    /// A service could not start.
    #[error("{service}: {reason}")]
    Service {
        /// Which service.
        service: &'static str,
        /// Why.
        reason: String,
    },
    /// The node or the signer is not fit to run on (health check).
    #[error("health check of {rpc_url} failed: {problems}")]
    Unhealthy {
        /// Node checked.
        rpc_url: String,
        /// What is wrong, `; `-separated.
        problems: String,
    },
    /// The configured backend is not in this build.
    #[error("chain.backend = \"{backend}\" is not available in this build: {reason}")]
    BackendUnavailable {
        /// Backend name.
        backend: &'static str,
        /// How to get it.
        reason: &'static str,
    },
}
