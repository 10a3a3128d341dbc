//! Resume: after a dropped connection the stream continues at the next
//! chunk (chunks the buyer missed are resent with their payloads, none
//! charged twice); after the gateway process is killed (its runtime torn
//! down mid-stream, no CLOSE, its in-memory records gone) no acknowledged
//! voucher is lost, nothing undelivered is charged, and a new gateway
//! rebuilds the stream from the watchtower's best voucher.

use super::*;
use std::sync::atomic::Ordering;
use wevalue_sdpp::ErrorCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_resumes_at_the_next_chunk_and_charges_each_once() {
    let env = setup().await;
    let gw = start_gateway(&env, gateway_config(vec![simulated(1)])).await;
    env.list(&gw.url(1), PricingModel::PerMessage).await;
    let listing = env.listing(1).await;
    let (ch, signer) = env.open("buyer", 1, 1_000_000).await;
    let mut opts = BuyerOptions::new(gw.url(1), env.buyer_config(&listing, ch, 1_000_000, None));
    opts.drop_after = Some(27);
    let (stream, first, mut got) = buy(&opts, &signer, None).await;
    assert!(first.dropped);
    assert_eq!((first.chunks, stream.received.seq), (27, 27));
    // Paid at half the window (50): vouchers for 5, 10, ..., 25 chunks.
    assert_eq!(stream.paid.0, 250);
    opts.drop_after = None;
    opts.max_chunks = Some(40);
    let (stream, second, more) = buy(&opts, &signer, Some(stream)).await;
    assert!(!second.dropped);
    assert_eq!(second.chunks, 40);
    got.extend(more);
    // Chunks 1..=67, each once, in order (the simulated reading n is the chunk's place).
    let ns: Vec<u64> = got.iter().map(|p| reading_n(p)).collect();
    assert_eq!(ns, (1..=67).collect::<Vec<u64>>());
    assert_eq!((stream.received.seq, stream.received.units), (67, 67));
    // The graceful close paid everything received, once: 67 × 10.
    assert_eq!(stream.paid.0, 670);
    env.wait_stored(ch, 670).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_gateway_loses_no_acknowledged_voucher_and_charges_nothing_undelivered() {
    let env = setup().await;
    // The gateway runs on its own runtime, torn down to kill it.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let config = gateway_config(vec![simulated(1)]);
    let gw = rt
        .spawn(start_with(env.parts(), config.clone()))
        .await
        .unwrap();
    env.list(&gw.url(1), PricingModel::PerMessage).await;
    let listing = env.listing(1).await;
    let (ch, signer) = env.open("buyer", 1, 1_000_000).await;
    let stats = gw.gateway.stats();
    let killer = tokio::spawn(async move {
        while stats.chunks_sent.load(Ordering::Relaxed) < 300 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        rt.shutdown_background();
    });
    let opts = BuyerOptions::new(gw.url(1), env.buyer_config(&listing, ch, 1_000_000, None));
    let (stream, report, mut got) = buy(&opts, &signer, None).await;
    killer.await.unwrap();
    // The kill ends the stream abnormally: the socket drops, or a store call
    // cut short by the teardown makes the gateway close with INTERNAL first.
    assert!(
        report.dropped
            || matches!(&report.seller_close, Some((ErrorCode::Internal, r)) if r.contains("could not be stored")),
        "the kill ends the stream abnormally: {report:?}"
    );
    let received = stream.received.seq;
    assert!(received >= 250, "killed mid-stream after {received} chunks");
    // Every voucher the gateway receipted is durable; nothing stored is
    // above what the buyer signed, and nothing signed is above what it got.
    let stored = env.stored(ch).await;
    assert!(stream.receipted.0 > 0);
    assert!(
        stored >= stream.receipted.0,
        "receipted {} but only {stored} stored",
        stream.receipted.0
    );
    assert!(stored <= stream.paid.0);
    assert!(stream.paid.0 <= received as u128 * 10);

    // A new gateway (no records) rebuilds the stream from the stored voucher.
    let gw2 = start_gateway(&env, config).await;
    let mut opts = BuyerOptions::new(gw2.url(1), env.buyer_config(&listing, ch, 1_000_000, None));
    opts.max_chunks = Some(50);
    let (stream, second, more) = buy(&opts, &signer, Some(stream)).await;
    assert_eq!(second.chunks, 50);
    got.extend(more);
    let ns: Vec<u64> = got.iter().map(|p| reading_n(p)).collect();
    let total = received + 50;
    assert_eq!(ns, (1..=total).collect::<Vec<u64>>());
    assert_eq!(stream.paid.0, u128::from(total) * 10);
    env.wait_stored(ch, u128::from(total) * 10).await;
}
