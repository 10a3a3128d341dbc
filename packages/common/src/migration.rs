//! The guard every `migrate` entry point runs before touching state.

use cosmwasm_std::{StdError, Storage};
use semver::Version;
use thiserror::Error;

#[derive(Error, Debug, PartialEq)]
pub enum MigrationError {
    #[error(transparent)]
    Std(#[from] StdError),

    #[error("cannot migrate from contract {found:?}: this code is {expected:?}")]
    WrongContract { expected: String, found: String },

    #[error("cannot migrate from version {from} to older version {to}")]
    Downgrade { from: String, to: String },

    #[error("invalid semantic version {version:?}")]
    InvalidVersion { version: String },
}

fn parse(version: &str) -> Result<Version, MigrationError> {
    version.parse().map_err(|_| MigrationError::InvalidVersion {
        version: version.to_string(),
    })
}

/// Checks that the stored cw2 info names `contract` at a version not newer
/// than `version`, then records `version`. Returns the version migrated from.
pub fn ensure_upgrade(
    storage: &mut dyn Storage,
    contract: &str,
    version: &str,
) -> Result<Version, MigrationError> {
    let stored = cw2::get_contract_version(storage)?;
    if stored.contract != contract {
        return Err(MigrationError::WrongContract {
            expected: contract.to_string(),
            found: stored.contract,
        });
    }
    let from = parse(&stored.version)?;
    let to = parse(version)?;
    if to < from {
        return Err(MigrationError::Downgrade {
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    cw2::set_contract_version(storage, contract, version)?;
    Ok(from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockStorage;

    #[test]
    fn upgrades_pass_and_downgrades_fail() {
        let mut store = MockStorage::new();
        cw2::set_contract_version(&mut store, "crates.io:a", "0.2.0").unwrap();
        assert_eq!(
            ensure_upgrade(&mut store, "crates.io:a", "0.1.9"),
            Err(MigrationError::Downgrade {
                from: "0.2.0".into(),
                to: "0.1.9".into()
            })
        );
        assert_eq!(
            ensure_upgrade(&mut store, "crates.io:b", "0.3.0"),
            Err(MigrationError::WrongContract {
                expected: "crates.io:b".into(),
                found: "crates.io:a".into()
            })
        );
        assert_eq!(
            ensure_upgrade(&mut store, "crates.io:a", "x"),
            Err(MigrationError::InvalidVersion {
                version: "x".into()
            })
        );
        assert_eq!(
            ensure_upgrade(&mut store, "crates.io:a", "0.2.0").unwrap(),
            Version::new(0, 2, 0)
        );
        ensure_upgrade(&mut store, "crates.io:a", "0.3.0").unwrap();
        assert_eq!(cw2::get_contract_version(&store).unwrap().version, "0.3.0");
    }
}
