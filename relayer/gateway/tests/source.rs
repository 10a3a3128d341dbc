//! Sources and configuration without a chain: CSV rows become JSON objects
//! keyed by the header (numbers stay numbers), a bad JSONL line or a short
//! CSV row is named, a replay starts at the buyer's position and wraps with
//! `repeat`, a simulated series is the same for the same seed and position,
//! and the `[gateway]` checks name every bad field.

use std::io::Write;

use relayer_gateway::config::FileFormat;
use relayer_gateway::source::{load_file, Source};
use relayer_gateway::{GatewayConfig, ListingConfig, SensorKind, SourceConfig};

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

#[test]
fn csv_rows_become_json_objects_and_bad_records_are_named() {
    let f = file("ts,pm25,station\n1700000000,12.5,porta-nuova\n1700000060,13,lingotto\n\n");
    let rows = load_file(f.path(), FileFormat::Csv).unwrap();
    assert_eq!(rows.len(), 2);
    let first: serde_json::Value = serde_json::from_slice(&rows[0]).unwrap();
    assert_eq!(
        first,
        serde_json::json!({ "ts": 1700000000, "pm25": 12.5, "station": "porta-nuova" })
    );
    let short = file("a,b\n1,2\n3\n");
    let err = load_file(short.path(), FileFormat::Csv).unwrap_err();
    assert!(err.ends_with("row 3: 1 cells, the header has 2"), "{err}");
    let jsonl = file("{\"pm25\":1}\n\n{\"pm25\":2}\nnot json\n");
    let err = load_file(jsonl.path(), FileFormat::Jsonl).unwrap_err();
    assert!(err.contains("line 4"), "{err}");
}

#[tokio::test]
async fn a_replay_starts_at_the_position_and_wraps_with_repeat() {
    let f = file("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let cfg = |repeat| SourceConfig::File {
        path: f.path().to_path_buf(),
        format: FileFormat::Jsonl,
        interval_ms: 0,
        repeat,
    };
    let once = Source::start(1, &cfg(false), rx.clone()).unwrap();
    let mut feed = once.subscribe(2);
    assert_eq!(&feed.next().await.unwrap().payload[..], b"{\"n\":3}");
    assert!(
        feed.next().await.is_none(),
        "without repeat the replay ends"
    );
    let looping = Source::start(1, &cfg(true), rx).unwrap();
    let mut feed = looping.subscribe(2);
    let got: Vec<Vec<u8>> = [
        feed.next().await.unwrap(),
        feed.next().await.unwrap(),
        feed.next().await.unwrap(),
    ]
    .iter()
    .map(|c| c.payload.to_vec())
    .collect();
    assert_eq!(
        got,
        vec![
            b"{\"n\":3}".to_vec(),
            b"{\"n\":1}".to_vec(),
            b"{\"n\":2}".to_vec()
        ]
    );
}

#[tokio::test]
async fn a_simulated_series_depends_on_the_seed_and_position_only() {
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let cfg = SourceConfig::Simulated {
        sensor: SensorKind::Pm25,
        interval_ms: 0,
        seed: 7,
    };
    let source = Source::start(1, &cfg, rx).unwrap();
    let value = |p: &[u8]| {
        let v: serde_json::Value = serde_json::from_slice(p).unwrap();
        (v["n"].as_u64().unwrap(), v["value"].as_f64().unwrap())
    };
    let mut a = source.subscribe(10);
    let mut b = source.subscribe(10);
    for n in 11..=20 {
        let (x, y) = (a.next().await.unwrap(), b.next().await.unwrap());
        assert_eq!(value(&x.payload), value(&y.payload));
        assert_eq!(value(&x.payload).0, n);
        assert!((0.0..60.0).contains(&value(&x.payload).1));
    }
}

#[test]
fn gateway_config_problems_name_the_field() {
    let sim = |id| ListingConfig {
        id,
        source: SourceConfig::Simulated {
            sensor: SensorKind::Pm25,
            interval_ms: 1_000,
            seed: 1,
        },
    };
    let ok = GatewayConfig {
        enabled: true,
        listings: vec![sim(1)],
        ..GatewayConfig::default()
    };
    assert!(ok.problems().is_empty(), "{:?}", ok.problems());
    let bad = GatewayConfig {
        enabled: true,
        credit_window: 0,
        max_payload: 2 << 20,
        public_url: "http://example.org".into(),
        listings: vec![
            sim(1),
            sim(1),
            ListingConfig {
                id: 2,
                source: SourceConfig::Mqtt {
                    host: "127.0.0.1".into(),
                    port: 1883,
                    topic: String::new(),
                    client_id: String::new(),
                    qos: 2,
                },
            },
        ],
        ..GatewayConfig::default()
    };
    assert_eq!(
        bad.problems(),
        vec![
            "gateway.credit_window must be at least 1".to_string(),
            "gateway.max_payload must be 1 to 1048576".into(),
            "gateway.public_url must start with ws:// or wss://".into(),
            "gateway.listings: a listing id appears twice".into(),
            "gateway.listings[2].source.topic is empty".into(),
            "gateway.listings[2].source.qos must be 0 or 1".into(),
        ]
    );
    // Unknown keys are refused.
    let err = toml::from_str::<GatewayConfig>("enabled = true\nwindow = 3\n").unwrap_err();
    assert!(err.to_string().contains("unknown field `window`"), "{err}");
}
