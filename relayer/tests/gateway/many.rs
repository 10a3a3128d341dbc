//! 1,000 buyer connections: 200 channels, each connecting five times
//! (resuming its stream), taking 3 chunks and leaving gracefully, 200 at a
//! time. Every connection gets its chunks, every channel ends paid exactly
//! 15 × 10 in the watchtower, and the gateway ends with no open connection.

use super::*;
use std::sync::atomic::Ordering;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_buyers_connect_pay_and_leave() {
    let env = setup().await;
    let gw = start_gateway(&env, gateway_config(vec![simulated(1)])).await;
    env.list(&gw.url(1), PricingModel::PerMessage).await;
    let listing = env.listing(1).await;
    let mut tasks = vec![];
    let mut channels = vec![];
    for i in 0..200u64 {
        // The contract allows 8 open channels per payer, payee and asset.
        let (ch, signer) = env.open(&format!("payer{}", i / 8), i, 10_000).await;
        channels.push(ch);
        let config = env.buyer_config(&listing, ch, 10_000, None);
        let url = gw.url(1);
        tasks.push(tokio::spawn(async move {
            let mut opts = BuyerOptions::new(url, config);
            opts.max_chunks = Some(3);
            let mut stream = None;
            let mut ns = vec![];
            for _ in 0..5 {
                let (s, report, got) = buy(&opts, &signer, stream).await;
                assert_eq!(report.chunks, 3, "{report:?}");
                assert_eq!(
                    report.seller_close.as_ref().map(|c| c.0),
                    Some(wevalue_sdpp::ErrorCode::Normal)
                );
                ns.extend(got.iter().map(|p| reading_n(p)));
                stream = Some(s);
            }
            (stream.unwrap(), ns)
        }));
    }
    for t in tasks {
        let (stream, ns) = t.await.unwrap();
        assert_eq!(ns, (1..=15).collect::<Vec<u64>>());
        assert_eq!((stream.received.seq, stream.paid.0), (15, 150));
    }
    for ch in channels {
        env.wait_stored(ch, 150).await;
    }
    let stats = gw.gateway.stats();
    assert_eq!(stats.connections.load(Ordering::Relaxed), 1_000);
    for _ in 0..200 {
        if gw.gateway.open_connections() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(gw.gateway.open_connections(), 0);
    assert_eq!(gw.gateway.streams(), 200);
}
