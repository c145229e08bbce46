//! The last discovery run as gauges: what it could not read, what it read
//! in part, what lay out of scope, the neighbour rows it could not use (by
//! reason), and when it ended. Pure, like the rest of `metrics`.
use super::metrics::{Family, MetricKind, MetricSample, family, single};
use crate::live::LiveView;

const MS: f64 = 1_000.0;

/// The last discovery run: what it could not reach and when it ended.
/// Absent until the first run has finished.
pub(super) fn discovery_families(s: &LiveView<'_>, out: &mut Vec<Family>) {
    use MetricKind::Gauge;
    let Some(run) = &s.discovery.last else {
        return;
    };
    let one = |name, help, value| single(name, help, Gauge, value);
    out.extend([
        one(
            "nocmap_discovery_unreachable_agents",
            "Seeds and neighbours' management addresses the last discovery could not read (listed in /api/discovery).",
            run.unreachable.len() as f64,
        ),
        one(
            "nocmap_discovery_partial_devices",
            "Devices whose tables the last discovery read only in part.",
            run.partial_devices as f64,
        ),
        one(
            "nocmap_discovery_out_of_scope_addresses",
            "Addresses neighbours advertised outside the allowed prefixes, left out by the last discovery.",
            run.out_of_scope_count as f64,
        ),
        one(
            "nocmap_discovery_last_duration_seconds",
            "How long the last discovery took.",
            (run.finished_ms - run.started_ms).max(0) as f64 / MS,
        ),
        one(
            "nocmap_discovery_last_completion_timestamp_seconds",
            "When the last discovery finished (Unix time).",
            run.finished_ms.0 as f64 / MS,
        ),
    ]);
    let mut unresolved = family(
        "nocmap_discovery_unresolved_rows",
        "Neighbour-table rows the last discovery could not use in full, by reason (listed in /api/discovery).",
        Gauge,
    );
    for (reason, n) in &run.unresolved_by_reason {
        let labels = vec![("reason", (*reason).to_string())];
        unresolved
            .samples
            .push(MetricSample::plain(labels, *n as f64));
    }
    out.push(unresolved);
}

#[cfg(test)]
mod tests {
    use crate::live::LiveSnapshot;
    use crate::server::metrics::collect;
    use crate::types::UnixMillis;

    #[test]
    fn unresolved_neighbour_rows_are_counted_by_reason() {
        let mut s = LiveSnapshot::default();
        let mut run = crate::live::DiscoveryRun::default();
        run.unresolved_by_reason.insert("stale", 3);
        run.unresolved_by_reason.insert("placeholder_chassis_id", 1);
        s.discovery.last = Some(run);
        let family = collect(&s.view(), UnixMillis(0))
            .into_iter()
            .find(|f| f.name == "nocmap_discovery_unresolved_rows")
            .expect("the family is there");
        let got: Vec<(String, f64)> = family
            .samples
            .iter()
            .map(|m| (m.labels[0].1.clone(), m.value))
            .collect();
        assert_eq!(
            got,
            [
                ("placeholder_chassis_id".into(), 1.0),
                ("stale".into(), 3.0)
            ]
        );
    }
}
