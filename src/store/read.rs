//! Reading a series over a time range, from raw samples or a rollup chosen
//! by the length of the range. In that automatic choice the newest part of
//! a range that has not been rolled up yet (the last minutes of a 5-minute
//! read, the last hour of an hourly one, everything on a new database) is
//! read at the next finer resolution, so a long range always reaches up to
//! now. A read at a resolution the caller names returns only that one.
use super::Store;
use super::error::{SqlContext, StoreError};
use super::schema::raw_bucket;
use super::types::{GapRecord, Point, Resolution, SeriesData, SeriesKey};
use super::write::find_series;
use crate::types::UnixMillis;
use rusqlite::{OptionalExtension, params};
use std::time::Duration;

impl Store {
    /// The points of `key` with `from <= t < to` and the gaps overlapping that
    /// range. The resolution follows [`StoreConfig::resolution_for`]; an
    /// unknown series reads as empty.
    ///
    /// [`StoreConfig::resolution_for`]: super::StoreConfig::resolution_for
    pub fn series(
        &self,
        key: &SeriesKey,
        from: UnixMillis,
        to: UnixMillis,
    ) -> Result<SeriesData, StoreError> {
        let span = Duration::from_millis(to.0.saturating_sub(from.0).max(0) as u64);
        let resolution = self.config.resolution_for(span);
        self.read(key, from, to, resolution, true)
    }

    /// Like [`Store::series`] at a resolution the caller chooses, and only
    /// at that one (no finer points for what is not rolled up yet).
    pub fn series_at(
        &self,
        key: &SeriesKey,
        from: UnixMillis,
        to: UnixMillis,
        resolution: Resolution,
    ) -> Result<SeriesData, StoreError> {
        self.read(key, from, to, resolution, false)
    }

    fn read(
        &self,
        key: &SeriesKey,
        from: UnixMillis,
        to: UnixMillis,
        resolution: Resolution,
        fill: bool,
    ) -> Result<SeriesData, StoreError> {
        let Some(id) = find_series(&self.conn, key)? else {
            return Ok(SeriesData {
                resolution,
                points: vec![],
                finer_from: None,
                gaps: vec![],
            });
        };
        let (points, finer_from) = if fill {
            self.points(id, resolution, from, to)?
        } else {
            let points = match resolution {
                Resolution::Raw => self.raw_points(id, from, to)?,
                _ => self.rollup_points(id, resolution, from, to)?,
            };
            (points, None)
        };
        Ok(SeriesData {
            resolution,
            points,
            finer_from,
            gaps: self.gaps(id, key, from, to)?,
        })
    }

    /// Points of series `id` at `resolution`, and from where on the part
    /// not rolled up yet came from finer data (None: all at `resolution`).
    fn points(
        &self,
        id: i64,
        resolution: Resolution,
        from: UnixMillis,
        to: UnixMillis,
    ) -> Result<(Vec<Point>, Option<UnixMillis>), StoreError> {
        let finer = match resolution {
            Resolution::Raw => return Ok((self.raw_points(id, from, to)?, None)),
            Resolution::FiveMinutes => Resolution::Raw,
            Resolution::Hour => Resolution::FiveMinutes,
        };
        let done = self.rolled_up_until(id, resolution)?.unwrap_or(i64::MIN);
        let split = UnixMillis(done.clamp(from.0, to.0.max(from.0)));
        let mut points = self.rollup_points(id, resolution, from, split)?;
        if split >= to {
            return Ok((points, None));
        }
        let (tail, _) = self.points(id, finer, split, to)?;
        let finer_from = (!tail.is_empty()).then_some(split);
        points.extend(tail);
        Ok((points, finer_from))
    }

    /// Up to where (exclusive) the rollups of `resolution` are complete
    /// for series `id`: the rollup run's progress, or the end of the
    /// series' newest bucket if that is later (a database whose progress
    /// row is missing).
    fn rolled_up_until(&self, id: i64, resolution: Resolution) -> Result<Option<i64>, StoreError> {
        let width = resolution.bucket_ms();
        let progress: Option<i64> = self
            .conn
            .prepare_cached("SELECT done_until_ms FROM rollup_progress WHERE resolution_ms = ?1")
            .sql("prepare rollup progress read")?
            .query_row([width], |r| r.get(0))
            .optional()
            .sql("read rollup progress")?;
        let newest: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT max(bucket_ms) FROM rollups WHERE series_id = ?1 AND resolution_ms = ?2",
            )
            .sql("prepare newest rollup read")?
            .query_row(params![id, width], |r| r.get(0))
            .sql("read newest rollup")?;
        Ok(match (progress, newest.map(|b| b + width)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        })
    }

    /// Raw samples of series `id` in [from, to): one index seek per time
    /// bucket, over the buckets between the oldest and newest sample. The
    /// buckets are listed by a recursive CTE so that one statement does all
    /// seeks (measured faster than one statement run per bucket).
    fn raw_points(
        &self,
        id: i64,
        from: UnixMillis,
        to: UnixMillis,
    ) -> Result<Vec<Point>, StoreError> {
        if from >= to {
            return Ok(vec![]);
        }
        let Some((oldest, newest)) = self.raw_bucket_bounds()? else {
            return Ok(vec![]);
        };
        let first = raw_bucket(from.0).max(oldest);
        let last = raw_bucket(to.0 - 1).min(newest);
        if first > last {
            return Ok(vec![]);
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "WITH RECURSIVE buckets (b) AS (
                     SELECT ?1 UNION ALL SELECT b + 1 FROM buckets WHERE b < ?2)
                 SELECT t_ms, value FROM samples
                 WHERE bucket IN buckets AND series_id = ?3 AND t_ms >= ?4 AND t_ms < ?5
                 ORDER BY bucket, t_ms",
            )
            .sql("prepare raw read")?;
        let rows = stmt
            .query_map(params![first, last, id, from.0, to.0], |r| {
                let value: f64 = r.get(1)?;
                Ok(Point {
                    at: UnixMillis(r.get(0)?),
                    avg: value,
                    max: value,
                    p95: value,
                    count: 1,
                })
            })
            .sql("read raw samples")?;
        rows.collect::<Result<_, _>>().sql("read raw samples")
    }

    /// The oldest and newest raw-sample buckets; `None` without samples.
    fn raw_bucket_bounds(&self) -> Result<Option<(i64, i64)>, StoreError> {
        // Two subqueries: each is a single seek to one end of the key.
        let bounds: (Option<i64>, Option<i64>) = self
            .conn
            .prepare_cached(
                "SELECT (SELECT min(bucket) FROM samples), (SELECT max(bucket) FROM samples)",
            )
            .sql("prepare raw bounds")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .sql("read raw bounds")?;
        Ok(bounds.0.zip(bounds.1))
    }

    fn rollup_points(
        &self,
        id: i64,
        resolution: Resolution,
        from: UnixMillis,
        to: UnixMillis,
    ) -> Result<Vec<Point>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT bucket_ms, avg, max, p95, count FROM rollups
                 WHERE series_id = ?1 AND resolution_ms = ?2 AND bucket_ms >= ?3 AND bucket_ms < ?4
                 ORDER BY bucket_ms",
            )
            .sql("prepare rollup read")?;
        let rows = stmt
            .query_map(params![id, resolution.bucket_ms(), from.0, to.0], |r| {
                Ok(Point {
                    at: UnixMillis(r.get(0)?),
                    avg: r.get(1)?,
                    max: r.get(2)?,
                    p95: r.get(3)?,
                    count: r.get(4)?,
                })
            })
            .sql("read rollups")?;
        rows.collect::<Result<_, _>>().sql("read rollups")
    }

    fn gaps(
        &self,
        id: i64,
        key: &SeriesKey,
        from: UnixMillis,
        to: UnixMillis,
    ) -> Result<Vec<GapRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT series_id, from_ms, to_ms, reason FROM gaps
                 WHERE (series_id = ?1 OR (series_id IS NULL AND (device IS NULL OR device = ?4)))
                   AND to_ms > ?2 AND from_ms < ?3
                 ORDER BY from_ms",
            )
            .sql("prepare gap read")?;
        let rows = stmt
            .query_map(params![id, from.0, to.0, key.device], |r| {
                let series: Option<i64> = r.get(0)?;
                Ok(GapRecord {
                    series: series.map(|_| key.clone()),
                    from: UnixMillis(r.get(1)?),
                    to: UnixMillis(r.get(2)?),
                    reason: r.get(3)?,
                })
            })
            .sql("read gaps")?;
        rows.collect::<Result<_, _>>().sql("read gaps")
    }
}
