//! Checks `test-vectors.json`: every entry's sign bytes, ADR-036 sign doc,
//! signed message and signature, with the crypto the chain's VM uses
//! (`MockApi` calls `cosmwasm-crypto`). With `--features sign`, signing
//! must also reproduce each signature exactly.

use cosmwasm_std::testing::MockApi;
use cosmwasm_std::Api;
use serde::Deserialize;
use wevalue_voucher::{adr036_sign_doc, sha256, Voucher, VoucherScheme, DOMAIN};

#[derive(Deserialize)]
struct File {
    domain: String,
    vectors: Vec<Vector>,
    invalid_vouchers: Vec<Invalid>,
}

#[derive(Deserialize)]
struct Invalid {
    name: String,
    voucher: serde_json::Value,
    reason: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Vector {
    name: String,
    scheme: VoucherScheme,
    secret_key: String,
    public_key: String,
    hashlock_preimage: Option<String>,
    bech32_prefix: String,
    signer_address: String,
    voucher: Voucher,
    sign_bytes: String,
    adr036_sign_doc: Option<String>,
    signed_message: String,
    signature: String,
}

fn load() -> File {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/test-vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("vector file")).expect("valid JSON")
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

#[test]
fn vectors_cover_every_scheme_with_and_without_options() {
    let file = load();
    assert_eq!(file.domain.as_bytes(), DOMAIN);
    for scheme in [
        VoucherScheme::Secp256k1,
        VoucherScheme::Ed25519,
        VoucherScheme::Adr036,
    ] {
        let of_scheme: Vec<_> = file.vectors.iter().filter(|v| v.scheme == scheme).collect();
        assert!(of_scheme
            .iter()
            .any(|v| v.voucher.hashlock.is_none() && v.voucher.expiry.is_none()));
        assert!(of_scheme
            .iter()
            .any(|v| v.voucher.hashlock.is_some() && v.voucher.expiry.is_some()));
    }
}

#[test]
fn hashlocks_of_other_lengths_are_not_vouchers() {
    let file = load();
    assert_eq!(file.invalid_vouchers.len(), 3);
    for bad in file.invalid_vouchers {
        let e = serde_json::from_value::<Voucher>(bad.voucher).unwrap_err();
        assert!(e.to_string().contains(&bad.reason), "{}: {e}", bad.name);
    }
}

#[test]
fn preimages_open_the_hashlocks() {
    for v in load().vectors {
        match (&v.voucher.hashlock, &v.hashlock_preimage) {
            (Some(lock), Some(preimage)) => {
                assert!(lock.is_opened_by(&unhex(preimage)), "{}", v.name);
                // The encoding carries the 32 lock bytes right after its tag.
                let bytes = v.voucher.sign_bytes();
                let at = bytes.len() - 9 - 32;
                assert_eq!(bytes[at - 1], 1, "{}", v.name);
                assert_eq!(&bytes[at..at + 32], lock.as_bytes(), "{}", v.name);
            }
            (None, None) => {}
            _ => panic!("{}: a preimage goes with a hashlock", v.name),
        }
    }
}

#[test]
fn sign_bytes_and_signatures_match() {
    let api = MockApi::default();
    for v in load().vectors {
        let bytes = v.voucher.sign_bytes();
        assert_eq!(hex::encode(&bytes), v.sign_bytes, "{}: sign bytes", v.name);
        let pk = unhex(&v.public_key);
        v.scheme.check_pubkey(&pk).unwrap();
        let sig = unhex(&v.signature);
        let signed = unhex(&v.signed_message);
        match v.scheme {
            VoucherScheme::Ed25519 => {
                assert_eq!(signed, bytes, "{}", v.name);
                assert!(
                    api.ed25519_verify(&signed, &sig, &pk).unwrap(),
                    "{}",
                    v.name
                );
            }
            VoucherScheme::Secp256k1 => {
                assert_eq!(signed, sha256(&bytes), "{}", v.name);
                assert!(
                    api.secp256k1_verify(&signed, &sig, &pk).unwrap(),
                    "{}",
                    v.name
                );
            }
            VoucherScheme::Adr036 => {
                let doc = adr036_sign_doc(&v.signer_address, &bytes);
                assert_eq!(Some(&doc), v.adr036_sign_doc.as_ref(), "{}", v.name);
                assert_eq!(signed, sha256(doc.as_bytes()), "{}", v.name);
                assert!(
                    api.secp256k1_verify(&signed, &sig, &pk).unwrap(),
                    "{}",
                    v.name
                );
                let hrp = MockApi::default().with_prefix("wasm");
                let canonical =
                    cosmwasm_std::CanonicalAddr::from(wevalue_voucher::account_id(&pk).to_vec());
                assert_eq!(
                    hrp.addr_humanize(&canonical).unwrap().as_str(),
                    v.signer_address
                );
                assert!(v
                    .signer_address
                    .starts_with(&format!("{}1", v.bech32_prefix)));
            }
        }
        // A different amount must not verify.
        let mut other = v.voucher.clone();
        other.amount += cosmwasm_std::Uint128::one();
        let other_bytes = other.sign_bytes();
        let ok = match v.scheme {
            VoucherScheme::Ed25519 => api.ed25519_verify(&other_bytes, &sig, &pk).unwrap(),
            VoucherScheme::Secp256k1 => api
                .secp256k1_verify(&sha256(&other_bytes), &sig, &pk)
                .unwrap(),
            VoucherScheme::Adr036 => {
                let doc = adr036_sign_doc(&v.signer_address, &other_bytes);
                api.secp256k1_verify(&sha256(doc.as_bytes()), &sig, &pk)
                    .unwrap()
            }
        };
        assert!(!ok, "{}: changed amount still verifies", v.name);
    }
}

#[cfg(feature = "sign")]
#[test]
fn signing_reproduces_the_vectors() {
    use wevalue_voucher::sign::{verify, VoucherSigner};
    for v in load().vectors {
        let secret: [u8; 32] = unhex(&v.secret_key).try_into().unwrap();
        let signer = VoucherSigner::from_secret(v.scheme, secret, &v.bech32_prefix).unwrap();
        assert_eq!(hex::encode(signer.public_key()), v.public_key, "{}", v.name);
        assert_eq!(signer.signer_address(), v.signer_address, "{}", v.name);
        assert_eq!(
            hex::encode(signer.sign(&v.voucher).unwrap()),
            v.signature,
            "{}",
            v.name
        );
        verify(
            v.scheme,
            &signer.public_key(),
            &v.voucher,
            &unhex(&v.signature),
            &v.bech32_prefix,
        )
        .unwrap();
    }
}
