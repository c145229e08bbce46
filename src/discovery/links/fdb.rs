//! Links from bridge forwarding tables: a MAC learned on exactly one edge
//! port puts its owner on that port. A port faces other switches, and is
//! no edge port, when another bridge's MAC is learned on it, an LLDP/CDP
//! neighbour is on it, it is a link aggregate (ifType 161) or a member of
//! one (ifStackTable), or [`MANY_MACS`] or more MACs are learned on it.
//! Ports with an LLDP/CDP neighbour only get FDB as supporting evidence for
//! a managed device, so no duplicate node is drawn for a host LLDP already
//! named. A MAC one switch learned on several ports (Q-BRIDGE tables are
//! read per VLAN, so one MAC can be in several) is placed on none. The
//! MACs not placed are not dropped: each device lists, per port, how many
//! and why (`uplink_counts`). Bridges that learned each other's MACs with nobody
//! between are joined switch to switch. Pure; the LLDP/CDP part is told
//! during the evidence pass (`FdbRows::neighbour`), no other table is read.
use super::devices::{add_addrs, unmanaged};
use super::{Known, Sighting};
use crate::discovery::report::{DeviceReport, FdbEntry};
use crate::discovery::resolve::local_lldp_port;
use crate::topology::{Device, DeviceId, Endpoint, Evidence, Unresolved, UnresolvedReason};
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
}

/// A port on which this many MACs or more are learned faces another switch
/// (or a hypervisor): none of them is placed there as an attached host. A
/// threshold, not a MIB fact.
pub(super) const MANY_MACS: usize = 16;

/// Why a port is not an edge port (the first reason found, in this order).
#[derive(Debug, Clone, PartialEq)]
enum Uplink {
    /// A managed bridge's own MAC is learned on it.
    BridgeLearned,
    /// LLDP or CDP saw a managed bridge on it.
    BridgeNeighbour,
    /// LLDP or CDP saw a neighbour on it.
    Neighbour,
    /// The port is a link aggregate (ifType 161).
    Lag,
    /// The port is a member of this link aggregate.
    LagMember(String),
    /// [`MANY_MACS`] or more MACs are learned on it.
    ManyMacs,
}

impl std::fmt::Display for Uplink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Uplink::BridgeLearned => write!(f, "another bridge's MAC is learned on it"),
            Uplink::BridgeNeighbour => write!(f, "its LLDP/CDP neighbour is a bridge"),
            Uplink::Neighbour => write!(f, "it has an LLDP/CDP neighbour"),
            Uplink::Lag => write!(f, "it is a link aggregate"),
            Uplink::LagMember(l) => write!(f, "it is a member of link aggregate {l}"),
            Uplink::ManyMacs => write!(f, "{MANY_MACS} or more MACs are learned on it"),
        }
    }
}

/// The ports of the bridges that face other switches, each with why.
fn uplinks(
    known: &Known,
    rows: &FdbRows,
    bridges: &BTreeSet<usize>,
    learned: &BTreeMap<&str, Vec<(usize, IfIndex)>>,
) -> BTreeMap<(usize, IfIndex), Uplink> {
    let (reports, ix) = (known.reports, &known.ix);
    let mut out: BTreeMap<(usize, IfIndex), Uplink> = BTreeMap::new();
    for (mac, places) in learned {
        if ix.by_mac(mac).is_some_and(|o| bridges.contains(&o)) {
            for p in places {
                out.entry(*p).or_insert(Uplink::BridgeLearned);
            }
        }
    }
    for (&(s, port), far) in &rows.neighbours {
        if !bridges.contains(&s) {
            continue;
        }
        let why = if far.iter().any(|o| bridges.contains(o)) {
            Uplink::BridgeNeighbour
        } else {
            Uplink::Neighbour
        };
        out.entry((s, port)).or_insert(why);
    }
    let mut per_port: BTreeMap<(usize, IfIndex), usize> = BTreeMap::new();
    for places in learned.values() {
        for p in places {
            *per_port.entry(*p).or_default() += 1;
        }
    }
    for (&(s, port), &n) in &per_port {
        let r = &reports[s];
        let iface = r.interface(port);
        let why = if iface.is_some_and(|i| i.if_type == Some(161)) {
            Some(Uplink::Lag)
        } else if let Some(lag) = iface.and_then(|i| r.aggregate_of(&i.name)) {
            Some(Uplink::LagMember(lag.to_string()))
        } else {
            (n >= MANY_MACS).then_some(Uplink::ManyMacs)
        };
        if let Some(why) = why {
            out.entry((s, port)).or_insert(why);
        }
    }
    out
}

/// The MACs not placed, counted per port on the bridge's device: those
/// learned behind ports that face other switches, and on an edge port
/// those also learned on other ports. Nothing a table says is dropped
/// without a word.
fn uplink_counts(
    known: &Known,
    learned: &BTreeMap<&str, Vec<(usize, IfIndex)>>,
    placed: &BTreeSet<&str>,
    uplinks: &BTreeMap<(usize, IfIndex), Uplink>,
    devices: &mut BTreeMap<DeviceId, Device>,
) {
    // Port -> MACs not placed that were learned there: on an uplink, or
    // on an edge port and another port of the same switch.
    let mut behind: BTreeMap<(usize, IfIndex), usize> = BTreeMap::new();
    let mut several: BTreeMap<(usize, IfIndex), usize> = BTreeMap::new();
    for (mac, places) in learned {
        if placed.contains(mac) {
            continue;
        }
        for p in places {
            if uplinks.contains_key(p) {
                *behind.entry(*p).or_default() += 1;
            } else if places.iter().filter(|q| q.0 == p.0).count() > 1 {
                *several.entry(*p).or_default() += 1;
            }
        }
    }
    let mut counts: Vec<_> = behind
        .into_iter()
        .map(|(p, n)| (p, n, true))
        .chain(several.into_iter().map(|(p, n)| (p, n, false)))
        .collect();
    counts.sort();
    for ((s, port), n, uplink) in counts {
        let r = &known.reports[s];
        let Some(d) = devices.get_mut(&known.ids[s]) else {
            continue;
        };
        let local_if = r
            .interface(port)
            .map(|i| i.name.clone())
            .or_else(|| local_lldp_port(r, port.0));
        let macs = format!("{n} MAC{}", if n == 1 { "" } else { "s" });
        let (neighbor, reason) = match uplinks.get(&(s, port)).filter(|_| uplink) {
            Some(why) => (
                format!("{macs} learned behind this uplink: {why}"),
                UnresolvedReason::LearnedBehindUplink,
            ),
            None => (
                format!("{macs} learned here and on other ports"),
                UnresolvedReason::LearnedOnSeveralPorts,
            ),
        };
        d.unresolved.push(Unresolved {
            table: "forwarding table".into(),
            row: format!("ifIndex {}", port.0),
            local_if,
            neighbor: Some(neighbor),
            reason,
        });
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
    // Where each MAC is learned: (switch, ifIndex).
    let mut learned: BTreeMap<&str, Vec<(usize, IfIndex)>> = BTreeMap::new();
    for &s in &bridges {
        let own: BTreeSet<&str> = reports[s].macs().collect();
        for e in rows.rows.get(&s).into_iter().flatten() {
            if matches!(e.status, Some(2) | Some(4) | Some(5)) || own.contains(e.mac.as_str()) {
                continue; // invalid / self / mgmt entries
            }
            if let Some(p) = e.if_index {
                learned.entry(e.mac.as_str()).or_default().push((s, p));
            }
        }
    }
    let uplinks = uplinks(known, rows, &bridges, &learned);
    let neighboured: BTreeSet<(usize, IfIndex)> = rows
        .neighbours
        .keys()
        .filter(|(s, _)| bridges.contains(s))
        .copied()
        .collect();
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    for (mac, places) in &learned {
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
    uplink_counts(known, &learned, &placed, &uplinks, devices);
    out.extend(switch_to_switch(
        reports,
        ids,
        &bridges,
        &learned,
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
