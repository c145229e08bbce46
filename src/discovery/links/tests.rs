//! Unit tests of link inference on hand-built reports: every port-id subtype,
//! both directions, one-sided links, CDP naming, LAG grouping, subnets, ARP,
//! FDB. Tests only; they call `build_topology` as discovery does.
use super::build_topology;
use crate::discovery::report::*;
use crate::topology::{Evidence, Interface, Topology};
use crate::types::IfIndex;
use std::net::IpAddr;

pub(super) fn iface(idx: u32, name: &str, mac: &str, if_type: u32) -> Interface {
    Interface {
        if_index: IfIndex(idx),
        name: name.into(),
        descr: Some(format!("descr {name}")),
        alias: Some(format!("alias-{name}")),
        speed_bps: Some(1_000_000_000),
        mac: Some(mac.into()),
        oper_status: Some(crate::types::OperStatus::Up),
        admin_status: Some(crate::types::OperStatus::Up),
        if_type: Some(if_type),
    }
}

pub(super) fn dev(name: &str, chassis: &str, ifs: &[(u32, &str, &str)]) -> DeviceReport {
    let mut r = DeviceReport::default();
    r.system.name = Some(name.into());
    r.lldp_chassis = Some(LldpId {
        subtype: 4,
        value: chassis.into(),
    });
    r.interfaces = ifs.iter().map(|(i, n, m)| iface(*i, n, m, 6)).collect();
    r
}

pub(super) fn nb(local: u32, chassis: &str, subtype: u32, port: &str) -> LldpNeighbor {
    LldpNeighbor {
        index: vec![0, local, 1],
        local_port: Some(local),
        chassis: LldpId {
            subtype: 4,
            value: chassis.into(),
        },
        port: LldpId {
            subtype,
            value: port.into(),
        },
        port_desc: None,
        sys_name: None,
        sys_desc: None,
        mgmt_addrs: vec![],
    }
}

pub(super) fn names(t: &Topology) -> Vec<(String, String, Vec<Evidence>, f64)> {
    let n = |e: &crate::topology::Endpoint| {
        let d = t
            .device(&e.device)
            .and_then(|d| d.sys_name.clone())
            .unwrap_or_else(|| e.device.0.clone());
        format!("{d}:{}", e.if_name.as_deref().unwrap_or("?"))
    };
    let mut v: Vec<_> = t
        .links
        .iter()
        .map(|l| {
            let (a, b) = (n(&l.a), n(&l.b));
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            (a, b, l.evidence.clone(), l.confidence)
        })
        .collect();
    v.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.cmp(&y.1)));
    v
}

#[test]
fn both_directions_merge_and_every_port_subtype_resolves() {
    let mut a = dev(
        "a",
        "aa:00:00:00:00:01",
        &[
            (1, "eth0", "02:00:00:00:01:01"),
            (2, "eth1", "02:00:00:00:01:02"),
            (3, "eth2", "02:00:00:00:01:03"),
        ],
    );
    let mut b = dev(
        "b",
        "aa:00:00:00:00:02",
        &[
            (7, "ether2", "02:00:00:00:02:07"),
            (8, "ether3", "02:00:00:00:02:08"),
            (9, "ether4", "02:00:00:00:02:09"),
        ],
    );
    b.lldp_ports.insert(
        9,
        LldpLocalPort {
            id: LldpId {
                subtype: 7,
                value: "port-nine".into(),
            },
            desc: None,
        },
    );
    // a sees b by MAC port id, by a vendor path name, and by a locally assigned id.
    a.lldp
        .push(nb(1, "aa:00:00:00:00:02", 3, "02:00:00:00:02:07"));
    a.lldp.push(nb(2, "aa:00:00:00:00:02", 5, "bridge1/ether3"));
    a.lldp.push(nb(3, "aa:00:00:00:00:02", 7, "port-nine"));
    // b sees a on its first link by interface alias.
    b.lldp.push(nb(7, "aa:00:00:00:00:01", 1, "alias-eth0"));
    let t = build_topology(&[a, b]);
    let got = names(&t);
    assert_eq!(
        got.iter()
            .map(|g| (g.0.as_str(), g.1.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("a:eth0", "b:ether2"),
            ("a:eth1", "b:ether3"),
            ("a:eth2", "b:ether4")
        ]
    );
    assert_eq!(got[0].3, 1.0, "seen from both sides");
    assert_eq!(got[1].3, 0.8, "one-sided, both names known");
    assert!(got.iter().all(|g| g.2 == vec![Evidence::Lldp]));
}

#[test]
fn unmanaged_neighbours_keep_what_lldp_and_cdp_said() {
    let mut a = dev(
        "a",
        "aa:00:00:00:00:01",
        &[
            (1, "eth0", "02:00:00:00:01:01"),
            (2, "Gi0/2", "02:00:00:00:01:02"),
        ],
    );
    let mut n = nb(1, "bb:00:00:00:00:09", 5, "eno1");
    n.sys_name = Some("server9".into());
    n.mgmt_addrs = vec!["10.9.9.9".parse().unwrap()];
    a.lldp.push(n);
    a.cdp.push(CdpNeighbor {
        if_index: IfIndex(2),
        device_id: "sw7.example.net".into(),
        port: Some("GigabitEthernet1/0/7".into()),
        addr: None,
        platform: Some("cisco WS-C3750".into()),
    });
    let t = build_topology(&[a]);
    let server = t
        .devices
        .iter()
        .find(|d| d.sys_name.as_deref() == Some("server9"))
        .unwrap();
    assert!(!server.managed && server.interfaces.is_empty());
    assert_eq!(
        server.mgmt_addr,
        Some("10.9.9.9".parse::<IpAddr>().unwrap())
    );
    let got = names(&t);
    assert!(
        got.iter().any(|g| g.0 == "a:eth0" && g.1 == "server9:eno1"),
        "{got:?}"
    );
    assert!(
        got.iter().any(|g| g.0 == "a:Gi0/2"
            && g.1 == "sw7.example.net:GigabitEthernet1/0/7"
            && g.2 == vec![Evidence::Cdp]),
        "{got:?}"
    );
}

#[test]
fn cdp_names_match_short_hostnames_and_long_port_names() {
    let mut a = dev(
        "core",
        "aa:00:00:00:00:01",
        &[(1, "Gi1/0/1", "02:00:00:00:01:01")],
    );
    a.interfaces[0].descr = Some("GigabitEthernet1/0/1".into());
    let mut b = dev(
        "access",
        "aa:00:00:00:00:02",
        &[(5, "Gi0/5", "02:00:00:00:02:05")],
    );
    b.interfaces[0].descr = Some("GigabitEthernet0/5".into());
    a.cdp.push(CdpNeighbor {
        if_index: IfIndex(1),
        device_id: "access.corp.example".into(),
        port: Some("GigabitEthernet0/5".into()),
        addr: None,
        platform: None,
    });
    b.cdp.push(CdpNeighbor {
        if_index: IfIndex(5),
        device_id: "core".into(),
        port: Some("GigabitEthernet1/0/1".into()),
        addr: None,
        platform: None,
    });
    let got = names(&build_topology(&[a, b]));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].0.as_str(), got[0].1.as_str(), got[0].3),
        ("access:Gi0/5", "core:Gi1/0/1", 1.0)
    );
}

#[test]
fn lag_members_share_one_lag_key() {
    let mut a = dev(
        "a",
        "aa:00:00:00:00:01",
        &[
            (1, "eth0", "02:00:00:00:01:01"),
            (2, "eth1", "02:00:00:00:01:02"),
        ],
    );
    a.interfaces
        .push(iface(10, "bond0", "02:00:00:00:01:01", 161));
    a.stack = vec![(IfIndex(10), IfIndex(1)), (IfIndex(10), IfIndex(2))];
    let mut b = dev(
        "b",
        "aa:00:00:00:00:02",
        &[
            (1, "xe-0/0/1", "02:00:00:00:02:01"),
            (2, "xe-0/0/2", "02:00:00:00:02:02"),
        ],
    );
    b.interfaces
        .push(iface(20, "ae0", "02:00:00:00:02:01", 161));
    b.stack = vec![(IfIndex(20), IfIndex(1)), (IfIndex(20), IfIndex(2))];
    a.lldp.push(nb(1, "aa:00:00:00:00:02", 5, "xe-0/0/1"));
    a.lldp.push(nb(2, "aa:00:00:00:00:02", 5, "xe-0/0/2"));
    let t = build_topology(&[a, b]);
    assert_eq!(t.links.len(), 2);
    let lags: Vec<_> = t
        .links
        .iter()
        .map(|l| l.lag.clone().expect("member of a LAG"))
        .collect();
    assert_eq!(lags[0], lags[1]);
    assert!(
        lags[0].contains("bond0") && lags[0].contains("ae0"),
        "{}",
        lags[0]
    );
}

#[test]
fn point_to_point_subnets_and_arp() {
    let mut a = dev(
        "a",
        "aa:00:00:00:00:01",
        &[
            (1, "eth0", "02:00:00:00:01:01"),
            (2, "eth1", "02:00:00:00:01:02"),
        ],
    );
    let mut b = dev(
        "b",
        "aa:00:00:00:00:02",
        &[(1, "eth9", "02:00:00:00:02:01")],
    );
    a.addresses.push(AddressEntry {
        addr: "10.0.0.0".parse().unwrap(),
        if_index: Some(IfIndex(1)),
        prefix_len: Some(31),
    });
    b.addresses.push(AddressEntry {
        addr: "10.0.0.1".parse().unwrap(),
        if_index: Some(IfIndex(1)),
        prefix_len: Some(31),
    });
    // A /30 to a host that answers no SNMP, known from a's ARP table.
    a.addresses.push(AddressEntry {
        addr: "10.0.1.1".parse().unwrap(),
        if_index: Some(IfIndex(2)),
        prefix_len: Some(30),
    });
    a.arp.push(ArpEntry {
        if_index: IfIndex(2),
        ip: "10.0.1.2".parse().unwrap(),
        mac: "02:99:00:00:00:01".into(),
    });
    // A LAN address must not make links.
    a.addresses.push(AddressEntry {
        addr: "10.0.2.1".parse().unwrap(),
        if_index: Some(IfIndex(2)),
        prefix_len: Some(24),
    });
    a.arp.push(ArpEntry {
        if_index: IfIndex(2),
        ip: "10.0.2.7".parse().unwrap(),
        mac: "02:99:00:00:00:07".into(),
    });
    let t = build_topology(&[a, b]);
    let got = names(&t);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got.iter()
            .any(|g| g.0 == "a:eth0" && g.1 == "b:eth9" && g.2 == vec![Evidence::Subnet]),
        "{got:?}"
    );
    assert!(
        got.iter().any(|g| g.0 == "a:eth1"
            && g.1 == "mac-02:99:00:00:00:01:?"
            && g.2 == vec![Evidence::Arp]),
        "{got:?}"
    );
    assert!(
        !t.devices
            .iter()
            .any(|d| d.id.0.contains("02:99:00:00:00:07"))
    );
}

#[test]
fn fdb_puts_hosts_on_edge_ports_not_uplinks() {
    let mut sw1 = dev(
        "sw1",
        "aa:00:00:00:00:01",
        &[
            (1, "p1", "02:00:00:00:01:01"),
            (2, "p2", "02:00:00:00:01:02"),
            (3, "up", "02:00:00:00:01:03"),
        ],
    );
    let mut sw2 = dev(
        "sw2",
        "aa:00:00:00:00:02",
        &[
            (1, "q1", "02:00:00:00:02:01"),
            (3, "up", "02:00:00:00:02:03"),
        ],
    );
    let fdb = |mac: &str, port: u32| FdbEntry {
        mac: mac.into(),
        bridge_port: port,
        if_index: Some(IfIndex(port)),
        status: Some(3),
        vlan: None,
    };
    // host X on sw1:p1, host Y on sw2:q1; each switch also learns the other host via its uplink.
    sw1.fdb = vec![
        fdb("02:77:00:00:00:0a", 1),
        fdb("02:77:00:00:00:0b", 3),
        fdb("02:00:00:00:02:03", 3),
    ];
    sw2.fdb = vec![
        fdb("02:77:00:00:00:0b", 1),
        fdb("02:77:00:00:00:0a", 3),
        fdb("02:00:00:00:01:03", 3),
    ];
    sw1.lldp.push(nb(3, "aa:00:00:00:00:02", 5, "up"));
    let t = build_topology(&[sw1, sw2]);
    let got = names(&t);
    assert!(
        got.iter()
            .any(|g| g.0 == "mac-02:77:00:00:00:0a:?" && g.1 == "sw1:p1"),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|g| g.0 == "mac-02:77:00:00:00:0b:?" && g.1 == "sw2:q1"),
        "{got:?}"
    );
    assert!(
        got.iter().any(|g| g.0 == "sw1:up" && g.1 == "sw2:up"),
        "{got:?}"
    );
    assert_eq!(got.len(), 3, "no host drawn on an uplink: {got:?}");
}

#[test]
fn fdb_joins_switches_without_lldp_and_not_through_a_middle_one() {
    // sw1 -- sw2 -- sw3 in a line, no LLDP anywhere; each learns the others' MACs.
    let mut sw1 = dev(
        "sw1",
        "aa:00:00:00:00:01",
        &[
            (1, "a1", "02:00:00:00:01:01"),
            (9, "up", "02:00:00:00:01:09"),
        ],
    );
    let mut sw2 = dev(
        "sw2",
        "aa:00:00:00:00:02",
        &[
            (1, "b1", "02:00:00:00:02:01"),
            (2, "b2", "02:00:00:00:02:02"),
        ],
    );
    let mut sw3 = dev(
        "sw3",
        "aa:00:00:00:00:03",
        &[
            (1, "c1", "02:00:00:00:03:01"),
            (9, "up", "02:00:00:00:03:09"),
        ],
    );
    let fdb = |mac: &str, port: u32| FdbEntry {
        mac: mac.into(),
        bridge_port: port,
        if_index: Some(IfIndex(port)),
        status: Some(3),
        vlan: None,
    };
    sw1.fdb = vec![fdb("02:00:00:00:02:01", 9), fdb("02:00:00:00:03:09", 9)];
    sw2.fdb = vec![fdb("02:00:00:00:01:09", 1), fdb("02:00:00:00:03:09", 2)];
    sw3.fdb = vec![fdb("02:00:00:00:02:02", 9), fdb("02:00:00:00:01:09", 9)];
    let got = names(&build_topology(&[sw1, sw2, sw3]));
    let pairs: Vec<(&str, &str)> = got.iter().map(|g| (g.0.as_str(), g.1.as_str())).collect();
    assert_eq!(
        pairs,
        vec![("sw1:up", "sw2:b1"), ("sw2:b2", "sw3:up")],
        "{got:?}"
    );
    assert!(got.iter().all(|g| g.2 == vec![Evidence::Fdb]));
}
