//! The localnet as the trials see it: accounts derived from one funded test
//! actor (HD account indices, so 80 trial accounts need no genesis entry),
//! funding them in one tx, storing and instantiating contracts, and reading
//! what the chain recorded: every tx an account paid the fee for
//! (`tx_search` on `tx.fee_payer`, which failed txs carry too) and block
//! times.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use cosmrs::tx::Msg;
use relayer::chain::{self, CodeClient, CodeUpload, SignedTx, TxClient, TxOutcome};
use relayer::config::RpcCompat;
use relayer::cosmos::{fee_for, sign_tx, CosmosClient, CosmosOptions};
use relayer::keys::Signer;
use serde_json::Value;

use crate::lt;

/// The genesis-funded actor the trials' accounts derive from (its HD
/// account index 0 funds the others; no other test signs with it).
pub const TRIALS_FUNDER: &str = "test-07";
pub const TX_TIMEOUT: Duration = Duration::from_secs(45);

/// The chain plus a JSON-RPC client for what `CosmosClient` does not ask.
#[derive(Clone)]
pub struct Chain {
    pub net: Arc<lt::Net>,
    /// The test actor whose HD accounts sign.
    pub funder: &'static str,
    http: reqwest::Client,
}

/// One tx as the chain recorded it (every field shows in failure messages).
#[allow(dead_code)]
#[derive(Clone, Debug)]
pub struct ChainTx {
    pub height: u64,
    pub hash: String,
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub gas_used: u64,
    /// Fee paid, in the fee denom.
    pub fee: u128,
    /// The `action` attributes of its `wasm` events, in order.
    pub actions: Vec<String>,
}

impl Chain {
    pub fn new(funder: &'static str) -> Self {
        Self {
            net: Arc::new(lt::localnet()),
            funder,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
        }
    }

    pub fn signer(&self, index: u32) -> Signer {
        Signer::from_mnemonic(&lt::mnemonic(self.funder), "wasm", index)
            .expect("the funder's mnemonic")
    }

    pub fn address(&self, index: u32) -> String {
        self.signer(index).address().to_string()
    }

    /// A client signing as the funder's account `index`.
    pub fn client(&self, index: u32) -> Arc<CosmosClient> {
        let options = CosmosOptions {
            chain_id: self.net.chain_id.clone(),
            rpc_url: self.net.rpc.clone(),
            compat: RpcCompat::V0_38,
            fee_denom: self.net.denom.clone(),
            gas_price: self.net.gas_price,
            gas_multiplier: 1.4,
            max_gas: 40_000_000,
            inclusion_timeout: TX_TIMEOUT,
            poll_interval: Duration::from_millis(150),
            timeout_blocks: 60,
        };
        Arc::new(CosmosClient::new(options, self.signer(index)).expect("a client"))
    }

    /// Sends `amount` of the fee denom from account `from` to each address,
    /// in one tx of bank sends (the relayer's messages have no bank send).
    pub async fn fund(&self, from: u32, to: &[String], amount: u128) -> Result<TxOutcome> {
        let signer = self.signer(from);
        let client = self.client(from);
        let denom: cosmrs::Denom = self.net.denom.parse().map_err(|e| anyhow!("{e}"))?;
        let sender: cosmrs::AccountId = signer.address().parse().map_err(|e| anyhow!("{e}"))?;
        let mut msgs = vec![];
        for addr in to {
            let send = cosmrs::bank::MsgSend {
                from_address: sender.clone(),
                to_address: addr.parse().map_err(|e| anyhow!("{addr}: {e}"))?,
                amount: vec![cosmrs::Coin {
                    denom: denom.clone(),
                    amount,
                }],
            };
            msgs.push(send.to_any().map_err(|e| anyhow!("{e}"))?);
        }
        let gas_limit = 200_000 + 40_000 * to.len() as u64;
        let fee = fee_for(gas_limit, self.net.gas_price, &self.net.denom)?;
        let (number, sequence) = client.account().await?;
        let parts = sign_tx(
            &signer,
            &self.net.chain_id,
            number,
            sequence,
            msgs,
            "",
            fee,
            0,
        )?;
        let tx = SignedTx {
            hash: chain::tx_hash(&parts.tx_bytes),
            bytes: parts.tx_bytes,
            sequence,
            gas_limit,
            timeout_height: 0,
            signed_height: 0,
        };
        client.broadcast(&tx).await?;
        Ok(client
            .wait_for_tx(&tx.hash, TX_TIMEOUT)
            .await?
            .into_result()?)
    }

    /// Stores an artifact as account `from`; returns its code id.
    pub async fn store(&self, from: u32, name: &str) -> Result<u64> {
        let path = lt::root().join("artifacts").join(format!("{name}.wasm"));
        let wasm = std::fs::read(&path)
            .with_context(|| format!("{} (ci/build-wasm.sh)", path.display()))?;
        let info = self
            .client(from)
            .store_code(&CodeUpload {
                name: name.into(),
                wasm: Some(wasm),
            })
            .await?;
        Ok(info.code_id)
    }

    /// The account's balance in the fee denom.
    pub async fn balance(&self, address: &str) -> Result<u128> {
        use relayer::chain::ChainStatus;
        Ok(self.client(0).balance(address, &self.net.denom).await?)
    }

    pub async fn height(&self) -> Result<u64> {
        Ok(self.client(0).latest_height().await?)
    }

    async fn rpc(&self, method: &str, params: &[(&str, String)]) -> Result<Value> {
        let url = format!("{}/{method}", self.net.rpc);
        let resp: Value = self
            .http
            .get(&url)
            .query(params)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?
            .json()
            .await
            .with_context(|| format!("GET {url}: body"))?;
        if let Some(err) = resp.get("error") {
            bail!("{method}: {err}");
        }
        Ok(resp["result"].clone())
    }

    /// Block time of `height`, unix nanoseconds.
    pub async fn block_time(&self, height: u64) -> Result<u128> {
        let r = self
            .rpc("header", &[("height", height.to_string())])
            .await?;
        let time = r["header"]["time"]
            .as_str()
            .ok_or_else(|| anyhow!("header {height}: no time"))?;
        parse_rfc3339_nanos(time).ok_or_else(|| anyhow!("header {height}: time {time}"))
    }

    /// The first height at or below `upper` whose block time is at least
    /// `nanos`, walking back from `upper` (the distance is a few blocks).
    pub async fn first_block_at(&self, nanos: u128, upper: u64) -> Result<u64> {
        let mut h = upper;
        while h > 1 && self.block_time(h - 1).await? >= nanos {
            h -= 1;
        }
        Ok(h)
    }

    /// Every tx `payer` paid the fee for at heights ≥ `from`, in order.
    pub async fn txs_paid_by(&self, payer: &str, from: u64) -> Result<Vec<ChainTx>> {
        let query = format!("\"tx.fee_payer='{payer}' AND tx.height>={from}\"");
        let mut out = vec![];
        for page in 1..=20u32 {
            let r = self
                .rpc(
                    "tx_search",
                    &[
                        ("query", query.clone()),
                        ("page", page.to_string()),
                        ("per_page", "100".into()),
                        ("order_by", "\"asc\"".into()),
                    ],
                )
                .await?;
            let total: usize = r["total_count"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| anyhow!("tx_search: no total_count in {r}"))?;
            for tx in r["txs"].as_array().into_iter().flatten() {
                out.push(parse_tx(tx)?);
            }
            if out.len() >= total {
                return Ok(out);
            }
        }
        bail!("tx_search for {payer}: more than 2,000 txs")
    }
}

fn parse_tx(tx: &Value) -> Result<ChainTx> {
    let res = &tx["tx_result"];
    let num = |v: &Value| v.as_str().and_then(|s| s.parse::<u64>().ok());
    let mut fee = 0u128;
    let mut actions = vec![];
    for event in res["events"].as_array().into_iter().flatten() {
        let attrs = event["attributes"].as_array().cloned().unwrap_or_default();
        let attr = |key: &str| {
            attrs
                .iter()
                .find(|a| a["key"] == key)
                .and_then(|a| a["value"].as_str())
                .map(str::to_string)
        };
        match event["type"].as_str() {
            Some("tx") => {
                if let Some(f) = attr("fee") {
                    let digits: String = f.chars().take_while(char::is_ascii_digit).collect();
                    fee += digits.parse::<u128>().unwrap_or(0);
                }
            }
            Some("wasm") => actions.extend(attr("action")),
            _ => {}
        }
    }
    Ok(ChainTx {
        height: num(&tx["height"]).ok_or_else(|| anyhow!("tx without height: {tx}"))?,
        hash: tx["hash"].as_str().unwrap_or_default().to_string(),
        code: res["code"].as_u64().unwrap_or(0) as u32,
        codespace: res["codespace"].as_str().unwrap_or_default().to_string(),
        log: res["log"].as_str().unwrap_or_default().to_string(),
        gas_used: num(&res["gas_used"]).unwrap_or(0),
        fee,
        actions,
    })
}

/// `2024-05-01T10:00:00.123456789Z` → unix nanoseconds (UTC only, as
/// CometBFT writes it).
pub fn parse_rfc3339_nanos(s: &str) -> Option<u128> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|p| p.parse::<i64>());
    let (hh, mm, ss) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    let nanos: i64 = format!("{frac:0<9}")[..9].parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3_600 + mm * 60 + ss;
    u128::try_from(secs)
        .ok()
        .map(|s| s * 1_000_000_000 + nanos as u128)
}

#[test]
fn rfc3339_is_parsed_to_unix_nanoseconds() {
    assert_eq!(parse_rfc3339_nanos("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(
        parse_rfc3339_nanos("2024-02-29T12:34:56.5Z"),
        Some(1_709_210_096_500_000_000)
    );
    assert_eq!(
        parse_rfc3339_nanos("2025-12-02T10:08:53.123456789Z"),
        Some(1_764_670_133_123_456_789)
    );
    assert_eq!(parse_rfc3339_nanos("2025-12-02 10:08:53"), None);
}
