//! The values the store takes and returns: series keys, samples, gaps,
//! batches, read results and the configuration.
use crate::types::UnixMillis;
use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use std::time::Duration;

/// A wall time is stored as its INTEGER milliseconds.
impl ToSql for UnixMillis {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0))
    }
}

impl FromSql for UnixMillis {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        i64::column_result(v).map(UnixMillis)
    }
}

/// One time series: a metric of an interface (device id, ifName) or of a
/// probe target (target, empty subject).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    pub device: String,
    pub subject: String,
    pub metric: String,
}

impl SeriesKey {
    pub fn interface(device: &str, if_name: &str, metric: &str) -> SeriesKey {
        SeriesKey {
            device: device.to_string(),
            subject: if_name.to_string(),
            metric: metric.to_string(),
        }
    }

    /// Latency/loss of a probe target (e.g. `("10.0.0.1", "rtt_ms")`).
    pub fn probe(target: &str, metric: &str) -> SeriesKey {
        SeriesKey::interface(target, "", metric)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub key: SeriesKey,
    pub at: UnixMillis,
    pub value: f64,
}

/// An explicit gap: no data for `series` (all series when `None`) from
/// `from` to `to`, and why (a `GapReason` id, or "restart").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapRecord {
    pub series: Option<SeriesKey>,
    pub from: UnixMillis,
    pub to: UnixMillis,
    pub reason: String,
}

/// What one transaction writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub samples: Vec<Sample>,
    pub gaps: Vec<GapRecord>,
}

/// The resolution a read was answered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resolution {
    Raw,
    FiveMinutes,
    Hour,
}

impl Resolution {
    /// Bucket width in ms (0 for raw).
    pub fn bucket_ms(self) -> i64 {
        match self {
            Resolution::Raw => 0,
            Resolution::FiveMinutes => 300_000,
            Resolution::Hour => 3_600_000,
        }
    }
}

/// One point of a read: a raw sample (avg = max = p95 = value, count 1) or
/// a rollup bucket starting at `at`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub at: UnixMillis,
    pub avg: f64,
    pub max: f64,
    pub p95: f64,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SeriesData {
    pub resolution: Resolution,
    pub points: Vec<Point>,
    /// From here on the points are finer than `resolution`: that part of
    /// the range was not rolled up yet (None: every point at `resolution`).
    pub finer_from: Option<UnixMillis>,
    /// Gaps of this series and store-wide gaps overlapping the range.
    pub gaps: Vec<GapRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// synchronous=NORMAL: survives process crashes; an OS crash may lose
    /// the last commits (never corrupts).
    Normal,
    /// synchronous=FULL: fsync at every commit.
    Full,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    pub raw_retention: Duration,
    pub five_min_retention: Duration,
    pub hour_retention: Duration,
    /// Reads spanning at most this come from raw samples.
    pub raw_max_span: Duration,
    /// Reads spanning at most this (and more than `raw_max_span`) come from
    /// 5-minute rollups; longer ones from 1-hour rollups.
    pub five_min_max_span: Duration,
    pub durability: Durability,
    /// A site poller's store: every sample written is also appended to the
    /// site journal until the central acknowledges it.
    pub site_journal: bool,
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        const DAY: u64 = 86_400;
        StoreConfig {
            raw_retention: Duration::from_secs(2 * DAY),
            five_min_retention: Duration::from_secs(30 * DAY),
            hour_retention: Duration::from_secs(365 * DAY),
            raw_max_span: Duration::from_secs(12 * 3_600),
            five_min_max_span: Duration::from_secs(14 * DAY),
            durability: Durability::Full,
            site_journal: false,
        }
    }
}

impl StoreConfig {
    /// The resolution a read of `span` is answered from.
    pub fn resolution_for(&self, span: Duration) -> Resolution {
        if span <= self.raw_max_span {
            Resolution::Raw
        } else if span <= self.five_min_max_span {
            Resolution::FiveMinutes
        } else {
            Resolution::Hour
        }
    }
}
