//! The watchtower's own SQLite tables (component `watchtower`): the best
//! voucher per channel, known hashlock preimages and settlement bookkeeping,
//! behind [`WatchtowerStore`]'s typed API: no SQL outside this module. Every
//! write is one SQLite transaction; the store runs WAL with
//! `synchronous=FULL`, so a committed write is on disk when the call returns.
//! Vouchers go through the group commit ([`writer`]): one transaction and one
//! fsync per batch of the vouchers that arrived meanwhile.

mod rows;
mod writer;

use std::sync::Arc;

use relayer_core::store::{Component, Store};
use relayer_core::StoreError;
use rusqlite::params;
use wevalue_voucher::Hashlock;

use rows::{
    items_json, load_preimage, load_voucher, put_preimage, settlement_row, voucher_row, MIGRATIONS,
    SETTLEMENT_COLUMNS, VOUCHER_COLUMNS,
};
pub use rows::{SettlementRow, VoucherRow};
use tokio::sync::{mpsc, oneshot};

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
    Best(Box<VoucherRow>),
    /// A better voucher is stored; its amount.
    Stale(u128),
}

/// The watchtower's tables for one (chain, contract).
#[derive(Clone, Debug)]
pub struct WatchtowerStore {
    db: Component,
    chain_id: String,
    contract: String,
    /// The group commit's queue.
    writer: mpsc::Sender<writer::Pending>,
}

impl WatchtowerStore {
    /// Migrates the component and binds it to a chain and contract.
    pub fn open(store: &Arc<Store>, chain_id: &str, contract: &str) -> Result<Self, StoreError> {
        let db = store.component("watchtower", MIGRATIONS)?;
        let writer = writer::spawn(db.clone(), chain_id.to_string(), contract.to_string())?;
        Ok(Self {
            db,
            chain_id: chain_id.to_string(),
            contract: contract.to_string(),
            writer,
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

    /// The compare-and-store of a voucher (and its preimage), through the
    /// group commit: returns once the transaction holding it is on disk.
    pub async fn store_best(
        &self,
        row: VoucherRow,
        preimage: Option<Vec<u8>>,
        now: i64,
    ) -> Result<Stored, StoreError> {
        let stopped = || StoreError::Batch {
            context: "storing a voucher",
            reason: "the voucher writer stopped".into(),
        };
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(writer::Pending {
                row,
                preimage,
                now,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
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
