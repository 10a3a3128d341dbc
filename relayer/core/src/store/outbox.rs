//! The outbox's rows: an entry per idempotency key, its signed attempts, and
//! the queries the outbox, its metrics and the `relayer outbox` commands use.

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::{now, Store, StoreResult};
use crate::chain::{ChainMsg, SignedTx, TxOutcome};
use crate::error::{FailureClass, SqlContext, StoreError};

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
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Signed => "signed",
            OutboxStatus::Broadcast => "broadcast",
            OutboxStatus::Done => "done",
            OutboxStatus::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> StoreResult<Self> {
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
    /// Class of the last failure (a failed entry's says why it failed:
    /// only `Contract` means the chain refused what the tx asked for).
    pub failure: Option<FailureClass>,
    /// Times the contract (or the gas ceiling) refused it before signing.
    pub refusals: u32,
}

/// Open entries of a chain: how many and the age of the oldest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxDepth {
    /// Entries not done or failed.
    pub open: u64,
    /// Unix seconds the oldest open entry was recorded at (`None` = none open).
    pub oldest_created_at: Option<i64>,
}

/// One row of `relayer outbox list`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutboxSummary {
    /// Row id.
    pub id: i64,
    /// Idempotency key.
    pub key: String,
    /// Chain.
    pub chain_id: String,
    /// Status.
    pub status: OutboxStatus,
    /// Times signed.
    pub attempts: u32,
    /// Last tx hash.
    pub tx_hash: Option<String>,
    /// Last error.
    pub last_error: Option<String>,
    /// Recorded at (Unix seconds).
    pub created_at: i64,
    /// Last change (Unix seconds).
    pub updated_at: i64,
}

impl Store {
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

    /// Records the signed tx; must happen before it is broadcast. Only from
    /// `pending`: returns false (and records nothing) when the entry moved
    /// on meanwhile, and the caller must then drop the signature unsent.
    pub fn record_signed(&self, id: i64, tx: &SignedTx) -> StoreResult<bool> {
        let mut conn = self.conn();
        let db = conn.transaction().ctx("starting transaction")?;
        let changed = db
            .execute(
                "UPDATE outbox SET status = 'signed', tx_hash = ?2, tx_bytes = ?3, sequence = ?4,
                 gas_limit = ?5, timeout_height = ?6, signed_height = ?7, attempts = attempts + 1,
                 updated_at = ?8 WHERE id = ?1 AND status = 'pending'",
                params![
                    id,
                    tx.hash,
                    tx.bytes,
                    tx.sequence as i64,
                    tx.gas_limit as i64,
                    tx.timeout_height as i64,
                    tx.signed_height as i64,
                    now()
                ],
            )
            .ctx("recording signed tx")?;
        if changed == 0 {
            return Ok(false);
        }
        db.execute(
            "INSERT OR IGNORE INTO outbox_attempts (outbox_id, tx_hash, sequence, signed_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![id, tx.hash, tx.sequence as i64, now()],
        )
        .ctx("recording attempt")?;
        db.commit().ctx("committing signed tx")?;
        Ok(true)
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

    /// Marks an entry accepted by a node (only from `signed`).
    pub fn record_broadcast(&self, id: i64) -> StoreResult<bool> {
        self.transition(id, &["signed"], OutboxStatus::Broadcast, None)
    }

    /// Marks an entry included: done when its code is 0, else failed with
    /// the failure's class. Only from an open status.
    pub fn record_outcome(&self, id: i64, outcome: &TxOutcome) -> StoreResult<bool> {
        let (status, failure) = if outcome.code == 0 {
            (OutboxStatus::Done, None)
        } else {
            (
                OutboxStatus::Failed,
                Some(FailureClass::of(&outcome.codespace, outcome.code).as_str()),
            )
        };
        let error = (outcome.code != 0).then(|| {
            format!(
                "code {} (codespace {}): {}",
                outcome.code, outcome.codespace, outcome.log
            )
        });
        let changed = self
            .conn()
            .execute(
                "UPDATE outbox SET status = ?2, tx_hash = ?3, height = ?4, gas_used = ?5,
                 last_error = coalesce(?6, last_error), failure = ?7, updated_at = ?8
                 WHERE id = ?1 AND status IN ('pending', 'signed', 'broadcast')",
                params![
                    id,
                    status.as_str(),
                    outcome.hash,
                    outcome.height as i64,
                    outcome.gas_used as i64,
                    error,
                    failure,
                    now()
                ],
            )
            .ctx("recording outcome")?;
        Ok(changed > 0)
    }

    /// Drops the signature so the entry is signed again: its tx can no
    /// longer land (the chain is past its timeout height and it is in none
    /// of the blocks, or its sequence was taken on a chain without
    /// timeouts). Only from `signed` or `broadcast`.
    pub fn requeue(&self, id: i64, reason: &str) -> StoreResult<bool> {
        let changed = self
            .conn()
            .execute(
                "UPDATE outbox SET status = 'pending', tx_bytes = NULL, last_error = ?2,
                 updated_at = ?3 WHERE id = ?1 AND status IN ('signed', 'broadcast')",
                params![id, reason, now()],
            )
            .ctx("requeuing")?;
        Ok(changed > 0)
    }

    /// Puts a broadcast entry back to `signed`: its tx is not in a block yet
    /// and may still land, so the same bytes go out again.
    pub fn mark_for_rebroadcast(&self, id: i64, reason: &str) -> StoreResult<bool> {
        self.transition(id, &["broadcast"], OutboxStatus::Signed, Some(reason))
    }

    /// Gives up on an open entry, with the class of the failure.
    pub fn record_failed(
        &self,
        id: i64,
        reason: &str,
        class: Option<FailureClass>,
    ) -> StoreResult<bool> {
        let changed = self
            .conn()
            .execute(
                "UPDATE outbox SET status = 'failed', last_error = ?2, failure = ?3, updated_at = ?4
                 WHERE id = ?1 AND status IN ('pending', 'signed', 'broadcast')",
                params![id, reason, class.map(FailureClass::as_str), now()],
            )
            .ctx("recording failure")?;
        Ok(changed > 0)
    }

    /// Notes an error without changing the status (with its class, if it
    /// has one).
    pub fn record_error(
        &self,
        id: i64,
        reason: &str,
        class: Option<FailureClass>,
    ) -> StoreResult<()> {
        self.conn()
            .execute(
                "UPDATE outbox SET last_error = ?2, failure = coalesce(?3, failure), updated_at = ?4
                 WHERE id = ?1",
                params![id, reason, class.map(FailureClass::as_str), now()],
            )
            .ctx("recording error")?;
        Ok(())
    }

    /// Counts a refusal of a pending entry (the contract refused it at
    /// simulation, or signing was refused); returns how many it has had.
    pub fn record_refusal(&self, id: i64, reason: &str, class: FailureClass) -> StoreResult<u32> {
        self.conn()
            .query_row(
                "UPDATE outbox SET refusals = refusals + 1, last_error = ?2, failure = ?3,
                 updated_at = ?4 WHERE id = ?1 AND status = 'pending' RETURNING refusals",
                params![id, reason, class.as_str(), now()],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .ctx("recording refusal")
            .map(|n| n.unwrap_or_default() as u32)
    }

    /// Moves an entry from one of `from` to `to`; false if it was elsewhere.
    fn transition(
        &self,
        id: i64,
        from: &[&str],
        to: OutboxStatus,
        error: Option<&str>,
    ) -> StoreResult<bool> {
        let list = from
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let changed = self
            .conn()
            .execute(
                &format!(
                    "UPDATE outbox SET status = ?2, last_error = coalesce(?3, last_error),
                     updated_at = ?4 WHERE id = ?1 AND status IN ({list})"
                ),
                params![id, to.as_str(), error, now()],
            )
            .ctx("updating outbox status")?;
        Ok(changed > 0)
    }
}

const OUTBOX_SELECT: &str = "SELECT id, idempotency_key, chain_id, msgs, memo, status, tx_hash,
    tx_bytes, sequence, gas_limit, attempts, last_error, height, gas_used, timeout_height,
    signed_height, failure, refusals FROM outbox";

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
            timeout_height: r.get::<_, i64>(14)? as u64,
            signed_height: r.get::<_, i64>(15)? as u64,
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
    let failure = r
        .get::<_, Option<String>>(16)?
        .and_then(|f| FailureClass::parse(&f));
    let refusals = r.get::<_, i64>(17)? as u32;
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
        failure,
        refusals,
    }))
}

impl Store {
    /// Open entries of a chain and the age of the oldest (outbox metrics).
    pub fn outbox_depth(&self, chain_id: &str) -> StoreResult<OutboxDepth> {
        self.conn()
            .query_row(
                "SELECT COUNT(*), MIN(created_at) FROM outbox
                 WHERE chain_id = ?1 AND status NOT IN ('done', 'failed')",
                params![chain_id],
                |r| {
                    Ok(OutboxDepth {
                        open: r.get::<_, i64>(0)? as u64,
                        oldest_created_at: r.get(1)?,
                    })
                },
            )
            .ctx("measuring the outbox")
    }

    /// Entries newest first, optionally of one status, at most `limit`.
    pub fn outbox_list(
        &self,
        status: Option<OutboxStatus>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxSummary>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT id, idempotency_key, chain_id, status, attempts, tx_hash, last_error,
                 created_at, updated_at FROM outbox
                 WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC LIMIT ?2",
            )
            .ctx("preparing outbox list")?;
        let rows = stmt
            .query_map(params![status.map(|s| s.as_str()), limit], |r| {
                Ok((
                    OutboxSummary {
                        id: r.get(0)?,
                        key: r.get(1)?,
                        chain_id: r.get(2)?,
                        status: OutboxStatus::Pending,
                        attempts: r.get::<_, i64>(4)? as u32,
                        tx_hash: r.get(5)?,
                        last_error: r.get(6)?,
                        created_at: r.get(7)?,
                        updated_at: r.get(8)?,
                    },
                    r.get::<_, String>(3)?,
                ))
            })
            .ctx("listing the outbox")?;
        let mut out = Vec::new();
        for row in rows {
            let (summary, status) = row.ctx("listing the outbox")?;
            out.push(OutboxSummary {
                status: OutboxStatus::parse(&status)?,
                ..summary
            });
        }
        Ok(out)
    }

    /// Operator: gives up on an open entry (`relayer outbox abandon`). A tx
    /// already broadcast may still land; reconciliation no longer looks.
    pub fn outbox_abandon(&self, id: i64, reason: &str) -> StoreResult<OutboxEntry> {
        let entry = self.outbox_entry(id)?;
        if entry.status.is_final() {
            return Err(StoreError::NotOpen {
                id,
                status: entry.status.as_str(),
            });
        }
        self.record_failed(id, reason, None)?;
        self.outbox_entry(id)
    }

    /// Operator: sends a failed entry again (`relayer outbox retry`): it goes
    /// back to pending with its attempts reset and is signed anew at the next
    /// flush. Its earlier signatures stay recorded, so a late inclusion of
    /// one is still recognised.
    pub fn outbox_retry(&self, id: i64) -> StoreResult<OutboxEntry> {
        let entry = self.outbox_entry(id)?;
        if entry.status != OutboxStatus::Failed {
            return Err(StoreError::NotFailed {
                id,
                status: entry.status.as_str(),
            });
        }
        self.conn()
            .execute(
                "UPDATE outbox SET status = 'pending', tx_bytes = NULL, attempts = 0, refusals = 0,
                 failure = NULL, last_error = 'retried by operator', updated_at = ?2
                 WHERE id = ?1 AND status = 'failed'",
                params![id, now()],
            )
            .ctx("retrying")?;
        self.outbox_entry(id)
    }
}

/// Done entries whose key starts with a prefix: how many, their gas, and the
/// highest inclusion height (reports and figures).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DoneTotals {
    /// Entries done.
    pub count: u64,
    /// Gas they used.
    pub gas_used: u64,
    /// Highest inclusion height (0 = none).
    pub max_height: u64,
}

impl Store {
    /// Done entries whose idempotency key starts with `prefix` (`""` = all).
    pub fn outbox_done_totals(&self, prefix: &str) -> StoreResult<DoneTotals> {
        let pattern = format!("{}%", prefix.replace('%', "\\%").replace('_', "\\_"));
        self.conn()
            .query_row(
                "SELECT count(*), coalesce(sum(gas_used), 0), coalesce(max(height), 0) FROM outbox
                 WHERE status = 'done' AND idempotency_key LIKE ?1 ESCAPE '\\'",
                [pattern],
                |r| {
                    Ok(DoneTotals {
                        count: r.get::<_, i64>(0)? as u64,
                        gas_used: r.get::<_, i64>(1)? as u64,
                        max_height: r.get::<_, i64>(2)? as u64,
                    })
                },
            )
            .ctx("totalling done outbox entries")
    }

    /// Entries that failed for good, on any chain.
    pub fn outbox_failed_count(&self) -> StoreResult<u64> {
        self.conn()
            .query_row(
                "SELECT count(*) FROM outbox WHERE status = 'failed'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .ctx("counting failed outbox entries")
            .map(|n| n as u64)
    }
}
