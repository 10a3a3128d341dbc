//! The oracle's attestation log, through its own store module.

use std::sync::Arc;

use relayer_core::store::Store;
use relayer_oracle::{Attestation, OracleStore};

#[tokio::test]
async fn attestations_by_round() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    let db = OracleStore::open(&store, "c", "wasm1vc").unwrap();
    let a = |attester: &str, round| Attestation {
        chain_id: "c".into(),
        task_id: "wasm1vc/1".into(),
        round,
        attester: attester.into(),
        payload: b"value=42".to_vec(),
        signature: vec![1; 64],
    };
    assert!(db.put_attestation(&a("wasm1b", 1)).await.unwrap());
    assert!(db.put_attestation(&a("wasm1a", 1)).await.unwrap());
    assert!(db.put_attestation(&a("wasm1a", 2)).await.unwrap());
    assert!(!db.put_attestation(&a("wasm1a", 1)).await.unwrap());
    let round1 = db.attestations(1, 1).await.unwrap();
    assert_eq!(
        round1
            .iter()
            .map(|a| a.attester.as_str())
            .collect::<Vec<_>>(),
        ["wasm1a", "wasm1b"]
    );
    assert_eq!(db.attestations(1, 3).await.unwrap().len(), 0);
    // Another task of the same contract has its own log.
    assert_eq!(db.attestations(2, 1).await.unwrap().len(), 0);
}
