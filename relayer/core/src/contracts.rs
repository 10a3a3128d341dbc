//! The suite's contracts as the relayer knows them: one row per contract,
//! naming the artifact whose wasm a chain stores. The embedded chain's
//! native implementations are listed apart (`relayer-chain-embedded`), so
//! nothing here links a contract's execution code. Adding a contract is one
//! line in [`REGISTRY`] (and one in the embedded chain's table).

use std::path::{Path, PathBuf};

use cosmwasm_std::Checksum;
use sha2::{Digest, Sha256};

/// A contract the relayer can deploy.
#[derive(Clone, Copy, Debug)]
pub struct RegisteredContract {
    /// Name used in deploy specs, deployment files and the CLI.
    pub name: &'static str,
    /// `artifacts/<artifact>.wasm`.
    pub artifact: &'static str,
}

/// Every contract the relayer can deploy.
pub const REGISTRY: &[RegisteredContract] = &[
    RegisteredContract {
        name: "data-registry",
        artifact: "data-registry",
    },
    RegisteredContract {
        name: "token-curated-registry",
        artifact: "token-curated-registry",
    },
    RegisteredContract {
        name: "payment-channel",
        artifact: "payment-channel",
    },
    RegisteredContract {
        name: "value-contract",
        artifact: "value-contract",
    },
    RegisteredContract {
        name: "cw20-base",
        artifact: "cw20-base",
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
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts")
}
