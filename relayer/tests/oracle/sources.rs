//! Measurement sources: HTTP retries with backoff and timeouts, the median
//! of agreeing sources, and too few sources attesting nothing.

use super::*;

/// A JSON server: `fail_first` requests get 503, every answer waits `delay`.
async fn flaky_server(
    fail_first: u32,
    delay: Duration,
    body: serde_json::Value,
) -> (SocketAddr, Arc<AtomicU32>) {
    let hits = Arc::new(AtomicU32::new(0));
    let counter = hits.clone();
    let make = make_service_fn(move |_| {
        let (counter, body) = (counter.clone(), body.clone());
        async move {
            Ok::<_, Infallible>(service_fn(move |req: Request<Body>| {
                let (counter, body) = (counter.clone(), body.clone());
                async move {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(delay).await;
                    let res = if req.uri().path().contains("missing") {
                        Response::builder()
                            .status(StatusCode::NOT_FOUND)
                            .body(Body::empty())
                    } else if req.uri().path().contains("bad") {
                        Response::builder()
                            .status(StatusCode::BAD_REQUEST)
                            .body(Body::empty())
                    } else if n < fail_first {
                        Response::builder()
                            .status(StatusCode::SERVICE_UNAVAILABLE)
                            .body(Body::empty())
                    } else {
                        Response::builder().body(Body::from(body.to_string()))
                    };
                    Ok::<_, Infallible>(res.unwrap())
                }
            }))
        }
    });
    let server = Server::bind(&"127.0.0.1:0".parse().unwrap()).serve(make);
    let addr = server.local_addr();
    tokio::spawn(server);
    (addr, hits)
}

fn query(participant: &str) -> MeasurementQuery {
    MeasurementQuery {
        task_id: 7,
        participant: participant.into(),
        from: 1_000,
        to: 2_000,
    }
}

#[tokio::test]
async fn http_source_retries_with_backoff_and_times_out() {
    let body = serde_json::json!({ "meter": { "actual_kwh": 7.25, "baseline_kwh": "10.5" } });
    let http = HttpConfig {
        timeout_ms: 300,
        retries: 3,
        backoff_ms: 40,
        max_backoff_ms: 1_000,
        max_body_bytes: 1 << 16,
    };
    // Two 503s, then an answer: 3 requests, at least 40 + 80 ms of backoff.
    let (addr, hits) = flaky_server(2, Duration::ZERO, body.clone()).await;
    let src = HttpSource::new(
        "flaky",
        &format!(
            "http://{addr}/v1/meters/{{participant}}?task={{task_id}}&from={{from}}&to={{to}}"
        ),
        "/meter/actual_kwh",
        Some("/meter/baseline_kwh"),
        http.clone(),
    );
    let started = Instant::now();
    let m = src.measure(&query("wasm1house")).await.unwrap();
    assert_eq!(
        m,
        Measurement {
            actual: 7_250_000,
            baseline: Some(10_500_000)
        }
    );
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(120),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(Metric::EnergySaved.value(&m, 1000).unwrap(), 3_250);

    // Always 503: 1 + 3 attempts, then a typed error.
    let (addr, hits) = flaky_server(u32::MAX, Duration::ZERO, body.clone()).await;
    let src = HttpSource::new(
        "down",
        &format!("http://{addr}/m"),
        "/meter/actual_kwh",
        None,
        http.clone(),
    );
    match src.measure(&query("p")).await.unwrap_err() {
        SourceError::Exhausted { attempts: 4, last } => {
            assert!(matches!(*last, SourceError::Status { status: 503, .. }))
        }
        e => panic!("unexpected {e:?}"),
    }
    assert_eq!(hits.load(Ordering::SeqCst), 4);

    // Slower than the timeout: every attempt times out.
    let (addr, hits) = flaky_server(0, Duration::from_millis(800), body.clone()).await;
    let slow = HttpConfig {
        retries: 1,
        ..http.clone()
    };
    let src = HttpSource::new(
        "slow",
        &format!("http://{addr}/m"),
        "/meter/actual_kwh",
        None,
        slow,
    );
    let started = Instant::now();
    match src.measure(&query("p")).await.unwrap_err() {
        SourceError::Exhausted { attempts: 2, last } => {
            assert!(matches!(
                *last,
                SourceError::Timeout {
                    timeout_ms: 300,
                    ..
                }
            ))
        }
        e => panic!("unexpected {e:?}"),
    }
    assert!(started.elapsed() < Duration::from_millis(1_500));
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // Client errors are not retried; 404 is "no data"; a bad pointer is typed.
    let (addr, hits) = flaky_server(0, Duration::ZERO, body).await;
    let bad = HttpSource::new("x", &format!("http://{addr}/bad"), "/v", None, http.clone());
    assert!(matches!(
        bad.measure(&query("p")).await.unwrap_err(),
        SourceError::Status { status: 400, .. }
    ));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let missing = HttpSource::new(
        "x",
        &format!("http://{addr}/missing"),
        "/v",
        None,
        http.clone(),
    );
    assert!(matches!(
        missing.measure(&query("p")).await.unwrap_err(),
        SourceError::NoData { .. }
    ));
    let ptr = HttpSource::new("x", &format!("http://{addr}/ok"), "/nope", None, http);
    assert!(matches!(
        ptr.measure(&query("p")).await.unwrap_err(),
        SourceError::MissingNumber { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn median_of_three_sources_drops_the_outlier_and_too_few_sources_attest_nothing() {
    let env = env(BlockMode::OnDemand, 2, 1, 1).await;
    let (task_id, households) = env.task_in_verification(&["h1"]).await;
    let task = env.task(task_id).await;
    let h1 = &households[0];
    let mid = task.terms.acceptance_deadline.seconds() + 1;
    let dir = tempfile::tempdir().unwrap();
    // HTTP: saved 3.0 kWh; JSONL: 1.5 + 1.6 = 3.1 kWh in two readings (one
    // outside the period ignored); CSV: 30 kWh (a broken meter).
    let (addr, _) = flaky_server(
        0,
        Duration::ZERO,
        serde_json::json!({ "a": 7.0, "b": 10.0 }),
    )
    .await;
    let jsonl = dir.path().join("readings.jsonl");
    std::fs::write(
        &jsonl,
        format!(
            "{{\"participant\":\"{h1}\",\"timestamp\":{mid},\"value\":3.5,\"baseline\":5.0}}\n\
             {{\"participant\":\"{h1}\",\"timestamp\":{mid},\"value\":3.4,\"baseline\":5.0}}\n\
             {{\"participant\":\"{h1}\",\"timestamp\":1,\"value\":100,\"baseline\":0}}\n\
             {{\"participant\":\"someone-else\",\"timestamp\":{mid},\"value\":1,\"baseline\":9}}\n"
        ),
    )
    .unwrap();
    let csv = dir.path().join("readings.csv");
    std::fs::write(
        &csv,
        format!("participant,timestamp,value,baseline\n{h1},{mid},10,40\n"),
    )
    .unwrap();
    let sources = vec![
        SourceConfig {
            name: "api".into(),
            kind: SourceKind::Http {
                url: format!("http://{addr}/{{participant}}"),
                value_pointer: "/a".into(),
                baseline_pointer: Some("/b".into()),
            },
        },
        SourceConfig {
            name: "jsonl".into(),
            kind: SourceKind::File {
                path: jsonl,
                format: FileFormat::Jsonl,
            },
        },
        SourceConfig {
            name: "csv".into(),
            kind: SourceKind::File {
                path: csv,
                format: FileFormat::Csv,
            },
        },
    ];

    // Oracle 1 wants all three to agree: the outlier leaves two, no attestation.
    let (mut strict, _) = env
        .service(
            1,
            Arc::new(Store::open_in_memory().unwrap()),
            config(OracleMode::Single, 1, sources.clone(), rule(3, 1_000)),
        )
        .await;
    let r = strict.tick().await.unwrap();
    assert_eq!(r.failures.len(), 1);
    match &r.failures[0].error {
        OracleError::Sources {
            task_id: t,
            participant,
            source,
        } => {
            assert_eq!((*t, participant.as_str()), (task_id, h1.as_str()));
            assert_eq!(
                (
                    source.asked,
                    source.answered,
                    source.agreeing,
                    source.required
                ),
                (3, 3, 2, 3)
            );
        }
        e => panic!("unexpected {e:?}"),
    }
    assert!(env.attestations(task_id, h1).await.attestations.is_empty());
    let rec = strict.record(task_id).await.unwrap().unwrap();
    assert_eq!(rec.state, TaskState::Seen);
    assert!(rec
        .last_error
        .unwrap()
        .contains("2 of 3 source answers agree"));
    assert_eq!(
        oracle_client(&env.chain, 1)
            .await
            .account_sequence()
            .await
            .unwrap(),
        0
    );

    // Oracle 0 needs two: sorted 3000, 3100, 30000 Wh; the median 3100's
    // ±10% band keeps 3000 and 3100; their lower median is 3000.
    let (mut ok, _) = env
        .service(
            0,
            Arc::new(Store::open_in_memory().unwrap()),
            config(OracleMode::Single, 0, sources, rule(2, 1_000)),
        )
        .await;
    let r = ok.tick().await.unwrap();
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let att = env.attestations(task_id, h1).await;
    assert_eq!(att.accepted, Some(Uint128::new(3_000)));
    assert_eq!(att.attestations.len(), 1);
}
