//! Unrevealed votes forfeit `unrevealed_penalty_pct` of their weight, so
//! committing both ways from two addresses and revealing the winning side
//! is no longer free.

mod suite;

use cosmwasm_std::Uint128;
use suite::*;
use token_curated_registry::msg::{ExecuteMsg, ParamsUpdate, QueryMsg, VoteResponse};
use token_curated_registry::state::Choice;
use token_curated_registry::ContractError;

/// alice is listed and challenged by bob; returns the poll id.
fn challenged(s: &mut Suite) -> (String, u64) {
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    s.apply_self(&alice, 2_000).unwrap();
    s.advance(APPLY);
    s.update(alice.as_str()).unwrap();
    let poll = s.challenge_ok(&bob, alice.as_str());
    (alice.to_string(), poll)
}

#[test]
fn hedging_from_two_addresses_costs_the_unrevealed_side() {
    let mut s = SuiteBuilder::new().build();
    let (subject, poll) = challenged(&mut s);
    // One holder, two addresses, both sides.
    let (keep, remove) = (s.addr("holder-keep"), s.addr("holder-remove"));
    for a in [&keep, &remove] {
        s.mint(a, 1_000);
        s.deposit_votes(a, 1_000).unwrap();
    }
    s.commit(&keep, poll, Choice::Keep, 1, 1_000).unwrap();
    s.commit(&remove, poll, Choice::Remove, 2, 1_000).unwrap();
    s.advance(COMMIT);
    // Keep is winning: only that side is revealed.
    s.reveal(&keep, poll, Choice::Keep, 1).unwrap();
    s.advance(REVEAL);
    assert_eq!(attr(&s.update(&subject).unwrap(), "result"), "kept");
    // The unrevealed 1,000 forfeits 10 %: shown at once, taken when the
    // voter next commits or withdraws.
    let v = s.voter(&remove);
    assert_eq!((v.balance.u128(), v.forfeit.u128()), (900, 100));
    assert_eq!(v.withdrawable.u128(), 900);
    assert_eq!(s.config().forfeited.u128(), 0);
    s.assert_conserved();
    assert_eq!(
        contract_err(s.withdraw_votes(&remove, 901)),
        ContractError::VotingTokensLocked {
            requested: Uint128::new(901),
            available: Uint128::new(900)
        }
    );
    let res = s.withdraw_votes(&remove, 900).unwrap();
    assert_eq!(attr(&res, "forfeited"), "100");
    assert_eq!(s.config().forfeited.u128(), 100);
    assert_eq!(s.voter(&remove).forfeit.u128(), 0);
    // The revealed side keeps everything and earns the whole pool (500).
    s.claim(&keep, poll).unwrap();
    assert_eq!(s.balance(&keep), 500);
    s.withdraw_votes(&keep, 1_000).unwrap();
    // The hedge earned 500 and lost 100 (more with a larger position,
    // since the pool is fixed by the stake).
    assert_eq!(s.balance(&keep) + s.balance(&remove), 2_000 + 500 - 100);
    // The owner sweeps the forfeit with the dust.
    let owner = s.owner.clone();
    let res = s
        .exec(
            &owner,
            ExecuteMsg::SweepDust {
                recipient: owner.to_string(),
            },
        )
        .unwrap();
    assert_eq!(attr(&res, "forfeited"), "100");
    assert_eq!(s.balance(&owner), 100);
    assert_eq!(s.config().forfeited.u128(), 0);
    s.assert_conserved();
}

#[test]
fn a_revealed_vote_forfeits_nothing_and_the_penalty_rounds_up() {
    let mut s = SuiteBuilder::new().build();
    let (_, poll) = challenged(&mut s);
    let (carol, dave) = (s.addr("carol"), s.addr("dave"));
    s.deposit_votes(&carol, 100).unwrap();
    s.deposit_votes(&dave, 100).unwrap();
    s.commit(&carol, poll, Choice::Keep, 1, 100).unwrap();
    s.commit(&dave, poll, Choice::Keep, 2, 1).unwrap();
    let vote: VoteResponse = s.query(&QueryMsg::Vote {
        poll_id: poll,
        voter: dave.to_string(),
    });
    assert_eq!(vote.unrevealed_penalty.u128(), 1);
    s.advance(COMMIT);
    s.reveal(&carol, poll, Choice::Keep, 1).unwrap();
    s.advance(REVEAL);
    // Not resolved yet: the forfeit does not wait for resolution.
    assert_eq!(s.voter(&carol).forfeit.u128(), 0);
    assert_eq!(s.voter(&carol).balance.u128(), 100);
    // ⌈1 × 10 / 100⌉ = 1.
    assert_eq!(s.voter(&dave).forfeit.u128(), 1);
    s.assert_conserved();
}

#[test]
fn forfeits_are_settled_before_a_commit_is_checked() {
    let mut s = SuiteBuilder::new().build();
    let (_, poll) = challenged(&mut s);
    let carol = s.addr("carol");
    s.deposit_votes(&carol, 100).unwrap();
    s.commit(&carol, poll, Choice::Keep, 1, 100).unwrap();
    s.advance(COMMIT + REVEAL);
    // A second listing and poll; carol's unrevealed 100 forfeits 10 first.
    let (erin, frank) = (s.addr("erin"), s.addr("frank"));
    s.apply_self(&erin, MIN_DEPOSIT).unwrap();
    let poll2 = s.challenge_ok(&frank, erin.as_str());
    assert_eq!(
        contract_err(s.commit(&carol, poll2, Choice::Keep, 1, 100)),
        ContractError::InsufficientVotingBalance {
            weight: Uint128::new(100),
            balance: Uint128::new(90)
        }
    );
    let res = s.commit(&carol, poll2, Choice::Keep, 1, 90).unwrap();
    assert_eq!(attr(&res, "forfeited"), "10");
    let v = s.voter(&carol);
    assert_eq!(
        (v.balance.u128(), v.locked.u128(), v.locks.len()),
        (90, 90, 1)
    );
    assert_eq!(s.config().forfeited.u128(), 10);
    s.assert_conserved();
}

#[test]
fn a_forfeit_under_a_reused_lock_leaves_nothing_withdrawable_until_it_lapses() {
    let mut s = SuiteBuilder::new().build();
    let (_, poll) = challenged(&mut s);
    let carol = s.addr("carol");
    s.deposit_votes(&carol, 100).unwrap();
    s.commit(&carol, poll, Choice::Keep, 1, 100).unwrap();
    // The same 100 back a later poll (PLCR), which carol reveals.
    s.advance(COMMIT - 1);
    let (erin, frank) = (s.addr("erin"), s.addr("frank"));
    s.apply_self(&erin, MIN_DEPOSIT).unwrap();
    let poll2 = s.challenge_ok(&frank, erin.as_str());
    s.commit(&carol, poll2, Choice::Remove, 2, 100).unwrap();
    s.advance(REVEAL + 1);
    // poll lapsed unrevealed: 90 left, under poll2's live lock of 100.
    let v = s.voter(&carol);
    assert_eq!(
        (v.balance.u128(), v.forfeit.u128(), v.locked.u128()),
        (90, 10, 100)
    );
    assert_eq!(v.withdrawable.u128(), 0);
    assert_eq!(
        contract_err(s.withdraw_votes(&carol, 1)),
        ContractError::VotingTokensLocked {
            requested: Uint128::one(),
            available: Uint128::zero()
        }
    );
    // poll2 is in its reveal period already.
    s.reveal(&carol, poll2, Choice::Remove, 2).unwrap();
    s.advance(REVEAL);
    // The revealed vote forfeits nothing; the 90 are free.
    let v = s.voter(&carol);
    assert_eq!((v.balance.u128(), v.withdrawable.u128()), (90, 90));
    s.withdraw_votes(&carol, 90).unwrap();
    s.assert_conserved();
}

#[test]
fn a_running_poll_keeps_its_penalty() {
    let mut s = SuiteBuilder::new().build();
    let (_, poll) = challenged(&mut s);
    let carol = s.addr("carol");
    let owner = s.owner.clone();
    s.deposit_votes(&carol, 100).unwrap();
    s.commit(&carol, poll, Choice::Keep, 1, 100).unwrap();
    s.update_params(
        &owner,
        ParamsUpdate {
            unrevealed_penalty_pct: Some(100),
            ..Default::default()
        },
    )
    .unwrap();
    // Committing again after the change still uses the poll's 10 %.
    s.commit(&carol, poll, Choice::Keep, 1, 50).unwrap();
    s.advance(COMMIT + REVEAL);
    assert_eq!(s.voter(&carol).forfeit.u128(), 5);
    s.assert_conserved();
}
