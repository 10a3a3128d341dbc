//! The suite's contracts as the relayer knows them: one row per contract,
//! with the native implementation the embedded chain runs and the artifact
//! name whose wasm a Cosmos chain stores. Adding a contract is one line in
//! [`REGISTRY`].

use std::path::{Path, PathBuf};

use cosmwasm_std::{Checksum, Empty};
use cw_multi_test::{Contract, ContractWrapper};
use sha2::{Digest, Sha256};

/// Builds the native (cw-multi-test) implementation, carrying the checksum
/// the embedded chain should report for it.
pub type NativeConstructor = fn(Checksum) -> Box<dyn Contract<Empty>>;

/// A contract the relayer can deploy.
#[derive(Clone, Copy, Debug)]
pub struct RegisteredContract {
    /// Name used in deploy specs, deployment files and the CLI.
    pub name: &'static str,
    /// `artifacts/<artifact>.wasm`.
    pub artifact: &'static str,
    /// Native implementation for the embedded chain.
    pub native: NativeConstructor,
}

/// Wraps a contract crate's entry points (`instantiate`, `execute`, `query`,
/// `migrate` in `$module`) into a cw-multi-test contract.
macro_rules! native {
    ($module:path) => {{
        fn build(checksum: Checksum) -> Box<dyn Contract<Empty>> {
            use $module as m;
            Box::new(
                ContractWrapper::new(m::execute, m::instantiate, m::query)
                    .with_migrate(m::migrate)
                    .with_checksum(checksum),
            )
        }
        build
    }};
}

/// Every contract the relayer can deploy.
pub const REGISTRY: &[RegisteredContract] = &[
    RegisteredContract {
        name: "data-registry",
        artifact: "data-registry",
        native: native!(data_registry::contract),
    },
    RegisteredContract {
        name: "token-curated-registry",
        artifact: "token-curated-registry",
        native: native!(token_curated_registry::contract),
    },
    RegisteredContract {
        name: "payment-channel",
        artifact: "payment-channel",
        native: native!(payment_channel::contract),
    },
    RegisteredContract {
        name: "value-contract",
        artifact: "value-contract",
        native: native!(value_contract::contract),
    },
    RegisteredContract {
        name: "cw20-base",
        artifact: "cw20-base",
        native: native!(cw20_base::contract),
    },
];

/// Looks a contract up by name.
pub fn lookup(name: &str) -> Option<&'static RegisteredContract> {
    REGISTRY.iter().find(|c| c.name == name)
}

/// Comma-separated registered names, for error messages.
pub fn known_names() -> String {
    REGISTRY
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl RegisteredContract {
    /// Path of the optimized wasm under an artifacts directory.
    pub fn artifact_path(&self, artifacts_dir: &Path) -> PathBuf {
        artifacts_dir.join(format!("{}.wasm", self.artifact))
    }

    /// Reads the wasm if the artifact exists.
    pub fn read_wasm(&self, artifacts_dir: &Path) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.artifact_path(artifacts_dir)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The checksum the embedded chain records for a contract: the sha256 of its
/// wasm when the artifact is available (the same value wasmd reports), else
/// a stable digest of the name so re-deploys still compare equal.
pub fn embedded_checksum(name: &str, wasm: Option<&[u8]>) -> Checksum {
    match wasm {
        Some(bytes) => Checksum::generate(bytes),
        None => {
            let digest: [u8; 32] = Sha256::digest(format!("wevalue-native:{name}")).into();
            Checksum::from(digest)
        }
    }
}

/// The workspace's `artifacts/` directory, for tests and defaults.
pub fn workspace_artifacts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../artifacts")
}
