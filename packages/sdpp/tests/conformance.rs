//! Conformance: the seller and buyer state machines driven against each
//! other over random schedules — chunks, deliveries, time, disconnects and
//! resumes, a buyer that stops paying, forged vouchers, a seller that
//! over-sends — with the model of `sim/model.rs` deciding every outcome.
//! After the schedule everyone behaves and the stream must end with every
//! chunk delivered once, in order, and paid exactly once.

mod sim;

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use sim::model::Params;
use sim::{Action, BadVoucher, World};
use wevalue_sdpp::{ErrorCode, PricingModel};

fn arb_params() -> impl Strategy<Value = (Params, Vec<Vec<u8>>)> {
    (
        prop::sample::select(vec![
            PricingModel::PerMessage,
            PricingModel::PerSecond,
            PricingModel::PerKilobyte,
        ]),
        1u128..=50,
        1u32..=2_500,
        0u64..=12,
        1u32..=6,
        3u128..=300,
        prop::option::of((1u128..=300, 0u128..=49)),
        2_000u64..=8_000,
        1u8..=100,
        50u64..=3_000,
    )
        .prop_flat_map(
            |(
                model,
                price,
                max_payload,
                extra,
                in_flight,
                deposit_units,
                cap,
                timeout,
                pct,
                idle,
            )| {
                let window = model.max_chunk_units(max_payload) + extra;
                let p = Params {
                    model,
                    price,
                    window,
                    max_in_flight: in_flight,
                    max_payload,
                    deposit: deposit_units * price,
                    // A cap need not be a multiple of the price.
                    cap: cap.map(|(units, rest)| units * price + rest % price),
                    timeout_ms: timeout,
                    pay_pct: pct,
                    idle_ms: idle,
                };
                let chunk = prop_oneof![
                    3 => 0usize..=40.min(max_payload as usize),
                    1 => 0usize..=max_payload as usize,
                ]
                .prop_flat_map(|n| prop::collection::vec(any::<u8>(), n));
                (Just(p), prop::collection::vec(chunk, 1..=60))
            },
        )
}

fn arb_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        8 => (1u8..=4).prop_map(Action::Produce),
        8 => (1u8..=4).prop_map(Action::ToBuyer),
        8 => (1u8..=4).prop_map(Action::ToSeller),
        5 => (1u16..=2_500).prop_map(Action::Tick),
        1 => Just(Action::Disconnect),
        1 => Just(Action::BuyerStops),
        1 => Just(Action::BuyerPays),
        1 => prop::sample::select(vec![
            BadVoucher::OverOwed,
            BadVoucher::NotIncreasing,
            BadVoucher::WrongChannel,
            BadVoucher::BadSignature,
            BadVoucher::AckAhead,
        ])
        .prop_map(Action::Inject),
        1 => Just(Action::BuyerCloses),
        1 => Just(Action::Duplicate),
        1 => prop::sample::select(vec![
            ErrorCode::ShuttingDown,
            ErrorCode::Unavailable,
            ErrorCode::Internal,
        ])
        .prop_map(Action::SellerCloses),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Honest and faulty schedules with disconnects; the stream then
    /// settles with every chunk delivered once and paid once.
    #[test]
    fn sessions_follow_the_model((p, source) in arb_params(), actions in prop::collection::vec(arb_action(), 0..150)) {
        let mut w = World::new(p, source);
        for a in &actions {
            w.apply(a);
        }
        w.settle();
        let n = w.mb.received();
        // No chunk lost or repeated: the application saw 1..=n once, in order.
        prop_assert_eq!(&w.delivered, &(1..=n).collect::<Vec<_>>());
        // Both sides counted the same units for every chunk: none charged twice.
        prop_assert_eq!(&w.mb.units, &w.ms.units);
        prop_assert_eq!(w.ms.best, w.mb.owed());
        prop_assert_eq!(w.mb.paid, w.mb.owed());
        prop_assert!(n == w.source.len() as u64 || w.limit_reached);
    }

    /// A seller that sends beyond the window: the buyer refuses the first
    /// chunk the model says exceeds it (or that breaks another rule), never
    /// pays for it, and the seller's own session never over-sent.
    #[test]
    fn an_over_sending_seller_is_refused((p, source) in arb_params(), before in prop::collection::vec(arb_action(), 0..40)) {
        let mut w = World::new(p, source);
        for a in &before {
            w.apply(a);
        }
        w.apply(&Action::Greedy);
        w.apply(&Action::ToBuyer(u8::MAX));
        w.apply(&Action::ToBuyer(u8::MAX));
        // `apply` already checked each frame's outcome against the model;
        // the buyer never owes more than it paid plus one window.
        let window = u128::from(p.window) * p.price;
        prop_assert!(w.mb.owed() <= w.mb.paid + window);
    }
}

fn params(model: PricingModel) -> Params {
    Params {
        model,
        price: 10,
        window: 4,
        max_in_flight: 4,
        max_payload: 1_000,
        deposit: 10_000,
        cap: None,
        timeout_ms: 5_000,
        pay_pct: 50,
        idle_ms: 500,
    }
}

fn chunks(n: usize, len: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| vec![i as u8; len]).collect()
}

/// The same schedules the proptest explores, spelled out with the exact
/// figures the model must agree with.
#[test]
fn a_buyer_that_stops_paying_is_cut_off_after_the_window_and_the_timeout() {
    let p = Params {
        max_in_flight: 8,
        ..params(PricingModel::PerMessage)
    };
    let mut w = World::new(p, chunks(20, 10));
    w.apply(&Action::BuyerStops);
    w.apply(&Action::Produce(20));
    // Window 4 units at 10 each: 4 chunks out, the 5th is refused for credit.
    assert_eq!(w.ms.sent(), 4);
    assert_eq!(w.ms.blocked_since, Some(w.now));
    w.apply(&Action::ToBuyer(10));
    assert_eq!(w.mb.received(), 4);
    w.apply(&Action::Tick(4_999));
    assert_eq!(w.ms.phase, sim::model::Ph::Streaming);
    w.apply(&Action::Tick(1));
    // PAYMENT_TIMEOUT after exactly 5 s; the seller lost at most 40.
    assert_eq!(w.ms.phase, sim::model::Ph::Closing);
    assert_eq!(w.ms.owed_at(w.ms.sent()) - w.ms.best, 40);
    // The buyer comes back, pays, and the stream resumes where it was.
    w.settle();
    assert_eq!(w.mb.received(), 20);
    assert_eq!(w.ms.best, 200);
    assert_eq!(w.delivered, (1..=20).collect::<Vec<_>>());
}

#[test]
fn chunks_lost_in_a_disconnect_are_resent_and_charged_once() {
    let mut w = World::new(params(PricingModel::PerKilobyte), chunks(12, 700));
    w.apply(&Action::Produce(3));
    // 700, 1400, 2100 bytes: 1, 1, 1 kilobytes started (cumulative rounding).
    assert_eq!(w.ms.units, vec![1, 1, 1]);
    w.apply(&Action::ToBuyer(2));
    w.apply(&Action::Disconnect);
    // The buyer had 2 chunks: the seller rolls back to 2 and resends the 3rd.
    assert_eq!(w.ms.sent(), 3);
    assert_eq!(w.mb.received(), 2);
    w.settle();
    assert_eq!(w.delivered, (1..=12).collect::<Vec<_>>());
    // 12 × 700 = 8,400 bytes: 9 kilobytes, 90 in all, paid once.
    assert_eq!(w.mb.owed(), 90);
    assert_eq!(w.ms.best, 90);
}

#[test]
fn a_seller_over_sending_per_message_is_refused_at_the_first_chunk_past_the_window() {
    let p = Params {
        max_in_flight: 8,
        ..params(PricingModel::PerMessage)
    };
    let mut w = World::new(p, chunks(20, 5));
    w.apply(&Action::BuyerStops);
    w.apply(&Action::Greedy);
    w.apply(&Action::ToBuyer(u8::MAX));
    // Window 4: chunks 1–4 are accepted, chunk 5 is CREDIT_EXCEEDED.
    assert_eq!(w.mb.received(), 4);
    assert_eq!(w.mb.phase, sim::model::Ph::Closed);
    assert_eq!(w.last_refusal, Some(ErrorCode::CreditExceeded));
    assert_eq!(w.delivered, vec![1, 2, 3, 4]);
    // With the in-flight limit at 4, the fifth unacknowledged chunk is refused first.
    let mut w = World::new(params(PricingModel::PerMessage), chunks(20, 5));
    w.apply(&Action::BuyerStops);
    w.apply(&Action::Greedy);
    w.apply(&Action::ToBuyer(u8::MAX));
    assert_eq!(w.last_refusal, Some(ErrorCode::TooManyInFlight));
    assert_eq!(w.mb.received(), 4);
}

#[test]
fn per_second_bills_started_seconds_and_forgives_time_out_of_credit() {
    let mut w = World::new(params(PricingModel::PerSecond), chunks(30, 3));
    w.apply(&Action::BuyerStops);
    // Second 1 of the connection: the first chunk bills 1, the next none.
    w.apply(&Action::Produce(2));
    assert_eq!(w.ms.units, vec![1, 0]);
    // 2.5 s later: seconds 2 and 3 start; billed by the next chunk.
    w.apply(&Action::Tick(2_500));
    w.apply(&Action::Produce(1));
    assert_eq!(w.ms.units, vec![1, 0, 2]);
    // 10 s later 10 more seconds started but only 1 unit of credit is left.
    w.apply(&Action::Tick(10_000));
    w.apply(&Action::Produce(1));
    assert_eq!(w.ms.units, vec![1, 0, 2, 1]);
    w.apply(&Action::Produce(1));
    assert_eq!(w.ms.sent(), 4, "out of credit");
    w.settle();
    assert_eq!(w.ms.best, w.mb.owed());
}

/// The random schedules are not vacuous: over a fixed-seed batch every
/// refusal the model knows occurs, chunks are resent after disconnects,
/// lost vouchers are sent again, and limits and timeouts end sessions.
#[test]
fn random_schedules_reach_every_outcome() {
    let mut runner = TestRunner::deterministic();
    let honest = (arb_params(), prop::collection::vec(arb_action(), 0..150));
    let greedy = (arb_params(), prop::collection::vec(arb_action(), 0..40));
    let (mut closes, mut resent, mut resends) = (BTreeSet::new(), 0, 0);
    for _ in 0..300 {
        let ((p, source), actions) = honest.new_tree(&mut runner).unwrap().current();
        let mut w = World::new(p, source);
        for a in &actions {
            w.apply(a);
        }
        w.settle();
        closes.extend(w.closes.iter().copied());
        resent += w.resent;
        resends += w.mb.resends;
    }
    for _ in 0..300 {
        let ((p, source), actions) = greedy.new_tree(&mut runner).unwrap().current();
        let mut w = World::new(p, source);
        for a in &actions {
            w.apply(a);
        }
        w.apply(&Action::Greedy);
        w.apply(&Action::ToBuyer(u8::MAX));
        closes.extend(w.closes.iter().copied());
    }
    let codes: BTreeSet<u16> = [
        ErrorCode::Normal,
        ErrorCode::WrongChannel,
        ErrorCode::BadSignature,
        ErrorCode::VoucherNotIncreasing,
        ErrorCode::VoucherExceedsOwed,
        ErrorCode::BadAck,
        ErrorCode::LimitReached,
        ErrorCode::PaymentTimeout,
        ErrorCode::CreditExceeded,
        ErrorCode::TooManyInFlight,
        ErrorCode::BadSequence,
        ErrorCode::BadUnits,
        ErrorCode::BadReceipt,
        ErrorCode::ShuttingDown,
        ErrorCode::Internal,
    ]
    .iter()
    .map(|c| c.as_u16())
    .collect();
    let missing: Vec<_> = codes.difference(&closes).collect();
    assert!(missing.is_empty(), "never reached: {missing:?}");
    assert!(resent > 100, "{resent} chunks resent");
    assert!(resends > 0, "no voucher was sent again");
}
