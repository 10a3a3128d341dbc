//! What may be a subject: an address of this chain in its one canonical
//! form, or a plain id that does not look like an address.

use cosmwasm_std::{ensure, Addr, Api};

use crate::error::ContractError;

/// Longest subject id.
pub const SUBJECT_MAX: usize = 128;

/// A checked subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// An address of this chain, in the form `addr_validate` accepts: only
    /// that address may apply for it.
    Address(Addr),
    /// Any other id, which anyone may apply for, once.
    Id,
}

/// Checks `subject` for an application. Anything that decodes as bech32 in
/// any case (`WASM1…`, `Wasm1…`, `osmo1…` of the same key) is treated as an
/// address and must be this chain's address in its normalized form;
/// otherwise one seller could be registered under several spellings, or a
/// squatter could take a spelling of someone else's address.
pub fn check_subject(api: &dyn Api, subject: &str) -> Result<Subject, ContractError> {
    let err = |reason| ContractError::InvalidSubject {
        subject: subject.to_string(),
        reason,
    };
    ensure!(!subject.is_empty(), err("must not be empty"));
    ensure!(
        subject.len() <= SUBJECT_MAX,
        err("must be at most 128 characters")
    );
    ensure!(
        subject.bytes().all(|b| b.is_ascii_graphic()),
        err("only printable ASCII without spaces is allowed")
    );
    if bech32::decode(&subject.to_ascii_lowercase()).is_err() {
        return Ok(Subject::Id);
    }
    match api.addr_validate(subject) {
        Ok(addr) => Ok(Subject::Address(addr)),
        Err(_) => Err(err(
            "an address must be one of this chain, written in its normalized (lowercase) form",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bech32::{Bech32, Hrp};
    use cosmwasm_std::testing::MockApi;

    #[test]
    fn address_forms_are_canonical_or_refused() {
        let api = MockApi::default();
        let alice = api.addr_make("alice");
        assert_eq!(
            check_subject(&api, alice.as_str()),
            Ok(Subject::Address(alice.clone()))
        );
        let (_, data) = bech32::decode(alice.as_str()).unwrap();
        let foreign = bech32::encode::<Bech32>(Hrp::parse("osmo").unwrap(), &data).unwrap();
        let upper = alice.as_str().to_ascii_uppercase();
        let mut mixed = alice.to_string();
        mixed.replace_range(0..1, &mixed[0..1].to_ascii_uppercase());
        for form in [upper, mixed, foreign] {
            assert!(
                matches!(
                    check_subject(&api, &form),
                    Err(ContractError::InvalidSubject { .. })
                ),
                "{form}"
            );
        }
        // Plain ids, including ones with a `1` in them, are ids.
        for id in ["station-42", "sensor1abc", "QmNotAnAddress"] {
            assert_eq!(check_subject(&api, id), Ok(Subject::Id), "{id}");
        }
        assert!(matches!(
            check_subject(&api, "has space"),
            Err(ContractError::InvalidSubject { .. })
        ));
    }
}
