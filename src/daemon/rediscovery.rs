//! What a discovery run leaves in the live picture: its summary (the agents
//! it could not read and why, devices read in part, addresses out of
//! scope or left unread by a depth limit), the counters, a log line of what
//! changed, and that change as events in the history (kind `topology`).
use crate::discovery::crawl::CrawlResult;
use crate::live::{AgentProblem, DiscoveryRun, Live};
use crate::store::EventRow;
use crate::topology::{LinkKey, Topology, TopologyDiff};
use crate::types::UnixMillis;

/// The live summary of a finished crawl (what `/api/discovery` shows).
pub fn summary(started_ms: UnixMillis, result: &CrawlResult) -> DiscoveryRun {
    let problems = result
        .unreachable
        .iter()
        .map(|u| AgentProblem {
            addr: u.addr,
            reason: u.reason.clone(),
            name: u.name.clone(),
        })
        .collect();
    DiscoveryRun::summarise(
        started_ms,
        UnixMillis::now(),
        &result.topology,
        problems,
        result.skipped_out_of_scope.clone(),
    )
    .with_depth_cut(result.depth_cut.clone())
}

/// Counts the run and keeps its summary.
pub fn record(live: &Live, run: DiscoveryRun) {
    live.update_poller(|p| p.discoveries += 1);
    live.update_discovery(|d| {
        d.runs += 1;
        d.last = Some(run);
    });
}

/// Logs what a re-discovery changed against the topology being monitored,
/// and returns it.
pub fn log_change(live: &Live, new: &Topology) -> TopologyDiff {
    let change = live.read_topology(|old| crate::topology::diff(old, new));
    tracing::info!(
        added = change.devices_added.len(),
        removed = change.devices_removed.len(),
        links_added = change.links_added.len(),
        links_removed = change.links_removed.len(),
        "re-discovery"
    );
    change
}

/// The history's record of what a re-discovery changed: one event on each
/// device added or removed, and one on each end of a link added or removed,
/// naming the link (`r1[eth1] -- r2[eth1]`) as its one value, so a device's
/// events say when its neighbours came and went. Pure.
pub fn change_events(change: &TopologyDiff, at: UnixMillis) -> Vec<EventRow> {
    let event = |device: &str, name: &str, link: Option<&LinkKey>| {
        let values = link.map(|k| vec![("link", k.to_string())]);
        EventRow::observed(
            at,
            device,
            "discovery",
            "topology",
            name,
            values.unwrap_or_default(),
        )
    };
    let mut out = Vec::new();
    for d in &change.devices_added {
        out.push(event(&d.0, "device_added", None));
    }
    for d in &change.devices_removed {
        out.push(event(&d.0, "device_removed", None));
    }
    for (name, links) in [
        ("link_added", &change.links_added),
        ("link_removed", &change.links_removed),
    ] {
        for k in links {
            out.push(event(&k.a.device.0, name, Some(k)));
            if k.b.device != k.a.device {
                out.push(event(&k.b.device.0, name, Some(k)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{DeviceId, Endpoint};

    fn end(d: &str, i: &str) -> Endpoint {
        Endpoint {
            device: DeviceId(d.into()),
            if_name: Some(i.into()),
        }
    }

    #[test]
    fn each_device_and_each_link_end_gets_its_event() {
        let change = TopologyDiff {
            devices_added: vec![DeviceId("r3".into())],
            devices_removed: vec![DeviceId("r9".into())],
            links_added: vec![LinkKey {
                a: end("r1", "eth2"),
                b: end("r3", "eth0"),
            }],
            links_removed: vec![LinkKey {
                a: end("r1", "eth1"),
                b: end("r9", "eth0"),
            }],
            links_changed: vec![],
        };
        let ev = change_events(&change, UnixMillis(7));
        let got: Vec<(&str, &str, String)> = ev
            .iter()
            .map(|e| {
                (
                    e.device.as_deref().unwrap(),
                    e.name.as_str(),
                    e.varbinds.iter().map(|v| v.value.clone()).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("r3", "device_added", String::new()),
                ("r9", "device_removed", String::new()),
                ("r1", "link_added", "r1[eth2] -- r3[eth0]".to_string()),
                ("r3", "link_added", "r1[eth2] -- r3[eth0]".to_string()),
                ("r1", "link_removed", "r1[eth1] -- r9[eth0]".to_string()),
                ("r9", "link_removed", "r1[eth1] -- r9[eth0]".to_string()),
            ]
        );
        assert!(
            ev.iter()
                .all(|e| e.kind == "topology" && e.at == UnixMillis(7) && e.syslog.is_none())
        );
        assert!(change_events(&TopologyDiff::default(), UnixMillis(7)).is_empty());
    }
}
