//! Gas of the value contract's main operations on the optimized wasm
//! (`artifacts/value-contract.wasm`) in cosmwasm-vm, as wasmd charges them.
//!
//! Run with `cargo run -p value-contract --example value-contract-gas` after
//! `ci/build-wasm.sh value-contract`. Prints a Markdown table and checks the
//! issue's target: one aggregated report signed by k = 5 of n = 7 oracles
//! costs less than the k single attestations together.

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
    for (p, agg, single) in oracle_tasks.clone() {
        for h in &households[..p] {
            let out = kit.exec(h, &[], &ExecuteMsg::Confirm { task_id: agg });
            if p == 3 && *h == households[0] {
                table.add("confirm assignment (advance included)", out.gas);
            }
            kit.exec(h, &[], &ExecuteMsg::Confirm { task_id: single });
        }
    }
    kit.wait(4 * PHASE);

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
        for i in 0..K {
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
            if i == K - 1 {
                assert_eq!(out.attr("accepted"), Some(p.to_string().as_str()));
                table.add(
                    format!("single attestation ({K}th, reaches quorum), {p} participants"),
                    out.gas,
                );
            } else if i == 0 {
                table.add(
                    format!("single attestation (1st), {p} participants"),
                    out.gas,
                );
            }
            sum = add(sum, out.gas);
        }
        let singles = table.add(
            format!("{K} single attestations together, {p} participants"),
            sum,
        );
        ratios.push((p, aggregated.sdk(), singles.sdk()));
    }

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
            "{p} participants: aggregated {aggregated} SDK gas vs {K} singles {singles} SDK gas"
        );
        ok &= check_target(
            &format!("aggregated report / {K} single attestations ({p} participants)"),
            aggregated as f64 / singles as f64,
            1.0,
        );
    }
    if !ok {
        std::process::exit(1);
    }
}
