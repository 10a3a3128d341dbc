//! Per-second billing through the gateway (SDPP §6): a unit is a started
//! second of a connection, counted from the seller's check of the ACCEPT; a
//! chunk charges the seconds started and not yet billed; a quiet sensor is
//! billed by empty heartbeat chunks once nothing was sent for a second; the
//! spend cap stops the stream at the first second it cannot pay; time
//! between connections is never billed. The sources are paced by the test
//! (a reading every 250 ms, or one reading and then silence), so the unit of
//! every chunk is known.

use super::*;
use wevalue_sdpp::ErrorCode;

/// A simulated sensor that reads every `interval_ms` (the first at once).
fn paced(id: u64, interval_ms: u64) -> ListingConfig {
    ListingConfig {
        id,
        source: SourceConfig::Simulated {
            sensor: Default::default(),
            interval_ms,
            seed: 3,
        },
    }
}

/// One connection; returns each chunk's (units, payload length).
async fn connection(
    opts: &BuyerOptions,
    signer: &ChannelKeySigner,
    stream: Option<BuyerStream>,
) -> (BuyerStream, BuyerReport, Vec<(u32, usize)>) {
    let mut chunks = vec![];
    let (s, r) = buyer::run(
        opts,
        signer,
        stream,
        |d| chunks.push((d.units, d.payload.len())),
        |_| Ok(()),
    )
    .await
    .unwrap();
    (s, r, chunks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_charge_the_seconds_they_start() {
    let env = setup().await;
    let gw = start_gateway(&env, gateway_config(vec![paced(1, 250)])).await;
    env.list(&gw.url(1), PricingModel::PerSecond).await;
    let listing = env.listing(1).await;
    let (ch, signer) = env.open("buyer", 1, 1_000_000).await;
    let mut opts = BuyerOptions::new(gw.url(1), env.buyer_config(&listing, ch, 1_000_000, None));
    opts.max_chunks = Some(10);
    let (stream, report, chunks) = connection(&opts, &signer, None).await;
    // Readings at 0, 250, …, 2,250 ms after the ACCEPT: seconds 1, 2 and 3
    // start with chunks 1, 5 and 9; the others fall in a second already billed.
    let units: Vec<u32> = chunks.iter().map(|c| c.0).collect();
    assert_eq!(units, [1, 0, 0, 0, 1, 0, 0, 0, 1, 0]);
    assert!(chunks.iter().all(|c| c.1 > 0), "no heartbeat: {chunks:?}");
    assert!(
        report.stopped,
        "the buyer closed after 10 chunks: {report:?}"
    );
    assert_eq!(report.seller_close.map(|c| c.0), Some(ErrorCode::Normal));
    assert_eq!((stream.received.seq, stream.received.units), (10, 3));
    assert_eq!(stream.paid.0, 30);
    env.wait_stored(ch, 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_sensor_is_billed_by_heartbeats_until_the_spend_cap() {
    let env = setup().await;
    // One reading at once, the next a minute later.
    let gw = start_gateway(&env, gateway_config(vec![paced(1, 60_000)])).await;
    env.list(&gw.url(1), PricingModel::PerSecond).await;
    let listing = env.listing(1).await;
    let (ch, signer) = env.open("buyer", 1, 1_000_000).await;
    let opts = BuyerOptions::new(
        gw.url(1),
        env.buyer_config(&listing, ch, 1_000_000, Some(30)),
    );
    let (stream, report, chunks) = connection(&opts, &signer, None).await;
    // The reading bills second 1; empty heartbeats a second after the last
    // chunk bill seconds 2 and 3; second 4 does not fit under the cap of 30.
    assert_eq!(chunks.len(), 3, "{chunks:?}");
    assert_eq!(chunks.iter().map(|c| c.0).collect::<Vec<_>>(), [1, 1, 1]);
    assert!(chunks[0].1 > 0);
    assert_eq!((chunks[1].1, chunks[2].1), (0, 0), "heartbeats are empty");
    assert_eq!(
        report.seller_close.as_ref().map(|c| c.0),
        Some(ErrorCode::LimitReached)
    );
    assert_eq!((stream.received.seq, stream.received.units), (3, 3));
    assert_eq!(stream.paid.0, 30);
    env.wait_stored(ch, 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_between_connections_is_not_billed() {
    let env = setup().await;
    let gw = start_gateway(&env, gateway_config(vec![paced(1, 60_000)])).await;
    env.list(&gw.url(1), PricingModel::PerSecond).await;
    let listing = env.listing(1).await;
    let (ch, signer) = env.open("buyer", 1, 1_000_000).await;
    let mut opts = BuyerOptions::new(gw.url(1), env.buyer_config(&listing, ch, 1_000_000, None));
    opts.duration = Some(Duration::from_millis(1_500));
    // 1.5 s: the reading (second 1) and a heartbeat at about 1 s (second 2).
    let (stream, _, first) = connection(&opts, &signer, None).await;
    assert_eq!(first.iter().map(|c| c.0).collect::<Vec<_>>(), [1, 1]);
    assert_eq!((stream.received.units, stream.paid.0), (2, 20));
    // Two seconds away, then 1.5 s more: the new connection's own seconds 1
    // and 2 only — 4 units over about 5 s of wall time.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (stream, report, second) = connection(&opts, &signer, Some(stream)).await;
    assert_eq!(second.iter().map(|c| c.0).collect::<Vec<_>>(), [1, 1]);
    assert!(report.stopped && !report.dropped, "{report:?}");
    assert_eq!((stream.received.seq, stream.received.units), (4, 4));
    assert_eq!(stream.paid.0, 40);
    env.wait_stored(ch, 40).await;
}
