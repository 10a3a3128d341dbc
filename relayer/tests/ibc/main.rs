//! Cross-chain settlement on two real chains (issue 14): wevalue-city-1 and
//! wevalue-hub-1 (wasmd) joined by an ICS-20 channel, Hermes relaying.
//!
//! - A seller's daemon (`relayer run`: watchtower + bridge + supervised
//!   Hermes) settles vouchers with `claim_batch` and an IBC payout to the
//!   seller's hub address: the hub balance rises by exactly the settled
//!   amount, the contract's callback settles the payout as delivered, and
//!   the bridge records it (`relayer payouts`, metrics).
//! - A payout whose packet times out while no Hermes runs (daemon without
//!   `[bridge.hermes]`), then restarted with Hermes: credited back exactly
//!   once, withdrawn by the payee, nothing on the hub.
//! - A hub buyer opens a channel on the city chain with one ICS-20 transfer
//!   whose memo asks for a destination callback; a sender the payer did not
//!   authorize is refused and refunded on the hub.
//!
//! - The figures of issue 14 §4 (`figures.rs`).
//!
//! `ci/ibc-localnet-test.sh` starts both chains and the channel, then runs
//! these with `-- --ignored --test-threads 1` (they share Hermes' key).

mod figures;
#[allow(dead_code)]
#[path = "../common/sdpp_localnet.rs"]
mod lt;
mod net;

use std::path::Path;
use std::time::Duration;

use cosmwasm_std::Coin;
use net::*;
use relayer::chain::{self, ChainMsg, ChainStatus, TxClient};
use relayer::services::bridge::{Hermes, HermesConfig};
use serde_json::{json, Value};

/// The daemon's config: watchtower paying out over IBC, the bridge, and
/// (when `hermes`) the supervised Hermes.
fn daemon_config(
    net: &Net,
    dir: &Path,
    contract: &str,
    receiver: &str,
    timeout: u64,
    hermes: bool,
) -> (std::path::PathBuf, String, String) {
    let api = format!("127.0.0.1:{}", free_port());
    let telemetry = free_port();
    let hermes_table = if hermes {
        format!(
            "[bridge.hermes]\nbinary = {:?}\nconfig = {:?}\nchain_id = {:?}\nrestart_min_ms = 200\n",
            hermes_binary(),
            net.hermes_config,
            net.city.chain_id
        )
    } else {
        String::new()
    };
    let text = format!(
        r#"
[log]
level = "info"
[telemetry]
enabled = true
host = "127.0.0.1"
port = {telemetry}
[state]
path = "{state}"
[chain]
id = "{chain_id}"
prefix = "wasm"
fee_denom = "{fee_denom}"
backend = "cosmos"
[chain.cosmos]
rpc_url = "{rpc}"
gas_price = {gas_price}
gas_multiplier = 1.4
max_gas = 5000000
inclusion_timeout_secs = 30
poll_interval_ms = 200
timeout_blocks = 50
[signer]
mnemonic_env = "WEVALUE_SELLER_MNEMONIC"
[events]
poll_interval_ms = 500
[outbox]
flush_interval_ms = 300
[watchtower]
enabled = true
listen = "{api}"
contract = "{contract}"
min_amount = "1"
max_age_seconds = 1
settle_interval_seconds = 1
poll_interval_ms = 300
payout = {{ kind = "ibc", channel = "{channel}", receiver = "{receiver}", timeout_seconds = {timeout} }}
[bridge]
enabled = true
contract = "{contract}"
poll_interval_ms = 300
clear_after_seconds = 10
overdue_after_seconds = 30
{hermes_table}"#,
        state = dir.join("seller.sqlite").display(),
        chain_id = net.city.chain_id,
        fee_denom = net.city.fee_denom,
        rpc = net.city.rpc,
        gas_price = net.city.gas_price,
        channel = net.city.channel,
    );
    let path = dir.join(format!(
        "seller-{}.toml",
        if hermes { "hermes" } else { "plain" }
    ));
    std::fs::write(&path, text).unwrap();
    (path, api, format!("127.0.0.1:{telemetry}"))
}

fn hermes_binary() -> std::path::PathBuf {
    std::env::var_os("WEVALUE_HERMES")
        .map(Into::into)
        .unwrap_or_else(|| Path::new(&std::env::var("HOME").unwrap()).join(".cargo/bin/hermes"))
}

/// `relayer payouts` of a config, parsed.
fn payouts(config: &Path) -> Vec<Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_relayer"))
        .args(["payouts", "--config"])
        .arg(config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
#[ignore = "needs two wasmd chains and Hermes: ci/ibc-localnet-test.sh"]
async fn a_watchtower_payout_over_ibc_arrives_on_the_hub_exactly() {
    let net = Net::load();
    let dir = tempfile::tempdir().unwrap();
    let deployer = client(&net.city, "deployer");
    let contract = deploy_payment_channel(&net, &deployer).await;
    let seller = client(&net.city, "air-seller");
    let seller_hub = client(&net.hub, "air-seller");
    let receiver = seller_hub.sender().to_string();
    let hub_denom = Net::voucher_denom(&net.hub, &net.city.fee_denom);
    let hub_before = seller_hub.balance(&receiver, &hub_denom).await.unwrap();

    // Two buyers, two channels: one claim_batch, one payout for both.
    let (k1, k2) = (voucher_key(1), voucher_key(2));
    let b1 = client(&net.city, "buyer");
    let b2 = client(&net.city, "test-02");
    let denom = net.city.fee_denom.clone();
    let c1 = open_channel(&b1, &contract, seller.sender(), &k1, 1_000_000, &denom).await;
    let c2 = open_channel(&b2, &contract, seller.sender(), &k2, 1_000_000, &denom).await;

    let (config, api, telemetry) = daemon_config(&net, dir.path(), &contract, &receiver, 600, true);
    let daemon = Daemon::start(
        &config,
        ("WEVALUE_SELLER_MNEMONIC", mnemonic("air-seller")),
        dir.path().join("daemon.log"),
    );
    until("the voucher API", Duration::from_secs(60), || async {
        std::net::TcpStream::connect(&api).ok().map(|_| ())
    })
    .await;
    for (key, id, amount) in [(&k1, c1, 123_456u128), (&k2, c2, 76_544)] {
        let v = voucher_json(key, &net.city.chain_id, &contract, id, amount);
        let (status, body) = http(&api, "POST", "/v1/vouchers", Some(&v));
        assert_eq!(status, 200, "{body}");
    }

    // The watchtower claims; Hermes relays; the hub balance is watched from
    // here so the time of the credit is known.
    let hub_after = until("the hub credit", Duration::from_secs(120), || async {
        let b = seller_hub.balance(&receiver, &hub_denom).await.unwrap();
        (b != hub_before).then_some(b)
    })
    .await;
    let credited_nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let hub_height = seller_hub.latest_height().await.unwrap();
    assert_eq!(
        hub_after - hub_before,
        200_000,
        "the hub receives exactly the settled amount"
    );
    let sent = until("the payout's record", Duration::from_secs(60), || async {
        payouts(&config).into_iter().next()
    })
    .await;
    assert_eq!(sent["amount"], "200000");
    assert_eq!(sent["receiver"], receiver.as_str());
    assert_eq!(sent["ibc_channel"], net.city.channel.as_str());
    // Both chains and this test share the machine's clock.
    let hub_seconds =
        credited_nanos.saturating_sub(sent["sent_nanos"].as_u64().unwrap()) as f64 / 1e9;

    let settled = until("the acknowledgement", Duration::from_secs(90), || async {
        payouts(&config)
            .into_iter()
            .find(|p| p["status"] != "in_flight")
    })
    .await;
    assert_eq!(settled["status"], "delivered", "{settled}");
    let payout_id = settled["payout_id"].as_u64().unwrap();
    // Settled in the contract: not pending, nothing credited back.
    let err = chain::query_smart::<_, Value>(
        &*seller,
        &contract,
        &json!({ "payout": { "payout_id": payout_id } }),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
    let credit = query(
        &seller,
        &contract,
        &json!({ "credit": { "payee": seller.sender(), "denom": denom } }),
    )
    .await;
    assert_eq!(credit["amount"], "0");
    for (id, amount) in [(c1, "123456"), (c2, "76544")] {
        let ch = query(
            &seller,
            &contract,
            &json!({ "channel": { "channel_id": id } }),
        )
        .await;
        assert_eq!(ch["claimed"], amount, "{ch}");
    }
    let (status, metrics) = http(&telemetry, "GET", "/metrics", None);
    assert_eq!(status, 200);
    assert_eq!(metric(&metrics, "wevalue_relayer_ibc_payouts_settled_total{chain=\"wevalue-city-1\",outcome=\"delivered\"}"), 1.0, "{metrics}");
    assert_eq!(metric(&metrics, "wevalue_relayer_hermes_up "), 1.0);
    let (status, health) = http(&telemetry, "GET", "/health", None);
    assert_eq!(status, 200, "{health}");
    println!(
        "FIGURE ibc payout: claim in city block {}; credited on the hub by height {hub_height}, ≤ {hub_seconds:.1} s after the claim's block time; acknowledged on the city chain in block {} (+{} blocks, {:.1} s)",
        settled["sent_height"], settled["settled_height"], settled["latency_blocks"], settled["latency_seconds"].as_f64().unwrap()
    );
    drop(daemon);
}

#[tokio::test]
#[ignore = "needs two wasmd chains and Hermes: ci/ibc-localnet-test.sh"]
async fn a_payout_that_times_out_is_credited_back_once_and_withdrawn() {
    let net = Net::load();
    let dir = tempfile::tempdir().unwrap();
    let deployer = client(&net.city, "deployer");
    let contract = deploy_payment_channel(&net, &deployer).await;
    let seller = client(&net.city, "meter-seller");
    let seller_hub = client(&net.hub, "meter-seller");
    let receiver = seller_hub.sender().to_string();
    let hub_denom = Net::voucher_denom(&net.hub, &net.city.fee_denom);
    let hub_before = seller_hub.balance(&receiver, &hub_denom).await.unwrap();
    let denom = net.city.fee_denom.clone();
    let key = voucher_key(3);
    let buyer = client(&net.city, "test-03");
    let id = open_channel(&buyer, &contract, seller.sender(), &key, 1_000_000, &denom).await;

    // No Hermes: the packet cannot be relayed before it times out (60 s,
    // the contract's shortest timeout).
    let (plain, api, _) = daemon_config(&net, dir.path(), &contract, &receiver, 60, false);
    let mut daemon = Daemon::start(
        &plain,
        ("WEVALUE_SELLER_MNEMONIC", mnemonic("meter-seller")),
        dir.path().join("plain.log"),
    );
    until("the voucher API", Duration::from_secs(60), || async {
        std::net::TcpStream::connect(&api).ok().map(|_| ())
    })
    .await;
    let v = voucher_json(&key, &net.city.chain_id, &contract, id, 55_555);
    assert_eq!(http(&api, "POST", "/v1/vouchers", Some(&v)).0, 200);
    let sent = until("the payout's packet", Duration::from_secs(60), || async {
        payouts(&plain).into_iter().next()
    })
    .await;
    assert_eq!(
        (sent["status"].as_str(), sent["amount"].as_str()),
        (Some("in_flight"), Some("55555"))
    );
    let timeout = sent["timeout_nanos"].as_u64().unwrap();
    daemon.stop();
    let balance_before = seller.balance(&contract, &denom).await.unwrap();

    // Past the timeout on the hub's clock, the same daemon (same SQLite)
    // restarts with Hermes: it relays the timeout, the callback credits.
    until(
        "the hub's clock past the timeout",
        Duration::from_secs(120),
        || async { (block_nanos(&seller_hub).await > timeout).then_some(()) },
    )
    .await;
    let (with_hermes, _, telemetry) =
        daemon_config(&net, dir.path(), &contract, &receiver, 60, true);
    let daemon = Daemon::start(
        &with_hermes,
        ("WEVALUE_SELLER_MNEMONIC", mnemonic("meter-seller")),
        dir.path().join("hermes.log"),
    );
    let settled = until("the timeout", Duration::from_secs(90), || async {
        payouts(&with_hermes)
            .into_iter()
            .find(|p| p["status"] != "in_flight")
    })
    .await;
    assert_eq!(settled["status"], "timeout", "{settled}");
    let credit = query(
        &seller,
        &contract,
        &json!({ "credit": { "payee": seller.sender(), "denom": denom } }),
    )
    .await;
    assert_eq!(credit["amount"], "55555", "credited back exactly once");
    assert_eq!(
        seller_hub.balance(&receiver, &hub_denom).await.unwrap(),
        hub_before,
        "nothing arrived on the hub"
    );
    // The refund is back in the contract, reserved for the credit.
    assert_eq!(
        seller.balance(&contract, &denom).await.unwrap(),
        balance_before + 55_555
    );

    let out = exec(
        &seller,
        &contract,
        &json!({ "withdraw_credit": { "denom": denom } }),
        vec![],
    )
    .await;
    assert_eq!(
        chain::find_attr(&out.events, "wasm", "amount"),
        Some("55555")
    );
    assert_eq!(
        seller.balance(&contract, &denom).await.unwrap(),
        balance_before
    );
    let again = chain::execute(
        &*seller,
        &contract,
        &json!({ "withdraw_credit": { "denom": denom } }),
        vec![],
        TX_TIMEOUT,
    )
    .await
    .unwrap_err();
    assert!(again.to_string().contains("credit"), "{again}");
    let (_, metrics) = http(&telemetry, "GET", "/metrics", None);
    assert_eq!(metric(&metrics, "wevalue_relayer_ibc_payouts_settled_total{chain=\"wevalue-city-1\",outcome=\"timeout\"}"), 1.0, "{metrics}");
    drop(daemon);
}

#[tokio::test]
#[ignore = "needs two wasmd chains and Hermes: ci/ibc-localnet-test.sh"]
async fn a_hub_transfer_opens_a_channel_only_for_a_payer_that_authorized_its_sender() {
    let net = Net::load();
    let deployer = client(&net.city, "deployer");
    let contract = deploy_payment_channel(&net, &deployer).await;
    let payer = client(&net.city, "hub-buyer");
    let hub_buyer = client(&net.hub, "hub-buyer");
    let stranger = client(&net.hub, "test-04");
    let seller = client(&net.city, "air-seller");
    let city_denom = Net::voucher_denom(&net.city, &net.hub.fee_denom);
    let key = voucher_key(4);

    // Hermes, supervised in this process.
    let metrics = std::sync::Arc::new(relayer::metrics::Metrics::new());
    let hermes = std::sync::Arc::new(Hermes::new(
        HermesConfig {
            binary: hermes_binary(),
            config: net.hermes_config.clone(),
            restart_min_ms: 200,
            restart_max_ms: 2_000,
            chain_id: net.city.chain_id.clone(),
        },
        metrics.clone(),
    ));
    let (stop, rx) = tokio::sync::watch::channel(false);
    let supervisor = tokio::spawn(hermes.supervise(rx));

    exec(
        &payer,
        &contract,
        &json!({ "authorize_hub_sender": { "channel": net.city.channel, "sender": hub_buyer.sender() } }),
        vec![],
    )
    .await;
    let memo = |payer: &str| {
        json!({
            "dest_callback": { "address": contract, "gas_limit": "500000" },
            "payment_channel": { "open": { "payer": payer, "channel": {
                "payee": seller.sender(),
                "pubkey": cosmwasm_std::Binary::from(key.public_key()),
                "scheme": "ed25519",
                "challenge_period": null,
            }}}
        })
        .to_string()
    };
    let transfer = |amount: u128, memo: String| ChainMsg::IbcTransfer {
        source_channel: net.hub.channel.clone(),
        token: Coin::new(amount, &net.hub.fee_denom),
        receiver: contract.clone(),
        memo,
        timeout_timestamp_nanos: (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64)
            + 600_000_000_000,
    };
    let channels = |who: String| {
        let payer = payer.clone();
        let contract = contract.clone();
        async move {
            let r = query(
                &payer,
                &contract,
                &json!({ "channels_by_payer": { "payer": who, "start_after": null, "limit": 30 } }),
            )
            .await;
            r["channels"].as_array().unwrap().clone()
        }
    };

    // The authorized sender's transfer opens the channel in the payer's name.
    chain::submit(
        &*hub_buyer,
        &[transfer(500_000, memo(payer.sender()))],
        "",
        TX_TIMEOUT,
    )
    .await
    .unwrap();
    let opened = until("the hub-funded channel", Duration::from_secs(90), || {
        let f = channels(payer.sender().to_string());
        async move { f.await.into_iter().next() }
    })
    .await;
    assert_eq!(opened["payee"], seller.sender(), "{opened}");
    assert_eq!(opened["deposit"], "500000", "{opened}");
    assert_eq!(opened["asset"]["native"], city_denom.as_str(), "{opened}");

    // A stranger naming the same payer is refused: error acknowledgement,
    // the tokens go back to the stranger on the hub.
    let before = stranger
        .balance(stranger.sender(), &net.hub.fee_denom)
        .await
        .unwrap();
    let out = chain::submit(
        &*stranger,
        &[transfer(300_000, memo(payer.sender()))],
        "",
        TX_TIMEOUT,
    )
    .await
    .unwrap();
    let fee = fee(&net.hub, &out);
    until("the stranger's refund", Duration::from_secs(90), || async {
        let b = stranger
            .balance(stranger.sender(), &net.hub.fee_denom)
            .await
            .unwrap();
        (b == before - fee).then_some(())
    })
    .await;
    assert_eq!(
        channels(payer.sender().to_string()).await.len(),
        1,
        "no second channel"
    );
    let _ = stop.send(true);
    supervisor.await.unwrap();
}
