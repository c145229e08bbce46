//! The trap receiver's counters as `/metrics` families (present only when
//! `[traps]` is configured). Pure: from a counters snapshot.
use super::metrics::{Family, MetricKind, MetricSample};
use crate::traps::TrapStatsSnapshot;

pub fn families(s: &TrapStatsSnapshot) -> Vec<Family> {
    vec![
        Family {
            name: "nocmap_traps_received_total",
            help: "SNMP notifications received and accepted, by version and kind (trap, inform).",
            kind: MetricKind::Counter,
            samples: s
                .received
                .iter()
                .map(|(v, k, n)| {
                    MetricSample::plain(
                        vec![
                            ("version", v.as_str().to_string()),
                            ("kind", k.as_str().to_string()),
                        ],
                        *n as f64,
                    )
                })
                .collect(),
        },
        Family {
            name: "nocmap_traps_dropped_total",
            help: "Datagrams on the trap port dropped, by reason.",
            kind: MetricKind::Counter,
            samples: s
                .dropped
                .iter()
                .map(|(r, n)| {
                    MetricSample::plain(vec![("reason", r.as_str().to_string())], *n as f64)
                })
                .collect(),
        },
        Family {
            name: "nocmap_traps_informs_acknowledged_total",
            help: "Informs answered with a Response.",
            kind: MetricKind::Counter,
            samples: vec![MetricSample::plain(vec![], s.acknowledged as f64)],
        },
        Family {
            name: "nocmap_traps_unmatched_total",
            help: "Notifications whose sender matched no device (stored without one).",
            kind: MetricKind::Counter,
            samples: vec![MetricSample::plain(vec![], s.unmatched as f64)],
        },
    ]
}
