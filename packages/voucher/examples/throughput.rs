//! Vouchers per second on one core, per scheme, for signing and
//! verification, measured by wall time and by this thread's on-CPU time
//! (`/proc/thread-self/schedstat`), which stays meaningful on a shared,
//! oversubscribed machine. Complements the criterion benchmark.
//!
//! Run: `cargo run --release -p wevalue-voucher --features sign --example throughput`

use std::time::{Duration, Instant};

use cosmwasm_std::Uint128;
use wevalue_voucher::sign::{verify, verify_ed25519_batch, Ed25519Verifier, VoucherSigner};
use wevalue_voucher::{Hashlock, Voucher, VoucherScheme};

fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn voucher(amount: u128) -> Voucher {
    Voucher {
        chain_id: "wevalue-1".into(),
        contract: "wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s0phg4d".into(),
        channel_id: 12,
        amount: Uint128::new(amount),
        hashlock: Some(Hashlock::of_preimage(b"secret")),
        expiry: Some(1_700_000_000),
    }
}

/// Runs `op` (which handles `per_call` vouchers) for about `budget`;
/// prints and returns (wall, cpu) vouchers per second.
fn measure(label: &str, per_call: u64, budget: Duration, mut op: impl FnMut(u64)) -> (f64, f64) {
    for i in 0..50 {
        op(i);
    }
    let (t0, c0) = (Instant::now(), cpu_ns());
    let mut calls = 0u64;
    while t0.elapsed() < budget {
        op(calls);
        calls += 1;
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = (cpu_ns() - c0) as f64 / 1e9;
    let n = (calls * per_call) as f64;
    let (w, c) = (n / wall, if cpu > 0.0 { n / cpu } else { f64::NAN });
    println!("| {label} | {w:.0} | {c:.0} | {:.1} |", 1e6 / c);
    (w, c)
}

fn main() {
    let budget = Duration::from_secs(3);
    println!(
        "| operation | vouchers/s (wall) | vouchers/s (on-CPU, one core) | µs per voucher (CPU) |"
    );
    println!("|---|---:|---:|---:|");
    let mut ed_verify = 0.0;
    for scheme in [
        VoucherScheme::Ed25519,
        VoucherScheme::Secp256k1,
        VoucherScheme::Adr036,
    ] {
        let signer = VoucherSigner::from_secret(scheme, [5; 32], "wasm").unwrap();
        let pk = signer.public_key();
        measure(&format!("{scheme} sign"), 1, budget, |i| {
            signer.sign(&voucher(u128::from(i))).unwrap();
        });
        let v = voucher(1_000);
        let sig = signer.sign(&v).unwrap();
        let (_, c) = measure(&format!("{scheme} verify"), 1, budget, |_| {
            verify(scheme, &pk, &v, &sig, "wasm").unwrap();
        });
        if scheme == VoucherScheme::Ed25519 {
            ed_verify = c;
            let prepared = Ed25519Verifier::new(&pk).unwrap();
            measure("ed25519 verify, key parsed once", 1, budget, |_| {
                prepared.verify(&v, &sig).unwrap();
            });
        }
    }
    let signers: Vec<_> = (0..50u8)
        .map(|i| VoucherSigner::from_secret(VoucherScheme::Ed25519, [i + 1; 32], "").unwrap())
        .collect();
    let vouchers: Vec<_> = (0..50).map(|i| voucher(1_000 + i)).collect();
    let sigs: Vec<[u8; 64]> = signers
        .iter()
        .zip(&vouchers)
        .map(|(s, v)| s.sign(v).unwrap())
        .collect();
    let pks: Vec<Vec<u8>> = signers.iter().map(VoucherSigner::public_key).collect();
    let sig_refs: Vec<&[u8]> = sigs.iter().map(|s| s.as_slice()).collect();
    let pk_refs: Vec<&[u8]> = pks.iter().map(Vec::as_slice).collect();
    let (_, batch) = measure("ed25519 batch verify (50 per batch)", 50, budget, |_| {
        verify_ed25519_batch(&vouchers, &sig_refs, &pk_refs).unwrap();
    });
    println!();
    let verdict = |x: f64| if x >= 20_000.0 { "met" } else { "MISSED" };
    println!("target {}: ed25519 verifications per second on one core (single) = {ed_verify:.0} (>= 20000)", verdict(ed_verify));
    println!("target {}: ed25519 verifications per second on one core (batches of 50) = {batch:.0} (>= 20000)", verdict(batch));
}
