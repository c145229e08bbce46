//! Links between maps discovered apart (a central's and each site's): a
//! map's LLDP/CDP neighbour it could not resolve (an unmanaged device it
//! made from the row: chassis id, name, management addresses, the port it
//! advertised) resolved against the devices the other maps manage by the
//! rule discovery itself uses ([`Index::lldp_found`], [`Index::cdp_found`],
//! [`lldp_port`], [`interface_named`]), and the point-to-point subnets
//! whose two ends are managed in different maps ([`Subnets`]); both
//! directions merged into one link as discovery merges them. Which map a
//! device belongs to and how the maps are combined is the caller's. Pure.
use super::subnet::Subnets;
use super::{Sighting, merge};
use crate::discovery::report::{
    AddressEntry, CdpNeighbor, DeviceReport, LldpId, LldpNeighbor, SystemInfo,
};
use crate::discovery::resolve::{Found, Index, interface_named, lldp_port};
use crate::topology::{
    Device, DeviceId, Endpoint, Evidence, Link, Topology, Unresolved, UnresolvedReason,
};
use crate::types::IfIndex;
use std::collections::{BTreeMap, BTreeSet};

/// What joining maps gives.
#[derive(Debug, Default, PartialEq)]
pub struct Joined {
    /// The links between maps, in id order (ids as discovery makes them).
    pub links: Vec<Link>,
    /// The links (map, index in its `links`) a joined link replaces: their
    /// unmanaged end is now a device another map manages.
    pub replaced: BTreeSet<(usize, usize)>,
    /// The unmanaged devices (map, id) resolved for at least one of their
    /// links.
    pub resolved: BTreeSet<(usize, DeviceId)>,
    /// Rows left unresolved because they fit several devices: (the
    /// device that saw the neighbour, the row).
    pub unresolved: Vec<(DeviceId, Unresolved)>,
}

/// Join `maps`: each device managed in some map is the first such map's.
pub fn join(maps: &[&Topology]) -> Joined {
    // Every managed device once, with the map that has it first.
    let mut seen: BTreeMap<&DeviceId, usize> = BTreeMap::new();
    let mut managed: Vec<(&Device, usize)> = Vec::new();
    for (m, t) in maps.iter().enumerate() {
        for d in t.devices.iter().filter(|d| d.managed || d.poller) {
            if !seen.contains_key(&d.id) {
                seen.insert(&d.id, managed.len());
                managed.push((d, m));
            }
        }
    }
    let reports: Vec<DeviceReport> = managed.iter().map(|(d, _)| report_of(d)).collect();
    let ix = Index::new(&reports);
    let mut out = Joined::default();
    let mut sightings: Vec<Sighting> = Vec::new();
    for (m, t) in maps.iter().enumerate() {
        let unmanaged: BTreeMap<&DeviceId, &Device> = t
            .devices
            .iter()
            .filter(|d| !d.managed && !d.poller)
            .map(|d| (&d.id, d))
            .collect();
        for (k, l) in t.links.iter().enumerate() {
            let (ours, far, u) = match (unmanaged.get(&l.a.device), unmanaged.get(&l.b.device)) {
                (None, Some(u)) => (&l.a, &l.b, *u),
                (Some(u), None) => (&l.b, &l.a, *u),
                _ => continue,
            };
            let Some(&observer) = seen.get(&ours.device) else {
                continue;
            };
            for kind in l
                .evidence
                .iter()
                .filter(|e| matches!(e, Evidence::Lldp | Evidence::Cdp))
            {
                let row = Row {
                    u,
                    far,
                    kind: *kind,
                };
                // Only another map's devices: this map's own were tried
                // when it was discovered.
                match row.found(&ix, observer) {
                    Found::One(j) if managed[j].1 != m && j != observer => {
                        let port = far
                            .if_name
                            .as_deref()
                            .and_then(|p| row.port(&reports[j], p));
                        sightings.push(Sighting {
                            a: ours.clone(),
                            b: Endpoint {
                                device: managed[j].0.id.clone(),
                                if_name: port,
                            },
                            evidence: *kind,
                            observer: ours.device.clone(),
                        });
                        out.replaced.insert((m, k));
                        out.resolved.insert((m, u.id.clone()));
                    }
                    Found::Several(c) if c.iter().any(|j| managed[*j].1 != m) => out
                        .unresolved
                        .push((ours.device.clone(), row.unresolved(l, ours.if_name.clone()))),
                    _ => {}
                }
            }
        }
    }
    // The point-to-point subnets whose two ends two maps manage.
    let mut subnets = Subnets::default();
    for (i, (d, _)) in managed.iter().enumerate() {
        for a in &d.point_to_point {
            subnets.add_member(i, a.if_name.clone(), a.addr, Some(a.prefix_len));
        }
    }
    for net in subnets.nets() {
        if let Some((x, y)) = net.ends()
            && managed[x.report].1 != managed[y.report].1
        {
            let end = |i: usize, if_name: &Option<String>| Endpoint {
                device: managed[i].0.id.clone(),
                if_name: if_name.clone(),
            };
            sightings.push(Sighting {
                a: end(x.report, &x.if_name),
                b: end(y.report, &y.if_name),
                evidence: Evidence::Subnet,
                observer: managed[x.report].0.id.clone(),
            });
        }
    }
    out.links = merge::merge(sightings);
    out.unresolved.sort();
    out.unresolved.dedup();
    out
}

/// One map's link to a neighbour it left unmanaged, read as the row of
/// `kind` that made it.
struct Row<'t> {
    u: &'t Device,
    far: &'t Endpoint,
    kind: Evidence,
}

impl Row<'_> {
    fn found(&self, ix: &Index, observer: usize) -> Found {
        match self.kind {
            Evidence::Lldp => ix.lldp_found(&self.lldp(), observer),
            _ => ix.cdp_found(&self.cdp(), observer),
        }
    }

    /// The LLDP row as the map kept it: the chassis id (none for a
    /// neighbour CDP alone named), name, management addresses, port.
    fn lldp(&self) -> LldpNeighbor {
        LldpNeighbor {
            index: Vec::new(),
            local_port: None,
            chassis: chassis(self.u.chassis_id.as_deref().unwrap_or("")),
            port: port_id(self.far.if_name.as_deref().unwrap_or("")),
            port_desc: None,
            sys_name: self.u.sys_name.clone(),
            sys_desc: None,
            mgmt_addrs: self.u.addresses.clone(),
        }
    }

    /// The CDP row as the map kept it: the device id (its name), address.
    fn cdp(&self) -> CdpNeighbor {
        CdpNeighbor {
            if_index: IfIndex(0),
            device_id: self.u.sys_name.clone().unwrap_or_default(),
            port: self.far.if_name.clone(),
            addr: self
                .u
                .mgmt_addr
                .or_else(|| self.u.addresses.first().copied()),
            platform: None,
        }
    }

    /// The far device's interface the row's port names.
    fn port(&self, r: &DeviceReport, port: &str) -> Option<String> {
        match self.kind {
            Evidence::Lldp => lldp_port(r, &port_id(port), None),
            _ => interface_named(r, port),
        }
    }

    fn unresolved(&self, l: &Link, local_if: Option<String>) -> Unresolved {
        let (table, mut u) = match self.kind {
            Evidence::Lldp => (
                "lldpRemTable",
                self.lldp()
                    .unresolved(local_if, UnresolvedReason::SeveralCandidates),
            ),
            _ => (
                "cdpCacheTable",
                Unresolved {
                    table: String::new(),
                    row: String::new(),
                    local_if,
                    neighbor: Some(format!(
                        "{}, port {}",
                        self.cdp().device_id,
                        self.far.if_name.as_deref().unwrap_or("?")
                    )),
                    reason: UnresolvedReason::SeveralCandidates,
                    macs: vec![],
                },
            ),
        };
        u.table = table.into();
        u.row = l.id.clone();
        u
    }
}

/// A chassis id as a map keeps it (the value, its subtype lost), read the
/// same way for the row and for the device it may name: a MAC as a MAC.
fn chassis(value: &str) -> LldpId {
    LldpId {
        subtype: if is_mac(value) { 4 } else { 7 },
        value: value.to_string(),
    }
}

/// A port as a map names it: a MAC as a MAC, else an interface name.
fn port_id(value: &str) -> LldpId {
    LldpId {
        subtype: if is_mac(value) { 3 } else { 5 },
        value: value.to_string(),
    }
}

fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// What the resolution reads of a managed device, as a report.
fn report_of(d: &Device) -> DeviceReport {
    DeviceReport {
        addr: d.mgmt_addr,
        system: SystemInfo {
            name: d.sys_name.clone(),
            ..Default::default()
        },
        interfaces: d.interfaces.clone(),
        addresses: d
            .addresses
            .iter()
            .map(|a| AddressEntry {
                addr: *a,
                if_index: None,
                prefix_len: None,
            })
            .collect(),
        lldp_chassis: d.chassis_id.as_deref().map(chassis),
        ..Default::default()
    }
}
