//! Oracle set management, single attestations, agreement, aggregated
//! reports and every way a report can be stale or replayed.

use cosmwasm_std::{Binary, Uint128};
use sha2::{Digest, Sha256};
use value_contract::msg::{ExecuteMsg, OracleSetMsg, OraclesResponse, QueryMsg, SignBytesResponse};
use value_contract::state::{TaskKind, TaskStatus};
use value_contract::ContractError;

use crate::suite::{params, template, Suite, SuiteBuilder, CID, PHASE};

/// A competition with `households` confirmed and the clock at the
/// execution deadline (oracles may attest).
fn verifying(s: &mut Suite, households: &[&str]) -> u64 {
    let tpl = s.create_template(template(TaskKind::Competition));
    let task = s.create_task(tpl, params(1_000, 0, households.len() as u32));
    s.contribute("city", task, 1_000);
    for h in households {
        s.offer(h, task, 0, 1, 1);
    }
    s.wait(2 * PHASE);
    for h in households {
        s.confirm(h, task, 0);
    }
    s.wait(4 * PHASE);
    task
}

fn suite(n: usize, k: u32) -> Suite {
    SuiteBuilder::new()
        .with_oracles(n, k)
        .with_funded(&["city", "h1", "h2", "h3"])
        .build()
}

#[test]
fn oracle_set_rules_and_rotation() {
    let mut s = suite(3, 2);
    let o: OraclesResponse = s.query(&QueryMsg::Oracles {});
    assert_eq!((o.version, o.threshold, o.members.len()), (1, 2, 3));
    let owner = s.owner.clone();
    let set = |s: &Suite, n: usize, k: u32| OracleSetMsg {
        members: s.oracles[..n].iter().map(|o| o.member()).collect(),
        threshold: k,
    };
    let bad = set(&s, 2, 3);
    assert_eq!(
        s.execute(&owner, &ExecuteMsg::SetOracles(bad), &[])
            .unwrap_err(),
        ContractError::InvalidOracleSet {
            reason: "threshold must be 1 to the number of members"
        }
    );
    let mut dup = set(&s, 2, 1);
    dup.members[1].pubkey = dup.members[0].pubkey.clone();
    assert_eq!(
        s.execute(&owner, &ExecuteMsg::SetOracles(dup), &[])
            .unwrap_err(),
        ContractError::InvalidOracleSet {
            reason: "duplicate member address or key"
        }
    );
    let mut short = set(&s, 1, 1);
    short.members[0].pubkey = Binary::from(vec![2u8; 20]);
    assert!(matches!(
        s.execute(&owner, &ExecuteMsg::SetOracles(short), &[])
            .unwrap_err(),
        ContractError::InvalidOracleSet { .. }
    ));
    let stranger = s.addr("stranger");
    let good = set(&s, 2, 2);
    assert!(matches!(
        s.execute(&stranger, &ExecuteMsg::SetOracles(good.clone()), &[])
            .unwrap_err(),
        ContractError::Ownership(_)
    ));
    s.execute(&owner, &ExecuteMsg::SetOracles(good), &[])
        .unwrap();
    let o: OraclesResponse = s.query(&QueryMsg::Oracles {});
    assert_eq!((o.version, o.threshold, o.members.len()), (2, 2, 2));
}

#[test]
fn singles_settle_when_the_set_is_complete_or_at_the_deadline() {
    let mut s = suite(4, 3);
    let task = verifying(&mut s, &["h1", "h2"]);
    assert_eq!(
        s.attest_err(0, task, &[("stranger", 1)]).unwrap_err(),
        ContractError::NotParticipant {
            task_id: task,
            participant: s.addr("stranger").to_string()
        }
    );
    let outsider = s.addr("outsider");
    assert_eq!(
        s.execute(
            &outsider,
            &ExecuteMsg::Attest {
                task_id: task,
                values: s.values(&[("h1", 1)]),
                evidence_cid: CID.to_string()
            },
            &[]
        )
        .unwrap_err(),
        ContractError::NotOracle {
            address: outsider.to_string(),
            version: 1
        }
    );
    // k = 3 of 4: early acceptance would need 5 agreeing values, so a
    // value settles once all four attested, or at the deadline.
    // Disagreement: 100, 200 and 300 are more than 5% apart.
    s.attest(0, task, &[("h1", 100), ("h2", 10)]);
    assert_eq!(
        s.attest_err(0, task, &[("h1", 100)]).unwrap_err(),
        ContractError::DuplicateAttestation {
            task_id: task,
            participant: s.addr("h1").to_string(),
            oracle: s.oracles[0].addr.to_string()
        }
    );
    s.attest(1, task, &[("h1", 200), ("h2", 10)]);
    s.attest(2, task, &[("h1", 300)]);
    assert_eq!(s.attestations(task, "h1").accepted, None);
    assert_eq!(s.attestations(task, "h1").attestations.len(), 3);
    // h2 needs a third value; it arrives with h1's fourth.
    s.attest(3, task, &[("h1", 204), ("h2", 10)]);
    // All four attested h1: sorted 100, 200, 204, 300, the largest agreeing
    // window 200..=204 has only 2 values. h2 has three of four, not final yet.
    assert_eq!(s.attestations(task, "h1").accepted, None);
    assert_eq!(s.attestations(task, "h2").accepted, None);
    assert_eq!(s.status(task), TaskStatus::Verifying);
    // At the verification deadline the open values settle on what agrees
    // (a storage step: the query says an advance is due).
    s.wait(PHASE);
    let t = s.task(task);
    assert_eq!((t.status, t.advance_due), (TaskStatus::Verifying, true));
    s.advance(task);
    assert_eq!(s.attestations(task, "h2").accepted, Some(Uint128::new(10)));
    assert_eq!(s.attestations(task, "h1").accepted, None);
    assert_eq!(s.status(task), TaskStatus::Disputable);
    s.wait(PHASE);
    // h1 has no value: no reward, no bond to lose; h2 takes the pool.
    assert_eq!(s.claim("h2", task), 1_000);
    assert_eq!(s.claim("h1", task), 0);
}

#[test]
fn tolerance_is_relative_to_the_larger_value() {
    let mut s = suite(3, 3);
    let task = verifying(&mut s, &["h1"]);
    // 95, 100, 100: spread 5 ≤ 5% of 100.
    s.attest(0, task, &[("h1", 100)]);
    s.attest(1, task, &[("h1", 95)]);
    s.attest(2, task, &[("h1", 100)]);
    assert_eq!(s.attestations(task, "h1").accepted, Some(Uint128::new(100)));
    assert_eq!(s.status(task), TaskStatus::Disputable);
    assert!(matches!(
        s.attest_err(0, task, &[("h1", 1)]).unwrap_err(),
        ContractError::WrongStatus {
            status: TaskStatus::Disputable,
            ..
        }
    ));
}

#[test]
fn rotation_makes_old_attestations_stale() {
    let mut s = suite(3, 2);
    let task = verifying(&mut s, &["h1"]);
    s.attest(0, task, &[("h1", 100)]);
    let owner = s.owner.clone();
    let set = OracleSetMsg {
        members: s.oracles.iter().map(|o| o.member()).collect(),
        threshold: 2,
    };
    s.execute(&owner, &ExecuteMsg::SetOracles(set), &[])
        .unwrap();
    s.config_version = 2;
    // Oracle 1 agrees, but oracle 0's attestation was for version 1.
    s.attest(1, task, &[("h1", 100)]);
    assert_eq!(s.attestations(task, "h1").accepted, None);
    s.attest(0, task, &[("h1", 101)]);
    assert_eq!(s.attestations(task, "h1").accepted, None);
    s.attest(2, task, &[("h1", 100)]);
    assert_eq!(s.attestations(task, "h1").accepted, Some(Uint128::new(100)));
}

#[test]
fn aggregated_reports_are_bound_and_replay_safe() {
    let mut s = suite(3, 2);
    let task = verifying(&mut s, &["h1", "h2"]);

    let r = s.report(task, &[("h1", 7)]);
    let mut other_chain = r.clone();
    other_chain.chain_id = "other-chain".to_string();
    let sigs = s.sign(&r, &[0, 1]);
    assert_eq!(
        s.submit_report_err(task, other_chain, sigs.clone())
            .unwrap_err(),
        ContractError::WrongChain {
            expected: "cosmos-testnet-14002".to_string(),
            found: "other-chain".to_string()
        }
    );
    let mut other_contract = r.clone();
    other_contract.contract = s.addr("elsewhere").to_string();
    assert!(matches!(
        s.submit_report_err(task, other_contract, sigs.clone())
            .unwrap_err(),
        ContractError::WrongContract { .. }
    ));
    assert_eq!(
        s.submit_report_err(task + 1, r.clone(), sigs.clone())
            .unwrap_err(),
        ContractError::WrongTask {
            expected: task + 1,
            found: task
        }
    );
    assert_eq!(
        s.submit_report_err(task, r.clone(), sigs[..1].to_vec())
            .unwrap_err(),
        ContractError::NotEnoughSignatures {
            valid: 1,
            required: 2
        }
    );
    let mut dup = sigs.clone();
    dup[1] = dup[0].clone();
    assert_eq!(
        s.submit_report_err(task, r.clone(), dup).unwrap_err(),
        ContractError::BadSigner { index: 0 }
    );
    // Oracle 2's signature presented as oracle 1's.
    let mut forged = s.sign(&r, &[0, 2]);
    forged[1].oracle_index = 1;
    assert_eq!(
        s.submit_report_err(task, r.clone(), forged).unwrap_err(),
        ContractError::InvalidSignature { index: 1 }
    );
    // A tampered value breaks every signature.
    let mut tampered = r.clone();
    tampered.values[0].value = Uint128::new(700);
    assert_eq!(
        s.submit_report_err(task, tampered, sigs.clone())
            .unwrap_err(),
        ContractError::InvalidSignature { index: 0 }
    );
    s.submit_report_err(task, r.clone(), sigs.clone()).unwrap();
    assert_eq!(s.attestations(task, "h1").accepted, Some(Uint128::new(7)));
    assert_eq!(
        s.submit_report_err(task, r.clone(), sigs).unwrap_err(),
        ContractError::ReplayedRound {
            task_id: task,
            round: 1
        }
    );
    // A later round for a participant already accepted is refused.
    let r2 = s.report(task, &[("h1", 8)]);
    let sigs2 = s.sign(&r2, &[1, 2]);
    assert_eq!(
        s.submit_report_err(task, r2, sigs2).unwrap_err(),
        ContractError::AlreadyFinal {
            task_id: task,
            participant: s.addr("h1").to_string()
        }
    );
    // After rotation, reports of the old version are stale.
    let owner = s.owner.clone();
    let set = OracleSetMsg {
        members: s.oracles.iter().map(|o| o.member()).collect(),
        threshold: 2,
    };
    s.execute(&owner, &ExecuteMsg::SetOracles(set), &[])
        .unwrap();
    let r3 = s.report(task, &[("h2", 3)]);
    let sigs3 = s.sign(&r3, &[0, 1]);
    assert_eq!(
        s.submit_report_err(task, r3, sigs3).unwrap_err(),
        ContractError::StaleConfig {
            current: 2,
            found: 1
        }
    );
    s.config_version = 2;
    let r4 = s.report(task, &[("h2", 3)]);
    let sigs4 = s.sign(&r4, &[2, 0]);
    s.submit_report_err(task, r4, sigs4).unwrap();
    assert_eq!(s.status(task), TaskStatus::Disputable);
}

#[test]
fn reports_need_sorted_participants() {
    let mut s = suite(3, 2);
    let task = verifying(&mut s, &["h1", "h2"]);
    let mut r = s.report(task, &[("h1", 1), ("h2", 2)]);
    // Sorting is checked before signatures, so these need not match.
    let sigs = s.sign(&r, &[0, 1]);
    r.values.reverse();
    assert_eq!(
        s.submit_report_err(task, r, sigs).unwrap_err(),
        ContractError::UnsortedValues { index: 1 }
    );
}

#[test]
fn ed25519_oracles_report_in_one_batch() {
    let mut s = SuiteBuilder::new()
        .with_oracles(5, 3)
        .with_ed25519()
        .with_funded(&["city", "h1", "h2", "h3"])
        .build();
    let task = verifying(&mut s, &["h1", "h2", "h3"]);
    let r = s.report(task, &[("h1", 5), ("h2", 6), ("h3", 0)]);
    let mut sigs = s.sign(&r, &[4, 1, 3]);
    sigs[2].signature = s.oracles[0].sign(&[0u8; 32]);
    assert_eq!(
        s.submit_report_err(task, r.clone(), sigs).unwrap_err(),
        ContractError::InvalidSignature { index: 3 }
    );
    let sigs = s.sign(&r, &[4, 1, 3]);
    s.submit_report_err(task, r, sigs).unwrap();
    let t = s.task(task);
    assert_eq!(
        (t.status, t.final_count, t.value_total.u128()),
        (TaskStatus::Disputable, 3, 11)
    );
}

#[test]
fn sign_bytes_follow_the_documented_encoding() {
    let mut s = suite(3, 2);
    let task = verifying(&mut s, &["h1"]);
    let values = s.values(&[("h1", 42)]);
    let res: SignBytesResponse = s.query(&QueryMsg::ReportSignBytes {
        task_id: task,
        config_version: 1,
        round: 9,
        evidence_cid: CID.to_string(),
        values: values.clone(),
    });
    let chain = s.app.block_info().chain_id;
    let contract = s.contract.to_string();
    let mut expected = b"wevalue/value-contract/report/v1".to_vec();
    for part in [chain.as_str(), contract.as_str()] {
        expected.extend_from_slice(&(part.len() as u16).to_be_bytes());
        expected.extend_from_slice(part.as_bytes());
    }
    expected.extend_from_slice(&task.to_be_bytes());
    expected.extend_from_slice(&1u32.to_be_bytes());
    expected.extend_from_slice(&9u64.to_be_bytes());
    expected.extend_from_slice(&(CID.len() as u16).to_be_bytes());
    expected.extend_from_slice(CID.as_bytes());
    expected.extend_from_slice(&1u16.to_be_bytes());
    let p = &values[0].participant;
    expected.extend_from_slice(&(p.len() as u16).to_be_bytes());
    expected.extend_from_slice(p.as_bytes());
    expected.extend_from_slice(&42u128.to_be_bytes());
    assert_eq!(res.bytes.as_slice(), expected.as_slice());
    assert_eq!(
        res.digest.as_slice(),
        Sha256::digest(&expected).to_vec().as_slice()
    );
}
