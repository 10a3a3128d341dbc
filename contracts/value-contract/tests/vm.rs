//! The optimized artifact (`artifacts/value-contract.wasm`) in cosmwasm-vm,
//! the VM wasmd embeds: the flows on the real wasm, with real
//! secp256k1 signatures verified by the VM's crypto host functions.

use cosmwasm_std::{coin, Addr, BankMsg, CosmosMsg, Uint128};
use value_contract::msg::{
    ClaimableResponse, ConfigResponse, ExecuteMsg, MatchingResponse, MigrateMsg, QueryMsg,
    SignBytesResponse, TaskResponse,
};
use value_contract::state::{TaskKind, TaskStatus};
use wevalue_vm_harness::{VmContract, CHAIN_ID};

#[path = "vmkit/mod.rs"]
mod vmkit;
use vmkit::{Kit, CID, DENOM, DEPOSIT, PHASE};

fn task(vm: &mut VmContract, id: u64) -> TaskResponse {
    vm.query(&QueryMsg::Task { id }).unwrap().0
}

fn paid(out: &wevalue_vm_harness::Outcome) -> Vec<(String, u128)> {
    out.response
        .messages
        .iter()
        .map(|m| match &m.msg {
            CosmosMsg::Bank(BankMsg::Send { to_address, amount }) => {
                assert_eq!(amount.len(), 1);
                assert_eq!(amount[0].denom, DENOM);
                (to_address.clone(), amount[0].amount.u128())
            }
            other => panic!("unexpected message {other:?}"),
        })
        .collect()
}

#[test]
fn energy_competition_on_the_wasm_artifact() {
    let mut kit = Kit::new(7, 5);
    let (tpl, _) = kit.template(TaskKind::Competition, 1);
    let (id, created) = kit.create_task(tpl, 9_000, 0, 3);
    assert_eq!(created.response.attributes[0].value, "create_task");
    let utility = kit.vm.user_addr("utility");
    let brand = kit.vm.user_addr("brand");
    kit.contribute(&utility, id, 6_000);
    kit.contribute(&brand, id, 3_001);
    let houses: Vec<Addr> = (1..=3)
        .map(|i| kit.vm.user_addr(&format!("house{i}")))
        .collect();
    for h in &houses {
        kit.offer(h, id, 0, 1);
    }
    // A wrong denom is refused with the payment error text.
    let err = kit
        .vm
        .execute(
            &brand,
            &[coin(5, "uother")],
            &ExecuteMsg::Contribute { task_id: id },
        )
        .unwrap_err();
    assert!(err.contains(DENOM), "{err}");

    kit.wait(2 * PHASE);
    for h in &houses {
        // Confirming returns the offer deposit.
        let out = kit.exec(h, &[], &ExecuteMsg::Confirm { task_id: id });
        assert_eq!(paid(&out), vec![(h.to_string(), DEPOSIT)]);
    }
    assert_eq!(task(&mut kit.vm, id).status, TaskStatus::Executing);
    let (m, _): (MatchingResponse, _) = kit
        .vm
        .query(&QueryMsg::Matching {
            task_id: id,
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(m.slots.len(), 3);
    kit.wait(4 * PHASE);

    let values = vec![
        (houses[0].clone(), 120),
        (houses[1].clone(), 80),
        (houses[2].clone(), 50),
    ];
    // Four signatures are not enough for k = 5.
    let (report, sigs) = kit.signed_report(id, &values, &[0, 1, 2, 3]);
    let err = kit
        .vm
        .execute(
            &utility,
            &[],
            &ExecuteMsg::SubmitReport {
                task_id: id,
                report,
                signatures: sigs,
            },
        )
        .unwrap_err();
    assert_eq!(err, "4 signatures, 5 required");
    let (report, sigs) = kit.signed_report(id, &values, &[6, 0, 2, 4, 5]);
    let out = kit.exec(
        &utility,
        &[],
        &ExecuteMsg::SubmitReport {
            task_id: id,
            report: report.clone(),
            signatures: sigs.clone(),
        },
    );
    assert_eq!(out.attr("status"), Some("Disputable"));
    let err = kit
        .vm
        .execute(
            &utility,
            &[],
            &ExecuteMsg::SubmitReport {
                task_id: id,
                report,
                signatures: sigs,
            },
        )
        .unwrap_err();
    assert!(err.contains("Disputable"), "{err}");

    kit.wait(PHASE);
    let (c, _): (ClaimableResponse, _) = kit
        .vm
        .query(&QueryMsg::Claimable {
            task_id: id,
            address: houses[0].to_string(),
        })
        .unwrap();
    assert_eq!((c.status, c.reward.u128()), (TaskStatus::Settled, 4_320));
    let expected = [4_320u128, 2_880, 1_800];
    for (h, want) in houses.iter().zip(expected) {
        let out = kit.exec(h, &[], &ExecuteMsg::Claim { task_id: id });
        assert_eq!(paid(&out), vec![(h.to_string(), want)]);
    }
    let out = kit.exec(&utility, &[], &ExecuteMsg::Refund { task_id: id });
    assert!(paid(&out).is_empty());
    let out = kit.exec(&brand, &[], &ExecuteMsg::Refund { task_id: id });
    assert_eq!(paid(&out), vec![(brand.to_string(), 1)]);
    let t = task(&mut kit.vm, id);
    assert_eq!((t.status, t.held), (TaskStatus::Settled, Uint128::zero()));
}

#[test]
fn failed_crowdfunding_refunds_on_the_wasm_artifact() {
    let mut kit = Kit::new(3, 2);
    let (tpl, _) = kit.template(TaskKind::Crowdfunding, 1);
    let (id, _) = kit.create_task(tpl, 10_000, 100, 1);
    let brand = kit.vm.user_addr("brand");
    kit.contribute(&brand, id, 2_500);
    kit.wait(PHASE);
    let out = kit.exec(&brand, &[], &ExecuteMsg::Refund { task_id: id });
    assert_eq!(paid(&out), vec![(brand.to_string(), 2_500)]);
    assert_eq!(task(&mut kit.vm, id).status, TaskStatus::FundingFailed);
    let err = kit
        .vm
        .execute(&brand, &[], &ExecuteMsg::Refund { task_id: id })
        .unwrap_err();
    assert!(err.starts_with("nothing to claim"), "{err}");
}

#[test]
fn single_attestations_and_sign_bytes_on_the_wasm_artifact() {
    let mut kit = Kit::new(3, 2);
    let (tpl, _) = kit.template(TaskKind::Bounty, 1);
    let (id, _) = kit.create_task(tpl, 500, 1, 1);
    let council = kit.vm.user_addr("council");
    let painter = kit.vm.user_addr("painter");
    kit.contribute(&council, id, 500);
    kit.offer(&painter, id, 450, 1);
    kit.wait(2 * PHASE);
    kit.exec(&painter, &[], &ExecuteMsg::Confirm { task_id: id });
    kit.wait(4 * PHASE);

    let (sb, _): (SignBytesResponse, _) = kit
        .vm
        .query(&QueryMsg::ReportSignBytes {
            task_id: id,
            config_version: 1,
            round: 1,
            evidence_cid: CID.to_string(),
            values: Kit::values(&[(painter.clone(), 1)]),
        })
        .unwrap();
    let bytes = sb.bytes.as_slice();
    assert_eq!(&bytes[..32], b"wevalue/value-contract/report/v1");
    assert_eq!(&bytes[34..34 + CHAIN_ID.len()], CHAIN_ID.as_bytes());

    let attest = ExecuteMsg::Attest {
        task_id: id,
        values: Kit::values(&[(painter.clone(), 1)]),
        evidence_cid: CID.to_string(),
    };
    // k = 2 of 3: a value settles when three agree (2k − 1), or all attested.
    let oracles: Vec<Addr> = kit.oracles.iter().map(|o| o.0.clone()).collect();
    let first = kit.exec(&oracles[0], &[], &attest);
    assert_eq!(first.attr("accepted"), Some("0"));
    let err = kit.vm.execute(&oracles[0], &[], &attest).unwrap_err();
    assert!(err.contains("already attested"), "{err}");
    let second = kit.exec(&oracles[1], &[], &attest);
    assert_eq!(second.attr("accepted"), Some("0"));
    let third = kit.exec(&oracles[2], &[], &attest);
    assert_eq!(third.attr("accepted"), Some("1"));
    assert_eq!(third.attr("status"), Some("Disputable"));
    kit.wait(PHASE);
    let out = kit.exec(&painter, &[], &ExecuteMsg::Claim { task_id: id });
    assert_eq!(paid(&out), vec![(painter.to_string(), 450)]);
    let out = kit.exec(&council, &[], &ExecuteMsg::Refund { task_id: id });
    assert_eq!(paid(&out), vec![(council.to_string(), 50)]);

    let (config, _): (ConfigResponse, _) = kit.vm.query(&QueryMsg::Config {}).unwrap();
    assert_eq!((config.task_count, config.max_offers_per_task), (1, 64));
    let migrated = kit.vm.migrate(&MigrateMsg {}).unwrap();
    assert_eq!(migrated.attr("to_version"), Some(env!("CARGO_PKG_VERSION")));
}
