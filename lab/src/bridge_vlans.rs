//! VLANs for a lab switch on a kernel without bridge VLAN filtering or
//! 802.1Q devices: each VLAN N is a Linux bridge `brN` of its own next to
//! `br0` (VLAN 1). An access port is a port of `brN`; a trunk `X` is `X` on
//! `br0` plus one cable `X.N` per VLAN on `brN`, which the agent reports as
//! the one port `X` carrying VLAN N. This module merges a VLAN bridge's
//! snapshot into `br0`'s, so the served tables look like one VLAN-aware
//! bridge: dot1qTpFdbTable per VLAN, trunks as one port, and its VLAN
//! membership (dot1qVlanCurrentTable): `br0`'s ports send VLAN 1
//! untagged, an access port its VLAN untagged, a trunk VLAN N tagged.
//!
//! Pure: snapshots in, a snapshot out.
use super::bridge_mib::{BridgePort, BridgeSnapshot, FdbEntry, PortNo, VlanPorts};

/// Bridge port numbers of VLAN bridges' access ports start here (plus the
/// port's ifindex), clear of `br0`'s own numbers.
pub const ACCESS_PORT_BASE: u16 = 1024;

/// The VLAN a bridge named `brN` carries (2..=4094); None for `br0` and
/// any other name.
pub fn vlan_of_bridge(name: &str) -> Option<u16> {
    let digits = name.strip_prefix("br")?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|v| (2..=4094).contains(v))
}

/// Adds VLAN `vid`'s bridge (its ports and forwarding entries, as
/// `parse_fdb_json` read them for that bridge) to `base`, the snapshot of
/// `br0`. A port `X.vid` where `X` is a port of `br0` is the trunk `X`; any
/// other port is an access port, added to `base`'s ports. The VLAN bridge's
/// own address (port 0) is left out. Entries are kept sorted by (VLAN, MAC,
/// port) as `parse_fdb_json` sorts them.
pub fn merge_vlan_bridge(
    base: &mut BridgeSnapshot,
    vid: u16,
    ports: &[BridgePort],
    fdb: Vec<FdbEntry>,
) {
    let suffix = format!(".{vid}");
    // The first VLAN bridge merged: br0's own ports are VLAN 1's, untagged.
    if base.vlans.is_empty() {
        let own: std::collections::BTreeSet<PortNo> = base
            .ports
            .iter()
            .map(|p| p.port)
            .filter(|p| p.0 > 0)
            .collect();
        base.vlans.insert(
            1,
            VlanPorts {
                egress: own.clone(),
                untagged: own,
            },
        );
    }
    let mut members = VlanPorts::default();
    let mut map: Vec<(PortNo, PortNo)> = Vec::new();
    for p in ports {
        let trunk = p
            .ifname
            .strip_suffix(&suffix)
            .and_then(|x| base.ports.iter().find(|b| b.ifname == x))
            .map(|b| b.port);
        let merged = match trunk {
            Some(t) => {
                members.egress.insert(t);
                t
            }
            None => {
                let Some(n) = u16::try_from(p.if_index)
                    .ok()
                    .and_then(|i| ACCESS_PORT_BASE.checked_add(i))
                else {
                    continue;
                };
                if !base.ports.iter().any(|b| b.port == PortNo(n)) {
                    base.ports.push(BridgePort {
                        ifname: p.ifname.clone(),
                        port: PortNo(n),
                        if_index: p.if_index,
                    });
                }
                members.egress.insert(PortNo(n));
                members.untagged.insert(PortNo(n));
                PortNo(n)
            }
        };
        map.push((p.port, merged));
    }
    base.vlans.insert(vid, members);
    for e in fdb {
        let Some(&(_, port)) = map.iter().find(|(from, _)| *from == e.port) else {
            continue; // port 0 (the VLAN bridge itself) or a port not mapped
        };
        base.fdb.push(FdbEntry {
            port,
            vlan: Some(vid),
            ..e
        });
    }
    base.ports.sort_by_key(|p| p.port);
    base.fdb
        .sort_by_key(|e| (e.vlan.unwrap_or(0), e.mac, e.port));
    base.fdb.dedup_by(|a, b| a.vlan == b.vlan && a.mac == b.mac);
}

#[cfg(test)]
mod tests {
    use super::super::bridge_mib::{FdbStatus, MibView, Oid};
    use super::*;

    fn port(ifname: &str, port: u16, if_index: u32) -> BridgePort {
        BridgePort {
            ifname: ifname.into(),
            port: PortNo(port),
            if_index,
        }
    }

    fn learned(last: u8, port: u16) -> FdbEntry {
        FdbEntry {
            mac: [2, 0, 0, 0, 0, last],
            port: PortNo(port),
            status: FdbStatus::Learned,
            vlan: None,
        }
    }

    #[test]
    fn vlan_bridge_names() {
        assert_eq!(vlan_of_bridge("br10"), Some(10));
        assert_eq!(vlan_of_bridge("br4094"), Some(4094));
        for n in [
            "br0", "br1", "br", "br010", "br4095", "brx", "eth10", "br1x",
        ] {
            assert_eq!(vlan_of_bridge(n), None, "{n}");
        }
    }

    #[test]
    fn trunk_cables_are_one_port_and_access_ports_are_added() {
        let mut base = BridgeSnapshot {
            address: Some([2, 0, 0, 0, 0, 0xaa]),
            ports: vec![port("noc", 1, 5), port("t12", 2, 6)],
            fdb: vec![learned(1, 2), learned(9, 1)],
            vlans: Default::default(),
        };
        // br10: access port h1a (ifindex 8) and the trunk's VLAN 10 cable.
        let ports = [port("h1a", 1, 8), port("t12.10", 2, 9)];
        let fdb = vec![
            learned(0x0a, 1),
            learned(0x0b, 2),
            FdbEntry {
                port: PortNo(0),
                status: FdbStatus::OwnAddress,
                ..learned(0x10, 0)
            },
        ];
        merge_vlan_bridge(&mut base, 10, &ports, fdb);
        let ports: Vec<(&str, u16)> = base
            .ports
            .iter()
            .map(|p| (p.ifname.as_str(), p.port.0))
            .collect();
        assert_eq!(ports, vec![("noc", 1), ("t12", 2), ("h1a", 1032)]);
        let fdb: Vec<(u8, u16, Option<u16>)> = base
            .fdb
            .iter()
            .map(|e| (e.mac[5], e.port.0, e.vlan))
            .collect();
        assert_eq!(
            fdb,
            vec![
                (1, 2, None),
                (9, 1, None),
                (0x0a, 1032, Some(10)),
                (0x0b, 2, Some(10))
            ]
        );
        // VLAN 1 is br0's ports untagged; VLAN 10 the trunk tagged and the
        // access port untagged.
        let set = |v: &[u16]| v.iter().map(|&p| PortNo(p)).collect();
        assert_eq!(base.vlans[&1].egress, set(&[1, 2]));
        assert_eq!(base.vlans[&1].untagged, set(&[1, 2]));
        assert_eq!(base.vlans[&10].egress, set(&[2, 1032]));
        assert_eq!(base.vlans[&10].untagged, set(&[1032]));
        // Served: the trunk host in Q-BRIDGE FDB 10 on the trunk's port.
        let view = MibView::build(&base);
        let q = Oid(vec![
            1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1, 2, 10, 2, 0, 0, 0, 0, 0x0b,
        ]);
        assert!(
            view.get(&q)
                .is_some_and(|(_, v)| *v == super::super::bridge_mib::Value::Integer(2))
        );
        // And VLAN 10's PortLists: ports 2 and 1032 egress (129 octets,
        // port 1032 the last octet's least significant bit), 1032 untagged.
        let vlan_col = |c: u32| Oid(vec![1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 2, 1, c, 0, 10]);
        let list = |c: u32| match view.get(&vlan_col(c)) {
            Some((_, super::super::bridge_mib::Value::Octet(b))) => b.clone(),
            other => panic!("{other:?}"),
        };
        let mut egress = vec![0u8; 129];
        egress[0] = 0x40;
        egress[128] = 0x01;
        assert_eq!(list(4), egress);
        let mut untagged = vec![0u8; 129];
        untagged[128] = 0x01;
        assert_eq!(list(5), untagged);
    }
}
