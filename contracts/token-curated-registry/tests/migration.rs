//! Migrations: downgrades are refused, and a registry from before the
//! security hardening (parameters without the new fields, no minimum
//! deposit floor, no forfeit account, polls and votes without penalties)
//! is upgraded in place while its running poll keeps its rules.

mod suite;

use cosmwasm_std::{Storage, Uint128};
use cw_multi_test::Executor;
use suite::*;
use token_curated_registry::migrations::{DEFAULT_GRACE_SECS, DEFAULT_UNREVEALED_PENALTY_PCT};
use token_curated_registry::msg::MigrateMsg;
use token_curated_registry::state::{Choice, POLLS, VOTES};
use token_curated_registry::ContractError;

fn migrate(s: &mut Suite) -> Res {
    let (owner, tcr, code) = (s.owner.clone(), s.tcr.clone(), s.tcr_code);
    s.app.migrate_contract(owner, tcr, &MigrateMsg {}, code)
}

/// Drops the named fields from the JSON record stored under `key`.
fn strip(storage: &mut dyn Storage, key: &[u8], fields: &[&str]) {
    let mut record: serde_json::Value = serde_json::from_slice(&storage.get(key).unwrap()).unwrap();
    for f in fields {
        assert!(record.as_object_mut().unwrap().remove(*f).is_some(), "{f}");
    }
    storage.set(key, &serde_json::to_vec(&record).unwrap());
}

#[test]
fn migrate_refuses_downgrade() {
    let mut s = SuiteBuilder::new().build();
    migrate(&mut s).unwrap();
    let tcr = s.tcr.clone();
    cw2::set_contract_version(
        &mut *s.app.contract_storage_mut(&tcr),
        "crates.io:wevalue-token-curated-registry",
        "9.0.0",
    )
    .unwrap();
    let err = migrate(&mut s)
        .unwrap_err()
        .downcast::<ContractError>()
        .unwrap();
    assert!(matches!(err, ContractError::Migration(_)));
}

#[test]
fn a_registry_from_before_the_hardening_is_upgraded() {
    let mut s = SuiteBuilder::new().build();
    let (alice, bob) = (s.addr("alice"), s.addr("bob"));
    let (carol, dave) = (s.addr("carol"), s.addr("dave"));
    s.apply_self(&alice, 2 * MIN_DEPOSIT).unwrap();
    s.advance(APPLY);
    s.update(alice.as_str()).unwrap();
    let poll = s.challenge_ok(&bob, alice.as_str());
    for v in [&carol, &dave] {
        s.deposit_votes(v, 100).unwrap();
        s.commit(v, poll, Choice::Keep, 1, 100).unwrap();
    }
    // Rewrite the state the way the old code stored it.
    let tcr = s.tcr.clone();
    {
        let mut storage = s.app.contract_storage_mut(&tcr);
        let old_params = format!(
            r#"{{"min_deposit":"{MIN_DEPOSIT}","apply_stage_secs":{APPLY},"commit_stage_secs":{COMMIT},"reveal_stage_secs":{REVEAL},"dispensation_pct":50,"vote_quorum_pct":50,"exit_delay_secs":0}}"#
        );
        storage.set(b"params", old_params.as_bytes());
        storage.remove(b"floor");
        storage.remove(b"forfeited");
        strip(&mut *storage, &POLLS.key(poll), &["m", "x"]);
        strip(&mut *storage, &VOTES.key((poll, &carol)), &["x"]);
        strip(&mut *storage, &VOTES.key((poll, &dave)), &["x"]);
    }
    let res = migrate(&mut s).unwrap();
    assert_eq!(attr(&res, "params"), "upgraded");
    let p = s.params();
    assert_eq!(p.exit_delay_secs, COMMIT + REVEAL);
    assert_eq!(p.deposit_grace_secs, DEFAULT_GRACE_SECS);
    assert_eq!(p.min_survival_weight, Uint128::new(MIN_DEPOSIT));
    assert_eq!(p.unrevealed_penalty_pct, DEFAULT_UNREVEALED_PENALTY_PCT);
    let cfg = s.config();
    assert_eq!(cfg.min_deposit_in_force.u128(), MIN_DEPOSIT);
    assert_eq!((cfg.forfeited.u128(), cfg.pending_min_deposit), (0, None));
    // The running poll keeps its old rules: dave's unrevealed vote forfeits
    // nothing, and carol's 100 are enough for the survival to count.
    s.advance(COMMIT);
    s.reveal(&carol, poll, Choice::Keep, 1).unwrap();
    s.advance(REVEAL);
    assert_eq!(s.voter(&dave).forfeit.u128(), 0);
    let res = s.update(alice.as_str()).unwrap();
    assert_eq!(attr(&res, "survival_counted"), "true");
    assert_eq!(s.listing(alice.as_str()).challenges_survived, 1);
    s.assert_conserved();
    // A second migration changes nothing.
    let res = migrate(&mut s).unwrap();
    assert!(res
        .events
        .iter()
        .flat_map(|e| &e.attributes)
        .all(|a| a.key != "params"));
    assert_eq!(s.params(), p);
}
