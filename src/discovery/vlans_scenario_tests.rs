//! Scenario test of VLAN membership through the real walks and the crawl
//! over scripted agents (no sockets, no root), in the shapes of the
//! real-device corpus: a switch with dot1qVlanCurrentTable whose user
//! ports carry VLAN 1 untagged and management VLANs tagged (the D-Link
//! DES-3200's shape), and one with only dot1qVlanStaticTable (the shape of
//! the Junos and H3C E528 recordings), which must be walked as the
//! fallback. Written for nocmap's tests, not copied from any device.
use super::crawl::{CrawlOptions, crawl};
use super::oids;
use crate::snmp::Value;
use crate::snmp::scripted::Scripted;
use crate::topology::{Topology, UnresolvedReason};
use std::net::Ipv4Addr;
use std::sync::Arc;

const SYS_NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 5, 0];
const IF_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1];

fn oid(parts: &[&[u32]]) -> Vec<u32> {
    parts.concat()
}

fn bytes(b: &[u8]) -> Value {
    Value::OctetString(b.to_vec().into())
}

/// A bridge `name` with ports 1..=ports (bridge port = ifIndex, named
/// `pN`, MAC 02:00:00:00:n:N) and one host learned on each port in
/// `hosts` (port, FDB id), MAC 02:77:00:00:n:port.
fn bridge(name: &str, n: u8, ports: u32, hosts: &[(u32, u32)]) -> Vec<(Vec<u32>, Value)> {
    let mut t = vec![(SYS_NAME.to_vec(), bytes(name.as_bytes()))];
    for p in 1..=ports {
        t.push((oid(&[IF_ENTRY, &[2, p]]), bytes(format!("p{p}").as_bytes())));
        t.push((oid(&[IF_ENTRY, &[3, p]]), Value::Integer(6)));
        t.push((oid(&[IF_ENTRY, &[6, p]]), bytes(&[2, 0, 0, 0, n, p as u8])));
        t.push((
            oid(&[oids::DOT1D_BASE_PORT_IF_INDEX, &[p]]),
            Value::Integer(p as i32),
        ));
    }
    for &(port, fdb_id) in hosts {
        let index = [fdb_id, 2, 0x77, 0, 0, n.into(), port];
        let col = |c: u32| oid(&[oids::DOT1Q_TP_FDB_ENTRY, &[c], &index]);
        t.push((col(2), Value::Integer(port as i32)));
        t.push((col(3), Value::Integer(3)));
    }
    t
}

/// The current table's two PortLists of `vlan` (time mark 0).
fn current(vlan: u32, egress: &[u8], untagged: &[u8]) -> Vec<(Vec<u32>, Value)> {
    let e = oids::DOT1Q_VLAN_CURRENT_ENTRY;
    vec![
        (oid(&[e, &[4, 0, vlan]]), bytes(egress)),
        (oid(&[e, &[5, 0, vlan]]), bytes(untagged)),
    ]
}

fn statik(vlan: u32, egress: &[u8], untagged: &[u8]) -> Vec<(Vec<u32>, Value)> {
    let e = oids::DOT1Q_VLAN_STATIC_ENTRY;
    vec![
        (oid(&[e, &[2, vlan]]), bytes(egress)),
        (oid(&[e, &[4, vlan]]), bytes(untagged)),
    ]
}

fn hosts(t: &Topology) -> Vec<String> {
    let mut v: Vec<String> = t
        .devices
        .iter()
        .filter(|d| d.id.0.starts_with("mac-"))
        .flat_map(|d| {
            d.placement
                .iter()
                .map(move |p| format!("{}@{}", &d.id.0[4..], p.if_name))
        })
        .collect();
    v.sort();
    v
}

#[tokio::test(start_paused = true)]
async fn trunks_by_the_configured_vlans_of_both_tables_through_the_crawl() {
    let s = Scripted::new();
    let (a, b) = (Ipv4Addr::new(127, 0, 1, 1), Ipv4Addr::new(127, 0, 1, 2));
    // sw-a: p1 tagged in VLANs 1, 40, 41 (no untagged VLAN, a trunk); p2
    // VLAN 1 untagged and 40, 41 tagged (two tagged: an access port); p3
    // VLAN 1 untagged and 40 tagged (the voice shape); p4 VLAN 1 untagged
    // only; p5 in no VLAN of the table.
    // One MAC on each port; the one on p1 learned in one FDB only, so the
    // VLANs learned alone would make p1 an edge port.
    let mut ta = bridge("sw-a", 1, 5, &[(1, 1), (2, 1), (3, 40), (4, 1), (5, 1)]);
    ta.extend(current(1, &[0xf0], &[0x70]));
    ta.extend(current(40, &[0xe0], &[0x00]));
    ta.extend(current(41, &[0xc0], &[0x00]));
    s.agent(a.into(), ta);
    // sw-b: only the static table. p1 sends VLANs 7, 8, 9 tagged, p2
    // VLAN 7 untagged.
    let mut tb = bridge("sw-b", 2, 2, &[(1, 7), (2, 7)]);
    tb.extend(statik(7, &[0xc0], &[0x40]));
    tb.extend(statik(8, &[0x80], &[0x00]));
    tb.extend(statik(9, &[0x80], &[0x00]));
    s.agent(b.into(), tb);
    let options = CrawlOptions {
        seeds: vec![a.into(), b.into()],
        prefixes: vec!["127.0.1.0/24".parse().unwrap()],
        depth: 1,
        concurrency: 2,
        alive: vec![],
    };
    let r = crawl(s, Arc::new(Vec::new()), &options, &|_, _| {}).await;
    let t = &r.topology;
    assert_eq!(
        hosts(t),
        vec![
            "02:77:00:00:01:02@p2",
            "02:77:00:00:01:03@p3",
            "02:77:00:00:01:04@p4",
            "02:77:00:00:01:05@p5",
            "02:77:00:00:02:02@p2",
        ],
        "{:?}",
        t.devices
    );
    let sw = |name: &str| {
        t.devices
            .iter()
            .find(|d| d.sys_name.as_deref() == Some(name))
            .unwrap()
    };
    let rows = |name: &str| -> Vec<(String, String)> {
        sw(name)
            .unresolved
            .iter()
            .inspect(|u| assert_eq!(u.reason, UnresolvedReason::LearnedBehindUplink))
            .map(|u| (u.local_if.clone().unwrap(), u.neighbor.clone().unwrap()))
            .collect()
    };
    let cur = "a trunk by its VLAN membership (dot1qVlanCurrentTable)";
    assert_eq!(
        rows("sw-a"),
        vec![(
            "p1".into(),
            format!("1 MAC learned behind this uplink: it sends VLANs 1, 40, 41 tagged, {cur}")
        ),]
    );
    assert_eq!(
        rows("sw-b"),
        vec![(
            "p1".into(),
            "1 MAC learned behind this uplink: it sends VLANs 7, 8, 9 tagged, a trunk by its VLAN \
             membership (dot1qVlanStaticTable)"
                .into()
        )]
    );
    let why = |mac: &str| {
        let d = t.devices.iter().find(|d| d.id.0 == format!("mac-{mac}"));
        d.unwrap().placement[0].reason.clone()
    };
    let voice = why("02:77:00:00:01:03");
    assert!(
        voice.ends_with(
            "by its VLAN membership (dot1qVlanCurrentTable) an access port with a voice VLAN: \
             VLAN 1 untagged, VLAN 40 tagged"
        ),
        "{voice}"
    );
    assert!(why("02:77:00:00:01:05").ends_with("1 VLAN (fewer than 3)"));
    let two = why("02:77:00:00:01:02");
    assert!(
        two.ends_with(
            "by its VLAN membership (dot1qVlanCurrentTable) an access port: VLAN 1 untagged, \
             VLANs 40, 41 tagged (fewer than 3)"
        ),
        "{two}"
    );
    assert!(
        why("02:77:00:00:02:02").ends_with(
            "by its VLAN membership (dot1qVlanStaticTable) an access port: VLAN 7 untagged, none tagged"
        ),
        "{}",
        why("02:77:00:00:02:02")
    );
}
