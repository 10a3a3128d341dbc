//! The harness: the registry in cw-multi-test next to the model. Each step
//! resolves an op's picks against the model, asks the model what must
//! happen, sends the message, and insists they agree; `check` compares
//! balances, wallets and every query with the model.

use std::collections::BTreeMap;

use cosmwasm_std::{Addr, Timestamp};
use token_curated_registry::msg::ExecuteMsg;
use token_curated_registry::state::Choice;
use token_curated_registry::ContractError;

use super::ops::Op;
use super::{MListing, MParams, MVoter, Model, ACTORS};
use crate::suite::{default_params, Res, Suite, SuiteBuilder, FUNDS};

pub struct World {
    pub s: Suite,
    pub m: Model,
    pub actors: Vec<Addr>,
    /// Subject strings by index (see [`super::SUBJECTS`]).
    pub subjects: Vec<String>,
}

impl World {
    pub fn new(cw20: bool) -> Self {
        let builder = SuiteBuilder::new();
        let mut s = if cw20 {
            builder.with_cw20().build()
        } else {
            builder.build()
        };
        // Whole seconds, so that the model's times are plain numbers.
        s.app
            .update_block(|b| b.time = Timestamp::from_seconds(b.time.seconds() + 1));
        let actors: Vec<_> = ACTORS.iter().map(|a| s.addr(a)).collect();
        let mut subjects = vec!["station-0".to_string(), "station-1".to_string()];
        subjects.extend(actors.iter().map(|a| a.to_string()));
        subjects.push(actors[0].as_str().to_ascii_uppercase());
        let (_, data) = bech32::decode(actors[1].as_str()).unwrap();
        let osmo = bech32::Hrp::parse("osmo").unwrap();
        subjects.push(bech32::encode::<bech32::Bech32>(osmo, &data).unwrap());
        let d = default_params();
        let now = s.now().seconds();
        let m = Model {
            now,
            p: MParams {
                min_deposit: d.min_deposit.u128(),
                apply: d.apply_stage_secs,
                commit: d.commit_stage_secs,
                reveal: d.reveal_stage_secs,
                dispensation: d.dispensation_pct,
                quorum: d.vote_quorum_pct,
                exit_delay: d.exit_delay_secs,
                grace: d.deposit_grace_secs,
                min_survival: d.min_survival_weight.u128(),
                penalty: d.unrevealed_penalty_pct,
            },
            floor: (d.min_deposit.u128(), d.min_deposit.u128(), now),
            listings: BTreeMap::new(),
            polls: vec![],
            votes: BTreeMap::new(),
            voters: vec![MVoter::default(); ACTORS.len()],
            dust: 0,
            forfeited: 0,
            wallets: vec![FUNDS, FUNDS, FUNDS, FUNDS, 0],
            underfunded_removals: 0,
            exits: 0,
        };
        World {
            s,
            m,
            actors,
            subjects,
        }
    }

    fn advance(&mut self, secs: u64) {
        self.s.advance(secs);
        self.m.now += secs;
    }

    /// Runs one message: the model's expectation first, then the contract,
    /// which must agree; the model's effects are kept only on success.
    pub fn step(&mut self, op: &Op) {
        self.wait_for_reveal(op);
        let mut next = self.m.clone();
        let a = |actor: usize| self.actors[actor].clone();
        let (expected, res): (_, Res) = match op.clone() {
            Op::Advance { secs } => return self.advance(secs),
            Op::Jump { pick, offset } => {
                let m = &self.m;
                let mut deadlines: Vec<u64> = m
                    .polls
                    .iter()
                    .flat_map(|p| [p.commit_end, p.reveal_end])
                    .chain(m.listings.values().map(|l| l.application_end))
                    .chain(m.listings.values().filter_map(|l| l.exit_at))
                    .chain([m.floor.2])
                    .filter(|&t| t > m.now)
                    .collect();
                deadlines.sort_unstable();
                if let Some(&t) = deadlines.get(pick % deadlines.len().clamp(1, 3)) {
                    let secs = (t + offset as u64 - 1).saturating_sub(m.now);
                    self.advance(secs);
                }
                return;
            }
            Op::Apply {
                actor,
                subject,
                amount,
                extra,
            } => {
                let sub = self.subjects[subject].clone();
                let amount = match amount {
                    0 => next.p.min_deposit - 1,
                    1 => next.p.min_deposit,
                    _ => next.p.min_deposit + extra,
                };
                let e = next.apply(actor, subject, &sub, amount);
                (e, self.s.apply(&a(actor), &sub, amount))
            }
            Op::TopUp {
                actor,
                subject,
                amount,
            } => {
                let sub = self.mine(actor, subject);
                let e = next.top_up(actor, &sub, amount);
                (e, self.s.top_up(&a(actor), &sub, amount))
            }
            Op::Withdraw {
                actor,
                subject,
                amount,
                extra,
            } => {
                let sub = self.mine(actor, subject);
                let available = next.withdrawable(&sub);
                let amount = match amount {
                    0 => 0,
                    1 => available,
                    2 => available + 1,
                    _ => extra,
                };
                let e = next.withdraw(actor, &sub, amount);
                (e, self.s.withdraw(&a(actor), &sub, amount))
            }
            Op::Challenge {
                actor,
                subject,
                stake,
            } => {
                let (sub, actor) = self.challenge_pick(actor, subject, stake);
                let in_force = next.floor_at(next.now);
                let amount = match stake {
                    2 => next.p.min_deposit,
                    3 => in_force + 1,
                    _ => in_force,
                };
                let e = next.challenge(actor, &sub, amount);
                (e, self.s.challenge(&a(actor), &sub, amount))
            }
            Op::Update { subject } => {
                // Mostly the subject of an unresolved poll or an application.
                let pending: Vec<&String> = next
                    .listings
                    .iter()
                    .filter(|(_, l)| l.challenge.is_some() || !l.whitelisted)
                    .map(|(k, _)| k)
                    .collect();
                let sub = match pending.get(subject % pending.len().max(1)) {
                    Some(k) if !subject.is_multiple_of(4) => (*k).clone(),
                    _ => self.subjects[subject].clone(),
                };
                let e = next.update(&sub);
                (e, self.s.update(&sub))
            }
            Op::InitExit { actor, subject } => {
                let sub = self.exit_pick(actor, subject, false);
                let e = next.init_exit(actor, &sub);
                (e, self.s.init_exit(&a(actor), &sub))
            }
            Op::FinalizeExit { actor, subject } => {
                let sub = self.exit_pick(actor, subject, true);
                let e = next.finalize_exit(actor, &sub);
                (e, self.s.finalize_exit(&a(actor), &sub))
            }
            Op::DepositVotes { actor, amount } => {
                let e = next.deposit_votes(actor, amount);
                (e, self.s.deposit_votes(&a(actor), amount))
            }
            Op::WithdrawVotes {
                actor,
                amount,
                extra,
            } => {
                let available = next.withdrawable_votes(actor);
                let amount = match amount {
                    0 => 0,
                    1 => available,
                    2 => available + 1,
                    _ => extra,
                };
                let e = next.withdraw_votes(actor, amount);
                (e, self.s.withdraw_votes(&a(actor), amount))
            }
            Op::Commit {
                actor,
                poll,
                which,
                keep,
                weight,
                extra,
                salt,
            } => {
                let n = next.polls.len();
                let open: Vec<u64> = (1..=n as u64)
                    .filter(|&id| next.now < next.polls[id as usize - 1].commit_end)
                    .collect();
                let poll_id = match which {
                    0..=5 if !open.is_empty() => open[poll % open.len()],
                    6 => n as u64 + 1,
                    _ => 1 + (poll % n.max(1)) as u64,
                };
                let balance = next.settled(actor).0.balance;
                let weight = match weight {
                    0 => 0,
                    1 => balance + 1,
                    2 | 3 => balance.max(1),
                    _ => 1 + extra % balance.max(1),
                };
                let choice = if keep { Choice::Keep } else { Choice::Remove };
                let e = next.commit(actor, poll_id, choice, weight, salt);
                (e, self.s.commit(&a(actor), poll_id, choice, salt, weight))
            }
            Op::Reveal { pick, honest } => {
                let (poll_id, actor) = self.reveal_pick(pick, honest);
                let (choice, salt) = match next.votes.get(&(poll_id, actor)) {
                    Some(v) if honest >= 2 => (v.choice, v.salt),
                    Some(v) if honest == 1 => (v.choice, 99),
                    Some(v) if v.choice == Choice::Keep => (Choice::Remove, v.salt),
                    Some(v) => (Choice::Keep, v.salt),
                    None => (Choice::Keep, 1),
                };
                let e = next.reveal(actor, poll_id, choice, salt, &self.actors);
                (e, self.s.reveal(&a(actor), poll_id, choice, salt))
            }
            Op::Claim { pick, any, actor } => {
                let (poll_id, actor) = self.claim_pick(pick, any, actor);
                let e = next.claim(actor, poll_id, &self.actors);
                (e, self.s.claim(&a(actor), poll_id))
            }
            Op::UpdateParams { owner, update } => {
                let e = next.update_params(owner, &update);
                let sender = if owner { self.s.owner.clone() } else { a(0) };
                (e, self.s.update_params(&sender, update))
            }
            Op::Sweep { owner } => {
                let e = next.sweep(owner);
                let sender = if owner { self.s.owner.clone() } else { a(0) };
                let recipient = self.s.owner.to_string();
                (e, self.s.exec(&sender, ExecuteMsg::SweepDust { recipient }))
            }
        };
        match (expected, res) {
            (Ok(()), Ok(_)) => self.m = next,
            (Ok(()), Err(err)) => {
                panic!("{op:?}: the model accepts, the contract refused: {err:#}")
            }
            (Err(want), Ok(_)) => {
                panic!("{op:?}: the model refuses with {want:?}, the contract accepted")
            }
            (Err(want), Err(err)) => {
                let got = err
                    .downcast::<ContractError>()
                    .unwrap_or_else(|e| panic!("{op:?}: not a ContractError: {e:#}"));
                assert_eq!(got, want, "{op:?}: refused with another error");
            }
        }
    }

    /// One reveal in ten first waits, when no vote can be revealed now, for
    /// the next reveal period to open (at its first second, or one or two
    /// seconds in): otherwise random time steps rarely land in one.
    fn wait_for_reveal(&mut self, op: &Op) {
        let Op::Reveal { pick, honest } = *op else {
            return;
        };
        let m = &self.m;
        let commit_ends = |open: bool| {
            m.votes
                .iter()
                .filter(|(_, v)| v.revealed.is_none())
                .map(|(&(id, _), _)| &m.polls[id as usize - 1])
                .filter(move |p| {
                    if open {
                        p.commit_end <= m.now && m.now < p.reveal_end
                    } else {
                        m.now < p.commit_end
                    }
                })
                .map(|p| p.commit_end)
                .min()
        };
        if honest < 9 || commit_ends(true).is_some() {
            return;
        }
        if let Some(t) = commit_ends(false) {
            let secs = t + (pick % 3) as u64 - m.now;
            self.advance(secs);
        }
    }

    /// Mostly one of the actor's listings.
    fn mine(&self, actor: usize, subject: usize) -> String {
        self.pick(subject, 4, |l| l.owner == actor)
    }

    /// Mostly a listing of the actor that may start an exit, or one exiting
    /// (exits are rare otherwise).
    fn exit_pick(&self, actor: usize, subject: usize, exiting: bool) -> String {
        self.pick(subject, 3, |l| {
            l.owner == actor
                && if exiting {
                    l.exit_at.is_some()
                } else {
                    l.whitelisted && l.challenge.is_none() && l.exit_at.is_none()
                }
        })
    }

    /// A listing that `fits`, except one time in `raw_every` (or when none
    /// fits): the subject with index `subject`, whatever it is.
    fn pick(&self, subject: usize, raw_every: usize, fits: impl Fn(&MListing) -> bool) -> String {
        let candidates: Vec<&String> = self
            .m
            .listings
            .iter()
            .filter(|(_, l)| fits(l))
            .map(|(k, _)| k)
            .collect();
        match candidates.get(subject % candidates.len().max(1)) {
            Some(k) if !subject.is_multiple_of(raw_every) => (*k).clone(),
            _ => self.subjects[subject].clone(),
        }
    }

    /// Mostly a listing of someone else that can be challenged (the
    /// challenger is changed if it owns it); sometimes any subject, by
    /// anyone, self-challenges included.
    fn challenge_pick(&self, actor: usize, subject: usize, stake: u8) -> (String, usize) {
        let open: Vec<(&String, &MListing)> = self
            .m
            .listings
            .iter()
            .filter(|(_, l)| l.challenge.is_none() && l.exit_at.is_none())
            .collect();
        match open.get(subject % open.len().max(1)) {
            Some((k, l)) if stake < 4 && !subject.is_multiple_of(5) => {
                let actor = if l.owner == actor {
                    (actor + 1) % ACTORS.len()
                } else {
                    actor
                };
                ((*k).clone(), actor)
            }
            _ => (self.subjects[subject].clone(), actor),
        }
    }

    /// Mostly a vote in its reveal period, else any vote, else poll 1 or 2.
    fn reveal_pick(&self, pick: usize, honest: u8) -> (u64, usize) {
        let m = &self.m;
        let in_reveal: Vec<(u64, usize)> = m
            .votes
            .iter()
            .filter(|((poll, _), v)| {
                let p = &m.polls[*poll as usize - 1];
                v.revealed.is_none() && p.commit_end <= m.now && m.now < p.reveal_end
            })
            .map(|(k, _)| *k)
            .collect();
        let all: Vec<(u64, usize)> = m.votes.keys().copied().collect();
        if !in_reveal.is_empty() && honest > 0 {
            in_reveal[pick % in_reveal.len()]
        } else if !all.is_empty() {
            all[pick % all.len()]
        } else {
            (1 + pick as u64 % 2, pick % ACTORS.len())
        }
    }

    /// Mostly an unclaimed vote in a resolved poll, else any vote; with
    /// `any`, any poll id (one past the last included) for `actor`.
    fn claim_pick(&self, pick: usize, any: bool, actor: usize) -> (u64, usize) {
        let m = &self.m;
        let claimable: Vec<(u64, usize)> = m
            .votes
            .iter()
            .filter(|((poll, _), v)| m.polls[*poll as usize - 1].outcome.is_some() && !v.claimed)
            .map(|(k, _)| *k)
            .collect();
        let all: Vec<(u64, usize)> = m.votes.keys().copied().collect();
        if any || all.is_empty() {
            (1 + (pick % (m.polls.len() + 1)) as u64, actor)
        } else if !claimable.is_empty() && !pick.is_multiple_of(5) {
            claimable[pick % claimable.len()]
        } else {
            all[pick % all.len()]
        }
    }

    /// The contract's balance, every wallet and everything the queries show
    /// must match the model.
    pub fn check(&self) {
        let (s, m) = (&self.s, &self.m);
        assert_eq!(s.now().seconds(), m.now);
        assert_eq!(
            s.held(),
            m.liabilities(),
            "balance != the model's liabilities"
        );
        for (i, a) in self.actors.iter().enumerate() {
            assert_eq!(s.balance(a), m.wallets[i], "wallet of {}", ACTORS[i]);
        }
        let owner_wallet = m.wallets[ACTORS.len()];
        assert_eq!(s.balance(&s.owner), owner_wallet, "owner's wallet");
        let cfg = s.config();
        assert_eq!(cfg.dust.u128(), m.dust, "dust");
        assert_eq!(cfg.forfeited.u128(), m.forfeited, "forfeited");
        assert_eq!(cfg.next_poll_id, m.polls.len() as u64 + 1);
        assert_eq!(cfg.min_deposit_in_force.u128(), m.floor_at(m.now));
        for sub in &self.subjects {
            let Some(l) = m.listings.get(sub) else {
                assert!(!s.has_listing(sub), "{sub} should not exist");
                continue;
            };
            let r = s.listing(sub);
            assert_eq!(r.owner, self.actors[l.owner]);
            assert_eq!(r.deposit.u128(), l.deposit, "deposit of {sub}");
            assert_eq!(r.application_end.seconds(), l.application_end);
            assert_eq!(r.listed_since.map(|t| t.seconds()), l.listed_since);
            assert_eq!(r.challenge_id, l.challenge, "challenge of {sub}");
            assert_eq!(r.exit_at.map(|t| t.seconds()), l.exit_at);
            assert_eq!(r.challenges_survived, l.survived, "survivals of {sub}");
            let listed = l.whitelisted && l.exit_at.is_none_or(|at| m.now < at);
            assert_eq!(r.listed, listed, "listed {sub}");
            assert_eq!(s.is_listed(sub), listed);
        }
        for (i, p) in m.polls.iter().enumerate() {
            let id = i as u64 + 1;
            let r = s.poll(id);
            assert_eq!(r.subject, p.subject);
            let periods = (r.commit_end.seconds(), r.reveal_end.seconds());
            assert_eq!(periods, (p.commit_end, p.reveal_end));
            let rules = (r.vote_quorum_pct, r.dispensation_pct);
            assert_eq!(rules, (p.quorum, p.dispensation));
            let tally = (r.votes_keep.u128(), r.votes_remove.u128());
            assert_eq!(tally, (p.keep, p.remove), "tally of {id}");
            assert_eq!((r.voters_keep, r.voters_remove), (p.nkeep, p.nremove));
            assert_eq!(r.outcome, p.outcome, "outcome of {id}");
            let pool = (r.reward_pool.u128(), r.reward_claimed.u128(), r.claims);
            assert_eq!(pool, (p.pool, p.claimed, p.claims), "pool of {id}");
            let c = s.challenge_info(id);
            assert_eq!(c.challenger, self.actors[p.challenger]);
            assert_eq!(c.stake.u128(), p.stake);
            assert_eq!(c.winner_reward.u128(), p.winner_reward);
        }
        for (i, a) in self.actors.iter().enumerate() {
            let (v, forfeit) = m.settled(i);
            let r = s.voter(a);
            assert_eq!(
                r.balance.u128(),
                v.balance,
                "voting balance of {}",
                ACTORS[i]
            );
            assert_eq!(r.forfeit.u128(), forfeit, "forfeit of {}", ACTORS[i]);
            assert_eq!(r.locked.u128(), Model::locked(&v, m.now));
            assert_eq!(r.locks.len(), v.locks.len());
        }
        for &(poll, i) in m.votes.keys() {
            let got = s.claimable(poll, &self.actors[i]);
            let want = m.claimable(poll, i);
            assert_eq!(got, want, "claimable of {} in {poll}", ACTORS[i]);
        }
        // The queries' own bookkeeping agrees too.
        s.assert_conserved();
    }
}
