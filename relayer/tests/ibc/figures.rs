//! Issue 14 §4's figures on the two chains (printed as `FIGURE` lines):
//! the gas of a claim with an IBC payout against the same claim paid out
//! locally, and payouts relayed per minute when 100 sellers settle at once
//! (each claim with its own payout, Hermes relaying, the bridge following
//! every payout to its acknowledgement), with the per-payout latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cosmwasm_std::Coin;
use futures_util::future::join_all;
use relayer::chain::{self, ChainMsg, ChainStatus, TxClient};
use relayer::cosmos::CosmosClient;
use relayer::keys::Signer;
use relayer::services::bridge::{Bridge, BridgeConfig, HermesConfig, PayoutStatus};
use relayer::store::Store;
use serde_json::{json, Value};

use crate::net::*;

const SELLERS: u32 = 100;
const AMOUNT: u128 = 10_000;

fn claim(
    contract_chain: &str,
    contract: &str,
    key: &wevalue_voucher::sign::VoucherSigner,
    id: u64,
    payout: Value,
) -> Value {
    let v = voucher_json(key, contract_chain, contract, id, AMOUNT);
    json!({ "claim": {
        "channel_id": id,
        "voucher": { "amount": v["amount"], "hashlock": null, "expiry": null, "signature": v["signature"] },
        "preimage": null,
        "payout": payout,
    }})
}

/// Opens one channel per payee from `payer`, 20 per tx; returns their ids.
async fn open_many(
    payer: &CosmosClient,
    contract: &str,
    payees: &[String],
    key: &wevalue_voucher::sign::VoucherSigner,
    denom: &str,
) -> Vec<u64> {
    let mut ids = vec![];
    for chunk in payees.chunks(20) {
        let msgs: Vec<ChainMsg> = chunk
            .iter()
            .map(|p| {
                let open = json!({ "open": {
                    "payee": p,
                    "pubkey": cosmwasm_std::Binary::from(key.public_key()),
                    "scheme": "ed25519",
                    "challenge_period": null,
                }});
                ChainMsg::execute(contract, &open, vec![Coin::new(AMOUNT, denom)]).unwrap()
            })
            .collect();
        let out = chain::submit(payer, &msgs, "", TX_TIMEOUT).await.unwrap();
        ids.extend(
            out.events
                .iter()
                .filter(|e| e.ty == "wasm")
                .filter_map(|e| e.attr("channel_id"))
                .map(|s| s.parse::<u64>().unwrap()),
        );
    }
    assert_eq!(ids.len(), payees.len());
    ids
}

#[tokio::test]
#[ignore = "needs two wasmd chains and Hermes: ci/ibc-localnet-test.sh"]
async fn figures_claim_gas_and_payouts_per_minute_with_100_sellers() {
    let net = Net::load();
    let denom = net.city.fee_denom.clone();
    let deployer = client(&net.city, "deployer");
    let contract = deploy_payment_channel(&net, &deployer).await;
    let buyer = client(&net.city, "test-29");
    let key = voucher_key(9);
    let ibc = |receiver: &str| json!({ "ibc": { "channel": net.city.channel, "receiver": receiver, "timeout_seconds": 600 } });

    // 100 sellers: accounts 1..=100 of one test mnemonic, funded in one tx.
    let phrase = mnemonic("test-30");
    let sellers: Vec<Arc<CosmosClient>> = (1..=SELLERS)
        .map(|i| {
            Arc::new(
                CosmosClient::new(
                    options(&net.city),
                    Signer::from_mnemonic(&phrase, "wasm", i).unwrap(),
                )
                .unwrap(),
            )
        })
        .collect();
    let addresses: Vec<String> = sellers.iter().map(|s| s.sender().to_string()).collect();
    let funder = client(&net.city, "test-28");
    let sends: Vec<ChainMsg> = addresses
        .iter()
        .map(|a| ChainMsg::BankSend {
            to_address: a.clone(),
            amount: vec![Coin::new(2_000_000u128, &denom)],
        })
        .collect();
    chain::submit(&*funder, &sends, "", TX_TIMEOUT)
        .await
        .unwrap();

    // The bridge (with Hermes) follows from here.
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("bridge.sqlite")).unwrap());
    let config = BridgeConfig {
        enabled: true,
        poll_interval_ms: 300,
        hermes: Some(HermesConfig {
            binary: crate::hermes_binary(),
            config: net.hermes_config.clone(),
            restart_min_ms: 200,
            restart_max_ms: 2_000,
            chain_id: net.city.chain_id.clone(),
        }),
        ..BridgeConfig::default()
    };
    let bridge = Arc::new(
        Bridge::new(config, contract.clone(), deployer.clone(), store)
            .await
            .unwrap()
            .with_hermes(),
    );
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(bridge.clone().run(rx));

    // Gas: the same claim paid out locally and over IBC (seller 1, two channels).
    let first = &sellers[0];
    // An account's first tx also stores its public key (≈ 13,100 gas): one
    // warm-up tx first, so neither claim below carries it.
    chain::submit(
        &**first,
        &[ChainMsg::BankSend {
            to_address: addresses[0].clone(),
            amount: vec![Coin::new(1u128, &denom)],
        }],
        "",
        TX_TIMEOUT,
    )
    .await
    .unwrap();
    let pair = open_many(
        &buyer,
        &contract,
        &[addresses[0].clone(), addresses[0].clone()],
        &key,
        &denom,
    )
    .await;
    let local = exec(
        first,
        &contract,
        &claim(&net.city.chain_id, &contract, &key, pair[0], json!("local")),
        vec![],
    )
    .await;
    let over_ibc = exec(
        first,
        &contract,
        &claim(
            &net.city.chain_id,
            &contract,
            &key,
            pair[1],
            ibc(&addresses[0]),
        ),
        vec![],
    )
    .await;
    println!(
        "FIGURE claim gas on wasmd: paid out locally {} gas, with an IBC payout {} gas (+{}, ×{:.2})",
        local.gas_used,
        over_ibc.gas_used,
        over_ibc.gas_used as i64 - local.gas_used as i64,
        over_ibc.gas_used as f64 / local.gas_used as f64
    );

    // Hub balances before (the derived accounts are the same every run; the
    // first seller's gas-comparison payout may still be in flight, so it is
    // left out of the exact check).
    let hub_denom = Net::voucher_denom(&net.hub, &denom);
    let hub = client(&net.hub, "test-30");
    let _ = until(
        "the gas comparison's payout",
        Duration::from_secs(120),
        || async {
            let done = bridge
                .payouts()
                .list(Some(PayoutStatus::Delivered), None, 10)
                .await
                .unwrap();
            (!done.is_empty()).then_some(())
        },
    )
    .await;
    let mut hub_before = vec![];
    for a in &addresses {
        hub_before.push(hub.balance(a, &hub_denom).await.unwrap());
    }
    let ids = open_many(&buyer, &contract, &addresses, &key, &denom).await;
    let start = Instant::now();
    let claims = sellers
        .iter()
        .zip(&ids)
        .zip(&addresses)
        .map(|((s, id), addr)| {
            let msg = claim(&net.city.chain_id, &contract, &key, *id, ibc(addr));
            let contract = contract.clone();
            async move { exec(s, &contract, &msg, vec![]).await.height }
        });
    let heights = join_all(claims).await;
    let claimed_in = start.elapsed().as_secs_f64();
    let (first_h, last_h) = (heights.iter().min().unwrap(), heights.iter().max().unwrap());

    // +1: the gas comparison's payout is settled by the same Hermes.
    let settled = until(
        "100 payouts acknowledged",
        Duration::from_secs(300),
        || async {
            let done = bridge
                .payouts()
                .list(Some(PayoutStatus::Delivered), None, 200)
                .await
                .unwrap();
            (done.len() as u32 > SELLERS).then_some(done)
        },
    )
    .await;
    let elapsed = start.elapsed().as_secs_f64();
    let ours: Vec<_> = settled
        .iter()
        .filter(|p| p.amount == AMOUNT && p.sent_height >= *first_h)
        .collect();
    assert_eq!(ours.len() as u32, SELLERS);
    let mut blocks: Vec<u64> = ours.iter().filter_map(|p| p.latency_blocks()).collect();
    let mut secs: Vec<f64> = ours.iter().filter_map(|p| p.latency_seconds()).collect();
    blocks.sort_unstable();
    secs.sort_by(f64::total_cmp);
    for (a, before) in addresses.iter().zip(&hub_before) {
        assert_eq!(
            hub.balance(a, &hub_denom).await.unwrap() - before,
            AMOUNT,
            "{a} on the hub"
        );
    }
    println!(
        "FIGURE 100 sellers settling at once: claims included in blocks {first_h}..{last_h} ({claimed_in:.1} s), all 100 acknowledged {elapsed:.1} s after the first claim was sent: {:.0} payouts relayed per minute; claim → acknowledgement p50 {} blocks / {:.1} s, max {} blocks / {:.1} s; every hub balance exact",
        100.0 * 60.0 / elapsed,
        blocks[blocks.len() / 2],
        secs[secs.len() / 2],
        blocks.last().unwrap(),
        secs.last().unwrap()
    );
    let _ = stop.send(true);
    task.await.unwrap().unwrap();
}
