//! The watchtower's tables themselves: migrations, row types and decoding,
//! and the statements the store API is made of (the compare-and-store of a
//! voucher in one transaction).

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use wevalue_voucher::Hashlock;

use super::Stored;

/// Migrations of the `watchtower` component (index + 1 = version).
pub(super) const MIGRATIONS: &[&str] = &[r#"
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

pub(super) const VOUCHER_COLUMNS: &str = "channel_id, payee, amount, hashlock, expiry, signature,
    received_at, unsettled_since, claimed, status, finalize_after, rejected_amount, rejected_reason";

fn parse_u128(s: &str) -> rusqlite::Result<u128> {
    s.parse::<u128>().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

pub(super) fn voucher_row(r: &Row<'_>) -> rusqlite::Result<VoucherRow> {
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

pub(super) fn settlement_row(r: &Row<'_>) -> rusqlite::Result<SettlementRow> {
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

pub(super) const SETTLEMENT_COLUMNS: &str =
    "key, kind, items, status, tx_hash, height, gas_used, error";

pub(super) fn items_json(items: &[(u64, u128)]) -> String {
    let v: Vec<(u64, String)> = items.iter().map(|(c, a)| (*c, a.to_string())).collect();
    serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())
}

/// One voucher row by channel.
pub(super) fn load_voucher(
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

/// [`load_voucher`] with a cached statement (the group commit's hot path).
fn load_voucher_cached(
    conn: &rusqlite::Connection,
    chain_id: &str,
    contract: &str,
    channel_id: u64,
) -> rusqlite::Result<Option<VoucherRow>> {
    conn.prepare_cached(
        "SELECT channel_id, payee, amount, hashlock, expiry, signature, received_at,
            unsettled_since, claimed, status, finalize_after, rejected_amount, rejected_reason
         FROM watchtower_vouchers WHERE chain_id = ?1 AND contract = ?2 AND channel_id = ?3",
    )?
    .query_row(params![chain_id, contract, channel_id as i64], voucher_row)
    .optional()
}

/// A preimage by hashlock.
pub(super) fn load_preimage(
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

pub(super) fn put_preimage(
    tx: &rusqlite::Connection,
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

/// The compare-and-store of one voucher inside the caller's transaction
/// (the group commit runs many in one). Writes nothing when it is stale.
pub(super) fn store_best(
    conn: &rusqlite::Connection,
    chain_id: &str,
    contract: &str,
    now: i64,
    row: &VoucherRow,
    preimage: Option<&[u8]>,
) -> rusqlite::Result<Stored> {
    let existing = load_voucher_cached(conn, chain_id, contract, row.channel_id)?;
    if let Some(best) = &existing {
        let same = best.amount == row.amount
            && best.signature == row.signature
            && best.hashlock == row.hashlock
            && best.expiry == row.expiry;
        if same {
            if let (Some(lock), Some(p)) = (&row.hashlock, preimage) {
                put_preimage(conn, lock.as_ref(), p, now)?;
            }
            return Ok(Stored::Best(Box::new(best.clone())));
        }
        if row.amount <= best.amount {
            return Ok(Stored::Stale(best.amount));
        }
    }
    let unsettled_since = existing
        .as_ref()
        .and_then(|b| b.unsettled_since)
        .unwrap_or(row.received_at);
    let claimed = existing
        .as_ref()
        .map(|b| b.claimed.max(row.claimed))
        .unwrap_or(row.claimed);
    conn.prepare_cached(
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
    )?
    .execute(params![
        chain_id,
        contract,
        row.channel_id as i64,
        row.payee,
        row.amount.to_string(),
        row.hashlock.as_ref().map(|h| h.as_bytes().as_slice()),
        row.expiry.map(|e| e as i64),
        row.signature,
        row.received_at as i64,
        unsettled_since as i64,
        claimed.to_string(),
        row.status,
        row.finalize_after.map(|f| f as i64),
    ])?;
    if let (Some(lock), Some(p)) = (&row.hashlock, preimage) {
        put_preimage(conn, lock.as_ref(), p, now)?;
    }
    // The row as the upsert left it: payee, status and challenge end are
    // kept from an existing row (the chain sync owns them).
    let mut stored = row.clone();
    stored.unsettled_since = Some(unsettled_since);
    stored.claimed = claimed;
    stored.rejected_amount = None;
    stored.rejected_reason = None;
    if let Some(b) = existing {
        stored.payee = b.payee;
        stored.status = b.status;
        stored.finalize_after = b.finalize_after;
    }
    Ok(Stored::Best(Box::new(stored)))
}
