//! Durability of the group commit under SIGKILL: a child process (this
//! test binary, re-run as `crash::sigkill_child`) stores vouchers from 8
//! concurrent payers through the watchtower and prints each one only after
//! `accept_voucher` acknowledged it; the parent kills it with SIGKILL in the
//! middle of the stream, reopens the SQLite file and finds, for every
//! channel, a stored best voucher at least as high as the highest
//! acknowledged one, with a signature that verifies.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use super::*;

const CHILD_ENV: &str = "WEVALUE_SIGKILL_CHILD_DB";
const PAYERS: u64 = 8;

/// The child: runs only when the parent sets the database path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let env = setup(BlockMode::OnDemand).await;
    let payee = env.payee.sender().to_string();
    let store = Arc::new(Store::open(&path).unwrap());
    let wt = Arc::new(tower(&env, &store, config(&env), &clock()).await);
    let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    // A line of its own: libtest's "test … ... " has no newline yet.
    writeln!(out.lock().unwrap(), "\ncontract {}", env.contract).unwrap();
    let mut channels = vec![];
    for seed in 1..=PAYERS {
        let key = signer(VoucherScheme::Ed25519, seed);
        let p = payer(&env, &format!("payer{seed}")).await;
        let id = open(&env, &p, &payee, &key, 1_000_000_000).await;
        writeln!(out.lock().unwrap(), "channel {id} {seed}").unwrap();
        channels.push((id, key));
    }
    let mut tasks = vec![];
    for (id, key) in channels {
        let (wt, out, contract) = (wt.clone(), out.clone(), env.contract.clone());
        tasks.push(tokio::spawn(async move {
            for amount in 1..=1_000_000u128 {
                let v = Voucher {
                    chain_id: "wevalue-test".into(),
                    contract: contract.clone(),
                    channel_id: id,
                    amount: Uint128::new(amount),
                    hashlock: None,
                    expiry: None,
                };
                let req = VoucherRequest {
                    channel_id: id,
                    amount: v.amount,
                    hashlock: None,
                    expiry: None,
                    signature: Binary::from(key.sign(&v).unwrap().to_vec()),
                    preimage: None,
                };
                wt.accept_voucher(req).await.unwrap();
                // Printed only once durable: the parent counts it as acknowledged.
                let mut o = out.lock().unwrap();
                writeln!(o, "ack {id} {amount}").unwrap();
                o.flush().unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[test]
fn acknowledged_vouchers_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relayer.sqlite");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash::sigkill_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut contract = String::new();
    let mut seeds: HashMap<u64, u64> = HashMap::new();
    let mut acked: HashMap<u64, u128> = HashMap::new();
    let mut count = 0u64;
    let mut killed = false;
    for line in lines.by_ref() {
        let line = line.unwrap();
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            ["contract", addr] => contract = addr.to_string(),
            ["channel", id, seed] => {
                seeds.insert(id.parse().unwrap(), seed.parse().unwrap());
            }
            ["ack", id, amount] => {
                let (id, amount): (u64, u128) = (id.parse().unwrap(), amount.parse().unwrap());
                let best = acked.entry(id).or_default();
                assert_eq!(amount, *best + 1, "channel {id}: acknowledged in order");
                *best = amount;
                count += 1;
                // Mid-stream: the writer is busy with the next batches.
                if count == 4_000 && !killed {
                    child.kill().unwrap();
                    killed = true;
                }
            }
            _ => {}
        }
    }
    let status = child.wait().unwrap();
    assert!(
        killed,
        "the child ended before 4,000 acknowledgements: {status:?}"
    );
    assert!(!status.success(), "the child was killed, not finished");
    assert_eq!(seeds.len() as u64, PAYERS);
    assert_eq!(
        acked.len() as u64,
        PAYERS,
        "every payer got acknowledgements"
    );
    assert!(count >= 4_000);

    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT channel_id, amount, signature FROM watchtower_vouchers WHERE contract = ?1",
        )
        .unwrap();
    let stored: HashMap<u64, (u128, Vec<u8>)> = stmt
        .query_map([&contract], |r| {
            let amount: String = r.get(1)?;
            Ok((
                r.get::<_, i64>(0)? as u64,
                (amount.parse::<u128>().unwrap(), r.get::<_, Vec<u8>>(2)?),
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (id, best_acked) in &acked {
        let (amount, signature) = stored
            .get(id)
            .unwrap_or_else(|| panic!("channel {id}: no voucher stored after SIGKILL"));
        assert!(
            amount >= best_acked,
            "channel {id}: {best_acked} was acknowledged, only {amount} survived"
        );
        let v = Voucher {
            chain_id: "wevalue-test".into(),
            contract: contract.clone(),
            channel_id: *id,
            amount: Uint128::new(*amount),
            hashlock: None,
            expiry: None,
        };
        let key = signer(VoucherScheme::Ed25519, seeds[id]);
        wevalue_voucher::sign::verify(
            VoucherScheme::Ed25519,
            &key.public_key(),
            &v,
            signature,
            "wasm",
        )
        .unwrap_or_else(|e| panic!("channel {id}: the stored signature does not verify: {e}"));
    }
}
