//! Commit–reveal voting, PLCR locks, resolution and pull-based rewards.

mod suite;

use cosmwasm_std::{Binary, HexBinary, Uint128};
use suite::*;
use token_curated_registry::msg::{CommitmentResponse, ExecuteMsg, ParamsUpdate, QueryMsg};
use token_curated_registry::state::{Choice, ListingStatus, MAX_OPEN_POLLS};
use token_curated_registry::ContractError;

/// alice's listing is listed and challenged by bob; returns the poll id.
fn listed_and_challenged(s: &mut Suite) -> u64 {
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    s.apply_self(&alice, 2_000).unwrap();
    s.advance(APPLY);
    s.update(alice.as_str()).unwrap();
    s.challenge_ok(&bob, alice.as_str())
}

#[test]
fn keep_below_quorum_loses() {
    let mut s = SuiteBuilder::new().build();
    let poll = listed_and_challenged(&mut s);
    let alice = s.addr("alice");
    let subject = alice.to_string();
    let [carol, dave, erin, frank] = ["carol", "dave", "erin", "frank"].map(|u| s.addr(u));
    for (v, w) in [(&carol, 100), (&dave, 200), (&erin, 400), (&frank, 50)] {
        s.deposit_votes(v, w).unwrap();
    }
    s.commit(&carol, poll, Choice::Keep, 1, 100).unwrap();
    s.commit(&dave, poll, Choice::Keep, 2, 200).unwrap();
    s.commit(&erin, poll, Choice::Remove, 3, 400).unwrap();
    s.commit(&frank, poll, Choice::Keep, 4, 50).unwrap();
    s.advance(COMMIT);
    s.reveal(&carol, poll, Choice::Keep, 1).unwrap();
    s.reveal(&dave, poll, Choice::Keep, 2).unwrap();
    s.reveal(&erin, poll, Choice::Remove, 3).unwrap();
    // frank never reveals.
    s.advance(REVEAL);
    assert_eq!(
        contract_err(s.claim(&carol, poll)),
        ContractError::PollNotResolved { poll_id: poll }
    );
    let res = s.update(&subject).unwrap();
    assert_eq!(attr(&res, "result"), "removed");
    let p = s.poll(poll);
    // keep 300 vs remove 400: 100 × 300 = 30,000 > 50 × 700 = 35,000 is false.
    assert_eq!(p.outcome, Some(Choice::Remove));
    assert!(!s.has_listing(&subject));
    // frank committed but never revealed: nothing to claim.
    assert_eq!(
        contract_err(s.claim(&frank, poll)),
        ContractError::NotRevealed { poll_id: poll }
    );
    s.assert_conserved();
}

#[test]
fn keep_side_wins_and_rewards_split() {
    let mut s = SuiteBuilder::new().build();
    let poll = listed_and_challenged(&mut s);
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    let subject = alice.to_string();
    let [carol, dave, erin, frank] = ["carol", "dave", "erin", "frank"].map(|u| s.addr(u));
    for (v, w) in [(&carol, 100), (&dave, 200), (&erin, 250), (&frank, 50)] {
        s.deposit_votes(v, w).unwrap();
    }
    s.commit(&carol, poll, Choice::Keep, 1, 100).unwrap();
    s.commit(&dave, poll, Choice::Keep, 2, 200).unwrap();
    s.commit(&erin, poll, Choice::Remove, 3, 250).unwrap();
    s.commit(&frank, poll, Choice::Keep, 4, 50).unwrap();
    s.advance(COMMIT);
    s.reveal(&carol, poll, Choice::Keep, 1).unwrap();
    s.reveal(&dave, poll, Choice::Keep, 2).unwrap();
    s.reveal(&erin, poll, Choice::Remove, 3).unwrap();
    s.advance(REVEAL);
    // 100 × 300 = 30,000 > 50 × 550 = 27,500: keep wins.
    let res = s.update(&subject).unwrap();
    assert_eq!(attr(&res, "result"), "kept");
    assert_eq!(attr(&res, "winner_reward"), "500");
    assert_eq!(attr(&res, "reward_pool"), "500");
    let l = s.listing(&subject);
    assert_eq!(l.status, ListingStatus::Listed);
    assert_eq!(l.deposit.u128(), 2_500);
    assert_eq!(l.challenge_id, None);
    assert_eq!(l.challenges_survived, 1);
    assert!(s.is_listed(&subject));
    // bob lost his stake; nothing is credited to him.
    assert_eq!(s.voter(&bob).balance.u128(), 0);
    s.assert_conserved();

    // Shares: 500 × 100/300 = 166, 500 × 200/300 = 333, dust 1.
    assert_eq!(s.claimable(poll, &carol), 166);
    assert_eq!(s.claimable(poll, &dave), 333);
    assert_eq!(s.claimable(poll, &erin), 0);
    assert_eq!(
        contract_err(s.claim(&erin, poll)),
        ContractError::LosingSide { poll_id: poll }
    );
    assert_eq!(
        contract_err(s.claim(&frank, poll)),
        ContractError::NotRevealed { poll_id: poll }
    );
    assert_eq!(
        contract_err(s.claim(&alice, poll)),
        ContractError::VoteNotFound {
            poll_id: poll,
            voter: alice.to_string()
        }
    );
    let before = s.balance(&carol);
    let res = s.claim(&carol, poll).unwrap();
    assert_eq!(attr(&res, "reward"), "166");
    assert_eq!(s.balance(&carol), before + 166);
    assert_eq!(
        contract_err(s.claim(&carol, poll)),
        ContractError::AlreadyClaimed { poll_id: poll }
    );
    s.assert_conserved();
    let res = s.claim(&dave, poll).unwrap();
    assert_eq!(attr(&res, "reward"), "333");
    assert_eq!(attr(&res, "dust"), "1");
    assert_eq!(s.config().dust.u128(), 1);
    let p = s.poll(poll);
    assert_eq!((p.reward_claimed.u128(), p.claims), (500, 2));
    s.assert_conserved();

    // The owner sweeps the dust.
    let owner = s.owner.clone();
    assert_eq!(
        contract_err(s.exec(
            &carol,
            ExecuteMsg::SweepDust {
                recipient: carol.to_string()
            }
        )),
        ContractError::Ownership(cw_ownable::OwnershipError::NotOwner)
    );
    s.exec(
        &owner,
        ExecuteMsg::SweepDust {
            recipient: owner.to_string(),
        },
    )
    .unwrap();
    assert_eq!(s.balance(&owner), 1);
    assert_eq!(
        contract_err(s.exec(
            &owner,
            ExecuteMsg::SweepDust {
                recipient: owner.to_string()
            }
        )),
        ContractError::NoDust
    );
    s.assert_conserved();
    // Reputation reflects the survived challenge.
    let r = s.reputation(&subject);
    assert_eq!(r.survival_part, 1500);
    assert_eq!(r.stake_part, 2500);
    assert_eq!(r.score, r.stake_part + r.tenure_part + r.survival_part);
}

#[test]
fn remove_wins_payouts_are_credited_to_pull() {
    let mut s = SuiteBuilder::new().build();
    let poll = listed_and_challenged(&mut s);
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    let subject = alice.to_string();
    let [carol, dave] = ["carol", "dave"].map(|u| s.addr(u));
    s.deposit_votes(&carol, 300).unwrap();
    s.deposit_votes(&dave, 100).unwrap();
    s.commit(&carol, poll, Choice::Remove, 1, 300).unwrap();
    s.commit(&dave, poll, Choice::Keep, 2, 100).unwrap();
    s.advance(COMMIT);
    s.reveal(&carol, poll, Choice::Remove, 1).unwrap();
    s.reveal(&dave, poll, Choice::Keep, 2).unwrap();
    s.advance(REVEAL);
    assert!(s.is_listed(&subject), "listed until resolved");
    let res = s.update(&subject).unwrap();
    assert_eq!(attr(&res, "result"), "removed");
    assert!(!s.is_listed(&subject));
    assert!(!s.has_listing(&subject));
    // bob: stake 1,000 + 500 reward, to withdraw; alice: 2,000 − 1,000.
    assert_eq!(s.voter(&bob).balance.u128(), 1_500);
    assert_eq!(s.voter(&alice).balance.u128(), 1_000);
    assert_eq!(s.claimable(poll, &carol), 500);
    s.assert_conserved();
    s.claim(&carol, poll).unwrap();
    assert_eq!(s.config().dust.u128(), 0);
    let before = s.balance(&bob);
    s.withdraw_votes(&bob, 1_500).unwrap();
    assert_eq!(s.balance(&bob), before + 1_500);
    s.withdraw_votes(&alice, 1_000).unwrap();
    s.withdraw_votes(&carol, 300).unwrap();
    s.withdraw_votes(&dave, 100).unwrap();
    assert_eq!(s.held(), 0);
    s.assert_conserved();
    // The subject can apply again.
    s.apply_self(&alice, MIN_DEPOSIT).unwrap();
}

#[test]
fn no_votes_the_challenger_takes_both_stakes() {
    let mut s = SuiteBuilder::new().build();
    let poll = listed_and_challenged(&mut s);
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    s.advance(COMMIT + REVEAL);
    let res = s.update(alice.as_str()).unwrap();
    assert_eq!(attr(&res, "result"), "removed");
    assert_eq!(attr(&res, "winner_reward"), "1000");
    assert_eq!(attr(&res, "reward_pool"), "0");
    assert_eq!(s.voter(&bob).balance.u128(), 2_000);
    assert_eq!(s.voter(&alice).balance.u128(), 1_000);
    let c = s.challenge_info(poll);
    assert!(c.resolved);
    assert_eq!(c.winner_reward.u128(), 1_000);
    s.assert_conserved();
}

#[test]
fn challenged_application_that_survives_is_listed() {
    let mut s = SuiteBuilder::new().build();
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    let carol = s.addr("carol");
    let subject = alice.to_string();
    s.apply_self(&alice, MIN_DEPOSIT).unwrap();
    let poll = s.challenge_ok(&bob, &subject);
    s.deposit_votes(&carol, 10).unwrap();
    s.commit(&carol, poll, Choice::Keep, 9, 10).unwrap();
    s.advance(COMMIT);
    s.reveal(&carol, poll, Choice::Keep, 9).unwrap();
    s.advance(REVEAL);
    assert_eq!(s.listing(&subject).status, ListingStatus::Application);
    s.update(&subject).unwrap();
    let l = s.listing(&subject);
    assert_eq!(l.status, ListingStatus::Listed);
    assert_eq!(l.deposit.u128(), 1_500);
    assert!(s.is_listed(&subject));
    s.claim(&carol, poll).unwrap();
    assert_eq!(s.poll(poll).reward_claimed.u128(), 500);
    s.assert_conserved();
}

#[test]
fn commit_and_reveal_errors() {
    let mut s = SuiteBuilder::new().build();
    let poll = listed_and_challenged(&mut s);
    let alice = s.addr("alice");
    let carol = s.addr("carol");
    let dave = s.addr("dave");
    assert_eq!(
        contract_err(s.commit(&carol, poll, Choice::Keep, 1, 10)),
        ContractError::InsufficientVotingBalance {
            weight: Uint128::new(10),
            balance: Uint128::zero()
        }
    );
    s.deposit_votes(&carol, 100).unwrap();
    s.deposit_votes(&dave, 100).unwrap();
    assert_eq!(
        contract_err(s.commit(&carol, 99, Choice::Keep, 1, 10)),
        ContractError::PollNotFound { poll_id: 99 }
    );
    assert_eq!(
        contract_err(s.commit(&carol, poll, Choice::Keep, 1, 0)),
        ContractError::ZeroAmount
    );
    assert_eq!(
        contract_err(s.exec(
            &carol,
            ExecuteMsg::CommitVote {
                poll_id: poll,
                commitment: HexBinary::from(vec![1; 31]),
                weight: Uint128::new(5),
            }
        )),
        ContractError::InvalidCommitment { len: 31 }
    );
    // Reveal before the reveal period.
    s.commit(&carol, poll, Choice::Keep, 1, 100).unwrap();
    let p = s.poll(poll);
    assert_eq!(
        contract_err(s.reveal(&carol, poll, Choice::Keep, 1)),
        ContractError::NotRevealPeriod {
            poll_id: poll,
            starts: p.commit_end,
            ends: p.reveal_end
        }
    );
    // dave copies carol's commitment: it can never reveal.
    let copied = s.commitment_for(poll, &carol, Choice::Keep, salt(1).as_slice());
    s.exec(
        &dave,
        ExecuteMsg::CommitVote {
            poll_id: poll,
            commitment: copied,
            weight: Uint128::new(100),
        },
    )
    .unwrap();
    s.advance(COMMIT);
    assert_eq!(
        contract_err(s.commit(&carol, poll, Choice::Keep, 1, 10)),
        ContractError::CommitPeriodOver {
            poll_id: poll,
            ended: p.commit_end
        }
    );
    assert_eq!(
        contract_err(s.reveal(&dave, poll, Choice::Keep, 1)),
        ContractError::CommitmentMismatch { poll_id: poll }
    );
    assert_eq!(
        contract_err(s.reveal(&carol, poll, Choice::Keep, 2)),
        ContractError::CommitmentMismatch { poll_id: poll }
    );
    assert_eq!(
        contract_err(s.reveal(&carol, poll, Choice::Remove, 1)),
        ContractError::CommitmentMismatch { poll_id: poll }
    );
    assert_eq!(
        contract_err(s.exec(
            &carol,
            ExecuteMsg::RevealVote {
                poll_id: poll,
                choice: Choice::Keep,
                salt: Binary::from(vec![1; 8]),
            }
        )),
        ContractError::InvalidSalt { len: 8 }
    );
    assert_eq!(
        contract_err(s.reveal(&alice, poll, Choice::Keep, 1)),
        ContractError::VoteNotFound {
            poll_id: poll,
            voter: alice.to_string()
        }
    );
    s.reveal(&carol, poll, Choice::Keep, 1).unwrap();
    assert_eq!(
        contract_err(s.reveal(&carol, poll, Choice::Keep, 1)),
        ContractError::AlreadyRevealed { poll_id: poll }
    );
    s.advance(REVEAL);
    assert_eq!(
        contract_err(s.reveal(&dave, poll, Choice::Keep, 1)),
        ContractError::NotRevealPeriod {
            poll_id: poll,
            starts: p.commit_end,
            ends: p.reveal_end
        }
    );
    // The commitment query computes what the client must send.
    let r: CommitmentResponse = s.query(&QueryMsg::Commitment {
        poll_id: poll,
        voter: carol.to_string(),
        choice: Choice::Keep,
        salt: salt(1),
    });
    assert_eq!(
        r.commitment,
        s.commitment_for(poll, &carol, Choice::Keep, salt(1).as_slice())
    );
}

#[test]
fn recommit_replaces_the_vote() {
    let mut s = SuiteBuilder::new().build();
    let poll = listed_and_challenged(&mut s);
    let carol = s.addr("carol");
    s.deposit_votes(&carol, 100).unwrap();
    s.commit(&carol, poll, Choice::Remove, 1, 100).unwrap();
    s.commit(&carol, poll, Choice::Keep, 2, 40).unwrap();
    let v = s.voter(&carol);
    assert_eq!((v.locked.u128(), v.locks.len()), (40, 1));
    s.advance(COMMIT);
    assert_eq!(
        contract_err(s.reveal(&carol, poll, Choice::Remove, 1)),
        ContractError::CommitmentMismatch { poll_id: poll }
    );
    s.reveal(&carol, poll, Choice::Keep, 2).unwrap();
    assert_eq!(s.poll(poll).votes_keep.u128(), 40);
}

#[test]
fn plcr_locks_back_many_polls_and_bound_withdrawals() {
    // Locks alone (the forfeits of these unrevealed votes are in forfeits.rs).
    let mut params = default_params();
    params.unrevealed_penalty_pct = 0;
    let mut s = SuiteBuilder::new().with_params(params).build();
    let voter = s.addr("carol");
    let bob = s.addr("bob");
    let alice = s.addr("alice");
    s.deposit_votes(&voter, 1_000).unwrap();
    // MAX_OPEN_POLLS + 1 subjects of bob's, each challenged by alice.
    let mut polls = vec![];
    for i in 0..=MAX_OPEN_POLLS {
        let subject = format!("sensor-{i}");
        s.apply(&bob, &subject, MIN_DEPOSIT).unwrap();
        polls.push(s.challenge_ok(&alice, &subject));
    }
    // The same tokens back every poll; the largest lock binds.
    for (i, poll) in polls.iter().take(MAX_OPEN_POLLS).enumerate() {
        s.commit(&voter, *poll, Choice::Keep, 1, 100 + i as u128)
            .unwrap();
    }
    let v = s.voter(&voter);
    assert_eq!(v.locked.u128(), 100 + MAX_OPEN_POLLS as u128 - 1);
    assert_eq!(v.withdrawable.u128(), 1_000 - v.locked.u128());
    assert_eq!(v.locks.len(), MAX_OPEN_POLLS);
    let err = contract_err(s.commit(&voter, polls[MAX_OPEN_POLLS], Choice::Keep, 1, 1));
    assert_eq!(err, ContractError::TooManyOpenPolls);
    assert!(err.to_string().contains("at most 20 polls open at once"));
    assert_eq!(
        contract_err(s.withdraw_votes(&voter, 1_000)),
        ContractError::VotingTokensLocked {
            requested: Uint128::new(1_000),
            available: v.withdrawable
        }
    );
    s.withdraw_votes(&voter, v.withdrawable.u128()).unwrap();
    // Once the reveal periods end the locks lapse, resolved or not.
    s.advance(COMMIT + REVEAL);
    let v = s.voter(&voter);
    assert_eq!((v.locked.u128(), v.locks.len()), (0, 0));
    s.withdraw_votes(&voter, v.balance.u128()).unwrap();
    assert_eq!(s.voter(&voter).balance.u128(), 0);
    s.assert_conserved();
}

#[test]
fn running_polls_keep_their_parameters() {
    let mut s = SuiteBuilder::new().build();
    let poll = listed_and_challenged(&mut s);
    let owner = s.owner.clone();
    let alice = s.addr("alice");
    let carol = s.addr("carol");
    s.update_params(
        &owner,
        ParamsUpdate {
            min_deposit: Some(Uint128::new(5_000)),
            commit_stage_secs: Some(10_000),
            exit_delay_secs: Some(10_000 + REVEAL),
            deposit_grace_secs: Some(10_000 + REVEAL),
            dispensation_pct: Some(100),
            vote_quorum_pct: Some(100),
            ..Default::default()
        },
    )
    .unwrap();
    s.deposit_votes(&carol, 10).unwrap();
    s.commit(&carol, poll, Choice::Keep, 1, 10).unwrap();
    // The old commit period still applies.
    s.advance(COMMIT);
    s.reveal(&carol, poll, Choice::Keep, 1).unwrap();
    s.advance(REVEAL);
    let p = s.poll(poll);
    assert_eq!((p.vote_quorum_pct, p.dispensation_pct), (50, 50));
    // With the old 50 % quorum keep wins; the old stake (1,000) is split 50/50.
    let res = s.update(alice.as_str()).unwrap();
    assert_eq!(attr(&res, "result"), "kept");
    assert_eq!(attr(&res, "winner_reward"), "500");
    s.assert_conserved();
}

#[test]
fn update_before_reveal_end_is_refused() {
    let mut s = SuiteBuilder::new().build();
    listed_and_challenged(&mut s);
    let alice = s.addr("alice");
    s.advance(COMMIT + REVEAL - 1);
    assert_eq!(
        contract_err(s.update(alice.as_str())),
        ContractError::NothingToUpdate {
            subject: alice.to_string(),
            reason: "the challenge's reveal period has not ended"
        }
    );
}

#[test]
fn full_dispensation_leaves_no_voter_reward() {
    let mut params = default_params();
    params.dispensation_pct = 100;
    let mut s = SuiteBuilder::new().with_params(params).build();
    let poll = listed_and_challenged(&mut s);
    let alice = s.addr("alice");
    let carol = s.addr("carol");
    s.deposit_votes(&carol, 10).unwrap();
    s.commit(&carol, poll, Choice::Keep, 1, 10).unwrap();
    s.advance(COMMIT);
    s.reveal(&carol, poll, Choice::Keep, 1).unwrap();
    s.advance(REVEAL);
    let res = s.update(alice.as_str()).unwrap();
    assert_eq!(attr(&res, "winner_reward"), "1000");
    assert_eq!(s.listing(alice.as_str()).deposit.u128(), 3_000);
    assert_eq!(s.claimable(poll, &carol), 0);
    assert_eq!(
        contract_err(s.claim(&carol, poll)),
        ContractError::NoVoterReward { poll_id: poll }
    );
    s.assert_conserved();
}

#[test]
fn voters_are_paginated() {
    let mut s = SuiteBuilder::new().build();
    let users: Vec<_> = ["alice", "bob", "carol", "dave", "erin", "frank"]
        .map(|u| s.addr(u))
        .to_vec();
    for u in &users {
        s.deposit_votes(u, 5).unwrap();
    }
    let all = s.voters(None).voters;
    assert_eq!(all.len(), 6);
    let mut sorted: Vec<String> = users.iter().map(|u| u.to_string()).collect();
    sorted.sort();
    assert_eq!(
        all.iter()
            .map(|v| v.address.to_string())
            .collect::<Vec<_>>(),
        sorted
    );
    let rest = s.voters(Some(sorted[3].clone())).voters;
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[0].address.as_str(), sorted[4]);
}
