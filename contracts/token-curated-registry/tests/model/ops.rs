//! The messages of a random run and how they are generated. Picks are
//! resolved against the model when a message runs (a listing of the actor,
//! an open poll, a vote in its reveal period), so most messages are
//! meaningful and every refusal path is still reached.

use cosmwasm_std::Uint128;
use proptest::prelude::*;
use token_curated_registry::msg::ParamsUpdate;

use super::{ACTORS, SUBJECTS};

/// One step of a run.
#[derive(Debug, Clone)]
pub enum Op {
    /// `apply` for subject index `subject` with `min_deposit − 1`,
    /// `min_deposit` or `min_deposit + extra` (`amount` 0, 1, else).
    Apply {
        actor: usize,
        subject: usize,
        amount: u8,
        extra: u128,
    },
    /// `deposit` on (mostly) one of the actor's listings.
    TopUp {
        actor: usize,
        subject: usize,
        amount: u128,
    },
    /// `withdraw` of 0, all that is withdrawable, one more, or `extra`.
    Withdraw {
        actor: usize,
        subject: usize,
        amount: u8,
        extra: u128,
    },
    /// `challenge` of (mostly) a listing of someone else; the stake is the
    /// minimum in force, the current `min_deposit` (`stake` 2) or one more
    /// than the minimum in force (3); `stake` 4 takes subject index
    /// `subject` as it is.
    Challenge {
        actor: usize,
        subject: usize,
        stake: u8,
    },
    /// `update_status` of (mostly) an application or a challenged listing.
    Update { subject: usize },
    /// `init_exit` of (mostly) a listing of the actor that may exit.
    InitExit { actor: usize, subject: usize },
    /// `finalize_exit` of (mostly) an exiting listing of the actor.
    FinalizeExit { actor: usize, subject: usize },
    /// `deposit_voting_tokens`.
    DepositVotes { actor: usize, amount: u128 },
    /// `withdraw_voting_tokens` of 0, all that is free, one more, or `extra`.
    WithdrawVotes {
        actor: usize,
        amount: u8,
        extra: u128,
    },
    /// `commit_vote` in (mostly) a poll in its commit period; `which` 6 is a
    /// poll that does not exist; the weight is 0, balance + 1, the whole
    /// balance, or part of it (`weight` 0, 1, 2–3, else).
    Commit {
        actor: usize,
        poll: usize,
        which: u8,
        keep: bool,
        weight: u8,
        extra: u128,
        salt: u8,
    },
    /// `reveal_vote` of (mostly) a vote in its reveal period; `honest` 0
    /// reveals the other choice, 1 a wrong salt.
    Reveal { pick: usize, honest: u8 },
    /// `claim_reward` of (mostly) a vote in a resolved poll; `any` claims
    /// any poll id for `actor`.
    Claim {
        pick: usize,
        any: bool,
        actor: usize,
    },
    /// `update_params`, by the owner or (when `owner` is false) an actor.
    UpdateParams { owner: bool, update: ParamsUpdate },
    /// `sweep_dust`, by the owner or an actor.
    Sweep { owner: bool },
    /// Time passes.
    Advance { secs: u64 },
    /// Advances to just before, at or just after one of the next deadlines
    /// (a commit or reveal end, an application end, an exit, a minimum
    /// deposit increase), where the rules change.
    Jump { pick: usize, offset: u8 },
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.25, s)
}

pub fn params_update() -> impl Strategy<Value = ParamsUpdate> {
    (
        (
            prop::option::weighted(0.6, (500u128..3_000).prop_map(Uint128::new)),
            opt(1u64..1_200),
            opt(0u64..500),
            opt(30u64..500),
            opt(0u8..=110),
        ),
        (
            opt(0u8..=110),
            opt(0u64..2_000),
            opt(0u64..4_000),
            opt((0u128..1_500).prop_map(Uint128::new)),
            opt(0u8..=110),
        ),
    )
        .prop_map(
            |((min, apply, commit, reveal, disp), (quorum, exit, grace, surv, pen))| ParamsUpdate {
                min_deposit: min,
                apply_stage_secs: apply,
                commit_stage_secs: commit,
                reveal_stage_secs: reveal,
                dispensation_pct: disp,
                vote_quorum_pct: quorum,
                exit_delay_secs: exit,
                deposit_grace_secs: grace,
                min_survival_weight: surv,
                unrevealed_penalty_pct: pen,
            },
        )
}

pub fn op() -> impl Strategy<Value = Op> {
    let actor = 0..ACTORS.len();
    let subject = 0..SUBJECTS;
    // Applications: mostly the actor's own address or a plain id.
    let apply_subject = prop_oneof![4 => Just(None), 2 => (0usize..2).prop_map(Some), 1 => (0..SUBJECTS).prop_map(Some)];
    prop_oneof![
        4 => (actor.clone(), apply_subject, 0u8..5, 0u128..1_500)
            .prop_map(|(actor, subject, amount, extra)| Op::Apply { actor, subject: subject.unwrap_or(2 + actor), amount, extra }),
        1 => (actor.clone(), subject.clone(), 1u128..1_500)
            .prop_map(|(actor, subject, amount)| Op::TopUp { actor, subject, amount }),
        1 => (actor.clone(), subject.clone(), 0u8..4, 0u128..1_500)
            .prop_map(|(actor, subject, amount, extra)| Op::Withdraw { actor, subject, amount, extra }),
        6 => (actor.clone(), subject.clone(), 0u8..6)
            .prop_map(|(actor, subject, stake)| Op::Challenge { actor, subject, stake }),
        6 => subject.clone().prop_map(|subject| Op::Update { subject }),
        3 => (actor.clone(), subject.clone())
            .prop_map(|(actor, subject)| Op::InitExit { actor, subject }),
        3 => (actor.clone(), subject.clone())
            .prop_map(|(actor, subject)| Op::FinalizeExit { actor, subject }),
        2 => (actor.clone(), 1u128..2_000)
            .prop_map(|(actor, amount)| Op::DepositVotes { actor, amount }),
        1 => (actor.clone(), 0u8..4, 0u128..2_000)
            .prop_map(|(actor, amount, extra)| Op::WithdrawVotes { actor, amount, extra }),
        12 => (actor.clone(), any::<usize>(), 0u8..8, any::<bool>(), 0u8..8, 0u128..2_000, 1u8..4)
            .prop_map(|(actor, poll, which, keep, weight, extra, salt)| Op::Commit { actor, poll, which, keep, weight, extra, salt }),
        12 => (any::<usize>(), 0u8..10).prop_map(|(pick, honest)| Op::Reveal { pick, honest }),
        5 => (any::<usize>(), prop::bool::weighted(0.1), actor.clone())
            .prop_map(|(pick, any, actor)| Op::Claim { pick, any, actor }),
        2 => (prop::bool::weighted(0.85), params_update())
            .prop_map(|(owner, update)| Op::UpdateParams { owner, update }),
        1 => prop::bool::weighted(0.85).prop_map(|owner| Op::Sweep { owner }),
        5 => prop_oneof![20 => 0u64..40, 9 => 40u64..200, 1 => 200u64..2_500]
            .prop_map(|secs| Op::Advance { secs }),
        2 => (any::<usize>(), 0u8..3).prop_map(|(pick, offset)| Op::Jump { pick, offset }),
    ]
}

/// A run: every actor first funds its voting balance and applies for its
/// own address (random amounts, so some of these fail too), then random
/// messages.
pub fn ops(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Op>> {
    let prelude = prop::collection::vec((1u128..2_000, 0u8..5, 0u128..800), ACTORS.len());
    (prelude, prop::collection::vec(op(), len)).prop_map(|(prelude, ops)| {
        let mut all = vec![];
        for (actor, (votes, amount, extra)) in prelude.into_iter().enumerate() {
            all.push(Op::DepositVotes {
                actor,
                amount: votes,
            });
            all.push(Op::Apply {
                actor,
                subject: 2 + actor,
                amount,
                extra,
            });
        }
        all.extend(ops);
        all
    })
}
