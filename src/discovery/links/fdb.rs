//! Links from bridge forwarding tables: a MAC learned on exactly one
//! non-uplink switch port puts its owner on that port. A port is an uplink
//! when another bridge's MAC is learned on it or an LLDP/CDP neighbour on it
//! is itself a bridge. Ports that already have an LLDP/CDP neighbour only
//! get FDB as supporting evidence, so no duplicate node is drawn for a host
//! LLDP already named. Bridges that learned each other's MACs with nobody
//! between are joined switch to switch. Pure; the LLDP/CDP part is told
//! during the evidence pass (`FdbRows::neighbour`), no other table is read.
use super::devices::{add_addrs, unmanaged};
use super::{Known, Sighting};
use crate::discovery::report::{DeviceReport, FdbEntry};
use crate::discovery::resolve::local_lldp_port;
use crate::topology::{Device, DeviceId, Endpoint, Evidence};
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
            if matches!(e.status, Some(4) | Some(5)) || own.contains(e.mac.as_str()) {
                continue; // self / mgmt entries
            }
            if let Some(p) = e.if_index {
                learned.entry(e.mac.as_str()).or_default().push((s, p));
            }
        }
    }
    let mut uplinks: BTreeSet<(usize, IfIndex)> = BTreeSet::new();
    let mut neighboured: BTreeSet<(usize, IfIndex)> = BTreeSet::new();
    for (mac, places) in &learned {
        if ix.by_mac(mac).is_some_and(|o| bridges.contains(&o)) {
            uplinks.extend(places.iter().copied());
        }
    }
    for (&(s, port), far) in &rows.neighbours {
        if !bridges.contains(&s) {
            continue;
        }
        neighboured.insert((s, port));
        if far.iter().any(|o| bridges.contains(o)) {
            uplinks.insert((s, port));
        }
    }
    let mut out = Vec::new();
    for (mac, places) in &learned {
        let edge: Vec<&(usize, IfIndex)> = places.iter().filter(|p| !uplinks.contains(p)).collect();
        let &[&(s, port)] = edge.as_slice() else {
            continue;
        };
        let owner = ix.by_mac(mac);
        if owner.is_some_and(|o| o == s) {
            continue;
        }
        if neighboured.contains(&(s, port)) && owner.is_none() {
            continue; // LLDP/CDP already named what is there
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
