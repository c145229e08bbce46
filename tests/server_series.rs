//! `/api/interfaces/{device}/{if_name}/series` against a real temporary
//! SQLite store filled with `Store::write_batch` and `Store::rollup`.
mod support;

use nocmap::server::AppState;
use nocmap::store::{Batch, GapRecord, Sample, SeriesKey, Store, StoreConfig};
use nocmap::types::UnixMillis;
use support::server::*;

const MIN: i64 = 60_000;
const FIVE_MIN: i64 = 300_000;

struct Fixture {
    _dir: tempfile::TempDir,
    state: AppState,
    base: i64,
    values: Vec<(i64, f64)>,
}

fn value(i: i64) -> f64 {
    ((i % 7) * 1000 + i) as f64
}

/// 50 one-minute samples of dev-a Gi0/1 in_bps ending before the current
/// 5-minute boundary, a series gap, a store-wide gap, and one sample of the
/// evil ifName; rolled up.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nocmap.db");
    let now = now_ms();
    let base = now.div_euclid(FIVE_MIN) * FIVE_MIN - 50 * MIN;
    let key = SeriesKey::interface("dev-a", "Gi0/1", "in_bps");
    let values: Vec<(i64, f64)> = (0..50).map(|i| (base + i * MIN, value(i))).collect();
    let mut samples: Vec<Sample> = values
        .iter()
        .map(|(t, v)| Sample {
            key: key.clone(),
            at: UnixMillis(*t),
            value: *v,
        })
        .collect();
    samples.push(Sample {
        key: SeriesKey::interface("dev-a", EVIL_IF_NAME, "in_bps"),
        at: UnixMillis(base),
        value: 7.0,
    });
    let mut store = Store::open(&db, StoreConfig::default()).unwrap();
    store
        .write_batch(&Batch {
            samples,
            gaps: vec![
                GapRecord {
                    series: Some(key.clone()),
                    from: UnixMillis(base + 10 * MIN),
                    to: UnixMillis(base + 12 * MIN),
                    reason: "reboot".into(),
                },
                GapRecord {
                    series: None,
                    from: UnixMillis(base + 20 * MIN),
                    to: UnixMillis(base + 21 * MIN),
                    reason: "restart".into(),
                },
            ],
        })
        .unwrap();
    let report = store.rollup(UnixMillis(now)).unwrap();
    assert!(report.buckets >= 10, "{report:?}");
    drop(store);
    Fixture {
        _dir: dir,
        state: AppState {
            live: hostile_live(),
            db_path: Some(db),
            auth: None,
            reports: None,
            allowed_hosts: Vec::new(),
            conn_limits: Default::default(),
            traps: None,
            syslog: None,
            sites: None,
            origin: None,
            event_tap: None,
            feed: None,
            limiter: std::sync::Arc::new(nocmap::server::rate_limit::RateLimiter::new(
                Default::default(),
            )),
        },
        base,
        values,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_and_rollup_points_with_gaps() {
    let f = fixture();
    let srv = start(f.state.clone());
    let path = "/api/interfaces/dev-a/Gi0%2F1/series";

    let r = get(srv.addr, &format!("{path}?metric=in_bps&since=1h"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["device"], "dev-a");
    assert_eq!(v["if_name"], "Gi0/1");
    assert_eq!(v["metric"], "in_bps");
    assert_eq!(v["resolution"], "raw");
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), f.values.len());
    for (p, (t, val)) in points.iter().zip(&f.values) {
        assert_eq!(p["t"].as_i64(), Some(*t));
        assert_eq!(p["avg"].as_f64(), Some(*val));
        assert_eq!(p["max"].as_f64(), Some(*val));
        assert_eq!(p["count"].as_i64(), Some(1));
    }
    let gaps = v["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 2, "{gaps:?}");
    assert_eq!(gaps[0]["from_ms"].as_i64(), Some(f.base + 10 * MIN));
    assert_eq!(gaps[0]["reason"], "reboot");
    assert_eq!(gaps[0]["scope"], "series");
    assert_eq!(gaps[1]["scope"], "all");
    assert_eq!(gaps[1]["reason"], "restart");

    let r = get(
        srv.addr,
        &format!("{path}?metric=in_bps&since=1h&resolution=5m"),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["resolution"], "5m");
    let buckets = v["points"].as_array().unwrap();
    assert_eq!(buckets.len(), 10);
    for (k, b) in buckets.iter().enumerate() {
        let k = k as i64;
        let vals: Vec<f64> = (k * 5..k * 5 + 5).map(value).collect();
        let avg = vals.iter().sum::<f64>() / 5.0;
        let max = vals.iter().cloned().fold(f64::MIN, f64::max);
        assert_eq!(b["t"].as_i64(), Some(f.base + k * FIVE_MIN));
        assert!((b["avg"].as_f64().unwrap() - avg).abs() < 1e-9, "{b}");
        assert_eq!(b["max"].as_f64(), Some(max));
        // nearest-rank p95 of 5 values is the largest.
        assert_eq!(b["p95"].as_f64(), Some(max));
        assert_eq!(b["count"].as_i64(), Some(5));
    }

    // Explicit `until=now` and `resolution=raw` read the same 50 samples
    // (RFC 3339 times are covered by the unit tests of `util::time`).
    let r = get(
        srv.addr,
        &format!("{path}?metric=in_bps&since=1h&until=now&resolution=raw"),
        None,
    )
    .await;
    assert_eq!(r.json()["points"].as_array().unwrap().len(), 50);

    // The alias of a store id, on a series never written: empty, not an error.
    let r = get(srv.addr, &format!("{path}?metric=in_errors_per_s"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["metric"], "in_errors_ps");
    assert_eq!(r.json()["points"].as_array().unwrap().len(), 0);

    // The ifName with a backslash, quote and newline, percent-encoded.
    let r = get(
        srv.addr,
        "/api/interfaces/dev-a/x%5Cy%22%0Az/series?metric=in_bps&since=1h",
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["if_name"], EVIL_IF_NAME);
    assert_eq!(r.json()["points"][0]["avg"], 7.0);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_things_are_404_and_bad_parameters_400() {
    let f = fixture();
    let srv = start(f.state.clone());
    for (path, status, says) in [
        (
            "/api/interfaces/nope/eth0/series?metric=in_bps",
            404,
            "no device `nope`",
        ),
        (
            "/api/interfaces/dev-a/eth9/series?metric=in_bps",
            404,
            "no interface `eth9`",
        ),
        (
            "/api/interfaces/dev-a/Gi0%2F1/series",
            400,
            "missing parameter `metric`",
        ),
        (
            "/api/interfaces/dev-a/Gi0%2F1/series?metric=bogus",
            400,
            "unknown metric `bogus`",
        ),
        (
            "/api/interfaces/dev-a/Gi0%2F1/series?metric=in_bps&since=yesterday",
            400,
            "since: ",
        ),
        (
            "/api/interfaces/dev-a/Gi0%2F1/series?metric=in_bps&since=1m&until=1h",
            400,
            "before",
        ),
        (
            "/api/interfaces/dev-a/Gi0%2F1/series?metric=in_bps&resolution=1d",
            400,
            "resolution",
        ),
        (
            "/api/interfaces/dev-a/Gi0%2F1/series?metric=in_bps&x=1",
            400,
            "unknown parameter",
        ),
        (
            "/api/interfaces/dev-a/Gi0%zz/series?metric=in_bps",
            400,
            "percent-encoding",
        ),
    ] {
        let r = get(srv.addr, path, None).await;
        assert_eq!(r.status, status, "{path}: {}", r.body);
        let msg = r.json()["error"].as_str().unwrap().to_string();
        assert!(msg.contains(says), "{path}: {msg}");
    }
    srv.stop().await;

    // No store configured: 503, JSON.
    let srv = start(AppState::new(hostile_live()));
    let r = get(
        srv.addr,
        "/api/interfaces/dev-a/Gi0%2F1/series?metric=in_bps",
        None,
    )
    .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.json()["error"].is_string());
    srv.stop().await;
}
