//! Hosts from forwarding tables across trunks: three switches in a line,
//! sw1 ── sw2 ── sw3, joined by trunks carrying VLANs 1 (management), 10
//! and 20, two hosts on each switch, one per VLAN, on access ports. Every
//! host must be drawn on its own access port with the reason, and none on
//! a trunk, although every switch learned every other host's MAC there;
//! the MACs behind each trunk are listed on it with why. Fails when uplink
//! MACs become hosts.
//!
//! The lab's kernel has neither bridge VLAN filtering nor 802.1Q devices
//! nor bonding, so VLANs are built the way the lab's bridge agent reads
//! them (`nocmap_lab::bridge_vlans`): VLAN N is a bridge `brN` beside `br0`,
//! a trunk `X` is `X` on `br0` plus a cable `X.N` per VLAN, served over
//! SNMP as the one port `X` in dot1qTpFdbTable's FDB N, and in
//! dot1qVlanCurrentTable as sending VLAN N tagged (VLAN 1 untagged), an
//! access port its VLAN untagged: each host's reason names its access
//! port by that membership. (No LAG: the kernel cannot build one.)
#[macro_use]
mod support;

use nocmap_lab::Lab;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Instant;

const PREFIX: &str = "10.160.0.0/16";

/// (host, switch, VLAN): each host on an access port of its switch, the
/// port named after it.
const HOSTS: [(&str, &str, u16); 6] = [
    ("h1a", "sw1", 10),
    ("h1b", "sw1", 20),
    ("h2a", "sw2", 10),
    ("h2b", "sw2", 20),
    ("h3a", "sw3", 10),
    ("h3b", "sw3", 20),
];

/// The trunks: (name, one switch, the other).
const TRUNKS: [(&str, &str, &str); 2] = [("t12", "sw1", "sw2"), ("t23", "sw2", "sw3")];
const SWITCHES: [&str; 3] = ["sw1", "sw2", "sw3"];
const VLANS: [u16; 2] = [10, 20];

fn lab_toml() -> String {
    let mut t = support::lab::LabToml::new("vtr", PREFIX);
    for sw in SWITCHES {
        t = t.node(sw, "switch", "");
    }
    for (h, sw, _) in HOSTS {
        t = t.node(h, "host", &format!("attach = \"{sw}\""));
    }
    t = t.link("noc:eth0", "sw1:noc", "");
    for (x, a, b) in TRUNKS {
        t = t.link(&format!("{a}:{x}"), &format!("{b}:{x}"), "");
    }
    t.build()
}

/// Runs a shell command line inside `node`, which must succeed.
fn sh_in(lab: &Lab, node: &str, script: &str) {
    support::ok_stdout(lab, node, "sh", &["-ec", script]);
}

/// VLANs 10 and 20 on every switch: a bridge each, the access ports moved
/// there from br0, a cable per VLAN beside each trunk; then every table
/// flushed, so only what is learned from now on is there.
fn set_vlans(lab: &Lab) {
    for sw in SWITCHES {
        // br0 keeps its address when ports leave it (a bridge takes the
        // lowest of its ports' MACs): the noc's ARP entries stay true.
        let mut s = String::from("ip link set br0 address $(cat /sys/class/net/br0/address);\n");
        for v in VLANS {
            s += &format!(
                "ip link add br{v} type bridge forward_delay 0 stp_state 0 mcast_snooping 0;\n\
                 ip link set br{v} up;\n"
            );
        }
        for (h, hs, v) in HOSTS {
            if hs == sw {
                s += &format!("ip link set {h} nomaster; ip link set {h} master br{v};\n");
            }
        }
        sh_in(lab, sw, &s);
    }
    for (x, a, b) in TRUNKS {
        let (na, nb) = (lab.ns(a).unwrap(), lab.ns(b).unwrap());
        for v in VLANS {
            let cable = format!("{x}.{v}");
            support::sh(std::process::Command::new("ip").args([
                "link", "add", &cable, "netns", na, "type", "veth", "peer", "name", &cable,
                "netns", nb,
            ]));
            for sw in [a, b] {
                sh_in(
                    lab,
                    sw,
                    &format!("ip link set {cable} master br{v}; ip link set {cable} up"),
                );
            }
        }
    }
    for sw in SWITCHES {
        sh_in(
            lab,
            sw,
            "for b in br0 br10 br20; do ip link set $b type bridge fdb_flush; done",
        );
    }
}

/// Every host pings the other hosts of its VLAN (across the trunk and the
/// LAG), and the noc pings every switch: each bridge learns each MAC.
fn traffic(lab: &Lab) {
    for (h, _, vlan) in HOSTS {
        let peers: Vec<String> = HOSTS
            .iter()
            .filter(|(o, _, v)| *v == vlan && *o != h)
            .map(|(o, _, _)| lab.mgmt_addr(o).unwrap().to_string())
            .collect();
        let mut args = vec!["-c3", "-p200", "-t1000", "-q"];
        args.extend(peers.iter().map(String::as_str));
        let out = support::run_in(lab, h, "fping", &args);
        assert!(
            out.status.success(),
            "{h} reaches its VLAN {vlan} peers {peers:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The VLANs are apart: h1a does not reach h1b.
    let h1b = lab.mgmt_addr("h1b").unwrap().to_string();
    assert_eq!(support::fping(lab, "h1a", &h1b, 1, 100, 300).received, 0);
    for sw in SWITCHES {
        let a = lab.mgmt_addr(sw).unwrap().to_string();
        let s = support::fping(lab, "noc", &a, 3, 200, 1000);
        assert!(s.received > 0, "noc reaches {sw} ({a}): {s:?}");
    }
}

fn discover(lab: &Lab) -> Value {
    let seed = lab.mgmt_addr("sw1").unwrap().to_string();
    let json = support::sh(
        lab.command_in("noc", support::nocmap_bin().to_str().unwrap())
            .unwrap()
            .args([
                "discover", "--seed", &seed, "--prefix", PREFIX, "-c", "public", "--json",
            ]),
    );
    serde_json::from_str(&json).expect("topology JSON")
}

fn mac_of(lab: &Lab, node: &str) -> String {
    let out = support::ok_stdout(lab, node, "cat", &["/sys/class/net/eth0/address"]);
    out.trim().to_ascii_lowercase()
}

#[test]
fn hosts_on_their_access_ports_none_on_a_trunk() {
    require_root!();
    let t0 = Instant::now();
    let lab = support::lab_up_toml(&lab_toml());
    set_vlans(&lab);
    traffic(&lab);
    let topo = discover(&lab);
    eprintln!("lab up, configured and discovered in {:?}", t0.elapsed());

    let devices = topo["devices"].as_array().unwrap();
    let name_of: BTreeMap<&str, &str> = devices
        .iter()
        .filter_map(|d| Some((d["id"].as_str()?, d["sys_name"].as_str()?)))
        .collect();
    // Every FDB link to a host: (host id, switch sysName, port).
    let mut fdb_hosts: Vec<(String, String, String)> = Vec::new();
    for l in topo["links"].as_array().unwrap() {
        let ev = l["evidence"].as_array().unwrap();
        if ev.len() != 1 || ev[0] != "fdb" {
            continue;
        }
        for (host, sw) in [(&l["a"], &l["b"]), (&l["b"], &l["a"])] {
            let id = host["device"].as_str().unwrap();
            if id.starts_with("mac-") {
                let sw_name = name_of.get(sw["device"].as_str().unwrap()).copied();
                fdb_hosts.push((
                    id.to_string(),
                    sw_name.unwrap_or("?").to_string(),
                    sw["if_name"].as_str().unwrap_or("?").to_string(),
                ));
            }
        }
    }
    for (_, sw, port) in &fdb_hosts {
        assert!(
            !port.starts_with("t12") && !port.starts_with("t23"),
            "a host drawn on {sw}:{port}, a trunk: {fdb_hosts:#?}"
        );
    }
    for (h, sw, vlan) in HOSTS {
        let id = format!("mac-{}", mac_of(&lab, h));
        let on: Vec<_> = fdb_hosts.iter().filter(|x| x.0 == id).collect();
        assert_eq!(
            on,
            vec![&(id.clone(), sw.to_string(), h.to_string())],
            "{h} ({id}) on {sw}:{h} only: {fdb_hosts:#?}"
        );
        let d = devices.iter().find(|d| d["id"] == id.as_str()).unwrap();
        let p = &d["placement"][0];
        assert_eq!(p["if_name"], h, "{d}");
        assert_eq!(p["vlans"], serde_json::json!([vlan]), "{d}");
        assert!(
            p["reason"].as_str().unwrap().contains("an edge port"),
            "{d}"
        );
        // The access port by the switch's VLAN membership, as the lab's
        // agent serves it (dot1qVlanCurrentTable).
        let by_vlans = format!(
            "by its VLAN membership (dot1qVlanCurrentTable) an access port: VLAN {vlan} untagged, none tagged"
        );
        assert!(p["reason"].as_str().unwrap().ends_with(&by_vlans), "{d}");
    }
    // The MACs behind each trunk are listed on it with why, never dropped.
    for (x, a, b) in TRUNKS {
        trunk_lists_its_macs(devices, a, x);
        trunk_lists_its_macs(devices, b, x);
    }
}

/// The MACs behind trunk `port` of `sw` are listed on it with why.
fn trunk_lists_its_macs(devices: &[Value], sw: &str, port: &str) {
    let d = devices
        .iter()
        .find(|d| d["sys_name"] == sw && d["managed"] == true)
        .unwrap_or_else(|| panic!("{sw} discovered"));
    let rows: Vec<&Value> = d["unresolved"]
        .as_array()
        .map(|v| v.iter().filter(|u| u["local_if"] == port).collect())
        .unwrap_or_default();
    assert!(
        rows.iter()
            .any(|u| u["reason"] == "learned_behind_uplink"
                && !u["macs"].as_array().unwrap().is_empty()),
        "{sw}:{port}: {:#?}",
        d["unresolved"]
    );
}
