//! The proof-of-authority oracle set and the two ways it attests.
//!
//! **Oracle set**: 1 to 16 members with distinct accounts and keys; keys are
//! compared in their canonical encoding (`keys`), so one secp256k1 key in
//! its compressed and uncompressed forms is one key. A new set may not be
//! smaller than the quorum of a running task.
//!
//! **Single attestation**: an oracle sends `attest` from its own account.
//! Attestations are stored per (task, participant, config version, oracle)
//! and settle a value by the rule in `agreement`. Items that cannot be
//! recorded (participant not confirmed, value already final, oracle
//! already attested) are skipped and reported in `skipped` attributes, so
//! one stale item does not sink a 64-value batch.
//!
//! **Aggregated report**: anyone submits a [`Report`] with at least k
//! signatures of distinct current members; each signer states the listed
//! values, so they are accepted directly (k − 1 faulty signers cannot sign
//! a report alone, and an honest signer vouches for every value). Rounds
//! are nonces: each is accepted once per task, in any order.
//!
//! **Canonical bytes** (what `report_sign_bytes` returns), all integers
//! big-endian, strings UTF-8:
//!
//! ```text
//! "wevalue/value-contract/report/v1"            32 bytes, domain separator
//! u16 len ‖ chain_id
//! u16 len ‖ contract address (bech32)
//! u64 task_id ‖ u32 config_version ‖ u64 round
//! u16 len ‖ evidence_cid
//! u16 count ‖ count × (u16 len ‖ participant (bech32) ‖ u128 value)
//! ```
//!
//! Oracles sign `sha256(bytes)`: secp256k1 ECDSA (64-byte r‖s, low s) or
//! ed25519 over those 32 bytes. Participants must be in strictly increasing
//! byte order, so one report has one encoding.

use cosmwasm_std::{
    ensure, Addr, Api, Attribute, Binary, Deps, DepsMut, Env, MessageInfo, Order, Response,
    Storage, Uint128,
};
use cw_utils::nonpayable;
use sha2::{Digest, Sha256};

use crate::agreement::{accept_value, agreed_value, attested_values, quorum};
use crate::error::ContractError;
use crate::keys::canonical_key;
use crate::lifecycle::{advance, load_task, save_task};
use crate::msg::{OracleSetMsg, OracleSignature, ParticipantValue, Report};
use crate::state::{
    attestation_group, Attestation, KeyScheme, OracleConfig, OracleMember, Slot, Task, TaskStatus,
    ATTESTATIONS, MAX_ORACLES, MAX_REPORT_VALUES, ORACLES, ORACLE_COUNT, QUORUMS, REPORT_ROUNDS,
    SLOTS,
};
use crate::templates::check_cid;

pub const DOMAIN: &[u8; 32] = b"wevalue/value-contract/report/v1";

/// Validates and stores a new oracle set with the next version.
#[inline(never)]
pub fn store_oracle_set(
    store: &mut dyn Storage,
    api: &dyn Api,
    msg: OracleSetMsg,
) -> Result<OracleConfig, ContractError> {
    let n = msg.members.len() as u32;
    ensure!(
        (1..=MAX_ORACLES).contains(&n),
        ContractError::InvalidOracleSet {
            reason: "1 to 16 members are required"
        }
    );
    ensure!(
        (1..=n).contains(&msg.threshold),
        ContractError::InvalidOracleSet {
            reason: "threshold must be 1 to the number of members"
        }
    );
    let mut members: Vec<OracleMember> = Vec::with_capacity(msg.members.len());
    for m in msg.members {
        let address = api.addr_validate(&m.address)?;
        let pubkey = canonical_key(m.scheme, &m.pubkey)?;
        ensure!(
            !members
                .iter()
                .any(|x| x.address == address || x.pubkey == pubkey),
            ContractError::InvalidOracleSet {
                reason: "duplicate member address or key"
            }
        );
        members.push(OracleMember {
            address,
            pubkey,
            scheme: m.scheme,
        });
    }
    // Running tasks must still reach their quorum (at most MAX_ORACLES entries).
    for item in QUORUMS.range(store, None, None, Order::Ascending) {
        let (min_quorum, tasks) = item?;
        ensure!(
            min_quorum <= n,
            ContractError::RotationStrandsTasks {
                min_quorum,
                members: n,
                tasks
            }
        );
    }
    let version = ORACLES.may_load(store)?.unwrap_or_default().version + 1;
    let config = OracleConfig {
        version,
        threshold: msg.threshold,
        members,
    };
    ORACLES.save(store, &config)?;
    ORACLE_COUNT.save(store, &n)?;
    Ok(config)
}

#[inline(never)]
pub fn set_oracles(
    deps: DepsMut,
    info: MessageInfo,
    msg: OracleSetMsg,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw_ownable::assert_owner(deps.storage, &info.sender)?;
    let config = store_oracle_set(deps.storage, deps.api, msg)?;
    Ok(Response::new()
        .add_attribute("action", "set_oracles")
        .add_attribute("config_version", config.version.to_string())
        .add_attribute("threshold", config.threshold.to_string())
        .add_attribute("members", config.members.len().to_string()))
}

/// The canonical bytes of a report (see the module documentation).
#[inline(never)]
pub fn report_bytes(
    chain_id: &str,
    contract: &str,
    task_id: u64,
    config_version: u32,
    round: u64,
    evidence_cid: &str,
    values: &[(Addr, Uint128)],
) -> Vec<u8> {
    fn put_str(out: &mut Vec<u8>, s: &str) {
        // Every string here is far below 65,535 bytes (validated or bech32).
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    let mut out = Vec::with_capacity(128 + values.len() * 64);
    out.extend_from_slice(DOMAIN);
    put_str(&mut out, chain_id);
    put_str(&mut out, contract);
    out.extend_from_slice(&task_id.to_be_bytes());
    out.extend_from_slice(&config_version.to_be_bytes());
    out.extend_from_slice(&round.to_be_bytes());
    put_str(&mut out, evidence_cid);
    out.extend_from_slice(&(values.len() as u16).to_be_bytes());
    for (participant, value) in values {
        put_str(&mut out, participant.as_str());
        out.extend_from_slice(&value.u128().to_be_bytes());
    }
    out
}

/// Validates the participants (bech32, strictly increasing, 1 to 64).
#[inline(never)]
pub fn check_values(
    api: &dyn Api,
    values: &[ParticipantValue],
) -> Result<Vec<(Addr, Uint128)>, ContractError> {
    ensure!(
        !values.is_empty() && values.len() <= MAX_REPORT_VALUES as usize,
        ContractError::ReportSize {
            count: values.len(),
            max: MAX_REPORT_VALUES
        }
    );
    let mut out: Vec<(Addr, Uint128)> = Vec::with_capacity(values.len());
    for (index, v) in values.iter().enumerate() {
        let addr = api.addr_validate(&v.participant)?;
        if let Some((last, _)) = out.last() {
            ensure!(
                addr.as_bytes() > last.as_bytes(),
                ContractError::UnsortedValues { index }
            );
        }
        out.push((addr, v.value));
    }
    Ok(out)
}

pub fn sign_bytes(
    deps: Deps,
    env: &Env,
    task_id: u64,
    config_version: u32,
    round: u64,
    evidence_cid: &str,
    values: &[ParticipantValue],
) -> Result<(Binary, Binary), ContractError> {
    let values = check_values(deps.api, values)?;
    let bytes = report_bytes(
        &env.block.chain_id,
        env.contract.address.as_str(),
        task_id,
        config_version,
        round,
        evidence_cid,
        &values,
    );
    let digest = Sha256::digest(&bytes).to_vec();
    Ok((Binary::from(bytes), Binary::from(digest)))
}

fn open_verifying(
    store: &mut dyn Storage,
    env: &Env,
    task_id: u64,
    action: &'static str,
) -> Result<(Task, TaskStatus), ContractError> {
    let mut task = load_task(store, task_id)?;
    let prev = task.status;
    advance(store, env.block.time, task_id, &mut task)?;
    ensure!(
        task.status == TaskStatus::Verifying,
        ContractError::WrongStatus {
            task_id,
            status: task.status,
            action
        }
    );
    Ok((task, prev))
}

/// Checks that `participant` is confirmed and has no accepted value yet.
fn open_slot(store: &dyn Storage, task_id: u64, participant: &Addr) -> Result<Slot, ContractError> {
    let slot = SLOTS
        .may_load(store, (task_id, participant))?
        .filter(|s| s.confirmed)
        .ok_or_else(|| ContractError::NotParticipant {
            task_id,
            participant: participant.to_string(),
        })?;
    ensure!(
        slot.value.is_none(),
        ContractError::AlreadyFinal {
            task_id,
            participant: participant.to_string()
        }
    );
    Ok(slot)
}

#[inline(never)]
pub fn attest(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
    values: Vec<ParticipantValue>,
    evidence_cid: String,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    check_cid(&evidence_cid)?;
    let config = ORACLES.may_load(deps.storage)?.unwrap_or_default();
    ensure!(
        config.members.iter().any(|m| m.address == info.sender),
        ContractError::NotOracle {
            address: info.sender.to_string(),
            version: config.version
        }
    );
    let values = check_values(deps.api, &values)?;
    let (mut task, prev) = open_verifying(deps.storage, &env, task_id, "attest")?;
    let k = quorum(&task, &config) as usize;
    let members = config.members.len();
    let total = values.len();
    let mut accepted = 0u32;
    let mut skipped: Vec<(String, ContractError)> = vec![];
    for (participant, value) in values {
        let slot = match open_slot(deps.storage, task_id, &participant) {
            Ok(slot) => slot,
            Err(e) => {
                skipped.push((participant.to_string(), e));
                continue;
            }
        };
        let key = (
            task_id,
            attestation_group(&participant, config.version),
            &info.sender,
        );
        if ATTESTATIONS.has(deps.storage, key.clone()) {
            skipped.push((
                participant.to_string(),
                ContractError::DuplicateAttestation {
                    task_id,
                    participant: participant.to_string(),
                    oracle: info.sender.to_string(),
                },
            ));
            continue;
        }
        ATTESTATIONS.save(
            deps.storage,
            key,
            &Attestation {
                value,
                evidence_cid: evidence_cid.clone(),
            },
        )?;
        let mut seen = attested_values(deps.storage, task_id, &participant, config.version)?;
        let complete = seen.len() >= members;
        if let Some(v) = agreed_value(&mut seen, k, task.terms.tolerance_bps, complete) {
            accept_value(deps.storage, task_id, &mut task, &participant, slot, v)?;
            accepted += 1;
        }
    }
    let skipped = skipped_attributes(total, skipped)?;
    advance(deps.storage, env.block.time, task_id, &mut task)?;
    save_task(deps.storage, task_id, prev, &task)?;
    Ok(Response::new()
        .add_attribute("action", "attest")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("oracle", info.sender)
        .add_attribute("config_version", config.version.to_string())
        .add_attribute("accepted", accepted.to_string())
        .add_attributes(skipped)
        .add_attribute("status", format!("{:?}", task.status)))
}

/// One `skipped` attribute per item a batch could not record, or the first
/// item's error when it could record none (a wholly stale batch fails).
fn skipped_attributes(
    total: usize,
    skipped: Vec<(String, ContractError)>,
) -> Result<Vec<Attribute>, ContractError> {
    if skipped.len() >= total {
        if let Some((_, first)) = skipped.into_iter().next() {
            return Err(first);
        }
        return Ok(vec![]);
    }
    Ok(skipped
        .into_iter()
        .map(|(participant, e)| Attribute::new("skipped", format!("{participant}: {e}")))
        .collect())
}

#[inline(never)]
pub fn submit_report(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
    report: Report,
    signatures: Vec<OracleSignature>,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    ensure!(
        report.chain_id == env.block.chain_id,
        ContractError::WrongChain {
            expected: env.block.chain_id.clone(),
            found: report.chain_id
        }
    );
    ensure!(
        report.contract == env.contract.address.as_str(),
        ContractError::WrongContract {
            expected: env.contract.address.to_string(),
            found: report.contract
        }
    );
    ensure!(
        report.task_id == task_id,
        ContractError::WrongTask {
            expected: task_id,
            found: report.task_id
        }
    );
    check_cid(&report.evidence_cid)?;
    let config = ORACLES.may_load(deps.storage)?.unwrap_or_default();
    ensure!(
        report.config_version == config.version,
        ContractError::StaleConfig {
            current: config.version,
            found: report.config_version
        }
    );
    let (mut task, prev) = open_verifying(deps.storage, &env, task_id, "submit_report")?;
    ensure!(
        !REPORT_ROUNDS.has(deps.storage, (task_id, report.round)),
        ContractError::ReplayedRound {
            task_id,
            round: report.round
        }
    );
    let values = check_values(deps.api, &report.values)?;
    let k = quorum(&task, &config);
    ensure!(
        signatures.len() <= config.members.len(),
        ContractError::NotEnoughSignatures {
            valid: 0,
            required: k
        }
    );
    let mut used = 0u32; // bit set of signer indices (at most 16 members)
    for s in &signatures {
        ensure!(
            (s.oracle_index as usize) < config.members.len() && used & (1 << s.oracle_index) == 0,
            ContractError::BadSigner {
                index: s.oracle_index
            }
        );
        used |= 1 << s.oracle_index;
    }
    ensure!(
        signatures.len() as u32 >= k,
        ContractError::NotEnoughSignatures {
            valid: signatures.len() as u32,
            required: k
        }
    );
    let bytes = report_bytes(
        &env.block.chain_id,
        env.contract.address.as_str(),
        task_id,
        config.version,
        report.round,
        &report.evidence_cid,
        &values,
    );
    let digest = Sha256::digest(&bytes);
    verify_signatures(deps.api, &config, &digest, &signatures)?;
    let mut accepted = 0u32;
    let mut skipped: Vec<(String, ContractError)> = vec![];
    for (participant, value) in &values {
        match open_slot(deps.storage, task_id, participant) {
            Ok(slot) => {
                accept_value(deps.storage, task_id, &mut task, participant, slot, *value)?;
                accepted += 1;
            }
            Err(e) => skipped.push((participant.to_string(), e)),
        }
    }
    let skipped = skipped_attributes(values.len(), skipped)?;
    REPORT_ROUNDS.save(deps.storage, (task_id, report.round), &())?;
    task.last_report_round = task.last_report_round.max(report.round);
    advance(deps.storage, env.block.time, task_id, &mut task)?;
    save_task(deps.storage, task_id, prev, &task)?;
    Ok(Response::new()
        .add_attribute("action", "submit_report")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("round", report.round.to_string())
        .add_attribute("signers", signatures.len().to_string())
        .add_attribute("accepted", accepted.to_string())
        .add_attributes(skipped)
        .add_attribute("status", format!("{:?}", task.status)))
}

#[inline(never)]
fn verify_signatures(
    api: &dyn Api,
    config: &OracleConfig,
    digest: &[u8],
    signatures: &[OracleSignature],
) -> Result<(), ContractError> {
    let member = |s: &OracleSignature| &config.members[s.oracle_index as usize];
    let all_ed = signatures
        .iter()
        .all(|s| member(s).scheme == KeyScheme::Ed25519);
    if all_ed && signatures.len() > 1 {
        // One batch check; on failure fall through to find the bad signer.
        let msgs: Vec<&[u8]> = signatures.iter().map(|_| digest).collect();
        let sigs: Vec<&[u8]> = signatures.iter().map(|s| s.signature.as_slice()).collect();
        let keys: Vec<&[u8]> = signatures
            .iter()
            .map(|s| member(s).pubkey.as_slice())
            .collect();
        if api
            .ed25519_batch_verify(&msgs, &sigs, &keys)
            .unwrap_or(false)
        {
            return Ok(());
        }
    }
    for s in signatures {
        let m = member(s);
        let ok = match m.scheme {
            KeyScheme::Secp256k1 => api.secp256k1_verify(digest, &s.signature, &m.pubkey),
            KeyScheme::Ed25519 => api.ed25519_verify(digest, &s.signature, &m.pubkey),
        }
        .unwrap_or(false);
        ensure!(
            ok,
            ContractError::InvalidSignature {
                index: s.oracle_index
            }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_bytes_are_length_prefixed_and_big_endian() {
        let p = Addr::unchecked("wasm1p");
        let bytes = report_bytes("c", "wasm1x", 2, 3, 4, "Qm", &[(p, Uint128::new(5))]);
        let mut want = DOMAIN.to_vec();
        want.extend_from_slice(&[0, 1, b'c', 0, 6]);
        want.extend_from_slice(b"wasm1x");
        want.extend_from_slice(&2u64.to_be_bytes());
        want.extend_from_slice(&3u32.to_be_bytes());
        want.extend_from_slice(&4u64.to_be_bytes());
        want.extend_from_slice(&[0, 2, b'Q', b'm', 0, 1, 0, 6]);
        want.extend_from_slice(b"wasm1p");
        want.extend_from_slice(&5u128.to_be_bytes());
        assert_eq!(bytes, want);
    }
}
