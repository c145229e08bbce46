//! `/api/interfaces/{device}/{if_name}/series`: the query parameters
//! (metric, since, until, resolution) checked into a [`SeriesQuery`], the
//! blocking store read, and the JSON shape of the answer. Parsing is pure;
//! [`read`] opens its own read connection and must run in `spawn_blocking`.
use crate::counters::Metric;
use crate::store::StoreError;
use crate::store::{GapRecord, Point, Resolution, SeriesData, SeriesKey, Store, StoreConfig};
use crate::types::UnixMillis;
use crate::util::time::parse_time;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// The parameters a series request may carry.
pub const PARAMS: [&str; 4] = ["metric", "since", "until", "resolution"];
/// The range read when `since` is not given.
const DEFAULT_SINCE: &str = "1h";

/// What a series belongs to: an interface's counter rates or a device's
/// ICMP probe figures. Each has its own metric names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesOf {
    Interface,
    Probe,
}

/// The per-device series the pollers store: ICMP figures (see
/// `poller::icmp_loop`) and the vitals' summary (`poller::vitals_loop`).
pub const PROBE_METRICS: [&str; 10] = [
    "rtt_min_ms",
    "rtt_avg_ms",
    "rtt_median_ms",
    "rtt_max_ms",
    "loss_pct",
    crate::vitals::summary::CPU_LOAD_METRIC,
    crate::vitals::summary::MEMORY_USED_METRIC,
    crate::vitals::summary::STORAGE_USED_METRIC,
    crate::vitals::summary::TEMPERATURE_METRIC,
    crate::vitals::summary::SENSOR_FAILED_METRIC,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesQuery {
    /// The store id of the metric.
    pub metric: &'static str,
    pub since_ms: UnixMillis,
    pub until_ms: UnixMillis,
    /// `None`: chosen from the length of the range.
    pub resolution: Option<Resolution>,
}

/// The metric a request names: a store id (`in_bps`, `in_errors_ps`, ...)
/// or its spelled-out alias (`in_errors_per_s`).
pub fn metric_by_name(name: &str) -> Option<Metric> {
    Metric::ALL.into_iter().find(|m| {
        let id = m.as_str();
        id == name
            || id
                .strip_suffix("_ps")
                .is_some_and(|stem| name.strip_suffix("_per_s") == Some(stem))
    })
}

/// Every accepted metric name, for error messages.
fn metric_names() -> String {
    let mut names: Vec<String> = Vec::new();
    for m in Metric::ALL {
        let id = m.as_str();
        names.push(id.to_string());
        if let Some(stem) = id.strip_suffix("_ps") {
            names.push(format!("{stem}_per_s"));
        }
    }
    names.join(", ")
}

/// Checks the query parameters; the error text is shown to the client.
pub fn parse_query(
    params: &HashMap<String, String>,
    now_ms: UnixMillis,
    of: SeriesOf,
) -> Result<SeriesQuery, String> {
    let mut unknown: Vec<&str> = params
        .keys()
        .map(String::as_str)
        .filter(|k| !PARAMS.contains(k))
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        return Err(format!(
            "unknown parameter(s) {}; expected: {}",
            unknown.join(", "),
            PARAMS.join(", ")
        ));
    }
    let names = || match of {
        SeriesOf::Interface => metric_names(),
        SeriesOf::Probe => PROBE_METRICS.join(", "),
    };
    let name = params
        .get("metric")
        .ok_or_else(|| format!("missing parameter `metric`; one of: {}", names()))?;
    let metric = match of {
        SeriesOf::Interface => metric_by_name(name).map(|m| m.as_str()),
        SeriesOf::Probe => PROBE_METRICS.iter().copied().find(|m| m == name),
    }
    .ok_or_else(|| format!("unknown metric `{name}`; one of: {}", names()))?;
    let time = |key: &str, default: &str| {
        let text = params.get(key).map(String::as_str).unwrap_or(default);
        parse_time(text, now_ms).map_err(|e| format!("{key}: {e}"))
    };
    let since_ms = time("since", DEFAULT_SINCE)?;
    let until_ms = time("until", "now")?;
    if since_ms >= until_ms {
        return Err("`since` must be before `until`".to_string());
    }
    let resolution = match params.get("resolution").map(String::as_str) {
        None | Some("auto") => None,
        Some("raw") => Some(Resolution::Raw),
        Some("5m") => Some(Resolution::FiveMinutes),
        Some("1h") => Some(Resolution::Hour),
        Some(other) => {
            return Err(format!(
                "unknown resolution `{other}`; one of: auto, raw, 5m, 1h"
            ));
        }
    };
    Ok(SeriesQuery {
        metric,
        since_ms,
        until_ms,
        resolution,
    })
}

/// Reads one series from the store file at `db` (blocking); a probe
/// series has the empty interface name.
pub fn read(
    db: &Path,
    device: &str,
    if_name: &str,
    q: &SeriesQuery,
) -> Result<SeriesData, StoreError> {
    let store = Store::open(db, StoreConfig::default())?;
    let key = SeriesKey::interface(device, if_name, q.metric);
    let (from, to) = (q.since_ms, q.until_ms);
    match q.resolution {
        None => store.series(&key, from, to),
        Some(r) => store.series_at(&key, from, to, r),
    }
}

#[derive(Debug, Serialize)]
pub struct SeriesView<'a> {
    pub device: &'a str,
    pub if_name: &'a str,
    /// The store id of the metric (`in_errors_ps` for `in_errors_per_s`).
    pub metric: &'static str,
    /// `raw`, `5m` or `1h`.
    pub resolution: &'static str,
    /// From this time on the points are finer than `resolution` (that part
    /// was not rolled up yet); absent when all are at `resolution`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finer_from_ms: Option<UnixMillis>,
    pub since_ms: UnixMillis,
    pub until_ms: UnixMillis,
    pub points: Vec<PointView>,
    pub gaps: Vec<GapView>,
}

/// A raw sample (avg = max = p95, count 1) or a rollup bucket starting at `t`.
#[derive(Debug, Serialize)]
pub struct PointView {
    pub t: UnixMillis,
    pub avg: f64,
    pub max: f64,
    pub p95: f64,
    pub count: i64,
}

#[derive(Debug, Serialize)]
pub struct GapView {
    pub from_ms: UnixMillis,
    pub to_ms: UnixMillis,
    pub reason: String,
    /// `series` for a gap of this series, `all` for a store-wide one
    /// (the monitor was not running).
    pub scope: &'static str,
}

pub fn view<'a>(
    device: &'a str,
    if_name: &'a str,
    q: &SeriesQuery,
    data: SeriesData,
) -> SeriesView<'a> {
    SeriesView {
        device,
        if_name,
        metric: q.metric,
        resolution: resolution_name(data.resolution),
        finer_from_ms: data.finer_from,
        since_ms: q.since_ms,
        until_ms: q.until_ms,
        points: data.points.iter().map(point).collect(),
        gaps: data.gaps.into_iter().map(gap).collect(),
    }
}

fn resolution_name(r: Resolution) -> &'static str {
    match r {
        Resolution::Raw => "raw",
        Resolution::FiveMinutes => "5m",
        Resolution::Hour => "1h",
    }
}

fn point(p: &Point) -> PointView {
    PointView {
        t: p.at,
        avg: p.avg,
        max: p.max,
        p95: p.p95,
        count: p.count,
    }
}

fn gap(g: GapRecord) -> GapView {
    GapView {
        from_ms: g.from,
        to_ms: g.to,
        scope: if g.series.is_some() { "series" } else { "all" },
        reason: g.reason,
    }
}

/// Decodes `%XX` escapes of one path segment (so an ifName like `Gi0/1`
/// travels as `Gi0%2F1`); `None` for a bad escape or invalid UTF-8.
pub fn percent_decode(segment: &str) -> Option<String> {
    let b = segment.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Result<SeriesQuery, String> {
        let m = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse_query(&m, UnixMillis(10_000_000), SeriesOf::Interface)
    }

    #[test]
    fn metric_names_map_to_store_ids() {
        assert_eq!(metric_by_name("in_bps"), Some(Metric::InBitsPerSec));
        assert_eq!(
            metric_by_name("in_errors_per_s"),
            Some(Metric::InErrorsPerSec)
        );
        assert_eq!(
            metric_by_name("out_discards_ps"),
            Some(Metric::OutDiscardsPerSec)
        );
        assert_eq!(
            metric_by_name("in_ucast_pps"),
            Some(Metric::InUcastPktsPerSec)
        );
        assert_eq!(metric_by_name("in_ucast_per_s"), None);
        assert_eq!(metric_by_name("bps"), None);
    }

    #[test]
    fn query_defaults_and_errors() {
        let ok = q(&[("metric", "out_util_pct")]).unwrap();
        assert_eq!(
            (ok.since_ms.0, ok.until_ms.0, ok.resolution),
            (10_000_000 - 3_600_000, 10_000_000, None)
        );
        let ok = q(&[("metric", "in_bps"), ("since", "2m"), ("resolution", "5m")]).unwrap();
        assert_eq!(ok.since_ms, UnixMillis(10_000_000 - 120_000));
        assert_eq!(ok.resolution, Some(Resolution::FiveMinutes));
        assert!(q(&[]).unwrap_err().contains("missing parameter `metric`"));
        assert!(
            q(&[("metric", "x")])
                .unwrap_err()
                .contains("unknown metric `x`")
        );
        assert!(
            q(&[("metric", "in_bps"), ("since", "yesterday")])
                .unwrap_err()
                .starts_with("since: ")
        );
        assert!(
            q(&[("metric", "in_bps"), ("since", "1m"), ("until", "2m")])
                .unwrap_err()
                .contains("before")
        );
        assert!(
            q(&[("metric", "in_bps"), ("resolution", "1d")])
                .unwrap_err()
                .contains("resolution")
        );
        assert!(
            q(&[("metric", "in_bps"), ("token", "x")])
                .unwrap_err()
                .contains("unknown parameter(s) token")
        );
    }

    #[test]
    fn probe_metrics_are_their_own_names() {
        let m = |name: &str| {
            let p = [("metric".to_string(), name.to_string())]
                .into_iter()
                .collect();
            parse_query(&p, UnixMillis(10_000_000), SeriesOf::Probe)
        };
        assert_eq!(m("rtt_avg_ms").unwrap().metric, "rtt_avg_ms");
        assert_eq!(m("loss_pct").unwrap().metric, "loss_pct");
        let e = m("in_bps").unwrap_err();
        assert!(
            e.contains("unknown metric `in_bps`") && e.contains("rtt_max_ms"),
            "{e}"
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("Gi0%2F1").as_deref(), Some("Gi0/1"));
        assert_eq!(percent_decode("a%20b%c3%a9").as_deref(), Some("a bé"));
        assert_eq!(percent_decode("%2"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%+1"), None);
        assert_eq!(percent_decode("%ff"), None);
        assert_eq!(percent_decode("%é1"), None);
    }
}
