//! Config fixtures: valid files parse with documented defaults, invalid ones
//! fail with errors that name the field.

use std::path::{Path, PathBuf};

use relayer::config::{Backend, Config, LogFormat, RpcCompat, ENV_MNEMONIC_FILE, ENV_RPC_URL};
use relayer::ConfigError;

fn path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
}

fn parse(name: &str) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path(name)).unwrap();
    let config = Config::from_toml(&text, name)?;
    config.validate()?;
    Ok(config)
}

#[test]
fn minimal_embedded_config_gets_documented_defaults() {
    let c = parse("valid-embedded.toml").unwrap();
    assert_eq!(c.chain.backend, Backend::Embedded);
    assert_eq!(c.chain.prefix, "wasm");
    assert_eq!(c.chain.fee_denom, "ustake");
    assert_eq!(c.telemetry.port, 3001);
    assert_eq!(c.telemetry.host.to_string(), "127.0.0.1");
    assert_eq!(c.log.format, LogFormat::Text);
    assert_eq!(c.chain.embedded.block_interval_ms, 1000);
    assert_eq!(c.signer.mnemonic_env, "WEVALUE_RELAYER_MNEMONIC");
    assert_eq!(c.events.max_blocks_per_poll, 100);
    assert_eq!(c.outbox.max_attempts, 5);
    assert_eq!(c.deploy.deployment_file, PathBuf::from("deployment.json"));
}

#[test]
fn the_example_config_is_valid_and_equals_the_defaults() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml"))
            .unwrap();
    let example = Config::from_toml(&text, "config.example.toml").unwrap();
    example.validate().unwrap();
    let mut minimal = parse("valid-embedded.toml").unwrap();
    // The example names the backend (the minimal file takes the default),
    // which only matters for the embedded chain's test address.
    assert!(example.chain.backend_explicit && !minimal.chain.backend_explicit);
    minimal.chain.backend_explicit = true;
    assert_eq!(
        example, minimal,
        "config.example.toml documents exactly the defaults"
    );
}

#[test]
fn cosmos_config_and_env_overrides() {
    let mut c = parse("valid-cosmos.toml").unwrap();
    let cosmos = c.chain.cosmos.clone().unwrap();
    assert_eq!(c.chain.backend, Backend::Cosmos);
    assert_eq!(cosmos.compat, RpcCompat::V0_34);
    assert_eq!(cosmos.gas_multiplier, 1.4);
    assert_eq!(cosmos.inclusion_timeout_secs, 60);
    assert_eq!(c.signer.account_index, 2);
    assert_eq!(c.log.format, LogFormat::Json);
    c.apply_env(|k| match k {
        ENV_RPC_URL => Some("https://secret-key@rpc.example:443".into()),
        ENV_MNEMONIC_FILE => Some("/run/secrets/m".into()),
        _ => None,
    });
    assert_eq!(
        c.chain.cosmos.unwrap().rpc_url,
        "https://secret-key@rpc.example:443"
    );
    assert_eq!(
        c.signer.mnemonic_file,
        Some(PathBuf::from("/run/secrets/m"))
    );
}

fn message(name: &str) -> String {
    parse(name).unwrap_err().to_string()
}

#[test]
fn unknown_fields_are_named() {
    let m = message("invalid-unknown-field.toml");
    assert!(m.contains("unknown field `prefx`"), "{m}");
    // A mnemonic in the file is refused: it is not a config key.
    let m = message("invalid-mnemonic-in-file.toml");
    assert!(m.contains("unknown field `mnemonic`"), "{m}");
    let m = message("invalid-wrong-type.toml");
    assert!(m.contains("max_blocks_per_poll"), "{m}");
    let m = message("invalid-compat.toml");
    assert!(m.contains("0.39") && m.contains("compat"), "{m}");
}

#[test]
fn semantic_errors_name_the_field() {
    let err = parse("invalid-gas-multiplier.toml").unwrap_err();
    assert!(
        matches!(err, ConfigError::Invalid { ref field, .. } if field == "chain.cosmos.gas_multiplier"),
        "{err}"
    );
    let err = parse("invalid-cosmos-missing.toml").unwrap_err();
    assert!(
        matches!(err, ConfigError::Missing { ref field, .. } if field == "chain.cosmos"),
        "{err}"
    );
    let err = parse("invalid-telemetry-host.toml").unwrap_err();
    assert!(
        matches!(err, ConfigError::Invalid { ref field, .. } if field == "telemetry.host"),
        "{err}"
    );
    assert!(err.to_string().starts_with("invalid `telemetry.host`"));
}

#[test]
fn every_problem_is_reported() {
    let mut c = parse("valid-embedded.toml").unwrap();
    c.chain.id = "bad id!".into();
    c.chain.prefix = "Wasm".into();
    c.events.max_blocks_per_poll = 0;
    c.log.level = "relayer=[".into();
    c.chain.embedded.signer_balance = "lots".into();
    let fields: Vec<String> = c
        .problems()
        .into_iter()
        .map(|p| match p {
            ConfigError::Invalid { field, .. } | ConfigError::Missing { field, .. } => field,
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(
        fields,
        [
            "log.level",
            "chain.id",
            "chain.prefix",
            "chain.embedded.signer_balance",
            "events.max_blocks_per_poll"
        ]
    );
}

#[test]
fn coins_parse() {
    use relayer::config::parse_coins;
    let coins = parse_coins(
        "100ustake, 5ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2",
    )
    .unwrap();
    assert_eq!(coins.len(), 2);
    assert_eq!(coins[0].amount.u128(), 100);
    assert!(parse_coins("").unwrap().is_empty());
    assert!(parse_coins("ustake").is_err());
    assert!(parse_coins("10").is_err());
    assert!(parse_coins("10u").is_err());
}

#[test]
fn missing_file_is_a_read_error() {
    let err = Config::load(&path("nope.toml")).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
}

#[test]
fn the_commented_gateway_example_is_a_valid_gateway_section() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml"))
            .unwrap();
    let start = text.find("# [gateway]").unwrap();
    // The example's key lines and tables, uncommented; prose is skipped.
    let block: Vec<&str> = text[start..]
        .lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| {
            l.starts_with('[')
                || l.split_once(" = ")
                    .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        })
        .collect();
    let value: toml::Value = toml::from_str(&block.join("\n")).unwrap();
    let gateway: relayer::services::gateway::GatewayConfig =
        value["gateway"].clone().try_into().unwrap();
    assert!(gateway.enabled);
    assert_eq!(gateway.listings.len(), 3);
    assert_eq!(gateway.public_url, "wss://sensors.example.org");
    assert!(gateway.tls.is_some());
    assert_eq!(gateway.problems(), Vec::<String>::new());
}
