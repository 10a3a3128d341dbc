//! The watchtower's own SQLite tables (component `watchtower`): the best
//! voucher per channel, known hashlock preimages and settlement bookkeeping,
//! behind [`WatchtowerStore`]'s typed API: no SQL outside this module. Every
//! write is one SQLite transaction; the store runs WAL with
//! `synchronous=FULL`, so a committed write is on disk when the call returns.

use std::sync::Arc;

use relayer_core::store::{Component, Store};
use relayer_core::StoreError;
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use wevalue_voucher::Hashlock;

/// Migrations of the `watchtower` component (index + 1 = version).
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE watchtower_vouchers (
    chain_id TEXT NOT NULL,
    contract TEXT NOT NULL,
    channel_id INTEGER NOT NULL,
    payee TEXT NOT NULL,
    -- u128 as a decimal string; compared in Rust.
    amount TEXT NOT NULL,
    hashlock BLOB,
    expiry INTEGER,
    signature BLOB NOT NULL,
    -- When this best voucher arrived (service clock, unix seconds).
    received_at INTEGER NOT NULL,
    -- When the oldest voucher not yet settled arrived; NULL = all settled.
    unsettled_since INTEGER,
    -- Highest amount known to be claimed on chain.
    claimed TEXT NOT NULL DEFAULT '0',
    -- open | closing | closed
    status TEXT NOT NULL DEFAULT 'open',
    finalize_after INTEGER,
    -- A best voucher the contract refused; not offered again.
    rejected_amount TEXT,
    rejected_reason TEXT,
    PRIMARY KEY (chain_id, contract, channel_id)
);
CREATE TABLE watchtower_preimages (
    hashlock BLOB PRIMARY KEY,
    preimage BLOB NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE TABLE watchtower_settlements (
    key TEXT PRIMARY KEY,
    -- The key without its attempt suffix: failed attempts are counted per base.
    base_key TEXT NOT NULL,
    chain_id TEXT NOT NULL,
    contract TEXT NOT NULL,
    -- claim | batch
    kind TEXT NOT NULL,
    -- JSON [[channel_id, "amount"], ...]
    items TEXT NOT NULL,
    -- pending | done | failed | abandoned
    status TEXT NOT NULL,
    tx_hash TEXT,
    height INTEGER,
    gas_used INTEGER,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX watchtower_settlements_base ON watchtower_settlements (base_key, status);
CREATE INDEX watchtower_settlements_status ON watchtower_settlements (chain_id, contract, status);
"#];

/// The stored best voucher of a channel and its settlement state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoucherRow {
    /// Channel id.
    pub channel_id: u64,
    /// The channel's payee.
    pub payee: String,
    /// Cumulative amount.
    pub amount: u128,
    /// sha256 hashlock, if conditional.
    pub hashlock: Option<Hashlock>,
    /// Expiry (unix seconds), if any.
    pub expiry: Option<u64>,
    /// The payer's signature.
    pub signature: Vec<u8>,
    /// When this voucher arrived.
    pub received_at: u64,
    /// When the oldest unsettled voucher arrived (`None` = settled).
    pub unsettled_since: Option<u64>,
    /// Highest amount known claimed on chain.
    pub claimed: u128,
    /// `open`, `closing` or `closed`.
    pub status: String,
    /// End of the challenge period when closing.
    pub finalize_after: Option<u64>,
    /// An amount the contract refused.
    pub rejected_amount: Option<u128>,
    /// Why.
    pub rejected_reason: Option<String>,
}

/// A settlement (one transaction through the outbox).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementRow {
    /// Outbox idempotency key.
    pub key: String,
    /// `claim` or `batch`.
    pub kind: String,
    /// (channel, amount) claimed.
    pub items: Vec<(u64, u128)>,
    /// `pending`, `done`, `failed` or `abandoned`.
    pub status: String,
    /// Tx hash once included.
    pub tx_hash: Option<String>,
    /// Inclusion height.
    pub height: Option<u64>,
    /// Gas the chain reported.
    pub gas_used: Option<u64>,
    /// Failure.
    pub error: Option<String>,
}

const VOUCHER_COLUMNS: &str = "channel_id, payee, amount, hashlock, expiry, signature,
    received_at, unsettled_since, claimed, status, finalize_after, rejected_amount, rejected_reason";

fn parse_u128(s: &str) -> rusqlite::Result<u128> {
    s.parse::<u128>().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn voucher_row(r: &Row<'_>) -> rusqlite::Result<VoucherRow> {
    let amount: String = r.get(2)?;
    let claimed: String = r.get(8)?;
    let rejected: Option<String> = r.get(11)?;
    Ok(VoucherRow {
        channel_id: r.get::<_, i64>(0)? as u64,
        payee: r.get(1)?,
        amount: parse_u128(&amount)?,
        hashlock: r
            .get::<_, Option<Vec<u8>>>(3)?
            .map(|h| Hashlock::try_from(h.as_slice()))
            .transpose()
            .map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    3,
                    rusqlite::types::Type::Blob,
                    Box::new(e),
                )
            })?,
        expiry: r.get::<_, Option<i64>>(4)?.map(|e| e as u64),
        signature: r.get(5)?,
        received_at: r.get::<_, i64>(6)? as u64,
        unsettled_since: r.get::<_, Option<i64>>(7)?.map(|e| e as u64),
        claimed: parse_u128(&claimed)?,
        status: r.get(9)?,
        finalize_after: r.get::<_, Option<i64>>(10)?.map(|e| e as u64),
        rejected_amount: rejected.as_deref().map(parse_u128).transpose()?,
        rejected_reason: r.get(12)?,
    })
}

fn settlement_row(r: &Row<'_>) -> rusqlite::Result<SettlementRow> {
    let items: String = r.get(2)?;
    let items: Vec<(u64, String)> = serde_json::from_str(&items).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(SettlementRow {
        key: r.get(0)?,
        kind: r.get(1)?,
        items: items
            .into_iter()
            .map(|(c, a)| parse_u128(&a).map(|a| (c, a)))
            .collect::<rusqlite::Result<_>>()?,
        status: r.get(3)?,
        tx_hash: r.get(4)?,
        height: r.get::<_, Option<i64>>(5)?.map(|h| h as u64),
        gas_used: r.get::<_, Option<i64>>(6)?.map(|g| g as u64),
        error: r.get(7)?,
    })
}

const SETTLEMENT_COLUMNS: &str = "key, kind, items, status, tx_hash, height, gas_used, error";

fn items_json(items: &[(u64, u128)]) -> String {
    let v: Vec<(u64, String)> = items.iter().map(|(c, a)| (*c, a.to_string())).collect();
    serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())
}

/// One voucher row by channel.
fn load_voucher(
    conn: &rusqlite::Connection,
    chain_id: &str,
    contract: &str,
    channel_id: u64,
) -> rusqlite::Result<Option<VoucherRow>> {
    conn.query_row(
        &format!(
            "SELECT {VOUCHER_COLUMNS} FROM watchtower_vouchers
             WHERE chain_id = ?1 AND contract = ?2 AND channel_id = ?3"
        ),
        params![chain_id, contract, channel_id as i64],
        voucher_row,
    )
    .optional()
}

/// A preimage by hashlock.
fn load_preimage(
    conn: &rusqlite::Connection,
    hashlock: &[u8],
) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.query_row(
        "SELECT preimage FROM watchtower_preimages WHERE hashlock = ?1",
        params![hashlock],
        |r| r.get(0),
    )
    .optional()
}

fn put_preimage(
    tx: &rusqlite::Transaction<'_>,
    lock: &[u8],
    preimage: &[u8],
    now: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO watchtower_preimages (hashlock, preimage, received_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (hashlock) DO NOTHING",
        params![lock, preimage, now],
    )?;
    Ok(())
}

/// Which stored channels to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelFilter {
    /// Open or closing (not finalized).
    NotClosed,
}

/// What storing a voucher did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    /// The voucher is (now, or already was) the stored best.
    Best(VoucherRow),
    /// A better voucher is stored; its amount.
    Stale(u128),
}

/// The watchtower's tables for one (chain, contract).
#[derive(Clone, Debug)]
pub struct WatchtowerStore {
    db: Component,
    chain_id: String,
    contract: String,
}

impl WatchtowerStore {
    /// Migrates the component and binds it to a chain and contract.
    pub fn open(store: &Arc<Store>, chain_id: &str, contract: &str) -> Result<Self, StoreError> {
        Ok(Self {
            db: store.component("watchtower", MIGRATIONS)?,
            chain_id: chain_id.to_string(),
            contract: contract.to_string(),
        })
    }

    /// Runs `f` with this (chain, contract) on the blocking pool: SQLite
    /// and its fsync never hold an async worker.
    async fn run<T, F>(&self, context: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection, &str, &str) -> rusqlite::Result<T> + Send + 'static,
    {
        let (chain_id, contract) = (self.chain_id.clone(), self.contract.clone());
        self.db
            .run(context, move |conn| f(conn, &chain_id, &contract))
            .await
    }

    /// The best voucher of a channel.
    pub async fn voucher(&self, channel_id: u64) -> Result<Option<VoucherRow>, StoreError> {
        self.run(
            "watchtower: reading a voucher",
            move |conn, chain_id, contract| load_voucher(conn, chain_id, contract, channel_id),
        )
        .await
    }

    /// Every stored best voucher (metrics).
    pub async fn vouchers(&self) -> Result<Vec<VoucherRow>, StoreError> {
        self.rows("watchtower: listing vouchers", "1 = 1").await
    }

    async fn rows(
        &self,
        context: &'static str,
        filter: &'static str,
    ) -> Result<Vec<VoucherRow>, StoreError> {
        self.run(context, move |conn, chain_id, contract| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {VOUCHER_COLUMNS} FROM watchtower_vouchers WHERE chain_id = ?1 AND contract = ?2
                 AND {filter} ORDER BY channel_id"
            ))?;
            let rows = stmt.query_map(params![chain_id, contract], voucher_row)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })
        .await
    }

    /// Stored channels still unsettled and not finalized (settlement candidates).
    pub async fn unsettled(&self) -> Result<Vec<VoucherRow>, StoreError> {
        self.rows(
            "watchtower: due channels",
            "status != 'closed' AND unsettled_since IS NOT NULL",
        )
        .await
    }

    /// Ids of stored channels.
    pub async fn channel_ids(&self, filter: ChannelFilter) -> Result<Vec<u64>, StoreError> {
        let filter = match filter {
            ChannelFilter::NotClosed => "status != 'closed'",
        };
        Ok(self
            .rows("watchtower: listing channels", filter)
            .await?
            .into_iter()
            .map(|r| r.channel_id)
            .collect())
    }

    /// Brings a stored row's claimed amount, status and challenge end in
    /// line with the chain (no-op without a row).
    pub async fn sync_channel(
        &self,
        id: u64,
        claimed: u128,
        status: &str,
        finalize_after: Option<u64>,
    ) -> Result<(), StoreError> {
        let status = status.to_string();
        self.run("watchtower: syncing a channel", move |conn, chain_id, contract| {
            let tx = conn.transaction()?;
            if let Some(row) = load_voucher(&tx, chain_id, contract, id)? {
                let claimed = claimed.max(row.claimed);
                let unsettled = if row.amount <= claimed {
                    None
                } else {
                    row.unsettled_since.map(|t| t as i64)
                };
                tx.execute(
                    "UPDATE watchtower_vouchers SET claimed = ?4, status = ?5, finalize_after = ?6,
                     unsettled_since = ?7 WHERE chain_id = ?1 AND contract = ?2 AND channel_id = ?3",
                    params![
                        chain_id,
                        contract,
                        id as i64,
                        claimed.to_string(),
                        status,
                        finalize_after.map(|f| f as i64),
                        unsettled
                    ],
                )?;
            }
            tx.commit()
        })
        .await
    }

    /// The compare-and-store of a voucher (and its preimage) in one
    /// transaction; the commit waits for fsync.
    pub async fn store_best(
        &self,
        row: VoucherRow,
        preimage: Option<Vec<u8>>,
        now: i64,
    ) -> Result<Stored, StoreError> {
        self.run(
            "watchtower: storing a voucher",
            move |conn, chain_id, contract| {
                store_best(conn, chain_id, contract, now, &row, preimage.as_deref())
            },
        )
        .await
    }

    /// Stores a preimage; returns the channels whose hashlock it opens.
    pub async fn put_preimage(
        &self,
        lock: Hashlock,
        preimage: Vec<u8>,
        now: i64,
    ) -> Result<Vec<u64>, StoreError> {
        self.run(
            "watchtower: storing a preimage",
            move |conn, chain_id, contract| {
                let tx = conn.transaction()?;
                put_preimage(&tx, lock.as_ref(), &preimage, now)?;
                let ids = {
                    let mut stmt = tx.prepare(
                        "SELECT channel_id FROM watchtower_vouchers
                     WHERE chain_id = ?1 AND contract = ?2 AND hashlock = ?3 ORDER BY channel_id",
                    )?;
                    let rows = stmt.query_map(
                        params![chain_id, contract, lock.as_bytes().as_slice()],
                        |r| r.get::<_, i64>(0),
                    )?;
                    rows.map(|r| r.map(|i| i as u64))
                        .collect::<rusqlite::Result<Vec<_>>>()?
                };
                tx.commit()?;
                Ok(ids)
            },
        )
        .await
    }

    /// A known preimage by hashlock.
    pub async fn preimage(&self, hashlock: Hashlock) -> Result<Option<Vec<u8>>, StoreError> {
        self.run("watchtower: reading a preimage", move |conn, _, _| {
            load_preimage(conn, hashlock.as_ref())
        })
        .await
    }

    /// Settlements of this contract, newest first.
    pub async fn settlements(&self) -> Result<Vec<SettlementRow>, StoreError> {
        self.run(
            "watchtower: reading settlements",
            |conn, chain_id, contract| {
                let mut stmt = conn.prepare(&format!(
                    "SELECT {SETTLEMENT_COLUMNS} FROM watchtower_settlements
                 WHERE chain_id = ?1 AND contract = ?2 ORDER BY created_at DESC, rowid DESC"
                ))?;
                let rows = stmt.query_map(params![chain_id, contract], settlement_row)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            },
        )
        .await
    }

    /// Inserts a pending settlement; the key is `base` plus the number of
    /// earlier failed attempts of the same set, so a refused set can be
    /// tried again while a restart finds the same key.
    pub async fn record_settlement(
        &self,
        base: &str,
        kind: &str,
        items: &[(u64, u128)],
        now: i64,
    ) -> Result<String, StoreError> {
        let (base, kind, items) = (base.to_string(), kind.to_string(), items_json(items));
        self.run(
            "watchtower: recording a settlement",
            move |conn, chain_id, contract| {
                let tx = conn.transaction()?;
                let failed: i64 = tx.query_row(
                    "SELECT COUNT(*) FROM watchtower_settlements
                 WHERE base_key = ?1 AND status IN ('failed', 'abandoned')",
                    params![base],
                    |r| r.get(0),
                )?;
                let key = format!("{base}/{failed}");
                tx.execute(
                    "INSERT INTO watchtower_settlements (key, base_key, chain_id, contract, kind,
                    items, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7)
                 ON CONFLICT (key) DO NOTHING",
                    params![key, base, chain_id, contract, kind, items, now],
                )?;
                tx.commit()?;
                Ok(key)
            },
        )
        .await
    }

    /// Records how a settlement ended.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_settlement(
        &self,
        key: &str,
        status: &str,
        tx_hash: Option<String>,
        height: Option<u64>,
        gas_used: Option<u64>,
        error: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let (key, status, error) = (
            key.to_string(),
            status.to_string(),
            error.map(str::to_string),
        );
        self.run("watchtower: finishing a settlement", move |conn, _, _| {
            conn.execute(
                "UPDATE watchtower_settlements SET status = ?2, tx_hash = ?3, height = ?4,
                 gas_used = ?5, error = ?6, updated_at = ?7 WHERE key = ?1",
                params![
                    key,
                    status,
                    tx_hash,
                    height.map(|h| h as i64),
                    gas_used.map(|g| g as i64),
                    error,
                    now
                ],
            )
            .map(|_| ())
        })
        .await
    }

    /// Raises the claimed amounts after a successful claim.
    pub async fn mark_settled(&self, items: &[(u64, u128)]) -> Result<(), StoreError> {
        let items = items.to_vec();
        self.run(
            "watchtower: marking settled",
            move |conn, chain_id, contract| {
                let tx = conn.transaction()?;
                for (id, amount) in items {
                    if let Some(row) = load_voucher(&tx, chain_id, contract, id)? {
                        let claimed = row.claimed.max(amount);
                        let unsettled = if row.amount <= claimed {
                            None
                        } else {
                            row.unsettled_since.map(|t| t as i64)
                        };
                        tx.execute(
                            "UPDATE watchtower_vouchers SET claimed = ?4, unsettled_since = ?5
                         WHERE chain_id = ?1 AND contract = ?2 AND channel_id = ?3",
                            params![
                                chain_id,
                                contract,
                                id as i64,
                                claimed.to_string(),
                                unsettled
                            ],
                        )?;
                    }
                }
                tx.commit()
            },
        )
        .await
    }

    /// Sets a refused best voucher aside (not offered again).
    pub async fn reject(&self, id: u64, amount: u128, reason: &str) -> Result<(), StoreError> {
        let reason = reason.to_string();
        self.run(
            "watchtower: rejecting a voucher",
            move |conn, chain_id, contract| {
                conn.execute(
                    "UPDATE watchtower_vouchers SET rejected_amount = ?4, rejected_reason = ?5
                 WHERE chain_id = ?1 AND contract = ?2 AND channel_id = ?3",
                    params![chain_id, contract, id as i64, amount.to_string(), reason],
                )
                .map(|_| ())
            },
        )
        .await
    }
}

/// The compare-and-store in one SQLite transaction.
fn store_best(
    conn: &mut rusqlite::Connection,
    chain_id: &str,
    contract: &str,
    now: i64,
    row: &VoucherRow,
    preimage: Option<&[u8]>,
) -> rusqlite::Result<Stored> {
    let tx = conn.transaction()?;
    let existing = load_voucher(&tx, chain_id, contract, row.channel_id)?;
    if let Some(best) = &existing {
        let same = best.amount == row.amount
            && best.signature == row.signature
            && best.hashlock == row.hashlock
            && best.expiry == row.expiry;
        if same {
            if let (Some(lock), Some(p)) = (&row.hashlock, preimage) {
                put_preimage(&tx, lock.as_ref(), p, now)?;
            }
            tx.commit()?;
            return Ok(Stored::Best(best.clone()));
        }
        if row.amount <= best.amount {
            return Ok(Stored::Stale(best.amount));
        }
    }
    let unsettled_since = existing
        .as_ref()
        .and_then(|b| b.unsettled_since)
        .unwrap_or(row.received_at) as i64;
    let claimed = existing
        .as_ref()
        .map(|b| b.claimed.max(row.claimed))
        .unwrap_or(row.claimed);
    tx.execute(
        "INSERT INTO watchtower_vouchers (chain_id, contract, channel_id, payee, amount,
            hashlock, expiry, signature, received_at, unsettled_since, claimed, status,
            finalize_after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (chain_id, contract, channel_id) DO UPDATE SET
            amount = excluded.amount, hashlock = excluded.hashlock,
            expiry = excluded.expiry, signature = excluded.signature,
            received_at = excluded.received_at,
            unsettled_since = excluded.unsettled_since, claimed = excluded.claimed,
            rejected_amount = NULL, rejected_reason = NULL",
        params![
            chain_id,
            contract,
            row.channel_id as i64,
            row.payee,
            row.amount.to_string(),
            row.hashlock.as_ref().map(|h| h.as_bytes().as_slice()),
            row.expiry.map(|e| e as i64),
            row.signature,
            row.received_at as i64,
            unsettled_since,
            claimed.to_string(),
            row.status,
            row.finalize_after.map(|f| f as i64),
        ],
    )?;
    if let (Some(lock), Some(p)) = (&row.hashlock, preimage) {
        put_preimage(&tx, lock.as_ref(), p, now)?;
    }
    let stored = load_voucher(&tx, chain_id, contract, row.channel_id)?;
    tx.commit()?;
    Ok(match stored {
        Some(row) => Stored::Best(row),
        None => Stored::Stale(row.amount),
    })
}
