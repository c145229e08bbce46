//! From reports to a topology. The devices come first (`devices`: managed
//! ones from their own reports); then one pass over every piece of
//! neighbour evidence the reports hold (`evidence`), each kind turned into
//! sightings by its own module (`lldp`, `cdp`, `subnet`, `arp`, `fdb`; FDB
//! is also told where LLDP and CDP saw neighbours);
//! then both directions of a link are merged into one with its confidence
//! (`merge`) and the members of a link aggregate grouped (`lag`).
//! Pure: no I/O, no clock. It must not walk agents nor decide which reports
//! are one box (that is `identity`, done before).
pub mod across;
mod arp;
mod cdp;
mod devices;
mod evidence;
mod fdb;
mod fdb_ports;
#[cfg(test)]
mod fdb_tests;
mod lag;
mod lldp;
mod merge;
mod ping_only;
mod subnet;
#[cfg(test)]
mod tests;

pub use evidence::{NeighborEvidence, Observed, gather};
pub use ping_only::add_ping_only;

use super::identity::managed_id;
use super::report::DeviceReport;
use super::resolve::{Index, local_lldp_if_indexes};
use crate::topology::{DeviceId, Endpoint, Evidence, Topology};

/// Build the topology of a set of reports (one per box, after
/// `identity::merge_same_devices`).
pub fn build_topology(reports: &[DeviceReport]) -> Topology {
    let ids: Vec<DeviceId> = reports.iter().map(managed_id).collect();
    let known = Known {
        reports,
        ids: &ids,
        ix: Index::new(reports),
    };
    let mut devices = devices::managed(reports, &ids);
    let mut seen: Vec<Sighting> = Vec::new();
    let mut subnets = subnet::Subnets::default();
    let mut arp_rows = arp::ArpRows::default();
    let mut fdb_rows = fdb::FdbRows::default();
    let mut lldp_named = cdp::LldpNamed::default();
    for Observed { observer, evidence } in gather(reports) {
        match evidence {
            NeighborEvidence::Lldp(n) => {
                // Our port as the device's own lldpLocPortTable resolves it
                // (the port number is not always an ifIndex).
                let far = known.ix.lldp_device(n, observer);
                let r = &reports[observer];
                for p in n
                    .local_port
                    .map(|p| local_lldp_if_indexes(r, p))
                    .unwrap_or_default()
                {
                    fdb_rows.neighbour(observer, p, far);
                }
                let s = lldp::sighting(&known, observer, n, &mut devices);
                if let (Some(s), Some(name)) = (&s, &n.sys_name)
                    && devices.get(&s.b.device).is_some_and(|d| !d.managed)
                {
                    lldp_named.add(observer, &s.a, name, &s.b);
                }
                seen.extend(s)
            }
            NeighborEvidence::Cdp(c) => {
                fdb_rows.neighbour(observer, c.if_index, None);
                seen.extend(cdp::sighting(
                    &known,
                    observer,
                    c,
                    &lldp_named,
                    &mut devices,
                ))
            }
            NeighborEvidence::Subnet(a) => subnets.add(&known, observer, a),
            NeighborEvidence::Arp(e) => arp_rows.add(observer, e),
            NeighborEvidence::Fdb(e) => fdb_rows.add(observer, e),
        }
    }
    // The kinds that need every report's rows before they can say anything:
    // each point-to-point subnet (its two ends, then ARP for the far end),
    // then the forwarding tables.
    for net in subnets.nets() {
        seen.extend(subnet::sighting(&known, &net));
        seen.extend(arp::sightings(&known, &net, &arp_rows, &mut devices));
    }
    seen.extend(fdb::sightings(&known, &fdb_rows, &mut devices));

    let mut links = merge::merge(seen);
    lag::group(&mut links, &known);
    Topology {
        devices: devices.into_values().collect(),
        links,
    }
}

/// What every kind's module reads: the reports, their device ids (same
/// order) and the lookups over them.
struct Known<'r> {
    reports: &'r [DeviceReport],
    ids: &'r [DeviceId],
    ix: Index<'r>,
}

impl Known<'_> {
    /// An endpoint on report `i`'s device.
    fn end(&self, i: usize, if_name: Option<String>) -> Endpoint {
        Endpoint {
            device: self.ids[i].clone(),
            if_name,
        }
    }
}

/// One sighting of a link, from one device's tables.
#[derive(Debug, Clone)]
struct Sighting {
    a: Endpoint,
    b: Endpoint,
    evidence: Evidence,
    observer: DeviceId,
}
