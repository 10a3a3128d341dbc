//! What the model says each message must do: `Ok` (and its effects on the
//! model) or the exact `ContractError`, checked in the order the README and
//! the error list imply. A refused message's effects are thrown away by the
//! caller, so rules may change the model before they refuse.

use cosmwasm_std::{Addr, Timestamp, Uint128};
use token_curated_registry::msg::ParamsUpdate;
use token_curated_registry::state::Choice;
use token_curated_registry::ContractError;

use super::{nothing, Expect, MListing, MPoll, MVote, Model, ACTORS, INVALID_ADDRESS};

fn ts(t: u64) -> Timestamp {
    Timestamp::from_seconds(t)
}

impl Model {
    /// `apply`: subject index 0–1 plain ids, 2–5 the actors' addresses,
    /// 6–7 spellings that are not subjects.
    pub fn apply(&mut self, actor: usize, subject: usize, sub: &str, amount: u128) -> Expect {
        if subject >= 6 {
            return Err(ContractError::InvalidSubject {
                subject: sub.to_string(),
                reason: INVALID_ADDRESS,
            });
        }
        if (2..6).contains(&subject) && subject - 2 != actor {
            return Err(ContractError::NotSubject {
                subject: sub.to_string(),
            });
        }
        if self.listings.contains_key(sub) {
            return Err(ContractError::AlreadyApplied {
                subject: sub.to_string(),
            });
        }
        if amount < self.p.min_deposit {
            return Err(ContractError::DepositTooLow {
                received: Uint128::new(amount),
                min_deposit: Uint128::new(self.p.min_deposit),
            });
        }
        self.wallets[actor] -= amount;
        let listing = MListing {
            owner: actor,
            deposit: amount,
            whitelisted: false,
            application_end: self.now + self.p.apply,
            listed_since: None,
            challenge: None,
            exit_at: None,
            survived: 0,
        };
        self.listings.insert(sub.to_string(), listing);
        Ok(())
    }

    pub fn top_up(&mut self, actor: usize, sub: &str, amount: u128) -> Expect {
        self.owned(sub, actor)?;
        self.listings.get_mut(sub).unwrap().deposit += amount;
        self.wallets[actor] -= amount;
        Ok(())
    }

    /// What the owner may withdraw: the free deposit above the current
    /// `min_deposit` (not the one in force: no withdrawing into a raise).
    pub fn withdrawable(&self, sub: &str) -> u128 {
        self.listings.get(sub).map_or(0, |l| {
            (l.deposit - self.held(l)).saturating_sub(self.p.min_deposit)
        })
    }

    pub fn withdraw(&mut self, actor: usize, sub: &str, amount: u128) -> Expect {
        if amount == 0 {
            return Err(ContractError::ZeroAmount);
        }
        self.owned(sub, actor)?;
        let available = self.withdrawable(sub);
        if amount > available {
            return Err(ContractError::WithdrawTooMuch {
                subject: sub.to_string(),
                requested: Uint128::new(amount),
                available: Uint128::new(available),
            });
        }
        self.listings.get_mut(sub).unwrap().deposit -= amount;
        self.wallets[actor] += amount;
        Ok(())
    }

    pub fn init_exit(&mut self, actor: usize, sub: &str) -> Expect {
        let subject = sub.to_string();
        let l = self.owned(sub, actor)?;
        if !l.whitelisted {
            return Err(ContractError::ExitNotListed { subject });
        }
        if let Some(poll_id) = l.challenge {
            return Err(ContractError::ChallengeOpen { subject, poll_id });
        }
        if l.exit_at.is_some() {
            return Err(ContractError::ExitAlreadyRequested { subject });
        }
        let at = self.now + self.p.exit_delay;
        self.listings.get_mut(sub).unwrap().exit_at = Some(at);
        Ok(())
    }

    pub fn finalize_exit(&mut self, actor: usize, sub: &str) -> Expect {
        let subject = sub.to_string();
        let l = self.owned(sub, actor)?;
        let at = l.exit_at.ok_or_else(|| ContractError::ExitNotRequested {
            subject: subject.clone(),
        })?;
        if let Some(poll_id) = l.challenge {
            return Err(ContractError::ChallengeOpen { subject, poll_id });
        }
        if self.now < at {
            return Err(ContractError::ExitNotReady {
                subject,
                at: ts(at),
            });
        }
        let l = self.listings.remove(sub).unwrap();
        self.wallets[actor] += l.deposit;
        self.exits += 1;
        Ok(())
    }

    /// `challenge`: nobody challenges itself; the stake is the minimum in
    /// force; a listing below it is removed at once (stake returned).
    pub fn challenge(&mut self, actor: usize, sub: &str, amount: u128) -> Expect {
        let subject = sub.to_string();
        let l = self
            .listings
            .get(sub)
            .cloned()
            .ok_or_else(|| ContractError::ListingNotFound {
                subject: subject.clone(),
            })?;
        if l.owner == actor {
            return Err(ContractError::SelfChallenge { subject });
        }
        if let Some(at) = l.exit_at {
            if self.now >= at {
                return Err(ContractError::ChallengeDuringExit {
                    subject,
                    at: ts(at),
                });
            }
        }
        if let Some(poll_id) = l.challenge {
            return Err(ContractError::ChallengeOpen { subject, poll_id });
        }
        let stake = self.floor_at(self.now);
        if amount != stake {
            return Err(ContractError::WrongChallengeStake {
                expected: Uint128::new(stake),
                received: Uint128::new(amount),
            });
        }
        if l.deposit < stake {
            self.listings.remove(sub);
            self.voters[l.owner].balance += l.deposit;
            self.underfunded_removals += 1;
            return Ok(());
        }
        self.wallets[actor] -= amount;
        let commit_end = self.now + self.p.commit;
        self.polls.push(MPoll {
            subject,
            challenger: actor,
            stake,
            commit_end,
            reveal_end: commit_end + self.p.reveal,
            quorum: self.p.quorum,
            dispensation: self.p.dispensation,
            min_survival: self.p.min_survival,
            penalty: self.p.penalty,
            keep: 0,
            remove: 0,
            nkeep: 0,
            nremove: 0,
            outcome: None,
            winner_reward: 0,
            pool: 0,
            claimed: 0,
            claims: 0,
        });
        self.listings.get_mut(sub).unwrap().challenge = Some(self.polls.len() as u64);
        Ok(())
    }

    /// `update_status`: lists an application after its period, or resolves
    /// a challenge after its reveal period.
    pub fn update(&mut self, sub: &str) -> Expect {
        let now = self.now;
        let mut l =
            self.listings
                .get(sub)
                .cloned()
                .ok_or_else(|| ContractError::ListingNotFound {
                    subject: sub.to_string(),
                })?;
        let Some(poll_id) = l.challenge else {
            if l.whitelisted {
                return Err(nothing(sub, "already listed and not challenged"));
            }
            if now < l.application_end {
                return Err(nothing(sub, "the application period has not ended"));
            }
            let l = self.listings.get_mut(sub).unwrap();
            l.whitelisted = true;
            l.listed_since = Some(now);
            return Ok(());
        };
        let p = &mut self.polls[poll_id as usize - 1];
        if now < p.reveal_end {
            return Err(nothing(sub, "the challenge's reveal period has not ended"));
        }
        // Keep wins iff 100 × keep > quorum × (keep + remove); the winner
        // gets ⌊stake × dispensation / 100⌋, the voters the rest, unless no
        // weight was revealed for the winner (then it takes everything).
        let keep_wins = 100 * p.keep > p.quorum as u128 * (p.keep + p.remove);
        let (outcome, winning) = if keep_wins {
            (Choice::Keep, p.keep)
        } else {
            (Choice::Remove, p.remove)
        };
        let (winner, pool) = if winning == 0 {
            (p.stake, 0)
        } else {
            let w = p.stake * p.dispensation as u128 / 100;
            (w, p.stake - w)
        };
        p.outcome = Some(outcome);
        p.winner_reward = winner;
        p.pool = pool;
        let p = p.clone();
        match outcome {
            Choice::Keep => {
                l.deposit += winner;
                l.challenge = None;
                // Never listed before the application period ends.
                if !l.whitelisted && now >= l.application_end {
                    l.whitelisted = true;
                    l.listed_since = Some(now);
                }
                // A survival counts only with enough revealed weight.
                if p.keep + p.remove >= p.min_survival {
                    l.survived += 1;
                }
                self.listings.insert(sub.to_string(), l);
            }
            Choice::Remove => {
                self.listings.remove(sub);
                self.voters[p.challenger].balance += p.stake + winner;
                self.voters[l.owner].balance += l.deposit - p.stake;
            }
        }
        Ok(())
    }

    pub fn deposit_votes(&mut self, actor: usize, amount: u128) -> Expect {
        self.voters[actor].balance += amount;
        self.wallets[actor] -= amount;
        Ok(())
    }

    /// What the voter may withdraw once its lapsed locks are settled.
    pub fn withdrawable_votes(&self, actor: usize) -> u128 {
        let (v, _) = self.settled(actor);
        v.balance.saturating_sub(Model::locked(&v, self.now))
    }

    pub fn withdraw_votes(&mut self, actor: usize, amount: u128) -> Expect {
        if amount == 0 {
            return Err(ContractError::ZeroAmount);
        }
        let (mut v, forfeited) = self.settled(actor);
        let available = v.balance.saturating_sub(Model::locked(&v, self.now));
        if amount > available {
            return Err(ContractError::VotingTokensLocked {
                requested: Uint128::new(amount),
                available: Uint128::new(available),
            });
        }
        v.balance -= amount;
        self.voters[actor] = v;
        self.forfeited += forfeited;
        self.wallets[actor] += amount;
        Ok(())
    }

    pub fn commit(
        &mut self,
        actor: usize,
        poll_id: u64,
        choice: Choice,
        weight: u128,
        salt: u8,
    ) -> Expect {
        let p = self
            .polls
            .get(poll_id as usize - 1)
            .cloned()
            .ok_or(ContractError::PollNotFound { poll_id })?;
        if self.now >= p.commit_end {
            return Err(ContractError::CommitPeriodOver {
                poll_id,
                ended: ts(p.commit_end),
            });
        }
        if weight == 0 {
            return Err(ContractError::ZeroAmount);
        }
        // Lapsed locks are settled (forfeits taken) before the balance is
        // compared with the weight.
        let (mut v, forfeited) = self.settled(actor);
        if weight > v.balance {
            return Err(ContractError::InsufficientVotingBalance {
                weight: Uint128::new(weight),
                balance: Uint128::new(v.balance),
            });
        }
        match v.locks.iter_mut().find(|l| l.0 == poll_id) {
            Some(lock) => lock.1 = weight,
            None => {
                if v.locks.len() >= 20 {
                    return Err(ContractError::TooManyOpenPolls);
                }
                v.locks.push((poll_id, weight, p.reveal_end));
            }
        }
        self.voters[actor] = v;
        self.forfeited += forfeited;
        let vote = MVote {
            weight,
            choice,
            salt,
            penalty: p.penalty,
            revealed: None,
            claimed: false,
        };
        self.votes.insert((poll_id, actor), vote);
        Ok(())
    }

    pub fn reveal(
        &mut self,
        actor: usize,
        poll_id: u64,
        choice: Choice,
        salt: u8,
        voters: &[Addr],
    ) -> Expect {
        let p = self
            .polls
            .get(poll_id as usize - 1)
            .ok_or(ContractError::PollNotFound { poll_id })?;
        if !(p.commit_end <= self.now && self.now < p.reveal_end) {
            return Err(ContractError::NotRevealPeriod {
                poll_id,
                starts: ts(p.commit_end),
                ends: ts(p.reveal_end),
            });
        }
        let v =
            self.votes
                .get_mut(&(poll_id, actor))
                .ok_or_else(|| ContractError::VoteNotFound {
                    poll_id,
                    voter: voters[actor].to_string(),
                })?;
        if v.revealed.is_some() {
            return Err(ContractError::AlreadyRevealed { poll_id });
        }
        if (v.choice, v.salt) != (choice, salt) {
            return Err(ContractError::CommitmentMismatch { poll_id });
        }
        v.revealed = Some(choice);
        let weight = v.weight;
        let p = &mut self.polls[poll_id as usize - 1];
        match choice {
            Choice::Keep => {
                p.keep += weight;
                p.nkeep += 1;
            }
            Choice::Remove => {
                p.remove += weight;
                p.nremove += 1;
            }
        }
        Ok(())
    }

    /// A winning voter's share, ⌊pool × weight / winning weight⌋, or zero.
    pub fn claimable(&self, poll_id: u64, actor: usize) -> u128 {
        let (p, v) = (
            &self.polls[poll_id as usize - 1],
            &self.votes[&(poll_id, actor)],
        );
        match (p.outcome, v.revealed) {
            (Some(o), Some(c)) if o == c && !v.claimed && p.pool > 0 => {
                let winning = if o == Choice::Keep { p.keep } else { p.remove };
                p.pool * v.weight / winning
            }
            _ => 0,
        }
    }

    pub fn claim(&mut self, actor: usize, poll_id: u64, voters: &[Addr]) -> Expect {
        let p = self
            .polls
            .get(poll_id as usize - 1)
            .cloned()
            .ok_or(ContractError::PollNotFound { poll_id })?;
        let v = self.votes.get(&(poll_id, actor)).cloned().ok_or_else(|| {
            ContractError::VoteNotFound {
                poll_id,
                voter: voters[actor].to_string(),
            }
        })?;
        let outcome = p
            .outcome
            .ok_or(ContractError::PollNotResolved { poll_id })?;
        if v.claimed {
            return Err(ContractError::AlreadyClaimed { poll_id });
        }
        let revealed = v.revealed.ok_or(ContractError::NotRevealed { poll_id })?;
        if revealed != outcome {
            return Err(ContractError::LosingSide { poll_id });
        }
        if p.pool == 0 {
            return Err(ContractError::NoVoterReward { poll_id });
        }
        let reward = self.claimable(poll_id, actor);
        let winners = if outcome == Choice::Keep {
            p.nkeep
        } else {
            p.nremove
        };
        self.votes.get_mut(&(poll_id, actor)).unwrap().claimed = true;
        let p = &mut self.polls[poll_id as usize - 1];
        p.claimed += reward;
        p.claims += 1;
        // The last winner's claim moves the rounding remainder to the dust.
        if p.claims == winners {
            self.dust += p.pool - p.claimed;
            p.claimed = p.pool;
        }
        self.wallets[actor] += reward;
        Ok(())
    }

    pub fn update_params(&mut self, owner: bool, u: &ParamsUpdate) -> Expect {
        if !owner {
            return Err(ContractError::Ownership(
                cw_ownable::OwnershipError::NotOwner,
            ));
        }
        let old = self.p.clone();
        let mut p = old.clone();
        p.min_deposit = u.min_deposit.map_or(p.min_deposit, |v| v.u128());
        p.apply = u.apply_stage_secs.unwrap_or(p.apply);
        p.commit = u.commit_stage_secs.unwrap_or(p.commit);
        p.reveal = u.reveal_stage_secs.unwrap_or(p.reveal);
        p.dispensation = u.dispensation_pct.unwrap_or(p.dispensation);
        p.quorum = u.vote_quorum_pct.unwrap_or(p.quorum);
        p.exit_delay = u.exit_delay_secs.unwrap_or(p.exit_delay);
        p.grace = u.deposit_grace_secs.unwrap_or(p.grace);
        p.min_survival = u.min_survival_weight.map_or(p.min_survival, |v| v.u128());
        p.penalty = u.unrevealed_penalty_pct.unwrap_or(p.penalty);
        if p == old {
            return Err(ContractError::EmptyUpdate);
        }
        Model::check_params(&p)?;
        if p.min_deposit != old.min_deposit {
            // An increase over what is in force waits for the longer of the
            // old and new grace periods; anything else applies at once.
            let in_force = self.floor_at(self.now);
            self.floor = if p.min_deposit > in_force {
                (in_force, p.min_deposit, self.now + p.grace.max(old.grace))
            } else {
                (p.min_deposit, p.min_deposit, self.now)
            };
        }
        self.p = p;
        Ok(())
    }

    /// `sweep_dust` by the owner (or, when `owner` is false, by an actor).
    pub fn sweep(&mut self, owner: bool) -> Expect {
        if !owner {
            return Err(ContractError::Ownership(
                cw_ownable::OwnershipError::NotOwner,
            ));
        }
        if self.dust + self.forfeited == 0 {
            return Err(ContractError::NoDust);
        }
        self.wallets[ACTORS.len()] += self.dust + self.forfeited;
        self.dust = 0;
        self.forfeited = 0;
        Ok(())
    }
}
