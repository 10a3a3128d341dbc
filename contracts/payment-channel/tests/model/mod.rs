//! The property test's model of the payment channel: what every message
//! must do, decided from the rules (who may call, signatures, amounts
//! against the deposit, cumulative amounts, time windows, hashlocks,
//! allowlists, hub authorizations) and never from what the contract did.
//! Each `check_*` returns `Ok` when the message must be accepted and the
//! exact error when it must be refused, in the order the contract checks.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use cosmwasm_std::Uint128;
use cw_utils::PaymentError;
use payment_channel::msg::ChannelStatus;
use payment_channel::ContractError;
use wevalue_common::asset::AssetInfo;
use wevalue_voucher::sign::VoucherSigner;

pub const MAX_OPEN_PER_PAIR: usize = 8;
pub const MAX_OPEN_PER_LISTING: usize = 8;
pub const MAX_LISTING_ASSETS: usize = 4;

#[derive(Clone)]
pub struct MChannel {
    pub payer: String,
    pub payee: String,
    pub asset: AssetInfo,
    pub key: VoucherSigner,
    pub challenge_period: u64,
    pub deposit: u128,
    pub claimed: u128,
    pub closed: bool,
    pub finalize_after: Option<u64>,
    pub hold_until: Option<u64>,
    pub accepted: bool,
    pub listing: Option<u64>,
}

impl MChannel {
    pub fn balance(&self) -> u128 {
        if self.closed {
            0
        } else {
            self.deposit - self.claimed
        }
    }

    pub fn status(&self) -> ChannelStatus {
        match (self.closed, self.finalize_after) {
            (true, _) => ChannelStatus::Closed,
            (false, Some(t)) => ChannelStatus::Closing {
                finalize_after: cosmwasm_std::Timestamp::from_seconds(t),
            },
            (false, None) => ChannelStatus::Open,
        }
    }
}

/// A payout record the contract keeps until a callback settles it.
#[derive(Clone, Debug)]
pub struct MPayout {
    pub id: u64,
    pub sequence: u64,
    pub payee: String,
    pub denom: String,
    pub amount: u128,
    /// (channel index, amount).
    pub shares: Vec<(usize, u128)>,
    pub confirmed: bool,
}

#[derive(Default)]
pub struct Model {
    pub min_cp: u64,
    pub max_cp: u64,
    pub max_batch: u32,
    pub cw20_accepted: bool,
    pub allowed_channels: BTreeSet<String>,
    pub channels: Vec<MChannel>,
    pub towers: BTreeSet<String>,
    pub credits: BTreeMap<(String, String), u128>,
    pub payouts: Vec<MPayout>,
    pub next_payout: u64,
    pub next_sequence: u64,
    /// Per asset key: tokens the contract holds that nobody owns.
    pub surplus: BTreeMap<String, u128>,
    /// Per (actor, asset key): change of the actor's balance.
    pub wallets: BTreeMap<(String, String), i128>,
    pub hub_auth: BTreeSet<(String, String)>,
    /// Listing groups: (payer, payee, listing) -> (group id, assets used).
    pub listings: BTreeMap<(String, String, u64), (u64, Vec<AssetInfo>)>,
    /// Each actor's address, for the errors that name one.
    pub addrs: BTreeMap<String, String>,
}

pub fn in_batch(index: usize, e: ContractError) -> ContractError {
    e.in_batch(index)
}

impl Model {
    pub fn new() -> Self {
        Model {
            min_cp: 3600,
            max_cp: 7 * 24 * 3600,
            max_batch: 50,
            cw20_accepted: true,
            next_payout: 1,
            next_sequence: 1,
            ..Model::default()
        }
    }

    pub fn wallet(&mut self, who: &str, asset: &AssetInfo, delta: i128) {
        *self
            .wallets
            .entry((who.to_string(), asset.key()))
            .or_default() += delta;
    }

    pub fn open_in_pair(&self, payer: &str, payee: &str, asset: &AssetInfo) -> usize {
        self.channels
            .iter()
            .filter(|c| c.payer == payer && c.payee == payee && c.asset == *asset && !c.closed)
            .count()
    }

    /// The checks every open makes after its funds were taken.
    pub fn check_open(
        &self,
        payer: &str,
        payee: &str,
        asset: &AssetInfo,
        period: Option<u64>,
        listing: Option<u64>,
    ) -> Result<(), ContractError> {
        let period = period.unwrap_or(self.min_cp);
        if !(self.min_cp..=self.max_cp).contains(&period) {
            return Err(ContractError::ChallengePeriodOutOfRange {
                period,
                min: self.min_cp,
                max: self.max_cp,
            });
        }
        if self.open_in_pair(payer, payee, asset) >= MAX_OPEN_PER_PAIR {
            return Err(ContractError::TooManyOpenChannels {
                max: MAX_OPEN_PER_PAIR,
            });
        }
        if let Some(l) = listing {
            if let Some((group, assets)) =
                self.listings
                    .get(&(payer.to_string(), payee.to_string(), l))
            {
                let open = self
                    .channels
                    .iter()
                    .filter(|c| c.listing == Some(*group) && !c.closed)
                    .count();
                if open >= MAX_OPEN_PER_LISTING {
                    return Err(ContractError::ListingFull {
                        max: MAX_OPEN_PER_LISTING,
                        what: "open channels",
                    });
                }
                if !assets.contains(asset) && assets.len() >= MAX_LISTING_ASSETS {
                    return Err(ContractError::ListingFull {
                        max: MAX_LISTING_ASSETS,
                        what: "assets",
                    });
                }
            }
        }
        Ok(())
    }

    /// Records an accepted open; returns the channel's index.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_open(
        &mut self,
        payer: &str,
        payee: &str,
        asset: AssetInfo,
        key: VoucherSigner,
        period: Option<u64>,
        listing: Option<u64>,
        amount: u128,
    ) -> usize {
        let group = listing.map(|l| {
            let next = self.listings.len() as u64 + 1;
            let entry = self
                .listings
                .entry((payer.to_string(), payee.to_string(), l))
                .or_insert((next, vec![]));
            if !entry.1.contains(&asset) {
                entry.1.push(asset.clone());
            }
            entry.0
        });
        self.channels.push(MChannel {
            payer: payer.into(),
            payee: payee.into(),
            asset,
            key,
            challenge_period: period.unwrap_or(self.min_cp),
            deposit: amount,
            claimed: 0,
            closed: false,
            finalize_after: None,
            hold_until: None,
            accepted: false,
            listing: group,
        });
        self.channels.len() - 1
    }

    pub fn channel(&self, ch: usize) -> Result<&MChannel, ContractError> {
        self.channels
            .get(ch)
            .ok_or(ContractError::ChannelNotFound { id: ch as u64 + 1 })
    }

    /// A top-up of `amount` of `sent` to channel `ch` by `sender`, after
    /// the funds were checked.
    pub fn check_top_up(
        &self,
        ch: usize,
        sender: &str,
        sent: &AssetInfo,
    ) -> Result<(), ContractError> {
        let c = self.channel(ch)?;
        let id = ch as u64 + 1;
        if sender != c.payer {
            return Err(ContractError::NotPayer { id });
        }
        if *sent != c.asset {
            return Err(ContractError::WrongAsset {
                id,
                asset: c.asset.to_string(),
                sent: sent.to_string(),
            });
        }
        ensure_open(id, c)
    }

    pub fn claimant(&self, ch: usize, sender: &str) -> Result<(), ContractError> {
        let c = self.channel(ch)?;
        if sender == c.payee || (self.towers.contains(&c.payee) && sender == "tower") {
            Ok(())
        } else {
            Err(ContractError::NotPayeeOrWatchtower {
                id: ch as u64 + 1,
                sender: self.addrs.get(sender).cloned().unwrap_or_default(),
            })
        }
    }

    /// Everything but the preimage and the signature.
    pub fn check_terms(
        &self,
        ch: usize,
        amount: u128,
        expiry: Option<u64>,
        now: u64,
    ) -> Result<u128, ContractError> {
        let c = self.channel(ch)?;
        let id = ch as u64 + 1;
        if c.closed {
            return Err(ContractError::ChannelClosed { id });
        }
        if let Some(finalize_after) = c.finalize_after {
            if now >= finalize_after {
                return Err(ContractError::ChallengePeriodOver { id, finalize_after });
            }
        }
        if amount <= c.claimed {
            return Err(ContractError::VoucherNotIncreasing {
                id,
                amount: Uint128::new(amount),
                claimed: Uint128::new(c.claimed),
            });
        }
        if amount > c.deposit {
            return Err(ContractError::VoucherExceedsDeposit {
                id,
                amount: Uint128::new(amount),
                deposit: Uint128::new(c.deposit),
            });
        }
        if let Some(expiry) = expiry {
            if now >= expiry {
                return Err(ContractError::VoucherExpired { id, expiry, now });
            }
        }
        Ok(amount - c.claimed)
    }

    /// An IBC payout of `asset` over `channel`.
    pub fn check_ibc(&self, asset: &AssetInfo, channel: &str) -> Result<(), ContractError> {
        if !matches!(asset, AssetInfo::Native(_)) {
            return Err(ContractError::Cw20OverIbc);
        }
        if !self.allowed_channels.contains(channel) {
            return Err(ContractError::IbcChannelNotAllowed {
                channel: channel.into(),
            });
        }
        Ok(())
    }

    /// Records a redemption of `amount` on `ch`.
    pub fn redeem(&mut self, ch: usize, amount: u128) -> u128 {
        let c = &mut self.channels[ch];
        let increase = amount - c.claimed;
        c.claimed = amount;
        c.accepted = true;
        increase
    }

    /// Records an IBC payout of `shares` (channel, amount) in `denom`.
    pub fn send_payout(&mut self, payee: &str, denom: &str, shares: Vec<(usize, u128)>) {
        let amount = shares.iter().map(|s| s.1).sum();
        self.payouts.push(MPayout {
            id: self.next_payout,
            sequence: self.next_sequence,
            payee: payee.into(),
            denom: denom.into(),
            amount,
            shares,
            confirmed: false,
        });
        self.next_payout += 1;
        self.next_sequence += 1;
    }

    /// A callback settles the payout with this sequence.
    pub fn settle(&mut self, sequence: u64, refunded: bool) {
        let Some(i) = self.payouts.iter().position(|p| p.sequence == sequence) else {
            return;
        };
        let p = self.payouts.remove(i);
        if refunded {
            *self.credits.entry((p.payee, p.denom)).or_default() += p.amount;
        }
    }

    pub fn close(&mut self, ch: usize) {
        let c = &mut self.channels[ch];
        c.closed = true;
        let refund = c.deposit - c.claimed;
        let (payer, asset) = (c.payer.clone(), c.asset.clone());
        self.wallet(&payer, &asset, refund as i128);
    }

    /// What the contract owes of `asset`: channel balances and credits.
    pub fn owed(&self, asset: &AssetInfo) -> u128 {
        let channels: u128 = self
            .channels
            .iter()
            .filter(|c| c.asset == *asset)
            .map(MChannel::balance)
            .sum();
        channels + self.credit_in(asset)
    }

    pub fn credit_in(&self, asset: &AssetInfo) -> u128 {
        match asset {
            AssetInfo::Native(denom) => self
                .credits
                .iter()
                .filter(|((_, d), _)| d == denom)
                .map(|(_, a)| *a)
                .sum(),
            AssetInfo::Cw20(_) => 0,
        }
    }

    /// What the contract reserves of `asset`: deposits of channels not
    /// closed plus credits.
    pub fn reserved(&self, asset: &AssetInfo) -> u128 {
        let deposits: u128 = self
            .channels
            .iter()
            .filter(|c| c.asset == *asset && !c.closed)
            .map(|c| c.deposit)
            .sum();
        deposits + self.credit_in(asset)
    }

    pub fn surplus(&self, asset: &AssetInfo) -> u128 {
        self.surplus.get(&asset.key()).copied().unwrap_or_default()
    }

    /// Payouts not settled nor confirmed: not paid yet.
    fn pending(&self, ch: usize) -> u128 {
        self.payouts
            .iter()
            .filter(|p| !p.confirmed)
            .flat_map(|p| p.shares.iter())
            .filter(|(c, _)| *c == ch)
            .map(|(_, a)| a)
            .sum()
    }

    /// `total_paid`: claimed on the pair's channels minus payouts pending.
    pub fn total_paid(&self, payer: &str, payee: &str, asset: &AssetInfo) -> u128 {
        (0..self.channels.len())
            .filter(|&i| {
                let c = &self.channels[i];
                c.payer == payer && c.payee == payee && c.asset == *asset
            })
            .map(|i| self.channels[i].claimed - self.pending(i))
            .sum()
    }

    /// `paid_for_listing`: per asset, nonzero only, in first-use order.
    pub fn paid_for_listing(
        &self,
        payer: &str,
        payee: &str,
        listing: u64,
    ) -> Vec<(AssetInfo, u128)> {
        let Some((group, assets)) =
            self.listings
                .get(&(payer.to_string(), payee.to_string(), listing))
        else {
            return vec![];
        };
        assets
            .iter()
            .map(|a| {
                let sum = (0..self.channels.len())
                    .filter(|&i| {
                        self.channels[i].listing == Some(*group) && self.channels[i].asset == *a
                    })
                    .map(|i| self.channels[i].claimed - self.pending(i))
                    .sum();
                (a.clone(), sum)
            })
            .filter(|(_, s)| *s > 0)
            .collect()
    }
}

pub fn ensure_open(id: u64, c: &MChannel) -> Result<(), ContractError> {
    match (c.closed, c.finalize_after) {
        (false, None) => Ok(()),
        (true, _) => Err(ContractError::ChannelNotOpen {
            id,
            status: "closed",
        }),
        (false, Some(_)) => Err(ContractError::ChannelNotOpen {
            id,
            status: "closing",
        }),
    }
}

/// What `one_coin` says about an amount of one coin.
pub fn one_coin(amount: u128) -> Result<(), ContractError> {
    if amount == 0 {
        Err(ContractError::Payment(PaymentError::NoFunds {}))
    } else {
        Ok(())
    }
}
