//! Small hand-built topologies shared by the `topology_*` tests.
#![allow(dead_code)]
use nocmap::topology::{Device, DeviceId, Endpoint, Evidence, Interface, Link, Topology};

pub fn id(s: &str) -> DeviceId {
    DeviceId(s.to_owned())
}

pub fn ids(list: &[&str]) -> Vec<DeviceId> {
    list.iter().map(|s| id(s)).collect()
}

pub fn device(name: &str) -> Device {
    Device {
        id: id(name),
        sys_name: Some(name.to_owned()),
        sys_descr: None,
        mgmt_addr: None,
        chassis_id: None,
        vendor: None,
        model: None,
        managed: true,
        poller: false,
        sys_object_id: None,
        sys_location: None,
        sys_contact: None,
        engine_id: None,
        addresses: Vec::new(),
        interfaces: Vec::new(),
        partial: Vec::new(),
        unresolved: Vec::new(),
        placement: Vec::new(),
        hardware: None,
        point_to_point: Vec::new(),
        from_site: None,
    }
}

pub fn interface(if_index: u32, name: &str, if_type: Option<u32>, speed: Option<u64>) -> Interface {
    Interface {
        if_index: nocmap::types::IfIndex(if_index),
        name: name.to_owned(),
        descr: None,
        alias: None,
        speed_bps: speed,
        mac: None,
        oper_status: Some(nocmap::types::OperStatus::Up),
        admin_status: Some(nocmap::types::OperStatus::Up),
        if_type,
    }
}

pub fn end(device: &str, if_name: Option<&str>) -> Endpoint {
    Endpoint {
        device: id(device),
        if_name: if_name.map(str::to_owned),
    }
}

/// A link `a -- b` with interface names derived from the other end.
pub fn link(link_id: &str, a: &str, b: &str) -> Link {
    Link {
        id: link_id.to_owned(),
        a: end(a, Some(&format!("to-{b}"))),
        b: end(b, Some(&format!("to-{a}"))),
        evidence: vec![Evidence::Lldp],
        confidence: 0.9,
        lag: None,
    }
}

/// Devices named in `names`, links given as (id, a, b).
pub fn topology(names: &[&str], links: &[(&str, &str, &str)]) -> Topology {
    Topology {
        devices: names.iter().map(|n| device(n)).collect(),
        links: links.iter().map(|(l, a, b)| link(l, a, b)).collect(),
    }
}

/// a - b - c - d
pub fn chain() -> Topology {
    topology(
        &["a", "b", "c", "d"],
        &[("ab", "a", "b"), ("bc", "b", "c"), ("cd", "c", "d")],
    )
}

/// a - b - c - d - a
pub fn ring4() -> Topology {
    topology(
        &["a", "b", "c", "d"],
        &[
            ("ab", "a", "b"),
            ("bc", "b", "c"),
            ("cd", "c", "d"),
            ("da", "d", "a"),
        ],
    )
}

/// hub with spokes s1..s3
pub fn star() -> Topology {
    topology(
        &["hub", "s1", "s2", "s3"],
        &[
            ("h1", "hub", "s1"),
            ("h2", "hub", "s2"),
            ("h3", "hub", "s3"),
        ],
    )
}

/// ring a - b - c - a with a tail c - d - e
pub fn ring_with_tail() -> Topology {
    topology(
        &["a", "b", "c", "d", "e"],
        &[
            ("ab", "a", "b"),
            ("bc", "b", "c"),
            ("ca", "c", "a"),
            ("cd", "c", "d"),
            ("de", "d", "e"),
        ],
    )
}

/// a = b (two parallel links) - c
pub fn parallel() -> Topology {
    let mut t = topology(
        &["a", "b", "c"],
        &[("ab1", "a", "b"), ("ab2", "a", "b"), ("bc", "b", "c")],
    );
    t.links[1].a.if_name = Some("to-b-2".to_owned());
    t.links[1].b.if_name = Some("to-a-2".to_owned());
    t.links[1].confidence = 0.99;
    t
}

/// Device-provided strings that try to break every output format.
pub fn hostile() -> Topology {
    let mut core = device("core-1");
    core.sys_name = Some("<script>alert(1)</script>".to_owned());
    core.sys_descr = Some(
        "Cisco \"IOS\", v15\nline2\r\nline3 nul:\u{0} bell:\u{7} tab:\t end \\N back\\".to_owned(),
    );
    core.mgmt_addr = Some("10.0.0.1".parse().unwrap());
    core.vendor = Some("Cisco, Inc.".to_owned());
    core.hardware = Some(nocmap::topology::Hardware {
        model: Some("WS-C3750X-48P".to_owned()),
        serial: Some("FDO\"1234\",<x>\n".to_owned()),
        hardware_rev: Some("V02".to_owned()),
        firmware: Some("15.2(4)E10 & <b>".to_owned()),
        ..Default::default()
    });
    let mut gi = interface(1, "Gi0/1", Some(6), Some(1_000_000_000));
    gi.alias = Some("uplink, \"to\" dist; ' & <b>".to_owned());
    core.interfaces = vec![
        gi,
        interface(2, "Te1/1", Some(6), Some(10_000_000_000)),
        interface(3, "Po1", Some(161), Some(11_000_000_000)),
        interface(4, "Lo0", Some(24), None),
    ];
    let mut dist = device("dist-1");
    dist.interfaces = vec![
        interface(1, "Gi0/1", Some(6), Some(1_000_000_000)),
        interface(2, "Gi0/2", Some(117), Some(1_000_000_000)),
    ];
    let mut dup_a = device("dup-a");
    dup_a.sys_name = Some("edge".to_owned());
    let mut dup_b = device("dup-b");
    dup_b.sys_name = Some("edge".to_owned());
    let mut weird = device("weird\"id\n<&>");
    weird.sys_name = None;
    weird.managed = false;
    let l = |link_id: &str, a: Endpoint, b: Endpoint, evidence: Vec<Evidence>, conf: f64| Link {
        id: link_id.to_owned(),
        a,
        b,
        evidence,
        confidence: conf,
        lag: None,
    };
    let mut lag_member = l(
        "l2",
        end("core-1", Some("Te1/1")),
        end("dist-1", Some("Gi0/2")),
        vec![Evidence::Lldp],
        0.9,
    );
    lag_member.lag = Some("Po1".to_owned());
    Topology {
        devices: vec![core, dist, dup_a, dup_b, weird],
        links: vec![
            l(
                "l1",
                end("core-1", Some("Gi0/1")),
                end("dist-1", Some("Gi0/1")),
                vec![Evidence::Lldp, Evidence::Cdp],
                0.95,
            ),
            lag_member,
            l(
                "l3",
                end("dist-1", Some("Gi0/3")),
                end("dup-a", Some("eth0")),
                vec![Evidence::Fdb],
                0.6,
            ),
            l(
                "l4",
                end("dup-b", None),
                end("dist-1", Some("Gi0/3")),
                vec![Evidence::Arp],
                0.3,
            ),
            l(
                "l5<\"&>",
                end("weird\"id\n<&>", Some("port \"1\", <x>")),
                end("dup-b", Some("eth0")),
                vec![Evidence::Lldp],
                0.8,
            ),
            l(
                "l6",
                end("ghost", Some("e1\u{0}")),
                end("core-1", Some("Lo0")),
                vec![Evidence::Subnet],
                0.2,
            ),
            l(
                "l7",
                end("dup-a", Some("eth1")),
                end("dist-1", Some("Gi0/3")),
                vec![Evidence::Fdb],
                0.5,
            ),
        ],
    }
}
