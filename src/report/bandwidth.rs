//! The bandwidth report: per interface and direction the peak rate and the
//! burstable-billing 95th percentile of 5-minute averages over the period,
//! and the top N interfaces by each. Pure.
//!
//! 5-minute averages: UTC-aligned 5-minute buckets whose start lies in the
//! period (the period's start is rounded up to a bucket boundary). A bucket
//! with raw samples is the mean of its raw samples (as the store's rollups
//! compute it); a bucket without raw samples (pruned) takes the 5-minute
//! rollup's average. Hourly rollups are never used: an hourly average is
//! not a 5-minute average. The peak is the largest raw sample, or the
//! rollup's maximum for buckets answered from rollups.
use super::window::Period;
use crate::types::UnixMillis;
use crate::util::stats::{billing_p95, max};
use serde::Serialize;
use std::collections::BTreeMap;

/// Width of a billing bucket.
pub const BUCKET_MS: i64 = 300_000;
/// The default number of interfaces in each top list.
pub const DEFAULT_TOP: usize = 10;

/// A raw rate sample (bits/s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatePoint {
    pub at_ms: UnixMillis,
    pub value: f64,
}

/// A 5-minute rollup bucket of a rate series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RollupBucket {
    pub start_ms: UnixMillis,
    pub avg: f64,
    pub max: f64,
}

/// One direction's stored data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DirectionInput {
    pub raw: Vec<RatePoint>,
    pub rollups: Vec<RollupBucket>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InterfaceInput {
    pub device: String,
    pub device_name: Option<String>,
    pub if_name: String,
    pub alias: Option<String>,
    pub speed_bps: Option<u64>,
    /// `in_bps`.
    pub inbound: DirectionInput,
    /// `out_bps`.
    pub outbound: DirectionInput,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct DirectionFigures {
    pub peak_bps: Option<f64>,
    /// Burstable-billing 95th percentile of the 5-minute averages.
    pub p95_bps: Option<f64>,
    /// 5-minute buckets computed from raw samples.
    pub buckets_raw: u64,
    /// 5-minute buckets taken from 5-minute rollups (raw data pruned).
    pub buckets_rollup: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InterfaceBandwidth {
    pub device: String,
    pub device_name: Option<String>,
    pub if_name: String,
    pub alias: Option<String>,
    pub speed_bps: Option<u64>,
    #[serde(rename = "in")]
    pub inbound: DirectionFigures,
    #[serde(rename = "out")]
    pub outbound: DirectionFigures,
    /// The larger direction's peak.
    pub peak_bps: Option<f64>,
    /// The billed figure: the larger direction's 95th percentile.
    pub billed_p95_bps: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BandwidthReport {
    /// The period asked for.
    pub requested: Period,
    /// The period covered: start rounded up to a 5-minute boundary.
    pub period: Period,
    pub generated_ms: UnixMillis,
    pub top_n: usize,
    /// 5-minute buckets in the covered period.
    pub buckets_in_period: u64,
    /// Which data the figures came from, in words.
    pub resolution: String,
    pub top_by_peak: Vec<InterfaceBandwidth>,
    pub top_by_p95: Vec<InterfaceBandwidth>,
    /// Every interface with data (the billing table), by device and name.
    pub interfaces: Vec<InterfaceBandwidth>,
    pub definitions: &'static [&'static str],
}

/// The covered period: `requested` with its start rounded up to a bucket
/// boundary (`None` when nothing is left).
pub fn aligned(requested: Period) -> Option<Period> {
    let since = requested.since_ms.0;
    let start = since
        .div_euclid(BUCKET_MS)
        .saturating_add(i64::from(since.rem_euclid(BUCKET_MS) != 0))
        .saturating_mul(BUCKET_MS);
    Period::new(UnixMillis(start), requested.until_ms)
}

/// The 5-minute averages of one direction over `period` (aligned), keyed by
/// bucket start, with how many came from raw samples and from rollups, and
/// the peak.
pub fn five_minute_averages(
    d: &DirectionInput,
    period: Period,
) -> (BTreeMap<i64, f64>, DirectionFigures) {
    let inside = |t: UnixMillis| t >= period.since_ms && t < period.until_ms;
    let mut sums: BTreeMap<i64, (f64, u64)> = BTreeMap::new();
    let mut peaks: Vec<f64> = Vec::new();
    for p in d
        .raw
        .iter()
        .filter(|p| inside(p.at_ms) && p.value.is_finite())
    {
        let e = sums
            .entry(p.at_ms.0.div_euclid(BUCKET_MS).saturating_mul(BUCKET_MS))
            .or_insert((0.0, 0));
        e.0 += p.value;
        e.1 += 1;
        peaks.push(p.value);
    }
    let mut avgs: BTreeMap<i64, f64> = sums
        .into_iter()
        .map(|(b, (s, n))| (b, s / n as f64))
        .collect();
    let mut figures = DirectionFigures {
        buckets_raw: avgs.len() as u64,
        ..DirectionFigures::default()
    };
    for r in &d.rollups {
        if !inside(r.start_ms) || r.start_ms.0.rem_euclid(BUCKET_MS) != 0 || !r.avg.is_finite() {
            continue;
        }
        if let std::collections::btree_map::Entry::Vacant(v) = avgs.entry(r.start_ms.0) {
            v.insert(r.avg);
            figures.buckets_rollup += 1;
            peaks.push(r.max);
        }
    }
    let values: Vec<f64> = avgs.values().copied().collect();
    figures.peak_bps = max(&peaks);
    figures.p95_bps = billing_p95(&values);
    (avgs, figures)
}

/// Builds the report over `requested` with top lists of `top_n`.
pub fn bandwidth(
    requested: Period,
    generated_ms: UnixMillis,
    top_n: usize,
    interfaces: &[InterfaceInput],
) -> BandwidthReport {
    let period = aligned(requested).unwrap_or(requested);
    let mut rows: Vec<InterfaceBandwidth> = interfaces
        .iter()
        .map(|i| {
            let (_, inbound) = five_minute_averages(&i.inbound, period);
            let (_, outbound) = five_minute_averages(&i.outbound, period);
            InterfaceBandwidth {
                device: i.device.clone(),
                device_name: i.device_name.clone(),
                if_name: i.if_name.clone(),
                alias: i.alias.clone(),
                speed_bps: i.speed_bps,
                peak_bps: larger(inbound.peak_bps, outbound.peak_bps),
                billed_p95_bps: larger(inbound.p95_bps, outbound.p95_bps),
                inbound,
                outbound,
            }
        })
        .filter(|r| r.peak_bps.is_some() || r.billed_p95_bps.is_some())
        .collect();
    rows.sort_by(|a, b| (&a.device, &a.if_name).cmp(&(&b.device, &b.if_name)));
    let top = |key: fn(&InterfaceBandwidth) -> Option<f64>| {
        let mut v: Vec<&InterfaceBandwidth> = rows.iter().filter(|r| key(r).is_some()).collect();
        // Highest first; ties by device and interface (rows are in that order
        // and the sort is stable).
        v.sort_by(|a, b| key(b).unwrap_or(0.0).total_cmp(&key(a).unwrap_or(0.0)));
        v.into_iter().take(top_n).cloned().collect::<Vec<_>>()
    };
    let top_by_peak = top(|r| r.peak_bps);
    let top_by_p95 = top(|r| r.billed_p95_bps);
    let raw: u64 = rows
        .iter()
        .map(|r| r.inbound.buckets_raw + r.outbound.buckets_raw)
        .sum();
    let rolled: u64 = rows
        .iter()
        .map(|r| r.inbound.buckets_rollup + r.outbound.buckets_rollup)
        .sum();
    BandwidthReport {
        requested,
        period,
        generated_ms,
        top_n,
        buckets_in_period: (period.len_ms().max(0) as u64).div_ceil(BUCKET_MS as u64),
        resolution: resolution_text(raw, rolled),
        top_by_peak,
        top_by_p95,
        interfaces: rows,
        definitions: super::BANDWIDTH_DEFINITIONS,
    }
}

fn larger(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn resolution_text(raw: u64, rolled: u64) -> String {
    match (raw, rolled) {
        (0, 0) => "no data in the period".to_string(),
        (_, 0) => format!("raw samples averaged into 5-minute buckets ({raw} buckets)"),
        (0, _) => format!("5-minute rollup averages ({rolled} buckets; raw samples pruned)"),
        _ => format!(
            "raw samples averaged into 5-minute buckets ({raw} buckets) and 5-minute rollup averages where raw samples were pruned ({rolled} buckets)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pt(at_ms: i64, value: f64) -> RatePoint {
        RatePoint {
            at_ms: UnixMillis(at_ms),
            value,
        }
    }

    fn iface(name: &str, inbound: DirectionInput, outbound: DirectionInput) -> InterfaceInput {
        InterfaceInput {
            device: "r1".into(),
            device_name: None,
            if_name: name.into(),
            alias: None,
            speed_bps: None,
            inbound,
            outbound,
        }
    }

    #[test]
    fn the_start_is_rounded_up_to_a_bucket() {
        let p = aligned(Period::new(UnixMillis(1), UnixMillis(900_000)).unwrap()).unwrap();
        assert_eq!(
            (p.since_ms, p.until_ms),
            (UnixMillis(300_000), UnixMillis(900_000))
        );
        let p = aligned(Period::new(UnixMillis(-300_000), UnixMillis(10)).unwrap()).unwrap();
        assert_eq!(p.since_ms, UnixMillis(-300_000));
        assert!(aligned(Period::new(UnixMillis(1), UnixMillis(300_000)).unwrap()).is_none());
    }

    #[test]
    fn raw_buckets_first_rollups_where_pruned() {
        let d = DirectionInput {
            raw: vec![
                pt(600_000, 10.0),
                pt(660_000, 30.0),
                pt(900_000, 5.0),
                pt(1_500_000, 99.0),
            ],
            rollups: vec![
                RollupBucket {
                    start_ms: UnixMillis(0),
                    avg: 7.0,
                    max: 70.0,
                },
                RollupBucket {
                    start_ms: UnixMillis(300_000),
                    avg: 8.0,
                    max: 9.0,
                },
                RollupBucket {
                    start_ms: UnixMillis(600_000),
                    avg: 1000.0,
                    max: 1000.0,
                },
            ],
        };
        let (avgs, f) = five_minute_averages(
            &d,
            Period::new(UnixMillis(0), UnixMillis(1_200_000)).unwrap(),
        );
        assert_eq!(
            avgs.into_iter().collect::<Vec<_>>(),
            vec![(0, 7.0), (300_000, 8.0), (600_000, 20.0), (900_000, 5.0)]
        );
        assert_eq!((f.buckets_raw, f.buckets_rollup), (2, 2));
        assert_eq!(f.peak_bps, Some(70.0));
        assert_eq!(f.p95_bps, Some(20.0));
    }

    #[test]
    fn top_lists_rank_by_the_larger_direction() {
        let dir = |v: f64| DirectionInput {
            raw: (0..20)
                .map(|i| pt(i * BUCKET_MS, if i == 0 { v * 10.0 } else { v }))
                .collect(),
            rollups: vec![],
        };
        let ifs = [
            iface("a", dir(1.0), dir(5.0)),
            iface("b", dir(3.0), dir(2.0)),
            iface("c", dir(4.0), DirectionInput::default()),
            iface("d", DirectionInput::default(), DirectionInput::default()),
        ];
        let r = bandwidth(
            Period::new(UnixMillis(0), UnixMillis(20 * BUCKET_MS)).unwrap(),
            UnixMillis(0),
            2,
            &ifs,
        );
        let names =
            |v: &[InterfaceBandwidth]| v.iter().map(|r| r.if_name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&r.interfaces), ["a", "b", "c"]);
        assert_eq!(names(&r.top_by_peak), ["a", "c"]);
        // 20 buckets: the top one (10 x) is discarded.
        assert_eq!(names(&r.top_by_p95), ["a", "c"]);
        assert_eq!(r.top_by_p95[0].billed_p95_bps, Some(5.0));
        assert_eq!(r.buckets_in_period, 20);
        assert!(r.resolution.starts_with("raw samples"));
    }

    proptest! {
        /// Buckets are the mean of their samples; the billed figure equals
        /// a naive "sort the 5-minute averages, drop the top 5 %" on them.
        #[test]
        fn billing_p95_of_raw_buckets(
            samples in proptest::collection::vec((0i64..(288 * BUCKET_MS), 0f64..1e9), 1..600),
        ) {
            let d = DirectionInput { raw: samples.iter().map(|&(t, v)| pt(t, v)).collect(), rollups: vec![] };
            let (avgs, f) = five_minute_averages(&d, Period::new(UnixMillis(0), UnixMillis(288 * BUCKET_MS)).unwrap());
            let mut by_bucket: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
            for (t, v) in &samples {
                by_bucket.entry(t / BUCKET_MS).or_default().push(*v);
            }
            let mut naive: Vec<f64> = by_bucket.values().map(|v| v.iter().sum::<f64>() / v.len() as f64).collect();
            prop_assert_eq!(avgs.len(), naive.len());
            naive.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let keep = naive.len() - naive.len() / 20;
            prop_assert_eq!(f.p95_bps, Some(naive[keep - 1]));
            let peak = samples.iter().map(|s| s.1).fold(f64::MIN, f64::max);
            prop_assert_eq!(f.peak_bps, Some(peak));
        }
    }
}
