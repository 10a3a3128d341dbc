//! Two value-contract tasks side by side, through the same phases: a
//! neighbourhood energy-saving competition (two sponsors, three households,
//! the contract's own matching) and bike rebalancing paid per bike (the
//! city, four riders, the solver's better matching; see [`super::bikes`]).
//! Then confirmations with bonds, execution, a 2-of-3 oracle report per
//! task from three relayer instances, settlement and claims.

use std::time::Instant;

use serde_json::{json, Value};

use super::bikes;
use super::chaos::Chaos;
use super::net::{check, Net, Tx};
use super::relayers::Relayers;
use super::report::Figures;
use super::scenario::{coins, HOUSEHOLDS, SPONSORS};
use super::DevnetError;

const ENERGY_GOAL: u128 = 9_000_000;
const ENERGY_BOND: u128 = 50_000;
/// Refundable deposit per offer (back on confirmation or withdrawal).
const OFFER_DEPOSIT: u128 = 10_000;
/// Who funds the bike task: the city (the suite's deployer).
const CITY: &str = "deployer";

/// The two tasks.
#[derive(Clone, Copy)]
struct Tasks {
    energy: u64,
    bikes: u64,
}

impl Tasks {
    fn both(&self) -> [u64; 2] {
        [self.energy, self.bikes]
    }
}

async fn task(net: &Net, id: u64) -> Result<Value, DevnetError> {
    net.query("value-contract", &json!({ "task": { "id": id } }))
        .await
}

/// A task's computed status, as a string (`matching`, `verifying`, ...).
async fn status(net: &Net, id: u64) -> Result<String, DevnetError> {
    Ok(task(net, id).await?["status"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// A deadline of a task's terms (`execution_deadline`), ns since the epoch.
async fn deadline(net: &Net, id: u64, which: &str) -> Result<u64, DevnetError> {
    task(net, id).await?["terms"][which]
        .as_str()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| DevnetError::Check(format!("task {id} has no {which}")))
}

/// Moves block time past the later of the tasks' `which` deadlines.
async fn advance_past(net: &Net, tasks: Tasks, which: &str) -> Result<(), DevnetError> {
    let mut at = 0;
    for id in tasks.both() {
        at = at.max(deadline(net, id, which).await?);
    }
    net.advance_to(at).await?;
    Ok(())
}

/// Waits (real time, services running) until every task reaches `want`.
async fn wait_status(
    net: &Net,
    relayers: &mut Relayers,
    chaos: &mut Chaos,
    ids: &[u64],
    want: &str,
) -> Result<(), DevnetError> {
    let until = Instant::now() + net.timing.patience;
    for &id in ids {
        loop {
            let now = status(net, id).await?;
            if now == want {
                break;
            }
            check(Instant::now() < until, || {
                format!(
                    "task {id} did not reach `{want}` in {:?} (now `{now}`)",
                    net.timing.patience
                )
            })?;
            chaos.point(relayers).await?;
            tokio::time::sleep(net.timing.poll).await;
        }
    }
    Ok(())
}

fn template(name: &str, kind: &str, metric: &str, unit: &str, net: &Net) -> Value {
    let t = &net.timing;
    json!({ "create_template": {
        "name": name, "kind": kind, "metric": metric, "unit": unit, "asset": null,
        "durations": {
            "funding": t.funding, "matching": t.matching, "acceptance": t.acceptance,
            "execution": t.execution, "verification": t.verification, "dispute": t.dispute
        },
        "min_quorum": 2,
        "tolerance_bps": 500,
        "max_participants": 16,
        "offer_deposit": OFFER_DEPOSIT.to_string()
    } })
}

fn attr(out: &relayer_core::chain::TxOutcome, key: &str) -> Result<u64, DevnetError> {
    relayer_core::chain::find_attr(&out.events, "wasm", key)
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| DevnetError::Check(format!("the tx emitted no {key}")))
}

fn tx(actor: &str, msg: Value, funds: u128) -> Tx {
    Tx {
        actor: actor.to_string(),
        contract: "value-contract".into(),
        msg,
        funds: if funds == 0 { vec![] } else { coins(funds) },
    }
}

/// Runs both tasks; records the matching and oracle figures.
pub(super) async fn run(
    net: &mut Net,
    relayers: &mut Relayers,
    chaos: &mut Chaos,
    figures: &mut Figures,
    state_dir: &std::path::Path,
) -> Result<(), DevnetError> {
    net.step("The city registers the 2-of-3 oracle set and two templates: energy saving, bike rebalancing paid per bike").await?;
    let mut members = vec![];
    for i in &relayers.instances {
        members.push(i.oracle_member()?);
    }
    net.exec(
        CITY,
        "value-contract",
        &json!({ "set_oracles": { "members": members, "threshold": 2 } }),
        vec![],
    )
    .await?;
    let energy_tpl = template(
        "Neighbourhood energy saving",
        "competition",
        "kwh_saved",
        "kWh",
        net,
    );
    let bikes_tpl = template("Bike rebalancing", "per_unit", "bikes_moved", "bike", net);
    let energy_tpl = attr(
        &net.exec(CITY, "value-contract", &energy_tpl, vec![])
            .await?,
        "template_id",
    )?;
    let bikes_tpl = attr(
        &net.exec(CITY, "value-contract", &bikes_tpl, vec![]).await?,
        "template_id",
    )?;
    net.note(format!(
        "oracles: {} (threshold 2); template #{energy_tpl}: competition on kwh_saved; template #{bikes_tpl}: per-unit on bikes_moved",
        relayers.instances.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
    ));

    net.step("Two tasks are created and funded: the energy competition by two sponsors, the bike rebalancing by the city").await?;
    let params = |title: &str, goal: u128, max: u32, bond: u128| {
        json!({
            "title": title,
            "description_cid": super::scenario::CID,
            "asset": { "native": super::net::DENOM },
            "funding_goal": goal.to_string(),
            "target": "0",
            "max_participants": max,
            "bond": bond.to_string(),
            "durations": {}
        })
    };
    // One after the other, so the ids are the same on every chain.
    let energy = net
        .exec(
            SPONSORS[0],
            "value-contract",
            &json!({ "create_task": { "template_id": energy_tpl, "params":
                params("San Salvario saves energy", ENERGY_GOAL, 3, ENERGY_BOND) } }),
            vec![],
        )
        .await?;
    let bike_task = net
        .exec(
            CITY,
            "value-contract",
            &json!({ "create_task": { "template_id": bikes_tpl, "params":
                params("Rebalance the Porta Nuova docks", bikes::BUDGET, bikes::PERMITS, bikes::BOND) } }),
            vec![],
        )
        .await?;
    let tasks = Tasks {
        energy: attr(&energy, "task_id")?,
        bikes: attr(&bike_task, "task_id")?,
    };
    let shares = [6_000_000u128, ENERGY_GOAL - 6_000_000 + 1];
    let contribute = |id: u64| json!({ "contribute": { "task_id": id } });
    net.exec_all(vec![
        tx(SPONSORS[0], contribute(tasks.energy), shares[0]),
        tx(SPONSORS[1], contribute(tasks.energy), shares[1]),
        tx(CITY, contribute(tasks.bikes), bikes::BUDGET),
    ])
    .await?;
    net.note(format!(
        "energy task #{}: {} + {} ustake from {} and {}; bike task #{}: {} ustake from the city, {} cargo-bike permits",
        tasks.energy, shares[0], shares[1], SPONSORS[0], SPONSORS[1], tasks.bikes, bikes::BUDGET, bikes::PERMITS
    ));

    net.step("Households and riders offer; the solver proposes a better bike matching than the contract's rule").await?;
    let mut riders_before = vec![];
    for r in bikes::RIDERS {
        riders_before.push(net.gross(r).await?);
    }
    let mut offers: Vec<Tx> = HOUSEHOLDS
        .iter()
        .map(|h| {
            tx(
                h,
                json!({ "submit_offer": {
                    "task_id": tasks.energy, "price": "0", "capacity": 1, "min_units": 1, "reputation_ref": null
                } }),
                OFFER_DEPOSIT,
            )
        })
        .collect();
    offers.extend(bikes::offers(tasks.bikes, OFFER_DEPOSIT));
    net.exec_all(offers).await?;
    advance_past(net, tasks, "funding_deadline").await?;
    wait_status(net, relayers, chaos, &tasks.both(), "matching").await?;
    // The solver proposes inside the window (the rule is optimal for the
    // energy task: nothing to propose there).
    let until = Instant::now() + net.timing.patience;
    loop {
        let m: Value = net
            .query(
                "value-contract",
                &json!({ "matching": { "task_id": tasks.bikes, "start_after": null, "limit": 30 } }),
            )
            .await?;
        if !m["best_proposal"].is_null() {
            break;
        }
        check(Instant::now() < until, || {
            format!(
                "the solver proposed no bike matching in {:?}",
                net.timing.patience
            )
        })?;
        chaos.point(relayers).await?;
        tokio::time::sleep(net.timing.poll).await;
    }
    advance_past(net, tasks, "matching_deadline").await?;
    // Anyone may record the decision; the sponsors do, together (the
    // confirmations must land inside the first acceptance round).
    net.exec_all(vec![
        tx(
            SPONSORS[0],
            json!({ "advance": { "task_id": tasks.energy } }),
            0,
        ),
        tx(CITY, json!({ "advance": { "task_id": tasks.bikes } }), 0),
    ])
    .await?;
    let m: Value = net
        .query(
            "value-contract",
            &json!({ "matching": { "task_id": tasks.energy, "start_after": null, "limit": 30 } }),
        )
        .await?;
    let slots = m["slots"].as_array().map_or(0, Vec::len);
    check(slots == 3 && m["from_proposal"] == json!(false), || {
        format!("3 households matched by the contract's rule, got {m}")
    })?;
    let (rule, matched, unmatched) = bikes::check_matching(net, tasks.bikes).await?;
    figures.bikes_rule = rule;
    figures.bikes_matched = matched;
    net.note(format!(
        "energy: {slots} households matched by the contract's rule (optimal: the solver proposed nothing)"
    ));
    net.note(format!(
        "bikes: the rule would take the two cheapest riders, {} bikes for {} ustake; the solver's proposal, {} bikes for {} ustake (the van and the trailer), was verified and used",
        rule.0, rule.1, matched.0, matched.1
    ));
    // The riders left out take their offers back, with the deposits.
    net.exec_all(
        unmatched
            .iter()
            .map(|r| {
                tx(
                    r,
                    json!({ "withdraw_offer": { "task_id": tasks.bikes } }),
                    0,
                )
            })
            .collect(),
    )
    .await?;
    for (r, before) in bikes::RIDERS.iter().zip(&riders_before) {
        if unmatched.contains(r) {
            let now = net.gross(r).await?;
            check(now == *before, || {
                format!("{r} should have its deposit back: {now} vs {before}")
            })?;
        }
    }

    net.step("Households and riders confirm with their bonds; a week of saving energy, a day of moving bikes").await?;
    let mut confirms: Vec<Tx> = HOUSEHOLDS
        .iter()
        .map(|h| {
            tx(
                h,
                json!({ "confirm": { "task_id": tasks.energy } }),
                ENERGY_BOND,
            )
        })
        .collect();
    for (rider, _) in bikes::MOVED {
        confirms.push(tx(
            rider,
            json!({ "confirm": { "task_id": tasks.bikes } }),
            bikes::BOND,
        ));
    }
    net.exec_all(confirms).await?;
    for id in tasks.both() {
        let s = status(net, id).await?;
        check(s == "executing", || {
            format!("task {id} should be executing once everyone confirmed (is `{s}`)")
        })?;
    }
    let from = deadline(net, tasks.bikes, "acceptance_deadline").await? / 1_000_000_000;
    let to = deadline(net, tasks.bikes, "execution_deadline").await? / 1_000_000_000;
    let moved = bikes::log_moves(net, state_dir, from, to)?;
    net.note(format!(
        "the dock stations logged {moved} bikes docked by the matched riders ({})",
        bikes::MOVED
            .iter()
            .map(|(r, n)| format!("{r}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    advance_past(net, tasks, "execution_deadline").await?;

    net.step("Three relayer instances measure meters and docks; the aggregator submits a 2-of-3 report per task").await?;
    let entered = net.height().await?;
    wait_status(net, relayers, chaos, &tasks.both(), "disputable").await?;
    // The reports' inclusion heights are in the aggregator's outbox; a
    // restarted aggregator confirms its report when it reconciles.
    let until = Instant::now() + net.timing.patience;
    let (reports, included) = loop {
        let (n, _, h) = super::relayers::outbox_done(&relayers.city().db, "oracle/")?;
        if n >= 2 || Instant::now() > until {
            break (n, h);
        }
        tokio::time::sleep(net.timing.poll).await;
    };
    check(reports == 2, || {
        format!("the aggregator should have sent exactly one report per task, sent {reports}")
    })?;
    figures.oracle_reports = reports;
    figures.oracle_latency_blocks = included.saturating_sub(entered);
    let energy = task(net, tasks.energy).await?;
    let bike_task = task(net, tasks.bikes).await?;
    net.note(format!(
        "energy: {} Wh saved in total; bikes: {} moved; the last report included {} block(s) after verification opened",
        energy["value_total"].as_str().unwrap_or("?"),
        bike_task["value_total"].as_str().unwrap_or("?"),
        figures.oracle_latency_blocks
    ));

    net.step("After the dispute window participants claim rewards and bonds; sponsors take back the rest").await?;
    net.advance(net.timing.dispute + 1).await?;
    claims(net, tasks, figures).await?;
    Ok(())
}

/// Every participant claims (reward + bond, checked to the unit) and
/// every sponsor takes back its share; the tasks hold nothing after.
async fn claims(net: &mut Net, tasks: Tasks, figures: &mut Figures) -> Result<(), DevnetError> {
    let mut who: Vec<(&str, u64)> = HOUSEHOLDS.iter().map(|h| (*h, tasks.energy)).collect();
    who.extend(bikes::MOVED.iter().map(|(r, _)| (*r, tasks.bikes)));
    let mut due = vec![];
    let mut before = vec![];
    for (actor, id) in &who {
        let c: Value = net
            .query(
                "value-contract",
                &json!({ "claimable": { "task_id": id, "address": net.addr(actor)? } }),
            )
            .await?;
        let amount = |k: &str| c[k].as_str().unwrap_or("0").parse::<u128>().unwrap_or(0);
        due.push((amount("reward"), amount("bond")));
        before.push(net.gross(actor).await?);
    }
    net.exec_all(
        who.iter()
            .zip(&due)
            .filter(|(_, (reward, bond))| reward + bond > 0)
            .map(|((actor, id), _)| tx(actor, json!({ "claim": { "task_id": id } }), 0))
            .collect(),
    )
    .await?;
    let (mut energy_paid, mut bikes_paid) = (0u128, 0u128);
    for (((actor, id), (reward, bond)), before) in who.iter().zip(&due).zip(&before) {
        let got = net.gross(actor).await? - before;
        check(got == reward + bond, || {
            format!("{actor} should receive {reward} + {bond}, got {got}")
        })?;
        if *id == tasks.bikes {
            let want = bikes::expected_reward(actor);
            check(*reward == want && *bond == bikes::BOND, || {
                format!("{actor} should be paid {want} for the bikes it moved and get its bond {} back, got {reward} + {bond}", bikes::BOND)
            })?;
            bikes_paid += reward;
        } else {
            energy_paid += reward;
        }
        net.note(format!("{actor}: reward {reward} + bond {bond} ustake"));
    }
    let moved: u64 = bikes::MOVED.iter().map(|(_, n)| n).sum();
    figures.bikes_moved_paid = (moved, bikes_paid);
    // Every sponsor settles; rounding dust goes to the last one.
    let mut refunds = vec![];
    let sponsors = [
        (SPONSORS[0], tasks.energy),
        (SPONSORS[1], tasks.energy),
        (CITY, tasks.bikes),
    ];
    for (s, _) in sponsors {
        refunds.push(net.gross(s).await?);
    }
    net.exec_all(
        sponsors
            .iter()
            .map(|(s, id)| tx(s, json!({ "refund": { "task_id": id } }), 0))
            .collect(),
    )
    .await?;
    let mut back = [0u128; 3];
    for (i, (s, _)) in sponsors.iter().enumerate() {
        back[i] = net.gross(s).await? - refunds[i];
    }
    for id in tasks.both() {
        let t = task(net, id).await?;
        check(t["held"] == json!("0"), || {
            format!("task {id} still holds funds: {t}")
        })?;
    }
    check(back[2] == bikes::BUDGET - bikes_paid, || {
        format!(
            "the city should get back {} of its bike budget, got {}",
            bikes::BUDGET - bikes_paid,
            back[2]
        )
    })?;
    net.note(format!(
        "energy: {energy_paid} of {} ustake paid out by measured saving, {} of rounding dust back to the sponsors; bikes: {bikes_paid} ustake for {moved} bikes, {} back to the city; the tasks hold nothing",
        ENERGY_GOAL + 1,
        back[0] + back[1],
        back[2]
    ));
    Ok(())
}
