//! The two chains of the localnet (`ci/localnet.sh up all`), their clients
//! and the payment-channel contract deployed on the city chain with the
//! transfer channel allowlisted.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cosmwasm_std::{Binary, Coin, Uint128};
use relayer::chain::{self, query_smart, ChainStatus, CodeClient, CodeUpload, TxOutcome};
use relayer::config::RpcCompat;
use relayer::cosmos::{CosmosClient, CosmosOptions};
use relayer::keys::Signer;
use serde_json::{json, Value};
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{Voucher, VoucherScheme};

// The localnet's test actors, the repository root and free ports are the
// SDPP localnet tests' (one definition for every localnet test tree).
pub use crate::lt::{free_port, mnemonic, root};

pub const IGNORED: &str = "needs two wasmd chains and Hermes: ci/ibc-localnet-test.sh";
pub const TX_TIMEOUT: Duration = Duration::from_secs(30);

/// One chain of the localnet.
#[derive(Clone, Debug)]
pub struct ChainInfo {
    pub chain_id: String,
    pub rpc: String,
    pub fee_denom: String,
    pub gas_price: f64,
    /// Its end of the ICS-20 transfer channel.
    pub channel: String,
}

/// Both chains, the channel between them and Hermes' config.
#[derive(Clone, Debug)]
pub struct Net {
    pub city: ChainInfo,
    pub hub: ChainInfo,
    pub hermes_config: PathBuf,
}

impl Net {
    pub fn load() -> Net {
        let dir = std::env::var("WEVALUE_LOCALNET_DIR")
            .unwrap_or_else(|_| panic!("WEVALUE_LOCALNET_DIR is not set ({IGNORED})"));
        let path = Path::new(&dir).join("localnet.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} ({IGNORED})", path.display()));
        let info: Value = serde_json::from_str(&text).unwrap();
        let chain = |name: &str| {
            let c = &info["chains"][name];
            let price = c["gas_price"].as_str().unwrap();
            let split = price.find(|ch: char| ch.is_ascii_alphabetic()).unwrap();
            ChainInfo {
                chain_id: c["chain_id"].as_str().unwrap().to_string(),
                rpc: c["rpc"].as_str().unwrap().to_string(),
                fee_denom: price[split..].to_string(),
                gas_price: price[..split].parse().unwrap(),
                channel: info["ibc"]["transfer"][name]["channel_id"]
                    .as_str()
                    .unwrap_or_else(|| panic!("no IBC channel in {} ({IGNORED})", path.display()))
                    .to_string(),
            }
        };
        Net {
            city: chain("city"),
            hub: chain("hub"),
            hermes_config: PathBuf::from(info["ibc"]["hermes_config"].as_str().unwrap()),
        }
    }

    /// The `ibc/…` denom `base` has on `to` after crossing from the other chain.
    pub fn voucher_denom(to: &ChainInfo, base: &str) -> String {
        payment_channel::ibc::deposit::ibc_denom(&format!("transfer/{}/{base}", to.channel))
    }
}

pub fn options(c: &ChainInfo) -> CosmosOptions {
    CosmosOptions {
        chain_id: c.chain_id.clone(),
        rpc_url: c.rpc.clone(),
        compat: RpcCompat::V0_38,
        fee_denom: c.fee_denom.clone(),
        gas_price: c.gas_price,
        gas_multiplier: 1.4,
        max_gas: 20_000_000,
        inclusion_timeout: Duration::from_secs(30),
        poll_interval: Duration::from_millis(100),
        timeout_blocks: 50,
    }
}

pub fn client(c: &ChainInfo, actor: &str) -> Arc<CosmosClient> {
    let signer = Signer::from_mnemonic(&mnemonic(actor), "wasm", 0).unwrap();
    Arc::new(CosmosClient::new(options(c), signer).unwrap())
}

/// Fee a tx with this gas limit paid: `ceil(gas × price)`, as the client sets it.
pub fn fee(c: &ChainInfo, outcome: &TxOutcome) -> u128 {
    (outcome.gas_wanted as f64 * c.gas_price).ceil() as u128
}

/// Stores the payment channel, instantiates it (the deployer owns it) and
/// allowlists the city's end of the transfer channel.
pub async fn deploy_payment_channel(net: &Net, deployer: &CosmosClient) -> String {
    let wasm = std::fs::read(root().join("artifacts/payment-channel.wasm"))
        .expect("artifacts/payment-channel.wasm: run ci/build-wasm.sh");
    let code = deployer
        .store_code(&CodeUpload {
            name: "payment-channel".into(),
            wasm: Some(wasm),
        })
        .await
        .unwrap();
    let msg = json!({ "owner": null, "min_challenge_period": 60, "max_challenge_period": 86_400 });
    let contract = deployer
        .instantiate(code.code_id, &msg, "payment-channel", None, vec![])
        .await
        .unwrap()
        .0;
    exec(
        deployer,
        &contract,
        &json!({ "update_allowlists": { "add_ibc_channels": [net.city.channel] } }),
        vec![],
    )
    .await;
    contract
}

pub async fn exec(
    client: &CosmosClient,
    contract: &str,
    msg: &Value,
    funds: Vec<Coin>,
) -> TxOutcome {
    chain::execute(client, contract, msg, funds, TX_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{msg}: {e}"))
}

pub async fn query(client: &CosmosClient, contract: &str, msg: &Value) -> Value {
    query_smart(client, contract, msg)
        .await
        .unwrap_or_else(|e| panic!("{msg}: {e}"))
}

/// The voucher key of a test channel.
pub fn voucher_key(seed: u8) -> VoucherSigner {
    VoucherSigner::from_secret(VoucherScheme::Ed25519, [seed; 32], "wasm").unwrap()
}

/// Opens a channel from `payer` to `payee` with `deposit` of the fee denom;
/// returns its id.
pub async fn open_channel(
    payer: &CosmosClient,
    contract: &str,
    payee: &str,
    key: &VoucherSigner,
    deposit: u128,
    denom: &str,
) -> u64 {
    let msg = json!({ "open": {
        "payee": payee,
        "pubkey": Binary::from(key.public_key()),
        "scheme": "ed25519",
        "challenge_period": null,
    }});
    let out = exec(payer, contract, &msg, vec![Coin::new(deposit, denom)]).await;
    chain::find_attr(&out.events, "wasm", "channel_id")
        .expect("open emits channel_id")
        .parse()
        .unwrap()
}

/// A signed voucher as JSON (for the watchtower's API or a claim).
pub fn voucher_json(
    key: &VoucherSigner,
    chain_id: &str,
    contract: &str,
    channel_id: u64,
    amount: u128,
) -> Value {
    let v = Voucher {
        chain_id: chain_id.into(),
        contract: contract.into(),
        channel_id,
        amount: Uint128::new(amount),
        hashlock: None,
        expiry: None,
    };
    json!({
        "channel_id": channel_id,
        "amount": amount.to_string(),
        "signature": Binary::from(key.sign(&v).unwrap().to_vec()),
    })
}

/// A plain HTTP/1.1 request on loopback; returns (status, body).
pub fn http(addr: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp[9..12].parse().unwrap();
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Polls `f` every 250 ms until it returns `Some`, for at most `limit`.
pub async fn until<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Latest block time of a chain, ns since the epoch.
pub async fn block_nanos(client: &CosmosClient) -> u64 {
    client.latest_block().await.unwrap().time_nanos
}

/// A `relayer run` process, stopped with SIGTERM on drop.
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    pub fn start(config: &Path, mnemonic_env: (&str, String), log: PathBuf) -> Daemon {
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_relayer"))
            .args(["run", "--config"])
            .arg(config)
            .env(mnemonic_env.0, mnemonic_env.1)
            .env("RUST_LOG", "info")
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .spawn()
            .unwrap();
        Daemon { child, log }
    }

    /// SIGTERM and wait (graceful: Hermes is stopped by the daemon).
    pub fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
        // A failed test shows what the daemon (and its Hermes) said.
        if std::thread::panicking() {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            eprintln!("--- {} (last 80 lines)", self.log.display());
            for l in &lines[lines.len().saturating_sub(80)..] {
                eprintln!("{l}");
            }
        }
    }
}
