//! Random message sequences through the entry points (`sim`: bank, cw20,
//! ICS-20 with replies and callbacks, hub deposits) against `model`, which
//! decides on its own what each message must do. After every step:
//! - the contract accepted exactly what the model accepts, and refused the
//!   rest with the model's exact error;
//! - funds are conserved per asset (two native denoms, a cw20, an IBC
//!   voucher denom): the contract's balance is its channels' balances plus
//!   credits plus what nobody owns (donations, refunds whose callback was
//!   lost), every actor's balance moved as the model says, and the contract
//!   reserves exactly the deposits of open channels plus credits;
//! - every channel, `total_paid` and `paid_for_listing` agree with the model.
//!
//! `random_runs_cover_every_feature` checks that the generated sequences do
//! reach what the property is about.

mod model;
mod sim;

use cosmwasm_std::{coins, Addr, HexBinary, Uint128};
use model::{ensure_open, in_batch, one_coin, Model};
use payment_channel::msg::{
    BatchClaim, ChannelResponse, ExecuteMsg, Hashlock, ListingRef, OpenChannel, Payout, QueryMsg,
    ReceiveMsg, ReservesResponse, SignedVoucher,
};
use payment_channel::ContractError;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use sim::{Fate, Sim};
use wevalue_common::asset::{AssetInfo, AssetInfoUnchecked};
use wevalue_common::purchase::{PaidForListingResponse, TotalPaidResponse};
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{Voucher, VoucherScheme};

const PAYERS: [&str; 2] = ["buyer", "buyer2"];
const PAYEES: [&str; 2] = ["seller", "seller2"];
const DENOMS: [&str; 2] = ["ucity", "uother"];
const IBC_CHANNELS: [&str; 2] = ["channel-7", "channel-8"];
const HUB_SENDERS: [&str; 2] = ["cosmos1hubbuyer", "cosmos1mallory"];
const SCHEMES: [VoucherScheme; 3] = [
    VoucherScheme::Secp256k1,
    VoucherScheme::Ed25519,
    VoucherScheme::Adr036,
];
const FATES: [Fate; 5] = [
    Fate::Success,
    Fate::ErrorAck,
    Fate::EmptyAck,
    Fate::OddAck,
    Fate::Timeout,
];
const PREIMAGE: &[u8] = b"the chunk was delivered";

#[derive(Debug, Clone, Copy)]
enum Who {
    Payee,
    Payer,
    Tower,
    Stranger,
}

#[derive(Debug, Clone, Copy)]
enum AssetSel {
    Native(usize),
    Cw20,
    FakeCw20,
}

#[derive(Debug, Clone, Copy)]
enum Lock {
    None,
    Right,
    Wrong,
    Missing,
    Unexpected,
}

#[derive(Debug, Clone)]
enum Op {
    Open {
        payer: usize,
        payee: usize,
        asset: AssetSel,
        amount: u128,
        scheme: usize,
        period: Option<u64>,
        listing: Option<u64>,
    },
    TopUp {
        ch: usize,
        amount: u128,
        who: Who,
        right_denom: bool,
    },
    Claim {
        ch: usize,
        delta: u128,
        forged: bool,
        who: Who,
        lock: Lock,
        expiry: Option<i64>,
        ibc: Option<usize>,
    },
    Lodge {
        ch: usize,
        delta: u128,
        who: Who,
        expiry: Option<i64>,
        locked: bool,
        forged: bool,
    },
    Batch {
        items: Vec<(usize, u128, bool)>,
        mixed: bool,
        tower: bool,
        ibc: Option<usize>,
        /// Keep a channel that appears twice (the batch then fails).
        duplicates: bool,
    },
    Close {
        ch: usize,
        delta: Option<u128>,
        by_payee: bool,
    },
    StartClose {
        ch: usize,
        by_payer: bool,
    },
    Finalize {
        ch: usize,
        /// First advance to the channel's end of challenge period plus
        /// this many seconds, if that is ahead (probes the edge).
        at_edge: Option<i64>,
    },
    Advance {
        secs: u64,
    },
    /// Advance to a closing channel's end of challenge period plus `offset`
    /// seconds (if that is still ahead): probes the window's edges.
    Approach {
        ch: usize,
        offset: i64,
    },
    Watchtower {
        payee: usize,
        authorize: bool,
    },
    Config {
        by_owner: bool,
        min: Option<u64>,
        max: Option<u64>,
        batch: Option<u32>,
    },
    Allowlist {
        cw20: Option<bool>,
        channel: Option<(usize, bool)>,
    },
    Settle {
        which: usize,
        fate: usize,
        lose: bool,
    },
    /// A callback the contract must ignore: a replay of a settled packet
    /// (`replay`), or a packet of a sequence it never sent on its channel.
    Stray {
        which: usize,
        fate: usize,
        replay: bool,
    },
    Confirm {
        which: usize,
        by_payee: bool,
    },
    Withdraw {
        payee: usize,
        denom: usize,
    },
    HubAuth {
        payer: usize,
        sender: usize,
        revoke: bool,
    },
    HubOpen {
        sender: usize,
        payer: usize,
        payee: usize,
        amount: u128,
        listing: Option<u64>,
    },
    HubTopUp {
        sender: usize,
        ch: usize,
        amount: u128,
    },
    Donate {
        asset: usize,
        amount: u128,
    },
    Sweep {
        asset: usize,
        by_owner: bool,
    },
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![12 => Just(Who::Payee), 1 => Just(Who::Payer), 3 => Just(Who::Tower), 1 => Just(Who::Stranger)]
}

/// A channel: below `NONE` one that exists (taken modulo how many do),
/// from `NONE` on one that does not (see `Run::pick`).
const NONE: usize = 1_000;

fn ch() -> impl Strategy<Value = usize> {
    prop_oneof![12 => 0..NONE, 1 => NONE..NONE + 3]
}

fn op() -> impl Strategy<Value = Op> {
    let asset = prop_oneof![5 => (0..2usize).prop_map(AssetSel::Native), 3 => Just(AssetSel::Cw20), 1 => Just(AssetSel::FakeCw20)];
    let lock = prop_oneof![10 => Just(Lock::None), 4 => Just(Lock::Right), 1 => Just(Lock::Wrong), 1 => Just(Lock::Missing), 1 => Just(Lock::Unexpected)];
    let expiry = prop::option::weighted(0.3, prop_oneof![1 => -1_000i64..0, 4 => 1i64..20_000]);
    let amount = prop_oneof![1 => Just(0u128), 12 => 1_000..10_000u128];
    let delta = prop_oneof![1 => Just(0u128), 10 => 1..1_500u128, 1 => 5_000..12_000u128];
    prop_oneof![
        5 => (0..2usize, 0..2usize, asset, amount.clone(), 0..3usize, prop::option::weighted(0.15, prop_oneof![Just(59u64), Just(3_600), Just(7_200), Just(8 * 24 * 3600)]), prop::option::weighted(0.4, 1..3u64))
            .prop_map(|(payer, payee, asset, amount, scheme, period, listing)| Op::Open { payer, payee, asset, amount, scheme, period, listing }),
        2 => (ch(), 0..2_000u128, prop_oneof![6 => Just(Who::Payer), 1 => Just(Who::Stranger)], prop::bool::weighted(0.9))
            .prop_map(|(ch, amount, who, right_denom)| Op::TopUp { ch, amount, who, right_denom }),
        10 => (ch(), delta.clone(), prop::bool::weighted(0.08), who(), lock, expiry.clone(), prop::option::weighted(0.35, prop_oneof![5 => Just(0usize), 1 => Just(1usize)]))
            .prop_map(|(ch, delta, forged, who, lock, expiry, ibc)| Op::Claim { ch, delta, forged, who, lock, expiry, ibc }),
        3 => (ch(), delta.clone(), who(), expiry, prop::bool::weighted(0.9), prop::bool::weighted(0.05))
            .prop_map(|(ch, delta, who, expiry, locked, forged)| Op::Lodge { ch, delta, who, expiry, locked, forged }),
        4 => (prop::collection::vec((ch(), delta, prop::bool::weighted(0.05)), 0..5), prop::bool::weighted(0.15), prop::bool::weighted(0.2), prop::option::weighted(0.2, prop_oneof![5 => Just(0usize), 1 => Just(1usize)]), prop::bool::weighted(0.1))
            .prop_map(|(items, mixed, tower, ibc, duplicates)| Op::Batch { items, mixed, tower, ibc, duplicates }),
        1 => (ch(), prop::option::of(0..2_000u128), prop::bool::weighted(0.9)).prop_map(|(ch, delta, by_payee)| Op::Close { ch, delta, by_payee }),
        2 => (ch(), prop::bool::weighted(0.9)).prop_map(|(ch, by_payer)| Op::StartClose { ch, by_payer }),
        3 => (ch(), prop::option::weighted(0.5, -2i64..2)).prop_map(|(ch, at_edge)| Op::Finalize { ch, at_edge }),
        3 => prop_oneof![1..600u64, 3_000..8_000u64].prop_map(|secs| Op::Advance { secs }),
        2 => (ch(), -3i64..3).prop_map(|(ch, offset)| Op::Approach { ch, offset }),
        2 => (0..2usize, prop::bool::weighted(0.8)).prop_map(|(payee, authorize)| Op::Watchtower { payee, authorize }),
        1 => (prop::bool::weighted(0.8), prop::option::of(prop_oneof![Just(30u64), Just(600), Just(3_600), Just(7_200)]), prop::option::of(prop_oneof![Just(3_600u64), Just(86_400), Just(100 * 86_400)]), prop::option::of(0..60u32))
            .prop_map(|(by_owner, min, max, batch)| Op::Config { by_owner, min, max, batch }),
        1 => (prop::option::of(prop::bool::weighted(0.7)), prop::option::of((0..2usize, any::<bool>()))).prop_map(|(cw20, channel)| Op::Allowlist { cw20, channel }),
        5 => (0..4usize, 0..5usize, prop::bool::weighted(0.25)).prop_map(|(which, fate, lose)| Op::Settle { which, fate, lose }),
        1 => (0..4usize, prop::bool::weighted(0.8)).prop_map(|(which, by_payee)| Op::Confirm { which, by_payee }),
        2 => (0..4usize, 0..5usize, any::<bool>()).prop_map(|(which, fate, replay)| Op::Stray { which, fate, replay }),
        1 => (0..2usize, 0..3usize).prop_map(|(payee, denom)| Op::Withdraw { payee, denom }),
        2 => (0..2usize, prop_oneof![4 => Just(0usize), 1 => Just(1usize)], prop::bool::weighted(0.15)).prop_map(|(payer, sender, revoke)| Op::HubAuth { payer, sender, revoke }),
        2 => (prop_oneof![4 => Just(0usize), 1 => Just(1usize)], 0..2usize, 0..2usize, amount, prop::option::weighted(0.3, 1..3u64))
            .prop_map(|(sender, payer, payee, amount, listing)| Op::HubOpen { sender, payer, payee, amount, listing }),
        1 => (0..2usize, ch(), 0..1_000u128).prop_map(|(sender, ch, amount)| Op::HubTopUp { sender, ch, amount }),
        2 => (0..3usize, 1..500u128).prop_map(|(asset, amount)| Op::Donate { asset, amount }),
        2 => (0..4usize, prop::bool::weighted(0.8)).prop_map(|(asset, by_owner)| Op::Sweep { asset, by_owner }),
    ]
}

/// A run: a few opens, then anything.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    let open =
        (0..2usize, 0..2usize, 0..3usize, 0..3usize).prop_map(|(payer, payee, asset, scheme)| {
            Op::Open {
                payer,
                payee,
                asset: if asset == 2 {
                    AssetSel::Cw20
                } else {
                    AssetSel::Native(asset)
                },
                amount: 5_000,
                scheme,
                period: None,
                listing: None,
            }
        });
    (
        prop::collection::vec(open, 1..4),
        prop::collection::vec(op(), 1..60),
    )
        .prop_map(|(mut a, b)| {
            a.extend(b);
            a
        })
}

/// What a run reached.
#[derive(Debug, Default)]
struct Coverage {
    accepted: usize,
    refused: usize,
    batches_sharing_a_page: usize,
    ibc_refunds: usize,
    lost_callbacks: usize,
    lodges_extending_a_close: usize,
    hashlock_claims: usize,
    listing_paid: usize,
    hub_deposits: usize,
    cw20_claims: usize,
    config_updates: usize,
    sweeps: usize,
}

struct Run {
    sim: Sim,
    m: Model,
    cov: Coverage,
    registry: Addr,
    mallory: VoucherSigner,
    /// Packets whose callback already ran or was lost (for replays).
    settled: Vec<cosmwasm_std::IbcPacket>,
}

fn signer(scheme: VoucherScheme, label: &str) -> VoucherSigner {
    VoucherSigner::from_secret(
        scheme,
        wevalue_voucher::sha256(label.as_bytes()),
        "cosmwasm",
    )
    .unwrap()
}

impl Run {
    fn new() -> Self {
        let mut sim = Sim::new();
        for who in PAYERS.iter().chain(&PAYEES) {
            let a = sim.addr(who);
            for d in DENOMS {
                sim.mint(&a, d, 1_000_000_000);
            }
            sim.mint_cw20(&a, 1_000_000_000);
        }
        let mut m = Model::new();
        m.allowed_channels.insert(IBC_CHANNELS[0].into());
        for who in PAYERS
            .iter()
            .chain(&PAYEES)
            .chain(&["stranger", "tower", "owner"])
        {
            m.addrs.insert(who.to_string(), sim.addr(who).to_string());
        }
        let registry = sim.addr("registry");
        Run {
            sim,
            m,
            cov: Coverage::default(),
            registry,
            mallory: signer(VoucherScheme::Ed25519, "mallory"),
            settled: vec![],
        }
    }

    /// The channel index `raw` stands for (see `ch`).
    fn pick(&self, raw: usize) -> usize {
        let n = self.m.channels.len();
        match raw {
            r if r >= NONE || n == 0 => n + r.saturating_sub(NONE),
            r => r % n,
        }
    }

    fn a(&self, label: &str) -> Addr {
        self.sim.addr(label)
    }

    fn uhub(&self) -> AssetInfo {
        AssetInfo::Native(payment_channel::ibc::deposit::ibc_denom(&format!(
            "transfer/{}/uhub",
            IBC_CHANNELS[0]
        )))
    }

    fn assets(&self) -> Vec<AssetInfo> {
        vec![
            AssetInfo::Native(DENOMS[0].into()),
            AssetInfo::Native(DENOMS[1].into()),
            AssetInfo::Cw20(self.sim.token.clone()),
            self.uhub(),
        ]
    }

    /// The label of the party `who` is for channel `ch`.
    fn who(&self, ch: usize, who: Who) -> String {
        let c = self.m.channels.get(ch);
        match (who, c) {
            (Who::Payee, Some(c)) => c.payee.clone(),
            (Who::Payer, Some(c)) => c.payer.clone(),
            (Who::Payee, None) => PAYEES[0].into(),
            (Who::Payer, None) => PAYERS[0].into(),
            (Who::Tower, _) => "tower".into(),
            (Who::Stranger, _) => "stranger".into(),
        }
    }

    fn voucher(
        &self,
        key: &VoucherSigner,
        id: u64,
        amount: u128,
        hashlock: Option<Hashlock>,
        expiry: Option<u64>,
    ) -> SignedVoucher {
        let fields = Voucher {
            chain_id: self.sim.env.block.chain_id.clone(),
            contract: self.sim.contract().to_string(),
            channel_id: id,
            amount: Uint128::new(amount),
            hashlock,
            expiry,
        };
        SignedVoucher {
            amount: Uint128::new(amount),
            hashlock,
            expiry,
            signature: key.sign(&fields).unwrap().to_vec().into(),
        }
    }

    fn key_for(&self, ch: usize, forged: bool) -> VoucherSigner {
        match (forged, self.m.channels.get(ch)) {
            (false, Some(c)) => c.key.clone(),
            _ => self.mallory.clone(),
        }
    }

    fn claimed_of(&self, ch: usize) -> u128 {
        self.m.channels.get(ch).map_or(0, |c| c.claimed)
    }

    fn expiry(&self, offset: Option<i64>) -> Option<u64> {
        offset.map(|o| (self.sim.now() as i64 + o) as u64)
    }
}

/// Asserts the contract's answer equals the model's verdict.
fn agree<T: std::fmt::Debug>(
    op: &Op,
    got: &Result<T, ContractError>,
    want: &Result<(), ContractError>,
) -> Result<(), TestCaseError> {
    match (got, want) {
        (Ok(_), Ok(())) => Ok(()),
        (Err(g), Err(w)) if g == w => Ok(()),
        (Err(ContractError::InvalidConfig { .. }), Err(ContractError::InvalidConfig { .. })) => {
            Ok(())
        }
        (Err(ContractError::Ownership(_)), Err(ContractError::Ownership(_))) => Ok(()),
        (Err(ContractError::HubDeposit { .. }), Err(ContractError::HubDeposit { .. })) => Ok(()),
        _ => Err(TestCaseError::fail(format!(
            "{op:?}: contract {got:?}, model {want:?}"
        ))),
    }
}

#[path = "model/steps.rs"]
mod steps;
use steps::run;

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn the_contract_does_what_the_model_decides(ops in ops()) {
        run(ops)?;
    }
}

#[test]
fn random_runs_cover_every_feature() {
    const RUNS: usize = 64;
    let strategy = ops();
    let mut runner = TestRunner::deterministic();
    let mut total = Coverage::default();
    for _ in 0..RUNS {
        let ops = strategy.new_tree(&mut runner).unwrap().current();
        let c = run(ops).unwrap();
        total.accepted += c.accepted;
        total.refused += c.refused;
        total.batches_sharing_a_page += c.batches_sharing_a_page;
        total.ibc_refunds += c.ibc_refunds;
        total.lost_callbacks += c.lost_callbacks;
        total.lodges_extending_a_close += c.lodges_extending_a_close;
        total.hashlock_claims += c.hashlock_claims;
        total.listing_paid += c.listing_paid;
        total.hub_deposits += c.hub_deposits;
        total.cw20_claims += c.cw20_claims;
        total.config_updates += c.config_updates;
        total.sweeps += c.sweeps;
    }
    println!("{total:?}");
    let c = &total;
    for (what, n) in [
        ("accepted messages", c.accepted),
        ("refused messages", c.refused),
        ("batches sharing a claim page", c.batches_sharing_a_page),
        ("IBC refunds credited", c.ibc_refunds),
        ("lost callbacks", c.lost_callbacks),
        ("lodges extending a close", c.lodges_extending_a_close),
        ("hashlocked claims", c.hashlock_claims),
        ("listing purchases", c.listing_paid),
        ("hub deposits", c.hub_deposits),
        ("cw20 claims", c.cw20_claims),
        ("config updates", c.config_updates),
        ("sweeps", c.sweeps),
    ] {
        assert!(n > 0, "no {what} in {RUNS} random runs: {total:?}");
    }
}
