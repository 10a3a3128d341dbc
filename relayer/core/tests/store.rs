//! The SQLite store: migrations, component tables, cursors, outbox rows.

use std::sync::Arc;

use relayer_core::chain::{ChainMsg, SignedTx, TxOutcome};
use relayer_core::store::{OutboxStatus, Store, SCHEMA_VERSION};
use relayer_core::StoreError;

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
    let store = Arc::new(Store::open(&path).unwrap());
    assert_eq!(store.migrate_component("wt", v2).unwrap(), 2);
    let wt = store.component("wt", v2).unwrap();
    let n = wt
        .with("inserting", |c| {
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
fn the_unused_voucher_table_is_gone_and_the_attestation_log_is_the_oracles() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    let tables = store
        .component("probe", &[])
        .unwrap()
        .with("listing tables", |c| {
            let mut stmt = c.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })
        .unwrap();
    assert!(!tables.contains(&"vouchers".to_string()), "{tables:?}");
    assert!(!tables.contains(&"attestations".to_string()), "{tables:?}");
    assert!(
        tables.contains(&"oracle_attestations".to_string()),
        "{tables:?}"
    );
    assert!(tables.contains(&"outbox".to_string()), "{tables:?}");
}

#[tokio::test]
async fn blocking_work_runs_off_the_async_workers() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    let here = std::thread::current().id();
    let on = store
        .blocking(|s| {
            s.set_cursor("c", "s", 3)?;
            Ok(std::thread::current().id())
        })
        .await
        .unwrap();
    assert_ne!(on, here);
    assert_eq!(store.cursor("c", "s").unwrap(), Some(3));
    // A service's store module reaches its tables the same way.
    let component = store
        .component("probe", &["CREATE TABLE probe_t (x INTEGER);"])
        .unwrap();
    let (on, rows) = component
        .run("probing", |c| {
            let rows = c.execute("INSERT INTO probe_t (x) VALUES (1)", [])?;
            Ok((std::thread::current().id(), rows))
        })
        .await
        .unwrap();
    assert_ne!(on, here);
    assert_eq!(rows, 1);
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
        timeout_height: 50,
        signed_height: 40,
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
        timeout_height: 0,
        signed_height: 0,
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
                codespace: String::new(),
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

#[test]
fn operators_list_abandon_and_retry_outbox_entries() {
    let store = Store::open_in_memory().unwrap();
    let a = store.enqueue("solver/a", "c", &msgs(1), "").unwrap();
    let b = store.enqueue("oracle/b", "c", &msgs(2), "").unwrap();
    let listed = store.outbox_list(None, 10).unwrap();
    assert_eq!(
        listed.iter().map(|e| e.id).collect::<Vec<_>>(),
        [b.id, a.id],
        "newest first"
    );
    assert_eq!(store.outbox_depth("c").unwrap().open, 2);
    assert!(store.outbox_depth("c").unwrap().oldest_created_at.is_some());

    // Only a failed entry is retried; only an open one abandoned.
    assert!(matches!(
        store.outbox_retry(a.id).unwrap_err(),
        StoreError::NotFailed { .. }
    ));
    let abandoned = store.outbox_abandon(a.id, "operator: bad message").unwrap();
    assert_eq!(abandoned.status, OutboxStatus::Failed);
    assert_eq!(
        abandoned.last_error.as_deref(),
        Some("operator: bad message")
    );
    assert!(matches!(
        store.outbox_abandon(a.id, "again").unwrap_err(),
        StoreError::NotOpen { .. }
    ));
    assert_eq!(
        store
            .outbox_list(Some(OutboxStatus::Failed), 10)
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>(),
        [a.id]
    );
    let retried = store.outbox_retry(a.id).unwrap();
    assert_eq!(
        (retried.status, retried.attempts),
        (OutboxStatus::Pending, 0)
    );
    assert_eq!(store.outbox_depth("c").unwrap().open, 2);
    assert_eq!(store.outbox_failed_count().unwrap(), 0);
    assert_eq!(store.outbox_done_totals("").unwrap().count, 0);
}

fn signed(hash: &str, sequence: u64) -> SignedTx {
    SignedTx {
        hash: hash.into(),
        bytes: vec![sequence as u8],
        sequence,
        gas_limit: 100,
        timeout_height: 120,
        signed_height: 100,
    }
}

fn outcome(hash: &str, codespace: &str, code: u32) -> TxOutcome {
    TxOutcome {
        hash: hash.into(),
        height: 110,
        code,
        codespace: codespace.into(),
        log: "refused".into(),
        gas_used: 50,
        gas_wanted: 100,
        events: vec![],
    }
}

#[test]
fn outbox_updates_apply_only_from_the_status_they_expect() {
    let store = Store::open_in_memory().unwrap();
    let e = store.enqueue("guard/1", "c", &msgs(1), "").unwrap();
    // Not signed yet: nothing to broadcast, requeue or rebroadcast.
    assert!(!store.record_broadcast(e.id).unwrap());
    assert!(!store.requeue(e.id, "x").unwrap());
    assert!(!store.mark_for_rebroadcast(e.id, "x").unwrap());
    // Signed once; a second signature of the same entry (another handle
    // with a stale snapshot) is refused and not recorded as an attempt.
    assert!(store.record_signed(e.id, &signed("AA", 4)).unwrap());
    assert!(!store.record_signed(e.id, &signed("BB", 5)).unwrap());
    let entry = store.outbox_entry(e.id).unwrap();
    assert_eq!(
        (entry.attempts, entry.tx.unwrap().hash),
        (1, "AA".to_string())
    );
    assert_eq!(store.outbox_attempt_hashes(e.id).unwrap(), ["AA"]);
    assert!(store.record_broadcast(e.id).unwrap());
    assert!(!store.record_broadcast(e.id).unwrap(), "already broadcast");
    assert!(store.mark_for_rebroadcast(e.id, "lost").unwrap());
    assert!(store.record_broadcast(e.id).unwrap());
    // Final: nothing moves it any more.
    assert!(store.record_outcome(e.id, &outcome("AA", "", 0)).unwrap());
    assert!(!store
        .record_outcome(e.id, &outcome("AA", "wasm", 5))
        .unwrap());
    assert!(!store.requeue(e.id, "x").unwrap());
    assert!(!store.record_failed(e.id, "x", None).unwrap());
    let done = store.outbox_entry(e.id).unwrap();
    assert_eq!((done.status, done.failure), (OutboxStatus::Done, None));
    let tx = done.tx.unwrap();
    assert_eq!((tx.timeout_height, tx.signed_height), (120, 100));
}

#[test]
fn failures_are_classified_by_codespace_and_code() {
    use relayer_core::FailureClass;
    assert_eq!(FailureClass::of("sdk", 5), FailureClass::Funds);
    assert_eq!(FailureClass::of("wasm", 5), FailureClass::Contract);
    assert_eq!(FailureClass::of("sdk", 11), FailureClass::OutOfGas);
    assert_eq!(FailureClass::of("sdk", 13), FailureClass::Fee);
    assert_eq!(FailureClass::of("sdk", 30), FailureClass::Expired);
    assert_eq!(FailureClass::of("sdk", 4), FailureClass::Permanent);
    assert_eq!(FailureClass::of("", 5), FailureClass::Permanent);

    let store = Store::open_in_memory().unwrap();
    let e = store.enqueue("class/1", "c", &msgs(1), "").unwrap();
    assert_eq!(
        store
            .record_refusal(e.id, "sim", FailureClass::Contract)
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .record_refusal(e.id, "sim", FailureClass::Contract)
            .unwrap(),
        2
    );
    store.record_signed(e.id, &signed("CC", 1)).unwrap();
    assert_eq!(
        store
            .record_refusal(e.id, "sim", FailureClass::Contract)
            .unwrap(),
        0,
        "only a pending entry is refused"
    );
    store.record_broadcast(e.id).unwrap();
    assert!(store
        .record_outcome(e.id, &outcome("CC", "wasm", 5))
        .unwrap());
    let failed = store.outbox_entry(e.id).unwrap();
    assert_eq!(failed.status, OutboxStatus::Failed);
    assert_eq!(
        (failed.failure, failed.refusals),
        (Some(FailureClass::Contract), 2)
    );
    assert_eq!(
        failed.last_error.as_deref(),
        Some("code 5 (codespace wasm): refused")
    );
    // An operator's retry clears the refusals and the class.
    let retried = store.outbox_retry(e.id).unwrap();
    assert_eq!((retried.refusals, retried.failure), (0, None));
}
