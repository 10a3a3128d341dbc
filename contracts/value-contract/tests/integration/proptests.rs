//! Random message sequences against the reference model (`model`): two
//! tasks of random kinds (native or cw20), sponsors, participants with
//! offer deposits, solver proposals, confirmations with bonds, single
//! attestations and signed reports from a rotating oracle set, voids,
//! claims, refunds and withdrawals, interleaved with the clock. For every
//! message the model decides, on its own, whether it must be accepted; the
//! contract must agree — `Ok` when the model accepts, the same error when
//! it refuses — and pay exactly what the model pays. After every step the
//! contract's native and cw20 balances equal the model's liabilities and
//! each task's stored status and `held` match; at the end everything is
//! claimed, the contract holds nothing and every account's balance is what
//! the model says.

use std::collections::BTreeMap;

use cosmwasm_std::{coin, Addr, Coin, Uint128};
use cw_multi_test::Executor;
use proptest::prelude::*;
use value_contract::msg::{ExecuteMsg, OracleSetMsg, OracleSignature, ReceiveMsg, Report};
use value_contract::state::TaskKind;
use wevalue_common::asset::AssetInfoUnchecked;

use crate::model::{self, Model, Oracles, Res, Terms};
use crate::suite::{params, template, Suite, SuiteBuilder, CID, DENOM, PHASE};

const SPONSORS: [&str; 3] = ["s0", "s1", "s2"];
const PARTICIPANTS: [&str; 5] = ["p0", "p1", "p2", "p3", "p4"];
const POOL: usize = 5;
const START: u128 = 1_000_000_000;

#[derive(Clone, Copy, Debug)]
enum Paid {
    Exact,
    Nothing,
    OneMore,
}

#[derive(Clone, Debug)]
enum Act {
    Wait(u64),
    /// Waits until `start + seconds` (the next phase), if not already past it.
    WaitUntil(u64),
    Contribute {
        t: usize,
        s: usize,
        amount: u128,
        wrong_path: bool,
    },
    Offer {
        t: usize,
        p: usize,
        terms: (u128, u32, u32),
        valid: bool,
        paid: Paid,
        wrong_path: bool,
    },
    Revise {
        t: usize,
        p: usize,
        terms: (u128, u32, u32),
        valid: bool,
    },
    Withdraw {
        t: usize,
        p: usize,
    },
    Propose {
        t: usize,
        mask: u8,
        at_min: bool,
    },
    /// `aim`: `p` picks among the participants holding an unconfirmed slot.
    Confirm {
        t: usize,
        p: usize,
        aim: bool,
        paid: Paid,
        wrong_path: bool,
    },
    /// `aim`: `o` picks among the current members, `mask` among the
    /// confirmed participants.
    Attest {
        o: usize,
        t: usize,
        mask: u8,
        aim: bool,
        honest: bool,
        noise: [u8; 5],
    },
    /// `aim`: `signers` and `mask` pick among current members and confirmed participants.
    Report {
        t: usize,
        signers: u8,
        mask: u8,
        aim: bool,
        stale: bool,
        round: u64,
        honest: bool,
        noise: u8,
    },
    Rotate {
        mask: u8,
        threshold: u32,
        by_owner: bool,
    },
    Void {
        t: usize,
        by_owner: bool,
    },
    Advance {
        t: usize,
    },
    Claim {
        t: usize,
        p: usize,
    },
    Refund {
        t: usize,
        s: usize,
    },
}

#[derive(Clone, Debug)]
struct TaskSpec {
    kind: u8,
    cw20: bool,
    goal: u128,
    target: u128,
    max_p: u32,
    bond: u128,
    deposit: u128,
    min_quorum: u32,
    tolerance: u32,
    truth: [u128; 5],
}

fn task_spec() -> impl Strategy<Value = TaskSpec> {
    let goal = prop_oneof![9 => 1u128..120, 1 => 120u128..600];
    (
        (0u8..4, any::<bool>(), goal, 1u128..100, 1u32..=4),
        (
            prop_oneof![Just(0u128), 1u128..20],
            1u128..10,
            1u32..=3,
            0u32..=1_000,
        ),
        prop::array::uniform5(0u128..200),
    )
        .prop_map(
            |((kind, cw20, goal, target, max_p), (bond, deposit, min_quorum, tolerance), truth)| {
                TaskSpec {
                    kind,
                    cw20,
                    goal,
                    target,
                    max_p,
                    bond,
                    deposit,
                    min_quorum,
                    tolerance,
                    truth,
                }
            },
        )
}

fn paid() -> impl Strategy<Value = Paid> {
    prop_oneof![8 => Just(Paid::Exact), 1 => Just(Paid::Nothing), 1 => Just(Paid::OneMore)]
}

fn terms() -> impl Strategy<Value = (u128, u32, u32)> {
    (0u128..60, 1u32..6, 1u32..6)
}

/// The phases of the tasks' common timeline: (end, weights of contribute,
/// offer, revise, withdraw, propose, confirm, attest, report, rotate, void,
/// advance, claim, refund, wait). Every message can come in every phase;
/// the weights make the phase's own messages common.
const PHASES: [(u64, [u32; 14]); 8] = [
    (PHASE, [14, 16, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3]),
    (2 * PHASE, [1, 10, 3, 2, 6, 1, 1, 1, 1, 1, 1, 1, 1, 3]),
    (3 * PHASE, [1, 1, 1, 2, 1, 20, 1, 1, 1, 1, 2, 1, 2, 3]),
    (4 * PHASE, [1, 1, 1, 2, 1, 20, 1, 1, 1, 1, 2, 1, 3, 3]),
    (5 * PHASE, [1, 1, 1, 2, 1, 20, 1, 1, 1, 1, 2, 1, 3, 3]),
    (6 * PHASE, [1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 2, 1, 1, 2]),
    (7 * PHASE, [1, 1, 1, 1, 1, 1, 20, 6, 3, 1, 1, 1, 1, 3]),
    (8 * PHASE, [1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 5, 5, 3]),
];

fn act(w: [u32; 14]) -> impl Strategy<Value = Act> {
    let t = 0usize..2;
    let wrong = prop::bool::weighted(0.1);
    prop_oneof![
        w[0] => (t.clone(), 0usize..3, 1u128..200, wrong.clone())
            .prop_map(|(t, s, amount, wrong_path)| Act::Contribute { t, s, amount, wrong_path }),
        w[1] => (t.clone(), 0usize..5, terms(), prop::bool::weighted(0.85), paid(), wrong.clone())
            .prop_map(|(t, p, terms, valid, paid, wrong_path)| Act::Offer { t, p, terms, valid, paid, wrong_path }),
        w[2] => (t.clone(), 0usize..5, terms(), prop::bool::weighted(0.8))
            .prop_map(|(t, p, terms, valid)| Act::Revise { t, p, terms, valid }),
        w[3] => (t.clone(), 0usize..5).prop_map(|(t, p)| Act::Withdraw { t, p }),
        w[4] => (t.clone(), 1u8..32, any::<bool>()).prop_map(|(t, mask, at_min)| Act::Propose { t, mask, at_min }),
        w[5] => (t.clone(), 0usize..5, aim(), paid(), wrong.clone())
            .prop_map(|(t, p, aim, paid, wrong_path)| Act::Confirm { t, p, aim, paid, wrong_path }),
        w[6] => (0usize..POOL, t.clone(), 1u8..32, aim(), prop::bool::weighted(0.75), prop::array::uniform5(any::<u8>()))
            .prop_map(|(o, t, mask, aim, honest, noise)| Act::Attest { o, t, mask, aim, honest, noise }),
        w[7] => (t.clone(), 1u8..32, 1u8..32, aim(), prop::bool::weighted(0.1), 1u64..6, prop::bool::weighted(0.75), any::<u8>())
            .prop_map(|(t, signers, mask, aim, stale, round, honest, noise)| Act::Report { t, signers, mask, aim, stale, round, honest, noise }),
        w[8] => (1u8..32, 1u32..=5, prop::bool::weighted(0.9))
            .prop_map(|(mask, threshold, by_owner)| Act::Rotate { mask, threshold, by_owner }),
        w[9] => (t.clone(), prop::bool::weighted(0.5)).prop_map(|(t, by_owner)| Act::Void { t, by_owner }),
        w[10] => t.clone().prop_map(|t| Act::Advance { t }),
        w[11] => (t.clone(), 0usize..5).prop_map(|(t, p)| Act::Claim { t, p }),
        w[12] => (t.clone(), 0usize..3).prop_map(|(t, s)| Act::Refund { t, s }),
        w[13] => (1u64..20).prop_map(Act::Wait),
    ]
}

fn aim() -> impl Strategy<Value = bool> {
    prop::bool::weighted(0.85)
}

/// A timeline: each phase's messages, then the clock moved to its end.
fn timeline() -> impl Strategy<Value = Vec<Act>> {
    PHASES
        .iter()
        .map(|(end, w)| {
            let end = *end;
            prop::collection::vec(act(*w), 6..24).prop_map(move |mut v| {
                v.push(Act::WaitUntil(end));
                v
            })
        })
        .collect::<Vec<_>>()
        .prop_map(|phases| phases.into_iter().flatten().collect())
}

fn kind(k: u8) -> TaskKind {
    [
        TaskKind::Bounty,
        TaskKind::Competition,
        TaskKind::PerUnit,
        TaskKind::Crowdfunding,
    ][k as usize]
}

/// A measured value `noise` per mille around `truth` (±12.8%).
fn measured(truth: u128, noise: u8) -> u128 {
    truth * (1_000 + u128::from(noise)) / 1_128
}

struct World {
    s: Suite,
    m: Model,
    /// Block time when the tasks were created.
    start: u64,
    ids: [u64; 2],
    specs: Vec<TaskSpec>,
    /// Expected balance change per (account, cw20?).
    delta: BTreeMap<(Addr, bool), i128>,
}

impl World {
    fn addr(&self, name: &str) -> Addr {
        self.s.addr(name)
    }

    fn balance(&self, who: &Addr, cw20: bool) -> u128 {
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
    fn check(&self) {
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

fn step(w: &mut World, a: &Act) {
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

fn run(specs: Vec<TaskSpec>, ed25519: bool, acts: Vec<Act>) {
    let mut names: Vec<&str> = SPONSORS.to_vec();
    names.extend(PARTICIPANTS);
    let mut b = SuiteBuilder::new()
        .with_oracles(POOL, 2)
        .with_funded(&names);
    if ed25519 {
        b = b.with_ed25519();
    }
    let mut s = b.build();
    let start = s.app.block_info().time.seconds();
    let mut tasks = vec![];
    let mut ids = [0u64; 2];
    for (i, spec) in specs.iter().enumerate() {
        let k = kind(spec.kind);
        let mut tpl = template(k);
        tpl.min_quorum = spec.min_quorum;
        tpl.tolerance_bps = spec.tolerance;
        tpl.offer_deposit = Uint128::new(spec.deposit);
        tpl.max_participants = 4;
        let tpl = s.create_template(tpl);
        let target = match k {
            TaskKind::Bounty | TaskKind::Crowdfunding => spec.target,
            _ => 0,
        };
        let mut p = params(spec.goal, target, spec.max_p);
        p.bond = Uint128::new(spec.bond);
        if spec.cw20 {
            p.asset = AssetInfoUnchecked::Cw20(s.token.to_string());
        }
        ids[i] = s.create_task(tpl, p);
        tasks.push(model::Task::new(
            ids[i],
            Terms {
                kind: k,
                cw20: spec.cw20,
                goal: spec.goal,
                target,
                max_p: spec.max_p,
                bond: spec.bond,
                deposit: spec.deposit,
                min_quorum: spec.min_quorum,
                tolerance: spec.tolerance,
                funding_deadline: start + PHASE,
                matching_deadline: start + 2 * PHASE,
                round_secs: PHASE,
                execution_deadline: start + 6 * PHASE,
                verification_deadline: start + 7 * PHASE,
                dispute_secs: PHASE,
            },
        ));
    }
    let m = Model {
        now: start,
        owner: s.owner.clone(),
        denom: DENOM.to_string(),
        token: s.token.clone(),
        oracles: Oracles {
            version: 1,
            threshold: 2,
            members: s
                .oracles
                .iter()
                .enumerate()
                .map(|(i, o)| (o.addr.clone(), i))
                .collect(),
        },
        tasks,
    };
    let mut w = World {
        s,
        m,
        start,
        ids,
        specs,
        delta: BTreeMap::new(),
    };
    w.check();
    for a in &acts {
        step(&mut w, a);
        w.check();
    }
    // Drain: past every deadline, everyone takes what is theirs.
    step(&mut w, &Act::Wait(20 * PHASE));
    for t in 0..2 {
        step(&mut w, &Act::Advance { t });
        assert!(
            model::is_final(w.m.tasks[t].status),
            "task {t} ends {:?}",
            w.m.tasks[t].status
        );
        for p in 0..5 {
            step(&mut w, &Act::Claim { t, p });
            step(&mut w, &Act::Withdraw { t, p });
        }
        for s in 0..3 {
            step(&mut w, &Act::Refund { t, s });
        }
        w.check();
        assert_eq!(w.m.tasks[t].held, 0, "task {t} keeps funds");
    }
    for name in SPONSORS.iter().chain(PARTICIPANTS.iter()) {
        let who = w.addr(name);
        for cw20 in [false, true] {
            let want = START as i128 + w.delta.get(&(who.clone(), cw20)).copied().unwrap_or(0);
            assert_eq!(w.balance(&who, cw20) as i128, want, "{name} (cw20: {cw20})");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_contract_does_what_the_model_decides(
        a in task_spec(),
        b in task_spec(),
        ed25519 in any::<bool>(),
        acts in timeline(),
    ) {
        run(vec![a, b], ed25519, acts);
    }
}
