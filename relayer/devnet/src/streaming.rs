//! The data purchase: a payment channel from the buyer to the seller, a
//! stream of signed vouchers to the seller's watchtower, batch settlement,
//! and a stale close that the watchtower defends.

use std::time::{Duration, Instant};

use cosmwasm_std::Uint128;
use serde_json::{json, Value};
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{Voucher, VoucherScheme};

use super::chaos::Chaos;
use super::net::{check, Net};
use super::relayers::Relayers;
use super::report::Figures;
use super::scenario::{coins, CHANNEL_DEPOSIT};
use super::{DevnetError, DevnetOptions};
use relayer_watchtower::http::VoucherRequest;

type HttpClient = reqwest::Client;

/// Posts one voucher; retries while the watchtower is down (a restart).
async fn post_voucher(
    client: &HttpClient,
    relayers: &Relayers,
    request: &VoucherRequest,
) -> Result<(), DevnetError> {
    let body = serde_json::to_vec(request).map_err(|e| DevnetError::Scenario(e.to_string()))?;
    let mut last = String::new();
    for attempt in 0..200u32 {
        let uri = format!("http://{}/v1/vouchers", relayers.city().voucher_api);
        let sent = client
            .post(uri)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(resp) => {
                let status = resp.status();
                let bytes = resp.bytes().await.unwrap_or_default();
                if status.is_success() {
                    return Ok(());
                }
                last = format!("{status}: {}", String::from_utf8_lossy(&bytes));
                // Only "service unavailable" is worth retrying.
                if status != reqwest::StatusCode::SERVICE_UNAVAILABLE {
                    break;
                }
            }
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt.min(20)) + 5)).await;
    }
    Err(DevnetError::Service {
        service: "watchtower",
        reason: format!(
            "voucher {} for channel {} refused: {last}",
            request.amount, request.channel_id
        ),
    })
}

/// Claimed so far on a channel, per the contract.
async fn claimed(net: &Net, channel: u64) -> Result<u128, DevnetError> {
    let c: Value = net
        .query(
            "payment-channel",
            &json!({ "channel": { "channel_id": channel } }),
        )
        .await?;
    Ok(c["claimed"].as_str().unwrap_or("0").parse().unwrap_or(0))
}

/// Opens the channel, streams vouchers, settles, defends a stale close.
pub(super) async fn run(
    net: &mut Net,
    options: &DevnetOptions,
    relayers: &mut Relayers,
    chaos: &mut Chaos,
    listing: u64,
    figures: &mut Figures,
) -> Result<(), DevnetError> {
    let listing_info: Value = net
        .query("data-registry", &json!({ "listing": { "id": listing } }))
        .await?;
    let price: u128 = listing_info["price"]["amount"]
        .as_str()
        .unwrap_or("1")
        .parse()
        .unwrap_or(1);
    let seller_label = "air-seller";
    let seller = net.addr(seller_label)?;

    net.step("The seller authorizes the city relayer as watchtower; the buyer opens a channel")?;
    let tower = relayers.city().account.clone();
    net.exec(
        seller_label,
        "payment-channel",
        &json!({ "authorize_watchtower": { "watchtower": tower } }),
        vec![],
    )
    .await?;
    let key = VoucherSigner::from_secret(
        VoucherScheme::Ed25519,
        wevalue_voucher::sha256(format!("devnet-{}-buyer-voucher-key", options.seed).as_bytes()),
        "wasm",
    )
    .map_err(|e| DevnetError::Scenario(e.to_string()))?;
    let out = net
        .exec(
            "buyer",
            "payment-channel",
            &json!({ "open": {
                "payee": seller,
                "pubkey": cosmwasm_std::Binary::from(key.public_key()),
                "scheme": "ed25519",
                "challenge_period": null
            } }),
            coins(CHANNEL_DEPOSIT),
        )
        .await?;
    let channel: u64 = relayer_core::chain::find_attr(&out.events, "wasm", "channel_id")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| DevnetError::Check("open emitted no channel_id".into()))?;
    let seller_before = net.balance(seller_label).await?;
    let buyer_before = net.balance("buyer").await?;
    net.note(format!(
        "channel #{channel}: {CHANNEL_DEPOSIT} ustake deposited, ed25519 voucher key"
    ));

    net.step("The buyer streams vouchers to the seller's watchtower, which settles in batches")?;
    let mut client: HttpClient = HttpClient::new();
    let (chain_id, contract) = (net.chain_id.clone(), net.contract("payment-channel")?);
    let sign = |amount: u128| -> Result<VoucherRequest, DevnetError> {
        let voucher = Voucher {
            chain_id: chain_id.clone(),
            contract: contract.clone(),
            channel_id: channel,
            amount: Uint128::new(amount),
            hashlock: None,
            expiry: None,
        };
        let signature = key
            .sign(&voucher)
            .map_err(|e| DevnetError::Scenario(e.to_string()))?;
        Ok(VoucherRequest {
            channel_id: channel,
            amount: voucher.amount,
            hashlock: None,
            expiry: None,
            signature: signature.to_vec().into(),
            preimage: None,
        })
    };
    let n = u128::from(options.vouchers);
    // Sign first, so the rate below is the watchtower's, not the signer's.
    let requests: Vec<VoucherRequest> =
        (1..=n).map(|i| sign(i * price)).collect::<Result<_, _>>()?;
    let started = Instant::now();
    let mut paused = Duration::ZERO;
    for (i, request) in requests.iter().enumerate() {
        post_voucher(&client, relayers, request).await?;
        if i % 97 == 96 {
            let at = Instant::now();
            if chaos.point(relayers).await? {
                client = HttpClient::new();
            }
            paused += at.elapsed();
        }
    }
    let elapsed = started.elapsed().saturating_sub(paused);
    figures.vouchers_sent = options.vouchers.into();
    figures.vouchers_per_sec = options.vouchers as f64 / elapsed.as_secs_f64().max(1e-9);
    let best = n * price;
    // The bridge settles by amount and age; wait for it to catch up.
    for _ in 0..2_000 {
        if claimed(net, channel).await? == best {
            break;
        }
        if chaos.point(relayers).await? {
            client = HttpClient::new();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let settled = claimed(net, channel).await?;
    check(settled == best, || {
        format!("the bridge should have settled {best}, claimed is {settled}")
    })?;
    net.note(format!(
        "{} vouchers acknowledged at {:.0}/s (HTTP + ed25519 verify + fsync'ed SQLite); best {best} ustake, all settled",
        options.vouchers, figures.vouchers_per_sec
    ));

    net.step("The buyer starts a close on a stale state; the watchtower defends it")?;
    // More data flows after the last settlement ...
    let extra = 25u128;
    for i in 1..=extra {
        post_voucher(&client, relayers, &sign(best + i * price)?).await?;
    }
    let final_best = best + extra * price;
    // ... and the buyer tries to leave with it unpaid.
    let claimed_at_close = claimed(net, channel).await?;
    check(claimed_at_close < final_best, || {
        format!("the close should start on a stale state: {claimed_at_close} of {final_best} claimed already")
    })?;
    net.exec(
        "buyer",
        "payment-channel",
        &json!({ "start_close": { "channel_id": channel } }),
        vec![],
    )
    .await?;
    for _ in 0..2_000 {
        if claimed(net, channel).await? == final_best {
            break;
        }
        chaos.point(relayers).await?;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(client);
    let defended = claimed(net, channel).await?;
    check(defended == final_best, || {
        format!("the watchtower should have claimed {final_best} during the challenge window, claimed is {defended}")
    })?;
    let c: Value = net
        .query("payment-channel", &json!({ "config": {} }))
        .await?;
    let window = c["min_challenge_period"].as_u64().unwrap_or(600);
    net.advance(window + 1).await?;
    net.exec(
        "buyer",
        "payment-channel",
        &json!({ "finalize": { "channel_id": channel } }),
        vec![],
    )
    .await?;
    let seller_got = net.balance(seller_label).await? - seller_before;
    let buyer_back = net.balance("buyer").await? - buyer_before;
    check(seller_got == final_best, || {
        format!("seller should have received {final_best}, got {seller_got}")
    })?;
    check(buyer_back == CHANNEL_DEPOSIT - final_best, || {
        format!(
            "buyer should get back {}, got {buyer_back}",
            CHANNEL_DEPOSIT - final_best
        )
    })?;
    figures.stale_closes_defended += 1;
    net.note(format!(
        "close started with {claimed_at_close} claimed of {final_best} owed; the watchtower claimed the rest inside the {window} s window"
    ));
    net.note(format!(
        "finalized: seller received {seller_got}, buyer refunded {buyer_back} ustake"
    ));

    // Vouchers are cumulative: each claim settles every voucher streamed
    // on its channel since the previous one. The claim txs are counted at
    // the end of the run, when the watchtower has recorded every outcome.
    figures.vouchers_settled = u64::from(options.vouchers) + extra as u64;
    Ok(())
}

/// The watchtower's claim txs (count, gas) into the figures.
pub(super) fn settlement_figures(
    relayers: &Relayers,
    figures: &mut Figures,
) -> Result<(), DevnetError> {
    let (txs, gas, _) = super::relayers::outbox_done(&relayers.city().db, "watchtower/")?;
    figures.settlement_txs = txs;
    figures.gas_per_settled_voucher = gas.checked_div(figures.vouchers_settled).unwrap_or(0);
    Ok(())
}
