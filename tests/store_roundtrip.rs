//! Store behaviour through its public API: batches, reads by resolution,
//! rollups, retention, gaps and topology snapshots.
use nocmap::store::{
    Batch, GapRecord, Resolution, Sample, SeriesKey, Store, StoreConfig, StoreError,
};
use nocmap::topology::Topology;
use nocmap::types::UnixMillis;
use std::time::Duration;

/// An hour boundary.
const BASE: i64 = 1_699_999_200_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

fn key() -> SeriesKey {
    SeriesKey::interface("r1", "ge-0/0/1", "in_bps")
}

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("s.db"), StoreConfig::default()).unwrap()
}

/// Samples every 10 s from BASE for `count` samples, value i + 1.
fn ramp(count: i64) -> Batch {
    Batch {
        samples: (0..count)
            .map(|i| Sample {
                key: key(),
                at: UnixMillis(BASE + i * 10_000),
                value: (i + 1) as f64,
            })
            .collect(),
        gaps: vec![],
    }
}

#[test]
fn short_ranges_read_raw_samples_and_unknown_series_read_empty() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store.write_batch(&ramp(360)).unwrap();
    let data = store
        .series(&key(), UnixMillis(BASE), UnixMillis(BASE + HOUR))
        .unwrap();
    assert_eq!(data.resolution, Resolution::Raw);
    assert_eq!(data.points.len(), 360);
    assert_eq!(data.points[0].at, UnixMillis(BASE));
    assert_eq!(data.points[359].avg, 360.0);
    let other = SeriesKey::probe("10.0.0.1", "rtt_ms");
    let empty = store
        .series(&other, UnixMillis(BASE), UnixMillis(BASE + HOUR))
        .unwrap();
    assert!(empty.points.is_empty());
}

#[test]
fn a_failing_batch_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let mut batch = ramp(10);
    batch.samples[5].value = f64::NAN;
    let err = store.write_batch(&batch).unwrap_err();
    assert!(matches!(err, StoreError::NotFinite { .. }), "{err}");
    let data = store
        .series(&key(), UnixMillis(BASE), UnixMillis(BASE + HOUR))
        .unwrap();
    assert!(data.points.is_empty());
    assert_eq!(store.last_sample_time().unwrap(), None);
}

#[test]
fn rollups_are_exact_incremental_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store.write_batch(&ramp(720)).unwrap(); // 2 hours, values 1..=720
    // At BASE + 2h + 1 min, 24 five-minute and 2 hourly buckets are complete.
    let now = UnixMillis(BASE + 2 * HOUR + MIN);
    assert_eq!(store.rollup(now).unwrap().buckets, 26);
    let two_days = UnixMillis(BASE + 48 * HOUR);
    let five = store.series(&key(), UnixMillis(BASE), two_days).unwrap();
    assert_eq!(five.resolution, Resolution::FiveMinutes);
    assert_eq!(five.points.len(), 24);
    // First bucket: values 1..=30, p95 rank ceil(28.5) = 29.
    let p = five.points[0];
    assert_eq!(
        (p.at, p.count, p.avg, p.max, p.p95),
        (UnixMillis(BASE), 30, 15.5, 30.0, 29.0)
    );
    let hour = store
        .series_at(&key(), UnixMillis(BASE), two_days, Resolution::Hour)
        .unwrap();
    // Second hour: values 361..=720, p95 rank 342 -> 702.
    let h = hour.points[1];
    assert_eq!((h.count, h.avg, h.max, h.p95), (360, 540.5, 720.0, 702.0));

    // Running again at the same time writes nothing and changes nothing.
    assert_eq!(store.rollup(now).unwrap().buckets, 0);
    let again = store.series(&key(), UnixMillis(BASE), two_days).unwrap();
    assert_eq!(again, five);

    // New samples: only the new complete buckets are computed.
    let later = Batch {
        samples: (0..30)
            .map(|i| Sample {
                key: key(),
                at: UnixMillis(BASE + 2 * HOUR + i * 10_000),
                value: 1.0,
            })
            .collect(),
        gaps: vec![],
    };
    store.write_batch(&later).unwrap();
    let now = UnixMillis(BASE + 2 * HOUR + 5 * MIN);
    assert_eq!(store.rollup(now).unwrap().buckets, 1);
}

#[test]
fn prune_applies_retention_but_keeps_what_is_not_rolled_up() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        raw_retention: Duration::from_secs(3_600),
        five_min_retention: Duration::from_secs(2 * 3_600),
        ..StoreConfig::default()
    };
    let mut store = Store::open(&dir.path().join("s.db"), config).unwrap();
    store.write_batch(&ramp(720)).unwrap();
    let now = UnixMillis(BASE + 2 * HOUR);
    // Nothing rolled up yet: raw samples stay whatever their age.
    assert_eq!(store.prune(now).unwrap().raw, 0);
    assert_eq!(store.rollup(now).unwrap().buckets, 24 + 2);
    let report = store.prune(now).unwrap();
    assert_eq!(report.raw, 360); // the first hour, rolled up before
    let raw = store
        .series_at(&key(), UnixMillis(BASE), now, Resolution::Raw)
        .unwrap();
    assert_eq!(raw.points.len(), 360);
    assert_eq!(raw.points[0].at, UnixMillis(BASE + HOUR));
    // Three hours later the 5-minute buckets of the first hour go too.
    let report = store.prune(UnixMillis(BASE + 3 * HOUR)).unwrap();
    assert_eq!(report.five_min, 12);
    assert_eq!(report.hour, 0);
}

#[test]
fn gaps_and_restart_gap_are_read_with_the_series() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let mut batch = ramp(6);
    batch.gaps.push(GapRecord {
        series: Some(key()),
        from: UnixMillis(BASE + 60_000),
        to: UnixMillis(BASE + 70_000),
        reason: "reboot".into(),
    });
    store.write_batch(&batch).unwrap();
    assert_eq!(
        store.last_sample_time().unwrap(),
        Some(UnixMillis(BASE + 50_000))
    );
    let restart = store
        .mark_restart(UnixMillis(BASE + 600_000))
        .unwrap()
        .unwrap();
    assert_eq!(
        (restart.from, restart.to),
        (UnixMillis(BASE + 50_000), UnixMillis(BASE + 600_000))
    );
    let data = store
        .series(&key(), UnixMillis(BASE), UnixMillis(BASE + HOUR))
        .unwrap();
    let reasons: Vec<_> = data
        .gaps
        .iter()
        .map(|g| (g.reason.as_str(), g.series.is_some()))
        .collect();
    assert_eq!(reasons, [("restart", false), ("reboot", true)]);
    // No sample yet after the restart: nothing to record again at the same time.
    assert!(
        store
            .mark_restart(UnixMillis(BASE + 50_000))
            .unwrap()
            .is_none()
    );
}

#[test]
fn topology_snapshot_round_trips_and_fills_the_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let topo: Topology = serde_json::from_str(
        r#"{"devices":[{"id":"r1","sys_name":"r1","sys_descr":null,"mgmt_addr":"10.0.0.1",
            "chassis_id":null,"vendor":null,"managed":true,"interfaces":[
            {"if_index":1,"name":"ge-0/0/1","descr":null,"alias":null,"speed_bps":1000000000,
             "mac":null,"oper_status":"up","admin_status":"up"}]}],"links":[]}"#,
    )
    .unwrap();
    assert!(store.latest_topology().unwrap().is_none());
    store.save_topology(UnixMillis(BASE), &topo).unwrap();
    let (taken, back) = store.latest_topology().unwrap().unwrap();
    assert_eq!((taken, back), (UnixMillis(BASE), topo));
    assert_eq!(
        store.interfaces().unwrap(),
        [(
            "r1".to_string(),
            nocmap::types::IfIndex(1),
            "ge-0/0/1".to_string()
        )]
    );
}

#[test]
fn many_series_with_a_hole_roll_up_and_read_per_series() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let keys: Vec<SeriesKey> = (0..7)
        .map(|i| SeriesKey::interface("r2", &format!("ge-0/0/{i}"), "out_bps"))
        .collect();
    // One poll every 10 s for an hour, a three-day hole, then another hour;
    // series i has value poll * 10 + i. Batches of one poll round each.
    let polls: Vec<i64> = (0..360).chain(26_280..26_640).collect();
    for chunk in polls.chunks(7) {
        let samples = chunk
            .iter()
            .flat_map(|&p| {
                keys.iter().enumerate().map(move |(i, k)| Sample {
                    key: k.clone(),
                    at: UnixMillis(BASE + p * 10_000),
                    value: (p * 10 + i as i64) as f64,
                })
            })
            .collect();
        store
            .write_batch(&Batch {
                samples,
                gaps: vec![],
            })
            .unwrap();
    }
    let second = BASE + 26_280 * 10_000;
    for (i, k) in keys.iter().enumerate() {
        let raw = store
            .series(k, UnixMillis(second), UnixMillis(second + HOUR))
            .unwrap();
        assert_eq!(raw.resolution, Resolution::Raw);
        let want: Vec<(i64, f64)> = (26_280..26_640)
            .map(|p| (BASE + p * 10_000, (p * 10 + i as i64) as f64))
            .collect();
        let got: Vec<(i64, f64)> = raw.points.iter().map(|p| (p.at.0, p.avg)).collect();
        assert_eq!(got, want, "series {i}");
    }
    // 2 x 12 five-minute and 2 x 1 hourly buckets per series.
    let now = UnixMillis(second + HOUR);
    assert_eq!(store.rollup(now).unwrap().buckets, 7 * 26);
    let hours = store
        .series_at(&keys[3], UnixMillis(BASE), now, Resolution::Hour)
        .unwrap();
    let summary: Vec<(i64, i64, f64)> = hours
        .points
        .iter()
        .map(|p| (p.at.0, p.count, p.max))
        .collect();
    assert_eq!(summary, [(BASE, 360, 3_593.0), (second, 360, 266_393.0)]);
    // The first hour's raw samples are past retention and rolled up.
    let report = store.prune(UnixMillis(second + HOUR)).unwrap();
    assert_eq!(report.raw, 7 * 360);
    let left = store
        .series_at(&keys[0], UnixMillis(BASE), now, Resolution::Raw)
        .unwrap();
    assert_eq!(left.points.len(), 360);
    assert_eq!(left.points[0].at, UnixMillis(second));
}

#[test]
fn a_long_range_reaches_up_to_now_before_the_rollups_do() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    // 25 minutes of samples on a new database: no rollup has run.
    store.write_batch(&ramp(150)).unwrap();
    // A 30-day range: hourly rollups.
    let until = UnixMillis(BASE + 10 * 24 * HOUR);
    let from = UnixMillis(BASE - 20 * 24 * HOUR);
    let fresh = store.series(&key(), from, until).unwrap();
    assert_eq!(fresh.resolution, Resolution::Hour);
    assert_eq!(fresh.points.len(), 150, "raw samples stand in");
    assert_eq!(fresh.finer_from, Some(from));

    // Rolled up at BASE + 22 min: four 5-minute buckets, no hour yet. An
    // hourly read: the 5-minute buckets, then raw samples after them.
    store.rollup(UnixMillis(BASE + 22 * MIN)).unwrap();
    let mixed = store.series(&key(), from, until).unwrap();
    assert_eq!(mixed.resolution, Resolution::Hour);
    let five: Vec<_> = mixed.points.iter().filter(|p| p.count > 1).collect();
    assert_eq!(five.len(), 4, "{:?}", mixed.points);
    assert_eq!(five[3].at, UnixMillis(BASE + 15 * MIN));
    let raw: Vec<_> = mixed.points.iter().filter(|p| p.count == 1).collect();
    assert_eq!(raw.len(), 150 - 4 * 30);
    assert_eq!(raw[0].at, UnixMillis(BASE + 20 * MIN));
    assert!(mixed.points.windows(2).all(|w| w[0].at < w[1].at));
    // The whole range is covered once: the sum of counts is every sample.
    assert_eq!(mixed.points.iter().map(|p| p.count).sum::<i64>(), 150);

    // Once the hour is rolled up, a read of it has no finer part.
    let rest = Batch {
        samples: ramp(400).samples.split_off(150),
        gaps: vec![],
    };
    store.write_batch(&rest).unwrap();
    store.rollup(UnixMillis(BASE + 2 * HOUR)).unwrap();
    let whole = store
        .series_at(
            &key(),
            UnixMillis(BASE),
            UnixMillis(BASE + HOUR),
            Resolution::Hour,
        )
        .unwrap();
    assert_eq!(whole.finer_from, None);
    assert_eq!(whole.points.len(), 1);
}
