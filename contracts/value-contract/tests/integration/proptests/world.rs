//! The test's world: the contract (a multi-test `Suite`) and the model side
//! by side, one step at a time, with the checks after every step.

use std::collections::BTreeMap;

use cosmwasm_std::{coin, Addr, Coin, Uint128};
use cw_multi_test::Executor;
use value_contract::msg::{ExecuteMsg, OracleSetMsg, OracleSignature, ReceiveMsg, Report};
use value_contract::state::TaskKind;

use super::{kind, Act, Paid, TaskSpec, PARTICIPANTS, POOL, SPONSORS};
use crate::model::{Model, Res};
use crate::suite::{Suite, CID, DENOM};

/// A measured value `noise` per mille around `truth` (±12.8%).
fn measured(truth: u128, noise: u8) -> u128 {
    truth * (1_000 + u128::from(noise)) / 1_128
}

pub(super) struct World {
    pub(super) s: Suite,
    pub(super) m: Model,
    /// Block time when the tasks were created.
    pub(super) start: u64,
    pub(super) ids: [u64; 2],
    pub(super) specs: Vec<TaskSpec>,
    /// Expected balance change per (account, cw20?).
    pub(super) delta: BTreeMap<(Addr, bool), i128>,
}

impl World {
    pub(super) fn addr(&self, name: &str) -> Addr {
        self.s.addr(name)
    }

    pub(super) fn balance(&self, who: &Addr, cw20: bool) -> u128 {
        if cw20 {
            self.s.cw20_balance(who)
        } else {
            self.s
                .app
                .wrap()
                .query_balance(who, DENOM)
                .unwrap()
                .amount
                .u128()
        }
    }

    fn pay(&mut self, who: &Addr, cw20: bool, amount: i128) {
        *self.delta.entry((who.clone(), cw20)).or_default() += amount;
    }

    /// Sends a message carrying `amount` of task `i`'s asset, natively or
    /// through the cw20 hook; returns the contract's verdict.
    fn send(
        &mut self,
        who: &Addr,
        amount: u128,
        via_cw20: bool,
        msg: ExecuteMsg,
        hook: ReceiveMsg,
    ) -> Res {
        let res = if via_cw20 {
            let name = who.clone();
            self.s
                .app
                .execute_contract(
                    name,
                    self.s.token.clone(),
                    &cw20::Cw20ExecuteMsg::Send {
                        contract: self.s.contract.to_string(),
                        amount: Uint128::new(amount),
                        msg: cosmwasm_std::to_json_binary(&hook).unwrap(),
                    },
                    &[],
                )
                .map_err(crate::suite::err)
        } else {
            let funds: Vec<Coin> = if amount == 0 {
                vec![]
            } else {
                vec![coin(amount, DENOM)]
            };
            self.s.execute(who, &msg, &funds)
        };
        res.map(|_| ())
    }

    fn exec(&mut self, who: &Addr, msg: ExecuteMsg) -> Res {
        self.s.execute(who, &msg, &[]).map(|_| ())
    }

    /// Everything the model says the contract holds, per asset, must be
    /// exactly what the contract holds; each task's record must match.
    pub(super) fn check(&self) {
        for cw20 in [false, true] {
            let want: u128 = self
                .m
                .tasks
                .iter()
                .filter(|t| t.t.cw20 == cw20)
                .map(|t| t.held)
                .sum();
            assert_eq!(
                self.balance(&self.s.contract, cw20),
                want,
                "contract balance (cw20: {cw20})"
            );
        }
        for (i, id) in self.ids.iter().enumerate() {
            let t = self.s.task(*id);
            let mt = &self.m.tasks[i];
            assert_eq!(t.stored_status, mt.status, "task {id} status");
            assert_eq!(t.held.u128(), mt.held, "task {id} held");
            assert_eq!(t.slashed.u128(), mt.slashed, "task {id} slashed");
            assert_eq!(
                t.value_total.u128(),
                mt.value_total,
                "task {id} value total"
            );
            let slots: Vec<_> = self
                .s
                .matching(*id)
                .slots
                .into_iter()
                .map(|x| {
                    (
                        x.participant,
                        x.offer_id,
                        x.units,
                        x.confirmed,
                        x.value.map(|v| v.u128()),
                    )
                })
                .collect();
            let want: Vec<_> = mt
                .slots
                .iter()
                .map(|(a, x)| (a.clone(), x.offer_id, x.units, x.confirmed, x.value))
                .collect();
            assert_eq!(slots, want, "task {id} slots");
        }
    }
}

/// The contract's verdict must be the model's: both accept, or both refuse
/// with the same error.
fn agree<T: std::fmt::Debug>(got: &Res, want: &Res<T>, a: &Act) {
    match (got, want) {
        (Ok(()), Ok(_)) => {}
        (Err(g), Err(w)) => assert_eq!(g, w, "{a:?}"),
        _ => panic!("{a:?}: contract {got:?}, model {want:?}"),
    }
}

fn amount_for(paid: Paid, exact: u128) -> u128 {
    match paid {
        Paid::Exact => exact,
        Paid::Nothing => 0,
        Paid::OneMore => exact + 1,
    }
}

pub(super) fn step(w: &mut World, a: &Act) {
    match a.clone() {
        Act::Wait(d) => {
            w.s.wait(d);
            w.m.now += d;
        }
        Act::WaitUntil(offset) => {
            let d = (w.start + offset).saturating_sub(w.m.now);
            if d > 0 {
                w.s.wait(d);
                w.m.now += d;
            }
        }
        Act::Contribute {
            t,
            s,
            amount,
            wrong_path,
        } => {
            let who = w.addr(SPONSORS[s]);
            let cw20 = w.m.tasks[t].t.cw20;
            let via = cw20 != wrong_path;
            let task_id = w.ids[t];
            let want = w.m.contribute(t, &who, amount, via);
            let got = w.send(
                &who,
                amount,
                via,
                ExecuteMsg::Contribute { task_id },
                ReceiveMsg::Contribute { task_id },
            );
            agree(&got, &want, a);
            if got.is_ok() {
                w.pay(&who, cw20, -(amount as i128));
            }
        }
        Act::Offer {
            t,
            p,
            terms,
            valid,
            paid,
            wrong_path,
        } => {
            let who = w.addr(PARTICIPANTS[p]);
            let spec = w.specs[t].clone();
            let (price, cap, min) = if valid {
                valid_terms(kind(spec.kind), terms)
            } else {
                terms
            };
            let amount = amount_for(paid, spec.deposit);
            let via = spec.cw20 != wrong_path && amount > 0;
            let task_id = w.ids[t];
            let want =
                w.m.submit_offer(t, &who, (price, cap, min), amount, via)
                    .map(|_| ());
            let (price, capacity, min_units) = (Uint128::new(price), cap, min);
            let got = w.send(
                &who,
                amount,
                via,
                ExecuteMsg::SubmitOffer {
                    task_id,
                    price,
                    capacity,
                    min_units,
                    reputation_ref: None,
                },
                ReceiveMsg::SubmitOffer {
                    task_id,
                    price,
                    capacity,
                    min_units,
                    reputation_ref: None,
                },
            );
            agree(&got, &want, a);
            if got.is_ok() {
                w.pay(&who, spec.cw20, -(amount as i128));
            }
        }
        Act::Revise { t, p, terms, valid } => {
            let who = w.addr(PARTICIPANTS[p]);
            let (price, cap, min) = if valid {
                valid_terms(kind(w.specs[t].kind), terms)
            } else {
                terms
            };
            let want = w.m.revise_offer(t, &who, (price, cap, min));
            let task_id = w.ids[t];
            let got = w.exec(
                &who,
                ExecuteMsg::ReviseOffer {
                    task_id,
                    price: Uint128::new(price),
                    capacity: cap,
                    min_units: min,
                },
            );
            agree(&got, &want, a);
        }
        Act::Withdraw { t, p } => {
            let who = w.addr(PARTICIPANTS[p]);
            let want = w.m.withdraw_offer(t, &who);
            let got = w.exec(&who, ExecuteMsg::WithdrawOffer { task_id: w.ids[t] });
            agree(&got, &want, a);
            if let Ok(back) = want {
                w.pay(&who, w.specs[t].cw20, back as i128);
            }
        }
        Act::Propose { t, mask, at_min } => {
            let asg: Vec<(u64, u32, u32)> = w.m.tasks[t]
                .offers
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << (i % 5)) != 0)
                .map(|(_, (id, o))| (*id, o.rev, if at_min { o.min } else { o.cap }))
                .collect();
            let want = w.m.propose(t, asg.clone());
            let solver = w.addr("solver");
            let assignments = asg
                .iter()
                .map(
                    |(offer_id, revision, units)| value_contract::msg::Assignment {
                        offer_id: *offer_id,
                        revision: *revision,
                        units: *units,
                    },
                )
                .collect();
            let got = w.exec(
                &solver,
                ExecuteMsg::ProposeMatching {
                    task_id: w.ids[t],
                    assignments,
                },
            );
            agree(&got, &want, a);
        }
        Act::Confirm {
            t,
            p,
            aim,
            paid,
            wrong_path,
        } => {
            let pending: Vec<Addr> = w.m.tasks[t]
                .slots
                .iter()
                .filter(|(_, s)| !s.confirmed)
                .map(|(a, _)| a.clone())
                .collect();
            let who = if aim && !pending.is_empty() {
                pending[p % pending.len()].clone()
            } else {
                w.addr(PARTICIPANTS[p])
            };
            let spec = w.specs[t].clone();
            let amount = amount_for(paid, spec.bond);
            let via = spec.cw20 != wrong_path && amount > 0;
            let task_id = w.ids[t];
            let want = w.m.confirm(t, &who, amount, via);
            let got = w.send(
                &who,
                amount,
                via,
                ExecuteMsg::Confirm { task_id },
                ReceiveMsg::Confirm { task_id },
            );
            agree(&got, &want, a);
            if let Ok(deposit) = want {
                w.pay(&who, spec.cw20, deposit as i128 - amount as i128);
            }
        }
        Act::Attest {
            o,
            t,
            mask,
            aim,
            honest,
            noise,
        } => {
            let members = &w.m.oracles.members;
            let oracle = if aim {
                members[o % members.len()].0.clone()
            } else {
                w.s.oracles[o].addr.clone()
            };
            let mask = if aim { w.aim_mask(t, mask) } else { mask };
            let values = w.values(t, mask, |i, truth| {
                if honest {
                    truth
                } else {
                    measured(truth, noise[i])
                }
            });
            let want = w.m.attest(t, &oracle, &values);
            let got = w.exec(
                &oracle,
                ExecuteMsg::Attest {
                    task_id: w.ids[t],
                    values: w.msg_values(&values),
                    evidence_cid: CID.to_string(),
                },
            );
            agree(&got, &want, a);
        }
        Act::Report {
            t,
            signers,
            mask,
            aim,
            stale,
            round,
            honest,
            noise,
        } => {
            let mask = if aim { w.aim_mask(t, mask) } else { mask };
            let values = w.values(t, mask, |_, truth| {
                if honest {
                    truth
                } else {
                    measured(truth, noise)
                }
            });
            let version = w.m.oracles.version - u32::from(stale);
            let n = if aim { w.m.oracles.members.len() } else { POOL };
            let mut signers: Vec<usize> = (0..n).filter(|i| signers & (1 << i) != 0).collect();
            if signers.is_empty() {
                signers.push(0);
            }
            let want = w.m.report(t, version, round, &signers, &values);
            let report = Report {
                chain_id: w.s.app.block_info().chain_id,
                contract: w.s.contract.to_string(),
                task_id: w.ids[t],
                config_version: version,
                round,
                evidence_cid: CID.to_string(),
                values: w.msg_values(&values),
            };
            let digest = w.s.digest(&report);
            let signatures = signers
                .iter()
                .map(|pos| {
                    // A position past the set's end is signed by any key (refused first).
                    let key = w.m.oracles.members.get(*pos).map_or(0, |(_, k)| *k);
                    OracleSignature {
                        oracle_index: *pos as u32,
                        signature: w.s.oracles[key].sign(&digest),
                    }
                })
                .collect();
            let got =
                w.s.submit_report_err(w.ids[t], report, signatures)
                    .map(|_| ());
            agree(&got, &want, a);
        }
        Act::Rotate {
            mask,
            threshold,
            by_owner,
        } => {
            let members: Vec<(Addr, usize)> = (0..POOL)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| (w.s.oracles[i].addr.clone(), i))
                .collect();
            let sender = if by_owner {
                w.m.owner.clone()
            } else {
                w.addr("stranger")
            };
            let want = w.m.set_oracles(&sender, members.clone(), threshold);
            let set = OracleSetMsg {
                members: members
                    .iter()
                    .map(|(_, i)| w.s.oracles[*i].member())
                    .collect(),
                threshold,
            };
            let got = w.exec(&sender, ExecuteMsg::SetOracles(set));
            agree(&got, &want, a);
            if got.is_ok() {
                w.s.config_version = w.m.oracles.version;
            }
        }
        Act::Void { t, by_owner } => {
            let sender = if by_owner {
                w.m.owner.clone()
            } else {
                w.addr("stranger")
            };
            let want = w.m.void(t, &sender);
            let got = w.s.void_err(&sender, w.ids[t]).map(|_| ());
            agree(&got, &want, a);
        }
        Act::Advance { t } => {
            let want = w.m.advance_msg(t);
            let keeper = w.addr("keeper");
            let got = w.exec(&keeper, ExecuteMsg::Advance { task_id: w.ids[t] });
            agree(&got, &want, a);
        }
        Act::Claim { t, p } => {
            let who = w.addr(PARTICIPANTS[p]);
            let want = w.m.claim(t, &who);
            let got = w.exec(&who, ExecuteMsg::Claim { task_id: w.ids[t] });
            agree(&got, &want, a);
            if let Ok(due) = want {
                w.pay(&who, w.specs[t].cw20, due as i128);
            }
        }
        Act::Refund { t, s } => {
            let who = w.addr(SPONSORS[s]);
            let want = w.m.refund(t, &who);
            let got = w.exec(&who, ExecuteMsg::Refund { task_id: w.ids[t] });
            agree(&got, &want, a);
            if let Ok(due) = want {
                w.pay(&who, w.specs[t].cw20, due as i128);
            }
        }
    }
}

impl World {
    /// A participant mask over the task's confirmed participants (`mask`
    /// picks among them), or `mask` itself when nobody is confirmed.
    fn aim_mask(&self, t: usize, mask: u8) -> u8 {
        let confirmed: Vec<usize> = (0..5)
            .filter(|i| {
                self.m.tasks[t]
                    .slots
                    .get(&self.addr(PARTICIPANTS[*i]))
                    .is_some_and(|s| s.confirmed)
            })
            .collect();
        if confirmed.is_empty() {
            return mask;
        }
        let picked: u8 = confirmed
            .iter()
            .enumerate()
            .filter(|(j, _)| mask & (1 << j) != 0)
            .map(|(_, i)| 1u8 << i)
            .sum();
        if picked == 0 {
            1 << confirmed[0]
        } else {
            picked
        }
    }

    /// Values for the participants in `mask`, sorted by address as reports require.
    fn values(&self, t: usize, mask: u8, f: impl Fn(usize, u128) -> u128) -> Vec<(Addr, u128)> {
        let mut v: Vec<(Addr, u128)> = (0..5)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| (self.addr(PARTICIPANTS[i]), f(i, self.specs[t].truth[i])))
            .collect();
        v.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        v
    }

    fn msg_values(&self, v: &[(Addr, u128)]) -> Vec<value_contract::msg::ParticipantValue> {
        v.iter()
            .map(|(a, x)| value_contract::msg::ParticipantValue {
                participant: a.to_string(),
                value: Uint128::new(*x),
            })
            .collect()
    }
}

/// Offer terms valid for the kind.
fn valid_terms(kind: TaskKind, (price, cap, min): (u128, u32, u32)) -> (u128, u32, u32) {
    match kind {
        TaskKind::Competition => (0, 1, 1),
        TaskKind::PerUnit => (price % 20 + 1, cap, min.min(cap)),
        _ => (price.max(1), 1, 1),
    }
}
