//! Value-contract solver proposals and oracle reports on wasmd, as its VM
//! benchmark sets them up: per-unit tasks with 10 and 50 offers proposed in
//! full, and two competition tasks with 3 participants under a k = 5 of
//! n = 7 secp256k1 oracle set — one settled by a single aggregated report,
//! the other by 7 single attestations (early acceptance needs 2k − 1 = 9
//! agreeing values, so singles settle once all 7 agree).

use anyhow::{anyhow, ensure, Result};
use cosmwasm_std::{Binary, Uint128};
use futures_util::future::try_join_all;
use relayer::chain::{self, find_attr, TxClient, TxOutcome};
use relayer::services::oracle::peer::report_digest;
use relayer::services::oracle::{KeySchemeConfig, OracleKey};
use serde_json::{json, Value};
use value_contract::msg::{ParticipantValue, Report};

use super::{exec, instantiate, past, send, Rows};
use crate::net::Chain;

const OWNER: u32 = 70;
/// Creates and funds the tasks, proposes, submits the aggregated report.
const SPONSOR: u32 = 71;
/// Seven oracles: 72 to 78.
const ORACLES: u32 = 72;
const N: u32 = 7;
const K: usize = 5;
/// Three households: 80 to 82.
const HOUSEHOLDS: u32 = 80;
const P: u32 = 3;
/// Accounts the caller funds (besides the movers).
pub const ACCOUNTS: &[u32] = &[OWNER, SPONSOR, 72, 73, 74, 75, 76, 77, 78, 80, 81, 82];
/// Fifty offers on a per-unit task: 100 to 149.
const MOVERS: u32 = 100;

pub fn movers() -> impl Iterator<Item = u32> {
    MOVERS..MOVERS + 50
}

const CID: &str = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
const DEPOSIT: u128 = 1_000;
/// Task ids, in creation order on a fresh contract.
const SOLVE10: u64 = 1;
const SOLVE50: u64 = 2;
const AGGREGATED: u64 = 3;
const SINGLES: u64 = 4;

fn nanos(t: &Value, name: &str) -> Result<u128> {
    t["terms"][name]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("no {name} in {t}"))
}

/// Returns a line with the aggregated report / single attestations ratio.
pub async fn rows(chain: &Chain, rows: &mut Rows) -> Result<String> {
    let denom = chain.net.denom.clone();
    let coins = |n: u128| cosmwasm_std::coins(n, &denom);
    let owner = chain.client(OWNER);
    let sponsor = chain.client(SPONSOR);
    let code = chain.store(OWNER, "value-contract").await?;
    let keys = (0..N)
        .map(|i| {
            let secret = wevalue_voucher::sha256(format!("figures-oracle-{i}").as_bytes());
            Ok(OracleKey::from_bytes(KeySchemeConfig::Secp256k1, secret)?)
        })
        .collect::<Result<Vec<_>>>()?;
    let oracles: Vec<_> = (ORACLES..ORACLES + N).map(|i| chain.client(i)).collect();
    let members: Vec<Value> = oracles
        .iter()
        .zip(&keys)
        .map(|(c, k)| {
            json!({ "address": c.sender(), "pubkey": Binary::from(k.public_key()),
                    "scheme": "secp256k1" })
        })
        .collect();
    let vc = instantiate(
        &owner,
        code,
        json!({ "owner": null, "oracles": { "members": members, "threshold": K } }),
        "figures value contract (7 oracles)",
    )
    .await?;
    let vc = vc.as_str();

    // Phases long enough for 53 parallel offers before the funding
    // deadline and the proposals before the matching deadline.
    let template = |kind: &str| {
        exec(
            vc,
            json!({ "create_template": {
            "name": kind, "kind": kind, "metric": "kwh_saved", "unit": "kWh", "asset": null,
            "durations": { "funding": 5, "matching": 8, "acceptance": 8, "execution": 1,
                           "verification": 120, "dispute": 1 },
            "min_quorum": 1, "tolerance_bps": 500, "max_participants": 64,
            "offer_deposit": DEPOSIT.to_string() } }),
            vec![],
        )
    };
    send(
        &owner,
        vec![template("competition")?, template("per_unit")?],
    )
    .await?;
    let task = |template: u64, goal: u128| -> Result<Vec<_>> {
        let create = json!({ "create_task": { "template_id": template, "params": {
            "title": "Figures task", "description_cid": CID, "asset": { "native": denom },
            "funding_goal": goal.to_string(), "target": "0", "max_participants": 64,
            "bond": "0", "durations": {} } } });
        Ok(vec![exec(vc, create, vec![])?])
    };
    // Task ids 1 to 4, each funded to its goal in the same tx.
    let mut msgs = vec![];
    for (id, template, goal) in [
        (SOLVE10, 2, 1_000_000u128),
        (SOLVE50, 2, 1_000_000),
        (AGGREGATED, 1, 10_000),
        (SINGLES, 1, 10_000),
    ] {
        msgs.extend(task(template, goal)?);
        msgs.push(exec(
            vc,
            json!({ "contribute": { "task_id": id } }),
            coins(goal),
        )?);
    }
    let created = send(&sponsor, msgs).await?;
    let ids: Vec<&str> = created
        .events
        .iter()
        .filter(|e| e.ty == "wasm")
        .filter_map(|e| e.attr("task_id"))
        .collect();
    ensure!(
        ids.first() == Some(&"1") && ids.contains(&"4"),
        "unexpected task ids {ids:?}"
    );

    let offer = |task_id: u64, price: u128, capacity: u32| {
        exec(
            vc,
            json!({ "submit_offer": { "task_id": task_id, "price": price.to_string(),
            "capacity": capacity, "min_units": 1, "reputation_ref": null } }),
            coins(DEPOSIT),
        )
    };
    let movers: Vec<_> = movers().map(|i| chain.client(i)).collect();
    let households: Vec<_> = (HOUSEHOLDS..HOUSEHOLDS + P)
        .map(|i| chain.client(i))
        .collect();
    let mover_offers = try_join_all(movers.iter().zip(0u32..).map(|(c, i)| {
        let price = 10 + u128::from(i % 7);
        let msgs = if i < 10 {
            vec![offer(SOLVE10, price, 20), offer(SOLVE50, price, 20)]
        } else {
            vec![offer(SOLVE50, price, 20)]
        };
        async move { send(c, msgs.into_iter().collect::<Result<Vec<_>>>()?).await }
    }));
    let household_offers = try_join_all(households.iter().map(|c| async move {
        send(c, vec![offer(AGGREGATED, 0, 1)?, offer(SINGLES, 0, 1)?]).await
    }));
    tokio::try_join!(mover_offers, household_offers)?;

    let t: Value = chain::query_smart(&*sponsor, vc, &json!({ "task": { "id": SOLVE10 } })).await?;
    past(chain, nanos(&t, "funding_deadline")?).await?;
    for (task_id, n, vm) in [(SOLVE10, 10usize, "49,795"), (SOLVE50, 50, "153,178")] {
        let mut assignments: Vec<Value> = vec![];
        let mut after: Option<u64> = None;
        loop {
            let q = json!({ "offers": { "task_id": task_id, "start_after": after, "limit": 30 } });
            let page: Value = chain::query_smart(&*sponsor, vc, &q).await?;
            let offers = page["offers"]
                .as_array()
                .ok_or_else(|| anyhow!("no offers in {page}"))?;
            if offers.is_empty() {
                break;
            }
            for o in offers {
                assignments.push(
                    json!({ "offer_id": o["offer_id"], "revision": o["revision"],
                                         "units": o["capacity"] }),
                );
                after = o["offer_id"].as_u64();
            }
        }
        ensure!(
            assignments.len() == n,
            "{} offers on task {task_id}",
            assignments.len()
        );
        let msg = json!({ "propose_matching": { "task_id": task_id, "assignments": assignments } });
        let out = send(&sponsor, vec![exec(vc, msg, vec![])?]).await?;
        ensure!(
            find_attr(&out.events, "wasm", "total_units") == Some(&(20 * n).to_string()),
            "proposal of {n}: {:?}",
            find_attr(&out.events, "wasm", "total_units")
        );
        rows.add(
            &format!("value-contract solver proposal, {n} assignments"),
            &out,
            vm,
        );
    }

    let t: Value =
        chain::query_smart(&*sponsor, vc, &json!({ "task": { "id": AGGREGATED } })).await?;
    past(chain, nanos(&t, "matching_deadline")?).await?;
    try_join_all(households.iter().map(|c| async move {
        let confirm = |id: u64| exec(vc, json!({ "confirm": { "task_id": id } }), vec![]);
        send(c, vec![confirm(AGGREGATED)?, confirm(SINGLES)?]).await
    }))
    .await?;
    past(chain, nanos(&t, "execution_deadline")?).await?;

    // Values sorted by participant, as reports require.
    let mut values: Vec<ParticipantValue> = households
        .iter()
        .zip(0u128..)
        .map(|(c, i)| ParticipantValue {
            participant: c.sender().to_string(),
            value: Uint128::new(100 + 10 * i),
        })
        .collect();
    values.sort_by(|a, b| a.participant.cmp(&b.participant));
    let report = Report {
        chain_id: chain.net.chain_id.clone(),
        contract: vc.to_string(),
        task_id: AGGREGATED,
        config_version: 1,
        round: 1,
        evidence_cid: CID.into(),
        values: values.clone(),
    };
    let digest = report_digest(&report);
    let signatures = keys[..K]
        .iter()
        .zip(0u32..)
        .map(|(k, i)| {
            Ok(json!({ "oracle_index": i, "signature": Binary::from(k.sign_digest(&digest)?) }))
        })
        .collect::<Result<Vec<Value>>>()?;
    let submit = json!({ "submit_report": { "task_id": AGGREGATED, "report": report,
                                             "signatures": signatures } });
    let attest = json!({ "attest": { "task_id": SINGLES, "values": values, "evidence_cid": CID } });
    let singles = try_join_all(oracles.iter().map(|c| {
        let msg = exec(vc, attest.clone(), vec![]);
        async move { send(c, vec![msg?]).await }
    }));
    let (aggregated, singles) = tokio::try_join!(
        async { send(&sponsor, vec![exec(vc, submit, vec![])?]).await },
        singles
    )?;
    let accepted = |out: &TxOutcome| find_attr(&out.events, "wasm", "accepted") == Some("3");
    ensure!(accepted(&aggregated), "the report accepted no 3 values");
    ensure!(
        singles.iter().filter(|o| accepted(o)).count() == 1,
        "no single attestation settled the 3 values"
    );
    rows.add(
        "value-contract aggregated report, 5 of 7 signatures (3 participants)",
        &aggregated,
        "52,130",
    );
    let sum: u64 = singles.iter().map(|o| o.gas_used).sum();
    rows.add_gas(
        "value-contract 7 single attestations that settle the values (3 participants), together",
        sum,
        "425,778",
    );
    Ok(format!(
        "An aggregated 5-of-7 report used {} gas against {sum} for the 7 single attestations \
         that settle the same values: **{:.3}** (VM estimate 0.122, target < 1).\n",
        aggregated.gas_used,
        aggregated.gas_used as f64 / sum as f64
    ))
}
