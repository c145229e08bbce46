//! VLAN membership as the switch is configured, from Q-BRIDGE-MIB: which
//! VLANs each port sends tagged and which untagged (dot1qVlanCurrentTable's
//! EgressPorts and UntaggedPorts, or dot1qVlanStaticTable's when an agent
//! has no current table). The PortList bitmaps are decoded here and their
//! bridge ports named through dot1dBasePortIfIndex. Pure: varbinds in, a
//! membership out; `read` walks the tables, `links::fdb_ports` uses the
//! answer to tell trunks from access ports.
use super::oids;
use crate::types::IfIndex;
use async_snmp::{Value, VarBind};
use std::collections::{BTreeMap, BTreeSet};

/// The longest PortList decoded, in octets: 8,192 octets name bridge ports
/// 1 to 65,535, every port dot1dBasePort can number. Bits past it are not
/// read.
pub const MAX_PORT_LIST_BYTES: usize = 8192;

/// The most (port, VLAN) memberships read from one agent, every port set
/// in an egress list counted (the ZTE ZXR10 5250 of the corpus, every port
/// in all 4,094 VLANs, has 114,632). A hostile or broken agent can claim
/// 65,535 ports in each VLAN; past this the membership is not used at all
/// (a cut table would make a trunk look like an access port) and the
/// report's `partial` says so.
pub const MAX_MEMBERSHIPS: usize = 1_000_000;

/// Which table the membership was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VlanSource {
    /// dot1qVlanCurrentTable: the VLANs as the switch runs them.
    Current,
    /// dot1qVlanStaticTable: as configured (read when there is no current
    /// table).
    Static,
}

impl VlanSource {
    /// The table's name, as reasons cite it.
    pub fn table(self) -> &'static str {
        match self {
            VlanSource::Current => "dot1qVlanCurrentTable",
            VlanSource::Static => "dot1qVlanStaticTable",
        }
    }
}

/// The VLANs one port carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortVlans {
    /// VLANs whose frames leave the port untagged.
    pub untagged: BTreeSet<u32>,
    /// VLANs whose frames leave the port tagged (egress, not untagged).
    pub tagged: BTreeSet<u32>,
}

/// Tagged VLANs that make a port a trunk by its configuration (the same
/// bound as VLANs learned in the forwarding table).
pub const TRUNK_TAGGED: usize = 3;

impl PortVlans {
    /// A trunk by its configuration: it sends [`TRUNK_TAGGED`] or more
    /// VLANs tagged. Fewer tagged VLANs are an access port's shapes: a
    /// voice VLAN for an IP phone with a computer behind it, or an access
    /// point's or a server's one or two tagged VLANs; the hosts seen there
    /// are attached there. (Measured on the real recordings: counting any
    /// tagged VLAN as a trunk took 45 correctly placed hosts off their
    /// ports — VMs on blade-server ports, phones' ports — and placed none.)
    pub fn is_trunk(&self) -> bool {
        self.tagged.len() >= TRUNK_TAGGED
    }

    /// One VLAN untagged and one tagged.
    pub fn is_voice_access(&self) -> bool {
        self.untagged.len() == 1 && self.tagged.len() == 1
    }
}

/// A switch's VLAN membership per port (ports named by ifIndex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VlanMembership {
    pub source: VlanSource,
    pub ports: BTreeMap<IfIndex, PortVlans>,
}

/// The bridge ports (1-based) set in a PortList: octet 0's most
/// significant bit is port 1, its least significant port 8, the next
/// octet's most significant port 9 (Q-BRIDGE-MIB's PortList). Short lists
/// name fewer ports (the rest are not members), an empty list none; octets
/// past [`MAX_PORT_LIST_BYTES`] are not read.
pub fn port_list(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes
        .iter()
        .take(MAX_PORT_LIST_BYTES)
        .enumerate()
        .filter(|(_, b)| **b != 0)
        .flat_map(|(i, &b)| {
            (0..8u32)
                .filter(move |bit| b & (0x80 >> bit) != 0)
                .map(move |bit| i as u32 * 8 + bit + 1)
        })
}

/// Whether bridge port `port` (1-based) is set in a PortList.
pub fn in_port_list(bytes: &[u8], port: u32) -> bool {
    let Some(i) = port.checked_sub(1) else {
        return false;
    };
    let (octet, bit) = ((i / 8) as usize, i % 8);
    octet < MAX_PORT_LIST_BYTES && bytes.get(octet).is_some_and(|b| b & (0x80 >> bit) != 0)
}

/// The membership an agent gave, read from the current table, or from the
/// static table when the current one has no usable row; None when neither
/// has one, when no port of them is in dot1dBasePortIfIndex, or when the
/// agent claims more than [`MAX_MEMBERSHIPS`] (then with the reason to
/// add to the report's `partial`).
pub fn membership(
    vbs: &[VarBind],
    bridge_ports: &BTreeMap<u32, IfIndex>,
) -> (Option<VlanMembership>, Option<String>) {
    // Current: index (dot1qVlanTimeMark, dot1qVlanIndex), egress 4,
    // untagged 5. Static: index dot1qVlanIndex, egress 2, untagged 4.
    let current = lists(oids::DOT1Q_VLAN_CURRENT_ENTRY, vbs, 2, (4, 5));
    let (source, lists) = if current.is_empty() {
        let st = lists(oids::DOT1Q_VLAN_STATIC_ENTRY, vbs, 1, (2, 4));
        (VlanSource::Static, st)
    } else {
        (VlanSource::Current, current)
    };
    let mut ports: BTreeMap<IfIndex, PortVlans> = BTreeMap::new();
    let mut read = 0usize;
    for (vlan, (egress, untagged)) in lists {
        for bp in port_list(egress) {
            read += 1;
            if read > MAX_MEMBERSHIPS {
                let why = format!(
                    "{}: more than {MAX_MEMBERSHIPS} port memberships, VLAN membership not used",
                    source.table()
                );
                return (None, Some(why));
            }
            let Some(&ifx) = bridge_ports.get(&bp) else {
                continue;
            };
            let p = ports.entry(ifx).or_default();
            if in_port_list(untagged, bp) {
                p.untagged.insert(vlan);
            } else {
                p.tagged.insert(vlan);
            }
        }
    }
    let m = (!ports.is_empty()).then_some(VlanMembership { source, ports });
    (m, None)
}

/// Each VLAN's (egress, untagged) PortLists from a table whose index is
/// `index_len` arcs, the last the VLAN (rows of another shape are not the
/// MIB's and are skipped). A VLAN without both lists is left out: without
/// its untagged ports every egress port would look tagged. Under several
/// time marks (current table) the lowest time mark's row is kept. The
/// lists are borrowed, not copied: 4,094 VLANs of long lists add up.
type Lists<'v> = Vec<(u32, (&'v [u8], &'v [u8]))>;

fn lists<'v>(
    entry: &[u32],
    vbs: &'v [VarBind],
    index_len: usize,
    (egress, untagged): (u32, u32),
) -> Lists<'v> {
    let mut out: BTreeMap<u32, (&[u8], &[u8])> = BTreeMap::new();
    type Pair<'v> = (Option<&'v [u8]>, Option<&'v [u8]>);
    let mut cols: BTreeMap<&[u32], Pair<'v>> = BTreeMap::new();
    for vb in vbs {
        let Some(rest) = vb.oid.arcs().strip_prefix(entry) else {
            continue;
        };
        let Some((&col, index)) = rest.split_first() else {
            continue;
        };
        let Value::OctetString(b) = &vb.value else {
            continue;
        };
        if index.len() != index_len || (col != egress && col != untagged) {
            continue;
        }
        let c = cols.entry(index).or_default();
        if col == egress {
            c.0 = Some(&b[..]);
        } else {
            c.1 = Some(&b[..]);
        }
    }
    for (index, (e, u)) in cols {
        let (Some(&vlan), Some(e), Some(u)) = (index.last(), e, u) else {
            continue;
        };
        if vlan > 0 {
            out.entry(vlan).or_insert((e, u));
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_snmp::Oid;

    fn vb(entry: &[u32], col: u32, index: &[u32], bytes: &[u8]) -> VarBind {
        let mut arcs = entry.to_vec();
        arcs.push(col);
        arcs.extend_from_slice(index);
        VarBind::new(
            Oid::from_slice(&arcs),
            Value::OctetString(bytes.to_vec().into()),
        )
    }

    /// A current-table row (time mark 0) of `vlan`.
    fn current(vlan: u32, egress: &[u8], untagged: &[u8]) -> Vec<VarBind> {
        let e = oids::DOT1Q_VLAN_CURRENT_ENTRY;
        vec![vb(e, 4, &[0, vlan], egress), vb(e, 5, &[0, vlan], untagged)]
    }

    fn statik(vlan: u32, egress: &[u8], untagged: &[u8]) -> Vec<VarBind> {
        let e = oids::DOT1Q_VLAN_STATIC_ENTRY;
        vec![vb(e, 2, &[vlan], egress), vb(e, 4, &[vlan], untagged)]
    }

    /// Bridge port n is ifIndex 100 + n, for ports 1..=64.
    fn bridge() -> BTreeMap<u32, IfIndex> {
        (1..=64).map(|n| (n, IfIndex(100 + n))).collect()
    }

    fn ports(b: &[u8]) -> Vec<u32> {
        port_list(b).collect()
    }

    fn set(v: &[u32]) -> BTreeSet<u32> {
        v.iter().copied().collect()
    }

    #[test]
    fn a_port_list_is_most_significant_bit_first() {
        assert_eq!(ports(&[0x80]), [1]);
        assert_eq!(ports(&[0x01]), [8]);
        assert_eq!(ports(&[0x00, 0x80]), [9]);
        // The D-Link DES-3200's VLAN 1 egress list, as recorded.
        assert_eq!(
            ports(&[0x7c, 0x7b, 0xc0, 0, 0, 0, 0, 0]),
            [2, 3, 4, 5, 6, 10, 11, 12, 13, 15, 16, 17, 18]
        );
        assert_eq!(ports(&[0xff]), [1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn membership_of_one_port_in_a_port_list() {
        let list = [0x7c, 0x7b, 0xc0];
        let set: Vec<u32> = (0..40).filter(|&p| in_port_list(&list, p)).collect();
        assert_eq!(set, ports(&list));
        assert!(!in_port_list(&[], 1) && !in_port_list(&[0xff], 0));
        let mut long = vec![0xffu8; MAX_PORT_LIST_BYTES + 1];
        long[0] = 0;
        assert!(!in_port_list(&long, 1) && in_port_list(&long, 9));
        assert!(!in_port_list(&long, MAX_PORT_LIST_BYTES as u32 * 8 + 1));
        assert!(!in_port_list(&long, u32::MAX));
    }

    #[test]
    fn hostile_port_lists_empty_short_and_long() {
        assert!(ports(&[]).is_empty());
        assert!(ports(&[0; 3]).is_empty());
        // Short: a list that stops early names only the ports it covers.
        assert_eq!(ports(&[0x40]), [2]);
        // Long: octets past the cap are not read; the last port read is
        // 65,536 (8,192 octets), never more.
        let mut long = vec![0u8; MAX_PORT_LIST_BYTES + 1000];
        long[MAX_PORT_LIST_BYTES - 1] = 0x01;
        long[MAX_PORT_LIST_BYTES] = 0xff;
        long[MAX_PORT_LIST_BYTES + 999] = 0xff;
        assert_eq!(ports(&long), [MAX_PORT_LIST_BYTES as u32 * 8]);
    }

    #[test]
    fn tagged_and_untagged_ports_per_vlan_through_the_bridge_port_map() {
        // VLAN 1: ports 1, 2, 3 egress, 1 and 2 untagged. VLAN 10: port 3
        // tagged, port 4 untagged. VLAN 20: port 3 tagged, port 2 tagged.
        let vbs = [
            current(1, &[0xe0], &[0xc0]),
            current(10, &[0x30], &[0x10]),
            current(20, &[0x60], &[0x00]),
        ]
        .concat();
        let (m, why) = membership(&vbs, &bridge());
        assert_eq!(why, None);
        let m = m.unwrap();
        assert_eq!(m.source, VlanSource::Current);
        let p = |n: u32| m.ports[&IfIndex(100 + n)].clone();
        assert_eq!(
            p(1),
            PortVlans {
                untagged: set(&[1]),
                tagged: set(&[])
            }
        );
        assert_eq!(
            p(2),
            PortVlans {
                untagged: set(&[1]),
                tagged: set(&[20])
            }
        );
        assert_eq!(
            p(3),
            PortVlans {
                untagged: set(&[]),
                tagged: set(&[1, 10, 20])
            }
        );
        assert_eq!(
            p(4),
            PortVlans {
                untagged: set(&[10]),
                tagged: set(&[])
            }
        );
        assert!(!p(1).is_trunk() && !p(4).is_trunk());
        // One VLAN untagged, one tagged: an access port with a voice VLAN.
        assert!(p(2).is_voice_access() && !p(2).is_trunk());
        assert!(p(3).is_trunk());
    }

    #[test]
    fn the_static_table_only_when_the_current_one_has_no_row() {
        let st = statik(5, &[0x80], &[0x00]);
        let (m, _) = membership(&st, &bridge());
        let m = m.unwrap();
        assert_eq!(m.source, VlanSource::Static);
        assert_eq!(m.ports[&IfIndex(101)].tagged, set(&[5]));
        // With a current table, the static one is not read.
        let both = [st, current(7, &[0x80], &[0x80])].concat();
        let m = membership(&both, &bridge()).0.unwrap();
        assert_eq!(m.source, VlanSource::Current);
        assert_eq!(m.ports[&IfIndex(101)].untagged, set(&[7]));
        assert!(m.ports[&IfIndex(101)].tagged.is_empty());
    }

    #[test]
    fn rows_that_cannot_be_read_whole_are_left_out() {
        let e = oids::DOT1Q_VLAN_CURRENT_ENTRY;
        let vbs = vec![
            // VLAN 2 has egress ports but no untagged list: not guessed
            // (every egress port would look tagged).
            vb(e, 4, &[0, 2], &[0xff]),
            // An index of the wrong shape, a VLAN 0 and an integer value.
            vb(e, 4, &[3], &[0x80]),
            vb(e, 5, &[3], &[0x00]),
            vb(e, 4, &[0, 0], &[0x80]),
            vb(e, 5, &[0, 0], &[0x00]),
            VarBind::new(
                Oid::from_slice(&[e, &[4, 0, 9]].concat()),
                Value::Integer(1),
            ),
            vb(e, 5, &[0, 9], &[0x00]),
        ];
        assert_eq!(membership(&vbs, &bridge()), (None, None));
        // A port that is no bridge port in dot1dBasePortIfIndex is not named.
        let vbs = current(
            4,
            &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80],
            &[],
        );
        assert_eq!(membership(&vbs, &bridge()), (None, None));
    }

    #[test]
    fn under_several_time_marks_the_lowest_is_read() {
        let e = oids::DOT1Q_VLAN_CURRENT_ENTRY;
        let vbs = vec![
            vb(e, 4, &[0, 6], &[0x80]),
            vb(e, 5, &[0, 6], &[0x80]),
            vb(e, 4, &[500, 6], &[0x80]),
            vb(e, 5, &[500, 6], &[0x00]),
        ];
        let m = membership(&vbs, &bridge()).0.unwrap();
        assert_eq!(m.ports[&IfIndex(101)].untagged, set(&[6]));
        assert!(m.ports[&IfIndex(101)].tagged.is_empty());
    }

    #[test]
    fn an_agent_claiming_too_many_memberships_is_not_used_and_says_so() {
        // 256 ports in each of 4,094 VLANs: 1,048,064 memberships, counted
        // also where no bridge port names them (here 64 do).
        let all = [0xffu8; 32];
        let vbs: Vec<VarBind> = (1..=4094).flat_map(|v| current(v, &all, &[])).collect();
        let (m, why) = membership(&vbs, &bridge());
        assert_eq!(m, None);
        assert!(why.unwrap().contains("VLAN membership not used"));
    }
}
