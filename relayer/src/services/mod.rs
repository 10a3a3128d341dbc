//! The relayer's services, each on the core (chain capabilities, store,
//! outbox, event follower) and each tested against the embedded chain:
//!
//! - [`oracle`]: proof of value creation for value-contract tasks.
//! - [`solver`]: optimal participant matching for tasks in their matching window.
//! - [`watchtower`]: the payment-channel watchtower and settlement bridge.

pub mod oracle;
pub mod solver;
pub mod watchtower;
