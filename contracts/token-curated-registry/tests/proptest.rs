//! Conservation: after every step of a random sequence of applications,
//! challenges, votes, resolutions, claims, withdrawals and exits, with time
//! advancing, the registry's token balance equals Σ listing deposits +
//! Σ open challenge stakes + Σ voter balances + Σ unclaimed rewards + dust.

mod suite;

use std::collections::HashMap;

use proptest::prelude::*;
use suite::*;
use token_curated_registry::msg::ExecuteMsg;
use token_curated_registry::state::Choice;

const ACTORS: [&str; 4] = ["alice", "bob", "carol", "dave"];

#[derive(Debug, Clone)]
enum Op {
    Apply {
        actor: usize,
        subject: usize,
        extra: u128,
    },
    ApplySelf {
        actor: usize,
        extra: u128,
    },
    TopUp {
        actor: usize,
        subject: usize,
        amount: u128,
    },
    Withdraw {
        actor: usize,
        subject: usize,
        amount: u128,
    },
    Challenge {
        actor: usize,
        subject: usize,
    },
    DepositVotes {
        actor: usize,
        amount: u128,
    },
    WithdrawVotes {
        actor: usize,
        amount: u128,
    },
    Commit {
        actor: usize,
        poll: u64,
        keep: bool,
        weight: u128,
    },
    Reveal {
        pick: usize,
        honest: bool,
    },
    Update {
        subject: usize,
    },
    Claim {
        pick: usize,
    },
    InitExit {
        actor: usize,
        subject: usize,
    },
    FinalizeExit {
        actor: usize,
        subject: usize,
    },
    Sweep,
    Advance {
        secs: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let actor = 0..ACTORS.len();
    // Subjects 0..4 are string ids, 4..8 the actors' own addresses.
    let subject = 0usize..8;
    prop_oneof![
        1 => (actor.clone(), 0usize..4, 0u128..1_500).prop_map(|(actor, subject, extra)| Op::Apply { actor, subject, extra }),
        1 => (actor.clone(), 0u128..1_500).prop_map(|(actor, extra)| Op::ApplySelf { actor, extra }),
        1 => (actor.clone(), subject.clone(), 1u128..800).prop_map(|(actor, subject, amount)| Op::TopUp { actor, subject, amount }),
        1 => (actor.clone(), subject.clone(), 1u128..1_500).prop_map(|(actor, subject, amount)| Op::Withdraw { actor, subject, amount }),
        3 => (actor.clone(), subject.clone()).prop_map(|(actor, subject)| Op::Challenge { actor, subject }),
        2 => (actor.clone(), 1u128..2_000).prop_map(|(actor, amount)| Op::DepositVotes { actor, amount }),
        1 => (actor.clone(), 1u128..2_000).prop_map(|(actor, amount)| Op::WithdrawVotes { actor, amount }),
        4 => (actor.clone(), 0u64..3, any::<bool>(), 1u128..400).prop_map(|(actor, poll, keep, weight)| Op::Commit { actor, poll, keep, weight }),
        8 => (any::<usize>(), prop::bool::weighted(0.9)).prop_map(|(pick, honest)| Op::Reveal { pick, honest }),
        8 => subject.clone().prop_map(|subject| Op::Update { subject }),
        8 => any::<usize>().prop_map(|pick| Op::Claim { pick }),
        1 => (actor.clone(), subject.clone()).prop_map(|(actor, subject)| Op::InitExit { actor, subject }),
        1 => (actor.clone(), subject.clone()).prop_map(|(actor, subject)| Op::FinalizeExit { actor, subject }),
        1 => Just(Op::Sweep),
        10 => (0u64..300).prop_map(|secs| Op::Advance { secs }),
    ]
}

/// The items of `v` starting at `at % len`, wrapping around.
fn rotate<T>(v: &[T], at: usize) -> impl Iterator<Item = &T> {
    let k = if v.is_empty() { 0 } else { at % v.len() };
    v[k..].iter().chain(v[..k].iter())
}

fn run(ops: Vec<Op>, cw20: bool) {
    let builder = SuiteBuilder::new();
    let mut s = if cw20 {
        builder.with_cw20().build()
    } else {
        builder.build()
    };
    let actors: Vec<_> = ACTORS.iter().map(|a| s.addr(a)).collect();
    let subject = |s: &Suite, i: usize| -> String {
        if i < 4 {
            format!("station-{i}")
        } else {
            s.addr(ACTORS[i - 4]).to_string()
        }
    };
    // Commitments made, in order, to pick reveals and claims from.
    let mut committed: HashMap<(u64, usize), Choice> = HashMap::new();
    let mut made: Vec<(u64, usize)> = vec![];
    let owner = s.owner.clone();
    let initial: u128 = actors.iter().map(|a| s.balance(a)).sum();
    for op in ops {
        let polls = s.config().next_poll_id - 1;
        // Recent polls are the ones still open.
        let recent = |p: u64| polls.saturating_sub(p).max(1);
        let _ = match op {
            Op::Apply {
                actor,
                subject: i,
                extra,
            } => {
                let sub = subject(&s, i);
                s.apply(&actors[actor], &sub, MIN_DEPOSIT + extra)
            }
            Op::ApplySelf { actor, extra } => {
                s.apply_self(&actors[actor].clone(), MIN_DEPOSIT + extra)
            }
            Op::TopUp {
                actor,
                subject: i,
                amount,
            } => {
                let sub = subject(&s, i);
                s.top_up(&actors[actor], &sub, amount)
            }
            Op::Withdraw {
                actor,
                subject: i,
                amount,
            } => {
                let sub = subject(&s, i);
                s.withdraw(&actors[actor], &sub, amount)
            }
            Op::Challenge { actor, subject: i } => {
                // Mostly an existing listing.
                let existing = s.listings(None, Some(30)).listings;
                let sub = match rotate(&existing, i).next() {
                    Some(l) if i % 4 != 0 => l.subject.clone(),
                    _ => subject(&s, i),
                };
                s.challenge(&actors[actor], &sub, MIN_DEPOSIT)
            }
            Op::DepositVotes { actor, amount } => s.deposit_votes(&actors[actor], amount),
            Op::WithdrawVotes { actor, amount } => s.withdraw_votes(&actors[actor], amount),
            Op::Commit {
                actor,
                poll,
                keep,
                weight,
            } => {
                // Mostly a poll still in its commit period.
                let now = s.now();
                let open: Vec<u64> = s
                    .polls(None)
                    .polls
                    .into_iter()
                    .filter(|p| now < p.commit_end)
                    .map(|p| p.poll_id)
                    .collect();
                let poll = match open.get(poll as usize % open.len().max(1)) {
                    Some(&id) if poll != 2 => id,
                    _ => recent(poll),
                };
                let choice = if keep { Choice::Keep } else { Choice::Remove };
                // Mostly a weight the voter can back, sometimes too much.
                let balance = s.voter(&actors[actor]).balance.u128();
                let weight = if balance > 0 && weight % 8 != 0 {
                    1 + weight % balance
                } else {
                    weight
                };
                let res = s.commit(&actors[actor], poll, choice, actor as u8 + 1, weight);
                if res.is_ok() && committed.insert((poll, actor), choice).is_none() {
                    made.push((poll, actor));
                }
                res
            }
            Op::Reveal { pick, honest } => {
                let now = s.now();
                let open = |&&(poll, _): &&(u64, usize)| {
                    let p = s.poll(poll);
                    now >= p.commit_end && now < p.reveal_end
                };
                let Some(&(poll, actor)) = rotate(&made, pick).find(open).or(made.first()) else {
                    continue;
                };
                let choice = committed[&(poll, actor)];
                let n = if honest { actor as u8 + 1 } else { 99 };
                s.reveal(&actors[actor], poll, choice, n)
            }
            Op::Update { subject: i } => {
                // Half the time, the subject of the oldest unresolved poll.
                let unresolved = s
                    .polls(None)
                    .polls
                    .into_iter()
                    .find(|p| p.outcome.is_none())
                    .map(|p| p.subject);
                let sub = match unresolved {
                    Some(sub) if i % 2 == 0 => sub,
                    _ => subject(&s, i),
                };
                s.update(&sub)
            }
            Op::Claim { pick } => {
                let resolved = |&&(poll, _): &&(u64, usize)| s.poll(poll).outcome.is_some();
                let Some(&(poll, actor)) = rotate(&made, pick).find(resolved).or(made.first())
                else {
                    continue;
                };
                s.claim(&actors[actor], poll)
            }
            Op::InitExit { actor, subject: i } => {
                let sub = subject(&s, i);
                s.init_exit(&actors[actor], &sub)
            }
            Op::FinalizeExit { actor, subject: i } => {
                let sub = subject(&s, i);
                s.finalize_exit(&actors[actor], &sub)
            }
            Op::Sweep => s.exec(
                &owner,
                ExecuteMsg::SweepDust {
                    recipient: owner.to_string(),
                },
            ),
            Op::Advance { secs } => {
                s.advance(secs);
                Ok(Default::default())
            }
        };
        s.assert_conserved();
        // Nothing is created or destroyed: users + owner + registry = minted.
        let outside: u128 = actors.iter().map(|a| s.balance(a)).sum::<u128>() + s.balance(&owner);
        assert_eq!(outside + s.held(), initial);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn conservation_native(ops in prop::collection::vec(op(), 1..250)) {
        run(ops, false);
    }

    #[test]
    fn conservation_cw20(ops in prop::collection::vec(op(), 1..200)) {
        run(ops, true);
    }
}
