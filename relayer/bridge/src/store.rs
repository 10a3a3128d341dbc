//! The bridge's table (component `bridge`): one row per IBC payout of the
//! followed contract, from its packet to its acknowledgement or timeout,
//! behind a typed API (no SQL elsewhere).

use std::sync::Arc;

use relayer_core::store::{Component, Store, StoreResult};
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

const MIGRATIONS: &[&str] = &["CREATE TABLE bridge_payouts (
        chain_id        TEXT NOT NULL,
        contract        TEXT NOT NULL,
        payout_id       INTEGER NOT NULL,
        ibc_channel     TEXT NOT NULL,
        sequence        INTEGER NOT NULL,
        payee           TEXT NOT NULL,
        receiver        TEXT NOT NULL,
        denom           TEXT NOT NULL,
        amount          TEXT NOT NULL,
        timeout_nanos   INTEGER NOT NULL,
        sent_height     INTEGER NOT NULL,
        sent_nanos      INTEGER NOT NULL,
        status          TEXT NOT NULL,
        settled_height  INTEGER,
        settled_nanos   INTEGER,
        settle_tx       TEXT,
        PRIMARY KEY (chain_id, contract, payout_id)
    );
    CREATE INDEX bridge_payouts_open ON bridge_payouts (chain_id, contract, status);"];

/// Where a payout is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    /// The packet was sent; no acknowledgement or timeout yet.
    InFlight,
    /// Acknowledged with success: the receiver was paid on the other chain.
    Delivered,
    /// Acknowledged with an error: ICS-20 refunded it; credited to the payee.
    ErrorAck,
    /// Timed out: ICS-20 refunded it; credited to the payee.
    Timeout,
    /// Settled on chain while its callback's event was not seen (a gap in
    /// the blocks followed): the contract no longer holds it.
    Settled,
}

impl PayoutStatus {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::InFlight => "in_flight",
            PayoutStatus::Delivered => "delivered",
            PayoutStatus::ErrorAck => "error_ack",
            PayoutStatus::Timeout => "timeout",
            PayoutStatus::Settled => "settled",
        }
    }

    /// From a stored name or a callback's `outcome` attribute.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "in_flight" => PayoutStatus::InFlight,
            "delivered" => PayoutStatus::Delivered,
            "error_ack" => PayoutStatus::ErrorAck,
            "timeout" => PayoutStatus::Timeout,
            "settled" => PayoutStatus::Settled,
            _ => return None,
        })
    }
}

/// One payout as the bridge recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutRecord {
    /// The contract's payout id.
    pub payout_id: u64,
    /// ICS-20 channel on this chain.
    pub ibc_channel: String,
    /// Packet sequence on that channel.
    pub sequence: u64,
    /// The payee on this chain.
    pub payee: String,
    /// The receiver on the other chain.
    pub receiver: String,
    /// Denom sent (this chain's).
    pub denom: String,
    /// Amount sent (base units).
    pub amount: u128,
    /// Packet timeout, ns since the epoch (the counterparty's clock).
    pub timeout_nanos: u64,
    /// Block of the claim that sent the packet.
    pub sent_height: u64,
    /// Its time, ns since the epoch.
    pub sent_nanos: u64,
    /// Where it is.
    pub status: PayoutStatus,
    /// Block of the acknowledgement or timeout.
    pub settled_height: Option<u64>,
    /// Its time, ns since the epoch.
    pub settled_nanos: Option<u64>,
    /// The tx that settled it (Hermes' acknowledgement or timeout).
    pub settle_tx: Option<String>,
}

impl PayoutRecord {
    /// Blocks from the packet to its settlement, once settled.
    pub fn latency_blocks(&self) -> Option<u64> {
        self.settled_height
            .map(|h| h.saturating_sub(self.sent_height))
    }

    /// Seconds from the packet to its settlement, once settled.
    pub fn latency_seconds(&self) -> Option<f64> {
        self.settled_nanos
            .map(|t| t.saturating_sub(self.sent_nanos) as f64 / 1e9)
    }
}

const COLUMNS: &str = "payout_id, ibc_channel, sequence, payee, receiver, denom, amount,
    timeout_nanos, sent_height, sent_nanos, status, settled_height, settled_nanos, settle_tx";

fn row(r: &Row<'_>) -> rusqlite::Result<PayoutRecord> {
    let opt_u64 = |i| r.get::<_, Option<i64>>(i).map(|v| v.map(|v| v as u64));
    let amount: String = r.get(6)?;
    let status: String = r.get(10)?;
    Ok(PayoutRecord {
        payout_id: r.get::<_, i64>(0)? as u64,
        ibc_channel: r.get(1)?,
        sequence: r.get::<_, i64>(2)? as u64,
        payee: r.get(3)?,
        receiver: r.get(4)?,
        denom: r.get(5)?,
        amount: amount.parse().map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(
                6,
                rusqlite::types::Type::Text,
                format!("amount {amount:?} is not a number").into(),
            )
        })?,
        timeout_nanos: r.get::<_, i64>(7)? as u64,
        sent_height: r.get::<_, i64>(8)? as u64,
        sent_nanos: r.get::<_, i64>(9)? as u64,
        status: PayoutStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                10,
                rusqlite::types::Type::Text,
                format!("unknown payout status {status:?}").into(),
            )
        })?,
        settled_height: opt_u64(11)?,
        settled_nanos: opt_u64(12)?,
        settle_tx: r.get(13)?,
    })
}

/// The bridge's payouts of one contract on one chain.
#[derive(Clone)]
pub struct PayoutStore {
    table: Component,
    chain_id: String,
    contract: String,
}

impl PayoutStore {
    /// Opens (and migrates) the table in `store`.
    pub fn open(store: &Arc<Store>, chain_id: &str, contract: &str) -> StoreResult<Self> {
        Ok(Self {
            table: store.component("bridge", MIGRATIONS)?,
            chain_id: chain_id.to_string(),
            contract: contract.to_string(),
        })
    }

    /// Records a sent payout; a payout already recorded is left as it is
    /// (events are delivered at least once).
    pub async fn record_sent(&self, p: PayoutRecord) -> StoreResult<bool> {
        let (chain, contract) = (self.chain_id.clone(), self.contract.clone());
        self.table
            .run("record a sent payout", move |c| {
                let n = c.execute(
                    "INSERT OR IGNORE INTO bridge_payouts (chain_id, contract, payout_id,
                        ibc_channel, sequence, payee, receiver, denom, amount, timeout_nanos,
                        sent_height, sent_nanos, status)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'in_flight')",
                    params![
                        chain,
                        contract,
                        p.payout_id as i64,
                        p.ibc_channel,
                        p.sequence as i64,
                        p.payee,
                        p.receiver,
                        p.denom,
                        p.amount.to_string(),
                        p.timeout_nanos as i64,
                        p.sent_height as i64,
                        p.sent_nanos as i64,
                    ],
                )?;
                Ok(n == 1)
            })
            .await
    }

    /// Settles an in-flight payout; returns the record when this call
    /// settled it (a repeated or unknown settlement changes nothing).
    pub async fn settle(
        &self,
        payout_id: u64,
        status: PayoutStatus,
        height: u64,
        nanos: u64,
        tx: Option<String>,
    ) -> StoreResult<Option<PayoutRecord>> {
        let (chain, contract) = (self.chain_id.clone(), self.contract.clone());
        self.table
            .run("settle a payout", move |c| {
                let t = c.transaction()?;
                let n = t.execute(
                    "UPDATE bridge_payouts SET status = ?4, settled_height = ?5,
                        settled_nanos = ?6, settle_tx = ?7
                     WHERE chain_id = ?1 AND contract = ?2 AND payout_id = ?3
                       AND status = 'in_flight'",
                    params![
                        chain,
                        contract,
                        payout_id as i64,
                        status.as_str(),
                        height as i64,
                        nanos as i64,
                        tx
                    ],
                )?;
                let out = if n == 1 {
                    t.query_row(
                        &format!(
                            "SELECT {COLUMNS} FROM bridge_payouts
                             WHERE chain_id = ?1 AND contract = ?2 AND payout_id = ?3"
                        ),
                        params![chain, contract, payout_id as i64],
                        row,
                    )
                    .optional()?
                } else {
                    None
                };
                t.commit()?;
                Ok(out)
            })
            .await
    }

    /// One payout.
    pub async fn get(&self, payout_id: u64) -> StoreResult<Option<PayoutRecord>> {
        let (chain, contract) = (self.chain_id.clone(), self.contract.clone());
        self.table
            .run("read a payout", move |c| {
                c.query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM bridge_payouts
                         WHERE chain_id = ?1 AND contract = ?2 AND payout_id = ?3"
                    ),
                    params![chain, contract, payout_id as i64],
                    row,
                )
                .optional()
            })
            .await
    }

    /// One page of payouts, newest first, optionally of one status:
    /// ids below `before` (all when `None`), at most `limit`.
    pub async fn list(
        &self,
        status: Option<PayoutStatus>,
        before: Option<u64>,
        limit: u32,
    ) -> StoreResult<Vec<PayoutRecord>> {
        let (chain, contract) = (self.chain_id.clone(), self.contract.clone());
        let status = status.map(|s| s.as_str().to_string());
        let before = before.map(|b| b as i64).unwrap_or(i64::MAX);
        self.table
            .run("list payouts", move |c| {
                let mut stmt = c.prepare(&format!(
                    "SELECT {COLUMNS} FROM bridge_payouts
                     WHERE chain_id = ?1 AND contract = ?2 AND payout_id < ?3
                       AND (?4 IS NULL OR status = ?4)
                     ORDER BY payout_id DESC LIMIT ?5"
                ))?;
                let rows =
                    stmt.query_map(params![chain, contract, before, status, limit as i64], row)?;
                rows.collect()
            })
            .await
    }

    /// In-flight payouts, oldest first, at most `limit`.
    pub async fn in_flight(&self, limit: u32) -> StoreResult<Vec<PayoutRecord>> {
        let (chain, contract) = (self.chain_id.clone(), self.contract.clone());
        self.table
            .run("list in-flight payouts", move |c| {
                let mut stmt = c.prepare(&format!(
                    "SELECT {COLUMNS} FROM bridge_payouts
                     WHERE chain_id = ?1 AND contract = ?2 AND status = 'in_flight'
                     ORDER BY payout_id LIMIT ?3"
                ))?;
                let rows = stmt.query_map(params![chain, contract, limit as i64], row)?;
                rows.collect()
            })
            .await
    }

    /// How many payouts are in flight.
    pub async fn count_in_flight(&self) -> StoreResult<u64> {
        let (chain, contract) = (self.chain_id.clone(), self.contract.clone());
        self.table
            .run("count in-flight payouts", move |c| {
                c.query_row(
                    "SELECT COUNT(*) FROM bridge_payouts
                     WHERE chain_id = ?1 AND contract = ?2 AND status = 'in_flight'",
                    params![chain, contract],
                    |r| r.get::<_, i64>(0),
                )
                .map(|n| n as u64)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: u64) -> PayoutRecord {
        PayoutRecord {
            payout_id: id,
            ibc_channel: "channel-0".into(),
            sequence: 10 + id,
            payee: "wasm1payee".into(),
            receiver: "wasm1receiver".into(),
            denom: "ustake".into(),
            amount: 1_000 * u128::from(id),
            timeout_nanos: 5_000,
            sent_height: 100,
            sent_nanos: 1_000_000_000,
            status: PayoutStatus::InFlight,
            settled_height: None,
            settled_nanos: None,
            settle_tx: None,
        }
    }

    #[tokio::test]
    async fn a_payout_is_recorded_once_and_settled_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("s.sqlite")).unwrap());
        let payouts = PayoutStore::open(&store, "city", "wasm1pc").unwrap();
        assert!(payouts.record_sent(record(1)).await.unwrap());
        assert!(!payouts.record_sent(record(1)).await.unwrap());
        assert!(payouts.record_sent(record(2)).await.unwrap());
        assert_eq!(payouts.count_in_flight().await.unwrap(), 2);

        let settled = payouts
            .settle(
                1,
                PayoutStatus::Delivered,
                112,
                4_500_000_000,
                Some("AB".into()),
            )
            .await
            .unwrap()
            .expect("settled now");
        assert_eq!(settled.status, PayoutStatus::Delivered);
        assert_eq!(settled.latency_blocks(), Some(12));
        assert_eq!(settled.latency_seconds(), Some(3.5));
        // A second callback event (redelivered batch) changes nothing.
        assert_eq!(
            payouts
                .settle(1, PayoutStatus::Timeout, 200, 9, None)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            payouts.get(1).await.unwrap().unwrap().status,
            PayoutStatus::Delivered
        );
        assert_eq!(
            payouts
                .settle(9, PayoutStatus::Timeout, 1, 1, None)
                .await
                .unwrap(),
            None
        );

        let in_flight = payouts.in_flight(10).await.unwrap();
        assert_eq!(
            in_flight.iter().map(|p| p.payout_id).collect::<Vec<_>>(),
            vec![2]
        );
        let delivered = payouts
            .list(Some(PayoutStatus::Delivered), None, 10)
            .await
            .unwrap();
        assert_eq!(delivered.len(), 1);
        assert_eq!(delivered[0].amount, 1_000);
        let page = payouts.list(None, Some(2), 10).await.unwrap();
        assert_eq!(
            page.iter().map(|p| p.payout_id).collect::<Vec<_>>(),
            vec![1]
        );
        // Another contract's payouts are apart.
        let other = PayoutStore::open(&store, "city", "wasm1other").unwrap();
        assert!(other.list(None, None, 10).await.unwrap().is_empty());
    }
}
