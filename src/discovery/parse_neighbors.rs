//! Parsers for the neighbour tables: LLDP-MIB (local chassis and ports,
//! remote table, remote management addresses), CISCO-CDP-MIB cache, ARP
//! (ipNetToPhysicalTable, ipNetToMediaTable as fallback) and the bridge
//! forwarding tables (BRIDGE-MIB, Q-BRIDGE-MIB). Pure; malformed rows are
//! skipped, never trusted.
use super::oids;
use super::report::{
    ArpEntry, CdpNeighbor, DeviceReport, FdbEntry, LldpId, LldpLocalPort, LldpNeighbor, dotted,
};
use crate::snmp::table::{
    capped, inet_address, int, ipv4_index, mac, octets, rows, scalars, take_inet_address,
    take_octet_string, text,
};
use crate::topology::{Unresolved, UnresolvedReason};
use crate::types::IfIndex;
use async_snmp::VarBind;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// Render an LLDP id. `mac_subtype` is the subtype meaning "MAC address"
/// (4 for chassis ids, 3 for port ids); 5 (chassis) / 4 (port) is a network
/// address with an IANA family octet first.
fn lldp_id(
    subtype: Option<i64>,
    bytes: Option<&[u8]>,
    mac_subtype: i64,
    net_subtype: i64,
) -> Option<LldpId> {
    let subtype = subtype?;
    let b = bytes?;
    let value = if subtype == mac_subtype && b.len() == 6 {
        mac(b)?
    } else if subtype == net_subtype && !b.is_empty() {
        let (&family, rest) = b.split_first()?;
        match inet_address(family as u32, rest) {
            Some(ip) => ip.to_string(),
            None => hex(b),
        }
    } else {
        printable(b).unwrap_or_else(|| hex(b))
    };
    Some(LldpId {
        subtype: u32::try_from(subtype).ok()?,
        value: capped(value),
    })
}

/// The bytes as text when they are printable, trailing NULs left out
/// (NX-OS pads LLDP port ids with NULs to 16 bytes: `Eth1/25\0\0…`).
fn printable(b: &[u8]) -> Option<String> {
    let end = b.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
    let b = &b[..end];
    let s = std::str::from_utf8(b).ok()?;
    (!s.is_empty() && !s.chars().any(|c| c.is_control())).then(|| s.to_string())
}

fn hex(b: &[u8]) -> String {
    let mut s = String::from("0x");
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

pub fn lldp_local(report: &mut DeviceReport, vbs: &[VarBind]) {
    let loc = scalars(oids::LLDP_LOC, vbs);
    report.lldp_chassis = lldp_id(
        int(loc.get(&1)),
        loc.get(&2).and_then(|v| v.as_bytes()),
        4,
        5,
    );
    report.lldp_sys_name = text(loc.get(&3)).filter(|s| !s.is_empty());
    for (index, cols) in rows(oids::LLDP_LOC_PORT_ENTRY, vbs) {
        let [port] = index.as_slice() else { continue };
        // Agents that leave out the subtype or the id still say something:
        // subtype 0 (none given), the id as text; an empty id with a
        // description is kept for the description.
        let desc = text(cols.get(&4)).filter(|s| !s.is_empty());
        let id = lldp_id(
            Some(int(cols.get(&2)).unwrap_or(0)),
            cols.get(&3).and_then(|v| v.as_bytes()),
            3,
            4,
        );
        let id = match (id, &desc) {
            (Some(id), _) => id,
            (None, Some(_)) => LldpId {
                subtype: 0,
                value: String::new(),
            },
            (None, None) => continue,
        };
        report.lldp_ports.insert(*port, LldpLocalPort { id, desc });
    }
}

/// The remote table's rows, and the rows not used with their reason.
/// Management addresses are paired with their row by the full index
/// (timeMark.localPortNum.remIndex); an address row whose index matches no
/// remote row (agents that put another time mark there) goes to the one
/// row with its port and remIndex. On one local port, an older row of the
/// same neighbour (the same remIndex, or the same chassis and port ids)
/// under an earlier time mark is stale: the newest is kept. Different
/// neighbours on one port under different time marks are all kept (several
/// neighbours behind one port is what the MIB allows, and a row's time
/// mark is when it last changed, not when it was last heard).
pub fn lldp_remote(vbs: &[VarBind]) -> LldpRows {
    let mut mgmt: BTreeMap<Vec<u32>, Vec<IpAddr>> = BTreeMap::new();
    for (index, _) in rows(oids::LLDP_REM_MAN_ADDR_ENTRY, vbs) {
        if let Some((row, ip)) = man_addr_index(&index) {
            mgmt.entry(row.to_vec()).or_default().push(ip);
        }
    }
    let mut out = LldpRows::default();
    let mut all = Vec::new();
    for (index, cols) in rows(oids::LLDP_REM_ENTRY, vbs) {
        // The MIB's index is timeMark.localPortNum.remIndex; other forms
        // (a single index on some agents) do not say our port.
        let local_port = match index.as_slice() {
            [_, port, _] => Some(*port),
            _ => None,
        };
        let chassis = lldp_id(
            int(cols.get(&4)),
            cols.get(&5).and_then(|v| v.as_bytes()),
            4,
            5,
        );
        let port_id = lldp_id(
            int(cols.get(&6)),
            cols.get(&7).and_then(|v| v.as_bytes()),
            3,
            4,
        );
        let sys_name = text(cols.get(&9)).filter(|s| !s.is_empty());
        let (Some(chassis), Some(port_id)) = (chassis, port_id) else {
            if out.unusable.len() < MAX_UNRESOLVED_ROWS {
                out.unusable.push(UnusableRow {
                    index: index.clone(),
                    local_port,
                    sys_name,
                    reason: UnresolvedReason::MissingNeighborId,
                });
            } else {
                out.unlisted += 1;
            }
            continue;
        };
        all.push(LldpNeighbor {
            local_port,
            chassis,
            port: port_id,
            port_desc: text(cols.get(&8)).filter(|s| !s.is_empty()),
            sys_name,
            sys_desc: text(cols.get(&10)).filter(|s| !s.is_empty()),
            mgmt_addrs: mgmt.remove(&index).unwrap_or_default(),
            index,
        });
    }
    // The newest time mark of each neighbour on each port, by remIndex and
    // by chassis and port id: a row under an older one is stale.
    let mut newest_rem: HashMap<(Option<u32>, Option<u32>), u32> = HashMap::new();
    let mut newest_ids: HashMap<(Option<u32>, &LldpId, &LldpId), u32> = HashMap::new();
    for n in &all {
        let Some(&tm) = n.index.first() else { continue };
        let e = newest_rem
            .entry((n.local_port, n.index.get(2).copied()))
            .or_insert(tm);
        *e = (*e).max(tm);
        let e = newest_ids
            .entry((n.local_port, &n.chassis, &n.port))
            .or_insert(tm);
        *e = (*e).max(tm);
    }
    let is_stale = |n: &LldpNeighbor| {
        let Some(&tm) = n.index.first() else {
            return false;
        };
        n.index.len() == 3
            && (newest_rem[&(n.local_port, n.index.get(2).copied())] > tm
                || newest_ids[&(n.local_port, &n.chassis, &n.port)] > tm)
    };
    let stale_flags: Vec<bool> = all.iter().map(is_stale).collect();
    let (mut live, mut stale) = (Vec::new(), Vec::new());
    for (n, old) in all.into_iter().zip(stale_flags) {
        if old { stale.push(n) } else { live.push(n) }
    }
    // Address rows left over: paired by port and remIndex when one live row has them.
    for (index, addrs) in mgmt {
        let Some(key) = index.get(1..).filter(|_| index.len() == 3) else {
            continue;
        };
        let mut same = live.iter_mut().filter(|n| n.index.get(1..) == Some(key));
        if let (Some(n), None) = (same.next(), same.next())
            && n.mgmt_addrs.is_empty()
        {
            n.mgmt_addrs = addrs;
        }
    }
    out.live = live;
    out.stale = stale;
    out
}

/// What lldpRemTable held: the rows in use, the stale ones, and the rows
/// that name no neighbour.
#[derive(Debug, Default)]
pub struct LldpRows {
    pub live: Vec<LldpNeighbor>,
    pub stale: Vec<LldpNeighbor>,
    pub unusable: Vec<UnusableRow>,
    /// Unusable rows beyond [`MAX_UNRESOLVED_ROWS`], counted only.
    pub unlisted: usize,
}

/// At most this many unusable rows of one device are listed; the rest are
/// counted in its `partial` reasons (a hostile or broken agent can send
/// hundreds of thousands).
pub const MAX_UNRESOLVED_ROWS: usize = 1_000;

/// An lldpRemTable row that names no neighbour: its index, our port (when
/// the index says it), the sysName it gave and why it is not used.
#[derive(Debug)]
pub struct UnusableRow {
    pub index: Vec<u32>,
    pub local_port: Option<u32>,
    pub sys_name: Option<String>,
    pub reason: UnresolvedReason,
}

/// An lldpRemManAddrTable index: the remote row's index (the MIB's three
/// arcs, else the single index some agents use), then the address family
/// and the address as a length-prefixed octet string.
fn man_addr_index(index: &[u32]) -> Option<(&[u32], IpAddr)> {
    [3, 1, 2].into_iter().find_map(|n| {
        let (row, rest) = index.split_at_checked(n)?;
        let (family, rest) = rest.split_first()?;
        let (bytes, tail) = take_octet_string(rest)?;
        if !tail.is_empty() {
            return None;
        }
        Some((row, inet_address(*family, &bytes)?))
    })
}

/// A CDP device id or port: some agents (HP ProCurve relaying a server NIC)
/// put raw MAC bytes there, so text only when printable, else a MAC when six
/// bytes, else hex; None when empty.
fn cdp_id(v: Option<&async_snmp::Value>) -> Option<String> {
    let b = v?.as_bytes()?;
    let b = b.strip_suffix(&[0]).unwrap_or(b);
    if b.is_empty() {
        return None;
    }
    Some(capped(
        printable(b).or_else(|| mac(b)).unwrap_or_else(|| hex(b)),
    ))
}

/// The CDP cache's rows, and the rows that name no neighbour or whose
/// index is not cdpCacheIfIndex.cdpCacheDeviceIndex, with their reason
/// (our interface named from `report`'s).
pub fn cdp(report: &DeviceReport, vbs: &[VarBind]) -> (Vec<CdpNeighbor>, Vec<Unresolved>, usize) {
    let mut out = Vec::new();
    let mut unusable = Vec::new();
    let mut unlisted = 0;
    for (index, cols) in rows(oids::CDP_CACHE_ENTRY, vbs) {
        let device_id = cdp_id(cols.get(&6));
        let (reason, if_index) = match (index.as_slice(), &device_id) {
            ([if_index, _], Some(_)) => (None, IfIndex(*if_index)),
            ([if_index, _], None) => (
                Some(UnresolvedReason::MissingNeighborId),
                IfIndex(*if_index),
            ),
            _ => (Some(UnresolvedReason::UnknownIndex), IfIndex(0)),
        };
        let (Some(device_id), None) = (device_id.clone(), reason) else {
            if unusable.len() >= MAX_UNRESOLVED_ROWS {
                unlisted += 1;
                continue;
            }
            unusable.push(Unresolved {
                table: "cdpCacheTable".into(),
                row: dotted(&index),
                local_if: report.interface(if_index).map(|x| x.name.clone()),
                neighbor: device_id,
                reason: reason.unwrap_or(UnresolvedReason::UnknownIndex),
                macs: vec![],
            });
            continue;
        };
        let addr = match (int(cols.get(&3)), cols.get(&4).and_then(|v| v.as_bytes())) {
            (Some(1), Some(b)) => inet_address(1, b),
            (Some(20), Some(b)) => inet_address(2, b),
            _ => None,
        };
        // A row on an ifIndex the interface table does not hold: the link is
        // still drawn (our end unknown), and the row says why.
        if report.interface(if_index).is_none() {
            if unusable.len() >= MAX_UNRESOLVED_ROWS {
                unlisted += 1;
            } else {
                unusable.push(Unresolved {
                    table: "cdpCacheTable".into(),
                    row: dotted(&index),
                    local_if: None,
                    neighbor: Some(device_id.clone()),
                    reason: UnresolvedReason::LocalPortUnknown,
                    macs: vec![],
                });
            }
        }
        out.push(CdpNeighbor {
            if_index,
            device_id,
            port: cdp_id(cols.get(&7)),
            addr,
            platform: text(cols.get(&8)).filter(|s| !s.is_empty()),
        });
    }
    (out, unusable, unlisted)
}

pub fn arp(vbs: &[VarBind]) -> Vec<ArpEntry> {
    let mut out = Vec::new();
    for (index, cols) in rows(oids::IP_NET_TO_PHYSICAL_ENTRY, vbs) {
        let [if_index, rest @ ..] = index.as_slice() else {
            continue;
        };
        let Some((ip, tail)) = take_inet_address(rest) else {
            continue;
        };
        // ipNetToPhysicalType 2 = invalid.
        if !tail.is_empty() || int(cols.get(&6)) == Some(2) {
            continue;
        }
        if let Some(m) = cols.get(&4).and_then(|v| v.as_bytes()).and_then(mac) {
            out.push(ArpEntry {
                if_index: IfIndex(*if_index),
                ip,
                mac: m,
            });
        }
    }
    if out.is_empty() {
        for (index, cols) in rows(oids::IP_NET_TO_MEDIA_ENTRY, vbs) {
            let [if_index, rest @ ..] = index.as_slice() else {
                continue;
            };
            let Some(ip) = ipv4_index(rest) else { continue };
            if int(cols.get(&4)) == Some(2) {
                continue;
            }
            if let Some(m) = cols.get(&2).and_then(|v| v.as_bytes()).and_then(mac) {
                out.push(ArpEntry {
                    if_index: IfIndex(*if_index),
                    ip: IpAddr::V4(ip),
                    mac: m,
                });
            }
        }
    }
    out
}

/// dot1dBasePortIfIndex: bridge port number to ifIndex. A column, not an
/// entry: its values are read directly.
pub fn bridge_ports(vbs: &[VarBind]) -> BTreeMap<u32, IfIndex> {
    let mut port_if = BTreeMap::new();
    for vb in vbs {
        if let Some([port]) = vb.oid.arcs().strip_prefix(oids::DOT1D_BASE_PORT_IF_INDEX)
            && let Some(i) = int(Some(&vb.value)).and_then(|i| u32::try_from(i).ok())
        {
            port_if.insert(*port, IfIndex(i));
        }
    }
    port_if
}

pub fn fdb(vbs: &[VarBind], port_if: &BTreeMap<u32, IfIndex>) -> Vec<FdbEntry> {
    let mut out = Vec::new();
    let mut push = |mac_arcs: &[u32], cols: &crate::snmp::table::Columns, vlan: Option<u32>| {
        let Some(m) = octets(mac_arcs).as_deref().and_then(mac) else {
            return;
        };
        let Some(port) = int(cols.get(&2))
            .and_then(|p| u32::try_from(p).ok())
            .filter(|&p| p > 0)
        else {
            return;
        };
        out.push(FdbEntry {
            mac: m,
            bridge_port: port,
            if_index: port_if.get(&port).copied(),
            status: int(cols.get(&3)),
            vlan,
        });
    };
    for (index, cols) in rows(oids::DOT1D_TP_FDB_ENTRY, vbs) {
        push(&index, &cols, None);
    }
    for (index, cols) in rows(oids::DOT1Q_TP_FDB_ENTRY, vbs) {
        if let [fdb_id, mac_arcs @ ..] = index.as_slice() {
            push(mac_arcs, &cols, Some(*fdb_id));
        }
    }
    out.sort_by(|a, b| (&a.mac, a.bridge_port, a.vlan).cmp(&(&b.mac, b.bridge_port, b.vlan)));
    out.dedup();
    out
}

/// Fill a report's neighbour fields from the walked varbinds.
pub fn fill(report: &mut DeviceReport, vbs: &[VarBind]) {
    report.bridge_ports = bridge_ports(vbs);
    lldp_local(report, vbs);
    let rows = lldp_remote(vbs);
    let local = |report: &DeviceReport, port: Option<u32>| {
        port.and_then(|p| super::resolve::local_lldp_port(report, p))
    };
    for n in &rows.stale {
        let u = n.unresolved(local(report, n.local_port), UnresolvedReason::Stale);
        report.unresolved.push(u);
    }
    for n in rows.live.iter().filter(|n| n.local_port.is_none()) {
        let u = n.unresolved(None, UnresolvedReason::UnknownIndex);
        report.unresolved.push(u);
    }
    for u in rows.unusable {
        report.unresolved.push(Unresolved {
            table: "lldpRemTable".into(),
            row: dotted(&u.index),
            local_if: local(report, u.local_port),
            neighbor: u.sys_name,
            reason: u.reason,
            macs: vec![],
        });
    }
    report.lldp = rows.live;
    let (cdp_rows, mut cdp_unusable, cdp_unlisted) = cdp(report, vbs);
    report.unresolved.append(&mut cdp_unusable);
    let unlisted =
        rows.unlisted + cdp_unlisted + report.unresolved.len().saturating_sub(MAX_UNRESOLVED_ROWS);
    report.unresolved.truncate(MAX_UNRESOLVED_ROWS);
    if unlisted > 0 {
        report.partial.push(format!(
            "neighbour tables: {unlisted} more rows not used in full, not listed"
        ));
    }
    report.cdp = cdp_rows;
    report.arp = arp(vbs);
    report.fdb = fdb(vbs, &report.bridge_ports);
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_snmp::{Oid, Value};

    #[test]
    fn long_lldp_and_cdp_ids_are_capped() {
        let max = crate::snmp::table::MAX_TEXT_BYTES;
        let long = vec![b'c'; 65_000];
        let id = lldp_id(Some(7), Some(&long), 4, 5).unwrap();
        assert_eq!(id.value.len(), max + '…'.len_utf8());
        // Not printable: hex, twice as long, capped too.
        let raw = vec![0x01u8; 40_000];
        let id = lldp_id(Some(7), Some(&raw), 4, 5).unwrap();
        assert!(id.value.starts_with("0x0101") && id.value.ends_with('…'));
        assert_eq!(id.value.len(), max + '…'.len_utf8());
        let v = Value::OctetString(long.into());
        assert_eq!(cdp_id(Some(&v)).unwrap().len(), max + '…'.len_utf8());
        // Short ids are untouched.
        assert_eq!(lldp_id(Some(7), Some(b"sw1"), 4, 5).unwrap().value, "sw1");
    }

    fn cdp_row(if_index: u32, col: u32, v: &[u8]) -> VarBind {
        let oid = [oids::CDP_CACHE_ENTRY, &[col, if_index, 1]].concat();
        VarBind::new(Oid::from_slice(&oid), Value::OctetString(v.to_vec().into()))
    }

    #[test]
    fn cdp_binary_device_id_and_port_are_rendered_not_mangled() {
        // As recorded on an HP ProCurve 6120XG: a server NIC's MAC as raw bytes.
        let mac_bytes = [0xe8, 0x39, 0x35, 0x1a, 0xca, 0x99];
        let vbs = [
            cdp_row(8, 6, &mac_bytes),
            cdp_row(8, 7, &mac_bytes),
            cdp_row(9, 6, b"sw-core-2\0"),
            cdp_row(9, 7, b"GigabitEthernet0/1"),
            cdp_row(10, 6, &[0xff, 0x01, 0x02]),
            cdp_row(10, 7, b""),
            cdp_row(11, 6, b"\0"),
        ];
        let (n, unusable, _) = cdp(&DeviceReport::default(), &vbs);
        assert_eq!(n.len(), 3);
        // The row whose device id is a lone NUL names no neighbour: listed.
        let missing: Vec<_> = unusable
            .iter()
            .filter(|u| u.reason == UnresolvedReason::MissingNeighborId)
            .collect();
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].row, "11.1");
        // This report holds no interfaces: the other three rows are drawn
        // with our port unknown, and listed saying so.
        let unknown: Vec<&str> = unusable
            .iter()
            .filter(|u| u.reason == UnresolvedReason::LocalPortUnknown)
            .map(|u| u.row.as_str())
            .collect();
        assert_eq!(unknown, ["8.1", "9.1", "10.1"]);
        assert_eq!(n[0].device_id, "e8:39:35:1a:ca:99");
        assert_eq!(n[0].port.as_deref(), Some("e8:39:35:1a:ca:99"));
        assert_eq!(n[1].device_id, "sw-core-2");
        assert_eq!(n[1].port.as_deref(), Some("GigabitEthernet0/1"));
        assert_eq!(n[2].device_id, "0xff0102");
        assert_eq!(n[2].port, None);
    }

    #[test]
    fn unusable_rows_are_listed_up_to_a_cap_and_counted_beyond() {
        // An endless agent: lldpRemSysName rows only, no chassis or port id.
        let vbs: Vec<VarBind> = (0..MAX_UNRESOLVED_ROWS as u32 + 500)
            .map(|k| {
                let oid = [oids::LLDP_REM_ENTRY, &[9, 0, 2, k]].concat();
                VarBind::new(Oid::from_slice(&oid), Value::OctetString("x".into()))
            })
            .collect();
        let mut r = DeviceReport::default();
        fill(&mut r, &vbs);
        assert!(r.lldp.is_empty());
        assert_eq!(r.unresolved.len(), MAX_UNRESOLVED_ROWS);
        assert_eq!(
            r.partial,
            ["neighbour tables: 500 more rows not used in full, not listed"]
        );
    }
}
