//! Deploy on the embedded chain: stores and instantiates from a spec,
//! writes the deployment file, and is a no-op the second time.

mod common;

use common::*;
use relayer::chain::{query_smart, CodeClient};
use relayer::contracts::workspace_artifacts_dir;
use relayer::deploy::{deploy, DeploySpec, Deployment};
use relayer::embedded::BlockMode;
use relayer::DeployError;
use serde_json::{json, Value};

fn spec() -> DeploySpec {
    DeploySpec::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy.example.toml"))
        .unwrap()
}

#[tokio::test]
async fn deploy_twice_is_a_noop_the_second_time() {
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deployment.json");
    let (first, report) = deploy(&client, &spec(), &workspace_artifacts_dir(), None, false)
        .await
        .unwrap();
    assert_eq!(
        report.stored,
        [
            "cw20-base",
            "token-curated-registry",
            "payment-channel",
            "data-registry",
            "value-contract"
        ]
    );
    assert_eq!(
        report.instantiated,
        [
            "city-token",
            "tcr",
            "payment-channel",
            "data-registry",
            "value-contract"
        ]
    );
    first.save(&file).unwrap();

    let loaded = Deployment::load(&file).unwrap().unwrap();
    assert_eq!(loaded, first);
    assert_eq!(loaded.chain_id, "wevalue-test");
    let registry = loaded.address("data-registry").unwrap();
    // Checksums are the artifacts' sha256.
    let wasm = std::fs::read(workspace_artifacts_dir().join("data-registry.wasm"))
        .expect("artifacts/data-registry.wasm is built by ci/build-wasm.sh");
    assert_eq!(
        loaded.codes["data-registry"].checksum,
        cosmwasm_std::Checksum::generate(&wasm).to_hex()
    );
    // ${sender} was substituted.
    let owner: Value = query_smart(&client, registry, &json!({ "ownership": {} }))
        .await
        .unwrap();
    assert_eq!(owner["owner"], client_sender(&client));
    let token: Value = query_smart(
        &client,
        loaded.address("city-token").unwrap(),
        &json!({ "token_info": {} }),
    )
    .await
    .unwrap();
    assert_eq!(token["symbol"], "CITY");
    assert_eq!(token["total_supply"], "1000000000");
    // ${contract:…} was substituted: the registry is wired to the others.
    let config: Value = query_smart(&client, registry, &json!({ "config": {} }))
        .await
        .unwrap();
    assert_eq!(config["curation_registry"], loaded.address("tcr").unwrap());
    // No purchase verifier until the payment channel answers
    // `paid_for_listing` (deploy.example.toml).
    assert_eq!(config["purchase_verifier"], Value::Null);
    assert_eq!(config["allow_private_endpoints"], false);

    let height = relayer::chain::ChainStatus::latest_block(&client)
        .await
        .unwrap()
        .height;
    let (second, report) = deploy(
        &client,
        &spec(),
        &workspace_artifacts_dir(),
        Some(&loaded),
        false,
    )
    .await
    .unwrap();
    assert!(report.is_noop(), "{report:?}");
    assert_eq!(report.codes_kept.len(), 5);
    assert_eq!(report.contracts_kept.len(), 5);
    assert_eq!(second, loaded);
    assert_eq!(
        relayer::chain::ChainStatus::latest_block(&client)
            .await
            .unwrap()
            .height,
        height,
        "no block was needed"
    );
}

#[tokio::test]
async fn stale_deployment_files_are_redeployed() {
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let (mut first, _) = deploy(&client, &spec(), &workspace_artifacts_dir(), None, false)
        .await
        .unwrap();
    // A changed checksum (a rebuilt contract) is stored again; its instances are recreated.
    first.codes.get_mut("cw20-base").unwrap().checksum = "00".repeat(32);
    let (second, report) = deploy(
        &client,
        &spec(),
        &workspace_artifacts_dir(),
        Some(&first),
        false,
    )
    .await
    .unwrap();
    assert_eq!(report.stored, ["cw20-base"]);
    // The registry stakes the token, and the data registry names the TCR:
    // both follow the recreated token.
    assert_eq!(report.instantiated, ["city-token", "tcr", "data-registry"]);
    assert_eq!(report.contracts_kept, ["payment-channel", "value-contract"]);
    assert_ne!(
        second.codes["cw20-base"].code_id,
        first.codes["cw20-base"].code_id
    );
    assert_eq!(
        client
            .contract_info(second.address("city-token").unwrap())
            .await
            .unwrap()
            .unwrap()
            .code_id,
        second.codes["cw20-base"].code_id
    );
    // A deployment file from another chain is ignored.
    let mut foreign = second.clone();
    foreign.chain_id = "elsewhere".into();
    let (_, report) = deploy(
        &client,
        &spec(),
        &workspace_artifacts_dir(),
        Some(&foreign),
        false,
    )
    .await
    .unwrap();
    assert_eq!(report.stored.len(), 5);
}

#[tokio::test]
async fn spec_errors_are_typed() {
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let mut bad = spec();
    bad.instances[0].code = "payment-chanel".into();
    let err = deploy(&client, &bad, &workspace_artifacts_dir(), None, false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeployError::UnknownCode { ref name, .. } if name == "payment-chanel"),
        "{err}"
    );

    let mut bad = spec();
    bad.instances[0].msg = json!({ "owner": "${contract:city-token}" });
    let err = deploy(&client, &bad, &workspace_artifacts_dir(), None, false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeployError::UnresolvedReference { ref missing, .. } if missing == "city-token"),
        "{err}"
    );

    // A real chain needs the wasm bytes.
    let err = deploy(
        &client,
        &spec(),
        std::path::Path::new("/nonexistent"),
        None,
        true,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DeployError::Artifact { .. }), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let dup = dir.path().join("dup.toml");
    std::fs::write(&dup, "[[instances]]\nname='a'\ncode='cw20-base'\nlabel='x'\nadmin='none'\nmsg={}\n[[instances]]\nname='a'\ncode='cw20-base'\nlabel='y'\nadmin='none'\nmsg={}\n").unwrap();
    let err = DeploySpec::load(&dup).unwrap_err();
    assert!(err.to_string().contains("used twice"), "{err}");
    // The admin is always named: never silently the deployer's key.
    let err = DeploySpec::parse(
        "[[instances]]\nname='a'\ncode='cw20-base'\nlabel='x'\nmsg={}\n",
        "no-admin.toml",
    )
    .unwrap_err();
    assert!(err.to_string().contains("missing field `admin`"), "{err}");
    let err = DeploySpec::parse(
        "[[instances]]\nname='a'\ncode='cw20-base'\nlabel='x'\nadmin=' '\nmsg={}\n",
        "blank-admin.toml",
    )
    .unwrap_err();
    assert!(err.to_string().contains("needs an admin"), "{err}");
}

#[tokio::test]
async fn artifacts_must_match_checksums_txt_and_admins_resolve() {
    let (_chain, client) = chain(BlockMode::OnDemand).await;
    let dir = tempfile::tempdir().unwrap();
    let wasm =
        std::fs::read(relayer::contracts::workspace_artifacts_dir().join("data-registry.wasm"))
            .unwrap();
    std::fs::write(dir.path().join("data-registry.wasm"), &wasm).unwrap();
    let spec = DeploySpec::parse(
        "[[instances]]\nname='first'\ncode='data-registry'\nlabel='a'\nadmin='none'\nmsg={}\n\
         [[instances]]\nname='second'\ncode='data-registry'\nlabel='b'\nadmin='${contract:first}'\nmsg={}\n",
        "admins.toml",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("checksums.txt"),
        format!("{}  data-registry.wasm\n", "00".repeat(32)),
    )
    .unwrap();
    let err = deploy(&client, &spec, dir.path(), None, true)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("artifacts/checksums.txt records"),
        "{err}"
    );

    let sum = cosmwasm_std::Checksum::generate(&wasm).to_hex();
    std::fs::write(
        dir.path().join("checksums.txt"),
        format!("{sum}  data-registry.wasm\n"),
    )
    .unwrap();
    let (deployment, _) = deploy(&client, &spec, dir.path(), None, true)
        .await
        .unwrap();
    assert_eq!(deployment.codes["data-registry"].checksum, sum);
    let first = &deployment.contracts["first"];
    assert_eq!(first.admin, None);
    assert_eq!(
        deployment.contracts["second"].admin.as_deref(),
        Some(first.address.as_str()),
        "a contract deployed before it (a DAO) administers it"
    );
}
