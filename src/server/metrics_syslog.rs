//! The syslog receiver's counters as `/metrics` families (present only
//! when `[syslog]` is configured), and the event rules' queue drops
//! (present only when a `trap` or `syslog` rule is). Pure: from counts.
use super::metrics::{Family, MetricKind, MetricSample};
use crate::syslog::SyslogStatsSnapshot;

pub fn families(s: &SyslogStatsSnapshot) -> Vec<Family> {
    let labelled = |label: &'static str, rows: Vec<(&'static str, u64)>| {
        rows.into_iter()
            .map(|(v, n)| MetricSample::plain(vec![(label, v.to_string())], n as f64))
            .collect()
    };
    vec![
        Family {
            name: "nocmap_syslog_received_total",
            help: "Syslog messages received and parsed, by transport (udp, tcp, tls).",
            kind: MetricKind::Counter,
            samples: labelled(
                "transport",
                s.received.iter().map(|(t, n)| (t.as_str(), *n)).collect(),
            ),
        },
        Family {
            name: "nocmap_syslog_dropped_total",
            help: "Syslog messages (queue_full) or connections (framing, connection_limit, tls_handshake) dropped, by reason.",
            kind: MetricKind::Counter,
            samples: labelled(
                "reason",
                s.dropped.iter().map(|(r, n)| (r.as_str(), *n)).collect(),
            ),
        },
        Family {
            name: "nocmap_syslog_parse_errors_total",
            help: "Syslog datagrams or frames that were no message, by reason.",
            kind: MetricKind::Counter,
            samples: labelled(
                "reason",
                s.parse_errors
                    .iter()
                    .map(|(r, n)| (r.as_str(), *n))
                    .collect(),
            ),
        },
        Family {
            name: "nocmap_syslog_unmatched_total",
            help: "Syslog messages whose sender matched no device (stored without one).",
            kind: MetricKind::Counter,
            samples: vec![MetricSample::plain(vec![], s.unmatched as f64)],
        },
    ]
}

/// Events (traps, syslog) the event rules never saw because their queue
/// was full: stored all the same, but matched by no rule.
pub fn event_tap_family(dropped: u64) -> Family {
    Family {
        name: "nocmap_alert_events_dropped_total",
        help: "Received events the trap and syslog alert rules never saw because their queue was full (the events are stored all the same).",
        kind: MetricKind::Counter,
        samples: vec![MetricSample::plain(vec![], dropped as f64)],
    }
}
