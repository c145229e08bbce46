//! What one agent told us, typed: system group, interfaces, addresses and the
//! neighbour tables. Built by the parsers in `parse_*.rs` from a flat list of
//! walked varbinds, so the same code runs on live walks and on recordings.
//! Plain data: no parsing, no link decisions. Each neighbour table stays a
//! typed list of its own (`lldp`, `cdp`, `arp`, `fdb`): link building reads
//! them as one sequence of `links::NeighborEvidence` in one pass, while the
//! crawl reads only LLDP/CDP management addresses, ARP is looked up by
//! address and MAC, and the golden tests compare one table at a time; one
//! owned enum list here would make each of those filter it by variant. Every ifIndex here is an
//! [`IfIndex`]; LLDP port numbers stay `u32` (they equal the ifIndex only on
//! most agents, and `resolve` checks that).
use crate::topology::{Interface, Unresolved, UnresolvedReason};
use crate::types::IfIndex;
use std::collections::BTreeMap;
use std::net::IpAddr;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemInfo {
    pub descr: Option<String>,
    pub object_id: Option<String>,
    pub uptime_ticks: Option<u32>,
    pub contact: Option<String>,
    pub name: Option<String>,
    pub location: Option<String>,
}

/// An LLDP chassis or port id: the subtype and the id rendered as text
/// (MAC as `aa:bb:..`, network address as the address, else the string, or
/// hex when the bytes are not text).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LldpId {
    pub subtype: u32,
    pub value: String,
}

impl LldpId {
    /// A placeholder many devices send alike (empty, all zero bytes, all
    /// FF bytes, in any rendering): it identifies no device.
    pub fn is_placeholder(&self) -> bool {
        let v = self.value.trim();
        let v = v.strip_prefix("0x").unwrap_or(v);
        let digits: Vec<char> = v
            .chars()
            .filter(|c| !matches!(c, ':' | '-' | '.' | ' '))
            .collect();
        digits.iter().all(|c| *c == '0') || digits.iter().all(|c| c.eq_ignore_ascii_case(&'f'))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LldpLocalPort {
    pub id: LldpId,
    pub desc: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LldpNeighbor {
    /// The row's index in lldpRemTable as the agent sent it
    /// (timeMark.localPortNum.remIndex where the agent follows the MIB).
    pub index: Vec<u32>,
    /// lldpRemLocalPortNum: our port (equal to the ifIndex on most agents);
    /// None when the row's index is not the MIB's and does not say it.
    pub local_port: Option<u32>,
    pub chassis: LldpId,
    pub port: LldpId,
    pub port_desc: Option<String>,
    pub sys_name: Option<String>,
    pub sys_desc: Option<String>,
    pub mgmt_addrs: Vec<IpAddr>,
}

impl LldpNeighbor {
    /// This row listed as not fully used, with what it says of the neighbour.
    pub fn unresolved(&self, local_if: Option<String>, reason: UnresolvedReason) -> Unresolved {
        let name = self.sys_name.as_deref().unwrap_or(&self.chassis.value);
        Unresolved {
            table: "lldpRemTable".into(),
            row: dotted(&self.index),
            local_if,
            neighbor: Some(format!("{name}, port {}", self.port.value)),
            reason,
            macs: vec![],
        }
    }
}

/// Index arcs as the dotted text agents and MIB browsers show.
pub fn dotted(arcs: &[u32]) -> String {
    arcs.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

#[derive(Debug, Clone, PartialEq)]
pub struct CdpNeighbor {
    pub if_index: IfIndex,
    pub device_id: String,
    pub port: Option<String>,
    pub addr: Option<IpAddr>,
    pub platform: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AddressEntry {
    pub addr: IpAddr,
    pub if_index: Option<IfIndex>,
    pub prefix_len: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpEntry {
    pub if_index: IfIndex,
    pub ip: IpAddr,
    pub mac: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdbEntry {
    pub mac: String,
    pub bridge_port: u32,
    pub if_index: Option<IfIndex>,
    /// dot1dTpFdbStatus / dot1qTpFdbStatus: 3 = learned, 4 = self.
    pub status: Option<i64>,
    /// The Q-BRIDGE FDB id (the VLAN on switches that learn per VLAN);
    /// None for a row of the VLAN-unaware dot1dTpFdbTable.
    pub vlan: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceReport {
    /// The address we reached the agent on.
    pub addr: Option<IpAddr>,
    pub system: SystemInfo,
    pub engine_id: Option<String>,
    pub interfaces: Vec<Interface>,
    pub addresses: Vec<AddressEntry>,
    /// ifStackTable: (higher layer ifIndex, lower layer ifIndex), 0s left out.
    pub stack: Vec<(IfIndex, IfIndex)>,
    pub lldp_chassis: Option<LldpId>,
    pub lldp_sys_name: Option<String>,
    pub lldp_ports: BTreeMap<u32, LldpLocalPort>,
    /// dot1dBasePortIfIndex: bridge port number to ifIndex.
    pub bridge_ports: BTreeMap<u32, IfIndex>,
    pub lldp: Vec<LldpNeighbor>,
    pub cdp: Vec<CdpNeighbor>,
    pub arp: Vec<ArpEntry>,
    pub fdb: Vec<FdbEntry>,
    /// Q-BRIDGE VLAN membership per port (tagged, untagged); None when the
    /// agent gave no usable dot1qVlanCurrentTable or dot1qVlanStaticTable.
    pub vlans: Option<super::vlans::VlanMembership>,
    /// Tables read only in part, each with its reason.
    pub partial: Vec<String>,
    /// Neighbour-table rows the parsers could not use, each with its reason
    /// (link building adds the rows it could not place to the device).
    pub unresolved: Vec<Unresolved>,
    /// The chassis' ENTITY-MIB row, when it names anything.
    pub hardware: Option<crate::topology::Hardware>,
}

impl DeviceReport {
    pub fn interface(&self, if_index: IfIndex) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.if_index == if_index)
    }

    /// The link aggregate (LAG, bond, port-channel) an interface is a member
    /// of: the higher layer above it in ifStackTable that is an aggregate
    /// (ifType 161 ieee8023adLag, or named like one where agents report
    /// another type).
    pub fn aggregate_of(&self, if_name: &str) -> Option<&str> {
        let member = self.interfaces.iter().find(|i| i.name == if_name)?;
        self.stack
            .iter()
            .filter(|(_, lower)| *lower == member.if_index)
            .find_map(|(higher, _)| {
                let h = self.interface(*higher)?;
                let lname = h.name.to_ascii_lowercase();
                let named = [
                    "bond",
                    "port-channel",
                    "po",
                    "ae",
                    "lag",
                    "trk",
                    "eth-trunk",
                    "bridge-aggregation",
                ]
                .iter()
                .any(|p| lname.starts_with(p));
                (h.if_type == Some(161) || named).then_some(h.name.as_str())
            })
    }

    /// Every MAC address of the device's own interfaces.
    pub fn macs(&self) -> impl Iterator<Item = &str> {
        self.interfaces.iter().filter_map(|i| i.mac.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::LldpId;

    #[test]
    fn placeholder_chassis_ids() {
        let id = |subtype, v: &str| LldpId {
            subtype,
            value: v.into(),
        };
        for (subtype, v) in [
            (4, "00:00:00:00:00:00"),
            (4, "ff:ff:ff:ff:ff:ff"),
            (7, "0x"),
            (7, ""),
            (7, "0x000000"),
            (5, "0.0.0.0"),
            (5, "::"),
            (7, "00-00-00-00-00-00"),
        ] {
            assert!(id(subtype, v).is_placeholder(), "{subtype} {v:?}");
        }
        for (subtype, v) in [
            (4, "02:00:00:00:00:01"),
            (7, "sw-core-1"),
            (5, "10.0.0.1"),
            (7, "0x0a00"),
        ] {
            assert!(!id(subtype, v).is_placeholder(), "{subtype} {v:?}");
        }
    }
}
