//! Funds conservation over random message sequences: after every step, for
//! the native denom and the cw20, the contract's balance equals the sum over
//! channels of (deposit - claimed), the channels agree with a model that
//! only applies accepted messages, and the purchase-verifier totals equal
//! what each payee received. The model also predicts each channel's claim
//! page and slot, and `random_runs_share_pages` checks that the random
//! sequences do batch-claim channels sharing a page and close channels
//! whose page neighbours stay open.

mod suite;

use std::collections::BTreeMap;

use cosmwasm_std::{coins, Uint128};
use payment_channel::msg::{BatchClaim, ChannelStatus};
use payment_channel::state::PAGE_SLOTS;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use suite::*;
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::VoucherScheme;

const PAYERS: [&str; 2] = ["buyer", "buyer2"];
const PAYEES: [&str; 2] = ["seller", "seller2"];
const SCHEMES: [VoucherScheme; 3] = [
    VoucherScheme::Secp256k1,
    VoucherScheme::Ed25519,
    VoucherScheme::Adr036,
];

/// Who submits a claim: the payee, the payer (never allowed) or the
/// watchtower (allowed while the payee authorizes it).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sender {
    Payee,
    Payer,
    Tower,
}

#[derive(Debug, Clone)]
enum Op {
    Open {
        payer: usize,
        payee: usize,
        cw20: bool,
        amount: u128,
        scheme: usize,
    },
    TopUp {
        ch: usize,
        amount: u128,
    },
    Claim {
        ch: usize,
        delta: u128,
        forged: bool,
        sender: Sender,
    },
    Watchtower {
        payee: usize,
        authorize: bool,
    },
    Batch {
        items: Vec<(usize, u128, bool)>,
        /// Keep items of other payees (the batch then fails).
        mixed: bool,
    },
    Close {
        ch: usize,
        delta: Option<u128>,
    },
    StartClose {
        ch: usize,
    },
    Advance {
        secs: u64,
    },
    Finalize {
        ch: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..2usize, 0..2usize, any::<bool>(), 1..5_000u128, 0..3usize)
            .prop_map(|(payer, payee, cw20, amount, scheme)| Op::Open { payer, payee, cw20, amount, scheme }),
        2 => (0..8usize, 1..2_000u128).prop_map(|(ch, amount)| Op::TopUp { ch, amount }),
        5 => (
            0..8usize,
            0..3_000u128,
            prop::bool::weighted(0.2),
            prop_oneof![6 => Just(Sender::Payee), 1 => Just(Sender::Payer), 2 => Just(Sender::Tower)],
        )
            .prop_map(|(ch, delta, forged, sender)| Op::Claim { ch, delta, forged, sender }),
        1 => (0..2usize, any::<bool>()).prop_map(|(payee, authorize)| Op::Watchtower { payee, authorize }),
        3 => (
            prop::collection::vec((0..8usize, 0..2_000u128, prop::bool::weighted(0.1)), 1..6),
            prop::bool::weighted(0.2),
        )
            .prop_map(|(items, mixed)| Op::Batch { items, mixed }),
        1 => (0..8usize, prop::option::of(0..2_000u128)).prop_map(|(ch, delta)| Op::Close { ch, delta }),
        2 => (0..8usize).prop_map(|ch| Op::StartClose { ch }),
        2 => (1..5_000u64).prop_map(|secs| Op::Advance { secs }),
        2 => (0..8usize).prop_map(|ch| Op::Finalize { ch }),
    ]
}

struct Model {
    /// Per channel: payer, payee, key, deposit, claimed, closed.
    channels: Vec<(usize, usize, VoucherSigner, u128, u128, bool)>,
    /// Per channel: its claim page and slot.
    slots: Vec<(u64, u32)>,
    /// Per payee: current page and slots used; and the last page id.
    cursors: [Option<(u64, u32)>; 2],
    last_page: u64,
    /// Which payees currently authorize the watchtower.
    towers: [bool; 2],
}

impl Model {
    fn allocate(&mut self, payee: usize) -> (u64, u32) {
        let (page, slot) = match self.cursors[payee] {
            Some((page, used)) if used < PAGE_SLOTS => (page, used),
            _ => {
                self.last_page += 1;
                (self.last_page, 0)
            }
        };
        self.cursors[payee] = Some((page, slot + 1));
        (page, slot)
    }

    /// Whether another channel in `ch`'s page is still open.
    fn open_neighbour(&self, ch: usize) -> bool {
        let page = self.slots[ch].0;
        (0..self.channels.len()).any(|o| o != ch && self.slots[o].0 == page && !self.channels[o].5)
    }
}

/// What a run did.
#[derive(Debug, Default, PartialEq)]
struct Outcome {
    claimed: u128,
    closed: usize,
    /// Accepted batches with two channels in one page.
    shared_page_batches: usize,
    /// Closes (either kind) of a channel with an open page neighbour.
    closes_beside_open: usize,
}

/// Runs `ops`; returns what happened.
fn run(ops: Vec<Op>) -> Result<Outcome, TestCaseError> {
    let mut s = SuiteBuilder::new().build();
    let mut m = Model {
        channels: vec![],
        slots: vec![],
        cursors: [None; 2],
        last_page: 0,
        towers: [false; 2],
    };
    let mut out = Outcome::default();
    for op in ops {
        match op {
            Op::Open {
                payer,
                payee,
                cw20,
                amount,
                scheme,
            } => {
                let key = signer(SCHEMES[scheme], &format!("{payer}-{}", m.channels.len()));
                let res = if cw20 {
                    s.open_cw20_err(PAYERS[payer], PAYEES[payee], &key, amount)
                } else {
                    s.open_native_err(PAYERS[payer], PAYEES[payee], &key, &coins(amount, DENOM))
                };
                let id = match res {
                    Ok(id) => id,
                    Err(payment_channel::ContractError::TooManyOpenChannels { .. }) => continue,
                    Err(e) => return Err(TestCaseError::fail(e.to_string())),
                };
                prop_assert_eq!(id as usize, m.channels.len() + 1);
                let slot = m.allocate(payee);
                let stored = s.stored_channel(id);
                prop_assert_eq!((stored.page, stored.slot), slot);
                m.slots.push(slot);
                m.channels.push((payer, payee, key, amount, 0, false));
            }
            Op::TopUp { ch, amount } => {
                if let Some(c) = m.channels.get(ch) {
                    let id = ch as u64 + 1;
                    let payer = PAYERS[c.0];
                    let res = if matches!(
                        s.channel(id).asset,
                        wevalue_common::asset::AssetInfo::Cw20(_)
                    ) {
                        s.top_up_cw20(payer, id, amount)
                    } else {
                        s.top_up(payer, id, &coins(amount, DENOM))
                    };
                    if res.is_ok() {
                        m.channels[ch].3 += amount;
                    }
                }
            }
            Op::Watchtower { payee, authorize } => {
                let res = if authorize {
                    s.authorize_watchtower(PAYEES[payee], "tower")
                } else {
                    s.revoke_watchtower(PAYEES[payee], "tower")
                };
                prop_assert_eq!(res.is_ok(), authorize || m.towers[payee]);
                m.towers[payee] = authorize;
            }
            Op::Claim {
                ch,
                delta,
                forged,
                sender,
            } => {
                if let Some(c) = m.channels.get(ch) {
                    let id = ch as u64 + 1;
                    let amount = c.4 + delta;
                    let key = if forged {
                        signer(VoucherScheme::Ed25519, "mallory")
                    } else {
                        c.2.clone()
                    };
                    let who = match sender {
                        Sender::Payee => PAYEES[c.1],
                        Sender::Payer => PAYERS[c.0],
                        Sender::Tower => "tower",
                    };
                    let payee_before = s.balance_of(PAYEES[c.1]);
                    let res = s.claim(who, id, s.voucher(&key, id, amount));
                    if res.is_ok() {
                        let allowed =
                            sender == Sender::Payee || (sender == Sender::Tower && m.towers[c.1]);
                        prop_assert!(allowed && !forged && delta > 0 && amount <= c.3 && !c.5);
                        let native = !matches!(
                            s.channel(id).asset,
                            wevalue_common::asset::AssetInfo::Cw20(_)
                        );
                        if native {
                            prop_assert_eq!(s.balance_of(PAYEES[c.1]) - payee_before, delta);
                        }
                        m.channels[ch].4 = amount;
                    }
                }
            }
            Op::Batch { items, mixed } => {
                let Some(first) = items.first().and_then(|(ch, _, _)| m.channels.get(*ch)) else {
                    continue;
                };
                let payee = first.1;
                let mut claims = vec![];
                let mut updates = vec![];
                for (ch, delta, forged) in items {
                    if let Some(c) = m.channels.get(ch).filter(|c| mixed || c.1 == payee) {
                        let id = ch as u64 + 1;
                        let key = if forged {
                            signer(VoucherScheme::Ed25519, "mallory")
                        } else {
                            c.2.clone()
                        };
                        claims.push(BatchClaim {
                            channel_id: id,
                            voucher: s.voucher(&key, id, c.4 + delta),
                            preimage: None,
                        });
                        updates.push((ch, c.4 + delta));
                    }
                }
                if s.claim_batch(PAYEES[payee], claims).is_ok() {
                    let mut pages: Vec<u64> =
                        updates.iter().map(|(ch, _)| m.slots[*ch].0).collect();
                    pages.sort_unstable();
                    if pages.windows(2).any(|w| w[0] == w[1]) {
                        out.shared_page_batches += 1;
                    }
                    for (ch, amount) in updates {
                        m.channels[ch].4 = amount;
                    }
                }
            }
            Op::Close { ch, delta } => {
                if let Some(c) = m.channels.get(ch) {
                    let id = ch as u64 + 1;
                    let v = delta.map(|d| s.voucher(&c.2, id, c.4 + d));
                    if s.close(PAYEES[c.1], id, v).is_ok() {
                        if m.open_neighbour(ch) {
                            out.closes_beside_open += 1;
                        }
                        if let Some(d) = delta {
                            m.channels[ch].4 += d;
                        }
                        m.channels[ch].5 = true;
                    }
                }
            }
            Op::StartClose { ch } => {
                if let Some(c) = m.channels.get(ch) {
                    let _ = s.start_close(PAYERS[c.0], ch as u64 + 1);
                }
            }
            Op::Advance { secs } => s.advance(secs),
            Op::Finalize { ch } => {
                if ch < m.channels.len() && s.finalize("stranger", ch as u64 + 1).is_ok() {
                    if m.open_neighbour(ch) {
                        out.closes_beside_open += 1;
                    }
                    m.channels[ch].5 = true;
                }
            }
        }
        // Invariants after every step.
        let n = m.channels.len() as u64;
        s.assert_conserved(n);
        let mut paid: BTreeMap<(usize, usize, bool), u128> = BTreeMap::new();
        for (i, c) in m.channels.iter().enumerate() {
            let q = s.channel(i as u64 + 1);
            prop_assert_eq!(q.deposit, Uint128::new(c.3));
            prop_assert_eq!(q.claimed, Uint128::new(c.4));
            prop_assert_eq!(q.status == ChannelStatus::Closed, c.5);
            prop_assert!(c.4 <= c.3);
            let cw20 = matches!(q.asset, wevalue_common::asset::AssetInfo::Cw20(_));
            *paid.entry((c.0, c.1, cw20)).or_default() += c.4;
        }
        for ((payer, payee, cw20), total) in paid {
            let asset = if cw20 { s.cw20() } else { s.native() };
            prop_assert_eq!(s.total_paid(PAYERS[payer], PAYEES[payee], asset), total);
        }
    }
    out.claimed = m.channels.iter().map(|c| c.4).sum();
    out.closed = m.channels.iter().filter(|c| c.5).count();
    Ok(out)
}

#[test]
fn the_model_sees_accepted_messages() {
    use Op::*;
    let ops = vec![
        Open {
            payer: 0,
            payee: 0,
            cw20: false,
            amount: 1_000,
            scheme: 0,
        },
        Open {
            payer: 1,
            payee: 0,
            cw20: true,
            amount: 1_000,
            scheme: 1,
        },
        Open {
            payer: 1,
            payee: 1,
            cw20: false,
            amount: 1_000,
            scheme: 2,
        },
        Claim {
            ch: 0,
            delta: 100,
            forged: false,
            sender: Sender::Payee,
        },
        Claim {
            ch: 0,
            delta: 100,
            forged: true,
            sender: Sender::Payee,
        },
        Claim {
            ch: 0,
            delta: 100,
            forged: false,
            sender: Sender::Tower,
        },
        Watchtower {
            payee: 1,
            authorize: true,
        },
        Batch {
            items: vec![(0, 50, false), (1, 70, false)],
            mixed: false,
        },
        TopUp { ch: 1, amount: 10 },
        StartClose { ch: 2 },
        Claim {
            ch: 2,
            delta: 30,
            forged: false,
            sender: Sender::Payer,
        },
        Claim {
            ch: 2,
            delta: 30,
            forged: false,
            sender: Sender::Tower,
        },
        Advance { secs: 4_000 },
        Finalize { ch: 2 },
        Close {
            ch: 1,
            delta: Some(5),
        },
    ];
    let out = run(ops).unwrap();
    assert_eq!((out.claimed, out.closed), (150 + 75 + 30, 2));
    // Channels 0 and 1 share seller's first page; 2 is seller2's.
    assert_eq!(out.shared_page_batches, 1);
    assert_eq!(out.closes_beside_open, 1);
}

#[test]
fn random_runs_share_pages() {
    let strategy = prop::collection::vec(op(), 1..60);
    let mut runner = TestRunner::deterministic();
    let (mut shared, mut beside) = (0, 0);
    for _ in 0..24 {
        let ops = strategy.new_tree(&mut runner).unwrap().current();
        let out = run(ops).unwrap();
        shared += out.shared_page_batches;
        beside += out.closes_beside_open;
    }
    assert!(shared > 0, "no batch claimed two channels of one page");
    assert!(
        beside > 0,
        "no close of a channel with open page neighbours"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn funds_are_conserved(ops in prop::collection::vec(op(), 1..60)) {
        run(ops)?;
    }
}
