//! The links between sites the central's merge draws: each site's map
//! built by discovery itself (`build_topology`) from hand-built reports of
//! only the site's own devices, then merged as the central merges them.
use super::merge;
use crate::discovery::links::build_topology;
use crate::discovery::report::{AddressEntry, CdpNeighbor, DeviceReport, LldpId, LldpNeighbor};
use crate::topology::{Evidence, Interface, Topology, UnresolvedReason};
use crate::types::IfIndex;
use std::collections::BTreeMap;
use std::net::IpAddr;

fn iface(idx: u32, name: &str, mac: &str) -> Interface {
    Interface {
        if_index: IfIndex(idx),
        name: name.into(),
        descr: Some(format!("descr {name}")),
        alias: None,
        speed_bps: Some(1_000_000_000),
        mac: Some(mac.into()),
        oper_status: None,
        admin_status: None,
        if_type: Some(6),
    }
}

/// A router `name` with LLDP chassis `chassis` (none when empty), eth0..
/// eth2 with MACs `02:<n>:00:00:00:0<i>`, its management address `mgmt`.
fn router(name: &str, n: u8, chassis: &str, mgmt: &str) -> DeviceReport {
    let mut r = DeviceReport::default();
    r.system.name = Some(name.into());
    r.addr = Some(mgmt.parse().unwrap());
    r.engine_id = Some(format!("80001f8804{n:02x}"));
    if !chassis.is_empty() {
        r.lldp_chassis = Some(LldpId {
            subtype: 4,
            value: chassis.into(),
        });
    }
    r.interfaces = (0..3)
        .map(|i| {
            iface(
                i + 1,
                &format!("eth{i}"),
                &format!("02:{n:02x}:00:00:00:0{i}"),
            )
        })
        .collect();
    r.addresses.push(AddressEntry {
        addr: mgmt.parse().unwrap(),
        if_index: Some(IfIndex(1)),
        prefix_len: Some(24),
    });
    r
}

/// `addr`/`len` on the router's interface `if_index`.
fn address(r: &mut DeviceReport, if_index: u32, addr: &str, len: u8) {
    r.addresses.push(AddressEntry {
        addr: addr.parse().unwrap(),
        if_index: Some(IfIndex(if_index)),
        prefix_len: Some(len),
    });
}

/// An LLDP row on our port `local` naming chassis `chassis` (a MAC), its
/// port by MAC with the interface name as description, as lldpd sends.
fn lldp(
    local: u32,
    chassis: &str,
    port_mac: &str,
    port: &str,
    name: &str,
    mgmt: &str,
) -> LldpNeighbor {
    LldpNeighbor {
        index: vec![0, local, 1],
        local_port: Some(local),
        chassis: LldpId {
            subtype: 4,
            value: chassis.into(),
        },
        port: LldpId {
            subtype: 3,
            value: port_mac.into(),
        },
        port_desc: Some(port.into()),
        sys_name: Some(name.into()),
        sys_desc: None,
        mgmt_addrs: if mgmt.is_empty() {
            vec![]
        } else {
            vec![mgmt.parse().unwrap()]
        },
    }
}

fn sites(maps: &[(&str, Vec<DeviceReport>)]) -> BTreeMap<String, Topology> {
    maps.iter()
        .map(|(s, reports)| (s.to_string(), build_topology(reports)))
        .collect()
}

/// The links as `name:if -- name:if` (sysName, else the id), with kinds.
fn links(t: &Topology) -> Vec<(String, Vec<Evidence>, f64)> {
    let end = |e: &crate::topology::Endpoint| {
        let d = t.device(&e.device).expect("a link's end is a device");
        format!(
            "{}:{}",
            d.sys_name.as_deref().unwrap_or(&d.id.0),
            e.if_name.as_deref().unwrap_or("?")
        )
    };
    let mut v: Vec<_> = t
        .links
        .iter()
        .map(|l| {
            let (a, b) = (end(&l.a), end(&l.b));
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            (format!("{a} -- {b}"), l.evidence.clone(), l.confidence)
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// (sysName, site, managed) of every device, in map order.
fn devices(t: &Topology) -> Vec<(String, Option<String>, bool)> {
    t.devices
        .iter()
        .map(|d| {
            (
                d.sys_name.clone().unwrap_or(d.id.0.clone()),
                d.from_site.clone(),
                d.managed,
            )
        })
        .collect()
}

const RA: &str = "02:0a:00:00:00:00";
const RB: &str = "02:0b:00:00:00:00";

/// ra at site a, rb at site b, joined on their eth2 (a WAN /30).
fn wan(a_sees_b: bool, b_sees_a: bool) -> BTreeMap<String, Topology> {
    let mut ra = router("ra", 0x0a, RA, "10.1.0.1");
    let mut rb = router("rb", 0x0b, RB, "10.2.0.1");
    if a_sees_b {
        ra.lldp
            .push(lldp(3, RB, "02:0b:00:00:00:02", "eth2", "rb", "10.2.0.1"));
    }
    if b_sees_a {
        rb.lldp
            .push(lldp(3, RA, "02:0a:00:00:00:02", "eth2", "ra", "10.1.0.1"));
    }
    sites(&[("a", vec![ra]), ("b", vec![rb])])
}

#[test]
fn an_lldp_neighbour_in_another_site_is_linked_once_whoever_sees_it() {
    // At each site alone the other router is an unmanaged neighbour.
    let s = wan(true, true);
    assert!(
        s["a"]
            .devices
            .iter()
            .any(|d| !d.managed && d.sys_name.as_deref() == Some("rb"))
    );
    let m = merge(&Topology::default(), &s);
    assert_eq!(
        devices(&m),
        [
            ("ra".into(), Some("a".into()), true),
            ("rb".into(), Some("b".into()), true)
        ],
        "each router once, managed, in its own site"
    );
    assert_eq!(
        links(&m),
        [("ra:eth2 -- rb:eth2".into(), vec![Evidence::Lldp], 1.0)],
        "one link from both sides"
    );
    assert!(m.devices.iter().all(|d| d.unresolved.is_empty()));
    // Deterministic: the same maps merge the same; one side alone gives
    // the same link id.
    assert_eq!(merge(&Topology::default(), &s), m);
    for (ab, ba) in [(true, false), (false, true)] {
        let one = merge(&Topology::default(), &wan(ab, ba));
        assert_eq!(
            one.links.iter().map(|l| &l.id).collect::<Vec<_>>(),
            m.links.iter().map(|l| &l.id).collect::<Vec<_>>()
        );
        assert_eq!(links(&one)[0].2, 0.8, "seen from one side");
        assert_eq!(one.devices.len(), 2, "no unmanaged copy left");
    }
}

#[test]
fn a_neighbour_without_lldp_of_its_own_is_found_by_its_address_or_name() {
    // rb runs no LLDP agent (no chassis id of its own): ra's row names it
    // by its management address.
    let mut ra = router("ra", 0x0a, RA, "10.1.0.1");
    ra.lldp.push(lldp(
        3,
        "02:99:00:00:00:00",
        "02:0b:00:00:00:02",
        "eth2",
        "other-name",
        "10.2.0.1",
    ));
    let rb = router("rb", 0x0b, "", "10.2.0.1");
    let m = merge(
        &Topology::default(),
        &sites(&[("a", vec![ra]), ("b", vec![rb])]),
    );
    assert_eq!(
        links(&m),
        [("ra:eth2 -- rb:eth2".into(), vec![Evidence::Lldp], 0.8)]
    );
    assert_eq!(m.devices.len(), 2);
    // CDP: the device id is rb's FQDN, the port its name.
    let mut ra = router("ra", 0x0a, RA, "10.1.0.1");
    ra.cdp.push(CdpNeighbor {
        if_index: IfIndex(3),
        device_id: "rb.example".into(),
        port: Some("eth2".into()),
        addr: None,
        platform: None,
    });
    let rb = router("rb", 0x0b, RB, "10.2.0.1");
    let m = merge(
        &Topology::default(),
        &sites(&[("a", vec![ra]), ("b", vec![rb])]),
    );
    assert_eq!(
        links(&m),
        [("ra:eth2 -- rb:eth2".into(), vec![Evidence::Cdp], 0.8)]
    );
    assert_eq!(m.devices.len(), 2);
}

#[test]
fn a_neighbour_fitting_several_sites_devices_stays_unresolved_with_the_reason() {
    // ra's neighbour calls itself "edge"; sites b and c each manage an
    // "edge" (no LLDP of their own, so only the name could tell).
    let mut ra = router("ra", 0x0a, RA, "10.1.0.1");
    ra.lldp.push(lldp(
        3,
        "02:99:00:00:00:00",
        "02:99:00:00:00:02",
        "eth2",
        "edge",
        "",
    ));
    let b = router("edge", 0x0b, "", "10.2.0.1");
    let c = router("edge", 0x0c, "", "10.3.0.1");
    let s = sites(&[("a", vec![ra]), ("b", vec![b]), ("c", vec![c])]);
    let m = merge(&Topology::default(), &s);
    let l = links(&m);
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0].0, "edge:eth2 -- ra:eth2");
    assert!(
        m.devices.iter().any(|d| !d.managed),
        "the neighbour kept as it was"
    );
    let ra = m
        .devices
        .iter()
        .find(|d| d.sys_name.as_deref() == Some("ra"))
        .unwrap();
    assert_eq!(ra.unresolved.len(), 1, "{:?}", ra.unresolved);
    let row = &ra.unresolved[0];
    assert_eq!(row.reason, UnresolvedReason::SeveralCandidates);
    assert_eq!(row.table, "lldpRemTable");
    assert_eq!(row.row, m.links[0].id);
    assert_eq!(row.local_if.as_deref(), Some("eth2"));
    assert!(row.neighbor.as_deref().unwrap().starts_with("edge"));
    // Merged again (the next site message): listed once.
    assert_eq!(merge(&Topology::default(), &s), m);
    // The same name at one other site only: resolved by it.
    let one = sites(&[("a", vec![]), ("b", vec![])]);
    let mut one = one;
    one.insert("a".into(), s["a"].clone());
    one.insert("b".into(), s["b"].clone());
    let m = merge(&Topology::default(), &one);
    assert_eq!(
        links(&m),
        [("edge:eth2 -- ra:eth2".into(), vec![Evidence::Lldp], 0.8)]
    );
    assert!(
        m.devices
            .iter()
            .all(|d| d.managed && d.unresolved.is_empty())
    );
}

#[test]
fn a_point_to_point_subnet_between_sites_is_a_subnet_link() {
    let two = |len: u8, x: &str, y: &str| {
        let mut ra = router("ra", 0x0a, RA, "10.1.0.1");
        let mut rb = router("rb", 0x0b, RB, "10.2.0.1");
        address(&mut ra, 3, x, len);
        address(&mut rb, 3, y, len);
        (ra, rb)
    };
    for (len, x, y) in [
        (30, "10.9.0.1", "10.9.0.2"),
        (31, "10.9.0.4", "10.9.0.5"),
        (127, "fd00::a", "fd00::b"),
    ] {
        let (ra, rb) = two(len, x, y);
        let m = merge(
            &Topology::default(),
            &sites(&[("a", vec![ra]), ("b", vec![rb])]),
        );
        assert_eq!(
            links(&m),
            [("ra:eth2 -- rb:eth2".into(), vec![Evidence::Subnet], 0.5)],
            "/{len}"
        );
    }
    // The central's own router and a site's.
    let (ra, rb) = two(31, "10.9.0.4", "10.9.0.5");
    let local = build_topology(&[ra]);
    let m = merge(&local, &sites(&[("b", vec![rb])]));
    assert_eq!(links(&m).len(), 1);
    // Not point-to-point, or a third holder on the subnet: no link.
    let (ra, rb) = two(29, "10.9.0.1", "10.9.0.2");
    let m = merge(
        &Topology::default(),
        &sites(&[("a", vec![ra]), ("b", vec![rb])]),
    );
    assert!(m.links.is_empty());
    let (ra, rb) = two(30, "10.9.0.1", "10.9.0.2");
    let mut rc = router("rc", 0x0c, "02:0c:00:00:00:00", "10.3.0.1");
    address(&mut rc, 3, "10.9.0.2", 30);
    let m = merge(
        &Topology::default(),
        &sites(&[("a", vec![ra]), ("b", vec![rb]), ("c", vec![rc])]),
    );
    assert!(m.links.is_empty(), "{:?}", links(&m));
    // Both ends in one site: the site's own link, not a second one.
    let (ra, rb) = two(30, "10.9.0.1", "10.9.0.2");
    let m = merge(&Topology::default(), &sites(&[("a", vec![ra, rb])]));
    assert_eq!(
        links(&m),
        [("ra:eth2 -- rb:eth2".into(), vec![Evidence::Subnet], 0.5)]
    );
}

#[test]
fn lldp_and_a_shared_subnet_make_one_link_of_both_kinds() {
    let mut s = wan(true, true);
    for (site, x) in [("a", "10.9.0.1"), ("b", "10.9.0.2")] {
        let d = s
            .get_mut(site)
            .unwrap()
            .devices
            .iter_mut()
            .find(|d| d.managed)
            .unwrap();
        d.point_to_point.push(crate::topology::SubnetAddress {
            addr: x.parse::<IpAddr>().unwrap(),
            prefix_len: 30,
            if_name: Some("eth2".into()),
        });
    }
    let m = merge(&Topology::default(), &s);
    assert_eq!(
        links(&m),
        [(
            "ra:eth2 -- rb:eth2".into(),
            vec![Evidence::Lldp, Evidence::Subnet],
            1.0
        )]
    );
}

#[test]
fn a_neighbour_named_like_the_device_that_saw_it_is_not_that_device() {
    // Default names: ra's neighbour says it is "ra", and site b manages
    // another "ra"; the name is shared with the observer, so it tells
    // nothing, and the neighbour stays as the site left it, no row.
    let mut ra = router("ra", 0x0a, RA, "10.1.0.1");
    ra.lldp.push(lldp(
        3,
        "02:99:00:00:00:00",
        "02:99:00:00:00:02",
        "eth2",
        "ra",
        "",
    ));
    let other = router("ra", 0x0b, "", "10.2.0.1");
    let m = merge(
        &Topology::default(),
        &sites(&[("a", vec![ra]), ("b", vec![other])]),
    );
    assert_eq!(m.devices.len(), 3, "{:?}", devices(&m));
    assert!(m.devices.iter().any(|d| !d.managed));
    assert!(m.devices.iter().all(|d| d.unresolved.is_empty()));
    assert_eq!(m.links.len(), 1);
    assert!(
        m.links[0].a.device.0.starts_with("chassis-02:99")
            || m.links[0].b.device.0.starts_with("chassis-02:99")
    );
}
