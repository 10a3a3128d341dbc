//! The devnet on a running wasmd localnet (`ci/localnet.sh up all`): the
//! city chain's and the hub's endpoints and the ICS-20 channel between them
//! from the localnet's `localnet.json`, the funded test actors from
//! `ci/localnet/accounts.json` (TEST-ONLY mnemonics; the same keys on both
//! chains), a signing client per actor and chain, and the settings the
//! relayer processes are configured with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use zeroize::Zeroizing;

use super::DevnetError;
use relayer_chain_cosmos::{
    hd_path, parse_mnemonic, CosmosClient, CosmosOptions, RpcCompat, Signer,
};

/// Where the localnet and its actors are, and which binary runs the relayer
/// instances.
#[derive(Clone, Debug)]
pub struct LocalnetOptions {
    /// The localnet's state folder (`WEVALUE_LOCALNET_DIR`), holding
    /// `localnet.json`.
    pub dir: PathBuf,
    /// The test actors' mnemonics (`ci/localnet/accounts.json`).
    pub accounts: PathBuf,
    /// The `relayer` binary the instances run as (`relayer run --config`).
    pub relayer_exe: PathBuf,
}

/// The settlement hub of the localnet and the ICS-20 channel to it.
#[derive(Clone, Debug)]
pub struct Hub {
    /// Chain id (`wevalue-hub-1`).
    pub chain_id: String,
    /// CometBFT RPC URL.
    pub rpc: String,
    /// Fee (and deposit) denom.
    pub fee_denom: String,
    /// Minimum gas price, per gas unit.
    pub gas_price: f64,
    /// The city chain's end of the transfer channel (`channel-<n>`).
    pub city_channel: String,
    /// The hub's end of it.
    pub hub_channel: String,
    /// Hermes' config (written by `ci/localnet.sh`: both chains, its key).
    pub hermes_config: PathBuf,
    /// The `hermes` binary: `$WEVALUE_HERMES`, else `~/.cargo/bin/hermes`
    /// (where `ci/install-hermes.sh` puts it).
    pub hermes: PathBuf,
}

/// The chains of a running localnet and its actors' keys.
pub struct Localnet {
    /// Chain id (`wevalue-city-1`).
    pub chain_id: String,
    /// CometBFT RPC URL.
    pub rpc: String,
    /// Fee denom of the minimum gas price.
    pub fee_denom: String,
    /// Minimum gas price, per gas unit.
    pub gas_price: f64,
    /// The relayer binary.
    pub relayer_exe: PathBuf,
    /// The settlement hub and the transfer channel.
    pub hub: Hub,
    mnemonics: BTreeMap<String, Zeroizing<String>>,
}

fn bad(path: &Path, reason: impl Into<String>) -> DevnetError {
    DevnetError::Option {
        option: "--chain localnet",
        reason: format!("{}: {}", path.display(), reason.into()),
    }
}

fn read_json(path: &Path, hint: &str) -> Result<Value, DevnetError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(path, format!("{e} ({hint})")))?;
    serde_json::from_str(&text).map_err(|e| bad(path, e.to_string()))
}

/// `"0.025ustake"` → (0.025, "ustake").
fn split_price(price: &str) -> Option<(f64, String)> {
    let at = price.find(|c: char| c.is_ascii_alphabetic())?;
    let amount = price[..at].parse().ok()?;
    Some((amount, price[at..].to_string()))
}

/// `info[path…]` as a string, or an error naming the missing field.
fn text_at(info: &Value, info_path: &Path, path: &[&str]) -> Result<String, DevnetError> {
    path.iter()
        .fold(info, |v, key| &v[*key])
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| {
            bad(
                info_path,
                format!(
                    "{} is missing (start both chains and their channel with `ci/localnet.sh up all`)",
                    path.join(".")
                ),
            )
        })
}

/// (chain id, RPC, gas price, fee denom) of `chains.<name>`.
fn chain_at(
    info: &Value,
    info_path: &Path,
    name: &str,
) -> Result<(String, String, f64, String), DevnetError> {
    let field = |key: &str| text_at(info, info_path, &["chains", name, key]);
    let (chain_id, rpc, price) = (field("chain_id")?, field("rpc")?, field("gas_price")?);
    let (gas_price, fee_denom) = split_price(&price).ok_or_else(|| {
        bad(
            info_path,
            format!("gas price {price:?} is not <amount><denom>"),
        )
    })?;
    Ok((chain_id, rpc, gas_price, fee_denom))
}

fn hermes_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("WEVALUE_HERMES") {
        return path.into();
    }
    match std::env::var_os("HOME") {
        Some(home) => Path::new(&home).join(".cargo/bin/hermes"),
        None => PathBuf::from("hermes"),
    }
}

impl Localnet {
    /// Reads `localnet.json` (both chains and their transfer channel) and
    /// the actors' mnemonics.
    pub fn open(options: &LocalnetOptions) -> Result<Self, DevnetError> {
        let info_path = options.dir.join("localnet.json");
        let info = read_json(
            &info_path,
            "start the chains with `ci/localnet.sh up all` and point --localnet-dir \
             (or WEVALUE_LOCALNET_DIR) at its folder",
        )?;
        let (chain_id, rpc, gas_price, fee_denom) = chain_at(&info, &info_path, "city")?;
        let (hub_id, hub_rpc, hub_price, hub_denom) = chain_at(&info, &info_path, "hub")?;
        let hub = Hub {
            chain_id: hub_id,
            rpc: hub_rpc,
            fee_denom: hub_denom,
            gas_price: hub_price,
            city_channel: text_at(
                &info,
                &info_path,
                &["ibc", "transfer", "city", "channel_id"],
            )?,
            hub_channel: text_at(&info, &info_path, &["ibc", "transfer", "hub", "channel_id"])?,
            hermes_config: text_at(&info, &info_path, &["ibc", "hermes_config"])?.into(),
            hermes: hermes_binary(),
        };
        let accounts = read_json(&options.accounts, "the localnet's test actors")?;
        let mut mnemonics = BTreeMap::new();
        for actor in accounts["actors"].as_array().into_iter().flatten() {
            if let (Some(name), Some(phrase)) = (actor["name"].as_str(), actor["mnemonic"].as_str())
            {
                mnemonics.insert(name.to_string(), Zeroizing::new(phrase.to_string()));
            }
        }
        if mnemonics.is_empty() {
            return Err(bad(&options.accounts, "no actors with a mnemonic"));
        }
        Ok(Self {
            chain_id,
            rpc,
            fee_denom,
            gas_price,
            relayer_exe: options.relayer_exe.clone(),
            hub,
            mnemonics,
        })
    }

    /// The test mnemonic of an actor.
    pub fn mnemonic(&self, label: &str) -> Result<&str, DevnetError> {
        self.mnemonics
            .get(label)
            .map(|m| m.as_str())
            .ok_or_else(|| {
                DevnetError::Scenario(format!(
                    "no test actor `{label}` in the localnet's accounts file"
                ))
            })
    }

    /// The actor's key (BIP44 account 0, prefix `wasm`).
    pub fn signer(&self, label: &str) -> Result<Signer, DevnetError> {
        Signer::from_mnemonic(self.mnemonic(label)?, "wasm", 0)
            .map_err(|e| DevnetError::Scenario(format!("key of `{label}`: {e}")))
    }

    /// Client settings: the scenario's own txs wait at most 60 s.
    pub fn client_options(&self) -> CosmosOptions {
        CosmosOptions {
            chain_id: self.chain_id.clone(),
            rpc_url: self.rpc.clone(),
            compat: RpcCompat::V0_38,
            fee_denom: self.fee_denom.clone(),
            gas_price: self.gas_price,
            gas_multiplier: GAS_MULTIPLIER,
            max_gas: MAX_GAS,
            inclusion_timeout: Duration::from_secs(60),
            poll_interval: Duration::from_millis(100),
            timeout_blocks: TIMEOUT_BLOCKS,
        }
    }

    /// The actor's secp256k1 account secret, derived as its signer is
    /// (BIP39 seed, `m/44'/118'/0'/0/0`): the seller certifies its gateway
    /// key with it.
    pub fn secret(&self, label: &str) -> Result<Zeroizing<[u8; 32]>, DevnetError> {
        let err = |e: String| DevnetError::Scenario(format!("key of `{label}`: {e}"));
        let mnemonic = parse_mnemonic(self.mnemonic(label)?).map_err(|e| err(e.to_string()))?;
        let seed = Zeroizing::new(mnemonic.to_seed_normalized(""));
        let path: bip32::DerivationPath = hd_path(0).parse().map_err(|e| err(format!("{e}")))?;
        let xprv =
            bip32::XPrv::derive_from_path(seed.as_ref(), &path).map_err(|e| err(e.to_string()))?;
        Ok(Zeroizing::new(xprv.private_key().to_bytes().into()))
    }

    /// A signing client for an actor on the hub (the same key as on the
    /// city chain; the hub's prefix is `wasm` too).
    pub fn hub_client(&self, label: &str) -> Result<Arc<CosmosClient>, DevnetError> {
        let options = CosmosOptions {
            chain_id: self.hub.chain_id.clone(),
            rpc_url: self.hub.rpc.clone(),
            fee_denom: self.hub.fee_denom.clone(),
            gas_price: self.hub.gas_price,
            ..self.client_options()
        };
        Ok(Arc::new(CosmosClient::new(options, self.signer(label)?)?))
    }

    /// A signing client for an actor, and its account secret.
    pub fn client(
        &self,
        label: &str,
    ) -> Result<(Arc<CosmosClient>, Zeroizing<[u8; 32]>), DevnetError> {
        let client = CosmosClient::new(self.client_options(), self.signer(label)?)?;
        Ok((Arc::new(client), self.secret(label)?))
    }
}

/// Simulated gas × this is the gas limit (wasm execution estimates vary a little).
pub const GAS_MULTIPLIER: f64 = 1.4;
/// Largest gas limit (a wasm upload needs a few million).
pub const MAX_GAS: u64 = 30_000_000;
/// Txs time out this many blocks after signing (~20 s of 300-500 ms blocks).
pub const TIMEOUT_BLOCKS: u64 = 50;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gas_price_splits_into_amount_and_denom() {
        assert_eq!(split_price("0.025ustake"), Some((0.025, "ustake".into())));
        assert_eq!(split_price("1uhub"), Some((1.0, "uhub".into())));
        assert_eq!(split_price("ustake"), None);
        assert_eq!(split_price("0.025"), None);
    }

    /// The localnet of a test: no chain, the repository's accounts file.
    fn fixture(dir: &Path) -> LocalnetOptions {
        std::fs::write(
            dir.join("localnet.json"),
            r#"{"chains":{"city":{"chain_id":"wevalue-city-1","denom":"ustake",
                "rpc":"http://127.0.0.1:26657","gas_price":"0.025ustake"},
                "hub":{"chain_id":"wevalue-hub-1","denom":"uhub",
                "rpc":"http://127.0.0.1:26757","gas_price":"0.025uhub"}},
                "ibc":{"transfer":{"city":{"channel_id":"channel-0"},"hub":{"channel_id":"channel-1"}},
                "hermes_config":"/tmp/hermes/config.toml"}}"#,
        )
        .unwrap();
        LocalnetOptions {
            dir: dir.to_path_buf(),
            accounts: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ci/localnet/accounts.json"),
            relayer_exe: PathBuf::from("relayer"),
        }
    }

    #[test]
    fn an_actors_secret_is_the_key_its_signer_signs_with() {
        use wevalue_voucher::sign::{account_address, VoucherSigner};
        let dir =
            std::env::temp_dir().join(format!("wevalue-localnet-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let net = Localnet::open(&fixture(&dir)).unwrap();
        assert_eq!(
            (net.chain_id.as_str(), net.fee_denom.as_str(), net.gas_price),
            ("wevalue-city-1", "ustake", 0.025)
        );
        let hub = &net.hub;
        assert_eq!(
            (
                hub.chain_id.as_str(),
                hub.fee_denom.as_str(),
                hub.city_channel.as_str(),
                hub.hub_channel.as_str()
            ),
            ("wevalue-hub-1", "uhub", "channel-0", "channel-1")
        );
        assert_eq!(hub.hermes_config, Path::new("/tmp/hermes/config.toml"));
        for (actor, address) in [
            ("air-seller", "wasm19fdxnmf4q3kdfpzsluk4r6z6xr4xequ45hfplt"),
            ("city", "wasm1vlqahlkkn5jypd700v585wz4djn7mat0qfkjr7"),
        ] {
            assert_eq!(net.signer(actor).unwrap().address(), address);
            let key = VoucherSigner::from_secret(
                wevalue_voucher::VoucherScheme::Secp256k1,
                *net.secret(actor).unwrap(),
                "wasm",
            )
            .unwrap();
            assert_eq!(account_address(&key.public_key(), "wasm").unwrap(), address);
        }
        let err = net
            .signer("nobody")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(
            err,
            "scenario: no test actor `nobody` in the localnet's accounts file"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_localnet_names_the_command_that_starts_it() {
        let dir = std::env::temp_dir().join(format!("wevalue-no-localnet-{}", std::process::id()));
        let err = Localnet::open(&LocalnetOptions {
            dir: dir.clone(),
            accounts: dir.join("accounts.json"),
            relayer_exe: PathBuf::from("relayer"),
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.starts_with("devnet option --chain localnet: "), "{err}");
        assert!(err.contains("localnet.json"), "{err}");
        assert!(err.contains("ci/localnet.sh up all"), "{err}");
    }

    #[test]
    fn a_localnet_without_the_hub_names_the_command_that_starts_both() {
        let dir = std::env::temp_dir().join(format!("wevalue-city-only-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("localnet.json"),
            r#"{"chains":{"city":{"chain_id":"wevalue-city-1","denom":"ustake",
                "rpc":"http://127.0.0.1:26657","gas_price":"0.025ustake"}}}"#,
        )
        .unwrap();
        let err = Localnet::open(&LocalnetOptions {
            dir: dir.clone(),
            accounts: dir.join("accounts.json"),
            relayer_exe: PathBuf::from("relayer"),
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            err.ends_with(
                "chains.hub.chain_id is missing (start both chains and their channel with `ci/localnet.sh up all`)"
            ),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
