//! From reports to a topology: devices (managed ones from their own reports,
//! the rest from what neighbours said), then links from every kind of
//! evidence (LLDP, CDP, point-to-point subnets, ARP on those subnets, FDB),
//! each direction merged into one link with its evidence and confidence. Pure.
use super::identity::{chassis_id, managed_id};
use super::report::DeviceReport;
use super::resolve::{Index, advertised_port_name, interface_named, lldp_port, local_lldp_port};
use super::vendor;
use crate::topology::{Device, DeviceId, Endpoint, Evidence, Link, Topology};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// One sighting of a link, from one device's tables.
#[derive(Debug, Clone)]
pub(super) struct Sighting {
    pub a: Endpoint,
    pub b: Endpoint,
    pub evidence: Evidence,
    pub observer: DeviceId,
}

pub fn build_topology(reports: &[DeviceReport]) -> Topology {
    let ix = Index::new(reports);
    let ids: Vec<DeviceId> = reports.iter().map(managed_id).collect();
    let mut devices: BTreeMap<DeviceId, Device> = reports
        .iter()
        .zip(&ids)
        .map(|(r, id)| (id.clone(), managed_device(r, id)))
        .collect();
    let mut seen: Vec<Sighting> = Vec::new();
    let ep = |d: &DeviceId, i: Option<String>| Endpoint {
        device: d.clone(),
        if_name: i,
    };

    for (r, id) in reports.iter().zip(&ids) {
        for n in &r.lldp {
            let local = local_lldp_port(r, n.local_port);
            let (rid, rport) = match ix.lldp_device(n) {
                Some(j) => (
                    ids[j].clone(),
                    lldp_port(&reports[j], &n.port, n.port_desc.as_deref()),
                ),
                None => {
                    let rid = chassis_id(&n.chassis);
                    let d = devices
                        .entry(rid.clone())
                        .or_insert_with(|| unmanaged(&rid));
                    d.sys_name = d.sys_name.take().or_else(|| n.sys_name.clone());
                    d.sys_descr = d.sys_descr.take().or_else(|| n.sys_desc.clone());
                    d.chassis_id = d
                        .chassis_id
                        .take()
                        .or_else(|| Some(n.chassis.value.clone()));
                    add_addrs(d, &n.mgmt_addrs);
                    (
                        rid,
                        Some(advertised_port_name(&n.port, n.port_desc.as_deref())),
                    )
                }
            };
            if rid != *id {
                seen.push(Sighting {
                    a: ep(id, local),
                    b: ep(&rid, rport),
                    evidence: Evidence::Lldp,
                    observer: id.clone(),
                });
            }
        }
        for c in &r.cdp {
            let local = r.interface(c.if_index).map(|i| i.name.clone());
            let found = ix
                .by_name(&c.device_id)
                .or_else(|| c.addr.and_then(|a| ix.by_addr(&a)));
            let (rid, rport) = match found {
                Some(j) => (
                    ids[j].clone(),
                    c.port
                        .as_deref()
                        .and_then(|p| interface_named(&reports[j], p)),
                ),
                None => {
                    let rid = DeviceId(format!(
                        "cdp-{}",
                        c.device_id
                            .chars()
                            .filter(|ch| !ch.is_whitespace() && !ch.is_control())
                            .take(96)
                            .collect::<String>()
                    ));
                    let d = devices
                        .entry(rid.clone())
                        .or_insert_with(|| unmanaged(&rid));
                    d.sys_name = d.sys_name.take().or_else(|| Some(c.device_id.clone()));
                    d.sys_descr = d.sys_descr.take().or_else(|| c.platform.clone());
                    add_addrs(d, c.addr.as_slice());
                    (rid, c.port.clone())
                }
            };
            if rid != *id {
                seen.push(Sighting {
                    a: ep(id, local),
                    b: ep(&rid, rport),
                    evidence: Evidence::Cdp,
                    observer: id.clone(),
                });
            }
        }
    }
    seen.extend(point_to_point(reports, &ids, &ix, &mut devices));
    seen.extend(super::fdb::sightings(reports, &ids, &ix, &mut devices));

    let mut links = merge(seen);
    group_lags(&mut links, reports, &ids);
    Topology {
        devices: devices.into_values().collect(),
        links,
    }
}

fn managed_device(r: &DeviceReport, id: &DeviceId) -> Device {
    let mut addresses: Vec<IpAddr> = r
        .addresses
        .iter()
        .map(|a| a.addr)
        .filter(|a| !a.is_loopback())
        .collect();
    addresses.sort();
    addresses.dedup();
    Device {
        id: id.clone(),
        sys_name: r.system.name.clone().or_else(|| r.lldp_sys_name.clone()),
        sys_descr: r.system.descr.clone(),
        mgmt_addr: r.addr,
        chassis_id: r.lldp_chassis.as_ref().map(|c| c.value.clone()),
        vendor: r
            .system
            .object_id
            .as_deref()
            .and_then(vendor::from_sys_object_id)
            .map(str::to_string),
        managed: true,
        poller: false,
        sys_object_id: r.system.object_id.clone(),
        sys_location: r.system.location.clone(),
        sys_contact: r.system.contact.clone(),
        addresses,
        interfaces: r.interfaces.clone(),
        partial: r.partial.clone(),
    }
}

pub(super) fn unmanaged(id: &DeviceId) -> Device {
    Device {
        id: id.clone(),
        sys_name: None,
        sys_descr: None,
        mgmt_addr: None,
        chassis_id: None,
        vendor: None,
        managed: false,
        poller: false,
        sys_object_id: None,
        sys_location: None,
        sys_contact: None,
        addresses: Vec::new(),
        interfaces: Vec::new(),
        partial: Vec::new(),
    }
}

pub(super) fn add_addrs(d: &mut Device, addrs: &[IpAddr]) {
    for a in addrs {
        if !d.addresses.contains(a) {
            d.addresses.push(*a);
        }
    }
    if d.mgmt_addr.is_none() {
        d.mgmt_addr = addrs.first().copied();
    }
}

/// L3 adjacency on /30 and /31 (IPv4) or /127 (IPv6) subnets: both ends
/// known from ipAddressTable, or one end from the other's ARP table.
fn point_to_point(
    reports: &[DeviceReport],
    ids: &[DeviceId],
    ix: &Index,
    devices: &mut BTreeMap<DeviceId, Device>,
) -> Vec<Sighting> {
    let mut out = Vec::new();
    // (network, prefix) -> the members: (report index, ifName, address)
    type Member = (usize, Option<String>, IpAddr);
    let mut nets: BTreeMap<(IpAddr, u8), Vec<Member>> = BTreeMap::new();
    for (i, r) in reports.iter().enumerate() {
        for a in &r.addresses {
            let Some(len) = a.prefix_len.filter(|&l| {
                (a.addr.is_ipv4() && (l == 30 || l == 31)) || (a.addr.is_ipv6() && l == 127)
            }) else {
                continue;
            };
            let Ok(net) = ipnet::IpNet::new(a.addr, len) else {
                continue;
            };
            let name = a
                .if_index
                .and_then(|x| r.interface(x))
                .map(|x| x.name.clone());
            nets.entry((net.network(), len))
                .or_default()
                .push((i, name, a.addr));
        }
    }
    for ((net, len), members) in &nets {
        let Ok(subnet) = ipnet::IpNet::new(*net, *len) else {
            continue;
        };
        if let [(i, ni, _), (j, nj, _)] = members.as_slice()
            && i != j
        {
            out.push(Sighting {
                a: Endpoint {
                    device: ids[*i].clone(),
                    if_name: ni.clone(),
                },
                b: Endpoint {
                    device: ids[*j].clone(),
                    if_name: nj.clone(),
                },
                evidence: Evidence::Subnet,
                observer: ids[*i].clone(),
            });
        }
        // ARP on the subnet: the far end seen from each member.
        for (i, ni, own) in members {
            let r = &reports[*i];
            for e in r
                .arp
                .iter()
                .filter(|e| subnet.contains(&e.ip) && e.ip != *own)
            {
                let far = ix.by_addr(&e.ip).or_else(|| ix.by_mac(&e.mac));
                let b = match far {
                    Some(j) if j == *i => continue,
                    Some(j) => {
                        let name = reports[j]
                            .addresses
                            .iter()
                            .find(|a| a.addr == e.ip)
                            .and_then(|a| a.if_index)
                            .and_then(|x| reports[j].interface(x))
                            .map(|x| x.name.clone());
                        Endpoint {
                            device: ids[j].clone(),
                            if_name: name,
                        }
                    }
                    None => {
                        let id = DeviceId(format!("mac-{}", e.mac));
                        let d = devices.entry(id.clone()).or_insert_with(|| unmanaged(&id));
                        add_addrs(d, &[e.ip]);
                        Endpoint {
                            device: id,
                            if_name: None,
                        }
                    }
                };
                out.push(Sighting {
                    a: Endpoint {
                        device: ids[*i].clone(),
                        if_name: ni.clone(),
                    },
                    b,
                    evidence: Evidence::Arp,
                    observer: ids[*i].clone(),
                });
            }
        }
    }
    out
}

/// Hosts that answered a ping sweep but no SNMP, and that no neighbour
/// table named: they exist, so they are drawn, as nodes without links. A
/// MAC known from ARP joins the host to the FDB node of that MAC.
pub fn add_ping_only(topology: &mut Topology, reports: &[DeviceReport], alive: &[IpAddr]) {
    for ip in alive {
        if topology
            .devices
            .iter()
            .any(|d| d.addresses.contains(ip) || d.mgmt_addr == Some(*ip))
        {
            continue;
        }
        let mac = reports
            .iter()
            .flat_map(|r| r.arp.iter())
            .find(|e| e.ip == *ip)
            .map(|e| e.mac.clone());
        if let Some(d) = mac.and_then(|m| {
            topology
                .devices
                .iter_mut()
                .find(|d| d.id.0 == format!("mac-{m}"))
        }) {
            add_addrs(d, &[*ip]);
            continue;
        }
        let id = DeviceId(format!("ip-{ip}"));
        let mut d = unmanaged(&id);
        add_addrs(&mut d, &[*ip]);
        topology.devices.push(d);
    }
}

/// Mark links whose ends are members of a link aggregate: every member link
/// of one LAG gets the same `lag` key (`devA:agg--devB:agg`, `?` for an end
/// whose device did not say).
fn group_lags(links: &mut [Link], reports: &[DeviceReport], ids: &[DeviceId]) {
    let agg = |e: &Endpoint| -> Option<String> {
        let i = ids.iter().position(|id| *id == e.device)?;
        reports[i]
            .aggregate_of(e.if_name.as_deref()?)
            .map(str::to_string)
    };
    for l in links.iter_mut() {
        let (a, b) = (agg(&l.a), agg(&l.b));
        if a.is_some() || b.is_some() {
            let side = |e: &Endpoint, g: Option<String>| {
                format!("{}:{}", e.device, g.unwrap_or_else(|| "?".into()))
            };
            l.lag = Some(format!("{}--{}", side(&l.a, a), side(&l.b, b)));
        }
    }
}

fn key(a: &Endpoint, b: &Endpoint) -> (Endpoint, Endpoint) {
    if a <= b {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    }
}

#[derive(Default)]
struct Acc {
    evidence: BTreeSet<Evidence>,
    observers: BTreeSet<DeviceId>,
}

/// Merge sightings: both directions of a link become one; a sighting that
/// lacks an interface name joins the one link between the same devices that
/// agrees on every name it does have.
fn merge(seen: Vec<Sighting>) -> Vec<Link> {
    let mut full: BTreeMap<(Endpoint, Endpoint), Acc> = BTreeMap::new();
    let mut partial: Vec<Sighting> = Vec::new();
    for s in seen {
        if s.a.if_name.is_some() && s.b.if_name.is_some() {
            let acc = full.entry(key(&s.a, &s.b)).or_default();
            acc.evidence.insert(s.evidence);
            acc.observers.insert(s.observer);
        } else {
            partial.push(s);
        }
    }
    // Sightings with a missing name, most-informed first.
    partial.sort_by_key(|s| (s.a.if_name.is_none() as u8) + (s.b.if_name.is_none() as u8));
    for s in partial {
        let fits = |k: &(Endpoint, Endpoint)| {
            let ok = |x: &Endpoint, y: &Endpoint| {
                x.device == y.device && (x.if_name.is_none() || x.if_name == y.if_name)
            };
            (ok(&s.a, &k.0) && ok(&s.b, &k.1)) || (ok(&s.a, &k.1) && ok(&s.b, &k.0))
        };
        let matches: Vec<(Endpoint, Endpoint)> = full.keys().filter(|k| fits(k)).cloned().collect();
        let k = match matches.as_slice() {
            [only] => only.clone(),
            _ => key(&s.a, &s.b),
        };
        let acc = full.entry(k).or_default();
        acc.evidence.insert(s.evidence);
        acc.observers.insert(s.observer);
    }
    full.into_iter()
        .map(|((a, b), acc)| {
            let both_sides = acc.observers.contains(&a.device) && acc.observers.contains(&b.device);
            let neighbour_protocol =
                acc.evidence.contains(&Evidence::Lldp) || acc.evidence.contains(&Evidence::Cdp);
            let named = a.if_name.is_some() && b.if_name.is_some();
            let mut confidence: f64 = match (neighbour_protocol, both_sides, named) {
                (true, true, _) => 1.0,
                (true, false, true) => 0.8,
                (true, false, false) => 0.6,
                (false, _, _) if acc.evidence.contains(&Evidence::Fdb) => 0.6,
                (false, _, _) if acc.evidence.contains(&Evidence::Subnet) => 0.5,
                // ARP on a point-to-point subnet: the far end is the only other address.
                (false, _, _) if acc.evidence.contains(&Evidence::Arp) => 0.5,
                _ => 0.4,
            };
            if acc.evidence.len() > 1 {
                confidence = (confidence + 0.1).min(1.0);
            }
            let name =
                |e: &Endpoint| format!("{}:{}", e.device, e.if_name.as_deref().unwrap_or("?"));
            Link {
                id: format!("{}--{}", name(&a), name(&b)),
                a,
                b,
                evidence: acc.evidence.into_iter().collect(),
                confidence,
                lag: None,
            }
        })
        .collect()
}
