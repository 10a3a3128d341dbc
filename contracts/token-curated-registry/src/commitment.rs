//! The vote commitment.
//!
//! `commitment = sha256(preimage)` with
//!
//! ```text
//! preimage = "wevalue-tcr-commit-v1"
//!          || u8 len(chain_id) || chain_id
//!          || u8 len(contract) || contract      (bech32 text)
//!          || u64 poll_id (big-endian)
//!          || u8 len(voter)    || voter         (bech32 text)
//!          || u8 choice                         (1 = keep, 0 = remove)
//!          || u8 len(salt)     || salt          (16 to 64 random bytes)
//! ```
//!
//! Every variable-length field is length-prefixed, so no two inputs share a
//! preimage. Binding the voter and the contract means a commitment copied
//! from another voter, another poll or another deployment never reveals.

use cosmwasm_std::{Addr, HexBinary};
use sha2::{Digest, Sha256};

use crate::error::ContractError;
use crate::state::Choice;

/// Domain separator of version 1 of the encoding.
pub const DOMAIN: &[u8] = b"wevalue-tcr-commit-v1";
pub const SALT_MIN: usize = 16;
pub const SALT_MAX: usize = 64;

pub fn check_salt(salt: &[u8]) -> Result<(), ContractError> {
    let len = salt.len();
    if (SALT_MIN..=SALT_MAX).contains(&len) {
        Ok(())
    } else {
        Err(ContractError::InvalidSalt { len })
    }
}

fn push_prefixed(out: &mut Vec<u8>, field: &[u8]) {
    // Chain ids, bech32 addresses (at most 90 characters) and salts all fit one byte.
    out.push(field.len() as u8);
    out.extend_from_slice(field);
}

/// The commitment for these inputs; the salt must already be checked.
pub fn commitment(
    chain_id: &str,
    contract: &Addr,
    poll_id: u64,
    voter: &Addr,
    choice: Choice,
    salt: &[u8],
) -> HexBinary {
    let mut pre = Vec::with_capacity(DOMAIN.len() + 256);
    pre.extend_from_slice(DOMAIN);
    push_prefixed(&mut pre, chain_id.as_bytes());
    push_prefixed(&mut pre, contract.as_bytes());
    pre.extend_from_slice(&poll_id.to_be_bytes());
    push_prefixed(&mut pre, voter.as_bytes());
    pre.push(choice.byte());
    push_prefixed(&mut pre, salt);
    HexBinary::from(Sha256::digest(&pre).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_changes_the_commitment() {
        let c = Addr::unchecked("contract");
        let v = Addr::unchecked("voter");
        let salt = [7u8; 32];
        let base = commitment("chain", &c, 1, &v, Choice::Keep, &salt);
        assert_eq!(base.len(), 32);
        let others = [
            commitment("chain2", &c, 1, &v, Choice::Keep, &salt),
            commitment(
                "chain",
                &Addr::unchecked("contract2"),
                1,
                &v,
                Choice::Keep,
                &salt,
            ),
            commitment("chain", &c, 2, &v, Choice::Keep, &salt),
            commitment(
                "chain",
                &c,
                1,
                &Addr::unchecked("voter2"),
                Choice::Keep,
                &salt,
            ),
            commitment("chain", &c, 1, &v, Choice::Remove, &salt),
            commitment("chain", &c, 1, &v, Choice::Keep, &[8u8; 32]),
        ];
        for other in others {
            assert_ne!(base, other);
        }
        // Stable across releases: clients hard-code this encoding.
        assert_eq!(base, commitment("chain", &c, 1, &v, Choice::Keep, &salt));
    }

    #[test]
    fn salts_are_bounded() {
        assert_eq!(
            check_salt(&[0; 15]),
            Err(ContractError::InvalidSalt { len: 15 })
        );
        assert_eq!(
            check_salt(&[0; 65]),
            Err(ContractError::InvalidSalt { len: 65 })
        );
        check_salt(&[0; 16]).unwrap();
        check_salt(&[0; 64]).unwrap();
    }
}
