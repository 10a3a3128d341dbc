//! The devnet's chain side: the embedded chain with the suite deployed,
//! named actors, and transactions recorded per scenario step (gas, count).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cosmwasm_std::Coin;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::report::{Balance, Step};
use super::DevnetError;
use relayer_chain_embedded::{BlockMode, EmbeddedChain, EmbeddedClient, EmbeddedOptions};
use relayer_core::chain::{self, query_smart, ChainStatus, TxClient, TxOutcome};
use relayer_core::deploy::{deploy, DeploySpec, Deployment};
use relayer_core::metrics::Metrics;

/// The deploy spec the devnet uses: the one shipped as the example.
pub const SPEC: &str = include_str!("../../deploy.example.toml");
/// Native denom of the devnet (fees, channel deposits, task funds).
pub const DENOM: &str = "ustake";
/// Each actor starts with this much of [`DENOM`].
pub const START_BALANCE: u128 = 1_000_000_000;
const TX_TIMEOUT: Duration = Duration::from_secs(30);

/// The chain, the deployment and the actors.
pub struct Net {
    /// The embedded chain.
    pub chain: EmbeddedChain,
    /// Its chain id.
    pub chain_id: String,
    /// Contract addresses by deployment name.
    pub deployment: Deployment,
    /// The process's metrics: every relayer instance's outbox and services
    /// report into it, and `--serve` serves it.
    pub metrics: Arc<Metrics>,
    accounts: BTreeMap<String, String>,
    steps: Vec<Step>,
    /// SQLite files of the relayer instances, whose outbox transactions are
    /// counted into the step in which they landed.
    service_dbs: Vec<std::path::PathBuf>,
    service_seen: (u64, u64),
}

impl Net {
    /// Starts a chain (a block per broadcast; time moves only when the
    /// scenario says so, plus wall-clock time) and deploys the suite.
    pub async fn start(chain_id: &str, artifacts_dir: &Path) -> Result<Self, DevnetError> {
        let chain = EmbeddedChain::start(EmbeddedOptions {
            chain_id: chain_id.to_string(),
            prefix: "wasm".into(),
            block_mode: BlockMode::OnDemand,
            artifacts_dir: Some(artifacts_dir.to_path_buf()),
            ..EmbeddedOptions::default()
        })?;
        let mut net = Self {
            chain,
            chain_id: chain_id.to_string(),
            deployment: Deployment::default(),
            metrics: Arc::new(Metrics::new()),
            accounts: BTreeMap::new(),
            steps: vec![],
            service_dbs: vec![],
            service_seen: (0, 0),
        };
        let deployer = net.actor("deployer").await?;
        let mut spec = DeploySpec::parse(SPEC, "deploy.example.toml")?;
        // The devnet's SDPP endpoints are hosts of this machine and network;
        // a public deployment keeps the registry's default (refused).
        for instance in &mut spec.instances {
            if instance.code == "data-registry" {
                instance.msg["allow_private_endpoints"] = Value::Bool(true);
            }
        }
        let client = net.chain.client(deployer);
        let (deployment, _) = deploy(&client, &spec, artifacts_dir, None, false).await?;
        net.deployment = deployment;
        Ok(net)
    }

    /// The address of an actor, creating and funding it on first use.
    pub async fn actor(&mut self, label: &str) -> Result<String, DevnetError> {
        if let Some(a) = self.accounts.get(label) {
            return Ok(a.clone());
        }
        let address = account(label)?;
        self.chain
            .fund(&address, vec![Coin::new(START_BALANCE, DENOM)])
            .await?;
        self.accounts.insert(label.to_string(), address.clone());
        Ok(address)
    }

    /// The secp256k1 account secret of an actor (DEVNET ONLY: derived from
    /// its public label), e.g. for the seller to certify its gateway key.
    pub fn secret(label: &str) -> [u8; 32] {
        wevalue_voucher::sha256(format!("wevalue-devnet/account/{label}").as_bytes())
    }

    /// Address of an existing actor.
    pub fn addr(&self, label: &str) -> Result<String, DevnetError> {
        self.accounts
            .get(label)
            .cloned()
            .ok_or_else(|| DevnetError::Scenario(format!("no actor `{label}`")))
    }

    /// A client signing as an actor.
    pub fn client(&self, label: &str) -> Result<EmbeddedClient, DevnetError> {
        Ok(self.chain.client(self.addr(label)?))
    }

    /// Address of a deployed contract.
    pub fn contract(&self, name: &str) -> Result<String, DevnetError> {
        self.deployment
            .address(name)
            .map(str::to_string)
            .ok_or_else(|| DevnetError::Scenario(format!("contract `{name}` not deployed")))
    }

    /// Opens a scenario step; transactions are counted into it.
    pub fn step(&mut self, title: &str) -> Result<(), DevnetError> {
        self.close_step()?;
        self.steps.push(Step::new(title));
        Ok(())
    }

    /// Counts the relayer instances' transactions since the last step into
    /// the current one.
    pub fn close_step(&mut self) -> Result<(), DevnetError> {
        let mut total = (0, 0);
        for db in &self.service_dbs {
            if db.exists() {
                let (n, gas, _) = super::relayers::outbox_done(db, "")?;
                total.0 += n;
                total.1 += gas;
            }
        }
        let (n, gas) = (
            total.0.saturating_sub(self.service_seen.0),
            total.1.saturating_sub(self.service_seen.1),
        );
        self.service_seen = total;
        self.count_txs(n, gas);
        Ok(())
    }

    /// Where the relayer instances keep their state (see `close_step`).
    pub fn watch_services(&mut self, dbs: Vec<std::path::PathBuf>) {
        self.service_dbs = dbs;
    }

    /// Adds a line to the current step.
    pub fn note(&mut self, line: impl Into<String>) {
        if let Some(step) = self.steps.last_mut() {
            step.notes.push(line.into());
        }
    }

    /// Counts transactions someone else (a service) sent into the step.
    pub fn count_txs(&mut self, txs: u64, gas_used: u64) {
        if let Some(step) = self.steps.last_mut() {
            step.txs += txs as u32;
            step.gas += gas_used;
        }
    }

    /// The steps so far.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Executes a contract message as an actor; fails the step on a failed tx.
    pub async fn exec(
        &mut self,
        actor: &str,
        contract: &str,
        msg: &impl Serialize,
        funds: Vec<Coin>,
    ) -> Result<TxOutcome, DevnetError> {
        let client = self.client(actor)?;
        let address = self.contract(contract).or_else(|_| {
            // A literal address (a cw20 token created by the scenario).
            if contract.starts_with("wasm1") {
                Ok(contract.to_string())
            } else {
                Err(DevnetError::Scenario(format!(
                    "unknown contract `{contract}`"
                )))
            }
        })?;
        let outcome = chain::execute(&client, &address, msg, funds, TX_TIMEOUT)
            .await
            .map_err(|source| DevnetError::Tx {
                actor: actor.to_string(),
                contract: contract.to_string(),
                source: Box::new(source),
            })?;
        self.count_txs(1, outcome.gas_used);
        Ok(outcome)
    }

    /// A smart query of a deployed contract.
    pub async fn query<T: DeserializeOwned>(
        &self,
        contract: &str,
        msg: &impl Serialize,
    ) -> Result<T, DevnetError> {
        let client = self.client("deployer")?;
        Ok(query_smart(&client, &self.contract(contract)?, msg).await?)
    }

    /// Native balance of an actor.
    pub async fn balance(&self, actor: &str) -> Result<u128, DevnetError> {
        let client = self.client("deployer")?;
        Ok(client.balance(&self.addr(actor)?, DENOM).await?)
    }

    /// Balances of actors, for the report.
    pub async fn balances(&self, actors: &[&str]) -> Result<Vec<Balance>, DevnetError> {
        let mut out = vec![];
        for a in actors {
            out.push(Balance {
                actor: a.to_string(),
                amount: self.balance(a).await?,
            });
        }
        Ok(out)
    }

    /// Moves block time forward and commits a block.
    pub async fn advance(&self, secs: u64) -> Result<u64, DevnetError> {
        Ok(self
            .chain
            .advance_time(Duration::from_secs(secs))
            .await?
            .height)
    }

    /// Latest height.
    pub async fn height(&self) -> Result<u64, DevnetError> {
        let client = self.client("deployer")?;
        Ok(client.latest_block().await?.height)
    }

    /// Time of the latest block, nanoseconds since the epoch.
    pub async fn block_time_nanos(&self) -> Result<u64, DevnetError> {
        let client = self.client("deployer")?;
        Ok(client.latest_block().await?.time_nanos)
    }

    /// The next account sequence of an actor (a tx count).
    pub async fn sequence(&self, actor: &str) -> Result<u64, DevnetError> {
        Ok(self.client(actor)?.account_sequence().await?)
    }
}

/// Fails the scenario unless `ok`, naming what was expected.
pub fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), DevnetError> {
    if ok {
        Ok(())
    } else {
        Err(DevnetError::Check(what()))
    }
}

/// An actor's account address: that of its devnet secp256k1 key (as a
/// wallet derives it), so signatures by the actor's key name its address.
fn account(label: &str) -> Result<String, DevnetError> {
    use wevalue_voucher::sign::{account_address, VoucherSigner};
    let key = VoucherSigner::from_secret(
        wevalue_voucher::VoucherScheme::Secp256k1,
        Net::secret(label),
        "wasm",
    )
    .map_err(|e| DevnetError::Scenario(format!("devnet key of {label}: {e}")))?;
    account_address(&key.public_key(), "wasm")
        .map_err(|e| DevnetError::Scenario(format!("devnet address of {label}: {e}")))
}
