//! The ports of the forwarding tables: where each MAC is learned (and in
//! which VLANs), which ports face other switches and why, the reason a
//! host is placed on its edge port, and the MACs not placed, listed per
//! port with why. Pure; `fdb` decides what is drawn.
use super::Known;
use super::fdb::FdbRows;
use crate::discovery::report::FdbEntry;
use crate::discovery::resolve::local_lldp_port;
use crate::discovery::vlans::{PortVlans, VlanSource};
use crate::topology::{Device, DeviceId, MAX_LISTED_MACS, Unresolved, UnresolvedReason};
use crate::types::IfIndex;
use std::collections::{BTreeMap, BTreeSet};

/// A port of a bridge: (report, ifIndex).
pub(super) type Place = (usize, IfIndex);

/// A port on which this many MACs or more are learned faces another switch
/// (or a hypervisor): none of them is placed there as an attached host. A
/// threshold, not a MIB fact.
pub(super) const MANY_MACS: usize = 16;

/// A port on which MACs are learned in this many VLANs or more (Q-BRIDGE
/// FDB ids) is a trunk: an access port carries one VLAN, one with an IP
/// phone two (data and voice). A threshold, not a MIB fact; a switch that
/// learns all VLANs in one FDB (shared VLAN learning) never shows it.
/// Used only for ports the switch's VLAN membership does not name: where
/// it does, the configuration decides ([`PortVlans::is_trunk`]).
pub(super) const TRUNK_VLANS: usize = 3;

/// The most VLAN ids a reason lists; the rest are counted.
const LISTED_VLANS: usize = 8;

/// Where each MAC is learned, each port once, and in which VLANs.
#[derive(Default)]
pub(super) struct Learned<'r> {
    pub at: BTreeMap<&'r str, Vec<Place>>,
    vlans: BTreeMap<(&'r str, Place), BTreeSet<u32>>,
    port_vlans: BTreeMap<Place, BTreeSet<u32>>,
    port_macs: BTreeMap<Place, usize>,
}

impl<'r> Learned<'r> {
    /// The learned entries of every bridge (invalid, self and mgmt entries
    /// and the bridge's own MACs left out).
    pub fn new(known: &Known<'r>, rows: &FdbRows<'r>) -> Learned<'r> {
        let mut l = Learned::default();
        for (s, entries) in rows.by_bridge() {
            let own: BTreeSet<&str> = known.reports[s].macs().collect();
            for e in entries {
                if matches!(e.status, Some(2) | Some(4) | Some(5)) || own.contains(e.mac.as_str()) {
                    continue;
                }
                l.add(s, e);
            }
        }
        l
    }

    fn add(&mut self, s: usize, e: &'r FdbEntry) {
        let Some(port) = e.if_index else { return };
        let p = (s, port);
        let places = self.at.entry(e.mac.as_str()).or_default();
        if !places.contains(&p) {
            places.push(p);
            *self.port_macs.entry(p).or_default() += 1;
        }
        if let Some(v) = e.vlan {
            self.vlans.entry((e.mac.as_str(), p)).or_default().insert(v);
            self.port_vlans.entry(p).or_default().insert(v);
        }
    }

    /// The VLANs `mac` was learned in on port `p`.
    pub fn vlans(&self, mac: &str, p: Place) -> Vec<u32> {
        self.vlans
            .get(&(mac, p))
            .map(|v| v.iter().copied().collect())
            .unwrap_or_default()
    }

    fn macs_on(&self, p: Place) -> usize {
        self.port_macs.get(&p).copied().unwrap_or(0)
    }

    fn vlans_on(&self, p: Place) -> usize {
        self.port_vlans.get(&p).map_or(0, BTreeSet::len)
    }
}

/// Why a port is not an edge port (the first reason found, in this order).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Uplink {
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
    /// It sends VLANs tagged by the switch's VLAN membership
    /// ([`PortVlans::is_trunk`]), read from this table.
    Tagged(PortVlans, VlanSource),
    /// MACs are learned on it in this many VLANs ([`TRUNK_VLANS`] or more);
    /// the VLAN membership does not name the port.
    Trunk(usize),
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
            Uplink::Tagged(p, src) => {
                write!(f, "it sends {} tagged", vlan_list(&p.tagged))?;
                if !p.untagged.is_empty() {
                    write!(f, " and {} untagged", vlan_list(&p.untagged))?;
                }
                write!(f, ", a trunk by its VLAN membership ({})", src.table())
            }
            Uplink::Trunk(n) => write!(
                f,
                "MACs are learned on it in {n} VLANs, a trunk ({TRUNK_VLANS} or more)"
            ),
            Uplink::ManyMacs => write!(f, "{MANY_MACS} or more MACs are learned on it"),
        }
    }
}

/// The ports of the bridges that face other switches, each with why.
pub(super) fn uplinks(
    known: &Known,
    rows: &FdbRows,
    bridges: &BTreeSet<usize>,
    learned: &Learned,
) -> BTreeMap<Place, Uplink> {
    let (reports, ix) = (known.reports, &known.ix);
    let mut out: BTreeMap<Place, Uplink> = BTreeMap::new();
    for (mac, places) in &learned.at {
        if ix.by_mac(mac).is_some_and(|o| bridges.contains(&o)) {
            for p in places {
                out.entry(*p).or_insert(Uplink::BridgeLearned);
            }
        }
    }
    for (&(s, port), far) in rows.neighbours() {
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
    for (&(s, port), &n) in &learned.port_macs {
        let r = &reports[s];
        let iface = r.interface(port);
        let vlans = learned.vlans_on((s, port));
        let member = configured(r, port);
        let why = if iface.is_some_and(|i| i.if_type == Some(161)) {
            Some(Uplink::Lag)
        } else if let Some(lag) = iface.and_then(|i| r.aggregate_of(&i.name)) {
            Some(Uplink::LagMember(lag.to_string()))
        } else if let Some((p, src)) = member.filter(|(p, _)| p.is_trunk()) {
            Some(Uplink::Tagged(p.clone(), src))
        } else if member.is_none() && vlans >= TRUNK_VLANS {
            Some(Uplink::Trunk(vlans))
        } else {
            (n >= MANY_MACS).then_some(Uplink::ManyMacs)
        };
        if let Some(why) = why {
            out.entry((s, port)).or_insert(why);
        }
    }
    out
}

/// The VLANs a port carries by its switch's membership table, and which
/// table; None when the switch gave none or it does not name the port.
fn configured(
    r: &crate::discovery::DeviceReport,
    port: IfIndex,
) -> Option<(&PortVlans, VlanSource)> {
    let m = r.vlans.as_ref()?;
    m.ports.get(&port).map(|p| (p, m.source))
}

/// "VLAN 5" or "VLANs 1, 10, 20" ("no VLAN"), at most [`LISTED_VLANS`] ids then a count.
fn vlan_list(v: &std::collections::BTreeSet<u32>) -> String {
    let ids: Vec<String> = v.iter().take(LISTED_VLANS).map(u32::to_string).collect();
    let more = v.len().saturating_sub(LISTED_VLANS);
    let rest = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    match v.len() {
        0 => "no VLAN".into(),
        1 => format!("VLAN {}", ids[0]),
        _ => format!("VLANs {}{rest}", ids.join(", ")),
    }
}

/// Why `mac` is placed on edge port `p`: learned there (in which VLANs),
/// elsewhere only behind uplinks, and what the port is not.
pub(super) fn placement_reason(
    known: &Known,
    learned: &Learned,
    uplinks: &BTreeMap<Place, Uplink>,
    mac: &str,
    p: Place,
) -> String {
    let vlans = learned.vlans(mac, p);
    let vl = match vlans.as_slice() {
        [] => String::new(),
        [v] => format!(" in VLAN {v}"),
        many => format!(
            " in VLANs {}",
            many.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let behind = learned.at.get(mac).map_or(0, |ps| {
        ps.iter().filter(|q| uplinks.contains_key(q)).count()
    });
    let elsewhere = match behind {
        0 => String::from("learned on no other port"),
        1 => String::from("elsewhere only behind 1 uplink port"),
        n => format!("elsewhere only behind {n} uplink ports"),
    };
    let (n, k) = (learned.macs_on(p), learned.vlans_on(p));
    let vlans = match configured(&known.reports[p.0], p.1) {
        Some((v, src)) if v.is_voice_access() => format!(
            "by its VLAN membership ({}) an access port with a voice VLAN: {} untagged, {} tagged",
            src.table(),
            vlan_list(&v.untagged),
            vlan_list(&v.tagged)
        ),
        Some((v, src)) if v.tagged.is_empty() => format!(
            "by its VLAN membership ({}) an access port: {} untagged, none tagged",
            src.table(),
            vlan_list(&v.untagged)
        ),
        Some((v, src)) => format!(
            "by its VLAN membership ({}) an access port: {} untagged, {} tagged (fewer than {})",
            src.table(),
            vlan_list(&v.untagged),
            vlan_list(&v.tagged),
            crate::discovery::vlans::TRUNK_TAGGED
        ),
        None => format!(
            "{k} VLAN{} (fewer than {TRUNK_VLANS})",
            if k == 1 { "" } else { "s" }
        ),
    };
    format!(
        "learned on this port{vl}, {elsewhere}; an edge port: no LLDP/CDP neighbour \
         and no bridge's MAC on it, not a link aggregate nor a member of one, \
         {n} MAC{} learned on it (fewer than {MANY_MACS}), {vlans}",
        if n == 1 { "" } else { "s" },
    )
}

/// The MACs not placed, listed per port on the bridge's device with why:
/// those learned behind ports that face other switches, and on an edge
/// port those also learned on other ports. Nothing a table says is dropped
/// without a word.
pub(super) fn unplaced(
    known: &Known,
    learned: &Learned,
    placed: &BTreeSet<&str>,
    uplinks: &BTreeMap<Place, Uplink>,
    devices: &mut BTreeMap<DeviceId, Device>,
) {
    // Port -> MACs not placed that were learned there: on an uplink, or
    // on an edge port and another port of the same switch.
    let mut behind: BTreeMap<Place, Vec<&str>> = BTreeMap::new();
    let mut several: BTreeMap<Place, Vec<&str>> = BTreeMap::new();
    for (mac, places) in &learned.at {
        if placed.contains(mac) {
            continue;
        }
        for p in places {
            if uplinks.contains_key(p) {
                behind.entry(*p).or_default().push(mac);
            } else if places.iter().filter(|q| q.0 == p.0).count() > 1 {
                several.entry(*p).or_default().push(mac);
            }
        }
    }
    let mut rows: Vec<_> = behind
        .into_iter()
        .map(|(p, m)| (p, m, true))
        .chain(several.into_iter().map(|(p, m)| (p, m, false)))
        .collect();
    rows.sort();
    for ((s, port), macs, uplink) in rows {
        let r = &known.reports[s];
        let Some(d) = devices.get_mut(&known.ids[s]) else {
            continue;
        };
        let local_if = r
            .interface(port)
            .map(|i| i.name.clone())
            .or_else(|| local_lldp_port(r, port.0));
        let n = macs.len();
        let count = format!("{n} MAC{}", if n == 1 { "" } else { "s" });
        let (neighbor, reason) = match uplinks.get(&(s, port)).filter(|_| uplink) {
            Some(why) => (
                format!("{count} learned behind this uplink: {why}"),
                UnresolvedReason::LearnedBehindUplink,
            ),
            None => (
                format!("{count} learned here and on other ports"),
                UnresolvedReason::LearnedOnSeveralPorts,
            ),
        };
        d.unresolved.push(Unresolved {
            table: "forwarding table".into(),
            row: format!("ifIndex {}", port.0),
            local_if,
            neighbor: Some(neighbor),
            reason,
            macs: macs
                .into_iter()
                .take(MAX_LISTED_MACS)
                .map(str::to_string)
                .collect(),
        });
    }
}
