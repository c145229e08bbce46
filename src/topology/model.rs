//! The topology as data: devices with their interfaces, and links with their
//! evidence and confidence. This is the shape of `nocmap discover --json`, of
//! `topology.json` files and of `/api/topology`; everything else (the graph,
//! queries, exports) is built from it. Pure data, no I/O.
use crate::types::{IfIndex, OperStatus};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A stable device id: derived from the strongest identity the device gave
/// (LLDP chassis id, SNMP engine id, a MAC, its sysName or, for a device that
/// answers no SNMP, what its neighbours called it), so it is the same across runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceId(pub String);

impl std::fmt::Display for DeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Topology {
    pub devices: Vec<Device>,
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub id: DeviceId,
    pub sys_name: Option<String>,
    pub sys_descr: Option<String>,
    pub mgmt_addr: Option<IpAddr>,
    pub chassis_id: Option<String>,
    pub vendor: Option<String>,
    /// The model its sysObjectID registers, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// True when the device answered SNMP; false for neighbours known only
    /// from what LLDP/CDP/ARP/FDB said of them.
    #[serde(default)]
    pub managed: bool,
    /// True for the host nocmap itself runs on, when discovery saw it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub poller: bool,
    #[serde(default)]
    pub sys_object_id: Option<String>,
    #[serde(default)]
    pub sys_location: Option<String>,
    #[serde(default)]
    pub sys_contact: Option<String>,
    /// snmpEngineID (SNMP-FRAMEWORK-MIB) as lower-case hex, when the agent
    /// gave one; traps name their device by it (`traps::attribute`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_id: Option<String>,
    /// Every address the device is known by.
    #[serde(default)]
    pub addresses: Vec<IpAddr>,
    pub interfaces: Vec<Interface>,
    /// Tables that could not be read completely, with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partial: Vec<String>,
    /// Neighbour-table rows this device holds that gave no link, or a link
    /// with an end left unknown, each with its reason: nothing a device
    /// says is dropped silently.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<Unresolved>,
    /// For a host placed from forwarding tables: the switch port it was
    /// placed on and why that port is its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub placement: Vec<HostPlacement>,
    /// The chassis as its ENTITY-MIB row describes it, when the agent
    /// names any of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware: Option<Hardware>,
    /// The device's addresses on point-to-point subnets (/30, /31, /127),
    /// with their prefix and interface: what a central infers links between
    /// sites from (a site's map holds no prefix lengths otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub point_to_point: Vec<SubnetAddress>,
    /// At a central (`[nats]`): the site whose poller reported the device
    /// (the central neither polls it nor keeps its own verdict of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_site: Option<String>,
}

/// An address of a device with its prefix length and interface.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SubnetAddress {
    pub addr: IpAddr,
    pub prefix_len: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_name: Option<String>,
}

/// A chassis' model, serial and revisions (ENTITY-MIB entPhysicalTable):
/// device strings, trimmed of padding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hardware {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware_rev: Option<String>,
    /// The firmware revision, else the software revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_rev: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maker: Option<String>,
}

/// Why a host seen only in forwarding tables is drawn on one switch port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostPlacement {
    /// The switch whose forwarding table placed the host.
    pub switch: DeviceId,
    /// The switch's port the host is drawn on.
    pub if_name: String,
    /// The VLANs (Q-BRIDGE FDB ids) the MAC was learned in on that port;
    /// empty when only the VLAN-unaware BRIDGE-MIB table had it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vlans: Vec<u32>,
    /// Why: the MAC was learned on that port only, and why the port is an
    /// edge port (what it is not).
    pub reason: String,
}

/// One neighbour-table row that could not be used in full.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unresolved {
    /// The table the row came from (`lldpRemTable`, `cdpCacheTable`, ...).
    pub table: String,
    /// The row's index as the agent sent it (dotted arcs); for MACs
    /// learned behind an uplink, `ifIndex N` of that port; for a site's
    /// neighbour a central could not resolve, the id of the site's link.
    pub row: String,
    /// Our interface the row was seen on, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_if: Option<String>,
    /// What the row says the neighbour is (chassis id, name), as advertised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neighbor: Option<String>,
    pub reason: UnresolvedReason,
    /// For forwarding-table rows: the MACs not placed, each for `reason`
    /// (at most [`MAX_LISTED_MACS`]; `neighbor` says how many in all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub macs: Vec<String>,
}

/// At most this many MACs are listed on one forwarding-table row.
pub const MAX_LISTED_MACS: usize = 1000;

/// Why a neighbour-table row could not be used in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnresolvedReason {
    /// The chassis id is a placeholder (empty, all zero, all FF, ...) many
    /// devices share: it identifies nothing, and no other identity
    /// (a unique management address) named a known device.
    PlaceholderChassisId,
    /// An older row (earlier lldpRemTimeMark) on a local port that also has
    /// a newer one: the neighbour it names is no longer there.
    Stale,
    /// The row's index is not one this table's MIB defines, and our port
    /// could not be read from it.
    UnknownIndex,
    /// The row lacks the columns that name the neighbour (chassis id and
    /// port id, or the CDP device id).
    MissingNeighborId,
    /// Our local port could not be resolved to one interface (the link is
    /// drawn with that end unknown).
    LocalPortUnknown,
    /// Our local port matched several interfaces (the link is drawn with
    /// that end unknown).
    LocalPortAmbiguous,
    /// Forwarding-table MACs learned only behind a port that faces other
    /// switches (the row names the port; `neighbor` says how many and why
    /// the port is an uplink): not attached hosts, so not placed.
    LearnedBehindUplink,
    /// Forwarding-table MACs learned on this edge port and also on other
    /// ports (in one VLAN or across VLANs): no one port is theirs, so
    /// they are not placed (the row names the port, `neighbor` how many).
    LearnedOnSeveralPorts,
    /// At a central: the neighbour a site left unresolved fits several
    /// devices of other sites (a name or an address they share), so no
    /// link is drawn to any of them.
    SeveralCandidates,
}

impl UnresolvedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            UnresolvedReason::PlaceholderChassisId => "placeholder_chassis_id",
            UnresolvedReason::Stale => "stale",
            UnresolvedReason::UnknownIndex => "unknown_index",
            UnresolvedReason::MissingNeighborId => "missing_neighbor_id",
            UnresolvedReason::LocalPortUnknown => "local_port_unknown",
            UnresolvedReason::LocalPortAmbiguous => "local_port_ambiguous",
            UnresolvedReason::LearnedBehindUplink => "learned_behind_uplink",
            UnresolvedReason::LearnedOnSeveralPorts => "learned_on_several_ports",
            UnresolvedReason::SeveralCandidates => "several_candidates",
        }
    }
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} row {}", self.table, self.row)?;
        if let Some(l) = &self.local_if {
            write!(f, " on {l}")?;
        }
        if let Some(n) = &self.neighbor {
            write!(f, " ({n})")?;
        }
        write!(f, ": {}", self.reason.as_str())
    }
}

#[cfg(test)]
impl Device {
    /// A device with an id, its sys_name equal to it, and nothing else known
    /// (the poller itself when `poller`). For unit tests.
    pub(crate) fn for_test(id: &str, poller: bool) -> Device {
        Device {
            id: DeviceId(id.into()),
            sys_name: Some(id.into()),
            sys_descr: None,
            mgmt_addr: None,
            chassis_id: None,
            vendor: None,
            model: None,
            managed: !poller,
            poller,
            sys_object_id: None,
            sys_location: None,
            sys_contact: None,
            engine_id: None,
            addresses: vec![],
            interfaces: vec![],
            partial: vec![],
            unresolved: vec![],
            placement: vec![],
            hardware: None,
            point_to_point: vec![],
            from_site: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interface {
    pub if_index: IfIndex,
    pub name: String,
    pub descr: Option<String>,
    pub alias: Option<String>,
    pub speed_bps: Option<u64>,
    pub mac: Option<String>,
    pub oper_status: Option<OperStatus>,
    /// ifAdminStatus: its values (up, down, testing) are ifOperStatus's
    /// first three, so it is named by the same table (out of range: invalid).
    pub admin_status: Option<OperStatus>,
    #[serde(default)]
    pub if_type: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    Lldp,
    Cdp,
    Fdb,
    Arp,
    Subnet,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    pub device: DeviceId,
    /// ifName (ifDescr where there is none); None when only the device is known.
    pub if_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub id: String,
    pub a: Endpoint,
    pub b: Endpoint,
    pub evidence: Vec<Evidence>,
    /// 0.0..=1.0: how sure we are the link exists as drawn.
    pub confidence: f64,
    /// LAG this link is a member of, when known (both ends' aggregate names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag: Option<String>,
}

impl Topology {
    pub fn device(&self, id: &DeviceId) -> Option<&Device> {
        self.devices.iter().find(|d| &d.id == id)
    }

    /// A hash of the whole map's JSON: equal maps hash the same (to tell
    /// whether a map changed before sending or storing it again).
    pub fn content_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        serde_json::to_vec(self).unwrap_or_default().hash(&mut h);
        h.finish()
    }
}
