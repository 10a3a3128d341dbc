//! The SQLite store: migrations, cursors, vouchers, attestations, outbox rows.

use relayer::chain::{ChainMsg, SignedTx, TxOutcome};
use relayer::store::{Attestation, OutboxStatus, Store, Voucher, SCHEMA_VERSION};
use relayer::StoreError;

fn msgs(n: u64) -> Vec<ChainMsg> {
    vec![ChainMsg::Execute {
        contract: "wasm1contract".into(),
        msg: format!("{{\"pause_listing\":{{\"id\":{n}}}}}"),
        funds: vec![],
    }]
}

#[test]
fn migrations_run_once_and_newer_schemas_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    store.set_cursor("c", "s", 5).unwrap();
    drop(store);
    // Reopening keeps data and does not re-run migrations.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.cursor("c", "s").unwrap(), Some(5));
    drop(store);
    // WAL is on.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found, supported } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION)
    );
}

#[test]
fn component_migrations_are_versioned_per_component() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    let v1: &[&str] = &["CREATE TABLE wt_a (x INTEGER);"];
    let v2: &[&str] = &[v1[0], "ALTER TABLE wt_a ADD COLUMN y INTEGER;"];
    let store = Store::open(&path).unwrap();
    assert_eq!(store.migrate_component("wt", v1).unwrap(), 1);
    assert_eq!(store.migrate_component("other", &[]).unwrap(), 0);
    drop(store);
    // Reopening applies only the new step (a re-run of step 1 would fail:
    // the table exists).
    let store = Store::open(&path).unwrap();
    assert_eq!(store.migrate_component("wt", v2).unwrap(), 2);
    assert_eq!(store.migrate_component("wt", v2).unwrap(), 2);
    let n = store
        .with_conn("inserting", |c| {
            c.execute("INSERT INTO wt_a (x, y) VALUES (1, 2)", [])
        })
        .unwrap();
    assert_eq!(n, 1);
    let err = store.migrate_component("wt", v1).unwrap_err();
    assert!(matches!(
        err,
        StoreError::SchemaTooNew {
            found: 2,
            supported: 1
        }
    ));
}

#[test]
fn cursors_are_per_chain_and_stream_and_never_go_back() {
    let store = Store::open_in_memory().unwrap();
    assert_eq!(store.cursor("a", "registry").unwrap(), None);
    store.set_cursor("a", "registry", 10).unwrap();
    store.set_cursor("b", "registry", 3).unwrap();
    store.set_cursor("a", "channels", 7).unwrap();
    store.set_cursor("a", "registry", 8).unwrap();
    assert_eq!(store.cursor("a", "registry").unwrap(), Some(10));
    assert_eq!(store.cursor("b", "registry").unwrap(), Some(3));
    assert_eq!(store.cursor("a", "channels").unwrap(), Some(7));
}

#[test]
fn vouchers_keep_the_best_and_ignore_duplicates() {
    let store = Store::open_in_memory().unwrap();
    let v = |nonce, amount| Voucher {
        chain_id: "c".into(),
        channel_id: "ch-1".into(),
        nonce,
        amount,
        payload: vec![nonce as u8],
        signature: vec![9; 64],
        status: "received".into(),
    };
    assert!(store.put_voucher(&v(1, 100)).unwrap());
    assert!(store.put_voucher(&v(3, u128::MAX)).unwrap());
    assert!(store.put_voucher(&v(2, 200)).unwrap());
    assert!(
        !store.put_voucher(&v(3, 1)).unwrap(),
        "same nonce again is ignored"
    );
    let best = store.best_voucher("c", "ch-1").unwrap().unwrap();
    assert_eq!((best.nonce, best.amount), (3, u128::MAX));
    store
        .set_voucher_status("c", "ch-1", 3, "submitted")
        .unwrap();
    assert_eq!(
        store.best_voucher("c", "ch-1").unwrap().unwrap().status,
        "submitted"
    );
    assert_eq!(store.best_voucher("c", "ch-2").unwrap(), None);
}

#[test]
fn attestations_by_round() {
    let store = Store::open_in_memory().unwrap();
    let a = |attester: &str, round| Attestation {
        chain_id: "c".into(),
        task_id: "task-1".into(),
        round,
        attester: attester.into(),
        payload: b"value=42".to_vec(),
        signature: vec![1; 64],
    };
    assert!(store.put_attestation(&a("wasm1b", 1)).unwrap());
    assert!(store.put_attestation(&a("wasm1a", 1)).unwrap());
    assert!(store.put_attestation(&a("wasm1a", 2)).unwrap());
    assert!(!store.put_attestation(&a("wasm1a", 1)).unwrap());
    let round1 = store.attestations("c", "task-1", 1).unwrap();
    assert_eq!(
        round1
            .iter()
            .map(|a| a.attester.as_str())
            .collect::<Vec<_>>(),
        ["wasm1a", "wasm1b"]
    );
    assert_eq!(store.attestations("c", "task-1", 3).unwrap().len(), 0);
}

#[test]
fn outbox_rows_follow_their_lifecycle() {
    let store = Store::open_in_memory().unwrap();
    let e = store
        .enqueue("settle/ch-1/3", "c", &msgs(1), "memo")
        .unwrap();
    assert_eq!(e.status, OutboxStatus::Pending);
    assert_eq!(e.msgs, msgs(1));
    // Same key, same payload: the same row.
    assert_eq!(
        store
            .enqueue("settle/ch-1/3", "c", &msgs(1), "memo")
            .unwrap()
            .id,
        e.id
    );
    // Same key, other payload: refused.
    let err = store
        .enqueue("settle/ch-1/3", "c", &msgs(2), "memo")
        .unwrap_err();
    assert!(matches!(err, StoreError::KeyConflict { ref key } if key == "settle/ch-1/3"));
    assert_eq!(store.outbox_backlog("c").unwrap(), 1);

    let tx = SignedTx {
        hash: "AA".into(),
        bytes: vec![1, 2, 3],
        sequence: 4,
        gas_limit: 100,
    };
    store.record_signed(e.id, &tx).unwrap();
    let signed = store.outbox_entry(e.id).unwrap();
    assert_eq!(signed.status, OutboxStatus::Signed);
    assert_eq!(signed.tx, Some(tx.clone()));
    assert_eq!(signed.attempts, 1);
    store.requeue(e.id, "sequence taken").unwrap();
    let requeued = store.outbox_entry(e.id).unwrap();
    assert_eq!(
        (requeued.status, requeued.tx.clone()),
        (OutboxStatus::Pending, None)
    );
    assert_eq!(requeued.last_error.as_deref(), Some("sequence taken"));
    let tx2 = SignedTx {
        hash: "BB".into(),
        bytes: vec![4],
        sequence: 5,
        gas_limit: 100,
    };
    store.record_signed(e.id, &tx2).unwrap();
    let hashes = store.outbox_attempt_hashes(e.id).unwrap();
    assert_eq!(hashes.len(), 2);
    assert!(hashes.contains(&"AA".to_string()) && hashes.contains(&"BB".to_string()));
    store.record_broadcast(e.id).unwrap();
    store
        .record_outcome(
            e.id,
            &TxOutcome {
                hash: "BB".into(),
                height: 9,
                code: 0,
                log: String::new(),
                gas_used: 77,
                gas_wanted: 100,
                events: vec![],
            },
        )
        .unwrap();
    let done = store.outbox_entry(e.id).unwrap();
    assert_eq!(
        (done.status, done.height, done.gas_used),
        (OutboxStatus::Done, Some(9), Some(77))
    );
    assert_eq!(store.outbox_backlog("c").unwrap(), 0);
    assert!(store.outbox_open("c").unwrap().is_empty());
    let err = store.outbox_entry(999).unwrap_err();
    assert!(matches!(err, StoreError::NotFound { id: 999 }));
}
