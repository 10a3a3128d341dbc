//! The devnet's chain side: a chain with the suite deployed (the embedded
//! chain in this process, or a running wasmd localnet), named actors, and
//! transactions recorded per scenario step (count, gas and fees from the
//! chain's tx results, block heights).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cosmwasm_std::Coin;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use zeroize::Zeroizing;

mod deploy;

use super::localnet::Localnet;
use super::report::{Balance, Step};
use super::timing::Timing;
use super::{ChainChoice, DevnetError, DevnetOptions};
use relayer_chain_embedded::{BlockMode, EmbeddedChain, EmbeddedOptions};
use relayer_core::chain::{self, find_attr, query_smart, Chain, ChainReader, TxOutcome};
use relayer_core::deploy::Deployment;
use relayer_core::metrics::Metrics;

/// The deploy spec the devnet uses: the one shipped as the example.
pub const SPEC: &str = include_str!("../../deploy.example.toml");
/// Native denom of the devnet (fees, channel deposits, task funds).
pub const DENOM: &str = "ustake";
/// Each actor of the embedded chain starts with this much of [`DENOM`].
pub const START_BALANCE: u128 = 1_000_000_000;
const TX_TIMEOUT: Duration = Duration::from_secs(60);

/// The chain behind the devnet.
pub enum Backend {
    /// cw-multi-test in this process: time jumps on request.
    Embedded(EmbeddedChain),
    /// A running wasmd localnet (both chains): time passes. Boxed: it is
    /// much larger than the embedded chain's handle.
    Localnet(Box<Localnet>),
}

/// One actor: its address, a client signing as it, its account secret.
struct Actor {
    address: String,
    chain: Arc<dyn Chain>,
    reader: Arc<dyn ChainReader>,
    secret: Zeroizing<[u8; 32]>,
}

/// One transaction of a batch sent together ([`Net::exec_all`]).
pub struct Tx {
    /// Who signs it.
    pub actor: String,
    /// Deployment name or a literal address.
    pub contract: String,
    /// The execute message.
    pub msg: Value,
    /// Funds sent along.
    pub funds: Vec<Coin>,
}

/// The chain, the deployment and the actors.
pub struct Net {
    /// The chain.
    pub backend: Backend,
    /// Its chain id.
    pub chain_id: String,
    /// Contract addresses by deployment name.
    pub deployment: Deployment,
    /// Where the deployment file is (the relayer processes read it).
    pub deployment_file: PathBuf,
    /// The process's metrics: every in-process relayer instance reports into
    /// it, and `--serve` serves it.
    pub metrics: Arc<Metrics>,
    /// Durations and cadences for this backend.
    pub timing: Timing,
    /// Height when the scenario started.
    pub start_height: u64,
    actors: BTreeMap<String, Actor>,
    fees: BTreeMap<String, u128>,
    steps: Vec<Step>,
    /// SQLite files of the relayer instances, whose outbox transactions are
    /// counted into the step in which they landed.
    service_dbs: Vec<PathBuf>,
}

impl Net {
    /// Connects the chosen chain and deploys the suite.
    pub async fn start(options: &DevnetOptions) -> Result<Self, DevnetError> {
        let (backend, chain_id, timing) = match &options.chain {
            ChainChoice::Embedded => {
                let chain = EmbeddedChain::start(EmbeddedOptions {
                    chain_id: options.chain_id.clone(),
                    prefix: "wasm".into(),
                    block_mode: BlockMode::OnDemand,
                    artifacts_dir: Some(options.artifacts_dir.clone()),
                    ..EmbeddedOptions::default()
                })?;
                let id = options.chain_id.clone();
                (Backend::Embedded(chain), id, Timing::embedded())
            }
            ChainChoice::Localnet(l) => {
                let localnet = Localnet::open(l)?;
                let id = localnet.chain_id.clone();
                (
                    Backend::Localnet(Box::new(localnet)),
                    id,
                    Timing::localnet(),
                )
            }
        };
        let mut net = Self {
            backend,
            chain_id,
            deployment: Deployment::default(),
            deployment_file: options.state_dir.join("deployment.json"),
            metrics: Arc::new(Metrics::new()),
            timing,
            start_height: 0,
            actors: BTreeMap::new(),
            fees: BTreeMap::new(),
            steps: vec![],
            service_dbs: vec![],
        };
        net.actor("deployer").await?;
        net.start_height = match (net.height().await, net.localnet()) {
            (Ok(h), _) => h,
            (Err(e), Some(l)) => {
                return Err(DevnetError::Option {
                    option: "--chain localnet",
                    reason: format!(
                        "the localnet at {} does not answer ({e}): start it with `ci/localnet.sh up all`",
                        l.rpc
                    ),
                })
            }
            (Err(e), None) => return Err(e),
        };
        Ok(net)
    }

    /// Whether the chain is a real one (time passes, fees are paid).
    pub fn is_localnet(&self) -> bool {
        matches!(self.backend, Backend::Localnet(_))
    }

    /// The localnet, if that is the chain.
    pub fn localnet(&self) -> Option<&Localnet> {
        match &self.backend {
            Backend::Localnet(l) => Some(l.as_ref()),
            Backend::Embedded(_) => None,
        }
    }

    /// What the chain is, for the report.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Embedded(_) => "embedded chain (cw-multi-test, in process)".into(),
            Backend::Localnet(l) => format!("wasmd localnet at {}", l.rpc),
        }
    }

    /// The address of an actor, creating it on first use (the embedded chain
    /// funds it; on the localnet it is a funded test actor of that name).
    pub async fn actor(&mut self, label: &str) -> Result<String, DevnetError> {
        if let Some(a) = self.actors.get(label) {
            return Ok(a.address.clone());
        }
        let actor = match &self.backend {
            Backend::Embedded(chain) => {
                let secret = embedded_secret(label);
                let address = embedded_address(label)?;
                chain
                    .fund(&address, vec![Coin::new(START_BALANCE, DENOM)])
                    .await?;
                let client = Arc::new(chain.client(address.clone()));
                Actor {
                    chain: client.clone(),
                    reader: client,
                    address,
                    secret: Zeroizing::new(secret),
                }
            }
            Backend::Localnet(l) => {
                let (client, secret) = l.client(label)?;
                Actor {
                    address: client.signer_address().to_string(),
                    chain: client.clone(),
                    reader: client,
                    secret,
                }
            }
        };
        let address = actor.address.clone();
        self.actors.insert(label.to_string(), actor);
        Ok(address)
    }

    /// The secp256k1 account secret of an actor (DEVNET ONLY: derived from
    /// its label on the embedded chain, a public test mnemonic on the
    /// localnet), e.g. for the seller to certify its gateway key.
    pub fn secret(&self, label: &str) -> Result<[u8; 32], DevnetError> {
        self.actors
            .get(label)
            .map(|a| *a.secret)
            .ok_or_else(|| DevnetError::Scenario(format!("no actor `{label}`")))
    }

    /// Address of an existing actor.
    pub fn addr(&self, label: &str) -> Result<String, DevnetError> {
        self.actors
            .get(label)
            .map(|a| a.address.clone())
            .ok_or_else(|| DevnetError::Scenario(format!("no actor `{label}`")))
    }

    /// A client signing as an actor.
    pub fn client(&self, label: &str) -> Result<Arc<dyn Chain>, DevnetError> {
        self.actors
            .get(label)
            .map(|a| a.chain.clone())
            .ok_or_else(|| DevnetError::Scenario(format!("no actor `{label}`")))
    }

    /// A read-only view of the chain (as an actor).
    pub fn reader(&self, label: &str) -> Result<Arc<dyn ChainReader>, DevnetError> {
        self.actors
            .get(label)
            .map(|a| a.reader.clone())
            .ok_or_else(|| DevnetError::Scenario(format!("no actor `{label}`")))
    }

    /// Address of a deployed contract, or a literal address.
    pub fn contract(&self, name: &str) -> Result<String, DevnetError> {
        if let Some(a) = self.deployment.address(name) {
            return Ok(a.to_string());
        }
        // A literal address (a cw20 token created by the scenario).
        if name.starts_with("wasm1") {
            return Ok(name.to_string());
        }
        Err(DevnetError::Scenario(format!(
            "contract `{name}` not deployed"
        )))
    }

    /// Opens a scenario step; transactions are counted into it.
    pub async fn step(&mut self, title: &str) -> Result<(), DevnetError> {
        self.close_step().await?;
        let height = self.height().await?;
        self.steps.push(Step::new(title, height));
        Ok(())
    }

    /// Ends the current step at the chain's height, and attributes the
    /// relayer instances' transactions to steps by inclusion height (a
    /// service records a tx as done a moment after it lands, so counting
    /// what is done when a step ends would put it in the wrong step).
    pub async fn close_step(&mut self) -> Result<(), DevnetError> {
        let height = self.height().await?;
        let mut included = vec![];
        for db in &self.service_dbs {
            if db.exists() {
                included.extend(super::relayers::outbox_included(db)?);
            }
        }
        let starts: Vec<u64> = self.steps.iter().map(|s| s.from_height).collect();
        for (i, step) in self.steps.iter_mut().enumerate() {
            // Step i holds the blocks after it began, up to the next one's start.
            let next = starts.get(i + 1).copied();
            let (n, gas, top) = included
                .iter()
                .filter(|(h, _)| *h > step.from_height && next.is_none_or(|n| *h <= n))
                .fold((0u32, 0u64, 0u64), |(n, g, t), (h, gas)| {
                    (n + 1, g + gas, t.max(*h))
                });
            step.txs = step.txs - step.service_txs + n;
            step.gas = step.gas - step.service_gas + gas;
            (step.service_txs, step.service_gas) = (n, gas);
            step.to_height = step.to_height.max(top);
        }
        if let Some(step) = self.steps.last_mut() {
            step.to_height = step.to_height.max(height);
            step.secs = step.started.elapsed().as_secs_f64();
        }
        Ok(())
    }

    /// Where the relayer instances keep their state (see `close_step`).
    pub fn watch_services(&mut self, dbs: Vec<PathBuf>) {
        self.service_dbs = dbs;
    }

    /// Adds a line to the current step.
    pub fn note(&mut self, line: impl Into<String>) {
        if let Some(step) = self.steps.last_mut() {
            step.notes.push(line.into());
        }
    }

    fn record(&mut self, actor: &str, outcome: &TxOutcome) {
        let fee = fee_of(outcome);
        *self.fees.entry(actor.to_string()).or_default() += fee;
        if let Some(step) = self.steps.last_mut() {
            step.txs += 1;
            step.gas += outcome.gas_used;
            step.fees += fee;
            step.to_height = step.to_height.max(outcome.height);
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
        let address = self.contract(contract)?;
        let outcome = chain::execute(client.as_ref(), &address, msg, funds, TX_TIMEOUT)
            .await
            .map_err(|source| tx_error(actor, contract, source))?;
        self.record(actor, &outcome);
        Ok(outcome)
    }

    /// Executes several messages at once, each by its own actor (no actor
    /// twice: each signs at its next sequence); they land in the same or
    /// nearby blocks. Fails on the first failed tx, after all finished.
    pub async fn exec_all(&mut self, txs: Vec<Tx>) -> Result<Vec<TxOutcome>, DevnetError> {
        let mut seen = std::collections::BTreeSet::new();
        let mut pending = vec![];
        for tx in &txs {
            if !seen.insert(tx.actor.as_str()) {
                return Err(DevnetError::Scenario(format!(
                    "`{}` signs twice in one batch",
                    tx.actor
                )));
            }
            let client = self.client(&tx.actor)?;
            let address = self.contract(&tx.contract)?;
            pending.push(async move {
                chain::execute(
                    client.as_ref(),
                    &address,
                    &tx.msg,
                    tx.funds.clone(),
                    TX_TIMEOUT,
                )
                .await
                .map_err(|source| tx_error(&tx.actor, &tx.contract, source))
            });
        }
        let results = futures_util::future::join_all(pending).await;
        let mut out = vec![];
        for (tx, result) in txs.iter().zip(results) {
            let outcome = result?;
            self.record(&tx.actor, &outcome);
            out.push(outcome);
        }
        Ok(out)
    }

    /// A smart query of a deployed contract.
    pub async fn query<T: DeserializeOwned>(
        &self,
        contract: &str,
        msg: &impl Serialize,
    ) -> Result<T, DevnetError> {
        let client = self.client("deployer")?;
        Ok(query_smart(client.as_ref(), &self.contract(contract)?, msg).await?)
    }

    /// Native balance of an actor.
    pub async fn balance(&self, actor: &str) -> Result<u128, DevnetError> {
        let client = self.client("deployer")?;
        Ok(client.balance(&self.addr(actor)?, DENOM).await?)
    }

    /// Fees an actor's scenario txs have paid so far (0 on the embedded chain).
    pub fn fees(&self, actor: &str) -> u128 {
        self.fees.get(actor).copied().unwrap_or(0)
    }

    /// Balance plus the fees paid so far: what changes only by the
    /// scenario's transfers, so checks hold on a chain that charges fees.
    pub async fn gross(&self, actor: &str) -> Result<u128, DevnetError> {
        Ok(self.balance(actor).await? + self.fees(actor))
    }

    /// Balances of actors (with the fees paid so far), for the report.
    pub async fn balances(&self, actors: &[&str]) -> Result<Vec<Balance>, DevnetError> {
        let mut out = vec![];
        for a in actors {
            out.push(Balance {
                actor: a.to_string(),
                amount: self.balance(a).await?,
                fees: self.fees(a),
            });
        }
        Ok(out)
    }

    /// Moves block time past `at` (ns since the epoch): the embedded chain
    /// jumps there, on a real chain this waits until a block is past it.
    /// Returns the height then.
    pub async fn advance_to(&self, at: u64) -> Result<u64, DevnetError> {
        let now = self.block_time_nanos().await?;
        match &self.backend {
            Backend::Embedded(chain) => {
                let by = Duration::from_nanos(at.saturating_sub(now)) + Duration::from_secs(1);
                Ok(chain.advance_time(by).await?.height)
            }
            Backend::Localnet(_) => {
                let wait = Duration::from_nanos(at.saturating_sub(now));
                let deadline = Instant::now() + wait + Duration::from_secs(60);
                loop {
                    let block = self.client("deployer")?.latest_block().await?;
                    if block.time_nanos > at {
                        return Ok(block.height);
                    }
                    if Instant::now() > deadline {
                        return Err(DevnetError::Check(format!(
                            "the chain's block time did not pass {at} ns (at {} ns, height {})",
                            block.time_nanos, block.height
                        )));
                    }
                    tokio::time::sleep(self.timing.poll).await;
                }
            }
        }
    }

    /// Moves block time `secs` forward (see [`Net::advance_to`]).
    pub async fn advance(&self, secs: u64) -> Result<u64, DevnetError> {
        let now = self.block_time_nanos().await?;
        self.advance_to(now + secs * 1_000_000_000).await
    }

    /// Latest height.
    pub async fn height(&self) -> Result<u64, DevnetError> {
        Ok(self.client("deployer")?.latest_block().await?.height)
    }

    /// Time of the latest block, nanoseconds since the epoch.
    pub async fn block_time_nanos(&self) -> Result<u64, DevnetError> {
        Ok(self.client("deployer")?.latest_block().await?.time_nanos)
    }

    /// Stops the embedded chain (a localnet is left running: it is not ours).
    pub fn shutdown(&self) {
        if let Backend::Embedded(chain) = &self.backend {
            chain.shutdown();
        }
    }
}

fn tx_error(actor: &str, contract: &str, source: relayer_core::ChainError) -> DevnetError {
    DevnetError::Tx {
        actor: actor.to_string(),
        contract: contract.to_string(),
        source: Box::new(source),
    }
}

/// The fee a tx paid, from its `tx.fee` event (`"1234ustake"`); 0 when the
/// chain charges none (the embedded chain).
pub fn fee_of(outcome: &TxOutcome) -> u128 {
    find_attr(&outcome.events, "tx", "fee")
        .and_then(|fee| {
            fee.split(',')
                .find_map(|coin| coin.trim().strip_suffix(DENOM)?.parse::<u128>().ok())
        })
        .unwrap_or(0)
}

/// Fails the scenario unless `ok`, naming what was expected.
pub fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), DevnetError> {
    if ok {
        Ok(())
    } else {
        Err(DevnetError::Check(what()))
    }
}

/// The embedded chain's account secret of an actor (public: its label).
fn embedded_secret(label: &str) -> [u8; 32] {
    wevalue_voucher::sha256(format!("wevalue-devnet/account/{label}").as_bytes())
}

/// An actor's account address on the embedded chain: that of its devnet
/// secp256k1 key (as a wallet derives it), so signatures by the actor's key
/// name its address.
fn embedded_address(label: &str) -> Result<String, DevnetError> {
    use wevalue_voucher::sign::{account_address, VoucherSigner};
    let key = VoucherSigner::from_secret(
        wevalue_voucher::VoucherScheme::Secp256k1,
        embedded_secret(label),
        "wasm",
    )
    .map_err(|e| DevnetError::Scenario(format!("devnet key of {label}: {e}")))?;
    account_address(&key.public_key(), "wasm")
        .map_err(|e| DevnetError::Scenario(format!("devnet address of {label}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use relayer_core::chain::{Attribute, Event};

    fn outcome(events: Vec<Event>) -> TxOutcome {
        TxOutcome {
            hash: "H".into(),
            height: 7,
            code: 0,
            codespace: String::new(),
            log: String::new(),
            gas_used: 100,
            gas_wanted: 140,
            events,
        }
    }

    #[test]
    fn the_fee_comes_from_the_txs_fee_event() {
        let fee = |v: &str| Event {
            ty: "tx".into(),
            attributes: vec![Attribute {
                key: "fee".into(),
                value: v.into(),
            }],
        };
        assert_eq!(fee_of(&outcome(vec![fee("3500ustake")])), 3_500);
        assert_eq!(fee_of(&outcome(vec![fee("7uatom,3500ustake")])), 3_500);
        assert_eq!(fee_of(&outcome(vec![fee("")])), 0);
        assert_eq!(fee_of(&outcome(vec![])), 0);
    }
}
