//! The `relayer` binary: config validate, keys show, deploy, query, execute.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MNEMONIC: &str = "notice oak worry limit wrap speak medal online prefer cluster roof addict wrist behave treat actual wasp year salad speed social layer crew genius";

fn relayer() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_relayer"));
    c.env_remove("RUST_LOG")
        .env_remove("WEVALUE_RELAYER_MNEMONIC");
    c
}

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    manifest().join("tests/fixtures/config").join(name)
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn config_validate_accepts_good_and_names_bad_fields() {
    let out = relayer()
        .args(["config", "validate", "--config"])
        .arg(fixture("valid-cosmos.toml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(text(&out).0.ends_with(": ok\n"));
    let out = relayer()
        .args(["config", "validate", "--config"])
        .arg(manifest().join("config.example.toml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));

    for (file, needle) in [
        ("invalid-unknown-field.toml", "unknown field `prefx`"),
        ("invalid-gas-multiplier.toml", "chain.cosmos.gas_multiplier"),
        ("invalid-telemetry-host.toml", "telemetry.host"),
        ("invalid-cosmos-missing.toml", "chain.cosmos"),
    ] {
        let out = relayer()
            .args(["config", "validate", "--config"])
            .arg(fixture(file))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{file} passed");
        assert!(text(&out).1.contains(needle), "{file}: {}", text(&out).1);
    }
}

#[test]
fn keys_show_from_env_and_file() {
    let out = relayer()
        .args(["keys", "show", "--mnemonic-env", "TEST_M"])
        .env("TEST_M", MNEMONIC)
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["address"], "wasm1cyyzpxplxdzkeea7kwsydadg87357qna465cff");
    assert_eq!(v["hd_path"], "m/44'/118'/0'/0/0");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.txt");
    std::fs::write(&file, format!("{MNEMONIC}\n")).unwrap();
    let out = relayer()
        .args(["keys", "show", "--prefix", "cosmos", "--mnemonic-file"])
        .arg(&file)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["address"].as_str().unwrap().starts_with("cosmos1"));

    let out = relayer()
        .args(["keys", "show", "--mnemonic-env", "TEST_UNSET_VAR"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).1.contains("TEST_UNSET_VAR is not set"),
        "{}",
        text(&out).1
    );
}

fn embedded_config(dir: &Path) -> PathBuf {
    let path = dir.join("relayer.toml");
    std::fs::write(
        &path,
        format!(
            "[telemetry]\nenabled = false\n[state]\npath = \"{}\"\n[chain]\nid = \"wevalue-cli\"\n[chain.embedded]\nblock_interval_ms = 0\nartifacts_dir = \"{}\"\n[deploy]\nspec = \"{}\"\ndeployment_file = \"{}\"\n",
            dir.join("state.sqlite").display(),
            manifest().join("../artifacts").display(),
            manifest().join("deploy.example.toml").display(),
            dir.join("deployment.json").display(),
        ),
    )
    .unwrap();
    path
}

#[test]
fn deploy_query_execute_on_the_embedded_chain() {
    let dir = tempfile::tempdir().unwrap();
    let config = embedded_config(dir.path());
    let out = relayer()
        .args(["deploy", "--config"])
        .arg(&config)
        .env("WEVALUE_RELAYER_MNEMONIC", MNEMONIC)
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    let deployment: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("deployment.json")).unwrap())
            .unwrap();
    assert_eq!(deployment["chain_id"], "wevalue-cli");
    assert_eq!(
        deployment["deployer"],
        "wasm1cyyzpxplxdzkeea7kwsydadg87357qna465cff"
    );
    assert_eq!(deployment["codes"]["cw20-base"]["code_id"], 1);
    assert_eq!(deployment["codes"]["data-registry"]["code_id"], 4);
    assert!(deployment["contracts"]["city-token"]["address"]
        .as_str()
        .unwrap()
        .starts_with("wasm1"));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(),
        deployment
    );

    let out = relayer()
        .args(["query", "--config"])
        .arg(&config)
        .args(["city-token", r#"{"token_info":{}}"#])
        .env("WEVALUE_RELAYER_MNEMONIC", MNEMONIC)
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["symbol"], "CITY");

    let out = relayer()
        .args(["execute", "--config"])
        .arg(&config)
        .args(["city-token", r#"{"burn":{"amount":"5"}}"#])
        .env("WEVALUE_RELAYER_MNEMONIC", MNEMONIC)
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    let res: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(res["sender"], "wasm1cyyzpxplxdzkeea7kwsydadg87357qna465cff");
    assert!(res["gas_used"].as_u64().unwrap() > 0);
    assert!(res["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["type"] == "wasm"));

    let out = relayer()
        .args(["query", "--config"])
        .arg(&config)
        .args(["no-such", r#"{"config":{}}"#])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).1.contains("`no-such` is not in the deployment"),
        "{}",
        text(&out).1
    );
}

#[test]
fn run_logs_json_serves_health_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let config = embedded_config(dir.path());
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("enabled = false", "enabled = true\nport = 0")
        .replace("block_interval_ms = 0", "block_interval_ms = 50");
    std::fs::write(&config, text).unwrap();
    let mut child = relayer()
        .args(["--log-format", "json", "run", "--config"])
        .arg(&config)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut bound = None;
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        let msg = v["fields"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if msg == "serving /metrics and /health" {
            bound = v["fields"]["bound"].as_str().map(str::to_string);
        }
        seen.push(msg.clone());
        if msg == "relayer running" {
            break;
        }
    }
    let bound = bound.unwrap_or_else(|| panic!("no telemetry address in {seen:?}"));
    let mut s = std::net::TcpStream::connect(&bound).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit {exit:?}: {rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("SIGTERM received")),
        "{rest:?}"
    );
    assert!(rest.iter().any(|l| l.contains("shutting down")), "{rest:?}");
    assert!(dir.path().join("state.sqlite").exists());
}
