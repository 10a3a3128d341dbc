//! Gas of the value contract's main operations on the optimized wasm
//! (`artifacts/value-contract.wasm`) in cosmwasm-vm, as wasmd charges them.
//!
//! Run with `cargo run -p value-contract --example value-contract-gas` after
//! `ci/build-wasm.sh value-contract`. Prints a Markdown table and checks the
//! issue's target: one aggregated report signed by k = 5 of n = 7 oracles
//! costs less than the single attestations that settle the same values
//! (with k = 5 of 7, singles settle a value once all 7 agree: early
//! acceptance needs 2k − 1 = 9 > 7 agreeing values).

use cosmwasm_std::Addr;
use value_contract::msg::{Assignment, ExecuteMsg, OffersResponse, QueryMsg};
use value_contract::state::TaskKind;
use wevalue_vm_harness::{check_target, Gas, GasTable};

#[path = "../tests/vmkit/mod.rs"]
mod vmkit;
use vmkit::{Kit, CID, PHASE};

const N: usize = 7;
const K: usize = 5;

fn add(a: Gas, b: Gas) -> Gas {
    Gas {
        vm_internal: a.vm_internal + b.vm_internal,
        vm_external: a.vm_external + b.vm_external,
        events: a.events + b.events,
    }
}

fn main() {
    let mut kit = Kit::new(N, K as u32);
    let mut table = GasTable::new(format!(
        "value-contract (optimized wasm, {} bytes)",
        kit.vm.wasm_size
    ));
    let sponsor = kit.vm.user_addr("sponsor");

    let (competition, out) = kit.template(TaskKind::Competition, 1);
    table.add("create template (owner)", out.gas);
    let (per_unit, _) = kit.template(TaskKind::PerUnit, 1);

    // Tasks for the oracle comparison, P participants each.
    let mut oracle_tasks = vec![];
    for p in [3usize, 10] {
        let (agg, out) = kit.create_task(competition, 10_000, 0, 64);
        if p == 3 {
            table.add("create task from template", out.gas);
        }
        let (single, _) = kit.create_task(competition, 10_000, 0, 64);
        oracle_tasks.push((p, agg, single));
    }
    let (solve10, _) = kit.create_task(per_unit, 1_000_000, 0, 64);
    let (solve50, _) = kit.create_task(per_unit, 1_000_000, 0, 64);
    // Settled at the verification deadline from 5 of 7 attestations each.
    let (deadline, _) = kit.create_task(competition, 10_000, 0, 64);
    // Nobody confirms its first round: a sponsor's refund cancels it.
    let (stuck, _) = kit.create_task(competition, 10_000, 0, 5);

    let first = kit.contribute(&sponsor, oracle_tasks[0].1, 10_000);
    table.add("contribute (first, native)", first.gas);
    let again = kit.contribute(&sponsor, oracle_tasks[0].1, 1);
    table.add("contribute (same sponsor again)", again.gas);
    for (_, agg, single) in oracle_tasks.clone() {
        if agg != oracle_tasks[0].1 {
            kit.contribute(&sponsor, agg, 10_000);
        }
        kit.contribute(&sponsor, single, 10_000);
    }
    kit.contribute(&sponsor, solve10, 1_000_000);
    kit.contribute(&sponsor, solve50, 1_000_000);
    kit.contribute(&sponsor, deadline, 10_000);
    kit.contribute(&sponsor, stuck, 10_000);

    let households: Vec<Addr> = (0..10)
        .map(|i| kit.vm.user_addr(&format!("household{i}")))
        .collect();
    for (p, agg, single) in oracle_tasks.clone() {
        for h in &households[..p] {
            let out = kit.offer(h, agg, 0, 1);
            if p == 3 && *h == households[0] {
                table.add("submit offer", out.gas);
            }
            kit.offer(h, single, 0, 1);
        }
    }
    for h in &households {
        kit.offer(h, deadline, 0, 1);
        kit.offer(h, stuck, 0, 1);
    }
    let late = kit.vm.user_addr("late");
    kit.offer(&late, stuck, 0, 1);
    let out = kit.exec(&late, &[], &ExecuteMsg::WithdrawOffer { task_id: stuck });
    table.add("withdraw offer (deposit back)", out.gas);
    let movers: Vec<Addr> = (0..50)
        .map(|i| kit.vm.user_addr(&format!("mover{i}")))
        .collect();
    for (i, m) in movers.iter().enumerate() {
        if i < 10 {
            kit.offer(m, solve10, 10 + (i as u128 % 7), 20);
        }
        kit.offer(m, solve50, 10 + (i as u128 % 7), 20);
    }

    kit.wait(PHASE);
    let solver = kit.vm.user_addr("solver");
    for (task, n) in [(solve10, 10usize), (solve50, 50)] {
        let mut assignments = vec![];
        for page in 0..n.div_ceil(30) {
            let (offers, _): (OffersResponse, _) = kit
                .vm
                .query(&QueryMsg::Offers {
                    task_id: task,
                    start_after: (page > 0).then_some(assignments.len() as u64),
                    limit: Some(30),
                })
                .unwrap();
            assignments.extend(offers.offers.iter().map(|o| Assignment {
                offer_id: o.offer_id,
                revision: o.revision,
                units: o.capacity,
            }));
        }
        assert_eq!(assignments.len(), n);
        let out = kit.exec(
            &solver,
            &[],
            &ExecuteMsg::ProposeMatching {
                task_id: task,
                assignments,
            },
        );
        table.add(format!("solver proposal, {n} assignments"), out.gas);
    }

    kit.wait(PHASE);
    let keeper = kit.vm.user_addr("keeper");
    let out = kit.exec(&keeper, &[], &ExecuteMsg::Advance { task_id: solve50 });
    table.add("decide matching (advance, 50 offers + proposal)", out.gas);
    kit.exec(&keeper, &[], &ExecuteMsg::Advance { task_id: stuck });
    for (p, agg, single) in oracle_tasks.clone() {
        for h in &households[..p] {
            let out = kit.exec(h, &[], &ExecuteMsg::Confirm { task_id: agg });
            if p == 3 && *h == households[0] {
                table.add("confirm assignment (advance included)", out.gas);
            }
            kit.exec(h, &[], &ExecuteMsg::Confirm { task_id: single });
        }
    }
    for h in &households {
        kit.exec(h, &[], &ExecuteMsg::Confirm { task_id: deadline });
    }
    kit.wait(PHASE);
    let out = kit.exec(&sponsor, &[], &ExecuteMsg::Refund { task_id: stuck });
    assert_eq!(out.attr("cancelled"), Some("true"));
    table.add(
        "refund cancelling a stuck task (ends round 1: 5 slots slashed, 5 refilled)",
        out.gas,
    );
    kit.wait(3 * PHASE);

    let mut ratios = vec![];
    for (p, agg, single) in oracle_tasks.clone() {
        let values: Vec<(Addr, u128)> = households[..p]
            .iter()
            .enumerate()
            .map(|(i, h)| (h.clone(), 100 + 10 * i as u128))
            .collect();
        let signers: Vec<usize> = (0..K).collect();
        let (report, signatures) = kit.signed_report(agg, &values, &signers);
        let out = kit.exec(
            &keeper,
            &[],
            &ExecuteMsg::SubmitReport {
                task_id: agg,
                report,
                signatures,
            },
        );
        assert_eq!(out.attr("accepted"), Some(p.to_string().as_str()));
        let aggregated = table.add(
            format!("aggregated report, {K} of {N} signatures, {p} participants"),
            out.gas,
        );
        let mut sum = Gas::default();
        let mut first_k = Gas::default();
        for i in 0..N {
            let oracle = kit.oracles[i].0.clone();
            let out = kit.exec(
                &oracle,
                &[],
                &ExecuteMsg::Attest {
                    task_id: single,
                    values: Kit::values(&values),
                    evidence_cid: CID.to_string(),
                },
            );
            if i == N - 1 {
                assert_eq!(out.attr("accepted"), Some(p.to_string().as_str()));
                table.add(
                    format!("single attestation ({N}th, completes the set), {p} participants"),
                    out.gas,
                );
            } else if i == 0 {
                table.add(
                    format!("single attestation (1st), {p} participants"),
                    out.gas,
                );
            }
            sum = add(sum, out.gas);
            if i < K {
                first_k = add(first_k, out.gas);
            }
        }
        table.add(
            format!("{K} single attestations together (not settled yet), {p} participants"),
            first_k,
        );
        let singles = table.add(
            format!("{N} single attestations together (settle), {p} participants"),
            sum,
        );
        ratios.push((p, aggregated.sdk(), singles.sdk()));
    }

    // 5 of 7 oracles attest the deadline task's 10 households; the
    // verification deadline settles them.
    let values: Vec<(Addr, u128)> = households
        .iter()
        .enumerate()
        .map(|(i, h)| (h.clone(), 100 + 10 * i as u128))
        .collect();
    for i in 0..K {
        let oracle = kit.oracles[i].0.clone();
        kit.exec(
            &oracle,
            &[],
            &ExecuteMsg::Attest {
                task_id: deadline,
                values: Kit::values(&values),
                evidence_cid: CID.to_string(),
            },
        );
    }
    kit.wait(10 * PHASE);
    let out = kit.exec(&keeper, &[], &ExecuteMsg::Advance { task_id: deadline });
    assert_eq!(out.attr("status"), Some("Disputable"));
    table.add(
        "advance at the verification deadline (settles 10 open values, 5 attestations each)",
        out.gas,
    );
    let owner = kit.owner.clone();
    let members = kit.members();
    let out = kit.exec(
        &owner,
        &[],
        &ExecuteMsg::SetOracles(value_contract::msg::OracleSetMsg {
            members,
            threshold: K as u32,
        }),
    );
    table.add("set oracles (7 members, running tasks checked)", out.gas);

    kit.wait(PHASE);
    let out = kit.exec(
        &households[0],
        &[],
        &ExecuteMsg::Claim {
            task_id: oracle_tasks[0].1,
        },
    );
    assert!(!out.response.messages.is_empty());
    table.add("claim reward (settles the task: 3 slots)", out.gas);
    let out = kit.exec(
        &households[1],
        &[],
        &ExecuteMsg::Claim {
            task_id: oracle_tasks[0].1,
        },
    );
    table.add("claim reward (already settled)", out.gas);
    let out = kit.exec(
        &sponsor,
        &[],
        &ExecuteMsg::Refund {
            task_id: oracle_tasks[0].1,
        },
    );
    table.add("sponsor leftover claim", out.gas);

    println!("{}", table.to_markdown());
    let mut ok = true;
    for (p, aggregated, singles) in ratios {
        println!(
            "{p} participants: aggregated {aggregated} SDK gas vs {N} settling singles {singles} SDK gas"
        );
        ok &= check_target(
            &format!("aggregated report / {N} single attestations ({p} participants)"),
            aggregated as f64 / singles as f64,
            1.0,
        );
    }
    if !ok {
        std::process::exit(1);
    }
}
