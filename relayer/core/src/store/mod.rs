//! Durable state in SQLite (WAL, `synchronous=FULL`): event cursors per
//! chain and stream, and the transaction outbox ([`outbox`]). The core's
//! schema is versioned with `rusqlite_migration` in `PRAGMA user_version`; a
//! database written by a newer relayer is refused rather than guessed at.
//!
//! Services keep their own tables: each registers its migrations with
//! [`Store::component`] (versioned per component in `component_schema`, which
//! `rusqlite_migration` cannot do since it owns the single `user_version`)
//! and reaches its tables only through the [`Component`] handle its store
//! module keeps private. [`Store::blocking`] and [`Component::run`] move the
//! work (and its fsync) off the async workers.

pub mod outbox;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};
use rusqlite_migration::{Migrations, M};

use crate::error::{SqlContext, StoreError};

pub use outbox::{DoneTotals, OutboxDepth, OutboxEntry, OutboxStatus, OutboxSummary};

/// Result alias.
pub type StoreResult<T> = Result<T, StoreError>;

/// The core's migrations in order; index + 1 is the schema version they
/// produce (the numbering of the hand-written runner they replace, so
/// existing files carry on).
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
    // versioned per component by `Store::component`.
    "CREATE TABLE component_schema (
        component TEXT PRIMARY KEY,
        version   INTEGER NOT NULL
    );",
    // 4: the core `vouchers` table was never written outside tests (the
    // watchtower keeps vouchers in its own tables); the attestation log is
    // the oracle's and is reached through its store module.
    "DROP TABLE vouchers;
    ALTER TABLE attestations RENAME TO oracle_attestations;",
    // 5: a tx's timeout height and the height it was signed at (re-signing
    // waits until the chain is past the timeout and the tx is in none of the
    // blocks since), the class of the last failure, and how many times the
    // contract refused the entry (retries are bounded).
    "ALTER TABLE outbox ADD COLUMN timeout_height INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE outbox ADD COLUMN signed_height INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE outbox ADD COLUMN failure TEXT;
    ALTER TABLE outbox ADD COLUMN refusals INTEGER NOT NULL DEFAULT 0;",
];

/// Schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
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

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (each
        // write is its own transaction), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies pending migrations; returns the schema version.
    pub fn migrate(&self) -> StoreResult<u32> {
        let current = self.schema_version()?;
        if current > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found: current,
                supported: SCHEMA_VERSION,
            });
        }
        let migrations = Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect());
        migrations
            .to_latest(&mut self.conn())
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(SCHEMA_VERSION)
    }

    /// The schema version in the file.
    pub fn schema_version(&self) -> StoreResult<u32> {
        self.conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .ctx("reading schema version")
    }

    /// Runs store work on the blocking pool (SQLite and its fsync must not
    /// hold an async worker).
    pub async fn blocking<T, F>(self: &Arc<Self>, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> StoreResult<T> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Applies a component's own migrations (index + 1 = version), each in
    /// one transaction with its version record, refusing a newer version;
    /// returns the handle its store module reaches its tables through.
    pub fn component(
        self: &Arc<Self>,
        name: &'static str,
        migrations: &[&str],
    ) -> StoreResult<Component> {
        self.migrate_component(name, migrations)?;
        Ok(Component {
            store: self.clone(),
            name,
        })
    }

    /// Applies a component's migrations (see [`Store::component`]); returns
    /// its schema version.
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
}

/// A component's access to its own tables, handed out by [`Store::component`]
/// after its migrations ran. A service's store module keeps it private, so
/// the service's logic speaks that module's typed API and no SQL.
#[derive(Clone, Debug)]
pub struct Component {
    store: Arc<Store>,
    name: &'static str,
}

impl Component {
    /// The component's name (its `component_schema` row).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Runs `f` on the connection, on the calling thread. Keep it short and
    /// make multi-statement writes one transaction, so a crash leaves all or
    /// nothing.
    pub fn with<T>(
        &self,
        context: &'static str,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> StoreResult<T> {
        f(&mut self.store.conn()).ctx(context)
    }

    /// [`Component::with`] on the blocking pool, for async callers.
    pub async fn run<T, F>(&self, context: &'static str, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.with(context, f))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }
}
