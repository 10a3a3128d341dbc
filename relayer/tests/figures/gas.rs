//! Gas wasmd charges for whole txs, next to the VM estimates of the
//! README's gas tables (`ci/bench.sh`: the contract's own execution and
//! storage, without wasmd's 60,000 per instance or the SDK's per-tx costs).

use anyhow::{anyhow, Context, Result};
use cosmwasm_std::{Binary, Uint128};
use relayer::chain::{self, ChainMsg, CodeClient, TxClient, TxOutcome};
use relayer::cosmos::CosmosClient;
use serde_json::{json, Value};
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{Hashlock, Voucher, VoucherScheme};

use crate::net::{Chain, TX_TIMEOUT};

mod registry;
mod reports;
mod tcr;

const DEPLOYER: u32 = 0;
const HOLDER: u32 = 1;
const PAYER: u32 = 2;
const PAYEE: u32 = 3;
const CITY: u32 = 4;
const PARTICIPANTS: [u32; 2] = [5, 6];
const ORACLE: u32 = 7;
const BUYER: u32 = 8;
/// Eight payers of the batch channels: 30 to 37.
const BATCH_PAYERS: u32 = 30;
const DEPOSIT: u128 = 10_000;

/// One row: operation, wasmd gas of the whole tx (per item when `per` > 1),
/// the VM estimate from the README.
struct Row {
    op: String,
    gas: u64,
    per: u64,
    vm: &'static str,
}

struct Rows {
    rows: Vec<Row>,
    cw20: u64,
}

impl Rows {
    fn add(&mut self, op: &str, out: &TxOutcome, vm: &'static str) {
        self.rows.push(Row {
            op: op.into(),
            gas: out.gas_used,
            per: 1,
            vm,
        });
    }

    /// A row whose gas is the sum of several txs.
    fn add_gas(&mut self, op: &str, gas: u64, vm: &'static str) {
        self.rows.push(Row {
            op: op.into(),
            gas,
            per: 1,
            vm,
        });
    }

    /// Empty rows against the same yardstick, for a part measured at the
    /// same time as another.
    fn fork(&self) -> Rows {
        Rows {
            rows: vec![],
            cw20: self.cw20,
        }
    }

    fn add_per(&mut self, op: &str, out: &TxOutcome, per: u64, vm: &'static str) {
        self.rows.push(Row {
            op: op.into(),
            gas: out.gas_used,
            per,
            vm,
        });
    }

    fn render(&self) -> String {
        let mut s = String::from(
            "| operation (wasmd, whole tx) | gas used | per item | × cw20 transfer tx | VM estimate (contract only) |\n\
             |---|---:|---:|---:|---:|\n",
        );
        for r in &self.rows {
            let each = r.gas / r.per;
            s += &format!(
                "| {} | {} | {} | {:.3} | {} |\n",
                r.op,
                r.gas,
                if r.per > 1 {
                    each.to_string()
                } else {
                    "".into()
                },
                each as f64 / self.cw20 as f64,
                r.vm
            );
        }
        s
    }
}

async fn send(c: &CosmosClient, msgs: Vec<ChainMsg>) -> Result<TxOutcome> {
    Ok(chain::submit(c, &msgs, "", TX_TIMEOUT).await?)
}

fn exec(contract: &str, msg: Value, funds: Vec<cosmwasm_std::Coin>) -> Result<ChainMsg> {
    Ok(ChainMsg::execute(contract, &msg, funds)?)
}

async fn instantiate(c: &CosmosClient, code: u64, msg: Value, label: &str) -> Result<String> {
    Ok(c.instantiate(code, &msg, label, None, vec![]).await?.0)
}

fn voucher(
    key: &VoucherSigner,
    chain_id: &str,
    contract: &str,
    id: u64,
    amount: u128,
) -> Result<Value> {
    let v = Voucher {
        chain_id: chain_id.into(),
        contract: contract.into(),
        channel_id: id,
        amount: Uint128::new(amount),
        hashlock: None,
        expiry: None,
    };
    Ok(
        json!({ "amount": amount.to_string(), "hashlock": null, "expiry": null,
               "signature": Binary::from(key.sign(&v)?.to_vec()) }),
    )
}

fn channel_ids(out: &TxOutcome) -> Vec<u64> {
    out.events
        .iter()
        .filter(|e| e.ty == "wasm")
        .filter_map(|e| e.attr("channel_id").and_then(|v| v.parse().ok()))
        .collect()
}

/// Measures every operation; returns the markdown section.
pub async fn measure(chain: &Chain) -> Result<String> {
    let net = chain.net.clone();
    let denom = net.denom.clone();
    let coins = |n: u128| cosmwasm_std::coins(n, &denom);
    let to_fund: Vec<String> = (1..=8)
        .chain(BATCH_PAYERS..BATCH_PAYERS + 8)
        .map(|i| chain.address(i))
        .collect();
    chain.fund(DEPLOYER, &to_fund, 50_000_000).await?;
    let more: Vec<String> = tcr::ACCOUNTS
        .iter()
        .chain(reports::ACCOUNTS)
        .map(|i| chain.address(*i))
        .collect();
    chain.fund(DEPLOYER, &more, 10_000_000).await?;
    let movers: Vec<String> = reports::movers().map(|i| chain.address(i)).collect();
    chain.fund(DEPLOYER, &movers, 1_000_000).await?;
    // Every signer whose txs are measured sends itself a token first: an
    // account's first tx also stores its public key (about 13,000 gas),
    // which would otherwise land in whichever row is that account's first.
    let measured: Vec<u32> = [PAYER, PAYEE, CITY, ORACLE, BUYER, HOLDER]
        .into_iter()
        .chain(PARTICIPANTS)
        .chain(tcr::ACCOUNTS.iter().copied())
        .chain(reports::ACCOUNTS.iter().copied())
        .collect();
    futures_util::future::try_join_all(
        measured
            .iter()
            .map(|i| async move { chain.fund(*i, &[chain.address(*i)], 1).await }),
    )
    .await?;
    let deployer = chain.client(DEPLOYER);
    let (payer, payee) = (chain.client(PAYER), chain.client(PAYEE));

    // The yardstick: a cw20-base transfer between two existing holders.
    let cw20_code = chain.store(DEPLOYER, "cw20-base").await?;
    let holders = json!([{ "address": chain.address(DEPLOYER), "amount": "1000000" },
                         { "address": chain.address(HOLDER), "amount": "1000000" }]);
    let token = instantiate(
        &deployer,
        cw20_code,
        json!({ "name": "Yardstick", "symbol": "YARD",
        "decimals": 6, "initial_balances": holders, "mint": null, "marketing": null }),
        "yardstick",
    )
    .await?;
    let transfer = json!({ "transfer": { "recipient": chain.address(HOLDER), "amount": "10" } });
    let out = send(&deployer, vec![exec(&token, transfer, vec![])?]).await?;
    let mut rows = Rows {
        rows: vec![],
        cw20: out.gas_used,
    };
    rows.add("cw20-base transfer (yardstick)", &out, "10,186");

    // payment-channel
    let pc_code = chain.store(DEPLOYER, "payment-channel").await?;
    let pc = instantiate(
        &deployer,
        pc_code,
        json!({ "owner": null, "min_challenge_period": 60,
        "max_challenge_period": 86_400, "max_batch_size": 50 }),
        "figures channels",
    )
    .await?;
    let secret = |tag: &str| wevalue_voucher::sha256(format!("figures-{tag}").as_bytes());
    let ed = VoucherSigner::from_secret(VoucherScheme::Ed25519, secret("ed25519"), "wasm")?;
    let open = |key: &VoucherSigner, scheme: &str, listing: Value| {
        exec(
            &pc,
            json!({ "open": { "payee": chain.address(PAYEE),
            "pubkey": Binary::from(key.public_key()), "scheme": scheme,
            "challenge_period": null, "listing": listing } }),
            coins(DEPOSIT),
        )
    };
    let out = send(&payer, vec![open(&ed, "ed25519", Value::Null)?]).await?;
    rows.add("payment-channel open (native, ed25519)", &out, "25,556");
    let ch = channel_ids(&out)[0];
    let claim = |key: &VoucherSigner, id: u64, amount: u128| -> Result<ChainMsg> {
        exec(
            &pc,
            json!({ "claim": { "channel_id": id,
            "voucher": voucher(key, &net.chain_id, &pc, id, amount)?,
            "preimage": null, "payout": null } }),
            vec![],
        )
    };
    let out = send(&payee, vec![claim(&ed, ch, 100)?]).await?;
    rows.add(
        "payment-channel first claim on a channel (accepts it)",
        &out,
        "26,734",
    );
    let out = send(
        &payer,
        vec![exec(
            &pc,
            json!({ "top_up": { "channel_id": ch } }),
            coins(1_000),
        )?],
    )
    .await?;
    rows.add("payment-channel top_up", &out, "16,554");
    let out = send(&payee, vec![claim(&ed, ch, 200)?]).await?;
    rows.add("payment-channel claim, ed25519", &out, "6,586");
    for (scheme, vm) in [("secp256k1", "7,041"), ("adr036", "7,079")] {
        let s = if scheme == "secp256k1" {
            VoucherScheme::Secp256k1
        } else {
            VoucherScheme::Adr036
        };
        let key = VoucherSigner::from_secret(s, secret(scheme), "wasm")?;
        let id = channel_ids(&send(&payer, vec![open(&key, scheme, Value::Null)?]).await?)[0];
        send(&payee, vec![claim(&key, id, 100)?]).await?;
        let out = send(&payee, vec![claim(&key, id, 200)?]).await?;
        rows.add(&format!("payment-channel claim, {scheme}"), &out, vm);
    }
    // 61 channels for batches of 1, 10 and 50, each claimed once first
    // (accepted), as in the VM benchmark. A payer may hold 8 open channels
    // to one payee per asset, so 8 payers open them.
    let mut opened = vec![];
    for p in 0..8u32 {
        let n = if p == 7 { 5 } else { 8 };
        let msgs = (0..n)
            .map(|_| open(&ed, "ed25519", Value::Null))
            .collect::<Result<Vec<_>>>()?;
        let client = chain.client(BATCH_PAYERS + p);
        opened.push(tokio::spawn(async move { send(&client, msgs).await }));
    }
    let mut ids = vec![];
    for o in opened {
        ids.extend(channel_ids(&o.await??));
    }
    anyhow::ensure!(ids.len() == 61, "opened {} channels", ids.len());
    let batch = |ids: &[u64], amount: u128| -> Result<ChainMsg> {
        let claims = ids
            .iter()
            .map(|id| {
                Ok(json!({ "channel_id": id,
            "voucher": voucher(&ed, &net.chain_id, &pc, *id, amount)?, "preimage": null }))
            })
            .collect::<Result<Vec<Value>>>()?;
        exec(&pc, json!({ "claim_batch": { "claims": claims } }), vec![])
    };
    send(&payee, vec![batch(&ids[..50], 1)?]).await?;
    send(&payee, vec![batch(&ids[50..], 1)?]).await?;
    let mut batch50 = 0;
    for (range, vm) in [(0..1, "7,942"), (1..11, "3,404"), (11..61, "3,153")] {
        let n = range.len() as u64;
        let out = send(&payee, vec![batch(&ids[range], 2)?]).await?;
        rows.add_per(
            &format!("payment-channel claim_batch of {n}, per voucher"),
            &out,
            n,
            vm,
        );
        batch50 = out.gas_used;
    }
    // A hashlocked voucher lodged before its secret is public.
    let lock = Hashlock::of_preimage(b"figures preimage");
    // Within the contract's 24 h horizon for lodged vouchers.
    let now = chain.block_time(chain.height().await?).await? / 1_000_000_000;
    let expiry = u64::try_from(now)? + 3_600;
    let v = Voucher {
        chain_id: net.chain_id.clone(),
        contract: pc.clone(),
        channel_id: ch,
        amount: Uint128::new(300),
        hashlock: Some(lock),
        expiry: Some(expiry),
    };
    let lodge = json!({ "lodge_voucher": { "channel_id": ch, "voucher": { "amount": "300",
        "hashlock": lock.to_hex(), "expiry": expiry, "signature": Binary::from(ed.sign(&v)?.to_vec()) } } });
    let out = send(&payee, vec![exec(&pc, lodge, vec![])?]).await?;
    rows.add("payment-channel lodge_voucher", &out, "14,894");
    // ids[0] was opened by the first batch payer.
    let closer = chain.client(BATCH_PAYERS);
    let out = send(
        &closer,
        vec![exec(
            &pc,
            json!({ "start_close": { "channel_id": ids[0] } }),
            vec![],
        )?],
    )
    .await?;
    rows.add("payment-channel start_close", &out, "11,674");
    let closing = out.height;

    // The registry and value-contract rows, the token-curated registry's
    // and the proposals and reports run at once (their own signers): most
    // of each is waiting for short phases to pass, and all of it fits in
    // the challenge period before `finalize`.
    let (mut tcr_rows, mut report_rows) = (rows.fork(), rows.fork());
    let (basics, tcr, reports) = tokio::join!(
        async {
            registry::rows(chain, &mut rows, &pc, &ed)
                .await
                .context("data-registry")?;
            value_rows(chain, &mut rows).await.context("value-contract")
        },
        async {
            tcr::rows(chain, &mut tcr_rows)
                .await
                .context("token-curated-registry")
        },
        async {
            reports::rows(chain, &mut report_rows)
                .await
                .context("value-contract proposals and reports")
        },
    );
    basics?;
    tcr?;
    let ratio = reports?;
    rows.rows.extend(tcr_rows.rows);
    rows.rows.extend(report_rows.rows);

    // finalize once the 60 s challenge period is over.
    let height_time = chain.block_time(closing).await?;
    loop {
        let h = chain.height().await?;
        if chain.block_time(h).await? > height_time + 61_000_000_000 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let out = send(
        &closer,
        vec![exec(
            &pc,
            json!({ "finalize": { "channel_id": ids[0] } }),
            vec![],
        )?],
    )
    .await?;
    rows.add("payment-channel finalize", &out, "21,648");

    let per = batch50 as f64 / 50.0;
    Ok(format!(
        "## Gas on wasmd\n\nThe yardstick, a cw20-base transfer tx, used **{}** gas on this chain.\n\n{}\n\
         A 50-voucher `claim_batch` tx used {batch50} gas: **{per:.0} per voucher, {:.3}× a cw20 \
         transfer tx** (goal ≤ 0.10: {}).\n\
         {ratio}\n\
         Not measured here: IBC payouts and callbacks (a second chain), queries (no tx).\n",
        rows.cw20,
        rows.render(),
        per / rows.cw20 as f64,
        if per / rows.cw20 as f64 <= 0.10 { "met" } else { "not met" }
    ))
}

async fn value_rows(chain: &Chain, rows: &mut Rows) -> Result<()> {
    let denom = chain.net.denom.clone();
    let coins = |n: u128| cosmwasm_std::coins(n, &denom);
    let code = chain.store(DEPLOYER, "value-contract").await?;
    let city = chain.client(CITY);
    let oracle = chain.client(ORACLE);
    // A 1-of-1 oracle set: this test attests itself.
    let key = relayer::services::oracle::OracleKey::from_bytes(
        relayer::services::oracle::KeySchemeConfig::Ed25519,
        wevalue_voucher::sha256(b"figures-oracle"),
    )?;
    let vc = instantiate(&city, code, json!({ "owner": null, "oracles": { "members": [{
        "address": oracle.sender(), "pubkey": Binary::from(key.public_key()), "scheme": "ed25519" }],
        "threshold": 1 } }), "figures value contract").await?;
    let template = json!({ "create_template": {
        "name": "Figures", "kind": "competition", "metric": "kwh_saved", "unit": "kWh", "asset": null,
        "durations": { "funding": 4, "matching": 8, "acceptance": 8, "execution": 1,
                       "verification": 120, "dispute": 1 },
        "min_quorum": 1, "tolerance_bps": 500, "max_participants": 4, "offer_deposit": "1000" } });
    send(&city, vec![exec(&vc, template, vec![])?]).await?;
    let create = json!({ "create_task": { "template_id": 1, "params": {
        "title": "Figures task", "description_cid": "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
        "asset": { "native": denom }, "funding_goal": "100000", "target": "0",
        "max_participants": 2, "bond": "0", "durations": {} } } });
    let out = send(&city, vec![exec(&vc, create, vec![])?]).await?;
    rows.add("value-contract create task from template", &out, "43,203");
    let out = send(
        &city,
        vec![exec(
            &vc,
            json!({ "contribute": { "task_id": 1 } }),
            coins(100_000),
        )?],
    )
    .await?;
    rows.add("value-contract contribute", &out, "18,942");
    let offer = json!({ "submit_offer": { "task_id": 1, "price": "0", "capacity": 1, "min_units": 1,
        "reputation_ref": null } });
    let mut people = vec![];
    for p in PARTICIPANTS {
        let c = chain.client(p);
        let out = send(&c, vec![exec(&vc, offer.clone(), coins(1_000))?]).await?;
        if people.is_empty() {
            rows.add(
                "value-contract submit offer (with its deposit)",
                &out,
                "23,805",
            );
        }
        people.push(c);
    }
    // A third offer, withdrawn.
    let late = chain.client(HOLDER);
    send(&late, vec![exec(&vc, offer.clone(), coins(1_000))?]).await?;
    let out = send(
        &late,
        vec![exec(
            &vc,
            json!({ "withdraw_offer": { "task_id": 1 } }),
            vec![],
        )?],
    )
    .await?;
    rows.add("value-contract withdraw offer", &out, "20,352");
    let t: Value = chain::query_smart(&*city, &vc, &json!({ "task": { "id": 1 } })).await?;
    let at = |name: &str| -> Result<u128> {
        t["terms"][name]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow!("no {name}"))
    };
    past(chain, at("matching_deadline")?).await?;
    for (i, c) in people.iter().enumerate() {
        let out = send(
            c,
            vec![exec(&vc, json!({ "confirm": { "task_id": 1 } }), vec![])?],
        )
        .await?;
        if i == 1 {
            rows.add("value-contract confirm (deposit back)", &out, "44,893");
        }
    }
    past(chain, at("execution_deadline")?).await?;
    // The contract wants participants in increasing address order.
    let mut addrs: Vec<String> = people.iter().map(|c| c.sender().to_string()).collect();
    addrs.sort();
    let values: Vec<Value> = addrs
        .iter()
        .enumerate()
        .map(|(i, a)| json!({ "participant": a, "value": (1_000 * (i + 1)).to_string() }))
        .collect();
    let attest = json!({ "attest": { "task_id": 1, "values": values, "evidence_cid":
        "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi" } });
    let out = send(&oracle, vec![exec(&vc, attest, vec![])?]).await?;
    rows.add(
        "value-contract attest, 1-of-1 set, 2 participants (settles both)",
        &out,
        "–",
    );
    // The dispute window (1 s) passes; the first claim settles the task.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let out = send(
        &people[0],
        vec![exec(&vc, json!({ "claim": { "task_id": 1 } }), vec![])?],
    )
    .await?;
    rows.add(
        "value-contract claim reward (first claim settles the task)",
        &out,
        "53,808",
    );
    let out = send(
        &people[1],
        vec![exec(&vc, json!({ "claim": { "task_id": 1 } }), vec![])?],
    )
    .await?;
    rows.add(
        "value-contract claim reward (already settled)",
        &out,
        "22,769",
    );
    Ok(())
}

/// Waits until block time reaches `nanos`.
async fn past(chain: &Chain, nanos: u128) -> Result<()> {
    for _ in 0..600 {
        let h = chain.height().await?;
        if chain.block_time(h).await? >= nanos {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    Err(anyhow!("block time did not reach {nanos} in 120 s"))
}
