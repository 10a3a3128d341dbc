//! Frames per second through the codec and chunks per second through the
//! two state machines, on one core, by wall time and by this thread's
//! on-CPU time (`/proc/thread-self/schedstat`, meaningful on a shared
//! machine).
//!
//! Run: `cargo run --release -p wevalue-sdpp --example sdpp-bench`

use std::hint::black_box;
use std::time::{Duration, Instant};

use wevalue_sdpp::crypto::{ChannelKey, ChannelKeySigner};
use wevalue_sdpp::frame::{decode, Data, Frame, Voucher};
use wevalue_sdpp::handshake::{Certificate, ChannelRef, GatewayProof, Hex, Offer, Scheme, Terms};
use wevalue_sdpp::{
    Amount, Asset, BuyerConfig, BuyerSession, ChannelSigner, ChannelVerifier, GatewaySigner,
    GatewayVerifier, Price, PricingModel, SellerConfig, SellerSession, SignatureError,
};

fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Runs `op` (which handles `per_call` items) for about `budget`; prints a
/// table row and returns items per on-CPU second.
fn measure(label: &str, per_call: u64, budget: Duration, mut op: impl FnMut(u64)) -> f64 {
    for i in 0..100 {
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
    let c = if cpu > 0.0 { n / cpu } else { f64::NAN };
    println!("| {label} | {:.0} | {c:.0} | {:.2} |", n / wall, 1e6 / c);
    c
}

/// Signs and verifies nothing: isolates the state machines.
struct NoCrypto;
impl ChannelSigner for NoCrypto {
    fn sign_voucher(&self, _: u128) -> Result<[u8; 64], SignatureError> {
        Ok([0; 64])
    }
    fn sign_accept(&self, _: &[u8]) -> Result<[u8; 64], SignatureError> {
        Ok([0; 64])
    }
}
impl ChannelVerifier for NoCrypto {
    fn verify_voucher(&self, _: u128, _: &[u8; 64]) -> Result<(), SignatureError> {
        Ok(())
    }
    fn verify_accept(&self, _: &[u8], _: &[u8; 64]) -> Result<(), SignatureError> {
        Ok(())
    }
}
impl GatewaySigner for NoCrypto {
    fn proof(&self) -> GatewayProof {
        GatewayProof {
            key: Hex([0; 32]),
            certificate: Certificate {
                seller_pubkey: Hex([2; 33]),
                not_after: 0,
                signature: Hex([0; 64]),
            },
        }
    }
    fn sign_offer(&self, _: &[u8]) -> Result<[u8; 64], SignatureError> {
        Ok([0; 64])
    }
}
impl GatewayVerifier for NoCrypto {
    fn verify_offer(&self, _: &Offer, _: u64) -> Result<(), SignatureError> {
        Ok(())
    }
}

const CHAIN: &str = "wevalue-1";
const CHANNELS: &str = "wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s0phg4d";

fn sessions(model: PricingModel, window: u64) -> (SellerSession, BuyerSession) {
    let channel = ChannelRef {
        contract: CHANNELS.into(),
        id: 12,
        scheme: Scheme::Ed25519,
    };
    let terms = Terms {
        license: "CC-BY-4.0".into(),
        terms_hash: Hex([0xd0; 32]),
    };
    let price = Price {
        asset: Asset::Native("ustake".into()),
        amount: Amount(1),
        model,
    };
    let (registry, seller) = ("wasm1registry0", "wasm1seller0");
    let mut s = SellerSession::new(
        SellerConfig {
            chain_id: CHAIN.into(),
            registry: registry.into(),
            listing_id: 1,
            seller: seller.into(),
            terms: terms.clone(),
            price: price.clone(),
            channel: channel.clone(),
            deposit: u128::MAX,
            credit_window: window,
            max_payload: 65_536,
            max_in_flight: 1_024,
            payment_timeout_ms: 30_000,
        },
        None,
    )
    .unwrap();
    let mut b = BuyerSession::new(
        BuyerConfig {
            chain_id: CHAIN.into(),
            registry: registry.into(),
            listing_id: 1,
            seller: seller.into(),
            terms,
            price,
            channel,
            deposit: u128::MAX,
            max_amount: None,
            max_payload: 65_536,
            pay_at_percent: 50,
            idle_pay_ms: 1_000,
        },
        None,
    )
    .unwrap();
    let offer = s
        .on_hello(&b.hello([1; 32]).to_json(), [2; 32], &NoCrypto)
        .unwrap();
    let accept = b
        .on_offer(&offer.to_json(), 0, 0, &NoCrypto, &NoCrypto)
        .unwrap();
    s.on_accept(&accept.to_json(), &NoCrypto, 0).unwrap();
    (s, b)
}

/// One chunk through both machines, with the vouchers, acks and receipts
/// the buyer's policy and the seller produce along the way.
fn step(
    s: &mut SellerSession,
    b: &mut BuyerSession,
    signer: &dyn ChannelSigner,
    key: &dyn ChannelVerifier,
    payload: &[u8],
    wire: &mut Vec<u8>,
) {
    wire.clear();
    s.send_data(0, 0, payload, wire).unwrap();
    black_box(b.on_frame(wire, 0).unwrap());
    loop {
        wire.clear();
        if b.poll_transmit(0, signer, wire).unwrap().is_none() {
            break;
        }
        s.on_frame(wire, key).unwrap();
        wire.clear();
        while s.poll_transmit(0, wire).is_some() {
            b.on_frame(wire, 0).unwrap();
            wire.clear();
        }
    }
}

fn main() {
    let budget = Duration::from_secs(2);
    println!("| operation | per second (wall) | per second (on-CPU, one core) | µs each (CPU) |");
    println!("|---|---:|---:|---:|");
    let mut out = Vec::with_capacity(70_000);
    for len in [64usize, 1_024, 16_384] {
        let payload = vec![0x5a; len];
        measure(&format!("DATA {len} B: encode + decode"), 1, budget, |i| {
            out.clear();
            Frame::Data(Data {
                seq: i,
                timestamp_ms: i,
                units: 1,
                payload: &payload,
            })
            .encode(&mut out)
            .unwrap();
            black_box(decode(black_box(&out)).unwrap());
        });
    }
    measure("VOUCHER: encode + decode", 1, budget, |i| {
        out.clear();
        Frame::Voucher(Voucher {
            channel_id: 12,
            ack_seq: i,
            amount: u128::from(i),
            signature: [7; 64],
        })
        .encode(&mut out)
        .unwrap();
        black_box(decode(black_box(&out)).unwrap());
    });
    let payload = vec![0x5a; 64];
    for (model, window, label) in [
        (PricingModel::PerMessage, 100, "per message, window 100"),
        (PricingModel::PerKilobyte, 100, "per kilobyte, window 100"),
        (PricingModel::PerSecond, 100, "per second, window 100"),
    ] {
        let (mut s, mut b) = sessions(model, window);
        let mut wire = Vec::with_capacity(256);
        measure(
            &format!("session step, 64 B chunk, {label}, no crypto"),
            1,
            budget,
            |_| step(&mut s, &mut b, &NoCrypto, &NoCrypto, &payload, &mut wire),
        );
    }
    let signer =
        ChannelKeySigner::from_secret(Scheme::Ed25519, [3; 32], "wasm", CHAIN, CHANNELS, 12)
            .unwrap();
    let key = ChannelKey::new(
        CHAIN,
        CHANNELS,
        12,
        Scheme::Ed25519,
        &signer.public_key(),
        "wasm",
    )
    .unwrap();
    for window in [2u64, 20, 200] {
        let (mut s, mut b) = sessions(PricingModel::PerMessage, window);
        let mut wire = Vec::with_capacity(256);
        let per_voucher = (window / 2).max(1);
        measure(
            &format!("session step, ed25519 voucher every {per_voucher} chunks (sign + verify)"),
            1,
            budget,
            |_| step(&mut s, &mut b, &signer, &key, &payload, &mut wire),
        );
    }
}
