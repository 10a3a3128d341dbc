//! Voucher signing and verification per scheme on one core, in vouchers
//! per second (criterion reports elements/s). Target: >= 20,000 ed25519
//! verifications per second.

use cosmwasm_std::Uint128;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use wevalue_voucher::sign::{verify, verify_ed25519_batch, Ed25519Verifier, VoucherSigner};
use wevalue_voucher::{Hashlock, Voucher, VoucherScheme};

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

fn schemes(c: &mut Criterion) {
    for scheme in [
        VoucherScheme::Ed25519,
        VoucherScheme::Secp256k1,
        VoucherScheme::Adr036,
    ] {
        let signer = VoucherSigner::from_secret(scheme, [5; 32], "wasm").unwrap();
        let pk = signer.public_key();
        let mut group = c.benchmark_group(format!("{scheme}"));
        group.throughput(Throughput::Elements(1));
        let mut n = 0u128;
        group.bench_function("sign", |b| {
            b.iter(|| {
                n += 1;
                signer.sign(&voucher(n)).unwrap()
            })
        });
        let v = voucher(1_000);
        let sig = signer.sign(&v).unwrap();
        group.bench_function("verify", |b| {
            b.iter(|| verify(scheme, &pk, &v, &sig, "wasm").unwrap())
        });
        if scheme == VoucherScheme::Ed25519 {
            let prepared = Ed25519Verifier::new(&pk).unwrap();
            group.bench_function("verify_prepared_key", |b| {
                b.iter(|| prepared.verify(&v, &sig).unwrap())
            });
        }
        group.finish();
    }

    // Batch verification of 50 ed25519 vouchers from 50 payers, as a
    // settlement batch would carry them.
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
    let mut group = c.benchmark_group("ed25519");
    group.throughput(Throughput::Elements(50));
    group.bench_function("verify_batch_50", |b| {
        b.iter_batched(
            || {
                let s: Vec<&[u8]> = sigs.iter().map(|s| s.as_slice()).collect();
                let p: Vec<&[u8]> = pks.iter().map(Vec::as_slice).collect();
                (s, p)
            },
            |(s, p)| verify_ed25519_batch(&vouchers, &s, &p).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, schemes);
criterion_main!(benches);
