//! `relayer devnet`: the project's main job. Starts a chain — the embedded
//! chain in this process, or a running wasmd localnet
//! (`--chain localnet`) — deploys the suite (`deploy.example.toml`), starts
//! three relayer instances (in process, or as separate OS processes of the
//! same binary on the localnet) and runs a smart-city scenario end to end,
//! then prints a report with the gas of every step from the chain's tx
//! results:
//!
//! 1. two data sellers apply to the token-curated registry and get listed;
//! 2. they list sensor streams in the data registry;
//! 3. a buyer finds one by place and category;
//! 4. the seller's data gateway (on the city relayer) serves the listing
//!    from a simulated PM2.5 sensor publishing to a local Mosquitto; the
//!    buyer opens a payment channel and streams the feed over a websocket,
//!    paid per message (the watchtower stores the vouchers and settles them
//!    in batches);
//! 5. the buyer starts a close on a stale state; the watchtower defends it;
//! 6. the buyer rates the listing (a verified purchase);
//! 7. two tasks side by side: a neighbourhood energy-saving competition
//!    (two sponsors, three households) and bike rebalancing paid per bike
//!    (four riders, where the solver's matching beats the contract's rule
//!    and is used); confirmed, executed, attested by a 2-of-3 oracle quorum
//!    run as three relayer instances (each its own key and SQLite store),
//!    settled and claimed;
//! 8. after the challenge window the buyer finalizes its channel;
//! 9. on a localnet (two chains, `ci/localnet.sh up all`): a buyer whose
//!    money lives on the hub funds a channel by one ICS-20 transfer with a
//!    destination callback, pays per reading, and the seller's own relayer
//!    (watchtower with an IBC payout, settlement bridge, supervised Hermes)
//!    pays the claim out on the hub, followed to its acknowledgement. The
//!    embedded chain has no IBC: its report says so.
//!
//! Every step checks its outcome on chain; a failed check or transaction
//! ends the run with [`DevnetError`] (non-zero exit in the binary).

mod bikes;
mod chaos;
mod inproc;
mod localnet;
mod net;
mod process;
mod relayers;
mod report;
mod scenario;
mod sensor;
mod streaming;
mod tasks;
mod timing;
mod xchain;

pub use chaos::Chaos;
pub use localnet::{Hub, Localnet, LocalnetOptions};
pub use net::{Net, DENOM, SPEC};
pub use process::{daemon_config, ProcessChain, ProcessFiles, OVERRIDING_ENV};
pub use relayers::{free_port, IbcPayout, Instance, InstanceSpec, Relayers, Roles, Services};
pub use report::{Balance, Figures, Report, Step};
pub use scenario::{run, run_with, Running};
pub use timing::Timing;
pub use xchain::{CrossChain, HubBalance};

use std::path::PathBuf;

use thiserror::Error;

use relayer_core::error::{ChainError, DeployError, StoreError};

/// Which chain the devnet runs on.
#[derive(Clone, Debug, Default)]
pub enum ChainChoice {
    /// cw-multi-test in this process: time jumps over the scenario's
    /// periods; relayer instances run as tasks of this process.
    #[default]
    Embedded,
    /// A running wasmd localnet: short periods that pass in real time;
    /// relayer instances run as separate OS processes.
    Localnet(LocalnetOptions),
}

/// How to run the devnet.
#[derive(Clone, Debug)]
pub struct DevnetOptions {
    /// The chain.
    pub chain: ChainChoice,
    /// Chain id of the embedded chain (a localnet names its own).
    pub chain_id: String,
    /// Seed of everything random (keys, meter readings, voucher amounts).
    pub seed: u64,
    /// PM2.5 messages the buyer streams and pays for, one voucher every 32
    /// (at least 10; flag `--vouchers`).
    pub vouchers: u32,
    /// Where the optimized wasm artifacts are (code checksums; the bytes a
    /// real chain stores).
    pub artifacts_dir: PathBuf,
    /// Directory for the services' SQLite files, configs and logs (emptied first).
    pub state_dir: PathBuf,
}

/// Seeded crashes of the relayer instances during the scenario (the
/// reliability trials): (seed, most crashes, chance per crash point in ‰).
#[derive(Clone, Copy, Debug)]
pub struct ChaosOptions {
    /// Seed of the crash schedule.
    pub seed: u64,
    /// Most crashes in the run.
    pub crashes: u32,
    /// Chance of a crash at each crash point, per mille.
    pub per_mille: u64,
}

impl Default for DevnetOptions {
    fn default() -> Self {
        Self {
            chain: ChainChoice::Embedded,
            chain_id: "wevalue-devnet".into(),
            seed: 7,
            vouchers: 5_000,
            artifacts_dir: relayer_core::contracts::workspace_artifacts_dir(),
            state_dir: std::env::temp_dir().join("wevalue-devnet"),
        }
    }
}

/// Why the devnet stopped.
#[derive(Debug, Error)]
pub enum DevnetError {
    /// Bad options.
    #[error("devnet option {option}: {reason}")]
    Option {
        /// Which option.
        option: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A chain call failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A transaction of the scenario failed.
    #[error("{actor} → {contract}: {source}")]
    Tx {
        /// Who sent it.
        actor: String,
        /// To which contract.
        contract: String,
        /// The failure (boxed: it keeps every `Result` of the devnet small).
        #[source]
        source: Box<ChainError>,
    },
    /// Deployment failed.
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// A service's store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A service failed.
    #[error("{service}: {reason}")]
    Service {
        /// Which service.
        service: &'static str,
        /// What failed.
        reason: String,
    },
    /// A step's outcome on chain is not what it should be.
    #[error("check failed: {0}")]
    Check(String),
    /// The scenario itself is inconsistent (a bug).
    #[error("scenario: {0}")]
    Scenario(String),
    /// Filesystem.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: String,
        /// Error.
        #[source]
        source: std::io::Error,
    },
}
