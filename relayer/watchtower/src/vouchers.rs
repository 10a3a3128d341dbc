//! Vouchers in: checks against the channel and the payer's signature (on
//! the blocking pool, off the async workers), then the durable
//! compare-and-store (group commit) before the API answers. Also the
//! [`VoucherSink`] the data gateway hands its streams' vouchers to.

use async_trait::async_trait;
use cosmwasm_std::{HexBinary, Uint128};
use payment_channel::msg::ChannelStatus;
use relayer_core::chain::{BlockEventSource, ChainStatus, SmartQuery};
use relayer_core::vouchers::{SinkError, SinkVoucher, StoredVoucher, VoucherSink};
use relayer_core::StoreError;
use wevalue_voucher::{Hashlock, Voucher};

use crate::http;
use crate::store::{SettlementRow, Stored, VoucherRow};
use crate::{status_str, Watchtower};

impl<C: SmartQuery + ChainStatus + BlockEventSource + ?Sized + 'static> Watchtower<C> {
    /// Checks a voucher against the channel and, if it is the new best,
    /// commits it durably. Returns the stored best amount.
    pub async fn accept_voucher(
        &self,
        req: http::VoucherRequest,
    ) -> Result<http::Accepted, http::ApiError> {
        self.accept(req, true).await
    }

    /// [`Self::accept_voucher`]; `verify` false skips the signature check
    /// for a caller in this process that verified it with the same code
    /// against the same on-chain key (the gateway, through [`VoucherSink`]).
    async fn accept(
        &self,
        req: http::VoucherRequest,
        verify: bool,
    ) -> Result<http::Accepted, http::ApiError> {
        use http::ApiError as E;
        let id = req.channel_id;
        let amount = req.amount.u128();
        if amount == 0 {
            return Err(E::malformed("amount must be positive"));
        }
        if req.signature.len() != 64 {
            return Err(E::bad_signature(format!(
                "signature must be 64 bytes, got {}",
                req.signature.len()
            )));
        }
        let hashlock = match &req.hashlock {
            Some(lock) => Some(
                Hashlock::try_from(lock.as_slice())
                    .map_err(|_| E::malformed("hashlock must be 32 bytes (sha256)"))?,
            ),
            None => None,
        };
        match (&req.hashlock, &req.preimage) {
            (None, Some(_)) => return Err(E::malformed("a preimage needs a hashlock")),
            (Some(lock), Some(p)) => check_preimage(lock, p)?,
            _ => {}
        }
        let mut view = self
            .channel(id, false)
            .await
            .map_err(E::chain)?
            .ok_or_else(|| E::unknown_channel(id))?;
        if !self.payees.contains(&view.payee) {
            return Err(E::payee_not_served(&view.payee));
        }
        if amount > view.deposit || view.status == ChannelStatus::Closed {
            // A top-up or close may not have reached the cache yet.
            view = self
                .channel(id, true)
                .await
                .map_err(E::chain)?
                .ok_or_else(|| E::unknown_channel(id))?;
        }
        if view.status == ChannelStatus::Closed {
            return Err(E::channel_closed(id));
        }
        if amount > view.deposit {
            return Err(E::exceeds_deposit(amount, view.deposit));
        }
        if amount <= view.claimed {
            return Err(E::stale(amount, view.claimed, "claimed on chain"));
        }
        if let Some(expiry) = req.expiry {
            let now = self.chain_now().await.map_err(E::chain)?;
            if expiry <= now {
                return Err(E::expired(expiry, now));
            }
        }
        let voucher = Voucher {
            chain_id: self.chain_id.clone(),
            contract: self.contract.clone(),
            channel_id: id,
            amount: req.amount,
            hashlock,
            expiry: req.expiry,
        };
        if verify {
            // Signature checks are CPU work: on the verification threads,
            // so the async workers keep serving while a batch commits.
            let (scheme, pubkey, prefix) = (view.scheme, view.pubkey.clone(), self.prefix.clone());
            let signature = req.signature.to_vec();
            self.verifier
                .run(move || {
                    wevalue_voucher::sign::verify(scheme, &pubkey, &voucher, &signature, &prefix)
                })
                .await
                .ok_or_else(|| {
                    E::internal(StoreError::Task("the verification threads stopped".into()))
                })?
                .map_err(|e| E::bad_signature(e.to_string()))?;
        }

        let row = VoucherRow {
            channel_id: id,
            payee: view.payee.clone(),
            amount,
            hashlock,
            expiry: req.expiry,
            signature: req.signature.to_vec(),
            received_at: self.now(),
            unsettled_since: Some(self.now()),
            claimed: view.claimed,
            status: status_str(&view.status).to_string(),
            finalize_after: match &view.status {
                ChannelStatus::Closing { finalize_after } => Some(finalize_after.seconds()),
                _ => None,
            },
            rejected_amount: None,
            rejected_reason: None,
        };
        let preimage = req.preimage.as_ref().map(|p| p.to_vec());
        let now = self.now() as i64;
        let stored = match self
            .db
            .store_best(row, preimage, now)
            .await
            .map_err(E::internal)?
        {
            Stored::Best(row) => *row,
            Stored::Stale(best) => {
                return Err(E::stale(amount, best, "the stored best voucher"));
            }
        };
        self.observe_voucher(&stored);
        Ok(http::Accepted {
            channel_id: id,
            best_amount: Uint128::new(stored.amount),
            claimed: Uint128::new(stored.claimed),
            status: stored.status,
        })
    }

    /// Stores a hashlock preimage; returns its hashlock and the channels
    /// whose best voucher it unlocks.
    pub async fn accept_preimage(
        &self,
        preimage: &[u8],
    ) -> Result<(Hashlock, Vec<u64>), http::ApiError> {
        use http::ApiError as E;
        if preimage.is_empty() || preimage.len() > wevalue_voucher::MAX_PREIMAGE_LEN {
            return Err(E::bad_preimage(format!(
                "preimage must be 1 to {} bytes",
                wevalue_voucher::MAX_PREIMAGE_LEN
            )));
        }
        let lock = Hashlock::of_preimage(preimage);
        let channels = self
            .db
            .put_preimage(lock, preimage.to_vec(), self.now() as i64)
            .await
            .map_err(E::internal)?;
        Ok((lock, channels))
    }

    /// The stored best voucher of a channel.
    pub async fn best_voucher(&self, channel_id: u64) -> Result<Option<VoucherRow>, StoreError> {
        self.db.voucher(channel_id).await
    }

    /// Settlements that claimed from a channel, newest first.
    pub async fn settlements(
        &self,
        channel_id: Option<u64>,
    ) -> Result<Vec<SettlementRow>, StoreError> {
        let rows = self.db.settlements().await?;
        Ok(match channel_id {
            None => rows,
            Some(id) => rows
                .into_iter()
                .filter(|s| s.items.iter().any(|(c, _)| *c == id))
                .collect(),
        })
    }
}

fn check_preimage(lock: &HexBinary, preimage: &HexBinary) -> Result<(), http::ApiError> {
    if preimage.is_empty() || preimage.len() > wevalue_voucher::MAX_PREIMAGE_LEN {
        return Err(http::ApiError::bad_preimage(format!(
            "preimage must be 1 to {} bytes",
            wevalue_voucher::MAX_PREIMAGE_LEN
        )));
    }
    if wevalue_voucher::sha256(preimage.as_slice()) != lock.as_slice() {
        return Err(http::ApiError::bad_preimage(
            "preimage does not hash to the hashlock".into(),
        ));
    }
    Ok(())
}

#[async_trait]
impl<C: SmartQuery + ChainStatus + BlockEventSource + ?Sized + 'static> VoucherSink
    for Watchtower<C>
{
    async fn store(&self, voucher: SinkVoucher) -> Result<StoredVoucher, SinkError> {
        let (channel_id, amount) = (voucher.channel_id, voucher.amount);
        let req = http::VoucherRequest {
            channel_id,
            amount: Uint128::new(amount),
            hashlock: None,
            expiry: None,
            signature: voucher.signature.clone().into(),
            preimage: None,
        };
        match self.accept(req, false).await {
            // Accepted: this voucher is the stored best (or was already).
            Ok(a) => Ok(StoredVoucher {
                channel_id,
                amount: a.best_amount.u128(),
                signature: voucher.signature,
            }),
            Err(e) => Err(match e.code {
                "stale_voucher" => SinkError::Stale {
                    channel_id,
                    amount,
                    best: self
                        .db
                        .voucher(channel_id)
                        .await
                        .ok()
                        .flatten()
                        .map_or(0, |r| r.amount),
                },
                "internal" | "chain_unavailable" => SinkError::Unavailable(e.message),
                code => SinkError::Refused {
                    channel_id,
                    code,
                    reason: e.message,
                },
            }),
        }
    }

    async fn best(&self, channel_id: u64) -> Result<Option<StoredVoucher>, SinkError> {
        self.db
            .voucher(channel_id)
            .await
            .map(|row| {
                row.map(|r| StoredVoucher {
                    channel_id,
                    amount: r.amount,
                    signature: r.signature,
                })
            })
            .map_err(|e| SinkError::Unavailable(e.to_string()))
    }
}
