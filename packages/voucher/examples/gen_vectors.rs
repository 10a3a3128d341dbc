//! Writes `test-vectors.json`: for each scheme, vouchers with and without a
//! hashlock and an expiry, from fixed secrets, with their sign bytes and
//! (deterministic) signatures; and vouchers that must be refused before any
//! signature check (hashlocks that are not 32 bytes). `tests/vectors.rs`
//! checks the file.

use cosmwasm_std::Uint128;
use serde_json::{json, Value};
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{adr036_sign_doc, sha256, Hashlock, Voucher, VoucherScheme, DOMAIN};

const PREIMAGE: &[u8] = b"wevalue hub secret";

const PREFIX: &str = "wasm";
const CONTRACT: &str = "wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s0phg4d";

fn vector(name: &str, scheme: VoucherScheme, secret: [u8; 32], voucher: Voucher) -> Value {
    let signer = VoucherSigner::from_secret(scheme, secret, PREFIX).expect("valid secret");
    let sign_bytes = voucher.sign_bytes();
    let signature = signer.sign(&voucher).expect("signs");
    let (signed, doc) = match scheme {
        VoucherScheme::Secp256k1 => (sha256(&sign_bytes).to_vec(), Value::Null),
        VoucherScheme::Ed25519 => (sign_bytes.clone(), Value::Null),
        VoucherScheme::Adr036 => {
            let doc = adr036_sign_doc(&signer.signer_address(), &sign_bytes);
            (sha256(doc.as_bytes()).to_vec(), Value::String(doc))
        }
    };
    let preimage = voucher
        .hashlock
        .map(|_| Value::String(hex::encode(PREIMAGE)))
        .unwrap_or(Value::Null);
    json!({
        "name": name,
        "hashlock_preimage": preimage,
        "scheme": scheme,
        "secret_key": hex::encode(secret),
        "public_key": hex::encode(signer.public_key()),
        "bech32_prefix": PREFIX,
        "signer_address": signer.signer_address(),
        "voucher": voucher,
        "sign_bytes": hex::encode(&sign_bytes),
        "adr036_sign_doc": doc,
        "signed_message": hex::encode(signed),
        "signature": hex::encode(signature),
    })
}

fn main() {
    let plain = |channel_id, amount: u128| Voucher {
        chain_id: "wevalue-1".into(),
        contract: CONTRACT.into(),
        channel_id,
        amount: Uint128::new(amount),
        hashlock: None,
        expiry: None,
    };
    let locked = |channel_id, amount| Voucher {
        hashlock: Some(Hashlock::of_preimage(PREIMAGE)),
        expiry: Some(1_700_003_600),
        ..plain(channel_id, amount)
    };
    let vectors = vec![
        vector(
            "secp256k1 plain",
            VoucherScheme::Secp256k1,
            [0x11; 32],
            plain(1, 1_000_000),
        ),
        vector(
            "secp256k1 hashlock+expiry",
            VoucherScheme::Secp256k1,
            [0x11; 32],
            locked(1, 1_250_000),
        ),
        vector(
            "ed25519 plain",
            VoucherScheme::Ed25519,
            [0x22; 32],
            plain(2, 42),
        ),
        vector(
            "ed25519 hashlock+expiry",
            VoucherScheme::Ed25519,
            [0x22; 32],
            locked(2, u128::from(u64::MAX) + 1),
        ),
        vector(
            "adr036 plain",
            VoucherScheme::Adr036,
            [0x33; 32],
            plain(3, 7),
        ),
        vector(
            "adr036 hashlock+expiry",
            VoucherScheme::Adr036,
            [0x33; 32],
            locked(3, 8),
        ),
    ];
    // A hashlock is exactly 32 bytes: anything else is not a voucher, so it
    // can be neither signed nor claimed (the sign bytes stay injective).
    let bad_lock = |name: &str, len: usize| {
        let mut v = serde_json::to_value(locked(1, 1_250_000)).expect("json");
        v["hashlock"] = Value::String("3e".repeat(len));
        json!({ "name": name, "voucher": v, "reason": format!("hashlock must be 32 bytes (sha256), got {len}") })
    };
    let invalid = vec![
        bad_lock("hashlock of 31 bytes", 31),
        bad_lock("hashlock of 33 bytes", 33),
        bad_lock("empty hashlock", 0),
    ];
    let doc = json!({
        "description": "WeValue payment-channel voucher test vectors (sign bytes v1). Hex fields are lower case; amount is a decimal string; expiry is unix seconds; hashlock is exactly 32 bytes (64 hex digits) and hashlock_preimage opens it. signed_message is what the signature is checked against: for secp256k1 the sha256 of sign_bytes, for adr036 the sha256 of adr036_sign_doc (both 32-byte digests for ECDSA), for ed25519 the sign_bytes themselves. invalid_vouchers must be refused when parsed (before any signature check).",
        "domain": String::from_utf8_lossy(DOMAIN),
        "vectors": vectors,
        "invalid_vouchers": invalid,
    });
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&doc).expect("json") + "\n",
    )
    .expect("writes");
    println!("wrote {}", path.display());
}
