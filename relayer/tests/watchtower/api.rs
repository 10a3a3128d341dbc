//! The voucher API: the best voucher accepted, every refusal named with its
//! typed JSON error, and hashlock preimages.

use super::*;

#[tokio::test]
async fn api_accepts_the_best_voucher_and_names_every_refusal() {
    let env = setup(BlockMode::OnDemand).await;
    let payee = env.payee.sender().to_string();
    let ed = signer(VoucherScheme::Ed25519, 1);
    let k1 = signer(VoucherScheme::Secp256k1, 2);
    let adr = signer(VoucherScheme::Adr036, 3);
    let p1 = payer(&env, "payer1").await;
    let ch = open(&env, &p1, &payee, &ed, 1_000).await;
    let ch_k1 = open(&env, &p1, &payee, &k1, 1_000).await;
    let ch_adr = open(&env, &p1, &payee, &adr, 1_000).await;
    let other = env.chain.addr_make("other-payee").await.unwrap();
    let ch_other = open(&env, &p1, &other, &ed, 1_000).await;
    let ch_closed = open(&env, &p1, &payee, &ed, 1_000).await;
    let payee_client = env.payee.clone();
    exec(
        &env,
        &payee_client,
        &ExecuteMsg::Close {
            channel_id: ch_closed,
            voucher: None,
            preimage: None,
            payout: None,
        },
        vec![],
    )
    .await;

    let store = Arc::new(Store::open_in_memory().unwrap());
    let wt = Arc::new(tower(&env, &store, config(&env), &clock()).await);
    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let (addr, _server) = wt.spawn_http(stop).unwrap();

    let now = env.deployer.latest_block().await.unwrap().time_nanos / 1_000_000_000;
    let good = voucher(&env, &ed, ch, 100, None, None);
    let mut forged = voucher(&env, &ed, ch, 200, None, None);
    forged.signature = voucher(&env, &ed, ch_other, 200, None, None).signature;
    let mut short_sig = voucher(&env, &ed, ch, 200, None, None);
    short_sig.signature = Binary::from(vec![1; 10]);
    let mut wrong_key = voucher(&env, &k1, ch, 200, None, None);
    wrong_key.signature = voucher(
        &env,
        &signer(VoucherScheme::Ed25519, 9),
        ch,
        200,
        None,
        None,
    )
    .signature;
    let lock = wevalue_voucher::sha256(b"secret").to_vec();
    let mut bad_preimage = voucher(&env, &ed, ch, 300, Some(lock.clone()), None);
    bad_preimage.preimage = Some(HexBinary::from(b"guess".to_vec()));
    let mut unknown_field = serde_json::to_value(&good).unwrap();
    unknown_field["nonce"] = json!(1);

    let cases: Vec<(&str, String, u16, Option<&str>)> = vec![
        ("first voucher", body(&good), 200, None),
        ("the same again is idempotent", body(&good), 200, None),
        (
            "lower amount",
            body(&voucher(&env, &ed, ch, 50, None, None)),
            409,
            Some("stale_voucher"),
        ),
        (
            "same amount, other terms",
            body(&voucher(&env, &ed, ch, 100, None, Some(now + 10_000))),
            409,
            Some("stale_voucher"),
        ),
        (
            "above the deposit",
            body(&voucher(&env, &ed, ch, 1_001, None, None)),
            422,
            Some("exceeds_deposit"),
        ),
        (
            "signed for another channel",
            body(&forged),
            422,
            Some("bad_signature"),
        ),
        (
            "short signature",
            body(&short_sig),
            422,
            Some("bad_signature"),
        ),
        ("another key", body(&wrong_key), 422, Some("bad_signature")),
        (
            "unknown channel",
            body(&voucher(&env, &ed, 999, 10, None, None)),
            404,
            Some("unknown_channel"),
        ),
        (
            "payee not served",
            body(&voucher(&env, &ed, ch_other, 10, None, None)),
            403,
            Some("payee_not_served"),
        ),
        (
            "closed channel",
            body(&voucher(&env, &ed, ch_closed, 10, None, None)),
            409,
            Some("channel_closed"),
        ),
        (
            "expired",
            body(&voucher(
                &env,
                &ed,
                ch,
                400,
                Some(lock.clone()),
                Some(now.saturating_sub(5)),
            )),
            422,
            Some("expired_voucher"),
        ),
        (
            "wrong preimage",
            body(&bad_preimage),
            422,
            Some("bad_preimage"),
        ),
        ("not json", "{".into(), 400, Some("malformed")),
        (
            "unknown field",
            unknown_field.to_string(),
            400,
            Some("malformed"),
        ),
        (
            "amount as a number",
            json!({"channel_id": ch, "amount": 5, "signature": ""}).to_string(),
            400,
            Some("malformed"),
        ),
        (
            "secp256k1 voucher",
            body(&voucher(&env, &k1, ch_k1, 10, None, None)),
            200,
            None,
        ),
        (
            "adr036 voucher",
            body(&voucher(&env, &adr, ch_adr, 20, None, None)),
            200,
            None,
        ),
        (
            "a higher voucher",
            body(&voucher(&env, &ed, ch, 250, None, None)),
            200,
            None,
        ),
        (
            "oversized body",
            format!("{{\"x\":\"{}\"}}", "a".repeat(20_000)),
            413,
            Some("body_too_large"),
        ),
    ];
    for (name, body, status, code) in cases {
        let (got, json) = post(addr, "/v1/vouchers", body).await;
        assert_eq!(got, status, "{name}: {json}");
        match code {
            Some(code) => {
                assert_eq!(json["code"], code, "{name}: {json}");
                assert!(
                    json["error"].as_str().is_some_and(|e| !e.is_empty()),
                    "{name}"
                );
            }
            None => assert!(json["best_amount"].is_string(), "{name}: {json}"),
        }
    }
    // Best amounts after the table.
    let (_, first) = post(
        addr,
        "/v1/vouchers",
        body(&voucher(&env, &ed, ch, 250, None, None)),
    )
    .await;
    assert_eq!(first["best_amount"], "250");
    assert_eq!(first["status"], "open");
    let (s, status) = get(addr, &format!("/v1/channels/{ch}")).await;
    assert_eq!(s, 200);
    assert_eq!(status["best"]["amount"], "250");
    assert_eq!(status["claimed"], "0");
    assert_eq!(status["unsettled"], "250");
    let (s, status) = get(addr, "/v1/channels/4242").await;
    assert_eq!((s, status["code"].as_str()), (404, Some("unknown_channel")));
    let (s, health) = get(addr, "/health").await;
    assert_eq!((s, health["status"].as_str()), (200, Some("ok")));
    // A preimage for an unknown hashlock is stored; a bad one is refused.
    let (s, pre) = post(
        addr,
        "/v1/preimages",
        json!({"preimage": hex::encode(b"secret")}).to_string(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(pre["hashlock"], hex::encode(&lock));
    let (s, pre) = post(addr, "/v1/preimages", json!({"preimage": ""}).to_string()).await;
    assert_eq!((s, pre["code"].as_str()), (422, Some("bad_preimage")));
}
