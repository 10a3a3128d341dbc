//! SDPP end to end on a real wasmd localnet, every party its own process:
//! the seller's daemon (`relayer run`: gateway + watchtower on its SQLite
//! file) and the buyer's `relayer buy`.
//!
//! - A buyer searches by place, category and price, opens a channel with a
//!   small deposit, streams to a JSONL file, is topped up twice when the
//!   deposit runs out, stops at `--max-spend`, and rates the listing once
//!   the seller's watchtower has claimed the payments; a second rating
//!   revises the first and is never counted twice, the seller's own rating
//!   is refused. A per-second listing of a quiet sensor is billed by
//!   heartbeats (which write no line) up to the spend cap.
//! - The seller's daemon is SIGKILLed while a buyer streams and restarted on
//!   the same SQLite file: every voucher it receipted is in the store, the
//!   buyer resumes with no chunk lost or charged twice, and it never signs
//!   for more than it received.
//!
//! `ci/relayer-localnet-test.sh` runs these with `-- --ignored` against a
//! fresh localnet. Each test deploys its own contracts with its own actors
//! (test-29 to test-31, test-19), so they run in parallel.

#[path = "common/sdpp_localnet.rs"]
mod lt;

use std::time::{Duration, Instant};

use lt::{buyer_record, lines, stored_voucher, Daemon, ListingSpec, Market};
use serde_json::{json, Value};

const PRICE: u128 = 10;

fn turin(title: &'static str, price: u128, endpoint: String) -> ListingSpec<'static> {
    ListingSpec {
        title,
        category: "air-quality",
        latitude: "45.0703",
        longitude: "7.6869",
        price,
        model: "per_message",
        endpoint,
    }
}

fn simulated(id: u64, interval_ms: u64) -> String {
    format!(
        "[[gateway.listings]]\nid = {id}\nsource = {{ kind = \"simulated\", sensor = \"pm25\", interval_ms = {interval_ms}, seed = 7 }}\n"
    )
}

/// The readings' `n` fields: the simulated sensor numbers its readings.
fn numbers(lines: &[Value]) -> Vec<u64> {
    lines.iter().map(|l| l["n"].as_u64().unwrap()).collect()
}

fn amount(v: &Value) -> u128 {
    v.as_str().unwrap().parse().unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Waits until the seller has claimed `amount` on channel `id`.
async fn claimed(market: &Market, id: u64, want: u128) {
    lt::wait_for(&format!("claimed {want} on channel {id}"), 60, || async {
        (amount(&market.channel(id).await["claimed"]) == want).then_some(())
    })
    .await;
}

#[tokio::test]
#[ignore = "needs a wasmd localnet: ci/relayer-localnet-test.sh"]
async fn relayer_buy_searches_streams_tops_up_stops_at_max_spend_and_rates() {
    let started = Instant::now();
    let market = lt::deploy("test-29", 10).await;
    let port = lt::free_port();
    let endpoint = |id: u64| format!("ws://127.0.0.1:{port}/sdpp/{id}");
    // The target, and one listing outside each search criterion.
    let milan = ListingSpec {
        latitude: "45.4642",
        longitude: "9.1900",
        ..turin("PM2.5 in Milan, cheaper", 5, endpoint(3))
    };
    let noise = ListingSpec {
        category: "noise",
        ..turin("Noise at Porta Nuova, cheaper", 1, endpoint(4))
    };
    let ids = market
        .list(&[
            turin("PM2.5 at Porta Nuova", PRICE, endpoint(1)),
            turin("PM2.5 at Porta Nuova, dearer", 50, endpoint(2)),
            milan,
            noise,
            // Per second, from a sensor that reads once and then is quiet.
            ListingSpec {
                model: "per_second",
                ..turin("PM2.5 at Porta Nuova, by the second", PRICE, endpoint(5))
            },
        ])
        .await;
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    let listings = simulated(1, 0) + &simulated(5, 60_000);
    let mut daemon = Daemon::start(&market, market.seller_config(port, &listings), port).await;

    let out = market.path("pm25.jsonl");
    let state = market.path("buyer-state");
    let buy = market
        .buy(
            "test-30",
            &format!(
                "--near u0j2 --category air-quality --max-price 20 --deposit 200 --top-up-below 10 \
                 --max-spend 500 --out {} --state-dir {} --rate 5 --rate-wait 60",
                out.display(),
                state.display()
            ),
        )
        .output()
        .unwrap();
    let log = stderr(&buy);
    assert!(
        buy.status.success(),
        "relayer buy failed:\n{log}\nseller:\n{}",
        daemon.tail()
    );
    assert!(
        log.contains("listing 1 by "),
        "the search found listing 1:\n{log}"
    );

    // 500 at 10 per message: 50 readings, each once, in order.
    let data = lines(&out);
    assert_eq!(numbers(&data), (1..=50).collect::<Vec<u64>>());
    let record = buyer_record(&state, 1);
    let stream = &record["stream"];
    assert_eq!(stream["received"]["seq"], 50);
    assert_eq!(stream["received"]["units"], 50);
    assert_eq!(amount(&stream["paid"]), 500, "lines × price");
    // Opened with 200, topped up twice by 200 when the deposit stopped the
    // stream (at 200 and 400); the third session stopped at the cap of 500.
    let channel_id = record["channel"].as_u64().unwrap();
    let channel = market.channel(channel_id).await;
    assert_eq!(amount(&channel["deposit"]), 600, "{channel}");
    assert_eq!(log.matches("topped up by 200").count(), 2, "{log}");
    assert!(log.contains("stopped: the spend cap is reached"), "{log}");
    assert_eq!(channel["payee"], market.seller_address());
    assert_eq!(channel["listing"]["listing_id"], 1);

    // The rating landed once the watchtower had claimed ≥ 10 units' worth.
    let buyer = lt::address("test-30");
    let rating: Value = market
        .query(
            &market.registry,
            &json!({ "rating": { "id": 1, "buyer": buyer } }),
        )
        .await;
    assert_eq!(rating["score"], 5);
    // A second rating by the same buyer revises the first: never counted twice.
    let again = market
        .buy(
            "test-30",
            &format!(
                "--listing 1 --max-spend 0 --state-dir {} --rate 2",
                state.display()
            ),
        )
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("(revision: true)"),
        "{}",
        stderr(&again)
    );
    let summary: Value = market
        .query(&market.registry, &json!({ "rating_summary": { "id": 1 } }))
        .await;
    assert_eq!(
        (summary["count"].as_u64(), summary["sum"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(lines(&out).len(), 50, "the rating run streamed nothing");

    // Per second through relayer buy: the reading bills second 1, empty
    // heartbeats seconds 2 and 3 (no line written for them), and second 4
    // does not fit under the cap of 30.
    let by_second = market.path("by-second.jsonl");
    let run = market
        .buy(
            "test-30",
            &format!(
                "--listing 5 --deposit 1000 --top-up-below 10 --max-spend 30 --out {} --state-dir {}",
                by_second.display(),
                state.display()
            ),
        )
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(lines(&by_second).len(), 1, "{}", stderr(&run));
    let seconds = &buyer_record(&state, 5)["stream"];
    assert_eq!(
        (
            seconds["received"]["seq"].as_u64(),
            seconds["received"]["units"].as_u64()
        ),
        (Some(3), Some(3))
    );
    assert_eq!(amount(&seconds["paid"]), 30);

    // Every voucher settled; the watchtower's durable best is the buyer's
    // last voucher, signature and all.
    claimed(&market, channel_id, 500).await;
    assert!(daemon.stop().success(), "{}", daemon.tail());
    let (best, signature) =
        stored_voucher(&market.path("seller.sqlite"), &market.channels, channel_id)
            .expect("a stored voucher");
    assert_eq!(best, 500);
    assert_eq!(
        hex::encode(signature),
        stream["paid_signature"].as_str().unwrap()
    );
    // The seller cannot rate its own listing.
    let own = market.rate_as_seller(1, 5).await;
    assert!(
        own.contains("sellers cannot rate their own listings"),
        "{own}"
    );
    eprintln!(
        "relayer buy end to end in {:.1} s; the buyer said:\n{log}",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test]
#[ignore = "needs a wasmd localnet: ci/relayer-localnet-test.sh"]
async fn a_sigkilled_seller_daemon_loses_no_receipted_voucher_and_the_buyer_resumes() {
    let started = Instant::now();
    let market = lt::deploy("test-31", 1).await;
    let port = lt::free_port();
    let ids = market
        .list(&[turin(
            "PM2.5 at Porta Nuova",
            PRICE,
            format!("ws://127.0.0.1:{port}/sdpp/1"),
        )])
        .await;
    assert_eq!(ids, [1]);
    // A reading every 4 ms: 600 readings take at least 2.4 s.
    let mut daemon =
        Daemon::start(&market, market.seller_config(port, &simulated(1, 4)), port).await;
    let out = market.path("pm25.jsonl");
    let state = market.path("buyer-state");
    let buyer_log = market.path("buyer.log");
    let mut buyer = market
        .buy(
            "test-19",
            &format!(
                "--listing 1 --deposit 100000 --top-up-below 10 --max-spend 6000 --retry-for 60 \
                 --out {} --state-dir {}",
                out.display(),
                state.display()
            ),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&buyer_log).unwrap())
        .spawn()
        .unwrap();
    let buyer_said = || std::fs::read_to_string(&buyer_log).unwrap_or_default();

    // Mid-stream: SIGKILL once the buyer wrote 150 readings.
    lt::wait_for("150 readings before the kill", 60, || async {
        (lt::count_lines(&out) >= 150).then_some(())
    })
    .await;
    daemon.sigkill();
    // The buyer saw the connection end (and saved its record with every
    // receipt it got) before it says so.
    lt::wait_for("the buyer noticing the kill", 30, || async {
        buyer_said().contains("connecting").then_some(())
    })
    .await;
    let at_kill = buyer_record(&state, 1)["stream"].clone();
    let channel_id = buyer_record(&state, 1)["channel"].as_u64().unwrap();
    let (received, paid, receipted) = (
        at_kill["received"]["units"].as_u64().unwrap(),
        amount(&at_kill["paid"]),
        amount(&at_kill["receipted"]),
    );
    assert!(
        (150..600).contains(&received),
        "killed mid-stream at {received}"
    );
    let (stored, _) = stored_voucher(&market.path("seller.sqlite"), &market.channels, channel_id)
        .expect("vouchers were stored before the kill");
    // No receipted voucher lost; nothing stored the buyer did not sign;
    // nothing signed for data not received.
    assert!(receipted > 0);
    assert!(
        stored >= receipted,
        "receipted {receipted}, stored only {stored}"
    );
    assert!(stored <= paid, "stored {stored} above the buyer's {paid}");
    assert!(
        paid <= u128::from(received) * PRICE,
        "paid {paid} for {received}"
    );

    // Restarted on the same SQLite file once the buyer found the gateway
    // gone (a refused connection); the buyer, still retrying, resumes.
    lt::wait_for("a refused reconnection", 30, || async {
        buyer_said().contains("no connection (").then_some(())
    })
    .await;
    daemon.restart().await;
    let status = tokio::task::spawn_blocking(move || buyer.wait().unwrap());
    let status = tokio::time::timeout(Duration::from_secs(90), status)
        .await
        .expect("the buyer finished")
        .unwrap();
    let log = buyer_said();
    assert!(
        status.success(),
        "relayer buy:\n{log}\nseller:\n{}",
        daemon.tail()
    );
    assert!(log.contains("reconnecting"), "{log}");
    // Every reading exactly once, in order, across the kill: 600 × 10 = 6,000.
    let data = lines(&out);
    assert_eq!(numbers(&data), (1..=600).collect::<Vec<u64>>());
    let end = buyer_record(&state, 1)["stream"].clone();
    assert_eq!(
        (
            end["received"]["seq"].as_u64(),
            end["received"]["units"].as_u64()
        ),
        (Some(600), Some(600))
    );
    assert_eq!(amount(&end["paid"]), 6_000);
    claimed(&market, channel_id, 6_000).await;
    assert!(daemon.stop().success(), "{}", daemon.tail());
    let (best, signature) =
        stored_voucher(&market.path("seller.sqlite"), &market.channels, channel_id)
            .expect("the final voucher");
    assert_eq!(best, 6_000);
    assert_eq!(
        hex::encode(signature),
        end["paid_signature"].as_str().unwrap()
    );
    eprintln!(
        "SIGKILL at {received} readings (paid {paid}, receipted {receipted}, stored {stored}); {:.1} s in all; the buyer said:\n{log}",
        started.elapsed().as_secs_f64()
    );
}
