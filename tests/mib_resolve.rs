//! Tests of `nocmap::mib`: bundled modules, both directions of resolution,
//! index metadata, error cases and vendor MIB directories.
use nocmap::mib::{BaseSyntax, IndexEncoding, MibError, Mibs, NodeKind};
use std::sync::OnceLock;

fn mibs() -> &'static Mibs {
    static M: OnceLock<Mibs> = OnceLock::new();
    M.get_or_init(|| Mibs::try_bundled().expect("bundled MIBs load").0)
}

fn oid(s: &str) -> Vec<u32> {
    s.trim_start_matches('.')
        .split('.')
        .map(|a| a.parse().unwrap())
        .collect()
}

/// OIDs as returned by `snmpwalk -On` against net-snmp 5.9.3 on this
/// machine (one instance per column), for the subtrees we bundle.
const NETSNMP_WALK: &str = "
.1.3.6.1.2.1.1.1.0
.1.3.6.1.2.1.1.2.0
.1.3.6.1.2.1.1.3.0
.1.3.6.1.2.1.1.4.0
.1.3.6.1.2.1.1.5.0
.1.3.6.1.2.1.1.6.0
.1.3.6.1.2.1.1.8.0
.1.3.6.1.2.1.1.9.1.2.1
.1.3.6.1.2.1.1.9.1.3.1
.1.3.6.1.2.1.1.9.1.4.1
.1.3.6.1.2.1.2.1.0
.1.3.6.1.2.1.2.2.1.1.1
.1.3.6.1.2.1.2.2.1.2.1
.1.3.6.1.2.1.2.2.1.3.1
.1.3.6.1.2.1.2.2.1.4.1
.1.3.6.1.2.1.2.2.1.5.1
.1.3.6.1.2.1.2.2.1.6.1
.1.3.6.1.2.1.2.2.1.7.1
.1.3.6.1.2.1.2.2.1.8.1
.1.3.6.1.2.1.2.2.1.9.1
.1.3.6.1.2.1.2.2.1.10.1
.1.3.6.1.2.1.2.2.1.11.1
.1.3.6.1.2.1.2.2.1.12.1
.1.3.6.1.2.1.2.2.1.13.1
.1.3.6.1.2.1.2.2.1.14.1
.1.3.6.1.2.1.2.2.1.15.1
.1.3.6.1.2.1.2.2.1.16.1
.1.3.6.1.2.1.2.2.1.17.1
.1.3.6.1.2.1.2.2.1.18.1
.1.3.6.1.2.1.2.2.1.19.1
.1.3.6.1.2.1.2.2.1.20.1
.1.3.6.1.2.1.2.2.1.21.1
.1.3.6.1.2.1.2.2.1.22.1
.1.3.6.1.2.1.4.20.1.1.127.0.0.1
.1.3.6.1.2.1.4.20.1.2.127.0.0.1
.1.3.6.1.2.1.4.20.1.3.127.0.0.1
.1.3.6.1.2.1.4.20.1.4.127.0.0.1
.1.3.6.1.2.1.4.22.1.1.4.192.0.2.1
.1.3.6.1.2.1.4.22.1.2.4.192.0.2.1
.1.3.6.1.2.1.4.22.1.3.4.192.0.2.1
.1.3.6.1.2.1.4.22.1.4.4.192.0.2.1
.1.3.6.1.2.1.4.34.1.3.1.4.127.0.0.1
.1.3.6.1.2.1.4.34.1.4.1.4.127.0.0.1
.1.3.6.1.2.1.4.34.1.5.1.4.127.0.0.1
.1.3.6.1.2.1.4.34.1.6.1.4.127.0.0.1
.1.3.6.1.2.1.4.34.1.7.1.4.127.0.0.1
.1.3.6.1.2.1.4.34.1.8.1.4.127.0.0.1
.1.3.6.1.2.1.4.34.1.9.1.4.127.0.0.1
.1.3.6.1.2.1.4.34.1.10.1.4.127.0.0.1
.1.3.6.1.2.1.4.34.1.11.1.4.127.0.0.1
.1.3.6.1.2.1.4.35.1.4.4.1.4.192.0.2.1
.1.3.6.1.2.1.4.35.1.5.4.1.4.192.0.2.1
.1.3.6.1.2.1.4.35.1.6.4.1.4.192.0.2.1
.1.3.6.1.2.1.4.35.1.7.4.1.4.192.0.2.1
.1.3.6.1.2.1.4.35.1.8.4.1.4.192.0.2.1
.1.3.6.1.2.1.31.1.1.1.1.1
.1.3.6.1.2.1.31.1.1.1.2.1
.1.3.6.1.2.1.31.1.1.1.3.1
.1.3.6.1.2.1.31.1.1.1.4.1
.1.3.6.1.2.1.31.1.1.1.5.1
.1.3.6.1.2.1.31.1.1.1.6.1
.1.3.6.1.2.1.31.1.1.1.7.1
.1.3.6.1.2.1.31.1.1.1.8.1
.1.3.6.1.2.1.31.1.1.1.9.1
.1.3.6.1.2.1.31.1.1.1.10.1
.1.3.6.1.2.1.31.1.1.1.11.1
.1.3.6.1.2.1.31.1.1.1.12.1
.1.3.6.1.2.1.31.1.1.1.13.1
.1.3.6.1.2.1.31.1.1.1.15.1
.1.3.6.1.2.1.31.1.1.1.16.1
.1.3.6.1.2.1.31.1.1.1.17.1
.1.3.6.1.2.1.31.1.1.1.18.1
.1.3.6.1.2.1.31.1.1.1.19.1
.1.3.6.1.6.3.10.2.1.1.0
";

#[test]
fn bundled_modules_load_without_errors() {
    let (m, _warnings) = Mibs::try_bundled().expect("bundled MIBs load");
    for module in Mibs::bundled_module_names() {
        assert!(m.has_module(module), "module {module} not loaded");
    }
}

#[test]
fn every_bundled_node_resolves_both_ways() {
    let m = mibs();
    let bundled = Mibs::bundled_module_names();
    let mut checked = 0;
    for node in m.nodes().filter(|n| bundled.contains(&n.module.as_str())) {
        let q = node.qualified_name();
        assert_eq!(m.resolve(&q).unwrap(), node.oid, "{q}");
        assert_eq!(m.resolve(&node.name).unwrap(), node.oid, "{}", node.name);
        assert_eq!(m.name_of(&node.oid), Some((q.clone(), vec![])), "{q}");
        let mut inst = node.oid.clone();
        // An arc no MIB defines, so the longest named prefix is the node.
        inst.extend([999_999, 1]);
        assert_eq!(m.resolve(&format!("{q}.999999.1")).unwrap(), inst);
        assert_eq!(m.name_of(&inst), Some((q.clone(), vec![999_999, 1])));
        checked += 1;
    }
    assert!(checked > 250, "only {checked} bundled nodes");
}

#[test]
fn well_known_oids_are_right() {
    let cases = [
        ("SNMPv2-MIB::sysDescr", "1.3.6.1.2.1.1.1"),
        ("SNMPv2-MIB::sysObjectID", "1.3.6.1.2.1.1.2"),
        ("SNMPv2-MIB::sysUpTime", "1.3.6.1.2.1.1.3"),
        ("SNMPv2-MIB::sysName", "1.3.6.1.2.1.1.5"),
        ("SNMPv2-MIB::snmpTrapOID", "1.3.6.1.6.3.1.1.4.1"),
        ("SNMP-FRAMEWORK-MIB::snmpEngineID", "1.3.6.1.6.3.10.2.1.1"),
        ("IF-MIB::ifDescr", "1.3.6.1.2.1.2.2.1.2"),
        ("IF-MIB::ifInOctets", "1.3.6.1.2.1.2.2.1.10"),
        ("IF-MIB::ifName", "1.3.6.1.2.1.31.1.1.1.1"),
        ("IF-MIB::ifHCInOctets", "1.3.6.1.2.1.31.1.1.1.6"),
        ("IF-MIB::ifHCOutOctets", "1.3.6.1.2.1.31.1.1.1.10"),
        ("IF-MIB::ifHighSpeed", "1.3.6.1.2.1.31.1.1.1.15"),
        ("IF-MIB::ifAlias", "1.3.6.1.2.1.31.1.1.1.18"),
        (
            "IF-MIB::ifCounterDiscontinuityTime",
            "1.3.6.1.2.1.31.1.1.1.19",
        ),
        ("IF-MIB::ifStackStatus", "1.3.6.1.2.1.31.1.2.1.3"),
        ("IF-MIB::linkDown", "1.3.6.1.6.3.1.1.5.3"),
        ("IF-MIB::linkUp", "1.3.6.1.6.3.1.1.5.4"),
        ("IP-MIB::ipAdEntNetMask", "1.3.6.1.2.1.4.20.1.3"),
        ("IP-MIB::ipNetToMediaPhysAddress", "1.3.6.1.2.1.4.22.1.2"),
        ("IP-MIB::ipAddressIfIndex", "1.3.6.1.2.1.4.34.1.3"),
        ("IP-MIB::ipAddressPrefix", "1.3.6.1.2.1.4.34.1.5"),
        ("IP-MIB::ipNetToPhysicalPhysAddress", "1.3.6.1.2.1.4.35.1.4"),
        ("LLDP-MIB::lldpLocChassisIdSubtype", "1.0.8802.1.1.2.1.3.1"),
        ("LLDP-MIB::lldpLocChassisId", "1.0.8802.1.1.2.1.3.2"),
        ("LLDP-MIB::lldpLocSysName", "1.0.8802.1.1.2.1.3.3"),
        ("LLDP-MIB::lldpLocPortId", "1.0.8802.1.1.2.1.3.7.1.3"),
        ("LLDP-MIB::lldpRemChassisId", "1.0.8802.1.1.2.1.4.1.1.5"),
        ("LLDP-MIB::lldpRemPortId", "1.0.8802.1.1.2.1.4.1.1.7"),
        ("LLDP-MIB::lldpRemSysName", "1.0.8802.1.1.2.1.4.1.1.9"),
        ("LLDP-MIB::lldpRemManAddrIfId", "1.0.8802.1.1.2.1.4.2.1.4"),
        ("BRIDGE-MIB::dot1dBaseBridgeAddress", "1.3.6.1.2.1.17.1.1"),
        ("BRIDGE-MIB::dot1dBasePortIfIndex", "1.3.6.1.2.1.17.1.4.1.2"),
        ("BRIDGE-MIB::dot1dTpFdbPort", "1.3.6.1.2.1.17.4.3.1.2"),
        ("Q-BRIDGE-MIB::dot1qTpFdbPort", "1.3.6.1.2.1.17.7.1.2.2.1.2"),
        (
            "Q-BRIDGE-MIB::dot1qVlanStaticName",
            "1.3.6.1.2.1.17.7.1.4.3.1.1",
        ),
        ("Q-BRIDGE-MIB::dot1qPvid", "1.3.6.1.2.1.17.7.1.4.5.1.1"),
        (
            "CISCO-CDP-MIB::cdpCacheAddress",
            "1.3.6.1.4.1.9.9.23.1.2.1.1.4",
        ),
        (
            "CISCO-CDP-MIB::cdpCacheDeviceId",
            "1.3.6.1.4.1.9.9.23.1.2.1.1.6",
        ),
        (
            "CISCO-CDP-MIB::cdpCacheDevicePort",
            "1.3.6.1.4.1.9.9.23.1.2.1.1.7",
        ),
        ("ENTITY-MIB::entPhysicalClass", "1.3.6.1.2.1.47.1.1.1.1.5"),
        (
            "ENTITY-MIB::entPhysicalSerialNum",
            "1.3.6.1.2.1.47.1.1.1.1.11",
        ),
        (
            "ENTITY-MIB::entPhysicalModelName",
            "1.3.6.1.2.1.47.1.1.1.1.13",
        ),
    ];
    for (name, numeric) in cases {
        assert_eq!(mibs().resolve(name).unwrap(), oid(numeric), "{name}");
    }
}

#[test]
fn every_column_a_real_agent_returned_has_a_name() {
    let m = mibs();
    let mut n = 0;
    for line in NETSNMP_WALK
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let o = oid(line);
        let (node, suffix) = m.node_of(&o).unwrap_or_else(|| panic!("{line}: no name"));
        assert!(
            matches!(node.kind, NodeKind::Scalar | NodeKind::Column),
            "{line} resolved to {} ({:?})",
            node.qualified_name(),
            node.kind
        );
        assert!(!suffix.is_empty(), "{line}: no instance suffix");
        // And back: the display form resolves to the same arcs.
        assert_eq!(m.resolve(&m.display(&o)).unwrap(), o, "{line}");
        n += 1;
    }
    assert_eq!(n, 74);
}

#[test]
fn numeric_text_passes_through() {
    let m = mibs();
    assert_eq!(
        m.resolve("1.3.6.1.2.1.2.2.1.10").unwrap(),
        oid("1.3.6.1.2.1.2.2.1.10")
    );
    assert_eq!(m.resolve(".1.3.6.1.99.1").unwrap(), vec![1, 3, 6, 1, 99, 1]);
    assert_eq!(m.resolve(" 1.3 ").unwrap(), vec![1, 3]);
}

#[test]
fn names_and_instance_suffixes() {
    let m = mibs();
    let hc = oid("1.3.6.1.2.1.31.1.1.1.6");
    assert_eq!(m.resolve("ifHCInOctets").unwrap(), hc);
    assert_eq!(m.resolve("IF-MIB::ifHCInOctets").unwrap(), hc);
    let mut inst = hc.clone();
    inst.push(3);
    assert_eq!(m.resolve("IF-MIB::ifHCInOctets.3").unwrap(), inst);
    assert_eq!(m.resolve("ifHCInOctets.3").unwrap(), inst);
    assert_eq!(
        m.name_of(&inst),
        Some(("IF-MIB::ifHCInOctets".to_string(), vec![3]))
    );
    assert_eq!(m.display(&inst), "IF-MIB::ifHCInOctets.3");
    assert_eq!(
        m.display(&oid("1.3.6.1.2.1.1.5.0")),
        "SNMPv2-MIB::sysName.0"
    );
    // Base SMI names are known too.
    assert_eq!(m.resolve("enterprises").unwrap(), oid("1.3.6.1.4.1"));
    assert_eq!(
        m.display(&oid("1.3.6.1.4.1.424242.1")),
        "SNMPv2-SMI::enterprises.424242.1"
    );
    assert_eq!(m.name_of(&[2, 999]), None);
    assert_eq!(m.display(&[2, 999]), "2.999");
}

#[test]
fn unknown_names_are_clear_errors() {
    let m = mibs();
    let e = m.resolve("IF-MIB::ifNoSuchThing.3").unwrap_err();
    assert!(matches!(e, MibError::UnknownName { .. }));
    assert!(e.to_string().contains("ifNoSuchThing"), "{e}");
    assert!(e.to_string().contains("IF-MIB::ifNoSuchThing.3"), "{e}");
    let e = m.resolve("noSuchThing").unwrap_err();
    assert!(e.to_string().contains("noSuchThing"), "{e}");
    let e = m.resolve("NO-SUCH-MIB::sysName").unwrap_err();
    assert!(matches!(e, MibError::UnknownModule { .. }), "{e}");
    assert!(e.to_string().contains("NO-SUCH-MIB"), "{e}");
    assert!(matches!(m.resolve(""), Err(MibError::Empty)));
    assert!(matches!(
        m.resolve("sysName.x"),
        Err(MibError::BadInstanceSuffix { .. })
    ));
    assert!(matches!(
        m.resolve("1.3.six"),
        Err(MibError::BadNumericOid { .. })
    ));
}

#[test]
fn object_metadata_for_index_decoding() {
    let m = mibs();
    let hc = m.node("IF-MIB::ifHCInOctets").unwrap();
    assert_eq!(hc.kind, NodeKind::Column);
    let meta = hc.object.as_ref().unwrap();
    assert_eq!(meta.base, BaseSyntax::Counter64);
    // ifXEntry AUGMENTS ifEntry: the effective index is ifIndex.
    let names: Vec<&str> = meta.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["ifIndex"]);
    assert_eq!(meta.indexes[0].encoding, IndexEncoding::Integer);

    let oper = m.node("ifOperStatus").unwrap().object.clone().unwrap();
    assert!(oper.enums.contains(&(7, "lowerLayerDown".to_string())));

    let rem = m.node("lldpRemSysName").unwrap().object.clone().unwrap();
    let names: Vec<&str> = rem.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        ["lldpRemTimeMark", "lldpRemLocalPortNum", "lldpRemIndex"]
    );

    let fdb = m.node("dot1qTpFdbPort").unwrap().object.clone().unwrap();
    let enc: Vec<IndexEncoding> = fdb.indexes.iter().map(|i| i.encoding).collect();
    assert_eq!(enc, [IndexEncoding::Integer, IndexEncoding::FixedOctets(6)]);

    let addr = m.node("ipAddressIfIndex").unwrap().object.clone().unwrap();
    let enc: Vec<IndexEncoding> = addr.indexes.iter().map(|i| i.encoding).collect();
    assert_eq!(enc, [IndexEncoding::Integer, IndexEncoding::LengthPrefixed]);

    let net = m
        .node("ipNetToMediaPhysAddress")
        .unwrap()
        .object
        .clone()
        .unwrap();
    let enc: Vec<IndexEncoding> = net.indexes.iter().map(|i| i.encoding).collect();
    assert_eq!(enc, [IndexEncoding::Integer, IndexEncoding::IpAddress]);

    let table = m.node("ifTable").unwrap();
    assert_eq!(table.kind, NodeKind::Table);
    assert_eq!(m.node("sysName").unwrap().kind, NodeKind::Scalar);
    assert!(m.node("ifDescr.3").is_none());
}

#[test]
fn name_of_is_fast_enough_for_big_walks() {
    let m = mibs();
    let base = oid("1.3.6.1.2.1.31.1.1.1.6");
    let oids: Vec<Vec<u32>> = (0..100_000u32)
        .map(|i| {
            let mut o = base.clone();
            o.push(i);
            o
        })
        .collect();
    let start = std::time::Instant::now();
    let named = oids.iter().filter(|o| m.name_of(o).is_some()).count();
    let took = start.elapsed();
    assert_eq!(named, 100_000);
    // Generous: a debug build on a shared 2-core box does this in well
    // under a second; a linear scan over all nodes would not.
    assert!(took.as_secs_f64() < 5.0, "100k lookups took {took:?}");
}
