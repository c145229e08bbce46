//! Links from bridge forwarding tables: a MAC learned on exactly one edge
//! port puts its owner on that port. A port faces other switches, and is
//! no edge port, when another bridge's MAC is learned on it, an LLDP/CDP
//! neighbour is on it, it is a link aggregate (ifType 161) or a member of
//! one (ifStackTable), it sends VLANs tagged by the switch's Q-BRIDGE VLAN
//! membership (`discovery::vlans`; for ports that membership does not
//! name, MACs are learned on it in [`TRUNK_VLANS`] or more VLANs), or
//! [`MANY_MACS`] or more MACs are learned on it (`fdb_ports`).
//! Ports with an LLDP/CDP neighbour only get FDB as supporting evidence for
//! a managed device, so no duplicate node is drawn for a host LLDP already
//! named. A MAC one switch learned on several ports (Q-BRIDGE tables are
//! read per VLAN, so one MAC can be in several) is placed on none. The
//! MACs not placed are not dropped: each device lists them per port with
//! why, and each host placed says why that port is its own. Bridges that
//! learned each other's MACs with nobody between are joined switch to
//! switch. Pure; the LLDP/CDP part is told
//! during the evidence pass (`FdbRows::neighbour`), no other table is read.
use super::devices::{add_addrs, unmanaged};
use super::fdb_ports::{Learned, Place, Uplink, placement_reason, unplaced, uplinks};
#[cfg(doc)]
use super::fdb_ports::{MANY_MACS, TRUNK_VLANS};
use super::{Known, Sighting};
use crate::discovery::report::{DeviceReport, FdbEntry};
use crate::discovery::resolve::local_lldp_port;
use crate::topology::{Device, DeviceId, Endpoint, Evidence, HostPlacement};
use crate::types::IfIndex;
use std::collections::{BTreeMap, BTreeSet};

/// The forwarding-table rows of each bridge (a report with any), in table
/// order, and the ports where LLDP or CDP saw a neighbour.
#[derive(Default)]
pub(super) struct FdbRows<'r> {
    rows: BTreeMap<usize, Vec<&'r FdbEntry>>,
    /// (report, port) with an LLDP/CDP neighbour -> the managed device
    /// LLDP found there, if any.
    neighbours: BTreeMap<(usize, IfIndex), BTreeSet<usize>>,
}

impl<'r> FdbRows<'r> {
    pub fn add(&mut self, i: usize, e: &'r FdbEntry) {
        self.rows.entry(i).or_default().push(e);
    }

    /// Report `i` has an LLDP/CDP neighbour on `port`, `far` when it is a
    /// known device.
    pub fn neighbour(&mut self, i: usize, port: IfIndex, far: Option<usize>) {
        self.neighbours.entry((i, port)).or_default().extend(far);
    }

    /// Each bridge's rows.
    pub(super) fn by_bridge(&self) -> impl Iterator<Item = (usize, &[&'r FdbEntry])> {
        self.rows.iter().map(|(s, v)| (*s, v.as_slice()))
    }

    /// The ports with an LLDP/CDP neighbour, with the managed devices seen.
    pub(super) fn neighbours(&self) -> &BTreeMap<Place, BTreeSet<usize>> {
        &self.neighbours
    }
}

/// The hosts on edge ports and the bridge-to-bridge links the forwarding
/// tables show.
pub(super) fn sightings(
    known: &Known,
    rows: &FdbRows,
    devices: &mut BTreeMap<DeviceId, Device>,
) -> Vec<Sighting> {
    let (reports, ids, ix) = (known.reports, known.ids, &known.ix);
    let bridges: BTreeSet<usize> = rows.rows.keys().copied().collect();
    let learned = Learned::new(known, rows);
    let uplinks = uplinks(known, rows, &bridges, &learned);
    let neighboured: BTreeSet<(usize, IfIndex)> = rows
        .neighbours
        .keys()
        .filter(|(s, _)| bridges.contains(s))
        .copied()
        .collect();
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    for (mac, places) in &learned.at {
        let owner = ix.by_mac(mac);
        // A managed device's MAC may still support a link on a port where
        // LLDP/CDP saw it; every other MAC goes on an edge port only.
        let edge: Vec<&(usize, IfIndex)> = places
            .iter()
            .filter(|p| match uplinks.get(p) {
                None => true,
                Some(Uplink::Neighbour) => owner.is_some(),
                Some(_) => false,
            })
            .collect();
        let &[&(s, port)] = edge.as_slice() else {
            continue;
        };
        // A MAC one switch learned on several ports (in one VLAN or across
        // VLANs) names no one port: a device with one MAC on several interfaces, or
        // something behind a switch on each. Counted, not placed.
        if owner.is_none() && places.iter().filter(|p| p.0 == s).count() > 1 {
            continue;
        }
        if owner.is_some_and(|o| o == s) {
            continue;
        }
        let Some(local) = reports[s]
            .interface(port)
            .map(|i| i.name.clone())
            .or_else(|| local_lldp_port(&reports[s], port.0))
        else {
            continue;
        };
        let far = match owner {
            Some(o) => {
                let name = reports[o]
                    .interfaces
                    .iter()
                    .find(|i| i.mac.as_deref() == Some(*mac))
                    .map(|i| i.name.clone());
                Endpoint {
                    device: ids[o].clone(),
                    if_name: name,
                }
            }
            None => {
                let id = DeviceId(format!("mac-{mac}"));
                let d = devices.entry(id.clone()).or_insert_with(|| unmanaged(&id));
                let ips: Vec<_> = reports
                    .iter()
                    .flat_map(|r| r.arp.iter())
                    .filter(|e| e.mac == *mac)
                    .map(|e| e.ip)
                    .collect();
                add_addrs(d, &ips);
                d.placement.push(HostPlacement {
                    switch: ids[s].clone(),
                    if_name: local.clone(),
                    vlans: learned.vlans(mac, (s, port)),
                    reason: placement_reason(known, &learned, &uplinks, mac, (s, port)),
                });
                Endpoint {
                    device: id,
                    if_name: None,
                }
            }
        };
        placed.insert(mac);
        out.push(Sighting {
            a: Endpoint {
                device: ids[s].clone(),
                if_name: Some(local),
            },
            b: far,
            evidence: Evidence::Fdb,
            observer: ids[s].clone(),
        });
    }
    unplaced(known, &learned, &placed, &uplinks, devices);
    out.extend(switch_to_switch(
        reports,
        ids,
        &bridges,
        &learned.at,
        &neighboured,
    ));
    out
}

/// Bridge-to-bridge links where neither end speaks LLDP/CDP on that port:
/// A's port pA and B's port pB are joined when A learned one of B's MACs on
/// pA, B learned one of A's on pB, and no third bridge was learned both
/// behind pA (by A) and behind pB (by B), which would sit between them.
fn switch_to_switch(
    reports: &[DeviceReport],
    ids: &[DeviceId],
    bridges: &BTreeSet<usize>,
    learned: &BTreeMap<&str, Vec<(usize, IfIndex)>>,
    neighboured: &BTreeSet<(usize, IfIndex)>,
) -> Vec<Sighting> {
    // behind[(s, port)] = the bridges s learned on that port.
    let mut behind: BTreeMap<(usize, IfIndex), BTreeSet<usize>> = BTreeMap::new();
    for &b in bridges {
        for m in reports[b].macs() {
            for &(s, port) in learned.get(m).into_iter().flatten() {
                if s != b {
                    behind.entry((s, port)).or_default().insert(b);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (&(a, pa), seen_a) in &behind {
        for &b in seen_a.iter().filter(|&&b| b > a) {
            let Some((&(_, pb), seen_b)) = behind
                .iter()
                .find(|((s, _), set)| *s == b && set.contains(&a))
            else {
                continue;
            };
            if neighboured.contains(&(a, pa)) || neighboured.contains(&(b, pb)) {
                continue;
            }
            if seen_a.iter().any(|c| *c != b && seen_b.contains(c)) {
                continue; // another bridge sits between them
            }
            let name = |s: usize, p: IfIndex| reports[s].interface(p).map(|i| i.name.clone());
            out.push(Sighting {
                a: Endpoint {
                    device: ids[a].clone(),
                    if_name: name(a, pa),
                },
                b: Endpoint {
                    device: ids[b].clone(),
                    if_name: name(b, pb),
                },
                evidence: Evidence::Fdb,
                observer: ids[a].clone(),
            });
        }
    }
    out
}
