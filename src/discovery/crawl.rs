//! The crawl: from seeds, read each agent, follow the management addresses
//! its LLDP/CDP neighbours advertise (only inside the allowed prefixes; by
//! default to any depth, the prefixes being the bound), concurrently, then
//! merge identities and build the topology. Nothing outside the allowed
//! prefixes is ever sent a packet. When a depth limit is given and cuts the
//! crawl, every address inside the prefixes left unread for it is listed
//! (`depth_cut`), never counted as an agent that did not answer.
use super::identity::merge_same_devices;
use super::links::build_topology;
use super::read::read_device;
use super::report::DeviceReport;
use crate::snmp::strays;
use crate::snmp::{Credential, SnmpTransport};
use crate::topology::Topology;
use futures::FutureExt;
use ipnet::IpNet;
use std::collections::{BTreeSet, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use tokio::task::JoinSet;

/// The default depth: no limit. Inside the prefixes discovery reaches
/// everything a neighbour table names; a ring or chain longer than any
/// fixed depth is read whole.
pub const DEFAULT_DEPTH: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub struct CrawlOptions {
    pub seeds: Vec<IpAddr>,
    /// The only ranges probed. Empty: the seeds alone.
    pub prefixes: Vec<IpNet>,
    /// How many neighbour hops to follow from the seeds
    /// ([`DEFAULT_DEPTH`]: no limit).
    pub depth: u32,
    /// Agents read at the same time.
    pub concurrency: usize,
    /// Hosts a ping sweep of the prefixes found alive: each is tried over
    /// SNMP like a seed, and one that answers no SNMP and that no
    /// neighbour table names still appears, as a node without links.
    pub alive: Vec<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unreachable {
    pub addr: IpAddr,
    pub reason: String,
    /// The name the user listed this address under (`[[devices]]`, the
    /// inventory file), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Default)]
pub struct CrawlResult {
    pub topology: Topology,
    pub reports: Vec<DeviceReport>,
    pub unreachable: Vec<Unreachable>,
    /// Addresses neighbours advertised that lie outside the allowed prefixes.
    pub skipped_out_of_scope: Vec<IpAddr>,
    /// Addresses inside the prefixes that neighbours advertised and that
    /// were not read because the depth limit was reached (sorted; never
    /// sent a request, so not among `unreachable`).
    pub depth_cut: Vec<IpAddr>,
}

/// Progress of a crawl: (agents done, agents queued or running).
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Send + Sync);

pub fn allowed(prefixes: &[IpNet], seeds: &[IpAddr], a: &IpAddr) -> bool {
    if prefixes.is_empty() {
        return seeds.contains(a);
    }
    prefixes.iter().any(|p| p.contains(a))
}

/// Crawls from `opts.seeds` through `engine` (the real [`crate::snmp::SnmpEngine`],
/// or a scripted transport in tests).
pub async fn crawl(
    engine: Arc<dyn SnmpTransport>,
    creds: Arc<Vec<Credential>>,
    opts: &CrawlOptions,
    progress: Progress<'_>,
) -> CrawlResult {
    let mut queue: VecDeque<(IpAddr, u32)> = opts.seeds.iter().map(|s| (*s, 0)).collect();
    let mut queued: BTreeSet<IpAddr> = opts.seeds.iter().copied().collect();
    // Swept hosts go after the seeds (and after what the seeds' neighbours
    // name, which is pushed to the back as it is found).
    let mut swept: VecDeque<IpAddr> = opts
        .alive
        .iter()
        .copied()
        .filter(|a| allowed(&opts.prefixes, &opts.seeds, a))
        .collect();
    let mut swept_only: BTreeSet<IpAddr> = BTreeSet::new();
    let mut known: BTreeSet<IpAddr> = BTreeSet::new();
    // Inside the prefixes, named at the depth limit: cut unless reached
    // another way.
    let mut cut: BTreeSet<IpAddr> = BTreeSet::new();
    let mut result = CrawlResult::default();
    let mut running: JoinSet<(IpAddr, u32, Result<DeviceReport, String>)> = JoinSet::new();
    let mut done = 0usize;
    loop {
        while running.len() < opts.concurrency.max(1) {
            let next = queue.pop_front().or_else(|| {
                while let Some(a) = swept.pop_front() {
                    if queued.insert(a) {
                        swept_only.insert(a);
                        return Some((a, 0));
                    }
                }
                None
            });
            let Some((addr, depth)) = next else {
                break;
            };
            if known.contains(&addr) || !allowed(&opts.prefixes, &opts.seeds, &addr) {
                continue;
            }
            let engine = engine.clone();
            let creds = creds.clone();
            running.spawn(async move {
                let read = async {
                    let before = engine.answered_from_elsewhere(addr);
                    match engine.clone().open(addr, &creds).await {
                        Ok(session) => Ok(read_device(&*session).await.0),
                        Err(e) => {
                            let after = engine.answered_from_elsewhere(addr);
                            let growth = strays::growth(&after, &before);
                            Err(match strays::note(addr, &growth, None) {
                                Some(note) => format!("{e}; {note}"),
                                None => e.to_string(),
                            })
                        }
                    }
                };
                // A bug in reading one agent must not lose its address
                // without a word: it is reported like any other failure.
                let r = std::panic::AssertUnwindSafe(read)
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| {
                        tracing::error!(%addr, "reading this agent panicked");
                        Err("internal error while reading this agent (a nocmap bug; please report it)".into())
                    });
                (addr, depth, r)
            });
        }
        progress(done, running.len() + queue.len() + swept.len());
        let Some(joined) = running.join_next().await else {
            break;
        };
        done += 1;
        let Ok((addr, depth, r)) = joined else {
            continue;
        };
        match r {
            Ok(report) if report.system.name.is_some() || !report.interfaces.is_empty() => {
                known.insert(addr);
                known.extend(report.addresses.iter().map(|a| a.addr));
                let next = report
                    .lldp
                    .iter()
                    .flat_map(|n| n.mgmt_addrs.iter().copied())
                    .chain(report.cdp.iter().filter_map(|c| c.addr));
                for a in next {
                    if known.contains(&a) || queued.contains(&a) {
                        continue;
                    }
                    if !allowed(&opts.prefixes, &opts.seeds, &a) {
                        if !result.skipped_out_of_scope.contains(&a) {
                            result.skipped_out_of_scope.push(a);
                        }
                    } else if depth < opts.depth {
                        queued.insert(a);
                        queue.push_back((a, depth + 1));
                    } else {
                        cut.insert(a);
                    }
                }
                result.reports.push(report);
            }
            Ok(report) => result.unreachable.push(Unreachable {
                addr,
                reason: format!(
                    "agent answered but returned no system or interface data ({})",
                    report.partial.join("; ")
                ),
                name: None,
            }),
            // A host found only by the ping sweep that answers no SNMP is
            // expected (a server, a printer): not a fault worth a warning.
            Err(reason) if swept_only.contains(&addr) => {
                tracing::info!(%addr, %reason, "swept host answers no SNMP")
            }
            Err(reason) => result.unreachable.push(Unreachable {
                addr,
                reason,
                name: None,
            }),
        }
    }
    progress(done, 0);
    result.depth_cut = cut
        .into_iter()
        .filter(|a| !known.contains(a) && !queued.contains(a))
        .collect();
    let merged = merge_same_devices(std::mem::take(&mut result.reports));
    result.topology = build_topology(&merged);
    let alive: Vec<IpAddr> = opts
        .alive
        .iter()
        .copied()
        .filter(|a| allowed(&opts.prefixes, &opts.seeds, a))
        .collect();
    super::links::add_ping_only(&mut result.topology, &merged, &alive);
    super::self_host::mark_poller(
        &mut result.topology,
        &super::local::local_interfaces(),
        &super::local::hostname(),
    );
    result.reports = merged;
    result
}

#[cfg(test)]
#[path = "crawl_tests.rs"]
mod tests;
