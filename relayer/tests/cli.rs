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
    // A key file others can read is refused, naming the fix.
    set_mode(&file, 0o644);
    let out = relayer()
        .args(["keys", "show", "--mnemonic-file"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).1.contains("chmod 600"), "{}", text(&out).1);
    set_mode(&file, 0o600);
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

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// What Keplr and Leap create by default: a 12-word phrase.
const MNEMONIC_12: &str =
    "peace dance series height pony sponsor chicken second debate ugly prepare odor";

#[test]
fn keys_add_recover_list_show_delete() {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("keys");
    let run = |args: &[&str], stdin: Option<&str>| {
        use std::io::Write;
        let mut c = relayer();
        c.args(args).arg("--keyring").arg(&ring);
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    };
    // --recover takes a 12-word phrase from standard input.
    let out = run(
        &["keys", "add", "alice", "--recover"],
        Some(&format!("{MNEMONIC_12}\n")),
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let added: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // CosmJS's address for this phrase (tests/fixtures/cosmjs-mnemonics.json).
    assert_eq!(
        added["address"],
        "wasm1tsynaa5rnsx2c2gkmy5040xtj5v7mdyqvpfvhj"
    );
    let file = ring.join("alice.mnemonic");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // A name is never overwritten; a bad phrase is refused.
    let out = run(&["keys", "add", "alice", "--recover"], Some(MNEMONIC));
    assert!(!out.status.success());
    assert!(text(&out).1.contains("already exists"), "{}", text(&out).1);
    let out = run(
        &["keys", "add", "bob", "--recover"],
        Some("twelve words that are not a phrase"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).1.contains("invalid mnemonic"),
        "{}",
        text(&out).1
    );
    // A new key: 24 words, shown once on stderr, stored 0600.
    let out = run(&["keys", "add", "carol"], None);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(text(&out).1.contains("shown once"));
    let carol: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let out = run(&["keys", "list"], None);
    assert!(out.status.success(), "{:?}", text(&out));
    let lines: Vec<serde_json::Value> = text(&out)
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["name"], "alice");
    assert_eq!(lines[1]["address"], carol["address"]);

    let out = run(&["keys", "show", "--key", "alice", "--address"], None);
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(
        text(&out).0.trim(),
        "wasm1tsynaa5rnsx2c2gkmy5040xtj5v7mdyqvpfvhj"
    );

    let out = run(&["keys", "delete", "alice"], None);
    assert!(!out.status.success(), "deleting needs --yes");
    let out = run(&["keys", "delete", "alice", "--yes"], None);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(!file.exists());
    let out = run(&["keys", "show", "--key", "alice"], None);
    assert!(!out.status.success());
}

fn embedded_config(dir: &Path) -> PathBuf {
    let path = dir.join("relayer.toml");
    std::fs::write(
        &path,
        format!(
            "[telemetry]\nenabled = false\n[state]\npath = \"{}\"\n[chain]\nid = \"wevalue-cli\"\nbackend = \"embedded\"\n[chain.embedded]\nblock_interval_ms = 0\nartifacts_dir = \"{}\"\n[deploy]\nspec = \"{}\"\ndeployment_file = \"{}\"\n",
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

#[test]
fn outbox_list_show_abandon_retry() {
    use relayer::chain::ChainMsg;
    use relayer::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let config = embedded_config(dir.path());
    let msg = |n: u64| {
        vec![ChainMsg::Execute {
            contract: "wasm1contract".into(),
            msg: format!("{{\"pause_listing\":{{\"id\":{n}}}}}"),
            funds: vec![],
        }]
    };
    let (a, b) = {
        let store = Store::open(dir.path().join("state.sqlite")).unwrap();
        let a = store
            .enqueue("solver/a", "wevalue-cli", &msg(1), "")
            .unwrap();
        let b = store
            .enqueue("oracle/b", "wevalue-cli", &msg(2), "")
            .unwrap();
        (a.id, b.id)
    };
    let outbox = |args: &[&str]| {
        relayer()
            .arg("outbox")
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap()
    };
    let out = outbox(&["list"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let rows: Vec<serde_json::Value> = text(&out)
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["id"], b);
    assert_eq!(rows[0]["status"], "pending");

    let out = outbox(&["show", &a.to_string()]);
    assert!(out.status.success(), "{:?}", text(&out));
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["key"], "solver/a");
    assert_eq!(shown["msgs"][0]["execute"]["contract"], "wasm1contract");

    let out = outbox(&["retry", &a.to_string()]);
    assert!(!out.status.success(), "a pending entry is not retried");
    assert!(
        text(&out).1.contains("only failed entries"),
        "{}",
        text(&out).1
    );
    let out = outbox(&["abandon", &a.to_string(), "--reason", "wrong task"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let out = outbox(&["list", "--status", "failed"]);
    let failed: serde_json::Value = serde_json::from_str(text(&out).0.trim()).unwrap();
    assert_eq!(
        (failed["id"].as_i64(), failed["last_error"].as_str()),
        (Some(a), Some("wrong task"))
    );
    let out = outbox(&["retry", &a.to_string()]);
    assert!(out.status.success(), "{:?}", text(&out));
    let out = outbox(&["list", "--status", "failed"]);
    assert_eq!(text(&out).0, "");
    let out = outbox(&["show", "999"]);
    assert!(!out.status.success());
}
