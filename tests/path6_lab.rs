//! `serve`'s path monitoring over IPv6, in a lab of SNMP routers (snmpd
//! and lldpd over the lab's IPv4 plan) that also forward IPv6 and answer
//! with ICMPv6 time exceeded natively:
//!
//! ```text
//!              ┌─ r2 ─┐
//! noc ── r1 ──┤      ├── r4 ── h1
//!              └─ r3 ─┘
//! ```
//!
//! serve discovers the routers over IPv4; `[[devices]]` lists r4 by an
//! IPv6 interface address (a router managed over IPv4, monitored over
//! IPv6) and h1, which answers no SNMP, by its IPv6 address only. Both
//! paths on `/api/devices/:id/path` are the routers' own IPv6 path, each
//! hop mapped to its router by the IPv6 addresses its ipAddressTable gives;
//! a route changed at r1 for r4's address gives exactly one "path changed"
//! (in the log and one `path_changed` event on `/api/events`, r4's, with
//! the hops before and after), and h1's path stays. ICMPv6 errors are not
//! rate limited in the lab. Lab `pth6`: IPv4 plan 10.112.0.0/22, IPv6
//! fd13:7:0:L::/64 per link L, the first end ::1, the second ::2.
#[macro_use]
mod support;
use support::diamond6::{Diamond6, ip, links_toml, owner, routed_path, settled};
use support::lab::LabToml;

use nocmap_lab::Lab;
use serde_json::Value;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

/// fd13:7::/48.
const D: Diamond6 = Diamond6 { seg: 7 };

fn lab_toml() -> String {
    LabToml::new("pth6", "10.112.0.0/22")
        .routers(&["r1", "r2", "r3", "r4"])
        .node("h1", "host", "snmp = false\nlldp = false")
        .links(&links_toml())
        .build()
}

/// Static routes: the noc reaches fd13:7::/48 through r1; r1 reaches r4's
/// and h1's links through r2 and r4's other link through r3; r4 and h1
/// return through r2. r3 knows r4's link to r2 through r4 (for the route
/// change).
fn ipv6_plan(lab: &Lab) {
    let routes = [
        ("noc", format!("fd13:7::/48 via {}", D.addr(1, 2))),
        ("r1", format!("{} via {}", D.net(6), D.addr(2, 2))),
        ("r1", format!("{} via {}", D.net(4), D.addr(2, 2))),
        ("r1", format!("{} via {}", D.net(5), D.addr(3, 2))),
        ("r2", format!("{} via {}", D.net(1), D.addr(2, 1))),
        ("r2", format!("{} via {}", D.net(6), D.addr(4, 2))),
        ("r3", format!("{} via {}", D.net(1), D.addr(3, 1))),
        ("r3", format!("{} via {}", D.net(6), D.addr(5, 2))),
        ("r3", format!("{} via {}", D.net(4), D.addr(5, 2))),
        ("r4", format!("fd13:7::/48 via {}", D.addr(4, 1))),
        ("h1", format!("fd13:7::/48 via {}", D.addr(6, 1))),
    ];
    D.plan(lab, &routes);
}

/// A hop list's addresses (hops that answered).
fn addrs(hops: &Value) -> Vec<Ipv6Addr> {
    hops.as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["addr"].as_str().and_then(|a| a.parse().ok()))
        .collect()
}

/// A hop list's devices, None where a hop is outside the topology.
fn devices(hops: &Value) -> Vec<Option<String>> {
    hops.as_array()
        .unwrap()
        .iter()
        .map(|h| h["device"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn serve_path6_follows_a_route_change() {
    require_root!();
    let t0 = Instant::now();
    let lab = support::lab_up_toml(&lab_toml());
    ipv6_plan(&lab);
    settled(&lab);
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    eprintln!("lab pth6 up in {:.1} s", t0.elapsed().as_secs_f64());
    let (r4_v6, h1_v6) = (D.addr(4, 2), D.addr(6, 2));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nocmap.toml");
    std::fs::write(
        &config,
        format!(
            "[poll]\npath_interval_s = 1\n\
             [discovery]\nprefixes = [\"fd13:7::/48\"]\n\
             [[devices]]\nname = \"r4-v6\"\naddress = \"{r4_v6}\"\n\
             [[devices]]\nname = \"h1-v6\"\naddress = \"{h1_v6}\"\n"
        ),
    )
    .unwrap();
    let port = 18791;
    let serve = support::serve::ServeCmd::new(&lab, "10.112.0.0/22")
        .config(&config)
        .db(&dir.path().join("db.sqlite"))
        .listen(port)
        .verbose()
        .start_captured("pth6");

    // Every device by id, and which lab node each router is.
    let topology =
        support::wait_until("r4 and h1 in the topology", Duration::from_secs(60), || {
            let t: Value =
                serde_json::from_str(&support::noc_get(&lab, port, "/api/topology")?).ok()?;
            let devices = t["devices"].as_array()?.clone();
            let has = |a: Ipv6Addr| {
                devices.iter().any(|d| {
                    d["addresses"]
                        .as_array()
                        .is_some_and(|l| l.iter().any(|x| x.as_str() == Some(&a.to_string())))
                })
            };
            (has(r4_v6) && has(h1_v6)).then_some(devices)
        });
    // The routers by their sysName (the lab names them after the node).
    let id_of = |node: &str| -> String {
        topology
            .iter()
            .find(|d| d["sys_name"].as_str() == Some(node))
            .and_then(|d| d["id"].as_str())
            .unwrap_or_else(|| panic!("{node} not in the topology"))
            .to_owned()
    };
    let r4 = id_of("r4");
    // r4 is managed over IPv4 and has its IPv6 address from its own
    // ipAddressTable: no other device stands for that address.
    let r4_dev = topology.iter().find(|d| d["id"] == r4.as_str()).unwrap();
    let r4_mgmt: IpAddr = r4_dev["mgmt_addr"].as_str().unwrap().parse().unwrap();
    assert!(r4_mgmt.is_ipv4(), "{r4_dev}");
    let r4_addrs = r4_dev["addresses"].as_array().unwrap();
    assert!(
        r4_addrs
            .iter()
            .any(|a| a.as_str() == Some(&r4_v6.to_string())),
        "{r4_dev}"
    );
    let stand_ins = topology
        .iter()
        .filter(|d| d["mgmt_addr"].as_str() == Some(&r4_v6.to_string()))
        .count();
    assert_eq!(stand_ins, 0, "r4's IPv6 address is r4's: {topology:?}");
    // h1 answers no SNMP: a device of its own, managed by its IPv6 address.
    let h1 = topology
        .iter()
        .find(|d| d["mgmt_addr"].as_str() == Some(&h1_v6.to_string()))
        .and_then(|d| d["id"].as_str())
        .expect("h1 by its IPv6 address")
        .to_owned();
    let node_id = |a: Ipv6Addr| -> String {
        match owner(a) {
            "h1" => h1.clone(),
            n => id_of(n),
        }
    };

    // Both paths are the routers' own, every hop mapped to its device.
    let path_of = |id: &str| {
        support::noc_json(&lab, port, &format!("/api/devices/{id}/path"))["path"].clone()
    };
    let mut firsts = Vec::new();
    for (id, target) in [(&r4, r4_v6), (&h1, h1_v6)] {
        let want = routed_path(&lab, target);
        let first = support::wait_until(&format!("{id}'s path"), Duration::from_secs(30), || {
            let p = path_of(id);
            (p["reached"] == true && addrs(&p["hops"]) == want).then_some(p)
        });
        let names = devices(&first["hops"]);
        eprintln!("serve: {id} at {target}: path {want:?}, devices {names:?}");
        let expected: Vec<Option<String>> = want.iter().map(|a| Some(node_id(*a))).collect();
        assert_eq!(names, expected, "{first}");
        firsts.push(want);
    }
    let before = firsts[0].clone();
    assert_eq!(
        before,
        vec![D.addr(1, 2), D.addr(2, 2), r4_v6],
        "r4 through r2"
    );

    // Move r1's route to r4's address from r2 to r3.
    ip(
        &lab,
        "r1",
        &format!("-6 route add {r4_v6}/128 via {}", D.addr(3, 2)),
    );
    let after = routed_path(&lab, r4_v6);
    assert_eq!(
        after,
        vec![D.addr(1, 2), D.addr(3, 2), r4_v6],
        "r4 through r3"
    );
    let url = format!("/api/devices/{r4}/path");
    let changed = support::wait_until("a path change", Duration::from_secs(30), || {
        let p = support::noc_json(&lab, port, &url)["path"].clone();
        (p["changes"].as_u64() >= Some(1)).then_some(p)
    });
    let change = &changed["last_change"];
    eprintln!("serve: r4's path change {change}");
    assert_eq!(addrs(&change["before"]), before, "{change}");
    assert_eq!(addrs(&change["after"]), after, "{change}");
    assert_eq!(devices(&change["after"])[1], Some(id_of("r3")), "{change}");
    std::thread::sleep(Duration::from_secs(3));
    let log = serve.log();
    assert_eq!(log.matches("path changed").count(), 1, "{log}");
    assert_eq!(support::noc_json(&lab, port, &url)["path"]["changes"], 1);
    assert_eq!(path_of(&h1)["changes"], 0, "h1's path stays");
    assert_eq!(addrs(&path_of(&h1)["hops"]), firsts[1]);
    // The history: exactly one `path_changed` event, r4's, with both
    // routes, the moved hop's address in each.
    let events = support::noc_json(&lab, port, "/api/events?kind=path");
    let list = events["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "{events}");
    assert_eq!(list[0]["name"], "path_changed", "{events}");
    assert_eq!(list[0]["device"], r4.as_str(), "{events}");
    let value = |name: &str| {
        list[0]["varbinds"]
            .as_array()
            .and_then(|v| v.iter().find(|v| v["name"] == name))
            .and_then(|v| v["value"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    eprintln!(
        "event: before {:?}, after {:?}",
        value("before"),
        value("after")
    );
    assert!(
        value("before").contains(&D.addr(2, 2).to_string()),
        "{events}"
    );
    assert!(
        value("after").contains(&D.addr(3, 2).to_string()),
        "{events}"
    );
    serve.stop();
    eprintln!("path6_lab done in {:.1} s", t0.elapsed().as_secs_f64());
    lab.down().unwrap();
}
