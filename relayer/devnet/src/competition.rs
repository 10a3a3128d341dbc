//! The neighbourhood energy-saving competition: template, task, two
//! sponsors, three households, the solver, confirmations, execution, a
//! 2-of-3 oracle report from three relayer instances, settlement, claims.

use serde_json::{json, Value};

use super::chaos::Chaos;
use super::net::{check, Net};
use super::relayers::Relayers;
use super::report::Figures;
use super::scenario::{coins, HOUSEHOLDS, SPONSORS};
use super::DevnetError;

/// Phase lengths of the template, seconds.
const FUNDING: u64 = 3_600;
const MATCHING: u64 = 3_600;
const ACCEPTANCE: u64 = 3_600;
/// One week of metered saving.
const EXECUTION: u64 = 7 * 24 * 3_600;
const VERIFICATION: u64 = 24 * 3_600;
const DISPUTE: u64 = 24 * 3_600;
const GOAL: u128 = 9_000_000;
const BOND: u128 = 50_000;
/// Refundable deposit per offer (back on confirmation).
const OFFER_DEPOSIT: u128 = 10_000;

/// A task's computed status, as a string (`matching`, `verifying`, ...).
async fn status(net: &Net, task: u64) -> Result<String, DevnetError> {
    let t: Value = net
        .query("value-contract", &json!({ "task": { "id": task } }))
        .await?;
    Ok(t["status"].as_str().unwrap_or_default().to_string())
}

/// Moves block time just past one of the task's deadlines (`execution_deadline`).
async fn advance_past(net: &Net, task: u64, deadline: &str) -> Result<(), DevnetError> {
    let t: Value = net
        .query("value-contract", &json!({ "task": { "id": task } }))
        .await?;
    let at: u64 = t["terms"][deadline]
        .as_str()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| DevnetError::Check(format!("task {task} has no {deadline}")))?;
    let now = net.block_time_nanos().await?;
    let secs = at.saturating_sub(now) / 1_000_000_000 + 1;
    net.advance(secs).await?;
    Ok(())
}

/// Waits (real time, services running) until the task reaches `want`.
async fn wait_status(
    net: &Net,
    relayers: &mut Relayers,
    chaos: &mut Chaos,
    task: u64,
    want: &str,
) -> Result<u64, DevnetError> {
    let started = net.height().await?;
    for _ in 0..2_000 {
        if status(net, task).await? == want {
            return Ok(started);
        }
        chaos.point(relayers).await?;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Err(DevnetError::Check(format!(
        "task {task} did not reach `{want}` in 20 s (now `{}`)",
        status(net, task).await?
    )))
}

/// Runs the competition; records the oracle latency figure.
pub(super) async fn run(
    net: &mut Net,
    relayers: &mut Relayers,
    chaos: &mut Chaos,
    figures: &mut Figures,
) -> Result<(), DevnetError> {
    net.step("The city registers the 2-of-3 oracle set and an energy-saving template")?;
    let mut members = vec![];
    for i in &relayers.instances {
        members.push(i.oracle_member()?);
    }
    net.exec(
        "deployer",
        "value-contract",
        &json!({ "set_oracles": { "members": members, "threshold": 2 } }),
        vec![],
    )
    .await?;
    let out = net
        .exec(
            "deployer",
            "value-contract",
            &json!({ "create_template": {
                "name": "Neighbourhood energy saving",
                "kind": "competition",
                "metric": "kwh_saved",
                "unit": "kWh",
                "asset": null,
                "durations": {
                    "funding": FUNDING, "matching": MATCHING, "acceptance": ACCEPTANCE,
                    "execution": EXECUTION, "verification": VERIFICATION, "dispute": DISPUTE
                },
                "min_quorum": 2,
                "tolerance_bps": 500,
                "max_participants": 16,
                "offer_deposit": OFFER_DEPOSIT.to_string()
            } }),
            vec![],
        )
        .await?;
    let template = relayer_core::chain::find_attr(&out.events, "wasm", "template_id")
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| DevnetError::Check("create_template emitted no template_id".into()))?;
    net.note(format!(
        "oracles: {} (threshold 2); template #{template}: competition on kwh_saved",
        relayers
            .instances
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));

    net.step("A competition task is created and funded by two sponsors")?;
    let out = net
        .exec(
            SPONSORS[0],
            "value-contract",
            &json!({ "create_task": { "template_id": template, "params": {
                "title": "San Salvario saves energy",
                "description_cid": "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
                "asset": { "native": super::net::DENOM },
                "funding_goal": GOAL.to_string(),
                "target": "0",
                "max_participants": 3,
                "bond": BOND.to_string(),
                "durations": {}
            } } }),
            vec![],
        )
        .await?;
    let task = relayer_core::chain::find_attr(&out.events, "wasm", "task_id")
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| DevnetError::Check("create_task emitted no task_id".into()))?;
    let shares = [6_000_000u128, GOAL - 6_000_000 + 1];
    for (sponsor, amount) in SPONSORS.iter().zip(shares) {
        net.exec(
            sponsor,
            "value-contract",
            &json!({ "contribute": { "task_id": task } }),
            coins(amount),
        )
        .await?;
    }
    net.note(format!(
        "task #{task}: {} + {} ustake from {} and {}",
        shares[0], shares[1], SPONSORS[0], SPONSORS[1]
    ));

    net.step("Three households offer to take part; the solver checks the matching")?;
    for h in HOUSEHOLDS {
        net.exec(
            h,
            "value-contract",
            &json!({ "submit_offer": {
                "task_id": task, "price": "0", "capacity": 1, "min_units": 1, "reputation_ref": null
            } }),
            coins(OFFER_DEPOSIT),
        )
        .await?;
    }
    advance_past(net, task, "funding_deadline").await?;
    wait_status(net, relayers, chaos, task, "matching").await?;
    // Give the solver a few passes inside the window.
    for _ in 0..30 {
        chaos.point(relayers).await?;
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    }
    advance_past(net, task, "matching_deadline").await?;
    net.exec(
        "deployer",
        "value-contract",
        &json!({ "advance": { "task_id": task } }),
        vec![],
    )
    .await?;
    let m: Value = net
        .query(
            "value-contract",
            &json!({ "matching": { "task_id": task, "start_after": null, "limit": 30 } }),
        )
        .await?;
    let slots = m["slots"].as_array().map_or(0, Vec::len);
    check(slots == 3, || format!("3 households matched, got {m}"))?;
    net.note(format!(
        "{slots} households matched ({})",
        if m["from_proposal"] == json!(true) {
            "the solver's proposal was better than the contract's rule"
        } else {
            "the contract's own rule was already optimal; the solver proposed nothing"
        }
    ));

    net.step("The households confirm with their bonds and save energy for a week")?;
    for h in HOUSEHOLDS {
        net.exec(
            h,
            "value-contract",
            &json!({ "confirm": { "task_id": task } }),
            coins(BOND),
        )
        .await?;
    }
    check(status(net, task).await? == "executing", || {
        "the task should be executing after three confirmations".into()
    })?;
    advance_past(net, task, "execution_deadline").await?;

    net.step("Three relayer instances measure the meters; the aggregator submits a 2-of-3 report")?;
    let entered = net.height().await?;
    wait_status(net, relayers, chaos, task, "disputable").await?;
    let t: Value = net
        .query("value-contract", &json!({ "task": { "id": task } }))
        .await?;
    // `entered` is the first block past the execution deadline (the
    // advance); the report's inclusion height is in the aggregator's outbox.
    // A restarted aggregator confirms its report when it reconciles.
    let mut found = super::relayers::outbox_done(&relayers.city().db, "oracle/")?;
    for _ in 0..500 {
        if found.0 > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        found = super::relayers::outbox_done(&relayers.city().db, "oracle/")?;
    }
    let (reports, _, included) = found;
    check(reports == 1, || {
        format!("the aggregator should have sent exactly one report, sent {reports}")
    })?;
    let latency = included.saturating_sub(entered);
    figures.oracle_latency_blocks = latency;
    net.note(format!(
        "value total {} Wh saved; report included {latency} block(s) after verification opened",
        t["value_total"].as_str().unwrap_or("?")
    ));

    net.step("After the dispute window the households claim rewards and bonds")?;
    net.advance(DISPUTE + 1).await?;
    let mut paid = 0u128;
    for h in HOUSEHOLDS {
        let c: Value = net
            .query(
                "value-contract",
                &json!({ "claimable": { "task_id": task, "address": net.addr(h)? } }),
            )
            .await?;
        let reward: u128 = c["reward"].as_str().unwrap_or("0").parse().unwrap_or(0);
        let bond: u128 = c["bond"].as_str().unwrap_or("0").parse().unwrap_or(0);
        let before = net.balance(h).await?;
        if reward + bond > 0 {
            net.exec(
                h,
                "value-contract",
                &json!({ "claim": { "task_id": task } }),
                vec![],
            )
            .await?;
        }
        let got = net.balance(h).await? - before;
        check(got == reward + bond, || {
            format!("{h} should receive {reward} + {bond}, got {got}")
        })?;
        paid += reward;
        net.note(format!("{h}: reward {reward} + bond {bond} ustake"));
    }
    // Every sponsor settles; rounding dust goes to the last one.
    let mut dust = 0u128;
    for s in SPONSORS {
        let before = net.balance(s).await?;
        net.exec(
            s,
            "value-contract",
            &json!({ "refund": { "task_id": task } }),
            vec![],
        )
        .await?;
        dust += net.balance(s).await? - before;
    }
    let t: Value = net
        .query("value-contract", &json!({ "task": { "id": task } }))
        .await?;
    check(t["held"] == json!("0"), || {
        format!("task still holds funds: {t}")
    })?;
    net.note(format!(
        "{paid} of {} ustake paid out by measured saving, {dust} of rounding dust back to the sponsors; the task holds nothing",
        GOAL + 1
    ));
    Ok(())
}
