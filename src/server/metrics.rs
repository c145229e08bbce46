//! The series nocmap exports, as plain values: metric families built from a
//! [`LiveView`]. `/metrics` renders them as Prometheus text
//! (`exposition`), remote write as protobuf (`remote_write::proto`), so both
//! always carry the same series. Pure: no I/O, no clock (the caller passes
//! the time); a missing value (a gap, an unknown status, a stale ICMP
//! verdict) is left out, never written as NaN.
use crate::counters::Metric;
use crate::live::{LiveView, Reachability, aged};
use crate::topology::DeviceId;
use crate::types::UnixMillis;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Gauge,
    Counter,
    Summary,
    Histogram,
}

impl MetricKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Gauge => "gauge",
            MetricKind::Counter => "counter",
            MetricKind::Summary => "summary",
            MetricKind::Histogram => "histogram",
        }
    }
}

/// One sample line: `name + suffix {labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSample {
    /// `""`, or `_sum` / `_count` for a summary, and `_bucket` for a
    /// histogram.
    pub suffix: &'static str,
    /// In the order written; names are fixed identifiers, values are data.
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

impl MetricSample {
    /// A sample without a suffix (any kind but a summary's `_sum`/`_count`).
    pub fn plain(labels: Vec<(&'static str, String)>, value: f64) -> MetricSample {
        MetricSample {
            suffix: "",
            labels,
            value,
        }
    }
}

/// A metric family: one HELP and one TYPE line, then its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: MetricKind,
    pub samples: Vec<MetricSample>,
}

/// Every family, in a fixed order; families with no sample are kept (their
/// HELP/TYPE lines are still valid) and non-finite values are dropped. All
/// come from the snapshot but the HTTP server's own TLS counters
/// (`tls::metric_families`) and the NATS connection's (`metrics_sites`).
pub fn collect(s: &LiveView<'_>, now_ms: UnixMillis) -> Vec<Family> {
    let mut out = Vec::new();
    interface_families(s, &mut out);
    super::metrics_counters::interface_counter_families(s, &mut out);
    device_families(s, now_ms, &mut out);
    super::metrics_vitals::vitals_families(s, &mut out);
    poller_families(s, &mut out);
    super::metrics_discovery::discovery_families(s, &mut out);
    super::tls::metric_families(&mut out);
    super::listener::metric_families(&mut out);
    super::metrics_sites::sites_families(&mut out);
    for f in &mut out {
        f.samples.retain(|m| m.value.is_finite());
    }
    out
}

pub(super) fn family(name: &'static str, help: &'static str, kind: MetricKind) -> Family {
    Family {
        name,
        help,
        kind,
        samples: Vec::new(),
    }
}

/// A family of one unlabelled sample.
pub(super) fn single(
    name: &'static str,
    help: &'static str,
    kind: MetricKind,
    value: f64,
) -> Family {
    Family {
        name,
        help,
        kind,
        samples: vec![MetricSample::plain(vec![], value)],
    }
}

/// Each device's sysName ("" without one), for the `sys_name` label.
pub(super) fn sys_names<'a>(s: &LiveView<'a>) -> BTreeMap<&'a DeviceId, &'a str> {
    s.topology
        .devices
        .iter()
        .map(|d| (&d.id, d.sys_name.as_deref().unwrap_or("")))
        .collect()
}

type IfGetter = fn(&crate::live::InterfaceHealth) -> Option<f64>;

const PCT: f64 = 100.0;
const BITS: f64 = 8.0;

fn interface_families(s: &LiveView<'_>, out: &mut Vec<Family>) {
    use MetricKind::Gauge;
    let names = sys_names(s);
    let specs: [(&str, &str, IfGetter); 12] = [
        // Base units (bytes), as Prometheus names them: × 8 gives the bits
        // per second these gauges gave before they were renamed.
        (
            "nocmap_interface_in_bytes_per_second",
            "Bytes per second received on the interface over the last poll interval.",
            |h| h.rate(Metric::InBitsPerSec).map(|v| v / BITS),
        ),
        (
            "nocmap_interface_out_bytes_per_second",
            "Bytes per second sent on the interface over the last poll interval.",
            |h| h.rate(Metric::OutBitsPerSec).map(|v| v / BITS),
        ),
        (
            "nocmap_interface_in_utilization_ratio",
            "Receive utilisation of the interface speed, 0 to 1.",
            |h| h.rate(Metric::InUtilisationPct).map(|v| v / PCT),
        ),
        (
            "nocmap_interface_out_utilization_ratio",
            "Transmit utilisation of the interface speed, 0 to 1.",
            |h| h.rate(Metric::OutUtilisationPct).map(|v| v / PCT),
        ),
        (
            "nocmap_interface_in_errors_per_second",
            "Inbound errors per second.",
            |h| h.rate(Metric::InErrorsPerSec),
        ),
        (
            "nocmap_interface_out_errors_per_second",
            "Outbound errors per second.",
            |h| h.rate(Metric::OutErrorsPerSec),
        ),
        (
            "nocmap_interface_in_discards_per_second",
            "Inbound discards per second.",
            |h| h.rate(Metric::InDiscardsPerSec),
        ),
        (
            "nocmap_interface_out_discards_per_second",
            "Outbound discards per second.",
            |h| h.rate(Metric::OutDiscardsPerSec),
        ),
        (
            "nocmap_interface_oper_up",
            "1 when ifOperStatus is up, 0 for any other reported status.",
            |h| h.oper_status.map(|o| f64::from(o.is_up())),
        ),
        (
            "nocmap_interface_speed_bytes",
            "Interface speed in bytes per second (ifHighSpeed or ifSpeed / 8).",
            |h| h.speed_bps.map(|v| v as f64 / BITS),
        ),
        (
            "nocmap_interface_rate_exact",
            "1 when the interface's rates are over a span known within 5 % (the agent's counter refreshes were seen), else 0.",
            |h| h.rates.map(|r| f64::from(r.exactness().is_exact())),
        ),
        (
            "nocmap_interface_rate_uncertainty_ratio",
            "The most the interface's rates can be off, as a ratio (0.02 = 2 %), where known.",
            |h| {
                h.rates
                    .and_then(|r| r.exactness().uncertainty_pct)
                    .map(|v| v / PCT)
            },
        ),
    ];
    for (name, help, get) in specs {
        let mut f = family(name, help, Gauge);
        for ((device, if_name), h) in s.interfaces {
            if let Some(value) = get(h) {
                f.samples.push(MetricSample::plain(
                    vec![
                        ("device", device.0.clone()),
                        ("sys_name", names.get(device).unwrap_or(&"").to_string()),
                        ("if_name", if_name.clone()),
                    ],
                    value,
                ));
            }
        }
        out.push(f);
    }
}

const MS: f64 = 1000.0;

fn device_families(s: &LiveView<'_>, now_ms: UnixMillis, out: &mut Vec<Family>) {
    use MetricKind::Gauge;
    let names = sys_names(s);
    let labels = |d: &DeviceId| {
        vec![
            ("device", d.0.clone()),
            ("sys_name", names.get(d).unwrap_or(&"").to_string()),
        ]
    };
    let mut up = family(
        "nocmap_device_up",
        "1 when the device answers ICMP, 0 when it does not; absent while unknown or stale.",
        Gauge,
    );
    let mut stale = family(
        "nocmap_device_reachability_stale",
        "1 when the device's last ICMP verdict is older than 3 of its own rounds (no result since), else 0; absent before the first.",
        Gauge,
    );
    let mut snmp = family(
        "nocmap_device_snmp_up",
        "1 when the last SNMP poll of the device succeeded, else 0.",
        Gauge,
    );
    let mut rtt = family(
        "nocmap_rtt_seconds",
        "ICMP round-trip time of the last probe round; stat is min, avg, median or max.",
        Gauge,
    );
    let mut jitter = family(
        "nocmap_rtt_jitter_seconds",
        "ICMP round-trip time jitter of the last probe round.",
        Gauge,
    );
    let mut loss = family(
        "nocmap_packet_loss_ratio",
        "Share of ICMP probes lost in the last probe round, 0 to 1.",
        Gauge,
    );
    let mut unusable = family(
        "nocmap_device_snmp_unusable_datagrams_total",
        "Datagrams from the device's address the SNMP transport could not use: late, a wrong request id, not SNMP.",
        MetricKind::Counter,
    );
    for (id, h) in s.devices {
        let verdict = aged(h, now_ms);
        let reach = match verdict.reachability {
            Reachability::Up => Some(1.0),
            Reachability::Down => Some(0.0),
            Reachability::Unknown => None,
        };
        // RTT and loss belong to the verdict's round: gone with it.
        let icmp = |v: Option<f64>| v.filter(|_| verdict.fresh());
        let push = |f: &mut Family, extra: Option<(&'static str, &str)>, v: Option<f64>| {
            if let Some(value) = v {
                let mut l = labels(id);
                l.extend(extra.map(|(k, v)| (k, v.to_string())));
                f.samples.push(MetricSample::plain(l, value));
            }
        };
        push(&mut up, None, reach);
        let known = verdict.stale || verdict.fresh();
        push(&mut stale, None, known.then_some(f64::from(verdict.stale)));
        push(&mut snmp, None, h.snmp_ok.map(f64::from));
        for (stat, v) in [
            ("min", h.rtt_min_ms),
            ("avg", h.rtt_avg_ms),
            ("median", h.rtt_median_ms),
            ("max", h.rtt_max_ms),
        ] {
            push(&mut rtt, Some(("stat", stat)), icmp(v).map(|ms| ms / MS));
        }
        push(&mut jitter, None, icmp(h.jitter_ms).map(|ms| ms / MS));
        push(&mut loss, None, icmp(h.loss_pct).map(|p| p / PCT));
        if h.snmp_unusable_datagrams > 0 {
            push(&mut unusable, None, Some(h.snmp_unusable_datagrams as f64));
        }
    }
    out.extend([up, stale, snmp, rtt, jitter, loss, unusable]);
}

fn poller_families(s: &LiveView<'_>, out: &mut Vec<Family>) {
    use MetricKind::{Counter, Gauge, Summary};
    let p = &s.poller;
    let mut duration = family(
        "nocmap_poll_duration_seconds",
        "Time spent in SNMP polls of one device.",
        Summary,
    );
    for (suffix, value) in [
        ("_sum", p.poll_seconds_sum),
        ("_count", p.snmp_polls as f64),
    ] {
        duration.samples.push(MetricSample {
            suffix,
            labels: vec![],
            value,
        });
    }
    out.push(duration);
    out.extend([
        single(
            "nocmap_poll_duration_seconds_max",
            "Longest SNMP poll of one device since start.",
            Gauge,
            p.poll_seconds_max,
        ),
        single(
            "nocmap_snmp_polls_total",
            "SNMP polls started.",
            Counter,
            p.snmp_polls as f64,
        ),
        single(
            "nocmap_snmp_poll_failures_total",
            "SNMP polls that failed.",
            Counter,
            p.snmp_failures as f64,
        ),
        single(
            "nocmap_snmp_timeouts_total",
            "SNMP requests that timed out.",
            Counter,
            p.snmp_timeouts as f64,
        ),
        single(
            "nocmap_snmp_datagrams_discarded_total",
            "SNMP datagrams received that matched no request: a wrong request id, another source address, late or duplicate answers.",
            Counter,
            p.snmp_datagrams_discarded as f64,
        ),
        single(
            "nocmap_snmp_datagrams_malformed_total",
            "SNMP datagrams received with no readable request id.",
            Counter,
            p.snmp_datagrams_malformed as f64,
        ),
        single(
            "nocmap_snmp_transport_renewals_total",
            "Shared SNMP sockets that stopped receiving and were replaced by a new one.",
            Counter,
            p.snmp_transport_renewals as f64,
        ),
        single(
            "nocmap_snmp_refresh_watch_requests_total",
            "GETs sent to watch agents' counter refreshes, on top of the counter polls.",
            Counter,
            p.snmp_refresh_watch_requests as f64,
        ),
        single(
            "nocmap_polls_skipped_total",
            "Polls skipped because the previous poll of the same target overran.",
            Counter,
            p.skipped_polls as f64,
        ),
        single(
            "nocmap_poll_lag_seconds_max",
            "Largest delay between a poll's deadline and its start.",
            Gauge,
            p.lag_seconds_max,
        ),
        single(
            "nocmap_icmp_rounds_total",
            "ICMP probe rounds completed.",
            Counter,
            p.icmp_rounds as f64,
        ),
        single(
            "nocmap_icmp_rounds_without_verdict_total",
            "ICMP rounds that measured nothing (the engine failed, or this host refused every probe); the devices' last verdicts age meanwhile.",
            Counter,
            p.icmp_rounds_without_verdict as f64,
        ),
        single(
            "nocmap_samples_written_total",
            "Samples written to the store.",
            Counter,
            p.samples_written as f64,
        ),
        single(
            "nocmap_store_errors_total",
            "Failed writes to the store.",
            Counter,
            p.store_errors as f64,
        ),
        single(
            "nocmap_store_up",
            "1 while store writes succeed, 0 while they fail and samples wait in memory.",
            Gauge,
            if p.store_ok { 1.0 } else { 0.0 },
        ),
        single(
            "nocmap_store_backlog_samples",
            "Samples waiting in memory for the store.",
            Gauge,
            p.store_backlog_samples as f64,
        ),
        single(
            "nocmap_store_dropped_samples_total",
            "Samples dropped because the in-memory backlog was full (recorded as a gap).",
            Counter,
            p.store_dropped_samples as f64,
        ),
        single(
            "nocmap_discoveries_total",
            "Topology discoveries completed.",
            Counter,
            p.discoveries as f64,
        ),
    ]);
    let mut last_error = family(
        "nocmap_store_last_error_info",
        "While store writes fail: the last error (a path and an OS reason), as a label.",
        Gauge,
    );
    if let (false, Some(e)) = (p.store_ok, &p.store_last_error) {
        last_error
            .samples
            .push(MetricSample::plain(vec![("error", e.clone())], 1.0));
    }
    out.push(last_error);
    icmp_engine_families(&p.icmp_engine, out);
}

/// The shared ICMP engine's own counters: what came back and what was
/// thrown away (spoofed, duplicate, late, foreign, malformed datagrams).
fn icmp_engine_families(c: &crate::icmp::EngineCounters, out: &mut Vec<Family>) {
    use MetricKind::{Counter, Gauge};
    let mut packets = family(
        "nocmap_icmp_packets_total",
        "ICMP packets the engine handled, by what they were: sent echo requests, replies matched to a probe, duplicate and late replies, replies that failed the probe check (spoofed), echo replies of other programs (foreign), unparsable datagrams (malformed), ICMP errors about our probes, probes that timed out, failed sends.",
        Counter,
    );
    for (kind, value) in [
        ("sent", c.sent),
        ("received", c.received),
        ("duplicate", c.duplicates),
        ("late", c.late),
        ("spoofed", c.spoofed),
        ("foreign", c.foreign),
        ("malformed", c.malformed),
        ("icmp_error", c.icmp_errors),
        ("timeout", c.timeouts),
        ("send_error", c.send_errors),
    ] {
        packets.samples.push(MetricSample::plain(
            vec![("kind", kind.to_string())],
            value as f64,
        ));
    }
    out.push(packets);
    out.extend([
        single(
            "nocmap_icmp_receive_errors_total",
            "Errors reading the ICMP sockets.",
            Counter,
            c.recv_errors as f64,
        ),
        single(
            "nocmap_icmp_receiver_restarts_total",
            "ICMP receive loops that stopped (a socket error or a panic) and were started again; rounds that overlapped a stop measured nothing.",
            Counter,
            c.receiver_restarts as f64,
        ),
        single(
            "nocmap_icmp_pending_probes",
            "ICMP probes waiting for an answer.",
            Gauge,
            c.pending as f64,
        ),
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::LiveSnapshot;

    fn last_error(s: &LiveView<'_>) -> Vec<MetricSample> {
        collect(s, UnixMillis(0))
            .into_iter()
            .find(|f| f.name == "nocmap_store_last_error_info")
            .map(|f| f.samples)
            .unwrap_or_default()
    }

    #[test]
    fn the_last_store_error_shows_while_the_store_is_down() {
        let mut s = LiveSnapshot::default();
        s.poller.store_last_error = Some("store /x.db: the file system is read-only".into());
        s.poller.store_ok = false;
        let down = last_error(&s.view());
        assert_eq!(down.len(), 1);
        assert_eq!(
            down[0].labels,
            [(
                "error",
                "store /x.db: the file system is read-only".to_string()
            )]
        );
        // Once writes succeed again the stale error is not shown.
        s.poller.store_ok = true;
        assert!(last_error(&s.view()).is_empty());
    }

    /// The HELP text of `nocmap_device_reachability_stale` says 3 rounds.
    const _: () = assert!(crate::live::STALE_AFTER_ROUNDS == 3);

    fn samples(s: &LiveView<'_>, now: UnixMillis, name: &str) -> Vec<f64> {
        collect(s, now)
            .into_iter()
            .find(|f| f.name == name)
            .map(|f| f.samples.iter().map(|m| m.value).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_stale_verdict_leaves_up_rtt_and_loss_out_and_says_stale() {
        use crate::live::DeviceHealth;
        let mut s = LiveSnapshot::default();
        s.devices.insert(
            DeviceId("a".into()),
            DeviceHealth {
                reachability: Reachability::Down,
                last_icmp_ms: Some(UnixMillis(1_000)),
                icmp_stale_after_ms: Some(6_000),
                rtt_avg_ms: Some(2.0),
                loss_pct: Some(100.0),
                ..Default::default()
            },
        );
        s.devices
            .insert(DeviceId("never".into()), DeviceHealth::default());
        let fresh = 7_000;
        assert_eq!(
            samples(&s.view(), UnixMillis(fresh), "nocmap_device_up"),
            [0.0]
        );
        assert_eq!(
            samples(
                &s.view(),
                UnixMillis(fresh),
                "nocmap_device_reachability_stale"
            ),
            [0.0]
        );
        assert_eq!(
            samples(&s.view(), UnixMillis(fresh), "nocmap_rtt_seconds"),
            [0.002]
        );
        assert_eq!(
            samples(&s.view(), UnixMillis(fresh), "nocmap_packet_loss_ratio"),
            [1.0]
        );
        let late = 7_001;
        assert!(samples(&s.view(), UnixMillis(late), "nocmap_device_up").is_empty());
        assert_eq!(
            samples(
                &s.view(),
                UnixMillis(late),
                "nocmap_device_reachability_stale"
            ),
            [1.0]
        );
        assert!(samples(&s.view(), UnixMillis(late), "nocmap_rtt_seconds").is_empty());
        assert!(samples(&s.view(), UnixMillis(late), "nocmap_packet_loss_ratio").is_empty());
    }
}
