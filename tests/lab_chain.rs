//! The chain lab (noc - r1 - r2 - r3) end to end: reachability, SNMP v2c and
//! v3, LLDP-MIB over SNMP, and hostile strings surviving snmpd.conf.
#[macro_use]
mod support;

use std::time::{Duration, Instant};

const SYS_NAME: &str = "1.3.6.1.2.1.1.5.0";
const SYS_DESCR: &str = "1.3.6.1.2.1.1.1.0";
const HOSTILE: &str = r#"<script>alert("x")</script> ' & $(id) `id` ; # 100% \n \"q\""#;

/// Column `col` of the agent at `addr`'s lldpRemTable, walked from the noc
/// with net-snmp (values only).
fn lldp_rem_column(lab: &nocmap_lab::Lab, addr: &str, col: u32) -> String {
    let column = format!("1.0.8802.1.1.2.1.4.1.1.{col}");
    support::ok_stdout(
        lab,
        "noc",
        "snmpwalk",
        &["-v2c", "-c", "public", "-Oqv", addr, &column],
    )
}

#[test]
fn chain_reachability_snmp_and_lldp() {
    require_root!();
    let t0 = Instant::now();
    let mut spec = support::example_spec("chain.toml", "tcreach", "10.211.0.0/16");
    spec.nodes[0].sys_descr = Some(HOSTILE.into());
    let lab = support::lab_up(spec);
    eprintln!("lab up in {:?}", t0.elapsed());
    let truth = lab.truth();
    assert_eq!(truth.nodes.len(), 4);
    assert_eq!(truth.links.len(), 3);

    // Every node's management address answers ping from the noc.
    for n in truth.nodes.iter().filter(|n| !n.is_noc) {
        let addr = n
            .mgmt_addr
            .expect("every chain node has an address")
            .to_string();
        let s = support::fping(&lab, "noc", &addr, 3, 100, 1000);
        assert_eq!(s.received, 3, "ping {} ({addr}): {s:?}", n.name);
    }

    // sysName over v2c and v3 authPriv, from the noc, on every managed node.
    for n in truth.nodes.iter().filter(|n| n.managed) {
        let addr = n.mgmt_addr.unwrap().to_string();
        let v2 = support::snmpget_v2c(&lab, "noc", &addr, SYS_NAME);
        assert_eq!(
            support::unquote(&v2),
            n.sys_name,
            "v2c sysName of {}",
            n.name
        );
        let v3 = support::snmpget_v3(&lab, "noc", &addr, SYS_NAME);
        assert_eq!(
            support::unquote(&v3),
            n.sys_name,
            "v3 sysName of {}",
            n.name
        );
    }

    // A wrong community gets no answer.
    let r1 = lab.mgmt_addr("r1").unwrap().to_string();
    let out = support::run_in(
        &lab,
        "noc",
        "snmpget",
        &["-v2c", "-c", "wrong", "-r0", "-t1", &r1, SYS_NAME],
    );
    assert!(!out.status.success(), "wrong community must fail");

    // The hostile sysDescr comes back byte for byte (read as hex, so that
    // snmpget's own escaping does not get in the way).
    let hex = support::ok_stdout(
        &lab,
        "noc",
        "snmpget",
        &["-v2c", "-c", "public", "-Oqvx", &r1, SYS_DESCR],
    );
    let bytes: Vec<u8> = hex
        .split(|c: char| c.is_whitespace() || c == '"')
        .filter(|b| !b.is_empty())
        .map(|b| u8::from_str_radix(b, 16).expect("hex byte"))
        .collect();
    assert_eq!(String::from_utf8_lossy(&bytes), HOSTILE);

    // LLDP-MIB remote tables, read over SNMP, show the cabling.
    let t1 = Instant::now();
    lab.wait_lldp_settled(Duration::from_secs(20))
        .expect("LLDP settles");
    eprintln!("LLDP settled in {:?}", t1.elapsed());
    assert_eq!(lab.lldp_neighbours("r1").unwrap(), vec!["r2"]);
    assert_eq!(lab.lldp_neighbours("r2").unwrap(), vec!["r1", "r3"]);
    assert_eq!(lab.lldp_neighbours("r3").unwrap(), vec!["r2"]);
    // And from the noc, as the product will see it (through the wire link too).
    let r3 = lab.mgmt_addr("r3").unwrap().to_string();
    let walk = lldp_rem_column(&lab, &r3, 9);
    assert_eq!(support::unquote(&walk), "r2");
    // r2 announces its port as ifName: r1 sees "eth1" (subtype 5 = interfaceName).
    let r1_remote_port = lldp_rem_column(&lab, &r1, 7);
    assert_eq!(support::unquote(&r1_remote_port), "eth1");
    eprintln!("total {:?}", t0.elapsed());
}

#[test]
fn chain_restart_snmpd_keeps_answering() {
    require_root!();
    let lab = support::lab_up(support::example_spec(
        "chain.toml",
        "tcrestart",
        "10.213.0.0/16",
    ));
    let r2 = lab.mgmt_addr("r2").unwrap().to_string();
    let before = lab.processes();
    lab.restart_snmpd("r2").expect("restart");
    let after = lab.processes();
    let pid = |v: &Vec<(String, Option<i32>, bool)>| {
        v.iter().find(|p| p.0 == "snmpd@r2").and_then(|p| p.1)
    };
    assert_ne!(pid(&before), pid(&after), "snmpd got a new pid");
    assert!(after.iter().all(|p| p.2), "all processes alive: {after:?}");
    let v3 = support::snmpget_v3(&lab, "noc", &r2, SYS_NAME);
    assert_eq!(support::unquote(&v3), "r2");
    assert!(
        lab.daemon_log("r2", nocmap_lab::Daemon::Snmpd)
            .contains("NET-SNMP"),
        "snmpd log readable"
    );
}
