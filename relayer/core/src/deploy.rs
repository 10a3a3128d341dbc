//! `deploy`: store and instantiate contracts from a deploy spec and write a
//! deployment JSON (code ids, checksums, addresses). Idempotent: code that is
//! on the chain with the same checksum and instances that exist there with
//! the recorded code id are kept; only what is missing or changed is sent.
//!
//! **Crash-safe on a real chain** ([`deploy_with`] and a journal, which the
//! binary uses for the Cosmos backend): every store and instantiate goes
//! through an [`Outbox`] under a key naming what it creates
//! (`deploy/<chain>/store/<checksum>`, `deploy/<chain>/instantiate2/<salt>`),
//! and instances are created with `instantiate2` at an address that follows
//! from the code's checksum, the deployer and a salt of the instance's name,
//! label, admin and message. Killed at any point, a rerun finds the code it
//! stored (the journal's tx) and the instances it created (a contract at the
//! predicted address), even without the deployment file, and sends nothing
//! twice; a second run sends nothing at all.
//!
//! A spec is TOML:
//!
//! ```toml
//! [[instances]]
//! name = "registry"                 # key in the deployment file
//! code = "data-registry"            # contract registry name
//! label = "WeValue data registry"
//! admin = "none"                    # required: "none", "sender", "${contract:<name>}" or an address
//! funds = ""                        # coins sent with instantiate
//! [instances.msg]                   # the instantiate message
//! owner = "${sender}"               # ${sender}, ${contract:<name>} are substituted
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use cosmwasm_std::{Binary, CanonicalAddr};
use sha2::{Digest, Sha256};

use crate::chain::{
    find_attr, ChainMsg, ChainStatus, CodeClient, CodeInfo, CodeUpload, TxClient, TxOutcome,
};
use crate::coins::parse_coins;
use crate::contracts;
use crate::error::DeployError;
use crate::outbox::Outbox;
use crate::store::{OutboxEntry, OutboxStatus};

/// A deploy spec.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploySpec {
    /// Code to store even if no instance uses it.
    #[serde(default)]
    pub store_only: Vec<String>,
    /// Instances in dependency order.
    #[serde(default)]
    pub instances: Vec<InstanceSpec>,
}

/// One contract instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceSpec {
    /// Deployment key (unique).
    pub name: String,
    /// Contract registry name.
    pub code: String,
    /// wasmd label.
    pub label: String,
    /// Who may migrate it, named explicitly (never silently the deployer):
    /// `none`, `sender` (the deployer's key), `${contract:<name>}` (e.g. a
    /// DAO deployed before it) or an address.
    pub admin: String,
    /// Coins sent with instantiate (`"100ustake"`).
    #[serde(default)]
    pub funds: String,
    /// Instantiate message.
    pub msg: Value,
}

/// The deployment file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// Chain id.
    pub chain_id: String,
    /// Who deployed.
    pub deployer: String,
    /// Stored code by registry name.
    pub codes: BTreeMap<String, DeployedCode>,
    /// Instances by deployment key.
    pub contracts: BTreeMap<String, DeployedContract>,
}

/// A stored code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedCode {
    /// Code id.
    pub code_id: u64,
    /// sha256 of the wasm, hex.
    pub checksum: String,
}

/// An instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedContract {
    /// Registry name of its code.
    pub code: String,
    /// Code id.
    pub code_id: u64,
    /// Address.
    pub address: String,
    /// Label.
    pub label: String,
    /// Admin.
    pub admin: Option<String>,
}

/// What a deploy run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeployReport {
    /// Codes stored now.
    pub stored: Vec<String>,
    /// Codes already on chain with the same checksum.
    pub codes_kept: Vec<String>,
    /// Instances created now.
    pub instantiated: Vec<String>,
    /// Instances already on chain.
    pub contracts_kept: Vec<String>,
}

impl DeployReport {
    /// Nothing was sent to the chain.
    pub fn is_noop(&self) -> bool {
        self.stored.is_empty() && self.instantiated.is_empty()
    }
}

impl DeploySpec {
    /// Parses a spec file.
    pub fn load(path: &Path) -> Result<Self, DeployError> {
        let text = std::fs::read_to_string(path).map_err(|e| DeployError::Spec {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses spec text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, DeployError> {
        let err = |reason: String| DeployError::Spec {
            path: origin.to_string(),
            reason,
        };
        let spec: Self = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        spec.check().map_err(err)?;
        Ok(spec)
    }

    fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for i in &self.instances {
            if !seen.insert(&i.name) {
                return Err(format!("instance name `{}` is used twice", i.name));
            }
            if i.label.trim().is_empty() {
                return Err(format!("instance `{}` needs a label", i.name));
            }
            if i.admin.trim().is_empty() {
                return Err(format!(
                    "instance `{}` needs an admin: \"none\", \"sender\", \"${{contract:<name>}}\" or an address",
                    i.name
                ));
            }
            parse_coins(&i.funds).map_err(|e| format!("instance `{}` funds: {e}", i.name))?;
        }
        Ok(())
    }

    /// Registry names to store, in first-use order.
    pub fn codes(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for name in self
            .store_only
            .iter()
            .chain(self.instances.iter().map(|i| &i.code))
        {
            if !out.contains(name) {
                out.push(name.clone());
            }
        }
        out
    }
}

impl Deployment {
    /// Reads a deployment file; `None` if it does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>, DeployError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| DeployError::File {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DeployError::File {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }),
        }
    }

    /// Writes atomically (temp file + rename).
    pub fn save(&self, path: &Path) -> Result<(), DeployError> {
        let err = |reason: String| DeployError::File {
            path: path.to_path_buf(),
            reason,
        };
        let mut tmp = PathBuf::from(path);
        tmp.set_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(|e| err(e.to_string()))?;
        std::fs::write(&tmp, text + "\n").map_err(|e| err(e.to_string()))?;
        std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))
    }

    /// Address of an instance by deployment key.
    pub fn address(&self, name: &str) -> Option<&str> {
        self.contracts.get(name).map(|c| c.address.as_str())
    }
}

/// Replaces `${sender}` and `${contract:<name>}` strings in a message.
fn substitute(
    value: &Value,
    sender: &str,
    deployed: &Deployment,
    instance: &str,
) -> Result<Value, DeployError> {
    Ok(match value {
        Value::String(s) if s == "${sender}" => Value::String(sender.to_string()),
        Value::String(s) if s.starts_with("${contract:") && s.ends_with('}') => {
            let name = &s["${contract:".len()..s.len() - 1];
            let address =
                deployed
                    .address(name)
                    .ok_or_else(|| DeployError::UnresolvedReference {
                        instance: instance.to_string(),
                        missing: name.to_string(),
                    })?;
            Value::String(address.to_string())
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute(v, sender, deployed, instance))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), substitute(v, sender, deployed, instance)?)))
                .collect::<Result<_, DeployError>>()?,
        ),
        other => other.clone(),
    })
}

/// The sha256 `artifacts/checksums.txt` (written by `ci/build-wasm.sh`)
/// records for an artifact file, if it lists it.
pub fn recorded_checksum(artifacts_dir: &Path, file: &str) -> Option<String> {
    let text = std::fs::read_to_string(artifacts_dir.join("checksums.txt")).ok()?;
    text.lines().find_map(|line| {
        let (sum, name) = line.split_once(char::is_whitespace)?;
        (name.trim().trim_start_matches('*') == file).then(|| sum.trim().to_lowercase())
    })
}

/// Names of the instances a message refers to with `${contract:<name>}`.
fn references(msg: &serde_json::Value) -> Vec<String> {
    const MARK: &str = "${contract:";
    let text = msg.to_string();
    let mut names = vec![];
    let mut rest = text.as_str();
    while let Some(start) = rest.find(MARK) {
        rest = &rest[start + MARK.len()..];
        if let Some(end) = rest.find('}') {
            names.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    names
}

/// The salt of an instance's `instantiate2`: what makes it this instance.
pub fn instance_salt(name: &str, label: &str, admin: Option<&str>, msg: &Value) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [
        "wevalue-deploy/1",
        name,
        label,
        admin.unwrap_or(""),
        &msg.to_string(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

/// The address `instantiate2` gives code `checksum_hex` instantiated by
/// `creator` with `salt` (wasmd's predictable addresses).
pub fn predict_address(
    creator: &str,
    checksum_hex: &str,
    salt: &[u8],
) -> Result<String, DeployError> {
    let bad = |what: &str, e: String| DeployError::Journal(format!("{what}: {e}"));
    let (hrp, data) = bech32::decode(creator).map_err(|e| bad(creator, e.to_string()))?;
    let checksum = hex::decode(checksum_hex).map_err(|e| bad(checksum_hex, e.to_string()))?;
    let address = cosmwasm_std::instantiate2_address(&checksum, &CanonicalAddr::from(data), salt)
        .map_err(|e| bad("instantiate2 address", e.to_string()))?;
    bech32::encode::<bech32::Bech32>(hrp, address.as_slice())
        .map_err(|e| bad("instantiate2 address", e.to_string()))
}

/// The tx of a journal entry that must be done, with its events.
async fn journaled_outcome<C: TxClient + ?Sized>(
    chain: &C,
    entry: &OutboxEntry,
) -> Result<TxOutcome, DeployError> {
    if entry.status != OutboxStatus::Done {
        return Err(DeployError::Journal(format!(
            "{} is {}: {}",
            entry.key,
            entry.status.as_str(),
            entry.last_error.clone().unwrap_or_default()
        )));
    }
    let hash = entry
        .tx
        .as_ref()
        .map(|t| t.hash.clone())
        .ok_or_else(|| DeployError::Journal(format!("{} has no tx", entry.key)))?;
    Ok(chain
        .wait_for_tx(&hash, std::time::Duration::from_secs(60))
        .await?)
}

/// Stores code through the journal; `true` if it was stored now (not by an
/// earlier, interrupted run).
async fn store_journaled<C: TxClient + ?Sized>(
    chain: &C,
    outbox: &Outbox,
    wasm: &[u8],
    checksum: &str,
) -> Result<(CodeInfo, bool), DeployError> {
    let journal = |e: crate::outbox::OutboxError| DeployError::Journal(e.to_string());
    let key = format!("deploy/{}/store/{checksum}", outbox.chain_id());
    let before = outbox.entry_by_key(&key).await.map_err(journal)?;
    let now = !before.is_some_and(|e| e.status == OutboxStatus::Done);
    let msgs = [ChainMsg::StoreCode {
        wasm: Binary::from(wasm),
    }];
    let entry = outbox.submit(&key, &msgs, "").await.map_err(journal)?;
    let outcome = journaled_outcome(chain, &entry).await?;
    let code_id = find_attr(&outcome.events, "store_code", "code_id")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| DeployError::Journal(format!("{key}: no code_id in the tx's events")))?;
    let on_chain = find_attr(&outcome.events, "store_code", "code_checksum")
        .map(str::to_lowercase)
        .unwrap_or_else(|| checksum.to_string());
    Ok((
        CodeInfo {
            code_id,
            checksum: on_chain,
        },
        now,
    ))
}

/// Deploys a spec. `previous` is the last deployment file (if any);
/// `require_wasm` is true for real chains, which need the artifact bytes.
/// An artifact listed in `artifacts/checksums.txt` must have that checksum,
/// and so must the code the chain stores.
pub async fn deploy<C>(
    chain: &C,
    spec: &DeploySpec,
    artifacts_dir: &Path,
    previous: Option<&Deployment>,
    require_wasm: bool,
) -> Result<(Deployment, DeployReport), DeployError>
where
    C: CodeClient + TxClient + ChainStatus + ?Sized,
{
    deploy_with(chain, spec, artifacts_dir, previous, require_wasm, None).await
}

/// [`deploy`] with a journal (module docs): crash-safe, `instantiate2`.
pub async fn deploy_with<C>(
    chain: &C,
    spec: &DeploySpec,
    artifacts_dir: &Path,
    previous: Option<&Deployment>,
    require_wasm: bool,
    journal: Option<&Outbox>,
) -> Result<(Deployment, DeployReport), DeployError>
where
    C: CodeClient + TxClient + ChainStatus + ?Sized,
{
    let mut report = DeployReport::default();
    let mut deployment = Deployment {
        chain_id: chain.chain_id().to_string(),
        deployer: chain.sender().to_string(),
        ..Deployment::default()
    };
    // A deployment file of another chain says nothing about this one.
    let previous = previous.filter(|p| p.chain_id == deployment.chain_id);

    for name in spec.codes() {
        let entry = contracts::lookup(&name).ok_or_else(|| DeployError::UnknownCode {
            name: name.clone(),
            known: contracts::known_names(),
        })?;
        let path = entry.artifact_path(artifacts_dir);
        let wasm = entry
            .read_wasm(artifacts_dir)
            .map_err(|e| DeployError::Artifact {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if require_wasm && wasm.is_none() {
            return Err(DeployError::Artifact {
                path,
                reason: format!(
                    "missing: build it with `ci/build-wasm.sh {}`",
                    entry.artifact
                ),
            });
        }
        let checksum = contracts::embedded_checksum(&name, wasm.as_deref()).to_hex();
        let file = format!("{}.wasm", entry.artifact);
        let recorded = recorded_checksum(artifacts_dir, &file);
        if let (Some(recorded), Some(_)) = (&recorded, &wasm) {
            if *recorded != checksum {
                return Err(DeployError::Artifact {
                    path,
                    reason: format!(
                        "sha256 {checksum}, but artifacts/checksums.txt records {recorded}: rebuild with `ci/build-wasm.sh {}`",
                        entry.artifact
                    ),
                });
            }
        }
        let mut kept = None;
        if let Some(prev) = previous.and_then(|p| p.codes.get(&name)) {
            if prev.checksum == checksum {
                if let Some(info) = chain.code_info(prev.code_id).await? {
                    if info.checksum.eq_ignore_ascii_case(&checksum) {
                        kept = Some(prev.clone());
                    }
                }
            }
        }
        let have_wasm = wasm.is_some();
        let code = match kept {
            Some(code) => {
                tracing::info!(code = name, code_id = code.code_id, "code unchanged, kept");
                report.codes_kept.push(name.clone());
                code
            }
            None => {
                let (info, now) = match (journal, &wasm) {
                    (Some(outbox), Some(bytes)) => {
                        store_journaled(chain, outbox, bytes, &checksum).await?
                    }
                    _ => (
                        chain
                            .store_code(&CodeUpload {
                                name: name.clone(),
                                wasm: wasm.clone(),
                            })
                            .await?,
                        true,
                    ),
                };
                if have_wasm && !info.checksum.eq_ignore_ascii_case(&checksum) {
                    return Err(DeployError::Artifact {
                        path,
                        reason: format!(
                            "the chain stored code {} with checksum {}, not the artifact's {checksum}",
                            info.code_id, info.checksum
                        ),
                    });
                }
                tracing::info!(
                    code = name,
                    code_id = info.code_id,
                    checksum = info.checksum,
                    now,
                    "stored code"
                );
                if now {
                    report.stored.push(name.clone());
                } else {
                    report.codes_kept.push(name.clone());
                }
                DeployedCode {
                    code_id: info.code_id,
                    checksum: info.checksum,
                }
            }
        };
        deployment.codes.insert(name, code);
    }

    for inst in &spec.instances {
        let code = deployment.codes[&inst.code].clone();
        if let Some(outbox) = journal {
            instantiate_journaled(chain, outbox, inst, &code, &mut deployment, &mut report).await?;
            continue;
        }
        let code = &code;
        // An instance whose message names a contract recreated in this run
        // would still point at the old address: recreate it too.
        let refers_to_new = references(&inst.msg)
            .iter()
            .any(|name| report.instantiated.contains(name));
        if let Some(prev) = previous
            .and_then(|p| p.contracts.get(&inst.name))
            .filter(|_| !refers_to_new)
        {
            if prev.code_id == code.code_id {
                if let Some(info) = chain.contract_info(&prev.address).await? {
                    if info.code_id == code.code_id {
                        tracing::info!(
                            instance = inst.name,
                            address = prev.address,
                            "instance exists, kept"
                        );
                        report.contracts_kept.push(inst.name.clone());
                        deployment.contracts.insert(inst.name.clone(), prev.clone());
                        continue;
                    }
                }
            }
        }
        let msg = substitute(&inst.msg, chain.sender(), &deployment, &inst.name)?;
        let admin = match inst.admin.as_str() {
            "none" => None,
            "sender" => Some(chain.sender().to_string()),
            other => substitute(
                &Value::String(other.to_string()),
                chain.sender(),
                &deployment,
                &inst.name,
            )?
            .as_str()
            .map(str::to_string),
        };
        let funds = parse_coins(&inst.funds).map_err(|reason| DeployError::Spec {
            path: inst.name.clone(),
            reason,
        })?;
        let (address, _) = chain
            .instantiate(code.code_id, &msg, &inst.label, admin.clone(), funds)
            .await?;
        tracing::info!(instance = inst.name, address, "instantiated");
        report.instantiated.push(inst.name.clone());
        deployment.contracts.insert(
            inst.name.clone(),
            DeployedContract {
                code: inst.code.clone(),
                code_id: code.code_id,
                address,
                label: inst.label.clone(),
                admin,
            },
        );
    }
    Ok((deployment, report))
}

/// Admin of an instance: `none`, `sender`, or a `${contract:<name>}` or
/// address string.
fn resolve_admin<C: TxClient + ?Sized>(
    chain: &C,
    inst: &InstanceSpec,
    deployment: &Deployment,
) -> Result<Option<String>, DeployError> {
    Ok(match inst.admin.as_str() {
        "none" => None,
        "sender" => Some(chain.sender().to_string()),
        other => substitute(
            &Value::String(other.to_string()),
            chain.sender(),
            deployment,
            &inst.name,
        )?
        .as_str()
        .map(str::to_string),
    })
}

/// One instance through the journal with `instantiate2`: kept when a
/// contract of its code is at the predicted address already.
async fn instantiate_journaled<C>(
    chain: &C,
    outbox: &Outbox,
    inst: &InstanceSpec,
    code: &DeployedCode,
    deployment: &mut Deployment,
    report: &mut DeployReport,
) -> Result<(), DeployError>
where
    C: CodeClient + TxClient + ChainStatus + ?Sized,
{
    let msg = substitute(&inst.msg, chain.sender(), deployment, &inst.name)?;
    let admin = resolve_admin(chain, inst, deployment)?;
    let salt = instance_salt(&inst.name, &inst.label, admin.as_deref(), &msg);
    let address = predict_address(chain.sender(), &code.checksum, &salt)?;
    let record = DeployedContract {
        code: inst.code.clone(),
        code_id: code.code_id,
        address: address.clone(),
        label: inst.label.clone(),
        admin: admin.clone(),
    };
    match chain.contract_info(&address).await? {
        Some(info) if info.code_id == code.code_id => {
            tracing::info!(instance = inst.name, address, "instance exists, kept");
            report.contracts_kept.push(inst.name.clone());
            deployment.contracts.insert(inst.name.clone(), record);
            return Ok(());
        }
        Some(info) => {
            return Err(DeployError::Journal(format!(
                "{address} (instance `{}`) runs code {}, not {}",
                inst.name, info.code_id, code.code_id
            )))
        }
        None => {}
    }
    let funds = parse_coins(&inst.funds).map_err(|reason| DeployError::Spec {
        path: inst.name.clone(),
        reason,
    })?;
    let key = format!(
        "deploy/{}/instantiate2/{}",
        outbox.chain_id(),
        hex::encode(salt)
    );
    let msgs = [ChainMsg::Instantiate2 {
        code_id: code.code_id,
        msg: msg.to_string(),
        funds,
        label: inst.label.clone(),
        admin,
        salt: Binary::from(salt.to_vec()),
    }];
    let entry = outbox
        .submit(&key, &msgs, "")
        .await
        .map_err(|e| DeployError::Journal(e.to_string()))?;
    let outcome = journaled_outcome(chain, &entry).await?;
    let created = find_attr(&outcome.events, "instantiate", "_contract_address");
    if created != Some(address.as_str()) {
        return Err(DeployError::Journal(format!(
            "instance `{}`: predicted {address}, the chain created {created:?}",
            inst.name
        )));
    }
    tracing::info!(instance = inst.name, address, "instantiated (instantiate2)");
    report.instantiated.push(inst.name.clone());
    deployment.contracts.insert(inst.name.clone(), record);
    Ok(())
}
