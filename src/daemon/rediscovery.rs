//! What a discovery run leaves in the live picture: its summary (the agents
//! it could not read and why, devices read in part, addresses out of
//! scope or left unread by a depth limit), the counters, and a log line of what changed.
use crate::discovery::crawl::CrawlResult;
use crate::live::{AgentProblem, DiscoveryRun, Live};
use crate::topology::Topology;
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

/// Logs what a re-discovery changed against the topology being monitored.
pub fn log_change(live: &Live, new: &Topology) {
    let change = live.read_topology(|old| crate::topology::diff(old, new));
    tracing::info!(
        added = change.devices_added.len(),
        removed = change.devices_removed.len(),
        links_added = change.links_added.len(),
        links_removed = change.links_removed.len(),
        "re-discovery"
    );
}
