//! Durable state in SQLite (WAL): event cursors per chain, vouchers,
//! attestations and the transaction outbox. Schema changes are numbered
//! migrations recorded in `PRAGMA user_version`; a database written by a
//! newer relayer is refused rather than guessed at.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use crate::chain::{ChainMsg, SignedTx, TxOutcome};
use crate::error::{SqlContext, StoreError};

/// Result alias.
pub type StoreResult<T> = Result<T, StoreError>;

/// Migrations in order; index + 1 is the schema version they produce.
const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    "CREATE TABLE cursors (
        chain_id   TEXT NOT NULL,
        stream     TEXT NOT NULL,
        height     INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (chain_id, stream)
    );
    CREATE TABLE vouchers (
        chain_id    TEXT NOT NULL,
        channel_id  TEXT NOT NULL,
        nonce       INTEGER NOT NULL,
        amount      TEXT NOT NULL,
        payload     BLOB NOT NULL,
        signature   BLOB NOT NULL,
        status      TEXT NOT NULL DEFAULT 'received',
        received_at INTEGER NOT NULL,
        PRIMARY KEY (chain_id, channel_id, nonce)
    );
    CREATE TABLE attestations (
        chain_id   TEXT NOT NULL,
        task_id    TEXT NOT NULL,
        round      INTEGER NOT NULL,
        attester   TEXT NOT NULL,
        payload    BLOB NOT NULL,
        signature  BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (chain_id, task_id, round, attester)
    );
    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        idempotency_key TEXT NOT NULL UNIQUE,
        chain_id        TEXT NOT NULL,
        msgs            TEXT NOT NULL,
        memo            TEXT NOT NULL,
        status          TEXT NOT NULL,
        tx_hash         TEXT,
        tx_bytes        BLOB,
        sequence        INTEGER,
        gas_limit       INTEGER,
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        height          INTEGER,
        gas_used        INTEGER,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
    );
    CREATE INDEX outbox_open ON outbox (chain_id, status);
    CREATE INDEX outbox_hash ON outbox (tx_hash);",
    // 2: txs the outbox has signed, including superseded ones, so a late
    // inclusion of an old signature is still recognised after a re-sign.
    "CREATE TABLE outbox_attempts (
        outbox_id INTEGER NOT NULL REFERENCES outbox(id),
        tx_hash   TEXT NOT NULL,
        sequence  INTEGER NOT NULL,
        signed_at INTEGER NOT NULL,
        PRIMARY KEY (outbox_id, tx_hash)
    );",
    // 3: services (watchtower, oracle, solver) keep their own tables,
    // versioned per component by `Store::migrate_component`.
    "CREATE TABLE component_schema (
        component TEXT PRIMARY KEY,
        version   INTEGER NOT NULL
    );",
];

/// Schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Where an outbox entry is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Recorded, not signed yet.
    Pending,
    /// Signed bytes and hash recorded; may or may not have reached a node.
    Signed,
    /// A node accepted it into its mempool.
    Broadcast,
    /// Included and succeeded.
    Done,
    /// Included and failed, or given up on.
    Failed,
}

impl OutboxStatus {
    fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Signed => "signed",
            OutboxStatus::Broadcast => "broadcast",
            OutboxStatus::Done => "done",
            OutboxStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> StoreResult<Self> {
        Ok(match s {
            "pending" => OutboxStatus::Pending,
            "signed" => OutboxStatus::Signed,
            "broadcast" => OutboxStatus::Broadcast,
            "done" => OutboxStatus::Done,
            "failed" => OutboxStatus::Failed,
            other => {
                return Err(StoreError::Corrupt {
                    table: "outbox",
                    reason: format!("status {other}"),
                })
            }
        })
    }

    /// Done or failed.
    pub fn is_final(self) -> bool {
        matches!(self, OutboxStatus::Done | OutboxStatus::Failed)
    }
}

/// One outbox row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Row id.
    pub id: i64,
    /// Caller's idempotency key (e.g. `settle/<channel>/<nonce>`).
    pub key: String,
    /// Chain it goes to.
    pub chain_id: String,
    /// Messages.
    pub msgs: Vec<ChainMsg>,
    /// Memo.
    pub memo: String,
    /// Status.
    pub status: OutboxStatus,
    /// Signed tx, once signed.
    pub tx: Option<SignedTx>,
    /// Times it was signed.
    pub attempts: u32,
    /// Last error seen.
    pub last_error: Option<String>,
    /// Inclusion height, once final.
    pub height: Option<u64>,
    /// Gas used, once final.
    pub gas_used: Option<u64>,
}

/// A payment-channel voucher as received off chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voucher {
    /// Chain of the channel contract.
    pub chain_id: String,
    /// Channel id.
    pub channel_id: String,
    /// Voucher nonce (monotonic per channel).
    pub nonce: u64,
    /// Cumulative amount (decimal string, u128).
    pub amount: u128,
    /// Signed payload bytes.
    pub payload: Vec<u8>,
    /// Signature bytes.
    pub signature: Vec<u8>,
    /// `received`, `submitted`, `settled`, ...
    pub status: String,
}

/// An oracle attestation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// Chain of the value contract.
    pub chain_id: String,
    /// Task id.
    pub task_id: String,
    /// Round.
    pub round: u64,
    /// Attester address.
    pub attester: String,
    /// Signed payload.
    pub payload: Vec<u8>,
    /// Signature.
    pub signature: Vec<u8>,
}

/// The SQLite store. One connection behind a mutex: the relayer's writes are
/// small and sequential; WAL lets readers (metrics) proceed meanwhile.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) and migrates a database file.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        let conn = Connection::open(path).ctx("opening database")?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .ctx("enabling WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")
            .ctx("setting synchronous")?;
        Self::init(conn)
    }

    /// An in-memory database (tests).
    pub fn open_in_memory() -> StoreResult<Self> {
        Self::init(Connection::open_in_memory().ctx("opening in-memory database")?)
    }

    fn init(conn: Connection) -> StoreResult<Self> {
        conn.pragma_update(None, "foreign_keys", "ON")
            .ctx("enabling foreign keys")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .ctx("setting busy timeout")?;
        let store = Self {
            conn: Mutex::new(conn),
        };
        store.migrate()?;
        Ok(store)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (each
        // write is its own transaction), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies pending migrations; returns the schema version.
    pub fn migrate(&self) -> StoreResult<u32> {
        let mut conn = self.conn();
        let current: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .ctx("reading schema version")?;
        if current > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found: current,
                supported: SCHEMA_VERSION,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let tx = conn.transaction().ctx("starting migration")?;
            tx.execute_batch(sql).ctx("applying migration")?;
            tx.pragma_update(None, "user_version", (i + 1) as u32)
                .ctx("recording schema version")?;
            tx.commit().ctx("committing migration")?;
        }
        Ok(SCHEMA_VERSION)
    }

    /// The schema version in the file.
    pub fn schema_version(&self) -> StoreResult<u32> {
        self.conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .ctx("reading schema version")
    }

    /// Applies a component's own migrations (index + 1 = version), each in
    /// one transaction with its version record; refuses a newer version.
    /// Returns the component's schema version.
    pub fn migrate_component(&self, component: &str, migrations: &[&str]) -> StoreResult<u32> {
        let mut conn = self.conn();
        let current: u32 = conn
            .query_row(
                "SELECT version FROM component_schema WHERE component = ?1",
                params![component],
                |r| r.get(0),
            )
            .optional()
            .ctx("reading component schema version")?
            .unwrap_or(0);
        let supported = migrations.len() as u32;
        if current > supported {
            return Err(StoreError::SchemaTooNew {
                found: current,
                supported,
            });
        }
        for (i, sql) in migrations.iter().enumerate().skip(current as usize) {
            let tx = conn.transaction().ctx("starting component migration")?;
            tx.execute_batch(sql).ctx("applying component migration")?;
            tx.execute(
                "INSERT INTO component_schema (component, version) VALUES (?1, ?2)
                 ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                params![component, (i + 1) as u32],
            )
            .ctx("recording component schema version")?;
            tx.commit().ctx("committing component migration")?;
        }
        Ok(supported)
    }

    /// Runs `f` on the connection, for a component's own tables. Keep it
    /// short (the connection is shared) and make multi-statement writes one
    /// transaction, so a crash leaves all or nothing.
    pub fn with_conn<T>(
        &self,
        context: &'static str,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> StoreResult<T> {
        f(&mut self.conn()).ctx(context)
    }

    // ---- cursors ----

    /// Last processed height of an event stream.
    pub fn cursor(&self, chain_id: &str, stream: &str) -> StoreResult<Option<u64>> {
        self.conn()
            .query_row(
                "SELECT height FROM cursors WHERE chain_id = ?1 AND stream = ?2",
                params![chain_id, stream],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .ctx("reading cursor")
            .map(|h| h.map(|h| h as u64))
    }

    /// Records the last processed height; never moves a cursor backwards.
    pub fn set_cursor(&self, chain_id: &str, stream: &str, height: u64) -> StoreResult<()> {
        self.conn()
            .execute(
                "INSERT INTO cursors (chain_id, stream, height, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (chain_id, stream) DO UPDATE
                 SET height = max(height, excluded.height), updated_at = excluded.updated_at",
                params![chain_id, stream, height as i64, now()],
            )
            .ctx("writing cursor")?;
        Ok(())
    }

    // ---- vouchers ----

    /// Stores a voucher; a second copy of the same (channel, nonce) is ignored.
    /// Returns whether it was new.
    pub fn put_voucher(&self, v: &Voucher) -> StoreResult<bool> {
        let n = self
            .conn()
            .execute(
                "INSERT OR IGNORE INTO vouchers
                 (chain_id, channel_id, nonce, amount, payload, signature, status, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    v.chain_id,
                    v.channel_id,
                    v.nonce as i64,
                    v.amount.to_string(),
                    v.payload,
                    v.signature,
                    v.status,
                    now()
                ],
            )
            .ctx("storing voucher")?;
        Ok(n == 1)
    }

    /// The voucher with the highest nonce of a channel (the one to settle with).
    pub fn best_voucher(&self, chain_id: &str, channel_id: &str) -> StoreResult<Option<Voucher>> {
        self.conn()
            .query_row(
                "SELECT chain_id, channel_id, nonce, amount, payload, signature, status
                 FROM vouchers WHERE chain_id = ?1 AND channel_id = ?2
                 ORDER BY nonce DESC LIMIT 1",
                params![chain_id, channel_id],
                voucher_row,
            )
            .optional()
            .ctx("reading best voucher")?
            .transpose()
    }

    /// Updates a voucher's status.
    pub fn set_voucher_status(
        &self,
        chain_id: &str,
        channel_id: &str,
        nonce: u64,
        status: &str,
    ) -> StoreResult<()> {
        self.conn()
            .execute(
                "UPDATE vouchers SET status = ?4 WHERE chain_id = ?1 AND channel_id = ?2 AND nonce = ?3",
                params![chain_id, channel_id, nonce as i64, status],
            )
            .ctx("updating voucher")?;
        Ok(())
    }

    // ---- attestations ----

    /// Stores an attestation; duplicates are ignored. Returns whether it was new.
    pub fn put_attestation(&self, a: &Attestation) -> StoreResult<bool> {
        let n = self
            .conn()
            .execute(
                "INSERT OR IGNORE INTO attestations
                 (chain_id, task_id, round, attester, payload, signature, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    a.chain_id,
                    a.task_id,
                    a.round as i64,
                    a.attester,
                    a.payload,
                    a.signature,
                    now()
                ],
            )
            .ctx("storing attestation")?;
        Ok(n == 1)
    }

    /// Attestations of one task round, by attester.
    pub fn attestations(
        &self,
        chain_id: &str,
        task_id: &str,
        round: u64,
    ) -> StoreResult<Vec<Attestation>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT chain_id, task_id, round, attester, payload, signature FROM attestations
                 WHERE chain_id = ?1 AND task_id = ?2 AND round = ?3 ORDER BY attester",
            )
            .ctx("preparing attestations query")?;
        let rows = stmt
            .query_map(params![chain_id, task_id, round as i64], |r| {
                Ok(Attestation {
                    chain_id: r.get(0)?,
                    task_id: r.get(1)?,
                    round: r.get::<_, i64>(2)? as u64,
                    attester: r.get(3)?,
                    payload: r.get(4)?,
                    signature: r.get(5)?,
                })
            })
            .ctx("reading attestations")?;
        rows.collect::<Result<Vec<_>, _>>()
            .ctx("reading attestations")
    }

    // ---- outbox ----

    /// Records messages to send under an idempotency key. Enqueuing the same
    /// key again returns the existing entry (whatever its status); the same
    /// key with different messages is a [`StoreError::KeyConflict`].
    pub fn enqueue(
        &self,
        key: &str,
        chain_id: &str,
        msgs: &[ChainMsg],
        memo: &str,
    ) -> StoreResult<OutboxEntry> {
        let msgs_json = serde_json::to_string(msgs).map_err(|e| StoreError::Corrupt {
            table: "outbox",
            reason: e.to_string(),
        })?;
        if let Some(existing) = self.outbox_by_key(key)? {
            if existing.msgs != msgs || existing.chain_id != chain_id || existing.memo != memo {
                return Err(StoreError::KeyConflict {
                    key: key.to_string(),
                });
            }
            return Ok(existing);
        }
        let id = {
            let conn = self.conn();
            conn.execute(
                "INSERT INTO outbox (idempotency_key, chain_id, msgs, memo, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
                params![key, chain_id, msgs_json, memo, now()],
            )
            .ctx("enqueuing")?;
            conn.last_insert_rowid()
        };
        self.outbox_entry(id)
    }

    /// An entry by id.
    pub fn outbox_entry(&self, id: i64) -> StoreResult<OutboxEntry> {
        self.conn()
            .query_row(
                &format!("{OUTBOX_SELECT} WHERE id = ?1"),
                params![id],
                outbox_row,
            )
            .optional()
            .ctx("reading outbox entry")?
            .ok_or(StoreError::NotFound { id })?
    }

    /// An entry by idempotency key.
    pub fn outbox_by_key(&self, key: &str) -> StoreResult<Option<OutboxEntry>> {
        self.conn()
            .query_row(
                &format!("{OUTBOX_SELECT} WHERE idempotency_key = ?1"),
                params![key],
                outbox_row,
            )
            .optional()
            .ctx("reading outbox entry")?
            .transpose()
    }

    /// Entries not done or failed, oldest first.
    pub fn outbox_open(&self, chain_id: &str) -> StoreResult<Vec<OutboxEntry>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "{OUTBOX_SELECT} WHERE chain_id = ?1 AND status NOT IN ('done', 'failed') ORDER BY id"
            ))
            .ctx("preparing outbox query")?;
        let rows = stmt
            .query_map(params![chain_id], outbox_row)
            .ctx("reading outbox")?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.ctx("reading outbox")??);
        }
        Ok(out)
    }

    /// Number of open entries (the backlog metric).
    pub fn outbox_backlog(&self, chain_id: &str) -> StoreResult<u64> {
        self.conn()
            .query_row(
                "SELECT COUNT(*) FROM outbox WHERE chain_id = ?1 AND status NOT IN ('done', 'failed')",
                params![chain_id],
                |r| r.get::<_, i64>(0),
            )
            .ctx("counting backlog")
            .map(|n| n as u64)
    }

    /// Records the signed tx; must happen before it is broadcast.
    pub fn record_signed(&self, id: i64, tx: &SignedTx) -> StoreResult<()> {
        let mut conn = self.conn();
        let db = conn.transaction().ctx("starting transaction")?;
        db.execute(
            "UPDATE outbox SET status = 'signed', tx_hash = ?2, tx_bytes = ?3, sequence = ?4,
             gas_limit = ?5, attempts = attempts + 1, updated_at = ?6 WHERE id = ?1",
            params![
                id,
                tx.hash,
                tx.bytes,
                tx.sequence as i64,
                tx.gas_limit as i64,
                now()
            ],
        )
        .ctx("recording signed tx")?;
        db.execute(
            "INSERT OR IGNORE INTO outbox_attempts (outbox_id, tx_hash, sequence, signed_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![id, tx.hash, tx.sequence as i64, now()],
        )
        .ctx("recording attempt")?;
        db.commit().ctx("committing signed tx")
    }

    /// Every hash this entry was ever signed as (newest first).
    pub fn outbox_attempt_hashes(&self, id: i64) -> StoreResult<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT tx_hash FROM outbox_attempts WHERE outbox_id = ?1 ORDER BY signed_at DESC, sequence DESC",
            )
            .ctx("preparing attempts query")?;
        let rows = stmt
            .query_map(params![id], |r| r.get::<_, String>(0))
            .ctx("reading attempts")?;
        rows.collect::<Result<Vec<_>, _>>().ctx("reading attempts")
    }

    /// Marks an entry accepted by a node.
    pub fn record_broadcast(&self, id: i64) -> StoreResult<()> {
        self.set_status(id, OutboxStatus::Broadcast, None)
    }

    /// Marks an entry included (done when its code is 0, else failed).
    pub fn record_outcome(&self, id: i64, outcome: &TxOutcome) -> StoreResult<()> {
        let status = if outcome.code == 0 {
            OutboxStatus::Done
        } else {
            OutboxStatus::Failed
        };
        let error = (outcome.code != 0).then(|| format!("code {}: {}", outcome.code, outcome.log));
        self.conn()
            .execute(
                "UPDATE outbox SET status = ?2, tx_hash = ?3, height = ?4, gas_used = ?5,
                 last_error = ?6, updated_at = ?7 WHERE id = ?1",
                params![
                    id,
                    status.as_str(),
                    outcome.hash,
                    outcome.height as i64,
                    outcome.gas_used as i64,
                    error,
                    now()
                ],
            )
            .ctx("recording outcome")?;
        Ok(())
    }

    /// Drops the signature so the entry is signed again (its sequence was
    /// taken by another tx and it can no longer land).
    pub fn requeue(&self, id: i64, reason: &str) -> StoreResult<()> {
        self.conn()
            .execute(
                "UPDATE outbox SET status = 'pending', tx_bytes = NULL, last_error = ?2,
                 updated_at = ?3 WHERE id = ?1",
                params![id, reason, now()],
            )
            .ctx("requeuing")?;
        Ok(())
    }

    /// Puts a broadcast entry back to `signed`: its tx never reached a block
    /// and its sequence is still free, so the same bytes go out again.
    pub fn mark_for_rebroadcast(&self, id: i64, reason: &str) -> StoreResult<()> {
        self.set_status(id, OutboxStatus::Signed, Some(reason))
    }

    /// Gives up on an entry.
    pub fn record_failed(&self, id: i64, reason: &str) -> StoreResult<()> {
        self.set_status(id, OutboxStatus::Failed, Some(reason))
    }

    /// Notes a transient error without changing the status.
    pub fn record_error(&self, id: i64, reason: &str) -> StoreResult<()> {
        self.conn()
            .execute(
                "UPDATE outbox SET last_error = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, reason, now()],
            )
            .ctx("recording error")?;
        Ok(())
    }

    fn set_status(&self, id: i64, status: OutboxStatus, error: Option<&str>) -> StoreResult<()> {
        self.conn()
            .execute(
                "UPDATE outbox SET status = ?2, last_error = coalesce(?3, last_error),
                 updated_at = ?4 WHERE id = ?1",
                params![id, status.as_str(), error, now()],
            )
            .ctx("updating outbox status")?;
        Ok(())
    }
}

const OUTBOX_SELECT: &str = "SELECT id, idempotency_key, chain_id, msgs, memo, status, tx_hash,
    tx_bytes, sequence, gas_limit, attempts, last_error, height, gas_used FROM outbox";

fn outbox_row(r: &Row<'_>) -> rusqlite::Result<StoreResult<OutboxEntry>> {
    let msgs: String = r.get(3)?;
    let status: String = r.get(5)?;
    let hash: Option<String> = r.get(6)?;
    let bytes: Option<Vec<u8>> = r.get(7)?;
    let sequence: Option<i64> = r.get(8)?;
    let gas_limit: Option<i64> = r.get(9)?;
    let tx = match (hash, bytes, sequence) {
        (Some(hash), Some(bytes), Some(sequence)) => Some(SignedTx {
            hash,
            bytes,
            sequence: sequence as u64,
            gas_limit: gas_limit.unwrap_or_default() as u64,
        }),
        _ => None,
    };
    let id: i64 = r.get(0)?;
    let key: String = r.get(1)?;
    let chain_id: String = r.get(2)?;
    let memo: String = r.get(4)?;
    let attempts = r.get::<_, i64>(10)? as u32;
    let last_error: Option<String> = r.get(11)?;
    let height = r.get::<_, Option<i64>>(12)?.map(|h| h as u64);
    let gas_used = r.get::<_, Option<i64>>(13)?.map(|g| g as u64);
    let msgs = match serde_json::from_str(&msgs) {
        Ok(m) => m,
        Err(e) => {
            return Ok(Err(StoreError::Corrupt {
                table: "outbox",
                reason: e.to_string(),
            }))
        }
    };
    let status = match OutboxStatus::parse(&status) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(OutboxEntry {
        id,
        key,
        chain_id,
        msgs,
        memo,
        status,
        tx,
        attempts,
        last_error,
        height,
        gas_used,
    }))
}

fn voucher_row(r: &Row<'_>) -> rusqlite::Result<StoreResult<Voucher>> {
    let amount: String = r.get(3)?;
    let v = Voucher {
        chain_id: r.get(0)?,
        channel_id: r.get(1)?,
        nonce: r.get::<_, i64>(2)? as u64,
        amount: 0,
        payload: r.get(4)?,
        signature: r.get(5)?,
        status: r.get(6)?,
    };
    Ok(amount
        .parse::<u128>()
        .map(|amount| Voucher { amount, ..v })
        .map_err(|e| StoreError::Corrupt {
            table: "vouchers",
            reason: format!("amount {amount}: {e}"),
        }))
}
