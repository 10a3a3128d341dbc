//! The security review's findings on challenges, exits, subjects and the
//! message names: each test fails on the registry before the hardening.

mod suite;

use std::collections::BTreeSet;

use cosmwasm_std::Uint128;
use cw_multi_test::Executor;
use suite::*;
use token_curated_registry::msg::{ExecuteMsg, InstantiateMsg, MigrateMsg, ParamsUpdate, QueryMsg};
use token_curated_registry::state::{Choice, ListingStatus};
use token_curated_registry::ContractError;
use wevalue_common::asset::AssetInfoUnchecked;

fn listed(s: &mut Suite, who: &str) -> String {
    let a = s.addr(who);
    s.apply_self(&a, MIN_DEPOSIT).unwrap();
    s.advance(APPLY);
    s.update(a.as_str()).unwrap();
    a.to_string()
}

/// `voter` deposits `weight` and votes `choice` in `poll` (commit and reveal).
fn vote(s: &mut Suite, voter: &cosmwasm_std::Addr, poll: u64, choice: Choice, weight: u128) {
    s.deposit_votes(voter, weight).unwrap();
    s.commit(voter, poll, choice, 7, weight).unwrap();
}

fn reveal_all(s: &mut Suite, poll: u64, votes: &[(&cosmwasm_std::Addr, Choice)]) {
    s.advance(COMMIT);
    for (voter, choice) in votes {
        s.reveal(voter, poll, *choice, 7).unwrap();
    }
    s.advance(REVEAL);
}

#[test]
fn an_owner_cannot_challenge_its_own_listing_or_application() {
    let mut s = SuiteBuilder::new().build();
    let subject = listed(&mut s, "alice");
    let alice = s.addr("alice");
    assert_eq!(
        contract_err(s.challenge(&alice, &subject, MIN_DEPOSIT)),
        ContractError::SelfChallenge {
            subject: subject.clone()
        }
    );
    s.apply(&alice, "station-1", MIN_DEPOSIT).unwrap();
    assert_eq!(
        contract_err(s.challenge(&alice, "station-1", MIN_DEPOSIT)),
        ContractError::SelfChallenge {
            subject: "station-1".into()
        }
    );
    // Nothing was held or started.
    assert_eq!(s.config().next_poll_id, 1);
    s.assert_conserved();
}

#[test]
fn surviving_a_challenge_never_skips_the_application_period() {
    let mut params = default_params();
    params.apply_stage_secs = 4 * (COMMIT + REVEAL);
    let mut s = SuiteBuilder::new().with_params(params).build();
    let alice = s.addr("alice");
    // A second address of alice's challenges her application at once.
    let sock = s.addr("alice-second-address");
    s.mint(&sock, 10 * MIN_DEPOSIT);
    s.apply_self(&alice, MIN_DEPOSIT).unwrap();
    let application_end = s.listing(alice.as_str()).application_end;
    let poll = s.challenge_ok(&sock, alice.as_str());
    vote(&mut s, &alice, poll, Choice::Keep, MIN_SURVIVAL);
    reveal_all(&mut s, poll, &[(&alice, Choice::Keep)]);
    let res = s.update(alice.as_str()).unwrap();
    assert_eq!(attr(&res, "result"), "kept_application");
    let l = s.listing(alice.as_str());
    assert_eq!(l.status, ListingStatus::Application);
    assert!(!s.is_listed(alice.as_str()));
    // The survival counts (enough weight was revealed), the listing waits.
    assert_eq!(l.challenges_survived, 1);
    assert_eq!(
        contract_err(s.update(alice.as_str())),
        ContractError::NothingToUpdate {
            subject: alice.to_string(),
            reason: "the application period has not ended"
        }
    );
    s.advance(application_end.seconds() - s.now().seconds());
    assert_eq!(attr(&s.update(alice.as_str()).unwrap(), "result"), "listed");
    assert!(s.is_listed(alice.as_str()));
    assert_eq!(
        s.listing(alice.as_str()).listed_since,
        Some(application_end)
    );
    s.assert_conserved();
}

#[test]
fn a_survival_counts_only_with_the_minimum_revealed_weight() {
    let mut s = SuiteBuilder::new().build();
    let subject = listed(&mut s, "alice");
    let alice = s.addr("alice");
    let sock = s.addr("alice-second-address");
    s.mint(&sock, 10 * MIN_DEPOSIT);
    // A sham poll: one unit short of the minimum revealed weight.
    let poll = s.challenge_ok(&sock, &subject);
    vote(&mut s, &alice, poll, Choice::Keep, MIN_SURVIVAL - 1);
    reveal_all(&mut s, poll, &[(&alice, Choice::Keep)]);
    let res = s.update(&subject).unwrap();
    assert_eq!(attr(&res, "result"), "kept");
    assert_eq!(attr(&res, "survival_counted"), "false");
    assert_eq!(s.listing(&subject).challenges_survived, 0);
    assert_eq!(s.reputation(&subject).survival_part, 0);
    // Weight on either side counts: 300 keep + 200 remove is enough.
    let (carol, dave) = (s.addr("carol"), s.addr("dave"));
    let poll = s.challenge_ok(&sock, &subject);
    vote(&mut s, &carol, poll, Choice::Keep, 300);
    vote(&mut s, &dave, poll, Choice::Remove, 200);
    reveal_all(
        &mut s,
        poll,
        &[(&carol, Choice::Keep), (&dave, Choice::Remove)],
    );
    let res = s.update(&subject).unwrap();
    assert_eq!(attr(&res, "survival_counted"), "true");
    assert_eq!(s.listing(&subject).challenges_survived, 1);
    assert_eq!(s.reputation(&subject).survival_part, 1_500);
    s.assert_conserved();
}

#[test]
fn a_sham_poll_is_a_real_poll_honest_voters_can_win() {
    let mut s = SuiteBuilder::new().build();
    let subject = listed(&mut s, "alice");
    let alice = s.addr("alice");
    let sock = s.addr("alice-second-address");
    s.mint(&sock, 10 * MIN_DEPOSIT);
    let poll = s.challenge_ok(&sock, &subject);
    // While it runs nobody else can challenge...
    let bob = s.addr("bob");
    assert_eq!(
        contract_err(s.challenge(&bob, &subject, MIN_DEPOSIT)),
        ContractError::ChallengeOpen {
            subject: subject.clone(),
            poll_id: poll
        }
    );
    // ...but everyone can vote in it.
    vote(&mut s, &alice, poll, Choice::Keep, 100);
    vote(&mut s, &bob, poll, Choice::Remove, 1_000);
    reveal_all(
        &mut s,
        poll,
        &[(&alice, Choice::Keep), (&bob, Choice::Remove)],
    );
    assert_eq!(attr(&s.update(&subject).unwrap(), "result"), "removed");
    assert!(!s.is_listed(&subject));
    s.assert_conserved();
}

fn instantiate_err(s: &mut Suite, params: token_curated_registry::state::Params) -> ContractError {
    let (owner, code) = (s.owner.clone(), s.tcr_code);
    s.app
        .instantiate_contract(
            code,
            owner,
            &InstantiateMsg {
                owner: None,
                stake: AssetInfoUnchecked::Native(DENOM.into()),
                params,
            },
            &[],
            "tcr",
            None,
        )
        .unwrap_err()
        .downcast()
        .unwrap()
}

#[test]
fn the_exit_delay_covers_a_whole_poll() {
    let mut s = SuiteBuilder::new().build();
    let too_short = ContractError::InvalidParam {
        param: "exit_delay_secs",
        reason: "must be at least commit_stage_secs + reveal_stage_secs",
    };
    let mut params = default_params();
    params.exit_delay_secs = 0;
    assert_eq!(instantiate_err(&mut s, params), too_short);
    let owner = s.owner.clone();
    for update in [
        ParamsUpdate {
            exit_delay_secs: Some(COMMIT + REVEAL - 1),
            ..Default::default()
        },
        // Lengthening the poll past the exit delay is refused too.
        ParamsUpdate {
            commit_stage_secs: Some(EXIT_DELAY),
            ..Default::default()
        },
    ] {
        assert_eq!(contract_err(s.update_params(&owner, update)), too_short);
    }
    // A seller who sees a challenge coming and starts its exit first is
    // still challenged, and the poll ends before the exit would.
    let subject = listed(&mut s, "alice");
    let (alice, bob) = (s.addr("alice"), s.addr("bob"));
    s.init_exit(&alice, &subject).unwrap();
    let exit_at = s.listing(&subject).exit_at.unwrap();
    let poll = s.challenge_ok(&bob, &subject);
    assert!(s.poll(poll).reveal_end <= exit_at);
    s.advance(COMMIT + REVEAL);
    assert_eq!(attr(&s.update(&subject).unwrap(), "result"), "removed");
    s.assert_conserved();
}

#[test]
fn an_address_has_one_spelling() {
    let mut s = SuiteBuilder::new().build();
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    let (_, data) = bech32::decode(alice.as_str()).unwrap();
    let osmo = bech32::Hrp::parse("osmo").unwrap();
    let foreign = bech32::encode::<bech32::Bech32>(osmo, &data).unwrap();
    let upper = alice.as_str().to_ascii_uppercase();
    let mut mixed = alice.to_string();
    mixed.replace_range(..1, "C");
    for spelling in [&upper, &mixed, &foreign] {
        for sender in [&alice, &bob] {
            assert_eq!(
                contract_err(s.apply(sender, spelling, MIN_DEPOSIT)),
                ContractError::InvalidSubject {
                    subject: spelling.clone(),
                    reason: "an address must be one of this chain, written in its normalized (lowercase) form"
                }
            );
        }
    }
    // The canonical form is alice's alone.
    assert_eq!(
        contract_err(s.apply(&bob, alice.as_str(), MIN_DEPOSIT)),
        ContractError::NotSubject {
            subject: alice.to_string()
        }
    );
    s.apply_self(&alice, MIN_DEPOSIT).unwrap();
    s.advance(APPLY);
    s.update(alice.as_str()).unwrap();
    assert!(s.is_listed(alice.as_str()));
    assert!(!s.is_listed(&upper));
    assert_eq!(s.listings(None, None).listings.len(), 1);
}

#[test]
fn no_execute_and_query_share_a_name() {
    let api = cosmwasm_schema::generate_api! {
        name: "token-curated-registry",
        instantiate: InstantiateMsg,
        execute: ExecuteMsg,
        query: QueryMsg,
        migrate: MigrateMsg,
    };
    let names = |schema: &Option<cosmwasm_schema::schemars::schema::RootSchema>| {
        let json = serde_json::to_value(schema).unwrap();
        json["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["required"][0].as_str().unwrap().to_string())
            .collect::<BTreeSet<_>>()
    };
    let (execute, query) = (names(&api.execute), names(&api.query));
    assert!(execute.contains("challenge") && query.contains("challenge_info"));
    let both: Vec<_> = execute.intersection(&query).collect();
    assert!(both.is_empty(), "execute and query share {both:?}");
    // The renamed query answers.
    let mut s = SuiteBuilder::new().build();
    let subject = listed(&mut s, "alice");
    let bob = s.addr("bob");
    let poll = s.challenge_ok(&bob, &subject);
    assert_eq!(s.challenge_info(poll).stake, Uint128::new(MIN_DEPOSIT));
}
