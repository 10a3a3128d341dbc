//! Group commit of vouchers: one writer thread takes every voucher that
//! arrived while the previous transaction committed, stores them in one
//! SQLite transaction (one fsync: WAL with `synchronous=FULL`), and only
//! then answers each caller. A caller is never acknowledged before its
//! voucher is durable; if the commit fails, every caller of the batch gets
//! the error and nothing of the batch is kept.

use relayer_core::store::Component;
use relayer_core::StoreError;
use tokio::sync::{mpsc, oneshot};

use super::rows::store_best;
use super::{Stored, VoucherRow};

/// Most vouchers in one transaction (bounds the latency of the first).
const MAX_BATCH: usize = 4_096;
/// Vouchers waiting for the writer before callers wait to enqueue.
const QUEUE: usize = 65_536;

/// One voucher waiting for the group commit.
pub(super) struct Pending {
    pub row: VoucherRow,
    pub preimage: Option<Vec<u8>>,
    pub now: i64,
    pub reply: oneshot::Sender<Result<Stored, StoreError>>,
}

/// Starts the writer thread of one (chain, contract); it ends when every
/// sender is dropped.
pub(super) fn spawn(
    db: Component,
    chain_id: String,
    contract: String,
) -> Result<mpsc::Sender<Pending>, StoreError> {
    let (tx, rx) = mpsc::channel(QUEUE);
    std::thread::Builder::new()
        .name("watchtower-writer".into())
        .spawn(move || run(db, &chain_id, &contract, rx))
        .map_err(|e| StoreError::Batch {
            context: "starting the voucher writer",
            reason: e.to_string(),
        })?;
    Ok(tx)
}

fn run(db: Component, chain_id: &str, contract: &str, mut rx: mpsc::Receiver<Pending>) {
    let mut batch: Vec<Pending> = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let result = db.with("watchtower: storing vouchers", |conn| {
            let tx = conn.transaction()?;
            let mut out = Vec::with_capacity(batch.len());
            // In arrival order, in one transaction: a later voucher of the
            // same channel sees the earlier one's write.
            for p in &batch {
                out.push(store_best(
                    &tx,
                    chain_id,
                    contract,
                    p.now,
                    &p.row,
                    p.preimage.as_deref(),
                )?);
            }
            tx.commit()?;
            Ok(out)
        });
        match result {
            Ok(stored) => {
                for (p, s) in batch.drain(..).zip(stored) {
                    let _ = p.reply.send(Ok(s));
                }
            }
            Err(e) => {
                let reason = e.to_string();
                tracing::error!(error = %reason, vouchers = batch.len(), "watchtower: group commit failed");
                for p in batch.drain(..) {
                    let _ = p.reply.send(Err(StoreError::Batch {
                        context: "storing vouchers",
                        reason: reason.clone(),
                    }));
                }
            }
        }
    }
}
