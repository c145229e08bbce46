//! The oracle's and the scorer's own checks: small walks written here for
//! each rule, then a few real recordings whose rows were read by hand from
//! their raw lines (these skip loudly when the recordings are not fetched).
use super::compare::score;
use super::oracle::{Local, Oracle, Proto, relevant_varbinds};
use crate::support;
use crate::support::recordings::parse_snmprec;

fn oracle(text: &str) -> Oracle {
    let rec = parse_snmprec(text);
    assert!(rec.skipped.is_empty(), "{:?}", rec.skipped);
    Oracle::read(&rec.varbinds)
}

/// ifIndex 1 `Vlan1`, 10 `Gi0/1`, 11 `Gi0/2`; one LLDP neighbour `far` on
/// LLDP port 1.
const IFS_AND_ROW: &str = "\
1.3.6.1.2.1.2.2.1.2.1|4|Vlan1
1.3.6.1.2.1.2.2.1.2.10|4|GigabitEthernet0/1
1.3.6.1.2.1.2.2.1.2.11|4|GigabitEthernet0/2
1.3.6.1.2.1.31.1.1.1.1.1|4|Vlan1
1.3.6.1.2.1.31.1.1.1.1.10|4|Gi0/1
1.3.6.1.2.1.31.1.1.1.1.11|4|Gi0/2
1.0.8802.1.1.2.1.4.1.1.4.100.1.7|2|4
1.0.8802.1.1.2.1.4.1.1.5.100.1.7|4x|020000000009
1.0.8802.1.1.2.1.4.1.1.6.100.1.7|2|5
1.0.8802.1.1.2.1.4.1.1.7.100.1.7|4|eth0
1.0.8802.1.1.2.1.4.1.1.9.100.1.7|4|far
";
const BRIDGE: &str = "\
1.3.6.1.2.1.17.1.4.1.2.1|2|10
1.3.6.1.2.1.17.1.4.1.2.2|2|11
";

#[test]
fn lldp_port_number_is_the_ifindex_on_a_non_bridge() {
    let o = oracle(IFS_AND_ROW);
    assert_eq!(o.rows.len(), 1);
    assert_eq!(o.rows[0].local, Local::If(1, "LldpPortNumber=ifIndex"));
    assert_eq!(o.rows[0].chassis.as_deref(), Some("02:00:00:00:00:09"));
    assert_eq!(o.rows[0].name.as_deref(), Some("far"));
}

#[test]
fn a_bridge_port_number_that_is_also_an_ifindex_is_undecidable_unnamed() {
    let o = oracle(&format!("{IFS_AND_ROW}{BRIDGE}"));
    assert!(
        matches!(&o.rows[0].local, Local::Undecidable(why) if why.contains("bridge port 1 (ifIndex 10)")),
        "{:?}",
        o.rows[0].local
    );
}

#[test]
fn the_name_the_device_gives_its_port_decides() {
    // lldpLocPortId as interfaceName(5): Gi0/2, against the number rule.
    let named = format!(
        "{IFS_AND_ROW}{BRIDGE}1.0.8802.1.1.2.1.3.7.1.2.1|2|5\n1.0.8802.1.1.2.1.3.7.1.3.1|4|Gi0/2\n"
    );
    assert_eq!(
        oracle(&named).rows[0].local,
        Local::If(11, "lldpLocPortId=ifName")
    );
    // Only lldpLocPortDesc, equal to an ifDescr.
    let desc = format!("{IFS_AND_ROW}{BRIDGE}1.0.8802.1.1.2.1.3.7.1.4.1|4|GigabitEthernet0/1\n");
    assert_eq!(
        oracle(&desc).rows[0].local,
        Local::If(10, "lldpLocPortDesc=ifDescr")
    );
    // macAddress(3) spelled as text, matched against ifPhysAddress.
    let mac = format!(
        "{IFS_AND_ROW}{BRIDGE}1.3.6.1.2.1.2.2.1.6.11|4x|001122334455\n\
         1.0.8802.1.1.2.1.3.7.1.2.1|2|3\n1.0.8802.1.1.2.1.3.7.1.3.1|4|00:11:22:33:44:55\n"
    );
    assert_eq!(
        oracle(&mac).rows[0].local,
        Local::If(11, "lldpLocPortId=ifPhysAddress")
    );
}

#[test]
fn time_filter_copies_are_one_row_with_the_newest_values() {
    let text = format!(
        "{IFS_AND_ROW}1.0.8802.1.1.2.1.4.1.1.4.200.1.7|2|4\n\
         1.0.8802.1.1.2.1.4.1.1.5.200.1.7|4x|020000000009\n\
         1.0.8802.1.1.2.1.4.1.1.9.200.1.7|4|far-renamed\n"
    );
    let o = oracle(&text);
    assert_eq!(o.rows.len(), 1);
    assert_eq!(o.rows[0].copies, 1);
    assert_eq!(o.rows[0].name.as_deref(), Some("far-renamed"));
}

#[test]
fn cdp_rows_name_their_ifindex_and_binary_ids_read_as_macs() {
    let o = oracle(&format!(
        "{IFS_AND_ROW}1.3.6.1.4.1.9.9.23.1.2.1.1.6.10.1|4x|e839351aca99\n\
         1.3.6.1.4.1.9.9.23.1.2.1.1.7.10.1|4|Gi1/0/1\n\
         1.3.6.1.4.1.9.9.23.1.2.1.1.6.99.1|4|ghost\n"
    ));
    let cdp: Vec<_> = o.rows.iter().filter(|r| r.proto == Proto::Cdp).collect();
    assert_eq!(cdp.len(), 2);
    assert_eq!(cdp[0].local, Local::If(10, "cdpCacheIfIndex"));
    assert_eq!(cdp[0].name.as_deref(), Some("e8:39:35:1a:ca:99"));
    assert!(matches!(cdp[1].local, Local::Undecidable(_)));
}

#[test]
fn fdb_places_hosts_on_edge_ports_only() {
    let mut text = format!("{IFS_AND_ROW}{BRIDGE}");
    // A host on bridge port 2 (Gi0/2), learned in VLAN 5; a self entry.
    text += "1.3.6.1.2.1.17.7.1.2.2.1.2.5.0.17.34.51.68.85|2|2\n";
    text += "1.3.6.1.2.1.17.7.1.2.2.1.3.5.0.17.34.51.68.85|2|3\n";
    text += "1.3.6.1.2.1.17.4.3.1.2.0.17.34.51.68.86|2|2\n";
    text += "1.3.6.1.2.1.17.4.3.1.3.0.17.34.51.68.86|2|4\n";
    // Many MACs on bridge port 1 (Gi0/1, ifIndex 10): an uplink.
    for i in 0..16 {
        text += &format!("1.3.6.1.2.1.17.4.3.1.2.2.0.0.0.0.{i}|2|1\n");
    }
    let o = oracle(&text);
    let hosts = o.fdb.hosts(&Default::default());
    assert_eq!(
        hosts.into_iter().collect::<Vec<_>>(),
        [("00:11:22:33:44:55", 11)]
    );
    assert!(o.fdb.uplinks.contains_key(&10));
    // The same entry listed twice with different ports: not judged.
    let twice = format!("{text}1.3.6.1.2.1.17.7.1.2.2.1.2.5.0.17.34.51.68.85|2|1\n");
    let o = oracle(&twice);
    assert!(o.fdb.conflicting.contains("00:11:22:33:44:55"));
    assert!(o.fdb.hosts(&Default::default()).is_empty());
}

/// A topology as `discover --json` prints it, around one link.
fn topo(link: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "devices": [
            {"id": "me", "managed": true, "sys_name": "me", "vendor": "X"},
            {"id": "chassis-02:00:00:00:00:09", "managed": false, "sys_name": "far",
             "chassis_id": "02:00:00:00:00:09"},
        ],
        "links": [link],
        "unresolved": extra,
    })
}

#[test]
fn the_scorer_tells_right_wrong_unresolved_and_dropped() {
    let o = oracle(IFS_AND_ROW); // the row: Vlan1 -> far eth0
    let link = |mine: Option<&str>, far: Option<&str>| {
        serde_json::json!({"id": "l", "evidence": ["lldp"],
            "a": {"device": "me", "if_name": mine},
            "b": {"device": "chassis-02:00:00:00:00:09", "if_name": far}})
    };
    let none = serde_json::json!([]);
    let s = score(&o, &topo(link(Some("Vlan1"), Some("eth0")), none.clone()));
    assert_eq!((s.right, s.wrong, s.dropped, s.extra), (1, 0, 0, 0));
    let s = score(&o, &topo(link(Some("Gi0/1"), Some("eth0")), none.clone()));
    assert_eq!((s.right, s.wrong), (0, 1), "another local interface");
    let s = score(
        &o,
        &topo(link(Some("Vlan1"), Some("0x657468")), none.clone()),
    );
    assert_eq!((s.right, s.wrong), (0, 1), "another remote port");
    let s = score(&o, &topo(link(None, Some("eth0")), none.clone()));
    assert_eq!(s.unresolved_silent, 1);
    let reason = serde_json::json!([{"chassis": "02:00:00:00:00:09", "reason": "no local port"}]);
    let s = score(&o, &topo(serde_json::json!({}), reason));
    assert_eq!((s.unresolved_reason, s.dropped), (1, 0));
    let s = score(&o, &topo(serde_json::json!({}), none));
    assert_eq!(s.dropped, 1);
}

// ---- Real recordings, rows read by hand from their raw lines. ----

fn rows_of(rel: &str) -> Oracle {
    let path = crate::support::recordings::recording_path(rel);
    let text = std::fs::read(&path).unwrap();
    Oracle::read(&relevant_varbinds(&String::from_utf8_lossy(&text)))
}

#[test]
fn real_recordings_read_as_by_hand() {
    require_recordings!();
    let started = std::time::Instant::now();
    // NX-OS: lldpLocPortId is macAddress(3) but spelled as text
    // ("8c:60:4f:19:16:30", ifPhysAddress of ifIndex 436240384; its
    // lldpLocPortDesc "h3c big data" is that interface's ifAlias).
    let n5k = rows_of("network/switch/cisco-n5000");
    let r = n5k.rows.iter().find(|r| r.local_key == 436240384).unwrap();
    assert_eq!(r.local, Local::If(436240384, "lldpLocPortId=ifPhysAddress"));
    assert_eq!(n5k.ifs[&436240384].alias.as_deref(), Some("h3c big data"));
    let mgmt = n5k
        .rows
        .iter()
        .find(|r| r.local_key == 83886080 && r.proto == Proto::Lldp)
        .unwrap();
    assert_eq!(
        mgmt.port_id.as_deref(),
        Some("mgmt0"),
        "NUL padding is not part of the id"
    );
    // Junos: lldpLocPortDesc holds ifAlias; port 563 is ge-0/0/0.
    let mx = rows_of("network/router/juniper-mx960-12-3r6-6");
    assert_eq!(mx.rows.len(), 13);
    let r = mx.rows.iter().find(|r| r.local_key == 563).unwrap();
    assert_eq!(r.local, Local::If(563, "lldpLocPortDesc=ifAlias"));
    assert_eq!(mx.ifs[&563].descr.as_deref(), Some("ge-0/0/0"));
    // ProCurve: CDP device ids as six raw bytes.
    let hp = rows_of("network/switch/hpe-procurve-516733-b21");
    let r = hp
        .rows
        .iter()
        .find(|r| r.proto == Proto::Cdp && r.local_key == 8)
        .unwrap();
    assert_eq!(r.name.as_deref(), Some("e8:39:35:1a:ca:99"));
    // H3C: a bridge, LLDP port 24 = bridge port 24 = ifIndex 24.
    let h3c = rows_of("network/switch/h3c-e528-1");
    assert_eq!(h3c.rows.len(), 1);
    assert_eq!(
        h3c.rows[0].local,
        Local::If(24, "LldpPortNumber=dot1dBasePort")
    );
    // IOS: nine CDP rows, six of them on Gi0/50 (ifIndex 10150).
    let ios = rows_of("network/switch/cisco-c3560");
    assert_eq!(ios.rows.len(), 9);
    assert_eq!(ios.rows.iter().filter(|r| r.local_key == 10150).count(), 6);
    eprintln!("oracle on five recordings in {:.1?}", started.elapsed());
}

/// A CDP row and an LLDP row on one local interface from one neighbour name
/// its port two ways; nocmap's one merged link may carry either name.
#[test]
fn a_cdp_row_is_right_under_its_lldp_twins_port_name() {
    let text = format!(
        "{IFS_AND_ROW}1.3.6.1.4.1.9.9.23.1.2.1.1.6.1.3|4|far\n1.3.6.1.4.1.9.9.23.1.2.1.1.7.1.3|4|Ethernet0\n"
    );
    let o = oracle(&text);
    assert_eq!(o.rows.len(), 2, "{:?}", o.rows);
    let link = |far: &str| {
        serde_json::json!({"id": "l", "evidence": ["lldp", "cdp"],
            "a": {"device": "me", "if_name": "Vlan1"},
            "b": {"device": "chassis-02:00:00:00:00:09", "if_name": far}})
    };
    let none = serde_json::json!([]);
    let s = score(&o, &topo(link("eth0"), none.clone()));
    assert_eq!((s.right, s.wrong), (2, 0), "eth0 is the LLDP twin's name");
    let s = score(&o, &topo(link("Ethernet0"), none.clone()));
    assert_eq!(
        (s.right, s.wrong),
        (2, 0),
        "Ethernet0 is the CDP twin's name"
    );
    let s = score(&o, &topo(link("eth9"), none));
    assert_eq!((s.right, s.wrong), (0, 2), "neither row names eth9");
}
