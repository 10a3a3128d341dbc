//! One trial: a seller's daemon (watchtower + oracle, one signer, one
//! SQLite file) serving a payment channel and proving a value-contract
//! task, SIGKILLed once at the plan's point and restarted on its file.
//!
//! The payer sends vouchers until the watchtower settles (claimed = the
//! first settlement), sends more that stay below the settlement threshold,
//! then starts a close: the chain's state is stale, and the watchtower must
//! claim the best voucher within the challenge period. Meanwhile a city
//! creates and funds a task whose one participant is confirmed; when its
//! execution ends the daemon's oracle (the whole 1-of-1 set) attests.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use cosmwasm_std::{Binary, Uint128};
use relayer::chain::{self, find_attr, query_smart, ChainMsg, TxClient, TxOutcome};
use relayer::cosmos::CosmosClient;
use relayer::services::oracle::{KeySchemeConfig, OracleKey};
use relayer::services::watchtower::http::VoucherRequest;
use serde_json::{json, Value};
use tokio::sync::watch;
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{Voucher, VoucherScheme};

use crate::daemon::{write_config, Daemon, DaemonSpec};
use crate::kill::{kill_and_restart, last_reconcile, open_outbox_entries, stored_best};
use crate::lt;
use crate::net::{Chain, TX_TIMEOUT};
use crate::plan::Plan;

/// The watchtower settles a channel once it owes this much.
pub const MIN_AMOUNT: u128 = 5_000;
pub const DEPOSIT: u128 = 100_000;
const GOAL: u128 = 100_000;
const OFFER_DEPOSIT: u128 = 1_000;
/// Funds each trial account gets.
pub const FUNDS: u128 = 20_000_000;
/// Accounts per trial: daemon, payer, city, participant.
pub const ACCOUNTS: u32 = 4;

/// What the whole run shares.
pub struct Shared {
    pub chain: Chain,
    pub channels: String,
    pub channel_code: u64,
    pub value_code: u64,
    pub root: PathBuf,
}

/// Codes, the shared payment channel and every trial's funded accounts.
pub async fn setup(chain: &Chain, trials: u32, root: std::path::PathBuf) -> Result<Shared> {
    let channel_code = chain.store(0, "payment-channel").await?;
    let value_code = chain.store(0, "value-contract").await?;
    let msg = json!({ "owner": null, "min_challenge_period": 60,
                      "max_challenge_period": 86_400, "max_batch_size": null });
    let (channels, _) = relayer::chain::CodeClient::instantiate(
        &*chain.client(0),
        channel_code,
        &msg,
        "trials payment channel",
        None,
        vec![],
    )
    .await?;
    let accounts: Vec<String> = (0..trials)
        .flat_map(|t| (0..ACCOUNTS).map(move |r| account_base(t) + r))
        .map(|i| chain.address(i))
        .collect();
    chain.fund(0, &accounts, FUNDS).await?;
    Ok(Shared {
        chain: chain.clone(),
        channels,
        channel_code,
        value_code,
        root,
    })
}

/// A trial's accounts: HD indices of the funder's mnemonic.
pub fn account_base(trial: u32) -> u32 {
    1_000 + ACCOUNTS * trial
}

/// What a passing trial measured.
#[derive(Debug)]
pub struct Outcome {
    pub best: u128,
    pub close_to_claim_blocks: u64,
    pub oracle_latency_blocks: u64,
    pub service_txs: usize,
    pub starts: u32,
    pub secs: f64,
    /// The outbox entries the SIGKILL caught open (status and service).
    pub caught: String,
    /// What the restarted daemon's outbox reconciliation did.
    pub reconciled: String,
}

/// How far the trial got, for the kill point.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    pub vouchers: usize,
    pub threshold_crossed: bool,
    pub close_sent: bool,
    pub verifying: bool,
}

struct Actors {
    daemon: String,
    payer: Arc<CosmosClient>,
    city: Arc<CosmosClient>,
    participant: Arc<CosmosClient>,
}

pub async fn run(shared: &Shared, trial: u32, plan: &Plan) -> Result<Outcome> {
    let started = Instant::now();
    let chain = &shared.chain;
    let base = account_base(trial);
    let actors = Actors {
        daemon: chain.address(base),
        payer: chain.client(base + 1),
        city: chain.client(base + 2),
        participant: chain.client(base + 3),
    };
    let dir = shared.root.join(format!("trial-{trial:02}"));
    std::fs::create_dir_all(&dir)?;
    let start_height = chain.height().await?;
    let balance_before = chain.balance(&actors.daemon).await?;
    let (_, sequence_before) = chain.client(base).account().await?;

    // The oracle's report key (ed25519 accepts any 32 bytes).
    let secret: [u8; 32] =
        wevalue_voucher::sha256(format!("trial-oracle-{}", plan.seed).as_bytes());
    let oracle = OracleKey::from_bytes(KeySchemeConfig::Ed25519, secret)?;
    let key_file = dir.join("oracle.key");
    std::fs::write(&key_file, hex::encode(secret))?;
    let value = instantiate_value_contract(shared, &actors, &oracle).await?;
    let deployment = write_deployment(shared, &dir, &value)?;
    let port = lt::free_port();
    let config = write_config(
        chain,
        &DaemonSpec {
            dir: &dir,
            account_index: base,
            deployment: &deployment,
            tower_port: port,
            min_amount: MIN_AMOUNT,
            oracle_key: &key_file,
            meter_seed: &format!("trial-{}", plan.seed),
        },
    )?;
    let mut daemon = Daemon::start(chain, config, &dir, port).await?;

    let (progress, watch_rx) = watch::channel(Progress::default());
    let progress = Arc::new(progress);
    let payments = payments(shared, &actors, plan, port, progress.clone());
    let task = task(shared, &actors, &value, progress.clone());
    let killer = kill_and_restart(&mut daemon, plan, watch_rx);
    let (payments, task, killed) = tokio::join!(payments, task, killer);
    let caught = killed.context("the kill and restart")?;
    let (channel_id, close_height) = payments.context("the payment channel")?;
    let verifying_height = task.context("the task")?;

    // Everything the daemon had to do is done: stop it and read the chain.
    if let Some(status) = daemon.exited() {
        bail!("the daemon died on its own ({status}):\n{}", daemon.tail());
    }
    daemon.stop()?;
    let channel: Value = query_smart(
        &*actors.payer,
        &shared.channels,
        &json!({ "channel": { "channel_id": channel_id } }),
    )
    .await?;
    let claimed: u128 = amount(&channel["claimed"])?;
    ensure!(
        claimed == plan.best(),
        "claimed {claimed}, best voucher {}",
        plan.best()
    );
    ensure!(
        channel["status"].get("closing").is_some(),
        "the channel is not closing: {channel}"
    );
    let stored = stored_best(&daemon.state, &shared.channels, channel_id)?;
    ensure!(stored == plan.best(), "the daemon stored {stored}");
    let open = open_outbox_entries(&daemon.state)?;
    ensure!(open.is_empty(), "outbox entries not done: {open:?}");

    let txs = chain.txs_paid_by(&actors.daemon, start_height).await?;
    let failed: Vec<_> = txs.iter().filter(|t| t.code != 0).collect();
    ensure!(
        failed.is_empty(),
        "service txs failed on chain: {failed:#?}"
    );
    let (_, sequence) = chain.client(base).account().await?;
    ensure!(
        sequence - sequence_before == txs.len() as u64,
        "the daemon's account sent {} txs, the indexer shows {}",
        sequence - sequence_before,
        txs.len()
    );
    let attests: Vec<_> = txs
        .iter()
        .filter(|t| t.actions.iter().any(|a| a == "attest"))
        .collect();
    ensure!(attests.len() == 1, "attest txs: {attests:#?}");
    let defence = txs
        .iter()
        .find(|t| t.height >= close_height && t.actions.iter().any(|a| a.starts_with("claim")))
        .ok_or_else(|| anyhow!("no claim after the close at {close_height}: {txs:#?}"))?;
    let fees: u128 = txs.iter().map(|t| t.fee).sum();
    let balance_after = chain.balance(&actors.daemon).await?;
    ensure!(
        balance_after + fees == balance_before + plan.best(),
        "seller balance {balance_before} → {balance_after}, fees {fees}, best {}",
        plan.best()
    );
    let participant = actors.participant.sender().to_string();
    let att: Value = query_smart(
        &*actors.city,
        &value,
        &json!({ "attestations": { "task_id": 1, "participant": participant, "start_after": null, "limit": 30 } }),
    )
    .await?;
    let list = att["attestations"].as_array().cloned().unwrap_or_default();
    ensure!(list.len() == 1, "attestations: {att}");
    ensure!(!att["accepted"].is_null(), "no accepted value: {att}");
    Ok(Outcome {
        best: plan.best(),
        close_to_claim_blocks: defence.height - close_height,
        oracle_latency_blocks: attests[0].height.saturating_sub(verifying_height),
        service_txs: txs.len(),
        starts: daemon.starts,
        secs: started.elapsed().as_secs_f64(),
        caught,
        reconciled: last_reconcile(&daemon.log),
    })
}

fn amount(v: &Value) -> Result<u128> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("not an amount: {v}"))
}

/// The city's own value contract, with the daemon as its 1-of-1 oracle set.
async fn instantiate_value_contract(
    shared: &Shared,
    actors: &Actors,
    oracle: &OracleKey,
) -> Result<String> {
    let msg = json!({
        "owner": null,
        "oracles": { "members": [{
            "address": actors.daemon,
            "pubkey": Binary::from(oracle.public_key()),
            "scheme": "ed25519",
        }], "threshold": 1 }
    });
    let (address, _) = relayer::chain::CodeClient::instantiate(
        &*actors.city,
        shared.value_code,
        &msg,
        "trial value contract",
        None,
        vec![],
    )
    .await?;
    Ok(address)
}

fn write_deployment(shared: &Shared, dir: &std::path::Path, value: &str) -> Result<PathBuf> {
    let contract = |code: &str, code_id: u64, address: &str| json!({ "code": code, "code_id": code_id, "address": address, "label": code, "admin": null });
    let doc = json!({
        "chain_id": shared.chain.net.chain_id,
        "deployer": "trials",
        "codes": {},
        "contracts": {
            "payment-channel": contract("payment-channel", shared.channel_code, &shared.channels),
            "value-contract": contract("value-contract", shared.value_code, value),
        }
    });
    let path = dir.join("deployment.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc)?)?;
    Ok(path)
}

async fn send(client: &CosmosClient, msgs: &[ChainMsg]) -> Result<TxOutcome> {
    Ok(chain::submit(client, msgs, "", TX_TIMEOUT).await?)
}

fn coins(denom: &str, amount: u128) -> Vec<cosmwasm_std::Coin> {
    cosmwasm_std::coins(amount, denom)
}

/// The payer's side: open, vouchers, settlement, more vouchers, the stale
/// close, the defence. Returns the channel and the close's height.
async fn payments(
    shared: &Shared,
    actors: &Actors,
    plan: &Plan,
    port: u16,
    progress: Arc<watch::Sender<Progress>>,
) -> Result<(u64, u64)> {
    let net = &shared.chain.net;
    let key = VoucherSigner::from_secret(
        VoucherScheme::Ed25519,
        wevalue_voucher::sha256(format!("trial-payer-{}", plan.seed).as_bytes()),
        "wasm",
    )?;
    let open = json!({ "open": {
        "payee": actors.daemon,
        "pubkey": Binary::from(key.public_key()),
        "scheme": "ed25519",
        "challenge_period": null,
        "listing": null,
    }});
    let out = send(
        &actors.payer,
        &[ChainMsg::execute(
            &shared.channels,
            &open,
            coins(&net.denom, DEPOSIT),
        )?],
    )
    .await?;
    let channel_id: u64 = find_attr(&out.events, "wasm", "channel_id")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow!("open emitted no channel_id"))?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let query = json!({ "channel": { "channel_id": channel_id } });
    let claimed = || async {
        let c: Value = query_smart(&*actors.payer, &shared.channels, &query).await?;
        amount(&c["claimed"])
    };
    let mut sent = 0;
    for (phase, amounts) in [&plan.before, &plan.after].into_iter().enumerate() {
        for &a in amounts {
            let voucher = Voucher {
                chain_id: net.chain_id.clone(),
                contract: shared.channels.clone(),
                channel_id,
                amount: Uint128::new(a),
                hashlock: None,
                expiry: None,
            };
            let body = VoucherRequest {
                channel_id,
                amount: Uint128::new(a),
                hashlock: None,
                expiry: None,
                signature: Binary::from(key.sign(&voucher)?.to_vec()),
                preimage: None,
            };
            post_voucher(&http, port, &body).await?;
            sent += 1;
            progress.send_modify(|p| p.vouchers = sent);
        }
        if phase == 0 {
            progress.send_modify(|p| p.threshold_crossed = true);
            // The watchtower settles the first batch by amount.
            wait("the first settlement", 90, || async {
                Ok((claimed().await? == plan.settled_first()).then_some(()))
            })
            .await?;
        }
    }
    // The payer closes on the chain's stale state. The kill point counts
    // from the broadcast: the watchtower may see the close at once.
    let close = json!({ "start_close": { "channel_id": channel_id } });
    let msgs = [ChainMsg::execute(&shared.channels, &close, vec![])?];
    let sequence = actors.payer.account_sequence().await?;
    let tx = actors.payer.sign(&msgs, "", sequence).await?;
    actors.payer.broadcast(&tx).await?;
    progress.send_modify(|p| p.close_sent = true);
    let out = actors
        .payer
        .wait_for_tx(&tx.hash, TX_TIMEOUT)
        .await?
        .into_result()?;
    // The challenge period is 60 s: the defence must land well inside it.
    wait("the defending claim", 55, || async {
        Ok((claimed().await? == plan.best()).then_some(()))
    })
    .await?;
    Ok((channel_id, out.height))
}

/// Posts a voucher until the watchtower stores it (it may be dead, starting
/// up or not have seen the channel yet).
async fn post_voucher(http: &reqwest::Client, port: u16, body: &VoucherRequest) -> Result<()> {
    let url = format!("http://127.0.0.1:{port}/v1/vouchers");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let last = match http.post(&url).json(body).send().await {
            Ok(resp) => {
                let status = resp.status();
                let answer: Value = resp.json().await.unwrap_or(Value::Null);
                if status.is_success() {
                    ensure!(
                        answer["best_amount"] == body.amount.to_string(),
                        "voucher {}: {answer}",
                        body.amount
                    );
                    return Ok(());
                }
                // Not yet seen / the chain busy: retried; anything else is a bug.
                let code = answer["code"].as_str().unwrap_or_default();
                if !matches!(code, "unknown_channel" | "chain_unavailable") {
                    bail!("voucher {} refused ({status}): {answer}", body.amount);
                }
                format!("{status}: {answer}")
            }
            Err(e) => e.to_string(),
        };
        if Instant::now() > deadline {
            bail!("voucher {} not stored within 90 s: {last}", body.amount);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `check` every 200 ms for up to `secs`.
async fn wait<T, F, Fut>(what: &str, secs: u64, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut last_err = None;
    loop {
        match check().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            // A query can fail on a loaded node: tried again.
            Err(e) => last_err = Some(e),
        }
        if Instant::now() > deadline {
            bail!("{what}: not within {secs} s (last error: {last_err:?})");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The city's side: a 1-participant competition with phases of seconds.
/// Returns the first height at the execution deadline.
async fn task(
    shared: &Shared,
    actors: &Actors,
    value: &str,
    progress: Arc<watch::Sender<Progress>>,
) -> Result<u64> {
    let chain = &shared.chain;
    let denom = &chain.net.denom;
    let template = json!({ "create_template": {
        "name": "Trial saving", "kind": "competition", "metric": "kwh_saved", "unit": "kWh",
        "asset": null,
        "durations": { "funding": 4, "matching": 8, "acceptance": 6, "execution": 2,
                       "verification": 120, "dispute": 1 },
        "min_quorum": 1, "tolerance_bps": 500, "max_participants": 4,
        "offer_deposit": OFFER_DEPOSIT.to_string()
    }});
    let create = json!({ "create_task": { "template_id": 1, "params": {
        "title": "Trial task",
        "description_cid": "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
        "asset": { "native": denom }, "funding_goal": GOAL.to_string(), "target": "0",
        "max_participants": 1, "bond": "0", "durations": {}
    }}});
    let contribute = json!({ "contribute": { "task_id": 1 } });
    send(
        &actors.city,
        &[
            ChainMsg::execute(value, &template, vec![])?,
            ChainMsg::execute(value, &create, vec![])?,
            ChainMsg::execute(value, &contribute, coins(denom, GOAL))?,
        ],
    )
    .await?;
    let offer = json!({ "submit_offer": {
        "task_id": 1, "price": "0", "capacity": 1, "min_units": 1, "reputation_ref": null
    }});
    send(
        &actors.participant,
        &[ChainMsg::execute(
            value,
            &offer,
            coins(denom, OFFER_DEPOSIT),
        )?],
    )
    .await?;
    let t: Value = query_smart(&*actors.city, value, &json!({ "task": { "id": 1 } })).await?;
    let deadline = |name: &str| -> Result<u128> {
        t["terms"][name]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow!("task without {name}: {t}"))
    };
    let (matching, execution) = (
        deadline("matching_deadline")?,
        deadline("execution_deadline")?,
    );
    let past = |nanos: u128| async move {
        wait("block time", 120, || async {
            let h = chain.height().await?;
            Ok((chain.block_time(h).await? >= nanos).then_some(h))
        })
        .await
    };
    past(matching).await?;
    // Confirming records the matching decided at the deadline first.
    let confirm = json!({ "confirm": { "task_id": 1 } });
    send(
        &actors.participant,
        &[ChainMsg::execute(value, &confirm, vec![])?],
    )
    .await?;
    let seen = past(execution).await?;
    progress.send_modify(|p| p.verifying = true);
    let verifying = chain.first_block_at(execution, seen).await?;
    wait("the oracle's accepted value", 120, || async {
        let t: Value = query_smart(&*actors.city, value, &json!({ "task": { "id": 1 } })).await?;
        let status = t["status"].as_str().unwrap_or_default();
        ensure!(
            matches!(status, "executing" | "verifying" | "disputable" | "settled"),
            "task status {status}: {t}"
        );
        Ok(matches!(status, "disputable" | "settled").then_some(()))
    })
    .await?;
    Ok(verifying)
}
