//! Raising `min_deposit` does not delist anyone at once: existing listings
//! (and the challenge stake) keep the old minimum for `deposit_grace_secs`,
//! during which sellers top up or exit; new applications pay the new one.

mod suite;

use cosmwasm_std::Uint128;
use suite::*;
use token_curated_registry::msg::{ParamsUpdate, PendingMinDeposit};
use token_curated_registry::ContractError;

fn listed(s: &mut Suite, who: &str, deposit: u128) -> String {
    let a = s.addr(who);
    s.apply_self(&a, deposit).unwrap();
    s.advance(APPLY);
    s.update(a.as_str()).unwrap();
    a.to_string()
}

fn set_min(s: &mut Suite, min_deposit: u128) {
    let owner = s.owner.clone();
    s.update_params(
        &owner,
        ParamsUpdate {
            min_deposit: Some(Uint128::new(min_deposit)),
            ..Default::default()
        },
    )
    .unwrap();
}

fn wrong_stake(expected: u128, received: u128) -> ContractError {
    ContractError::WrongChallengeStake {
        expected: Uint128::new(expected),
        received: Uint128::new(received),
    }
}

#[test]
fn raising_min_deposit_gives_existing_listings_a_grace_period() {
    let mut s = SuiteBuilder::new().build();
    let alice = listed(&mut s, "alice", MIN_DEPOSIT);
    let carol = listed(&mut s, "carol", MIN_DEPOSIT);
    let (alice_addr, bob, carol_addr) = (s.addr("alice"), s.addr("bob"), s.addr("carol"));
    let reputation = s.reputation(&alice).stake_part;
    set_min(&mut s, 2 * MIN_DEPOSIT);
    let applies_at = s.now().plus_seconds(GRACE);
    let cfg = s.config();
    assert_eq!(cfg.min_deposit_in_force.u128(), MIN_DEPOSIT);
    assert_eq!(
        cfg.pending_min_deposit,
        Some(PendingMinDeposit {
            amount: Uint128::new(2 * MIN_DEPOSIT),
            applies_at
        })
    );
    // The old attack: a stake of the new minimum removed every listing at
    // once. Now the stake is the minimum in force, and nothing is removed.
    assert_eq!(
        contract_err(s.challenge(&bob, &alice, 2 * MIN_DEPOSIT)),
        wrong_stake(MIN_DEPOSIT, 2 * MIN_DEPOSIT)
    );
    assert!(s.is_listed(&alice) && s.is_listed(&carol));
    assert_eq!(s.reputation(&alice).stake_part, reputation);
    // A seller may not withdraw into the increase.
    s.top_up(&alice_addr, &alice, 500).unwrap();
    assert_eq!(
        contract_err(s.withdraw(&alice_addr, &alice, 1)),
        ContractError::WithdrawTooMuch {
            subject: alice.clone(),
            requested: Uint128::one(),
            available: Uint128::zero()
        }
    );
    s.top_up(&alice_addr, &alice, 500).unwrap();
    // One second before the end of the grace period the old minimum holds.
    s.advance(GRACE - 1);
    assert_eq!(s.config().min_deposit_in_force.u128(), MIN_DEPOSIT);
    s.advance(1);
    let cfg = s.config();
    assert_eq!(cfg.min_deposit_in_force.u128(), 2 * MIN_DEPOSIT);
    assert_eq!(cfg.pending_min_deposit, None);
    assert_eq!(
        contract_err(s.challenge(&bob, &alice, MIN_DEPOSIT)),
        wrong_stake(2 * MIN_DEPOSIT, MIN_DEPOSIT)
    );
    // alice topped up: a challenge is a real poll. carol did not: removed,
    // the stake returned, her deposit hers to pull.
    let poll = s.challenge_ok_with(&bob, &alice, 2 * MIN_DEPOSIT);
    assert_eq!(s.listing(&alice).challenge_id, Some(poll));
    let bob_before = s.balance(&bob);
    let res = s.challenge(&bob, &carol, 2 * MIN_DEPOSIT).unwrap();
    assert_eq!(attr(&res, "result"), "removed_underfunded");
    assert_eq!(s.balance(&bob), bob_before);
    assert!(!s.has_listing(&carol));
    assert_eq!(s.voter(&carol_addr).balance.u128(), MIN_DEPOSIT);
    s.withdraw_votes(&carol_addr, MIN_DEPOSIT).unwrap();
    assert!(s.has_listing(alice_addr.as_str()));
    s.assert_conserved();
}

#[test]
fn a_seller_who_will_not_top_up_exits_with_its_whole_deposit() {
    let mut s = SuiteBuilder::new().build();
    let dave = listed(&mut s, "dave", MIN_DEPOSIT);
    let dave_addr = s.addr("dave");
    set_min(&mut s, 3 * MIN_DEPOSIT);
    // deposit_grace_secs ≥ exit_delay_secs: an exit started now matures
    // before the increase applies.
    s.init_exit(&dave_addr, &dave).unwrap();
    s.advance(EXIT_DELAY);
    const { assert!(EXIT_DELAY <= GRACE) };
    let before = s.balance(&dave_addr);
    s.finalize_exit(&dave_addr, &dave).unwrap();
    assert_eq!(s.balance(&dave_addr), before + MIN_DEPOSIT);
    s.assert_conserved();
}

#[test]
fn new_applications_pay_the_new_minimum_at_once() {
    let mut s = SuiteBuilder::new().build();
    set_min(&mut s, 2 * MIN_DEPOSIT);
    let erin = s.addr("erin");
    assert_eq!(
        contract_err(s.apply_self(&erin, MIN_DEPOSIT)),
        ContractError::DepositTooLow {
            received: Uint128::new(MIN_DEPOSIT),
            min_deposit: Uint128::new(2 * MIN_DEPOSIT)
        }
    );
    s.apply_self(&erin, 2 * MIN_DEPOSIT).unwrap();
}

#[test]
fn decreases_apply_at_once_and_increases_restart_from_what_is_in_force() {
    let mut s = SuiteBuilder::new().build();
    let start = s.now();
    set_min(&mut s, 2 * MIN_DEPOSIT);
    s.advance(GRACE / 2);
    // A second increase while the first waits: the old minimum stays in
    // force and the new one waits a whole grace period from now.
    set_min(&mut s, 3 * MIN_DEPOSIT);
    let cfg = s.config();
    assert_eq!(cfg.min_deposit_in_force.u128(), MIN_DEPOSIT);
    let pending = cfg.pending_min_deposit.unwrap();
    assert_eq!(pending.amount.u128(), 3 * MIN_DEPOSIT);
    assert_eq!(pending.applies_at, s.now().plus_seconds(GRACE));
    assert!(pending.applies_at > start.plus_seconds(GRACE));
    // A decrease applies at once, also below a pending increase.
    set_min(&mut s, MIN_DEPOSIT / 2);
    let cfg = s.config();
    assert_eq!(cfg.min_deposit_in_force.u128(), MIN_DEPOSIT / 2);
    assert_eq!(cfg.pending_min_deposit, None);
    let alice = listed(&mut s, "alice", MIN_DEPOSIT);
    let bob = s.addr("bob");
    s.challenge_ok_with(&bob, &alice, MIN_DEPOSIT / 2);
    s.assert_conserved();
}

#[test]
fn an_announced_increase_keeps_the_grace_period_it_was_announced_with() {
    let mut s = SuiteBuilder::new().build();
    let owner = s.owner.clone();
    // Raising the minimum and shortening the grace period in one update
    // still waits for the old, longer grace period.
    s.update_params(
        &owner,
        ParamsUpdate {
            min_deposit: Some(Uint128::new(2 * MIN_DEPOSIT)),
            deposit_grace_secs: Some(EXIT_DELAY),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.params().deposit_grace_secs, EXIT_DELAY);
    let pending = s.config().pending_min_deposit.unwrap();
    assert_eq!(pending.applies_at, s.now().plus_seconds(GRACE));
    // The next increase gets the new, shorter one.
    s.advance(GRACE);
    set_min(&mut s, 3 * MIN_DEPOSIT);
    let pending = s.config().pending_min_deposit.unwrap();
    assert_eq!(pending.applies_at, s.now().plus_seconds(EXIT_DELAY));
}

#[test]
fn the_grace_period_covers_an_exit() {
    let mut s = SuiteBuilder::new().build();
    let owner = s.owner.clone();
    assert_eq!(
        contract_err(s.update_params(
            &owner,
            ParamsUpdate {
                deposit_grace_secs: Some(EXIT_DELAY - 1),
                ..Default::default()
            }
        )),
        ContractError::InvalidParam {
            param: "deposit_grace_secs",
            reason: "must be at least exit_delay_secs"
        }
    );
    assert_eq!(
        contract_err(s.update_params(
            &owner,
            ParamsUpdate {
                exit_delay_secs: Some(GRACE + 1),
                ..Default::default()
            }
        )),
        ContractError::InvalidParam {
            param: "deposit_grace_secs",
            reason: "must be at least exit_delay_secs"
        }
    );
}
