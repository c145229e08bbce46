//! Hosts found only by the ping sweep, added to a built topology as nodes
//! without links. Pure; it adds no links and reads no evidence but ARP's
//! IP-to-MAC rows.
use super::devices::{add_addrs, unmanaged};
use crate::discovery::report::DeviceReport;
use crate::topology::{DeviceId, Topology};
use std::net::IpAddr;

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
