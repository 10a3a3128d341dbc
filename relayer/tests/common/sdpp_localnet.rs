//! The SDPP marketplace on the wasmd localnet, for `localnet_sdpp.rs`: a
//! seller (a test actor of `ci/localnet/accounts.json`) deploys its own
//! payment channel and data registry (the channel as the registry's
//! purchase verifier), lists streams served by its gateway, and runs
//! `relayer run` as a separate process (gateway + watchtower on its own
//! SQLite file); a buyer runs `relayer buy` as another process. Ports are
//! taken below the kernel's ephemeral range, so a restarted daemon finds
//! its port free again (an ephemeral port can be taken by any outgoing
//! connection while the daemon is down).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use relayer::chain::{self, find_attr, query_smart, ChainMsg};
use relayer::config::RpcCompat;
use relayer::cosmos::{CosmosClient, CosmosOptions};
use relayer::deploy::{deploy_with, DeploySpec};
use relayer::keys::Signer;
use relayer::outbox::{Outbox, OutboxOptions};
use relayer::store::Store;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use wevalue_sdpp::crypto::GatewayKey;

pub const IGNORED: &str = "needs a wasmd localnet: ci/relayer-localnet-test.sh";
/// The environment variable the configs name for the signer's mnemonic.
const MNEMONIC_ENV: &str = "WEVALUE_LT_MNEMONIC";
const TX_TIMEOUT: Duration = Duration::from_secs(30);

/// The city chain of the running localnet.
pub struct Net {
    pub rpc: String,
    pub chain_id: String,
    pub denom: String,
    pub gas_price: f64,
}

pub fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

pub fn localnet() -> Net {
    let dir = std::env::var("WEVALUE_LOCALNET_DIR")
        .unwrap_or_else(|_| panic!("WEVALUE_LOCALNET_DIR is not set ({IGNORED})"));
    let path = Path::new(&dir).join("localnet.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} ({IGNORED})", path.display()));
    let info: Value = serde_json::from_str(&text).unwrap();
    let city = &info["chains"]["city"];
    let price = city["gas_price"].as_str().unwrap();
    let split = price.find(|c: char| c.is_ascii_alphabetic()).unwrap();
    Net {
        rpc: city["rpc"].as_str().unwrap().to_string(),
        chain_id: city["chain_id"].as_str().unwrap().to_string(),
        denom: price[split..].to_string(),
        gas_price: price[..split].parse().unwrap(),
    }
}

pub fn mnemonic(actor: &str) -> String {
    let text = std::fs::read_to_string(root().join("ci/localnet/accounts.json")).unwrap();
    let accounts: Value = serde_json::from_str(&text).unwrap();
    accounts["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == actor)
        .unwrap_or_else(|| panic!("no actor {actor}"))["mnemonic"]
        .as_str()
        .unwrap()
        .to_string()
}

/// An actor's secp256k1 account secret (BIP44 m/44'/118'/0'/0/0): the
/// seller certifies its gateway key with it, as a wallet's ADR-036 would.
pub fn account_secret(actor: &str) -> [u8; 32] {
    let seed = relayer::keys::parse_mnemonic(&mnemonic(actor))
        .unwrap()
        .to_seed_normalized("");
    let path = relayer::keys::hd_path(0).parse().unwrap();
    cosmrs::bip32::XPrv::derive_from_path(seed, &path)
        .unwrap()
        .private_key()
        .to_bytes()
        .into()
}

pub fn address(actor: &str) -> String {
    Signer::from_mnemonic(&mnemonic(actor), "wasm", 0)
        .unwrap()
        .address()
        .to_string()
}

pub fn client(net: &Net, actor: &str) -> Arc<CosmosClient> {
    let signer = Signer::from_mnemonic(&mnemonic(actor), "wasm", 0).unwrap();
    let options = CosmosOptions {
        chain_id: net.chain_id.clone(),
        rpc_url: net.rpc.clone(),
        compat: RpcCompat::V0_38,
        fee_denom: net.denom.clone(),
        gas_price: net.gas_price,
        gas_multiplier: 1.4,
        max_gas: 20_000_000,
        inclusion_timeout: TX_TIMEOUT,
        poll_interval: Duration::from_millis(100),
        timeout_blocks: 20,
    };
    Arc::new(CosmosClient::new(options, signer).unwrap())
}

/// A free loopback port below the ephemeral range (see the module doc).
pub fn free_port() -> u16 {
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    let (low, high) = (20_000u16, ephemeral.max(20_001));
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let start = std::process::id()
        .wrapping_mul(40_503)
        .wrapping_add(CALLS.fetch_add(97, std::sync::atomic::Ordering::Relaxed));
    let span = u32::from(high - low);
    (0..span)
        .map(|i| low + (start.wrapping_add(i) % span) as u16)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free loopback port below the ephemeral range")
}

/// Polls `check` every 100 ms until it gives a value, for up to `secs`.
pub async fn wait_for<T, F, Fut>(what: &str, secs: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {secs} s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A listing to create.
pub struct ListingSpec<'a> {
    pub title: &'a str,
    pub category: &'a str,
    pub latitude: &'a str,
    pub longitude: &'a str,
    pub price: u128,
    pub model: &'a str,
    pub endpoint: String,
}

/// One seller's marketplace: its contracts, deployment file and work dir.
pub struct Market {
    pub net: Net,
    pub dir: tempfile::TempDir,
    pub seller_actor: &'static str,
    pub seller: Arc<CosmosClient>,
    pub registry: String,
    pub channels: String,
    pub deployment: PathBuf,
}

/// Deploys a fresh payment channel and data registry as `seller_actor`
/// (labels unique per run, so a rerun on the same chain starts empty).
pub async fn deploy(seller_actor: &'static str, min_rating_units: u64) -> Market {
    use relayer::chain::ChainStatus;
    let net = localnet();
    let seller = client(&net, seller_actor);
    let dir = tempfile::tempdir().unwrap();
    let tag = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let spec = DeploySpec::parse(
        &format!(
            "[[instances]]\nname = 'payment-channel'\ncode = 'payment-channel'\nlabel = 'sdpp channels {tag}'\nadmin = 'none'\n\
             [instances.msg]\nmin_challenge_period = 60\nmax_challenge_period = 86400\n\
             [[instances]]\nname = 'data-registry'\ncode = 'data-registry'\nlabel = 'sdpp registry {tag}'\nadmin = 'none'\n\
             [instances.msg]\nallow_private_endpoints = true\npurchase_verifier = '${{contract:payment-channel}}'\nmin_rating_units = {min_rating_units}\n"
        ),
        "sdpp-lt.toml",
    )
    .unwrap();
    let journal = Arc::new(Store::open(dir.path().join("journal.sqlite")).unwrap());
    let outbox = Outbox::new(
        journal,
        seller.clone(),
        seller.chain_id(),
        OutboxOptions {
            inclusion_timeout: TX_TIMEOUT,
            ..OutboxOptions::default()
        },
    );
    let (deployment, _) = deploy_with(
        &*seller,
        &spec,
        &root().join("artifacts"),
        None,
        true,
        Some(&outbox),
    )
    .await
    .expect("deploy (artifacts/*.wasm: ci/build-wasm.sh)");
    let path = dir.path().join("deployment.json");
    deployment.save(&path).unwrap();
    Market {
        registry: deployment.address("data-registry").unwrap().to_string(),
        channels: deployment.address("payment-channel").unwrap().to_string(),
        net,
        dir,
        seller_actor,
        seller,
        deployment: path,
    }
}

impl Market {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Creates the listings in one tx; returns their ids.
    pub async fn list(&self, specs: &[ListingSpec<'_>]) -> Vec<u64> {
        let before: Value = self.query(&self.registry, &json!({ "config": {} })).await;
        let first = before["listing_count"].as_u64().unwrap() + 1;
        let msgs: Vec<ChainMsg> = specs
            .iter()
            .map(|l| {
                let msg = json!({ "create_listing": {
                    "title": l.title,
                    "description": "readings streamed over SDPP",
                    "category": l.category,
                    "sensor_type": "pm2.5",
                    "unit": "ug/m3",
                    "location": { "latitude": l.latitude, "longitude": l.longitude },
                    "price": { "asset": { "native": self.net.denom }, "amount": l.price.to_string(), "model": l.model },
                    "metadata_cid": "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
                    "endpoint": l.endpoint,
                    "terms": { "license": "CC-BY-4.0", "terms_hash": "07".repeat(32) }
                }});
                ChainMsg::execute(&self.registry, &msg, vec![]).unwrap()
            })
            .collect();
        let out = chain::submit(&*self.seller, &msgs, "", TX_TIMEOUT)
            .await
            .unwrap();
        assert_eq!(
            find_attr(&out.events, "wasm", "listing_id").map(|s| s.parse::<u64>().unwrap()),
            Some(first)
        );
        (first..first + specs.len() as u64).collect()
    }

    pub async fn query<T: DeserializeOwned>(&self, contract: &str, msg: &Value) -> T {
        query_smart(&*self.seller, contract, msg).await.unwrap()
    }

    pub fn seller_address(&self) -> String {
        use relayer::chain::TxClient;
        self.seller.sender().to_string()
    }

    /// The seller rates its own listing: the registry's refusal, as text.
    pub async fn rate_as_seller(&self, id: u64, score: u8) -> String {
        let msg = json!({ "rate": { "id": id, "score": score, "review_cid": null } });
        chain::execute(&*self.seller, &self.registry, &msg, vec![], TX_TIMEOUT)
            .await
            .expect_err("a seller rating its own listing")
            .to_string()
    }

    /// The channel as the contract answers it.
    pub async fn channel(&self, id: u64) -> Value {
        self.query(&self.channels, &json!({ "channel": { "channel_id": id } }))
            .await
    }

    /// A relayer config on the localnet (signer from `WEVALUE_LT_MNEMONIC`,
    /// the market's deployment file) with `extra` TOML appended.
    pub fn config(&self, name: &str, state: &Path, extra: &str) -> PathBuf {
        let path = self.path(name);
        let text = format!(
            "[telemetry]\nenabled = false\n[state]\npath = \"{state}\"\n[signer]\nmnemonic_env = \"{MNEMONIC_ENV}\"\n\
             [chain]\nid = \"{chain}\"\nbackend = \"cosmos\"\nfee_denom = \"{denom}\"\n\
             [chain.cosmos]\nrpc_url = \"{rpc}\"\ngas_price = {price}\n\
             [deploy]\ndeployment_file = \"{deployment}\"\n{extra}",
            state = state.display(),
            chain = self.net.chain_id,
            denom = self.net.denom,
            rpc = self.net.rpc,
            price = self.net.gas_price,
            deployment = self.deployment.display(),
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The gateway's key (mode 0600) and the seller's certificate for it
    /// (ADR-036 with the seller's account key, valid for a day).
    pub fn gateway_files(&self) -> (PathBuf, PathBuf) {
        use relayer::chain::TxClient;
        let secret = [0x47; 32];
        let not_after = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 86_400;
        let (seller, cert) = GatewayKey::certify(
            account_secret(self.seller_actor),
            "wasm",
            &self.net.chain_id,
            &self.registry,
            GatewayKey::public_key(secret),
            not_after,
        )
        .unwrap();
        assert_eq!(
            seller,
            self.seller.sender(),
            "the certificate names the seller"
        );
        let key = self.path("gateway.key");
        std::fs::write(&key, hex::encode(secret)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let certificate = self.path("gateway-certificate.json");
        std::fs::write(&certificate, serde_json::to_vec(&cert).unwrap()).unwrap();
        (key, certificate)
    }

    /// The seller's daemon config: watchtower (settling every second from 1
    /// unit) and gateway serving `listings` (TOML `[[gateway.listings]]`).
    pub fn seller_config(&self, gateway_port: u16, listings: &str) -> PathBuf {
        let (key, certificate) = self.gateway_files();
        let extra = format!(
            "[events]\npoll_interval_ms = 500\n\
             [watchtower]\nenabled = true\nlisten = \"127.0.0.1:{tower}\"\nmin_amount = \"1\"\nmax_age_seconds = 1\n\
             settle_interval_seconds = 1\npoll_interval_ms = 300\n\
             [gateway]\nenabled = true\nlisten = \"127.0.0.1:{gateway_port}\"\nkey_file = \"{key}\"\n\
             certificate_file = \"{certificate}\"\ncredit_window = 10\nmax_in_flight = 64\npayment_timeout_ms = 5000\n{listings}",
            tower = free_port(),
            key = key.display(),
            certificate = certificate.display(),
        );
        self.config("seller.toml", &self.path("seller.sqlite"), &extra)
    }

    /// `relayer buy` as `actor` on this market, with `args` (split at
    /// whitespace; the test's paths have none).
    pub fn buy(&self, actor: &str, args: &str) -> Command {
        let config = self.config(
            &format!("buyer-{actor}.toml"),
            &self.path(&format!("buyer-{actor}.sqlite")),
            "",
        );
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_relayer"));
        cmd.arg("buy")
            .arg("--config")
            .arg(config)
            .args(args.split_whitespace())
            .env(MNEMONIC_ENV, mnemonic(actor))
            .env_remove("WEVALUE_RELAYER_RPC_URL")
            .env_remove("WEVALUE_RELAYER_MNEMONIC_FILE");
        cmd
    }
}

/// The seller's daemon, `relayer run`, as a child process (killed on drop).
pub struct Daemon {
    child: Option<Child>,
    pub log: PathBuf,
    config: PathBuf,
    actor: &'static str,
    gateway_port: u16,
}

impl Daemon {
    /// Starts the daemon and waits until its gateway accepts connections.
    pub async fn start(market: &Market, config: PathBuf, gateway_port: u16) -> Daemon {
        let mut d = Daemon {
            child: None,
            log: market.path("seller.log"),
            config,
            actor: market.seller_actor,
            gateway_port,
        };
        d.spawn().await;
        d
    }

    async fn spawn(&mut self) {
        // Appended: the log of a restarted daemon follows the first one's.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_relayer"))
            .arg("run")
            .arg("--config")
            .arg(&self.config)
            .env(MNEMONIC_ENV, mnemonic(self.actor))
            .env("RUST_LOG", "info")
            .env_remove("WEVALUE_RELAYER_RPC_URL")
            .env_remove("WEVALUE_RELAYER_MNEMONIC_FILE")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.gateway_port)).is_err() {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("the seller daemon exited ({status}):\n{}", self.tail());
            }
            assert!(
                Instant::now() < deadline,
                "the gateway did not listen within 60 s:\n{}",
                self.tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The end of the daemon's log, for failure messages.
    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// SIGKILL: no shutdown, no flush, nothing but what is durable survives.
    pub fn sigkill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Starts it again on the same config (the same SQLite file).
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "stopped first");
        self.spawn().await;
    }

    /// SIGTERM and the exit status (a graceful shutdown).
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success());
        child.wait().unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The watchtower's durable best voucher of a channel, read from the
/// daemon's SQLite file (the daemon stopped or killed): amount, signature.
pub fn stored_voucher(state: &Path, contract: &str, channel: u64) -> Option<(u128, Vec<u8>)> {
    let db = rusqlite::Connection::open(state).unwrap();
    let row = db.query_row(
        "SELECT amount, signature FROM watchtower_vouchers WHERE contract = ?1 AND channel_id = ?2",
        rusqlite::params![contract, channel as i64],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)),
    );
    match row {
        Ok((amount, sig)) => Some((amount.parse().unwrap(), sig)),
        Err(rusqlite::Error::QueryReturnedNoRows) => None,
        Err(e) => panic!("{}: {e}", state.display()),
    }
}

/// The buyer's stream record in its state directory.
pub fn buyer_record(state_dir: &Path, listing: u64) -> Value {
    let path = state_dir.join(format!("listing-{listing}.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// Complete lines in a file being written.
pub fn count_lines(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|c| **c == b'\n').count())
        .unwrap_or(0)
}

/// The JSONL lines `relayer buy` wrote.
pub fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
