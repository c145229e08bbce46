//! Unit tests of forwarding-table host placement: the ports facing other
//! switches found through our own LLDP port resolution (not the port
//! number taken as an ifIndex) and by the VLANs learned on them, and the
//! reason on every host placed and every MAC not placed.
use super::build_topology;
use super::tests::{dev, names, nb};
use crate::discovery::report::*;
use crate::topology::{Topology, UnresolvedReason};
use crate::types::IfIndex;

fn fdb(mac: &str, if_index: u32, vlan: Option<u32>) -> FdbEntry {
    FdbEntry {
        mac: mac.into(),
        bridge_port: if_index,
        if_index: Some(IfIndex(if_index)),
        status: Some(3),
        vlan,
    }
}

/// The hosts drawn (`mac-…` devices) as `host@port`.
fn hosts(t: &Topology) -> Vec<String> {
    let mut v: Vec<String> = names(t)
        .into_iter()
        .filter(|g| g.0.starts_with("mac-") || g.1.starts_with("mac-"))
        .map(|g| {
            let (h, p) = if g.0.starts_with("mac-") {
                (g.0, g.1)
            } else {
                (g.1, g.0)
            };
            format!("{}@{p}", h.trim_end_matches(":?"))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_port_facing_an_lldp_neighbour_is_our_resolved_port_not_the_number_as_if_index() {
    // lldpLocPortNum 1 is Gi0/1 (ifIndex 10001) by its own port id; ifIndex
    // 1 is another port, Gi0/9, with one host on it.
    let mut sw = dev(
        "sw",
        "aa:00:00:00:00:01",
        &[
            (1, "Gi0/9", "02:00:00:00:01:09"),
            (10001, "Gi0/1", "02:00:00:00:01:01"),
        ],
    );
    sw.lldp_ports.insert(
        1,
        LldpLocalPort {
            id: LldpId {
                subtype: 5,
                value: "Gi0/1".into(),
            },
            desc: None,
        },
    );
    // An unmanaged switch behind Gi0/1, three MACs learned through it.
    sw.lldp.push(nb(1, "aa:00:00:00:00:99", 5, "eth0"));
    sw.fdb = vec![
        fdb("02:77:00:00:00:01", 1, None),
        fdb("02:88:00:00:00:01", 10001, None),
        fdb("02:88:00:00:00:02", 10001, None),
        fdb("02:88:00:00:00:03", 10001, None),
    ];
    let t = build_topology(&[sw]);
    assert_eq!(
        hosts(&t),
        vec!["mac-02:77:00:00:00:01@sw:Gi0/9"],
        "{:?}",
        names(&t)
    );
    let d = t.devices.iter().find(|d| d.id.0 == "sw").or_else(|| {
        t.devices
            .iter()
            .find(|d| d.sys_name.as_deref() == Some("sw"))
    });
    let d = d.expect("the switch");
    let row = d
        .unresolved
        .iter()
        .find(|u| u.reason == UnresolvedReason::LearnedBehindUplink)
        .unwrap_or_else(|| panic!("{:?}", d.unresolved));
    assert_eq!(row.local_if.as_deref(), Some("Gi0/1"));
    assert_eq!(
        row.macs,
        vec![
            "02:88:00:00:00:01",
            "02:88:00:00:00:02",
            "02:88:00:00:00:03"
        ]
    );
    assert!(
        row.neighbor
            .as_deref()
            .is_some_and(|n| n.contains("LLDP/CDP neighbour")),
        "{row:?}"
    );
}

#[test]
fn a_port_carrying_three_vlans_is_a_trunk_and_two_are_an_edge_port() {
    // No LLDP, no other bridge managed: only the VLANs tell the trunk.
    let mut sw = dev(
        "sw",
        "aa:00:00:00:00:01",
        &[
            (1, "p1", "02:00:00:00:01:01"),
            (2, "p2", "02:00:00:00:01:02"),
            (9, "trunk", "02:00:00:00:01:09"),
        ],
    );
    sw.fdb = vec![
        // p1: one host in VLAN 10.
        fdb("02:77:00:00:00:0a", 1, Some(10)),
        // p2: a PC in VLAN 10 and a phone in VLAN 20 (data and voice).
        fdb("02:77:00:00:00:0b", 2, Some(10)),
        fdb("02:77:00:00:00:0c", 2, Some(20)),
        // trunk: another switch's MAC in VLAN 1 and its hosts in 10 and 20.
        fdb("02:99:00:00:00:01", 9, Some(1)),
        fdb("02:99:00:00:00:0a", 9, Some(10)),
        fdb("02:99:00:00:00:0b", 9, Some(20)),
        // the same MAC from the VLAN-unaware table as well: one place.
        fdb("02:99:00:00:00:0b", 9, None),
    ];
    let t = build_topology(&[sw]);
    assert_eq!(
        hosts(&t),
        vec![
            "mac-02:77:00:00:00:0a@sw:p1",
            "mac-02:77:00:00:00:0b@sw:p2",
            "mac-02:77:00:00:00:0c@sw:p2",
        ],
        "{:?}",
        names(&t)
    );
    let sw = t
        .devices
        .iter()
        .find(|d| d.sys_name.as_deref() == Some("sw"))
        .unwrap();
    let [row] = sw.unresolved.as_slice() else {
        panic!("{:?}", sw.unresolved)
    };
    assert_eq!(row.reason, UnresolvedReason::LearnedBehindUplink);
    assert_eq!(row.local_if.as_deref(), Some("trunk"));
    assert_eq!(row.macs.len(), 3);
    assert!(
        row.neighbor
            .as_deref()
            .is_some_and(|n| n.contains("3 VLANs")),
        "{row:?}"
    );
    // Each host says why its port: here the phone on p2.
    let phone = t
        .devices
        .iter()
        .find(|d| d.id.0 == "mac-02:77:00:00:00:0c")
        .unwrap();
    let [p] = phone.placement.as_slice() else {
        panic!("{:?}", phone.placement)
    };
    assert_eq!(
        (p.switch.0.as_str(), p.if_name.as_str()),
        (sw.id.0.as_str(), "p2")
    );
    assert_eq!(p.vlans, vec![20]);
    assert!(p.reason.contains("in VLAN 20"), "{}", p.reason);
    assert!(p.reason.contains("2 VLANs (fewer than 3)"), "{}", p.reason);
    assert!(p.reason.contains("2 MACs learned on it"), "{}", p.reason);
}

#[test]
fn placement_and_unplaced_macs_are_in_the_json_and_absent_when_empty() {
    let mut sw = dev(
        "sw",
        "aa:00:00:00:00:01",
        &[
            (1, "p1", "02:00:00:00:01:01"),
            (9, "up", "02:00:00:00:01:09"),
        ],
    );
    sw.fdb = vec![fdb("02:77:00:00:00:0a", 1, Some(10))];
    sw.fdb
        .extend((0..16).map(|i| fdb(&format!("02:99:00:00:00:{i:02x}"), 9, Some(10))));
    let t = build_topology(&[sw]);
    let v = serde_json::to_value(&t).unwrap();
    let devs = v["devices"].as_array().unwrap();
    let host = devs
        .iter()
        .find(|d| d["id"] == "mac-02:77:00:00:00:0a")
        .unwrap();
    assert_eq!(host["placement"][0]["if_name"], "p1");
    assert_eq!(host["placement"][0]["vlans"][0], 10);
    assert!(
        host["placement"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("learned on no other port")
    );
    let sw = devs.iter().find(|d| d["sys_name"] == "sw").unwrap();
    assert!(sw.get("placement").is_none(), "{sw}");
    let row = &sw["unresolved"][0];
    assert_eq!(row["reason"], "learned_behind_uplink");
    assert_eq!(row["macs"].as_array().unwrap().len(), 16);
}

#[test]
fn an_ambiguous_lldp_port_number_keeps_hosts_off_both_ports_it_could_be() {
    // LLDP port number 1 is ifIndex 1 (p1) or bridge port 1 = ifIndex 10
    // (p10), and nothing else names it: neither port gets hosts.
    let mut sw = dev(
        "sw",
        "aa:00:00:00:00:01",
        &[
            (1, "p1", "02:00:00:00:01:01"),
            (10, "p10", "02:00:00:00:01:0a"),
            (2, "p2", "02:00:00:00:01:02"),
        ],
    );
    sw.bridge_ports.insert(1, IfIndex(10));
    sw.lldp.push(nb(1, "aa:00:00:00:00:99", 5, "eth0"));
    sw.fdb = vec![
        fdb("02:77:00:00:00:01", 1, None),
        fdb("02:77:00:00:00:0a", 10, None),
        fdb("02:77:00:00:00:02", 2, None),
    ];
    let t = build_topology(&[sw]);
    assert_eq!(
        hosts(&t),
        vec!["mac-02:77:00:00:00:02@sw:p2"],
        "{:?}",
        names(&t)
    );
}

#[test]
fn the_configured_vlan_membership_decides_trunks_over_the_vlans_learned() {
    use crate::discovery::vlans::{PortVlans, VlanMembership, VlanSource};
    use std::collections::{BTreeMap, BTreeSet};
    let set = |v: &[u32]| v.iter().copied().collect::<BTreeSet<u32>>();
    let mut sw = dev(
        "sw",
        "aa:00:00:00:00:01",
        &[
            (1, "acc", "02:00:00:00:01:01"),
            (2, "voice", "02:00:00:00:01:02"),
            (3, "tagged", "02:00:00:00:01:03"),
            (4, "unnamed", "02:00:00:00:01:04"),
            (5, "unnamed3", "02:00:00:00:01:05"),
        ],
    );
    let port = |u: &[u32], t: &[u32]| PortVlans {
        untagged: set(u),
        tagged: set(t),
    };
    sw.vlans = Some(VlanMembership {
        source: VlanSource::Current,
        ports: BTreeMap::from([
            (IfIndex(1), port(&[10], &[])),
            (IfIndex(2), port(&[10], &[20])),
            // One MAC, one VLAN learned: the count alone would call it an
            // edge port; the membership says it sends VLANs 30-32 tagged.
            (IfIndex(3), port(&[], &[30, 31, 32])),
        ]),
    });
    sw.fdb = vec![
        // acc: an access port in VLAN 10 by its configuration, although
        // three FDB ids were learned on it (shared learning, FDB ids that
        // are not VLANs): the configuration decides, no trunk.
        fdb("02:77:00:00:00:01", 1, Some(10)),
        fdb("02:77:00:00:00:02", 1, Some(11)),
        fdb("02:77:00:00:00:03", 1, Some(12)),
        // voice: a PC untagged, a phone tagged.
        fdb("02:77:00:00:00:04", 2, Some(10)),
        fdb("02:77:00:00:00:05", 2, Some(20)),
        fdb("02:77:00:00:00:06", 3, Some(30)),
        // Ports the membership does not name: the learned VLANs decide.
        fdb("02:77:00:00:00:07", 4, Some(10)),
        fdb("02:77:00:00:00:08", 5, Some(10)),
        fdb("02:77:00:00:00:09", 5, Some(20)),
        fdb("02:77:00:00:00:0a", 5, Some(30)),
    ];
    let t = build_topology(&[sw]);
    assert_eq!(
        hosts(&t),
        vec![
            "mac-02:77:00:00:00:01@sw:acc",
            "mac-02:77:00:00:00:02@sw:acc",
            "mac-02:77:00:00:00:03@sw:acc",
            "mac-02:77:00:00:00:04@sw:voice",
            "mac-02:77:00:00:00:05@sw:voice",
            "mac-02:77:00:00:00:07@sw:unnamed",
        ],
        "{:?}",
        names(&t)
    );
    let sw = t
        .devices
        .iter()
        .find(|d| d.sys_name.as_deref() == Some("sw"))
        .unwrap();
    let row = |port: &str| {
        sw.unresolved
            .iter()
            .find(|u| u.local_if.as_deref() == Some(port))
            .unwrap_or_else(|| panic!("{port}: {:?}", sw.unresolved))
    };
    let tagged = row("tagged");
    assert_eq!(tagged.reason, UnresolvedReason::LearnedBehindUplink);
    assert_eq!(tagged.macs, vec!["02:77:00:00:00:06".to_string()]);
    let why = tagged.neighbor.as_deref().unwrap();
    assert!(
        why.contains(
            "it sends VLANs 30, 31, 32 tagged, a trunk by its VLAN membership (dot1qVlanCurrentTable)"
        ),
        "{why}"
    );
    let three = row("unnamed3").neighbor.as_deref().unwrap();
    assert!(three.contains("in 3 VLANs, a trunk"), "{three}");
    assert_eq!(sw.unresolved.len(), 2, "{:?}", sw.unresolved);
    let reason = |mac: &str| {
        let d = t
            .devices
            .iter()
            .find(|d| d.id.0 == format!("mac-{mac}"))
            .unwrap();
        d.placement[0].reason.clone()
    };
    let acc = reason("02:77:00:00:00:02");
    assert!(
        acc.contains("by its VLAN membership (dot1qVlanCurrentTable) an access port: VLAN 10 untagged, none tagged"),
        "{acc}"
    );
    let phone = reason("02:77:00:00:00:05");
    assert!(
        phone.contains("an access port with a voice VLAN: VLAN 10 untagged, VLAN 20 tagged"),
        "{phone}"
    );
    assert!(reason("02:77:00:00:00:07").contains("1 VLAN (fewer than 3)"));
}
