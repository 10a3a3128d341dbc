//! One step of the property test (the model's verdict, the message, the
//! comparison, the model's update) and the invariants checked after it.

use super::*;

const INITIAL: u128 = 1_000_000_000;

pub fn run(ops: Vec<Op>) -> Result<Coverage, TestCaseError> {
    let mut r = Run::new();
    for who in ["stranger", "tower"] {
        let a = r.a(who);
        for d in DENOMS {
            r.sim.mint(&a, d, INITIAL);
        }
        r.sim.mint_cw20(&a, INITIAL);
    }
    for op in &ops {
        step(&mut r, op)?;
        check(&r)?;
    }
    Ok(r.cov)
}

fn lock_of(lock: Lock) -> (Option<Hashlock>, Option<HexBinary>) {
    let h = Hashlock::of_preimage(PREIMAGE);
    let p = |b: &[u8]| Some(HexBinary::from(b.to_vec()));
    match lock {
        Lock::None => (None, None),
        Lock::Right => (Some(h), p(PREIMAGE)),
        Lock::Wrong => (Some(h), p(b"a guess")),
        Lock::Missing => (Some(h), None),
        Lock::Unexpected => (None, p(PREIMAGE)),
    }
}

fn ibc_payout(i: usize) -> Payout {
    Payout::Ibc {
        channel: IBC_CHANNELS[i].into(),
        receiver: "osmo1receiver".into(),
        timeout_seconds: 600,
    }
}

/// The page of channel `id` as stored.
fn page_of(r: &Run, id: u64) -> Option<u64> {
    payment_channel::state::CHANNELS
        .load(&r.sim.deps.storage, id)
        .ok()
        .and_then(|c| c.slot)
        .map(|(page, _)| page)
}

/// `op` with its channel indices resolved (`Run::pick`).
fn resolve(r: &Run, op: &Op) -> Op {
    let mut op = op.clone();
    match &mut op {
        Op::TopUp { ch, .. }
        | Op::Claim { ch, .. }
        | Op::Lodge { ch, .. }
        | Op::Close { ch, .. }
        | Op::StartClose { ch, .. }
        | Op::Finalize { ch, .. }
        | Op::Approach { ch, .. }
        | Op::HubTopUp { ch, .. } => *ch = r.pick(*ch),
        Op::Batch {
            items, duplicates, ..
        } => {
            let mut seen = std::collections::BTreeSet::new();
            let keep_duplicates = *duplicates;
            items.retain_mut(|(ch, _, _)| {
                *ch = r.pick(*ch);
                seen.insert(*ch) || keep_duplicates
            });
        }
        _ => {}
    }
    op
}

fn step(r: &mut Run, op: &Op) -> Result<(), TestCaseError> {
    let op = &resolve(r, op);
    let now = r.sim.now();
    let ok = match op {
        Op::Open {
            payer,
            payee,
            asset,
            amount,
            scheme,
            period,
            listing,
        } => {
            let (payer_l, payee_l) = (PAYERS[*payer], PAYEES[*payee]);
            let key = signer(SCHEMES[*scheme], &format!("key-{}", r.m.channels.len()));
            let open = OpenChannel {
                payee: r.a(payee_l).to_string(),
                pubkey: key.public_key().into(),
                scheme: key.scheme(),
                challenge_period: *period,
                listing: listing.map(|l| ListingRef {
                    registry: r.registry.to_string(),
                    listing_id: l,
                }),
            };
            let payer_addr = r.a(payer_l);
            let (info, want, got) = match asset {
                AssetSel::Native(d) => {
                    let info = AssetInfo::Native(DENOMS[*d].into());
                    let want = one_coin(*amount)
                        .and_then(|_| r.m.check_open(payer_l, payee_l, &info, *period, *listing));
                    let got = r.sim.exec(
                        &payer_addr,
                        &coins(*amount, DENOMS[*d]),
                        ExecuteMsg::Open(open),
                    );
                    (info, want, got)
                }
                AssetSel::Cw20 => {
                    let info = AssetInfo::Cw20(r.sim.token.clone());
                    let want = if !r.m.cw20_accepted {
                        Err(ContractError::Cw20NotAccepted {
                            token: r.sim.token.to_string(),
                        })
                    } else {
                        one_coin(*amount).and_then(|_| {
                            r.m.check_open(payer_l, payee_l, &info, *period, *listing)
                        })
                    };
                    let got = r
                        .sim
                        .send_cw20(&payer_addr, *amount, &ReceiveMsg::Open(open));
                    (info, want, got)
                }
                AssetSel::FakeCw20 => {
                    // Any account or contract can call `receive` naming the
                    // buyer as payer without moving a token.
                    let fake = r.a("fake-cw20");
                    let want = Err(ContractError::Cw20NotAccepted {
                        token: fake.to_string(),
                    });
                    let got =
                        r.sim
                            .fake_cw20_send(&fake, &payer_addr, *amount, &ReceiveMsg::Open(open));
                    (AssetInfo::Cw20(fake), want, got)
                }
            };
            agree(op, &got, &want)?;
            if got.is_ok() {
                r.m.apply_open(
                    payer_l,
                    payee_l,
                    info.clone(),
                    key,
                    *period,
                    *listing,
                    *amount,
                );
                r.m.wallet(payer_l, &info, -(*amount as i128));
            }
            got.is_ok()
        }
        Op::TopUp {
            ch,
            amount,
            who,
            right_denom,
        } => {
            let id = *ch as u64 + 1;
            let sender_l = r.who(*ch, *who);
            let sender = r.a(&sender_l);
            let asset = r.m.channels.get(*ch).map(|c| c.asset.clone());
            let uhub = r.uhub();
            let (want, got, sent) = match asset {
                None => {
                    let want = Err(ContractError::ChannelNotFound { id });
                    let got = r.sim.exec(
                        &sender,
                        &coins(*amount, DENOMS[0]),
                        ExecuteMsg::TopUp { channel_id: id },
                    );
                    (want, got, None)
                }
                Some(AssetInfo::Native(denom)) => {
                    // Nobody here holds hub vouchers: those top up over IBC.
                    let right = *right_denom && AssetInfo::Native(denom.clone()) != uhub;
                    let sent_denom = if right {
                        denom.clone()
                    } else if denom == DENOMS[0] {
                        DENOMS[1].into()
                    } else {
                        DENOMS[0].into()
                    };
                    let want = one_coin(*amount)
                        .and_then(|_| {
                            if right {
                                Ok(())
                            } else {
                                Err(ContractError::Payment(
                                    cw_utils::PaymentError::MissingDenom(denom.clone()),
                                ))
                            }
                        })
                        .and_then(|_| {
                            r.m.check_top_up(*ch, &sender_l, &AssetInfo::Native(denom.clone()))
                        });
                    let got = r.sim.exec(
                        &sender,
                        &coins(*amount, &sent_denom),
                        ExecuteMsg::TopUp { channel_id: id },
                    );
                    (want, got, Some(AssetInfo::Native(denom)))
                }
                Some(AssetInfo::Cw20(token)) => {
                    let info = AssetInfo::Cw20(token);
                    if *right_denom {
                        let want = if !r.m.cw20_accepted {
                            Err(ContractError::Cw20NotAccepted {
                                token: r.sim.token.to_string(),
                            })
                        } else {
                            one_coin(*amount).and_then(|_| r.m.check_top_up(*ch, &sender_l, &info))
                        };
                        let got = r.sim.send_cw20(
                            &sender,
                            *amount,
                            &ReceiveMsg::TopUp { channel_id: id },
                        );
                        (want, got, Some(info))
                    } else {
                        let want = Err(ContractError::WrongAsset {
                            id,
                            asset: info.to_string(),
                            sent: "native coins".into(),
                        });
                        let got = r.sim.exec(
                            &sender,
                            &coins(*amount, DENOMS[0]),
                            ExecuteMsg::TopUp { channel_id: id },
                        );
                        (want, got, None)
                    }
                }
            };
            agree(op, &got, &want)?;
            if let (Ok(_), Some(asset)) = (&got, sent) {
                r.m.channels[*ch].deposit += amount;
                r.m.wallet(&sender_l, &asset, -(*amount as i128));
            }
            got.is_ok()
        }
        Op::Claim {
            ch,
            delta,
            forged,
            who,
            lock,
            expiry,
            ibc,
        } => {
            let id = *ch as u64 + 1;
            let sender_l = r.who(*ch, *who);
            let amount = r.claimed_of(*ch) + delta;
            let (hashlock, preimage) = lock_of(*lock);
            let expiry = r.expiry(*expiry);
            let voucher = r.voucher(&r.key_for(*ch, *forged), id, amount, hashlock, expiry);
            let payout = ibc.map(ibc_payout);
            let want = (|| {
                let c = r.m.channel(*ch)?;
                r.m.claimant(*ch, &sender_l)?;
                if payout.is_some() && sender_l != c.payee {
                    return Err(ContractError::PayoutNotPayee);
                }
                r.m.check_terms(*ch, amount, expiry, now)?;
                match lock {
                    Lock::Unexpected => return Err(ContractError::UnexpectedPreimage { id }),
                    Lock::Missing => return Err(ContractError::PreimageRequired { id }),
                    Lock::Wrong => return Err(ContractError::WrongPreimage { id }),
                    _ => {}
                }
                if *forged {
                    return Err(ContractError::InvalidSignature { id });
                }
                if let Some(i) = ibc {
                    r.m.check_ibc(&c.asset, IBC_CHANNELS[*i])?;
                }
                Ok(())
            })();
            let sender = r.a(&sender_l);
            let got = r.sim.exec(
                &sender,
                &[],
                ExecuteMsg::Claim {
                    channel_id: id,
                    voucher,
                    preimage,
                    payout,
                },
            );
            agree(op, &got, &want)?;
            if got.is_ok() {
                let increase = r.m.redeem(*ch, amount);
                let c = r.m.channels[*ch].clone();
                match (ibc, &c.asset) {
                    (Some(_), AssetInfo::Native(denom)) => {
                        r.m.send_payout(&c.payee, denom, vec![(*ch, increase)])
                    }
                    _ => r.m.wallet(&c.payee, &c.asset, increase as i128),
                }
                if matches!(lock, Lock::Right) {
                    r.cov.hashlock_claims += 1;
                }
                if matches!(c.asset, AssetInfo::Cw20(_)) {
                    r.cov.cw20_claims += 1;
                }
                if c.listing.is_some() {
                    r.cov.listing_paid += 1;
                }
            }
            got.is_ok()
        }
        Op::Lodge {
            ch,
            delta,
            who,
            expiry,
            locked,
            forged,
        } => {
            let id = *ch as u64 + 1;
            let sender_l = r.who(*ch, *who);
            let amount = r.claimed_of(*ch) + delta;
            let hashlock = locked.then(|| Hashlock::of_preimage(PREIMAGE));
            let expiry = r.expiry(*expiry);
            let voucher = r.voucher(&r.key_for(*ch, *forged), id, amount, hashlock, expiry);
            let want = (|| {
                r.m.channel(*ch)?;
                r.m.claimant(*ch, &sender_l)?;
                let (Some(_), Some(e)) = (hashlock, expiry) else {
                    return Err(ContractError::NotLodgeable { id });
                };
                r.m.check_terms(*ch, amount, expiry, now)?;
                if *forged {
                    return Err(ContractError::InvalidSignature { id });
                }
                if e - now > r.m.max_cp {
                    return Err(ContractError::HoldTooLong {
                        id,
                        expiry: e,
                        max: r.m.max_cp,
                    });
                }
                Ok(())
            })();
            let sender = r.a(&sender_l);
            let got = r.sim.exec(
                &sender,
                &[],
                ExecuteMsg::LodgeVoucher {
                    channel_id: id,
                    voucher,
                },
            );
            agree(op, &got, &want)?;
            if got.is_ok() {
                let e = expiry.unwrap_or_default();
                let c = &mut r.m.channels[*ch];
                c.hold_until = Some(c.hold_until.map_or(e, |h| h.max(e)));
                if let Some(f) = c.finalize_after {
                    if e > f {
                        r.cov.lodges_extending_a_close += 1;
                    }
                    c.finalize_after = Some(f.max(e));
                }
            }
            got.is_ok()
        }
        Op::Batch {
            items,
            mixed,
            tower,
            ibc,
            ..
        } => {
            let payee = items
                .first()
                .and_then(|(ch, _, _)| r.m.channels.get(*ch))
                .map_or(PAYEES[0].to_string(), |c| c.payee.clone());
            let sender_l = if *tower {
                "tower".to_string()
            } else {
                payee.clone()
            };
            let items: Vec<(usize, u128, bool)> = items
                .iter()
                .copied()
                .filter(|(ch, _, _)| {
                    *mixed || r.m.channels.get(*ch).is_none_or(|c| c.payee == payee)
                })
                .collect();
            let claims: Vec<BatchClaim> = items
                .iter()
                .map(|(ch, delta, forged)| {
                    let id = *ch as u64 + 1;
                    BatchClaim {
                        channel_id: id,
                        voucher: r.voucher(
                            &r.key_for(*ch, *forged),
                            id,
                            r.claimed_of(*ch) + delta,
                            None,
                            None,
                        ),
                        preimage: None,
                    }
                })
                .collect();
            let want = (|| {
                if claims.is_empty() || claims.len() > r.m.max_batch as usize {
                    return Err(ContractError::BatchSize {
                        count: claims.len(),
                        max: r.m.max_batch,
                    });
                }
                let mut seen = std::collections::BTreeSet::new();
                let mut ed_forged = None;
                for (i, (ch, delta, forged)) in items.iter().enumerate() {
                    let id = *ch as u64 + 1;
                    if !seen.insert(*ch) {
                        return Err(in_batch(i, ContractError::DuplicateChannel { id }));
                    }
                    let c = r.m.channel(*ch).map_err(|e| in_batch(i, e))?;
                    r.m.claimant(*ch, &sender_l).map_err(|e| in_batch(i, e))?;
                    if ibc.is_some() {
                        if sender_l != c.payee {
                            return Err(in_batch(i, ContractError::PayoutNotPayee));
                        }
                        if !matches!(c.asset, AssetInfo::Native(_)) {
                            return Err(in_batch(i, ContractError::Cw20OverIbc));
                        }
                    }
                    r.m.check_terms(*ch, c.claimed + delta, None, now)
                        .map_err(|e| in_batch(i, e))?;
                    if *forged {
                        if c.key.scheme() == VoucherScheme::Ed25519 {
                            ed_forged.get_or_insert(i);
                        } else {
                            return Err(in_batch(i, ContractError::InvalidSignature { id }));
                        }
                    }
                }
                if let Some(i) = ed_forged {
                    return Err(in_batch(
                        i,
                        ContractError::InvalidSignature {
                            id: items[i].0 as u64 + 1,
                        },
                    ));
                }
                if let Some(i) = ibc {
                    if !r.m.allowed_channels.contains(IBC_CHANNELS[*i]) {
                        return Err(ContractError::IbcChannelNotAllowed {
                            channel: IBC_CHANNELS[*i].into(),
                        });
                    }
                }
                Ok(())
            })();
            let sender = r.a(&sender_l);
            let got = r.sim.exec(
                &sender,
                &[],
                ExecuteMsg::ClaimBatch {
                    claims,
                    payout: ibc.map(ibc_payout),
                },
            );
            agree(op, &got, &want)?;
            if got.is_ok() {
                let mut groups: Vec<(String, Vec<(usize, u128)>)> = vec![];
                for (ch, delta, _) in &items {
                    let amount = r.m.channels[*ch].claimed + delta;
                    let increase = r.m.redeem(*ch, amount);
                    let c = r.m.channels[*ch].clone();
                    match (ibc, &c.asset) {
                        (Some(_), AssetInfo::Native(denom)) => {
                            match groups.iter_mut().find(|g| g.0 == *denom) {
                                Some(g) => g.1.push((*ch, increase)),
                                None => groups.push((denom.clone(), vec![(*ch, increase)])),
                            }
                        }
                        _ => r.m.wallet(&c.payee, &c.asset, increase as i128),
                    }
                }
                for (denom, shares) in groups {
                    r.m.send_payout(&sender_l, &denom, shares);
                }
                let mut pages: Vec<u64> = items
                    .iter()
                    .filter_map(|(ch, _, _)| page_of(r, *ch as u64 + 1))
                    .collect();
                pages.sort_unstable();
                if pages.windows(2).any(|w| w[0] == w[1]) {
                    r.cov.batches_sharing_a_page += 1;
                }
            }
            got.is_ok()
        }
        Op::Close {
            ch,
            delta,
            by_payee,
        } => {
            let id = *ch as u64 + 1;
            let sender_l = r.who(*ch, if *by_payee { Who::Payee } else { Who::Payer });
            let amount = delta.map(|d| r.claimed_of(*ch) + d);
            let voucher = amount.map(|a| r.voucher(&r.key_for(*ch, false), id, a, None, None));
            let want = (|| {
                let c = r.m.channel(*ch)?;
                if sender_l != c.payee {
                    return Err(ContractError::NotPayee { id });
                }
                match amount {
                    Some(a) => r.m.check_terms(*ch, a, None, now).map(|_| ()),
                    None if c.closed => Err(ContractError::ChannelClosed { id }),
                    None => Ok(()),
                }
            })();
            let sender = r.a(&sender_l);
            let got = r.sim.exec(
                &sender,
                &[],
                ExecuteMsg::Close {
                    channel_id: id,
                    voucher,
                    preimage: None,
                    payout: None,
                },
            );
            agree(op, &got, &want)?;
            if got.is_ok() {
                if let Some(a) = amount {
                    let increase = r.m.redeem(*ch, a);
                    let c = r.m.channels[*ch].clone();
                    r.m.wallet(&c.payee, &c.asset, increase as i128);
                }
                r.m.close(*ch);
            }
            got.is_ok()
        }
        Op::StartClose { ch, by_payer } => {
            let id = *ch as u64 + 1;
            let sender_l = r.who(*ch, if *by_payer { Who::Payer } else { Who::Payee });
            let want = (|| {
                let c = r.m.channel(*ch)?;
                if sender_l != c.payer {
                    return Err(ContractError::NotPayer { id });
                }
                ensure_open(id, c)
            })();
            let sender = r.a(&sender_l);
            let got = r
                .sim
                .exec(&sender, &[], ExecuteMsg::StartClose { channel_id: id });
            agree(op, &got, &want)?;
            if got.is_ok() {
                let c = &mut r.m.channels[*ch];
                let end = now + c.challenge_period;
                c.finalize_after = Some(c.hold_until.map_or(end, |h| h.max(end)));
            }
            got.is_ok()
        }
        Op::Finalize { ch, at_edge } => {
            let id = *ch as u64 + 1;
            let edge =
                r.m.channels
                    .get(*ch)
                    .and_then(|c| c.finalize_after)
                    .zip(*at_edge)
                    .map(|(f, o)| f as i64 + o)
                    .filter(|t| *t > now as i64);
            if let Some(t) = edge {
                r.sim.advance(t as u64 - now);
            }
            let now = r.sim.now();
            let want = (|| {
                let c = r.m.channel(*ch)?;
                if c.closed {
                    return Err(ContractError::ChannelClosed { id });
                }
                let Some(finalize_after) = c.finalize_after else {
                    return Err(ContractError::ChannelNotOpen {
                        id,
                        status: "open (no close started)",
                    });
                };
                if now < finalize_after {
                    return Err(ContractError::ChallengePeriodRunning {
                        id,
                        finalize_after,
                        now,
                    });
                }
                Ok(())
            })();
            let anyone = r.a("stranger");
            let got = r
                .sim
                .exec(&anyone, &[], ExecuteMsg::Finalize { channel_id: id });
            agree(op, &got, &want)?;
            if got.is_ok() {
                r.m.close(*ch);
            }
            got.is_ok()
        }
        Op::Advance { secs } => {
            r.sim.advance(*secs);
            return Ok(());
        }
        Op::Approach { ch, offset } => {
            let target =
                r.m.channels
                    .get(*ch)
                    .and_then(|c| c.finalize_after)
                    .map(|f| f as i64 + offset);
            if let Some(target) = target.filter(|t| *t > now as i64) {
                r.sim.advance(target as u64 - now);
            }
            return Ok(());
        }
        Op::Watchtower { payee, authorize } => {
            let payee_l = PAYEES[*payee];
            let (payee_a, tower) = (r.a(payee_l), r.a("tower"));
            let (msg, want) = if *authorize {
                (
                    ExecuteMsg::AuthorizeWatchtower {
                        watchtower: tower.to_string(),
                    },
                    Ok(()),
                )
            } else {
                let want = if r.m.towers.contains(payee_l) {
                    Ok(())
                } else {
                    Err(ContractError::NotAWatchtower {
                        address: tower.to_string(),
                        payee: payee_a.to_string(),
                    })
                };
                (
                    ExecuteMsg::RevokeWatchtower {
                        watchtower: tower.to_string(),
                    },
                    want,
                )
            };
            let got = r.sim.exec(&payee_a, &[], msg);
            agree(op, &got, &want)?;
            if *authorize {
                r.m.towers.insert(payee_l.into());
            } else {
                r.m.towers.remove(payee_l);
            }
            got.is_ok()
        }
        Op::Config {
            by_owner,
            min,
            max,
            batch,
        } => {
            let (nmin, nmax, nbatch) = (
                min.unwrap_or(r.m.min_cp),
                max.unwrap_or(r.m.max_cp),
                batch.unwrap_or(r.m.max_batch),
            );
            let valid =
                nmin >= 60 && nmax <= 90 * 86_400 && nmin <= nmax && (1..=50).contains(&nbatch);
            let want = if !by_owner {
                Err(ContractError::Ownership(
                    cw_ownable::OwnershipError::NotOwner,
                ))
            } else if !valid {
                Err(ContractError::InvalidConfig {
                    reason: String::new(),
                })
            } else {
                Ok(())
            };
            let sender = if *by_owner {
                r.sim.owner.clone()
            } else {
                r.a("stranger")
            };
            let got = r.sim.exec(
                &sender,
                &[],
                ExecuteMsg::UpdateConfig {
                    min_challenge_period: *min,
                    max_challenge_period: *max,
                    max_batch_size: *batch,
                },
            );
            agree(op, &got, &want)?;
            if got.is_ok() {
                (r.m.min_cp, r.m.max_cp, r.m.max_batch) = (nmin, nmax, nbatch);
                r.cov.config_updates += 1;
            }
            got.is_ok()
        }
        Op::Allowlist { cw20, channel } => {
            let token = r.sim.token.to_string();
            let owner = r.sim.owner.clone();
            let msg = ExecuteMsg::UpdateAllowlists {
                add_cw20s: if *cw20 == Some(true) {
                    vec![token.clone()]
                } else {
                    vec![]
                },
                remove_cw20s: if *cw20 == Some(false) {
                    vec![token]
                } else {
                    vec![]
                },
                add_ibc_channels: channel
                    .iter()
                    .filter(|c| c.1)
                    .map(|c| IBC_CHANNELS[c.0].to_string())
                    .collect(),
                remove_ibc_channels: channel
                    .iter()
                    .filter(|c| !c.1)
                    .map(|c| IBC_CHANNELS[c.0].to_string())
                    .collect(),
            };
            let got = r.sim.exec(&owner, &[], msg);
            agree(op, &got, &Ok(()))?;
            if let Some(add) = cw20 {
                r.m.cw20_accepted = *add;
            }
            if let Some((i, add)) = channel {
                if *add {
                    r.m.allowed_channels.insert(IBC_CHANNELS[*i].into());
                } else {
                    r.m.allowed_channels.remove(IBC_CHANNELS[*i]);
                }
            }
            true
        }
        Op::Settle { which, fate, lose } => {
            if r.sim.in_flight.is_empty() {
                return Ok(());
            }
            let i = which % r.sim.in_flight.len();
            let fate = FATES[*fate];
            let sequence = r.sim.in_flight[i].packet.sequence;
            if *lose {
                // A lost callback never reaches the contract, then or later
                // (IBC acknowledges a packet once), so it is no replay source.
                let f = r.sim.lose_callback(i, fate);
                if fate.refunds() {
                    *r.m.surplus
                        .entry(AssetInfo::Native(f.denom).key())
                        .or_default() += f.amount;
                }
                r.cov.lost_callbacks += 1;
                return Ok(());
            }
            r.settled.push(r.sim.in_flight[i].packet.clone());
            let got = r.sim.settle(i, fate);
            agree(op, &got, &Ok(()))?;
            r.m.settle(sequence, fate.refunds());
            if fate.refunds() {
                r.cov.ibc_refunds += 1;
            }
            true
        }
        Op::Stray {
            which,
            fate,
            replay,
        } => {
            let packet = if *replay {
                r.settled.get(which % r.settled.len().max(1)).cloned()
            } else {
                r.sim.in_flight.first().map(|f| {
                    let mut p = f.packet.clone();
                    p.sequence += 1_000 + *which as u64;
                    p
                })
            };
            let Some(packet) = packet else {
                return Ok(());
            };
            let got = r.sim.callback(packet, FATES[*fate]);
            agree(op, &got, &Ok(()))?;
            // Nothing changes: the invariants after this step check it.
            true
        }
        Op::Confirm { which, by_payee } => {
            let (id, payee) = match r.m.payouts.get(which % r.m.payouts.len().max(1)) {
                Some(p) => (p.id, p.payee.clone()),
                None => (999, PAYEES[0].to_string()),
            };
            let sender_l = if *by_payee {
                payee.clone()
            } else {
                "stranger".into()
            };
            let want = if id == 999 {
                Err(ContractError::PayoutNotFound { id })
            } else if sender_l != payee {
                Err(ContractError::NotPayoutPayee { id })
            } else {
                Ok(())
            };
            let sender = r.a(&sender_l);
            let got = r
                .sim
                .exec(&sender, &[], ExecuteMsg::ConfirmPayout { payout_id: id });
            agree(op, &got, &want)?;
            if got.is_ok() {
                if let Some(p) = r.m.payouts.iter_mut().find(|p| p.id == id) {
                    p.confirmed = true;
                }
            }
            got.is_ok()
        }
        Op::Withdraw { payee, denom } => {
            let payee_l = PAYEES[*payee];
            let denom = match denom {
                0 | 1 => DENOMS[*denom].to_string(),
                _ => match r.uhub() {
                    AssetInfo::Native(d) => d,
                    AssetInfo::Cw20(_) => unreachable!(),
                },
            };
            let amount =
                r.m.credits
                    .get(&(payee_l.to_string(), denom.clone()))
                    .copied()
                    .unwrap_or_default();
            let want = if amount == 0 {
                Err(ContractError::NoCredit {
                    denom: denom.clone(),
                })
            } else {
                Ok(())
            };
            let sender = r.a(payee_l);
            let got = r.sim.exec(
                &sender,
                &[],
                ExecuteMsg::WithdrawCredit {
                    denom: denom.clone(),
                },
            );
            agree(op, &got, &want)?;
            if got.is_ok() {
                r.m.credits.remove(&(payee_l.to_string(), denom.clone()));
                r.m.wallet(payee_l, &AssetInfo::Native(denom), amount as i128);
            }
            got.is_ok()
        }
        Op::HubAuth {
            payer,
            sender,
            revoke,
        } => {
            let (payer_l, hub) = (PAYERS[*payer], HUB_SENDERS[*sender]);
            let payer_a = r.a(payer_l);
            let key = (payer_l.to_string(), hub.to_string());
            let (msg, want) = if *revoke {
                let want = if r.m.hub_auth.contains(&key) {
                    Ok(())
                } else {
                    Err(ContractError::HubSenderNotAuthorized {
                        payer: payer_a.to_string(),
                        channel: IBC_CHANNELS[0].into(),
                        sender: hub.into(),
                    })
                };
                (
                    ExecuteMsg::RevokeHubSender {
                        channel: IBC_CHANNELS[0].into(),
                        sender: hub.into(),
                    },
                    want,
                )
            } else {
                (
                    ExecuteMsg::AuthorizeHubSender {
                        channel: IBC_CHANNELS[0].into(),
                        sender: hub.into(),
                    },
                    Ok(()),
                )
            };
            let got = r.sim.exec(&payer_a, &[], msg);
            agree(op, &got, &want)?;
            if *revoke {
                r.m.hub_auth.remove(&key);
            } else {
                r.m.hub_auth.insert(key);
            }
            got.is_ok()
        }
        Op::HubOpen {
            sender,
            payer,
            payee,
            amount,
            listing,
        } => {
            let (payer_l, payee_l, hub) = (PAYERS[*payer], PAYEES[*payee], HUB_SENDERS[*sender]);
            let key = signer(
                VoucherScheme::Ed25519,
                &format!("key-{}", r.m.channels.len()),
            );
            let open = OpenChannel {
                payee: r.a(payee_l).to_string(),
                pubkey: key.public_key().into(),
                scheme: key.scheme(),
                challenge_period: None,
                listing: listing.map(|l| ListingRef {
                    registry: r.registry.to_string(),
                    listing_id: l,
                }),
            };
            let memo = serde_json::json!({
                "dest_callback": {"address": r.sim.contract()},
                "payment_channel": {"open": {"payer": r.a(payer_l), "channel": open}},
            })
            .to_string();
            let uhub = r.uhub();
            let want = if !r.m.allowed_channels.contains(IBC_CHANNELS[0]) {
                Err(ContractError::IbcChannelNotAllowed {
                    channel: IBC_CHANNELS[0].into(),
                })
            } else if *amount == 0 {
                Err(ContractError::HubDeposit {
                    reason: String::new(),
                })
            } else if !r
                .m
                .hub_auth
                .contains(&(payer_l.to_string(), hub.to_string()))
            {
                Err(ContractError::HubSenderNotAuthorized {
                    payer: r.a(payer_l).to_string(),
                    channel: IBC_CHANNELS[0].into(),
                    sender: hub.into(),
                })
            } else {
                r.m.check_open(payer_l, payee_l, &uhub, None, *listing)
            };
            let contract = r.sim.contract().to_string();
            let got = r
                .sim
                .hub_transfer(IBC_CHANNELS[0], hub, &contract, "uhub", *amount, &memo);
            agree(op, &got, &want)?;
            if got.is_ok() {
                r.m.apply_open(payer_l, payee_l, uhub, key, None, *listing, *amount);
                r.cov.hub_deposits += 1;
            }
            got.is_ok()
        }
        Op::HubTopUp { sender, ch, amount } => {
            let id = *ch as u64 + 1;
            let hub = HUB_SENDERS[*sender];
            let memo = serde_json::json!({
                "dest_callback": {"address": r.sim.contract()},
                "payment_channel": {"top_up": {"channel_id": id}},
            })
            .to_string();
            let uhub = r.uhub();
            let want = (|| {
                if !r.m.allowed_channels.contains(IBC_CHANNELS[0]) {
                    return Err(ContractError::IbcChannelNotAllowed {
                        channel: IBC_CHANNELS[0].into(),
                    });
                }
                if *amount == 0 {
                    return Err(ContractError::HubDeposit {
                        reason: String::new(),
                    });
                }
                let c = r.m.channel(*ch)?;
                if !r.m.hub_auth.contains(&(c.payer.clone(), hub.to_string())) {
                    return Err(ContractError::HubSenderNotAuthorized {
                        payer: r.a(&c.payer).to_string(),
                        channel: IBC_CHANNELS[0].into(),
                        sender: hub.into(),
                    });
                }
                r.m.check_top_up(*ch, &c.payer, &uhub)
            })();
            let contract = r.sim.contract().to_string();
            let got = r
                .sim
                .hub_transfer(IBC_CHANNELS[0], hub, &contract, "uhub", *amount, &memo);
            agree(op, &got, &want)?;
            if got.is_ok() {
                r.m.channels[*ch].deposit += amount;
                r.cov.hub_deposits += 1;
            }
            got.is_ok()
        }
        Op::Donate { asset, amount } => {
            let contract = r.sim.contract();
            let info = r.assets()[*asset].clone();
            match &info {
                AssetInfo::Native(d) => r.sim.mint(&contract, d, *amount),
                AssetInfo::Cw20(_) => r.sim.mint_cw20(&contract, *amount),
            }
            *r.m.surplus.entry(info.key()).or_default() += amount;
            return Ok(());
        }
        Op::Sweep { asset, by_owner } => {
            let info = r.assets()[*asset].clone();
            let held = r.m.owed(&info) + r.m.surplus(&info);
            let sweepable = held.saturating_sub(r.m.reserved(&info));
            let want = if !by_owner {
                Err(ContractError::Ownership(
                    cw_ownable::OwnershipError::NotOwner,
                ))
            } else if sweepable == 0 {
                Err(ContractError::NothingToSweep {
                    asset: info.to_string(),
                })
            } else {
                Ok(())
            };
            let sender = if *by_owner {
                r.sim.owner.clone()
            } else {
                r.a("stranger")
            };
            let owner = r.sim.owner.clone();
            let got = r.sim.exec(
                &sender,
                &[],
                ExecuteMsg::Sweep {
                    asset: AssetInfoUnchecked::from(info.clone()),
                    recipient: owner.to_string(),
                },
            );
            agree(op, &got, &want)?;
            if got.is_ok() {
                *r.m.surplus.entry(info.key()).or_default() -= sweepable;
                r.m.wallet("owner", &info, sweepable as i128);
                r.cov.sweeps += 1;
            }
            got.is_ok()
        }
    };
    if ok {
        r.cov.accepted += 1;
    } else {
        r.cov.refused += 1;
    }
    Ok(())
}

fn check(r: &Run) -> Result<(), TestCaseError> {
    let contract = r.sim.contract();
    for asset in r.assets() {
        let held = match &asset {
            AssetInfo::Native(d) => r.sim.balance(&contract, d),
            AssetInfo::Cw20(_) => r.sim.cw20_balance(&contract),
        };
        prop_assert_eq!(
            held,
            r.m.owed(&asset) + r.m.surplus(&asset),
            "{} held vs owed + surplus",
            asset
        );
        let res: ReservesResponse = r
            .sim
            .query(QueryMsg::Reserves {
                asset: asset.clone(),
            })
            .unwrap();
        prop_assert_eq!(
            res.reserved.u128(),
            r.m.reserved(&asset),
            "{} reserved",
            asset
        );
        prop_assert_eq!(
            res.sweepable.u128(),
            held.saturating_sub(r.m.reserved(&asset))
        );
        for who in PAYERS
            .iter()
            .chain(&PAYEES)
            .chain(&["stranger", "tower", "owner"])
        {
            let a = r.a(who);
            let balance = match &asset {
                AssetInfo::Native(d) => r.sim.balance(&a, d),
                AssetInfo::Cw20(_) => r.sim.cw20_balance(&a),
            };
            let initial = if *who == "owner" || asset == r.uhub() {
                0
            } else {
                INITIAL
            };
            let delta =
                r.m.wallets
                    .get(&(who.to_string(), asset.key()))
                    .copied()
                    .unwrap_or_default();
            prop_assert_eq!(
                balance as i128,
                initial as i128 + delta,
                "{}'s {}",
                who,
                asset
            );
        }
    }
    for (i, c) in r.m.channels.iter().enumerate() {
        let q: ChannelResponse = r
            .sim
            .query(QueryMsg::Channel {
                channel_id: i as u64 + 1,
            })
            .unwrap();
        prop_assert_eq!(q.deposit.u128(), c.deposit, "channel {} deposit", i + 1);
        prop_assert_eq!(q.claimed.u128(), c.claimed, "channel {} claimed", i + 1);
        prop_assert_eq!(q.balance.u128(), c.balance());
        prop_assert_eq!(&q.status, &c.status(), "channel {} status", i + 1);
        prop_assert_eq!(q.accepted, c.accepted, "channel {} accepted", i + 1);
        prop_assert_eq!(q.hold_until.map(|t| t.seconds()), c.hold_until);
        prop_assert_eq!(&q.asset, &c.asset);
    }
    for payer in PAYERS {
        for payee in PAYEES {
            for asset in r.assets() {
                let t: TotalPaidResponse = r
                    .sim
                    .query(QueryMsg::TotalPaid {
                        payer: r.a(payer).to_string(),
                        payee: r.a(payee).to_string(),
                        asset: asset.clone(),
                    })
                    .unwrap();
                prop_assert_eq!(
                    t.total.u128(),
                    r.m.total_paid(payer, payee, &asset),
                    "total_paid {} -> {} in {}",
                    payer,
                    payee,
                    asset
                );
            }
            for listing in 1..3 {
                let p: PaidForListingResponse = r
                    .sim
                    .query(QueryMsg::PaidForListing {
                        payer: r.a(payer).to_string(),
                        payee: r.a(payee).to_string(),
                        registry: r.registry.to_string(),
                        listing_id: listing,
                    })
                    .unwrap();
                let got: Vec<(AssetInfo, u128)> = p
                    .paid
                    .into_iter()
                    .map(|a| (a.info, a.amount.u128()))
                    .collect();
                prop_assert_eq!(
                    got,
                    r.m.paid_for_listing(payer, payee, listing),
                    "paid_for_listing {} -> {} #{}",
                    payer,
                    payee,
                    listing
                );
            }
        }
    }
    Ok(())
}
