//! The reachability report: per device, availability, outages, loss and RTT
//! from its ICMP rounds; per link, availability and outages from its two end
//! devices. Pure: takes plain rounds, gaps and exclusion windows.
use super::outages::{Outage, outages};
use super::timeline::{Observation, Segment, Totals, combine, device_timeline, overlay_down};
use super::window::{ExclusionWindow, Period, SpanSet, windows_for};
use crate::types::UnixMillis;
use crate::util::stats::{max, nearest_rank};
use serde::Serialize;
use std::collections::HashMap;

/// A round's state holds for at most this many times the device's median
/// spacing between rounds; longer silences are unknown time.
pub const HOLD_FACTOR: i64 = 3;
/// The hold limit when a device has fewer than two raw rounds (three
/// default ICMP intervals).
pub const DEFAULT_HOLD_MS: i64 = 30_000;

/// One ICMP round, or a 5-minute rollup bucket standing for the rounds it
/// summarised where raw rounds have been pruned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Round {
    pub at_ms: UnixMillis,
    /// Lost echo requests in percent (a rollup: the bucket's average).
    pub loss_pct: f64,
    /// The round's median RTT (a rollup: the average of the medians).
    pub rtt_median_ms: Option<f64>,
    /// The round's largest RTT (a rollup: the bucket's maximum).
    pub rtt_max_ms: Option<f64>,
    /// Rounds this stands for (1 for a raw round).
    pub count: u32,
    /// `Some(width)` for a rollup bucket: its state holds for exactly the
    /// bucket; `None` for a raw round.
    pub bucket_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInput {
    pub id: String,
    pub name: Option<String>,
    pub rounds: Vec<Round>,
    /// Spans without data: store gaps of the device's series and
    /// store-wide gaps (monitor restarts).
    pub gaps: Vec<(UnixMillis, UnixMillis)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkEnd {
    pub device: String,
    pub device_name: Option<String>,
    pub if_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LinkInput {
    pub id: String,
    pub a: LinkEnd,
    pub b: LinkEnd,
    /// Stored interface states, one list per end that has them (`oper_up`
    /// samples: down when not up). An end's down interface takes the link
    /// down; no samples leave the link to its devices' states.
    pub interface_states: Vec<Vec<Observation>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceReachability {
    pub device: String,
    pub name: Option<String>,
    /// up / (up + down) in percent; `None` when nothing was known.
    pub availability_pct: Option<f64>,
    #[serde(flatten)]
    pub totals: Totals,
    pub outages: Vec<Outage>,
    /// Average loss of the counted rounds in percent.
    pub loss_pct: Option<f64>,
    pub rtt_p50_ms: Option<f64>,
    pub rtt_p95_ms: Option<f64>,
    pub rtt_max_ms: Option<f64>,
    /// Rounds counted for loss and RTT (inside the period, outside exclusions).
    pub rounds: u64,
    /// `raw`, `5m`, `raw+5m` or `none`: what the figures were computed from.
    pub resolution: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkReachability {
    pub link: String,
    pub a: LinkEnd,
    pub b: LinkEnd,
    pub availability_pct: Option<f64>,
    #[serde(flatten)]
    pub totals: Totals,
    pub outages: Vec<Outage>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReachabilityReport {
    pub period: Period,
    pub generated_ms: UnixMillis,
    pub exclusions: Vec<ExclusionWindow>,
    pub devices: Vec<DeviceReachability>,
    pub links: Vec<LinkReachability>,
    pub definitions: &'static [&'static str],
}

/// Builds the report. `exclusions` are the maintenance windows (each for
/// every device or one device); their time counts nowhere.
pub fn reachability(
    period: Period,
    generated_ms: UnixMillis,
    devices: &[DeviceInput],
    links: &[LinkInput],
    exclusions: &[ExclusionWindow],
) -> ReachabilityReport {
    let mut timelines: HashMap<&str, Vec<Segment>> = HashMap::new();
    let mut out_devices = Vec::with_capacity(devices.len());
    for d in devices {
        let excluded = windows_for(exclusions, &d.id, d.name.as_deref());
        let (report, timeline) = device(period, d, &excluded);
        timelines.insert(d.id.as_str(), timeline);
        out_devices.push(report);
    }
    let mut out_links = Vec::with_capacity(links.len());
    for l in links {
        let end = |e: &LinkEnd| {
            timelines
                .get(e.device.as_str())
                .cloned()
                .unwrap_or_else(|| {
                    // A device without rounds: unknown, except where excluded.
                    let ex = windows_for(exclusions, &e.device, e.device_name.as_deref());
                    device_timeline(period, &[], &SpanSet::default(), &ex)
                })
        };
        let mut t = combine(period, &end(&l.a), &end(&l.b));
        for obs in l.interface_states.iter().filter(|o| !o.is_empty()) {
            let none = SpanSet::default();
            t = overlay_down(period, &t, &device_timeline(period, obs, &none, &none));
        }
        let totals = Totals::of(&t);
        out_links.push(LinkReachability {
            link: l.id.clone(),
            a: l.a.clone(),
            b: l.b.clone(),
            availability_pct: totals.availability_pct(),
            totals,
            outages: outages(&t),
        });
    }
    ReachabilityReport {
        period,
        generated_ms,
        exclusions: exclusions.to_vec(),
        devices: out_devices,
        links: out_links,
        definitions: super::REACHABILITY_DEFINITIONS,
    }
}

/// The hold limit of a device's raw rounds: [`HOLD_FACTOR`] times the
/// median spacing between consecutive raw rounds.
pub fn hold_limit_ms(rounds: &[Round]) -> i64 {
    let mut at: Vec<UnixMillis> = rounds
        .iter()
        .filter(|r| r.bucket_ms.is_none())
        .map(|r| r.at_ms)
        .collect();
    at.sort_unstable();
    at.dedup();
    let mut spacing: Vec<i64> = at.windows(2).map(|w| w[1].since(w[0])).collect();
    if spacing.is_empty() {
        return DEFAULT_HOLD_MS;
    }
    let mid = (spacing.len() - 1) / 2;
    let (_, median, _) = spacing.select_nth_unstable(mid);
    median.saturating_mul(HOLD_FACTOR).max(1_000)
}

fn device(
    period: Period,
    d: &DeviceInput,
    excluded: &SpanSet,
) -> (DeviceReachability, Vec<Segment>) {
    let hold = hold_limit_ms(&d.rounds);
    let observations: Vec<Observation> = d
        .rounds
        .iter()
        .filter(|r| r.loss_pct.is_finite())
        .map(|r| Observation {
            at_ms: r.at_ms,
            down: r.loss_pct >= 100.0,
            holds_until_ms: UnixMillis(r.at_ms.0.saturating_add(r.bucket_ms.unwrap_or(hold))),
        })
        .collect();
    let gaps = SpanSet::from_spans(d.gaps.iter().copied());
    let timeline = device_timeline(period, &observations, &gaps, excluded);
    let totals = Totals::of(&timeline);
    let counted: Vec<&Round> = d
        .rounds
        .iter()
        .filter(|r| r.at_ms >= period.since_ms && r.at_ms < period.until_ms)
        .filter(|r| !excluded.contains(r.at_ms) && r.loss_pct.is_finite())
        .collect();
    let weight: u64 = counted.iter().map(|r| u64::from(r.count.max(1))).sum();
    let loss_pct = (weight > 0).then(|| {
        counted
            .iter()
            .map(|r| r.loss_pct * f64::from(r.count.max(1)))
            .sum::<f64>()
            / weight as f64
    });
    let medians: Vec<f64> = counted.iter().filter_map(|r| r.rtt_median_ms).collect();
    let maxima: Vec<f64> = counted.iter().filter_map(|r| r.rtt_max_ms).collect();
    let (raw, rolled) = (
        counted.iter().any(|r| r.bucket_ms.is_none()),
        counted.iter().any(|r| r.bucket_ms.is_some()),
    );
    let report = DeviceReachability {
        device: d.id.clone(),
        name: d.name.clone(),
        availability_pct: totals.availability_pct(),
        totals,
        outages: super::outages::outages(&timeline),
        loss_pct,
        rtt_p50_ms: nearest_rank(&medians, 50),
        rtt_p95_ms: nearest_rank(&medians, 95),
        rtt_max_ms: max(&maxima),
        rounds: weight,
        resolution: match (raw, rolled) {
            (true, false) => "raw",
            (false, true) => "5m",
            (true, true) => "raw+5m",
            (false, false) => "none",
        },
    };
    (report, timeline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::outages::Edge;
    use proptest::prelude::*;

    fn round(at_ms: i64, loss_pct: f64, rtt: Option<f64>) -> Round {
        Round {
            at_ms: UnixMillis(at_ms),
            loss_pct,
            rtt_median_ms: rtt,
            rtt_max_ms: rtt.map(|r| r * 2.0),
            count: 1,
            bucket_ms: None,
        }
    }

    fn input(rounds: Vec<Round>, gaps: Vec<(i64, i64)>) -> DeviceInput {
        DeviceInput {
            id: "r1".into(),
            name: Some("core-1".into()),
            rounds,
            gaps: SpanSet::from_ms(gaps).spans().to_vec(),
        }
    }

    #[test]
    fn availability_outages_loss_and_rtt() {
        // Rounds every 10 s from 0 to 590 s; down 100..150 s; a restart gap
        // 300..400 s without rounds; a maintenance window 500..550 s.
        let mut rounds = Vec::new();
        for i in 0..60 {
            let t = i * 10_000;
            if (300_000..400_000).contains(&t) {
                continue;
            }
            let down = (100_000..150_000).contains(&t);
            let loss = if down {
                100.0
            } else if i % 10 == 0 {
                20.0
            } else {
                0.0
            };
            rounds.push(round(t, loss, (!down).then_some(1.0 + i as f64)));
        }
        let ex = [ExclusionWindow {
            start_ms: UnixMillis(500_000),
            end_ms: UnixMillis(550_000),
            device: Some("core-1".into()),
        }];
        let period = Period::new(UnixMillis(0), UnixMillis(600_000)).unwrap();
        let r = reachability(
            period,
            UnixMillis(0),
            &[input(rounds, vec![(300_000, 400_000)])],
            &[],
            &ex,
        );
        let d = &r.devices[0];
        assert_eq!(d.totals.down_ms, 50_000);
        assert_eq!(d.totals.excluded_ms, 50_000);
        // 290..300 s is held by the round at 290 s; 300..400 is the gap.
        assert_eq!(d.totals.unknown_ms, 100_000);
        assert_eq!(d.totals.up_ms, 600_000 - 200_000);
        assert_eq!(d.availability_pct, Some(400.0 * 100.0 / 450.0));
        assert_eq!(d.outages.len(), 1);
        let o = d.outages[0];
        assert_eq!(
            (o.start_ms.0, o.end_ms.0, o.duration_ms),
            (100_000, 150_000, 50_000)
        );
        assert_eq!((o.start_edge, o.end_edge), (Edge::Observed, Edge::Observed));
        // Counted rounds: 60 - 10 (gap) - 5 (maintenance) = 45; 5 down,
        // and rounds 0, 20, 40 at 20 % (10 at 100 s is down, 30 in the
        // gap, 50 in maintenance).
        assert_eq!(d.rounds, 45);
        let loss = (5.0 * 100.0 + 3.0 * 20.0) / 45.0;
        assert!((d.loss_pct.unwrap() - loss).abs() < 1e-9);
        assert_eq!(d.rtt_max_ms, Some(2.0 * 60.0));
        assert_eq!(d.resolution, "raw");
    }

    #[test]
    fn rollup_buckets_hold_for_their_width() {
        let b = |at_ms, loss_pct| Round {
            at_ms,
            loss_pct,
            rtt_median_ms: None,
            rtt_max_ms: None,
            count: 30,
            bucket_ms: Some(300_000),
        };
        let rounds = vec![
            b(UnixMillis(0), 0.0),
            b(UnixMillis(300_000), 100.0),
            b(UnixMillis(900_000), 50.0),
        ];
        let period = Period::new(UnixMillis(0), UnixMillis(1_200_000)).unwrap();
        let r = reachability(period, UnixMillis(0), &[input(rounds, vec![])], &[], &[]);
        let d = &r.devices[0];
        assert_eq!(
            (d.totals.up_ms, d.totals.down_ms, d.totals.unknown_ms),
            (600_000, 300_000, 300_000)
        );
        assert_eq!(d.resolution, "5m");
        assert_eq!(d.rounds, 90);
        assert!((d.loss_pct.unwrap() - 50.0).abs() < 1e-9);
    }

    #[test]
    fn a_link_with_an_unprobed_end_is_unknown() {
        let rounds = (0..10).map(|i| round(i * 10_000, 0.0, Some(1.0))).collect();
        let period = Period::new(UnixMillis(0), UnixMillis(100_000)).unwrap();
        let end = |d: &str| LinkEnd {
            device: d.into(),
            device_name: None,
            if_name: Some("eth0".into()),
        };
        let links = [LinkInput {
            id: "l1".into(),
            a: end("r1"),
            b: end("nobody"),
            interface_states: vec![],
        }];
        let r = reachability(period, UnixMillis(0), &[input(rounds, vec![])], &links, &[]);
        assert_eq!(r.links[0].totals.unknown_ms, 100_000);
        assert_eq!(r.links[0].availability_pct, None);
    }

    #[test]
    fn a_down_interface_takes_the_link_down_while_both_devices_answer() {
        // Both devices answer every 10 s for 100 s; r1's eth0 is polled
        // every 20 s and reports down at 40 s and 60 s, up again at 80 s.
        let up = |_: i64| {
            (0..10)
                .map(|i| round(i * 10_000, 0.0, Some(1.0)))
                .collect::<Vec<_>>()
        };
        let r1 = input(up(0), vec![]);
        let mut r2 = input(up(0), vec![]);
        r2.id = "r2".into();
        let end = |d: &str| LinkEnd {
            device: d.into(),
            device_name: None,
            if_name: Some("eth0".into()),
        };
        let obs = |at_ms: i64, down: bool| Observation {
            at_ms: UnixMillis(at_ms),
            down,
            holds_until_ms: UnixMillis(at_ms + 60_000),
        };
        let states = vec![
            obs(0, false),
            obs(20_000, false),
            obs(40_000, true),
            obs(60_000, true),
            obs(80_000, false),
        ];
        let links = [LinkInput {
            id: "l1".into(),
            a: end(&r1.id),
            b: end("r2"),
            interface_states: vec![states, vec![]],
        }];
        let period = Period::new(UnixMillis(0), UnixMillis(100_000)).unwrap();
        let r = reachability(period, UnixMillis(0), &[r1, r2], &links, &[]);
        let l = &r.links[0];
        assert_eq!((l.totals.up_ms, l.totals.down_ms), (60_000, 40_000));
        assert_eq!(l.outages.len(), 1);
        assert_eq!(
            (l.outages[0].start_ms.0, l.outages[0].end_ms.0),
            (40_000, 80_000)
        );
        // The devices themselves were up all along.
        assert_eq!(r.devices[0].totals.down_ms, 0);
    }

    proptest! {
        /// The four totals always add up to the period, availability is a
        /// percentage, and excluded time is never counted as down.
        #[test]
        fn totals_cover_the_period(
            rounds in proptest::collection::vec((0i64..1_000_000, 0u8..=4), 0..80),
            gaps in proptest::collection::vec((0i64..1_000_000, 1i64..100_000), 0..3),
            ex in proptest::collection::vec((0i64..1_000_000, 1i64..100_000), 0..3),
        ) {
            let rounds: Vec<Round> = rounds.into_iter().map(|(t, l)| round(t, f64::from(l) * 25.0, Some(1.0))).collect();
            let gaps: Vec<(i64, i64)> = gaps.into_iter().map(|(a, d)| (a, a + d)).collect();
            let ex: Vec<ExclusionWindow> = ex.into_iter().map(|(a, d)| ExclusionWindow { start_ms: UnixMillis(a), end_ms: UnixMillis(a + d), device: None }).collect();
            let period = Period::new(UnixMillis(0), UnixMillis(1_000_000)).unwrap();
            let r = reachability(period, UnixMillis(0), &[input(rounds, gaps)], &[], &ex);
            let t = r.devices[0].totals;
            prop_assert_eq!(t.up_ms + t.down_ms + t.unknown_ms + t.excluded_ms, 1_000_000);
            let excluded: i64 = SpanSet::from_ms(ex.iter().map(|w| (w.start_ms.0.max(0), w.end_ms.0.min(1_000_000)))).spans().iter().map(|(a, b)| *b - *a).sum();
            prop_assert_eq!(t.excluded_ms, excluded);
            if let Some(a) = r.devices[0].availability_pct {
                prop_assert!((0.0..=100.0).contains(&a));
            }
            let down: i64 = r.devices[0].outages.iter().map(|o| o.duration_ms).sum();
            prop_assert_eq!(down, t.down_ms);
        }
    }
}
