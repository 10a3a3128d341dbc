//! The Cosmos backend's signing, checked byte for byte: against the
//! committed vectors (tests/fixtures/cosmjs-vectors.json) and against CosmJS
//! run live on the same input (tests/cosmjs, installed by
//! `relayer/tests/cosmjs/setup.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;

use cosmwasm_std::{Coin, Uint128};
use relayer::chain::{tx_hash, ChainMsg};
use relayer::cosmos::{fee_for, gas_limit, msg_to_any, sign_tx, SignedParts};
use relayer::keys::Signer;
use relayer::ChainError;
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn input() -> Value {
    serde_json::from_slice(&std::fs::read(dir().join("cosmjs/input.json")).unwrap()).unwrap()
}

/// Signs the input with the relayer's code and renders it like vectors.mjs.
fn rust_vectors(input: &Value) -> Value {
    let signer = Signer::from_mnemonic(
        input["mnemonic"].as_str().unwrap(),
        input["prefix"].as_str().unwrap(),
        input["account_index"].as_u64().unwrap() as u32,
    )
    .unwrap();
    let exec = &input["execute"];
    let funds = exec["funds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Coin {
            denom: c["denom"].as_str().unwrap().into(),
            amount: Uint128::new(c["amount"].as_str().unwrap().parse().unwrap()),
        })
        .collect();
    let msg = ChainMsg::Execute {
        contract: exec["contract"].as_str().unwrap().into(),
        msg: exec["msg"].as_str().unwrap().into(),
        funds,
    };
    let fee = &input["fee"];
    let gas = fee["gas_limit"].as_u64().unwrap();
    let amount: u128 = fee["amount"].as_str().unwrap().parse().unwrap();
    // 5000 for 200000 gas is a gas price of 0.025.
    let fee = fee_for(
        gas,
        amount as f64 / gas as f64,
        fee["denom"].as_str().unwrap(),
    )
    .unwrap();
    let parts: SignedParts = sign_tx(
        &signer,
        input["chain_id"].as_str().unwrap(),
        input["account_number"].as_u64().unwrap(),
        input["sequence"].as_u64().unwrap(),
        vec![msg_to_any(&msg, signer.address()).unwrap()],
        input["memo"].as_str().unwrap(),
        fee,
        0,
    )
    .unwrap();
    serde_json::json!({
        "address": signer.address(),
        "pubkey": hex::encode(signer.public_key().to_bytes()),
        "body_bytes": hex::encode(&parts.body_bytes),
        "auth_info_bytes": hex::encode(&parts.auth_info_bytes),
        "sign_bytes": hex::encode(&parts.sign_bytes),
        "signature": hex::encode(&parts.signature),
        "tx_bytes": hex::encode(&parts.tx_bytes),
        "tx_hash": tx_hash(&parts.tx_bytes),
    })
}

fn assert_same(ours: &Value, theirs: &Value, source: &str) {
    for field in [
        "address",
        "pubkey",
        "body_bytes",
        "auth_info_bytes",
        "sign_bytes",
        "signature",
        "tx_bytes",
        "tx_hash",
    ] {
        assert_eq!(ours[field], theirs[field], "{field} differs from {source}");
    }
}

#[test]
fn signing_matches_committed_vectors() {
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir().join("fixtures/cosmjs-vectors.json")).unwrap())
            .unwrap();
    let ours = rust_vectors(&input());
    assert_same(&ours, &expected, "tests/fixtures/cosmjs-vectors.json");
    assert_eq!(
        ours["address"],
        "wasm1cyyzpxplxdzkeea7kwsydadg87357qna465cff"
    );
    assert_eq!(
        ours["signature"].as_str().unwrap().len(),
        128,
        "64-byte r||s"
    );
}

#[test]
fn signing_matches_cosmjs_live() {
    let cosmjs = dir().join("cosmjs");
    assert!(
        cosmjs.join("node_modules/@cosmjs/proto-signing").is_dir(),
        "CosmJS is not installed: run `relayer/tests/cosmjs/setup.sh` (npm ci) first; \
         this cross-check must run, it is not skipped"
    );
    let out = Command::new("node")
        .arg("vectors.mjs")
        .arg("input.json")
        .current_dir(&cosmjs)
        .output()
        .expect("`node` must be on PATH for the CosmJS cross-check");
    assert!(
        out.status.success(),
        "node vectors.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Value = serde_json::from_slice(&out.stdout).expect("vectors.mjs prints JSON");
    assert_same(&rust_vectors(&input()), &theirs, "CosmJS");
}

#[test]
fn keys_derive_per_account_index_and_reject_bad_mnemonics() {
    let phrase = input()["mnemonic"].as_str().unwrap().to_string();
    let a0 = Signer::from_mnemonic(&phrase, "wasm", 0).unwrap();
    let a1 = Signer::from_mnemonic(&phrase, "wasm", 1).unwrap();
    assert_ne!(a0.address(), a1.address());
    // Whitespace is normalised; the prefix only changes the encoding.
    let spaced =
        Signer::from_mnemonic(&format!("  {}\n", phrase.replace(' ', "  ")), "cosmos", 0).unwrap();
    assert!(spaced.address().starts_with("cosmos1"));
    assert_eq!(
        &spaced.address()[7..spaced.address().len() - 6].len(),
        &(a0.address()[5..a0.address().len() - 6].len())
    );
    let bad = Signer::from_mnemonic("not a real mnemonic at all", "wasm", 0).unwrap_err();
    assert!(
        matches!(bad, ChainError::Signer(ref m) if m.contains("invalid mnemonic")),
        "{bad}"
    );
    // Debug output never shows key material.
    assert!(!format!("{a0:?}").contains("key:"));
}

#[test]
fn gas_and_fee_rules() {
    assert_eq!(gas_limit(100_000, 1.3, 1_000_000).unwrap(), 130_000);
    assert_eq!(
        gas_limit(100_001, 1.1, 1_000_000).unwrap(),
        110_002,
        "rounded up"
    );
    let err = gas_limit(900_000, 1.3, 1_000_000).unwrap_err();
    assert!(matches!(
        err,
        ChainError::GasAboveMax {
            estimated: 1_170_000,
            max: 1_000_000
        }
    ));
    let fee = fee_for(130_000, 0.025, "ustake").unwrap();
    assert_eq!(fee.gas_limit, 130_000);
    assert_eq!(fee.amount[0].amount, 3250);
    let fee = fee_for(130_001, 0.025, "ustake").unwrap();
    assert_eq!(fee.amount[0].amount, 3251, "fees round up");
    assert!(
        fee_for(130_000, 0.0, "ustake").unwrap().amount.is_empty(),
        "no zero coin"
    );
}

#[test]
fn store_and_instantiate_messages_encode() {
    let sender = "wasm1cyyzpxplxdzkeea7kwsydadg87357qna465cff";
    let any = relayer::cosmos::store_code_any(sender, &[0u8; 4096]).unwrap();
    assert_eq!(any.type_url, "/cosmwasm.wasm.v1.MsgStoreCode");
    assert!(
        any.value.len() < 200,
        "wasm is gzipped: {}",
        any.value.len()
    );
    let inst = msg_to_any(
        &ChainMsg::Instantiate {
            code_id: 3,
            msg: "{}".into(),
            funds: vec![],
            label: "registry".into(),
            admin: Some(sender.into()),
        },
        sender,
    )
    .unwrap();
    assert_eq!(inst.type_url, "/cosmwasm.wasm.v1.MsgInstantiateContract");
    let err = msg_to_any(
        &ChainMsg::Execute {
            contract: "not-bech32".into(),
            msg: "{}".into(),
            funds: vec![],
        },
        sender,
    )
    .unwrap_err();
    assert!(matches!(err, ChainError::InvalidAddress { .. }));
}

/// Every BIP39 length Keplr, Leap and CosmJS accept: (words, index, address, pubkey).
fn rust_mnemonic_vectors() -> Vec<Value> {
    let input: Value =
        serde_json::from_slice(&std::fs::read(dir().join("cosmjs/mnemonics.json")).unwrap())
            .unwrap();
    let prefix = input["prefix"].as_str().unwrap();
    let mut out = vec![];
    for m in input["mnemonics"].as_array().unwrap() {
        let phrase = m.as_str().unwrap();
        for index in input["account_indexes"].as_array().unwrap() {
            let index = index.as_u64().unwrap() as u32;
            let signer = Signer::from_mnemonic(phrase, prefix, index)
                .unwrap_or_else(|e| panic!("{} words refused: {e}", phrase.split(' ').count()));
            out.push(serde_json::json!({
                "words": phrase.split(' ').count(),
                "account_index": index,
                "address": signer.address(),
                "pubkey": hex::encode(signer.public_key().to_bytes()),
            }));
        }
    }
    out
}

#[test]
fn every_bip39_length_matches_committed_cosmjs_vectors() {
    let expected: Vec<Value> = serde_json::from_slice(
        &std::fs::read(dir().join("fixtures/cosmjs-mnemonics.json")).unwrap(),
    )
    .unwrap();
    let ours = rust_mnemonic_vectors();
    let words: Vec<u64> = ours.iter().map(|v| v["words"].as_u64().unwrap()).collect();
    assert_eq!(words, [12, 12, 15, 15, 18, 18, 21, 21, 24, 24]);
    assert_eq!(ours, expected);
}

#[test]
fn every_bip39_length_matches_cosmjs_live() {
    let cosmjs = dir().join("cosmjs");
    assert!(
        cosmjs.join("node_modules/@cosmjs/proto-signing").is_dir(),
        "CosmJS is not installed: run `relayer/tests/cosmjs/setup.sh` (npm ci) first; \
         this cross-check must run, it is not skipped"
    );
    let out = Command::new("node")
        .arg("mnemonics.mjs")
        .arg("mnemonics.json")
        .current_dir(&cosmjs)
        .output()
        .expect("`node` must be on PATH for the CosmJS cross-check");
    assert!(
        out.status.success(),
        "node mnemonics.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<Value> =
        serde_json::from_slice(&out.stdout).expect("mnemonics.mjs prints JSON");
    assert_eq!(rust_mnemonic_vectors(), theirs);
}
