//! How late the sites' samples reach the central's store, pure: for every
//! sample of a batch the central committed, the commit's wall time minus
//! the sample's own time (its poll, on the site's clock), counted per site
//! into a histogram of fixed buckets (`/metrics`'
//! `nocmap_site_delay_seconds`). Batches a site sent live and batches it
//! sent from its backlog (what a WAN cut or a restart held back, paced at
//! `backfill_per_s`) are counted apart, as [`Arrival`]: a cut of an hour
//! would otherwise put an hour into every quantile of the live figure. A
//! negative delay (the site's clock ahead of the central's) counts as 0;
//! any steady offset between the two clocks is inside the figure. A batch
//! JetStream delivers again (the central stopped between commit and ack)
//! is counted again.
//!
//! The map's delay is counted beside them (`kind="verdict"`): for each
//! device of a site's verdicts whose newest poll (its last ICMP round or
//! SNMP poll, whichever is later) is newer than the one the central last
//! took for it, the time it reached the central's live map minus that
//! poll's time. A verdict sent again unchanged (every few
//! seconds while nothing moves) is not counted again. No clock, no I/O:
//! the caller passes the commit or arrival time.
use crate::types::UnixMillis;
use std::collections::BTreeMap;

/// The buckets' upper bounds in seconds (`le`), `+Inf` after them: fine
/// below a second, where a live sample lands (the poller's store flush,
/// the publisher's tick, the central's commit), then up to a day for
/// backfill.
pub const BUCKETS_S: [f64; 16] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0,
    604800.0,
];

/// How a batch came: sent as soon as it was polled, or from the backlog;
/// or a device's verdict reaching the central's map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Arrival {
    Live,
    Backfill,
    Verdict,
}

impl Arrival {
    /// The `kind` label's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Arrival::Live => "live",
            Arrival::Backfill => "backfill",
            Arrival::Verdict => "verdict",
        }
    }

    pub fn of(backfill: bool) -> Arrival {
        if backfill {
            Arrival::Backfill
        } else {
            Arrival::Live
        }
    }
}

/// A Prometheus histogram over [`BUCKETS_S`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Per bucket (not cumulative), the last one `+Inf`.
    counts: [u64; BUCKETS_S.len() + 1],
    sum_s: f64,
}

impl Histogram {
    /// Counts one delay of `seconds` (a negative one as 0).
    pub fn observe(&mut self, seconds: f64) {
        let s = if seconds > 0.0 { seconds } else { 0.0 };
        let i = BUCKETS_S.partition_point(|b| *b < s);
        self.counts[i] += 1;
        self.sum_s += s;
    }

    /// Every bucket's upper bound with the count at or below it
    /// (cumulative), `+Inf` last with [`Histogram::count`].
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut total = 0;
        BUCKETS_S
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(self.counts)
            .map(|(le, n)| {
                total += n;
                (le, total)
            })
            .collect()
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn sum_s(&self) -> f64 {
        self.sum_s
    }
}

/// Every site's histograms, by site and arrival.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteDelays {
    histograms: BTreeMap<(String, Arrival), Histogram>,
    /// By sender (a site, or a poller group's member), each device's
    /// newest poll already counted (Unix ms, the site's clock).
    rounds: BTreeMap<String, BTreeMap<String, i64>>,
}

impl SiteDelays {
    /// Counts a batch of `site` committed at `committed`: one delay per
    /// sample time in `sample_times` (Unix ms on the site's clock). A
    /// site's first batch makes both of its histograms, so each kind has
    /// its series from then on, at 0 until it happens.
    pub fn observe_batch(
        &mut self,
        site: &str,
        arrival: Arrival,
        sample_times: impl IntoIterator<Item = i64>,
        committed: UnixMillis,
    ) {
        for a in [Arrival::Live, Arrival::Backfill] {
            self.histogram(site, a);
        }
        let h = self.histogram(site, arrival);
        for t in sample_times {
            h.observe((committed.0 - t) as f64 / 1_000.0);
        }
    }

    /// Counts the verdicts `sender` (of `site`) sent, taken into the map at
    /// `taken`: one delay per device whose newest poll (`(device, poll)`,
    /// Unix ms on the site's clock) is newer than the last one counted for
    /// it. Devices the sender no longer lists are forgotten.
    pub fn observe_verdicts<'a>(
        &mut self,
        site: &str,
        sender: &str,
        rounds: impl IntoIterator<Item = (&'a str, Option<i64>)>,
        taken: UnixMillis,
    ) {
        let before = self.rounds.remove(sender).unwrap_or_default();
        let mut now = BTreeMap::new();
        let h = self.histogram(site, Arrival::Verdict);
        for (device, round) in rounds {
            let Some(round) = round else { continue };
            if before.get(device).is_none_or(|b| round > *b) {
                h.observe((taken.0 - round) as f64 / 1_000.0);
            }
            let kept = before.get(device).map_or(round, |b| round.max(*b));
            now.insert(device.to_string(), kept);
        }
        self.rounds.insert(sender.to_string(), now);
    }

    fn histogram(&mut self, site: &str, arrival: Arrival) -> &mut Histogram {
        self.histograms
            .entry((site.to_string(), arrival))
            .or_default()
    }

    /// Every histogram, by site then arrival (live first).
    pub fn snapshot(&self) -> Vec<(String, Arrival, Histogram)> {
        self.histograms
            .iter()
            .map(|((site, a), h)| (site.clone(), *a, h.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delay_lands_in_the_first_bucket_at_or_above_it() {
        let mut h = Histogram::default();
        // On a bound counts in that bucket (le: less or equal).
        for s in [0.1, 0.3, 2.5, 1e9, -4.0] {
            h.observe(s);
        }
        let c = h.cumulative();
        assert_eq!(c.len(), BUCKETS_S.len() + 1);
        let at = |le: f64| c.iter().find(|(b, _)| *b == le).unwrap().1;
        // -4 s (the site's clock ahead) counts as 0.
        assert_eq!(at(0.05), 1);
        assert_eq!(at(0.1), 2);
        assert_eq!(at(0.25), 2);
        assert_eq!(at(0.5), 3);
        assert_eq!(at(2.5), 4);
        assert_eq!(at(604800.0), 4);
        assert_eq!(c.last().unwrap(), &(f64::INFINITY, 5));
        assert_eq!(h.count(), 5);
        assert_eq!(h.sum_s(), 0.1 + 0.3 + 2.5 + 1e9);
        // Cumulative counts never go down.
        assert!(c.windows(2).all(|w| w[0].1 <= w[1].1 && w[0].0 < w[1].0));
    }

    #[test]
    fn each_sample_of_a_batch_counts_apart_by_site_and_arrival() {
        let mut d = SiteDelays::default();
        let commit = UnixMillis(1_000_000);
        // Polled 0.4 s and 3 s before the commit.
        d.observe_batch("b1", Arrival::Live, [999_600, 997_000], commit);
        // Held back an hour by a cut.
        d.observe_batch("b1", Arrival::Backfill, [commit.0 - 3_600_000], commit);
        d.observe_batch("b2", Arrival::Live, [commit.0 - 40], commit);
        let s = d.snapshot();
        let keys: Vec<(&str, Arrival, u64)> = s
            .iter()
            .map(|(site, a, h)| (site.as_str(), *a, h.count()))
            .collect();
        assert_eq!(
            keys,
            [
                ("b1", Arrival::Live, 2),
                ("b1", Arrival::Backfill, 1),
                ("b2", Arrival::Live, 1),
                // Made with the site's first batch, at 0.
                ("b2", Arrival::Backfill, 0),
            ]
        );
        let live = &s[0].2;
        assert_eq!(live.sum_s(), 3.4);
        let le = |h: &Histogram, b: f64| h.cumulative().iter().find(|c| c.0 == b).unwrap().1;
        assert_eq!(le(live, 0.25), 0);
        assert_eq!(le(live, 0.5), 1);
        assert_eq!(le(live, 5.0), 2);
        // The backfilled hour stays out of the live figure.
        assert_eq!(le(live, 60.0), live.count());
        assert_eq!(le(&s[1].2, 900.0), 0);
        assert_eq!(le(&s[1].2, 3600.0), 1);
    }

    #[test]
    fn a_verdict_counts_once_per_new_icmp_round() {
        let mut d = SiteDelays::default();
        let at = |ms: i64| UnixMillis(1_000_000 + ms);
        // r1's round 1.5 s before it reached the map; r2 has had none.
        d.observe_verdicts(
            "b1",
            "b1",
            [("r1", Some(1_000_000)), ("r2", None)],
            at(1_500),
        );
        // Sent again unchanged 5 s later: nothing new to count.
        d.observe_verdicts(
            "b1",
            "b1",
            [("r1", Some(1_000_000)), ("r2", None)],
            at(6_500),
        );
        // r1's next round, and r2's first; an older round (a message read
        // out of order) is not counted.
        d.observe_verdicts(
            "b1",
            "b1",
            [("r1", Some(1_010_000)), ("r2", Some(1_009_000))],
            at(10_400),
        );
        d.observe_verdicts("b1", "b1", [("r1", Some(1_005_000))], at(11_000));
        // A member of a poller group keeps its own rounds.
        d.observe_verdicts("b1", "b1.m2", [("r1", Some(1_005_000))], at(11_000));
        let s = d.snapshot();
        assert_eq!(s.len(), 1, "only the verdict histogram: {s:?}");
        let (site, kind, h) = &s[0];
        assert_eq!((site.as_str(), *kind), ("b1", Arrival::Verdict));
        assert_eq!(kind.as_str(), "verdict");
        assert_eq!(h.count(), 4);
        assert!(
            (h.sum_s() - (1.5 + 0.4 + 1.4 + 6.0)).abs() < 1e-9,
            "{}",
            h.sum_s()
        );
        // r2 was forgotten when b1 stopped listing it: it counts again
        // when it comes back (a device moving between group members).
        d.observe_verdicts("b1", "b1", [("r2", Some(1_009_000))], at(12_000));
        assert_eq!(d.snapshot()[0].2.count(), 5);
    }
}
