//! Rollups (5-minute and 1-hour buckets of avg, max and exact p95) and
//! retention.
//!
//! The p95 is computed in Rust, not in SQL: SQLite has no percentile
//! aggregate in the default build, and the raw samples of one series and
//! bucket range are read in key order (series_id, t_ms) anyway. p95 is the
//! nearest-rank percentile: the smallest sample with at least 95 % of the
//! bucket's samples at or below it ([`p95_nearest_rank`]). Both resolutions
//! are computed from raw samples, so the hourly p95 is exact too.
//!
//! `rollup(now)` is incremental: a progress mark per resolution says up to
//! where buckets are done; only complete buckets (end <= now) are computed,
//! and rows are written with INSERT OR REPLACE, so running it again changes
//! nothing. Samples arriving for an already rolled-up bucket are not folded
//! in. `prune(now)` keeps raw samples not yet rolled up, whatever their age.
use super::Store;
use super::error::{SqlContext, StoreError};
use super::types::{Resolution, UnixMillis};
use rusqlite::{OptionalExtension, Transaction, params};

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
}

const ROLLUPS: [Resolution; 2] = [Resolution::FiveMinutes, Resolution::Hour];

/// The nearest-rank 95th percentile: sorted[ceil(0.95 n) - 1]. `None` for no
/// values. Sorts `values` in place.
pub fn p95_nearest_rank(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = (values.len() * 95).div_ceil(100);
    Some(values[rank.max(1) - 1])
}

impl Store {
    /// Computes every complete bucket not yet rolled up, up to `now`.
    pub fn rollup(&mut self, now: UnixMillis) -> Result<RollupReport, StoreError> {
        let tx = self.conn.transaction().sql("begin rollup")?;
        let series = series_ids(&tx)?;
        let mut report = RollupReport::default();
        for resolution in ROLLUPS {
            let width = resolution.bucket_ms();
            let end = now.0.div_euclid(width) * width;
            let start = match progress(&tx, width)? {
                Some(done) => done,
                // First run: from the bucket of the oldest sample.
                None => match oldest_sample(&tx, &series)? {
                    Some(t) => t.div_euclid(width) * width,
                    None => continue,
                },
            };
            if end <= start {
                continue;
            }
            for id in &series {
                report.buckets += rollup_series(&tx, *id, width, start, end)?;
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
        let tx = self.conn.transaction().sql("begin prune")?;
        // Raw samples not rolled up yet stay.
        let mut raw_cut = raw_cut;
        for resolution in ROLLUPS {
            raw_cut = raw_cut.min(progress(&tx, resolution.bucket_ms())?.unwrap_or(i64::MIN));
        }
        let mut report = PruneReport::default();
        for id in series_ids(&tx)? {
            report.raw += tx
                .prepare_cached("DELETE FROM samples WHERE series_id = ?1 AND t_ms < ?2")
                .sql("prepare raw prune")?
                .execute(params![id, raw_cut])
                .sql("prune raw samples")? as u64;
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
                "DELETE FROM topology_snapshots WHERE taken_ms < ?1",
                [hour_cut],
            )
            .sql("prune topology snapshots")? as u64;
        tx.commit().sql("commit prune")?;
        Ok(report)
    }
}

fn series_ids(tx: &Transaction) -> Result<Vec<i64>, StoreError> {
    let mut stmt = tx.prepare("SELECT id FROM series").sql("list series")?;
    let ids = stmt.query_map([], |r| r.get(0)).sql("list series")?;
    ids.collect::<Result<_, _>>().sql("list series")
}

/// The oldest raw sample time over `series` (one index probe per series).
fn oldest_sample(tx: &Transaction, series: &[i64]) -> Result<Option<i64>, StoreError> {
    let mut stmt = tx
        .prepare_cached("SELECT MIN(t_ms) FROM samples WHERE series_id = ?1")
        .sql("prepare oldest sample")?;
    let mut oldest: Option<i64> = None;
    for id in series {
        let t: Option<i64> = stmt
            .query_row([id], |r| r.get(0))
            .sql("read oldest sample")?;
        oldest = match (oldest, t) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    Ok(oldest)
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

/// Rolls up one series' samples in [start, end) into buckets of `width`;
/// returns the number of buckets written.
fn rollup_series(
    tx: &Transaction,
    id: i64,
    width: i64,
    start: i64,
    end: i64,
) -> Result<u64, StoreError> {
    let mut read = tx
        .prepare_cached(
            "SELECT t_ms, value FROM samples
             WHERE series_id = ?1 AND t_ms >= ?2 AND t_ms < ?3 ORDER BY t_ms",
        )
        .sql("prepare rollup read")?;
    let rows = read
        .query_map(params![id, start, end], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?))
        })
        .sql("read samples for rollup")?;
    let mut write = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO rollups
             (series_id, resolution_ms, bucket_ms, count, avg, max, p95)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .sql("prepare rollup write")?;
    let mut written = 0;
    let mut bucket: Option<i64> = None;
    let mut values: Vec<f64> = Vec::new();
    let mut flush = |bucket: i64, values: &mut Vec<f64>| -> Result<(), StoreError> {
        let count = values.len();
        let avg = values.iter().sum::<f64>() / count as f64;
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let p95 = p95_nearest_rank(values).unwrap_or(max);
        write
            .execute(params![id, width, bucket, count as i64, avg, max, p95])
            .sql("write rollup")?;
        values.clear();
        written += 1;
        Ok(())
    };
    for row in rows {
        let (t, value) = row.sql("read samples for rollup")?;
        let b = t.div_euclid(width) * width;
        if let Some(open) = bucket
            && open != b
        {
            flush(open, &mut values)?;
        }
        bucket = Some(b);
        values.push(value);
    }
    if let Some(open) = bucket {
        flush(open, &mut values)?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::p95_nearest_rank;

    #[test]
    fn p95_is_the_nearest_rank() {
        let mut v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(p95_nearest_rank(&mut v), Some(95.0));
        let mut v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(p95_nearest_rank(&mut v), Some(19.0));
        assert_eq!(p95_nearest_rank(&mut [7.0]), Some(7.0));
        assert_eq!(p95_nearest_rank(&mut [3.0, 1.0]), Some(3.0));
        assert_eq!(p95_nearest_rank(&mut []), None);
    }
}
