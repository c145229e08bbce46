//! Rollups (5-minute and 1-hour buckets of avg, max and exact p95) and
//! retention.
//!
//! The p95 is computed in Rust, not in SQL: SQLite has no percentile
//! aggregate in the default build. Raw samples are clustered by time, so one
//! rollup bucket is read for all series at once (a contiguous key range) and
//! split by series in memory; each series' values arrive in time order. p95 is the
//! nearest-rank percentile: the smallest sample with at least 95 % of the
//! bucket's samples at or below it (`util::stats::nearest_rank`). Both resolutions
//! are computed from raw samples, so the hourly p95 is exact too.
//!
//! `rollup(now)` is incremental: a progress mark per resolution says up to
//! where buckets are done; only complete buckets (end <= now) are computed,
//! and rows are written with INSERT OR REPLACE, so running it again changes
//! nothing. Samples arriving for an already rolled-up bucket are not folded
//! in. `prune(now)` keeps raw samples not yet rolled up, whatever their age.
use super::Store;
use super::error::{SqlContext, StoreError};
use super::schema::{RAW_BUCKET_MS, raw_bucket};
use super::types::Resolution;
use crate::types::UnixMillis;
use crate::util::stats::nearest_rank;
use rusqlite::{OptionalExtension, Transaction, params};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RollupReport {
    /// Buckets written, both resolutions.
    pub buckets: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PruneReport {
    pub raw: u64,
    pub five_min: u64,
    pub hour: u64,
    pub gaps: u64,
    pub snapshots: u64,
    /// Events (traps) older than the 1-hour retention.
    pub events: u64,
}

const ROLLUPS: [Resolution; 2] = [Resolution::FiveMinutes, Resolution::Hour];

impl Store {
    /// Computes every complete bucket not yet rolled up, up to `now`.
    pub fn rollup(&mut self, now: UnixMillis) -> Result<RollupReport, StoreError> {
        // IMMEDIATE, as a batch write: a deferred transaction that reads
        // and then writes fails at once ("database is locked", no busy
        // wait) when another connection — a site poller's publisher, the
        // trap or syslog writer — committed in between.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .sql("begin rollup")?;
        let mut report = RollupReport::default();
        for resolution in ROLLUPS {
            let width = resolution.bucket_ms();
            let end = now.0.div_euclid(width) * width;
            let start = match progress(&tx, width)? {
                Some(done) => done,
                // First run: from the bucket of the oldest sample.
                None => match oldest_sample(&tx)? {
                    Some(t) => t.div_euclid(width) * width,
                    None => continue,
                },
            };
            if end <= start {
                continue;
            }
            let mut bucket = start;
            while let Some(next) = next_sample_from(&tx, bucket, end)? {
                bucket = bucket.max(next.div_euclid(width) * width);
                report.buckets += rollup_bucket(&tx, width, bucket)?;
                bucket += width;
            }
            tx.execute(
                "INSERT OR REPLACE INTO rollup_progress (resolution_ms, done_until_ms) VALUES (?1, ?2)",
                params![width, end],
            )
            .sql("update rollup progress")?;
        }
        tx.commit().sql("commit rollup")?;
        Ok(report)
    }

    /// Deletes what is older than the configured retentions at `now`.
    pub fn prune(&mut self, now: UnixMillis) -> Result<PruneReport, StoreError> {
        let c = &self.config;
        let (raw_cut, five_cut, hour_cut) = (
            now.minus(c.raw_retention).0,
            now.minus(c.five_min_retention).0,
            now.minus(c.hour_retention).0,
        );
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .sql("begin prune")?;
        // Raw samples not rolled up yet stay.
        let mut raw_cut = raw_cut;
        for resolution in ROLLUPS {
            raw_cut = raw_cut.min(progress(&tx, resolution.bucket_ms())?.unwrap_or(i64::MIN));
        }
        let mut report = PruneReport {
            raw: prune_raw(&tx, raw_cut)?,
            ..PruneReport::default()
        };
        for id in series_ids(&tx)? {
            let prune_rollup = |width: i64, cut: i64| {
                tx.prepare_cached(
                    "DELETE FROM rollups WHERE series_id = ?1 AND resolution_ms = ?2 AND bucket_ms < ?3",
                )
                .sql("prepare rollup prune")?
                .execute(params![id, width, cut])
                .sql("prune rollups")
                .map(|n| n as u64)
            };
            report.five_min += prune_rollup(Resolution::FiveMinutes.bucket_ms(), five_cut)?;
            report.hour += prune_rollup(Resolution::Hour.bucket_ms(), hour_cut)?;
        }
        report.gaps = tx
            .execute("DELETE FROM gaps WHERE to_ms < ?1", [hour_cut])
            .sql("prune gaps")? as u64;
        report.snapshots = tx
            .execute(
                // The map's baseline stays whatever its age.
                "DELETE FROM topology_snapshots WHERE taken_ms < ?1 AND id IS NOT
                 (SELECT value FROM store_meta WHERE key = ?2)",
                params![hour_cut, super::baseline::BASELINE_KEY],
            )
            .sql("prune topology snapshots")? as u64;
        report.events = tx
            .execute("DELETE FROM events WHERE at_ms < ?1", [hour_cut])
            .sql("prune events")? as u64;
        tx.commit().sql("commit prune")?;
        Ok(report)
    }
}

fn series_ids(tx: &Transaction) -> Result<Vec<i64>, StoreError> {
    let mut stmt = tx.prepare("SELECT id FROM series").sql("list series")?;
    let ids = stmt.query_map([], |r| r.get(0)).sql("list series")?;
    ids.collect::<Result<_, _>>().sql("list series")
}

/// The time of the oldest raw sample.
fn oldest_sample(tx: &Transaction) -> Result<Option<i64>, StoreError> {
    tx.query_row(
        "SELECT min(t_ms) FROM samples WHERE bucket = (SELECT min(bucket) FROM samples)",
        [],
        |r| r.get(0),
    )
    .sql("read oldest sample")
}

/// The start of the first raw-sample bucket at or after `from` that holds a
/// sample, if it is before `end`: lets rollups skip stretches without
/// samples. `from` is aligned to a raw bucket (every rollup width is a
/// multiple of [`RAW_BUCKET_MS`]).
fn next_sample_from(tx: &Transaction, from: i64, end: i64) -> Result<Option<i64>, StoreError> {
    let bucket: Option<i64> = tx
        .prepare_cached("SELECT min(bucket) FROM samples WHERE bucket >= ?1")
        .sql("prepare next sample")?
        .query_row([raw_bucket(from)], |r| r.get(0))
        .sql("read next sample")?;
    Ok(bucket
        .map(|b| b.saturating_mul(RAW_BUCKET_MS))
        .filter(|t| *t < end))
}

/// Deletes raw samples older than `cut`; returns how many.
fn prune_raw(tx: &Transaction, cut: i64) -> Result<u64, StoreError> {
    let whole = tx
        .execute("DELETE FROM samples WHERE bucket < ?1", [raw_bucket(cut)])
        .sql("prune raw samples")?;
    let part = tx
        .execute(
            "DELETE FROM samples WHERE bucket = ?1 AND t_ms < ?2",
            params![raw_bucket(cut), cut],
        )
        .sql("prune raw samples")?;
    Ok((whole + part) as u64)
}

fn progress(tx: &Transaction, width: i64) -> Result<Option<i64>, StoreError> {
    tx.query_row(
        "SELECT done_until_ms FROM rollup_progress WHERE resolution_ms = ?1",
        [width],
        |r| r.get(0),
    )
    .optional()
    .sql("read rollup progress")
}

/// Rolls up the samples of all series in [start, start + width) into one
/// bucket per series; returns the number of buckets written.
fn rollup_bucket(tx: &Transaction, width: i64, start: i64) -> Result<u64, StoreError> {
    let end = start + width;
    let mut read = tx
        .prepare_cached(
            "SELECT series_id, value FROM samples
             WHERE bucket >= ?1 AND bucket <= ?2 AND t_ms >= ?3 AND t_ms < ?4",
        )
        .sql("prepare rollup read")?;
    let rows = read
        .query_map(
            params![raw_bucket(start), raw_bucket(end - 1), start, end],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?)),
        )
        .sql("read samples for rollup")?;
    // Keyed by series; within a series, rows come in time order.
    let mut by_series: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for row in rows {
        let (id, value) = row.sql("read samples for rollup")?;
        by_series.entry(id).or_default().push(value);
    }
    let mut write = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO rollups
             (series_id, resolution_ms, bucket_ms, count, avg, max, p95)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .sql("prepare rollup write")?;
    for (id, values) in &by_series {
        let count = values.len();
        let avg = values.iter().sum::<f64>() / count as f64;
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let p95 = nearest_rank(values, 95).unwrap_or(max);
        write
            .execute(params![id, width, start, count as i64, avg, max, p95])
            .sql("write rollup")?;
    }
    Ok(by_series.len() as u64)
}

#[cfg(test)]
mod busy_tests {
    use crate::store::{Batch, Sample, SeriesKey, Store, StoreConfig};
    use crate::types::UnixMillis;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Rollup and prune on one connection while another writes batches
    /// all the time (a site poller's publisher deletes its journal the
    /// same way): every run succeeds. Deferred, they failed with
    /// "database is locked" whenever the other committed between their
    /// first read and first write.
    #[test]
    fn maintenance_beside_a_busy_writer_never_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let key = |i: usize| SeriesKey::interface("r1", &format!("eth{}", i % 8), "in_bps");
        let mut a = Store::open(&path, StoreConfig::default()).unwrap();
        let hour = 3_600_000;
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (path, stop) = (path.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut b = Store::open(&path, StoreConfig::default()).unwrap();
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let samples = (0..20)
                        .map(|k| Sample {
                            key: key(i + k),
                            at: UnixMillis(((i * 20 + k) as i64) * 1_000),
                            value: 1.0,
                        })
                        .collect();
                    b.write_batch(&Batch {
                        samples,
                        gaps: vec![],
                    })
                    .unwrap();
                    i += 1;
                    // A poller's writer commits about once a second.
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                i
            })
        };
        let mut failures = Vec::new();
        for k in 1..=100 {
            let now = UnixMillis(k * hour / 20);
            if let Err(e) = a.rollup(now).and_then(|_| a.prune(now).map(|_| ())) {
                failures.push(e.to_string());
            }
            // The other writer's turn (its busy wait backs off).
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        stop.store(true, Ordering::Relaxed);
        let batches = writer.join().unwrap();
        assert!(batches > 10, "the other writer wrote {batches} batches");
        assert!(
            failures.is_empty(),
            "{} of 100 failed: {:?}",
            failures.len(),
            failures.first()
        );
    }
}
