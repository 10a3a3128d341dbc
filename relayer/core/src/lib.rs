//! The relayer's core: what every service and backend stands on.
//!
//! - [`chain`]: small async capability traits (`SmartQuery`, `ChainStatus`,
//!   `TxClient`, `CodeClient`, `BlockEventSource`) and the types they speak.
//! - [`error`]: typed errors, one enum per concern.
//! - [`store`]: SQLite with migrations: event cursors, the outbox, and the
//!   per-component schema versions services migrate their own tables with.
//! - [`outbox`]: every transaction recorded before it is broadcast, and
//!   reconciled against the chain after a crash.
//! - [`follow`]: contract events block by block from a cursor.
//! - [`metrics`]: the Prometheus registry and the `/metrics` + `/health` endpoint.
//! - [`vouchers`]: [`vouchers::VoucherSink`], the durable hand-off of
//!   vouchers between services (the gateway stores, the watchtower keeps).
//! - [`deploy`], [`contracts`], [`coins`]: deploy specs and deployment files.
//!
//! Nothing here links cw-multi-test or a contract's execution code.

pub mod chain;
pub mod coins;
pub mod contracts;
pub mod deploy;
pub mod error;
pub mod follow;
pub mod http;
pub mod metrics;
pub mod outbox;
pub mod store;
pub mod vouchers;

pub use error::{ChainError, ConfigError, DeployError, FailureClass, StoreError};
