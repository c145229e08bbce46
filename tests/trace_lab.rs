//! Acceptance test of `nocmap trace` through the real CLI, run inside the
//! noc namespace (no default route) of a lab of Linux routers that answer
//! with time exceeded natively:
//!
//! ```text
//!              ┌─ r2 ─┐
//! noc ── r1 ──┤      ├── r4 ── h1
//!              └─ r3 ─┘
//! ```
//!
//! The hops come back in order with the addresses the routers' own tables
//! give (UDP, ICMP and TCP probes); nftables dropping half of one router's
//! time-exceeded messages shows as loss at that hop only; with a multipath
//! route at r1 (L4 hashing) `--flows` finds both r2 and r3 while one flow
//! stays on one of them; a route changed during a trace shows both routers
//! at that hop. Lab `trc`, 10.145.0.0/22.
#[macro_use]
mod support;
use support::lab::LabToml;
use support::trace::{responders, single_path, trace};

use nocmap_lab::Lab;
use serde_json::Value;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

fn lab_toml() -> String {
    let mut t = LabToml::new("trc", "10.145.0.0/22");
    for r in ["r1", "r2", "r3", "r4"] {
        t = t.node(r, "router", "snmp = false\nlldp = false");
    }
    t.node("h1", "host", "")
        .links(
            "noc:eth0 - r1:eth0, r1:eth1 - r2:eth1, r1:eth2 - r3:eth2, \
             r2:eth3 - r4:eth3, r3:eth4 - r4:eth4, r4:eth5 - h1:eth0",
        )
        .build()
}

fn sysctl(lab: &Lab, node: &str, setting: &str) {
    support::ok_stdout(lab, node, "sysctl", &["-qw", setting]);
}

/// The node and interface that own `addr`.
fn owner(lab: &Lab, addr: Ipv4Addr) -> (String, String) {
    for n in &lab.plan().nodes {
        for (ifname, net) in &n.if_addrs {
            if net.addr() == addr {
                return (n.name.clone(), ifname.clone());
            }
        }
    }
    panic!("no node has {addr}");
}

/// The path the routers' tables give from `from` to `target`, as the
/// addresses a traceroute sees (each router's inbound interface), ending
/// with the target.
fn routed_path(lab: &Lab, from: &str, target: Ipv4Addr) -> Vec<Ipv4Addr> {
    let mut path = Vec::new();
    let mut node = from.to_owned();
    loop {
        let route = support::ok_stdout(
            lab,
            &node,
            "ip",
            &["-o", "route", "get", &target.to_string()],
        );
        let mut words = route.split_whitespace();
        let via = words
            .by_ref()
            .skip_while(|w| *w != "via")
            .nth(1)
            .map(|a| a.parse::<Ipv4Addr>().expect("via address"));
        match via {
            Some(hop) => {
                node = owner(lab, hop).0;
                // The target is that router's own (loopback) address: it
                // answers for itself at this TTL.
                if lab.plan().node(&node).and_then(|n| n.loopback) == Some(target) {
                    path.push(target);
                    return path;
                }
                path.push(hop);
            }
            None => {
                path.push(target);
                return path;
            }
        }
        assert!(path.len() < 10, "routing loop: {path:?}");
    }
}

#[test]
fn trace_follows_hops_loss_ecmp_and_a_route_change() {
    require_root!();
    let t0 = Instant::now();
    let lab = support::lab_up_toml(&lab_toml());
    for node in ["r1", "r2", "r3", "r4", "h1"] {
        // No per-peer rate limit on ICMP errors (one a second by default:
        // the cycles here are 20 to 100 ms apart); routers answer from the
        // interface the probe came in on (what a traceroute expects to see).
        sysctl(&lab, node, "net.ipv4.icmp_ratelimit=0");
        sysctl(&lab, node, "net.ipv4.icmp_errors_use_inbound_ifaddr=1");
    }
    eprintln!("lab trc up in {:.1} s", t0.elapsed().as_secs_f64());
    let default = support::ok_stdout(&lab, "noc", "ip", &["route", "show", "default"]);
    assert_eq!(default, "", "the noc has no default route");
    let h1 = lab.mgmt_addr("h1").unwrap();
    let target = h1.to_string();
    let want = routed_path(&lab, "r1", h1);
    let r1_in = lab.if_addr("r1", "eth0").unwrap().unwrap().addr();
    let want: Vec<Ipv4Addr> = std::iter::once(r1_in).chain(want).collect();
    assert_eq!(want.len(), 4, "{want:?}");
    eprintln!("routed path: {want:?}");

    // a. Hops in order with the routers' addresses, for each protocol.
    for proto in ["udp", "icmp", "tcp"] {
        let (code, r) = trace(&lab, &["--proto", proto, "-c", "3", "-i", "100", &target]);
        assert_eq!(code, 0, "{proto}: {r}");
        assert_eq!(r["reached"], true, "{r}");
        assert_eq!(single_path::<Ipv4Addr>(&r["hops"]), want, "{proto}: {r}");
        for hop in r["hops"].as_array().unwrap() {
            let counts = (hop["sent"].as_u64(), hop["received"].as_u64());
            assert_eq!(counts, (Some(3), Some(3)), "{proto}: {hop}");
        }
        eprintln!("{proto}: path {want:?}, 3/3 at every hop");
    }

    // b. Half of the second router's time-exceeded messages dropped: loss
    // there, none elsewhere.
    let (lossy, _) = owner(&lab, want[1]);
    support::nft(
        &lab,
        &lossy,
        "table inet trcloss {\n chain out {\n  type filter hook output priority 0;\n  \
         icmp type time-exceeded numgen random mod 2 == 0 drop\n }\n}\n",
    );
    let (_, r) = trace(&lab, &["-c", "40", "-i", "20", &target]);
    let loss: Vec<f64> = r["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["loss_pct"].as_f64().unwrap())
        .collect();
    eprintln!("loss per hop with {lossy} dropping half: {loss:?}");
    assert_eq!(loss.len(), 4, "{r}");
    assert!((20.0..=80.0).contains(&loss[1]), "{loss:?}");
    assert!(
        loss[0] == 0.0 && loss[2] == 0.0 && loss[3] == 0.0,
        "{loss:?}"
    );
    support::nft(&lab, &lossy, "delete table inet trcloss");

    // c. ECMP at r1 with L4 hashing: flows spread over r2 and r3, and each
    // flow stays on its path for every cycle (Paris).
    let via_r2 = lab.link_addrs("r1:eth1").unwrap().1.unwrap();
    let via_r3 = lab.link_addrs("r1:eth2").unwrap().1.unwrap();
    let dest_net = lab
        .if_addr("h1", "eth0")
        .unwrap()
        .unwrap()
        .trunc()
        .to_string();
    sysctl(&lab, "r1", "net.ipv4.fib_multipath_hash_policy=1");
    let ecmp = format!("route replace {dest_net} nexthop via {via_r2} nexthop via {via_r3}");
    support::ok_stdout(&lab, "r1", "ip", &ecmp.split(' ').collect::<Vec<_>>());
    let (code, r) = trace(&lab, &["--flows", "16", "-c", "4", "-i", "50", &target]);
    assert_eq!(code, 0, "{r}");
    let mut second_hops = Vec::new();
    for path in r["paths"].as_array().unwrap() {
        let hops = single_path::<Ipv4Addr>(&path["hops"]);
        assert_eq!(hops.len(), 4, "{path}");
        second_hops.push(hops[1]);
        assert_eq!(hops[3], h1);
    }
    let merged = responders::<Ipv4Addr>(&r["hops"]);
    let second: Vec<Ipv4Addr> = merged[1].iter().map(|(a, _)| *a).collect();
    eprintln!("ECMP, 16 flows: hop 2 seen as {second:?}");
    assert!(
        second_hops.contains(&via_r2) && second_hops.contains(&via_r3),
        "{r}"
    );
    let (_, r) = trace(&lab, &["-c", "20", "-i", "20", &target]);
    let one = single_path::<Ipv4Addr>(&r["hops"]);
    eprintln!("ECMP, one flow, 20 cycles: {one:?}");

    // d. A route change during a trace: r1 moves from r2 to r3.
    let fixed = format!("route replace {dest_net} via {via_r2}");
    support::ok_stdout(&lab, "r1", "ip", &fixed.split(' ').collect::<Vec<_>>());
    let bin = support::nocmap_bin();
    let child = lab
        .command_in("noc", bin.to_str().unwrap())
        .unwrap()
        .args([
            "trace", "--json", "-W", "500", "-c", "30", "-i", "100", &target,
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let moved = format!("route replace {dest_net} via {via_r3}");
    support::ok_stdout(&lab, "r1", "ip", &moved.split(' ').collect::<Vec<_>>());
    let out = child.wait_with_output().unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).expect("trace JSON");
    let hop2 = &responders::<Ipv4Addr>(&r["hops"])[1];
    eprintln!("route change during the trace: hop 2 {hop2:?}");
    let replies = |a: Ipv4Addr| hop2.iter().find(|(x, _)| *x == a).map_or(0, |(_, n)| *n);
    assert!(replies(via_r2) >= 5 && replies(via_r3) >= 5, "{hop2:?}");
    assert_eq!(hop2.len(), 2, "{hop2:?}");
    eprintln!("trace_lab done in {:.1} s", t0.elapsed().as_secs_f64());
    lab.down().unwrap();
}

/// `serve` with `[poll] path_interval_s = 1` in a lab of four SNMP routers
/// (noc - r1 - r2|r3 - r4): r4's path on `/api/devices/:id/path` is the
/// routers' own, each hop mapped to its router; moving r1's route to r4
/// from r2 to r3 gives one change with the hops before and after, and one
/// "path changed" line in the log. Lab `trcs`, 10.146.0.0/22.
#[test]
fn serve_path_follows_a_route_change() {
    require_root!();
    let t0 = Instant::now();
    let lab = support::lab_up_toml(
        &LabToml::new("trcs", "10.146.0.0/22")
            .links("noc:eth0 - r1:eth0, r1:eth1 - r2:eth1, r1:eth2 - r3:eth2, r2:eth3 - r4:eth3, r3:eth4 - r4:eth4")
            .build(),
    );
    for node in ["r1", "r2", "r3", "r4"] {
        sysctl(&lab, node, "net.ipv4.icmp_ratelimit=0");
        sysctl(&lab, node, "net.ipv4.icmp_errors_use_inbound_ifaddr=1");
    }
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nocmap.toml");
    std::fs::write(&config, "[poll]\npath_interval_s = 1\n").unwrap();
    let port = 18761;
    let serve = support::serve::ServeCmd::new(&lab, "10.146.0.0/22")
        .config(&config)
        .db(&dir.path().join("db.sqlite"))
        .listen(port)
        .verbose()
        .start_captured("trcs");
    let r4 = lab.mgmt_addr("r4").unwrap();
    let id = support::wait_until("r4 in the topology", Duration::from_secs(60), || {
        let t = support::noc_get(&lab, port, "/api/topology")?;
        let t: Value = serde_json::from_str(&t).ok()?;
        t["devices"].as_array()?.iter().find_map(|d| {
            (d["mgmt_addr"].as_str() == Some(&r4.to_string()))
                .then(|| d["id"].as_str().unwrap().to_owned())
        })
    });
    let url = format!("/api/devices/{id}/path");
    let r1_in = lab.if_addr("r1", "eth0").unwrap().unwrap().addr();
    let want: Vec<Ipv4Addr> = std::iter::once(r1_in)
        .chain(routed_path(&lab, "r1", r4))
        .collect();
    let addrs = |hops: &Value| -> Vec<Ipv4Addr> {
        hops.as_array()
            .unwrap()
            .iter()
            .filter_map(|h| h["addr"].as_str().and_then(|a| a.parse().ok()))
            .collect()
    };
    let first = support::wait_until("r4's path", Duration::from_secs(30), || {
        let p = support::noc_json(&lab, port, &url)["path"].clone();
        (p["reached"] == true && addrs(&p["hops"]) == want).then_some(p)
    });
    let names: Vec<Option<String>> = first["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["device"].as_str().map(str::to_owned))
        .collect();
    eprintln!("serve: r4's path {want:?}, devices {names:?}");
    assert!(
        names.iter().all(Option::is_some),
        "every hop is a router of the topology: {first}"
    );
    assert_eq!(names.last().unwrap().as_deref(), Some(id.as_str()));

    // Move r1's route to r4 over the other router.
    let (via_r2, via_r3) = (
        lab.link_addrs("r1:eth1").unwrap().1.unwrap(),
        lab.link_addrs("r1:eth2").unwrap().1.unwrap(),
    );
    let (from, to) = if want[1] == via_r2 {
        (via_r2, via_r3)
    } else {
        (via_r3, via_r2)
    };
    let moved = format!("route replace {r4}/32 via {to}");
    support::ok_stdout(&lab, "r1", "ip", &moved.split(' ').collect::<Vec<_>>());
    let changed = support::wait_until("a path change", Duration::from_secs(30), || {
        let p = support::noc_json(&lab, port, &url)["path"].clone();
        (p["changes"].as_u64() >= Some(1)).then_some(p)
    });
    let change = &changed["last_change"];
    eprintln!("serve: path change {change}");
    assert_eq!(addrs(&change["before"])[1], from, "{change}");
    assert_eq!(addrs(&change["after"])[1], to, "{change}");
    std::thread::sleep(Duration::from_secs(3));
    let log = serve.log();
    assert_eq!(log.matches("path changed").count(), 1, "{log}");
    assert_eq!(support::noc_json(&lab, port, &url)["path"]["changes"], 1);
    // The change is in the history: one `path_changed` event on r4 with
    // both routes, the moved hop's address in each.
    let events = support::noc_json(&lab, port, &format!("/api/events?device={id}&kind=path"));
    let list = events["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "{events}");
    assert_eq!(list[0]["name"], "path_changed", "{events}");
    let value = |name: &str| {
        list[0]["varbinds"]
            .as_array()
            .and_then(|v| v.iter().find(|v| v["name"] == name))
            .and_then(|v| v["value"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert!(value("before").contains(&from.to_string()), "{events}");
    assert!(value("after").contains(&to.to_string()), "{events}");
    serve.stop();
    eprintln!("serve_path done in {:.1} s", t0.elapsed().as_secs_f64());
}
