//! Acceptance test of `nocmap trace` over IPv6 through the real CLI, run
//! inside the noc namespace (no default route, only a route to the lab's
//! fd13:6::/48) of a lab of Linux routers with IPv6 forwarding that answer
//! with ICMPv6 time exceeded natively, and a target that answers UDP with
//! port unreachable (code 4), echo with echo reply and TCP with a reset:
//!
//! ```text
//!              ┌─ r2 ─┐
//! noc ── r1 ──┤      ├── r4 ── h1
//!              └─ r3 ─┘
//! ```
//!
//! Every hop's address (each router's address on the link the probe came
//! in by, as Linux answers) comes back in order, for UDP, ICMPv6 and TCP probes, with no loss
//! on a clean path; with a multipath route at r1 (L4 hashing) `--flows`
//! finds both r2 and r3 while each flow keeps one path, and so do ICMPv6
//! flows with Linux's default IPv6 multipath hash (addresses, flow label,
//! next header: only the flow label tells our flows apart there — each
//! flow has its own, the same on all its probes, as the routers' quotes
//! show); a route changed during a trace shows both routers at that hop. ICMPv6 errors are not
//! rate limited in the lab (net.ipv6.icmp.ratelimit=0). Lab `tr6`: the
//! lab's own IPv4 plan in 10.105.0.0/22 (unused by the test), IPv6
//! fd13:6:0:L::/64 per link L, the first end ::1, the second ::2.
#[macro_use]
mod support;
use support::lab::LabToml;
use support::trace::{responders, single_path, trace};

use nocmap_lab::Lab;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

/// The links in order: link L (1-based) is fd13:6:0:L::/64.
const LINKS: [(&str, &str); 6] = [
    ("noc:eth0", "r1:eth0"),
    ("r1:eth1", "r2:eth1"),
    ("r1:eth2", "r3:eth2"),
    ("r2:eth3", "r4:eth3"),
    ("r3:eth4", "r4:eth4"),
    ("r4:eth5", "h1:eth0"),
];

const NODES: [&str; 6] = ["noc", "r1", "r2", "r3", "r4", "h1"];

fn lab_toml() -> String {
    let mut t = LabToml::new("tr6", "10.105.0.0/22");
    for r in ["r1", "r2", "r3", "r4"] {
        t = t.node(r, "router", "snmp = false\nlldp = false");
    }
    let links: Vec<String> = LINKS.iter().map(|(a, b)| format!("{a} - {b}")).collect();
    t.node("h1", "host", "").links(&links.join(", ")).build()
}

/// The address of link `link`'s end `end` (1: first, 2: second).
fn addr(link: u16, end: u16) -> Ipv6Addr {
    Ipv6Addr::new(0xfd13, 6, 0, link, 0, 0, 0, end)
}

fn net(link: u16) -> String {
    format!("fd13:6:0:{link}::/64")
}

fn ip(lab: &Lab, node: &str, cmd: &str) -> String {
    let args: Vec<&str> = cmd.split(' ').collect();
    support::ok_stdout(lab, node, "ip", &args)
}

fn sysctl(lab: &Lab, node: &str, setting: &str) {
    support::ok_stdout(lab, node, "sysctl", &["-qw", setting]);
}

/// IPv6 on every link end, forwarding on the routers, no ICMPv6 rate limit,
/// and static routes: the noc reaches fd13:6::/48 through r1, r1 reaches
/// h1's link through r2, r4 returns through r2.
fn ipv6_plan(lab: &Lab) {
    for node in NODES {
        sysctl(lab, node, "net.ipv6.conf.all.disable_ipv6=0");
        sysctl(lab, node, "net.ipv6.conf.default.disable_ipv6=0");
        sysctl(lab, node, "net.ipv6.icmp.ratelimit=0");
        let fwd = node.starts_with('r');
        sysctl(
            lab,
            node,
            &format!("net.ipv6.conf.all.forwarding={}", u8::from(fwd)),
        );
    }
    for (i, (a, b)) in LINKS.iter().enumerate() {
        let link = i as u16 + 1;
        for (end, side) in [(1, a), (2, b)] {
            let (node, ifname) = side.split_once(':').unwrap();
            sysctl(lab, node, &format!("net.ipv6.conf.{ifname}.disable_ipv6=0"));
            ip(
                lab,
                node,
                &format!("-6 addr add {}/64 dev {ifname} nodad", addr(link, end)),
            );
        }
    }
    let routes: [(&str, String); 9] = [
        ("noc", format!("fd13:6::/48 via {}", addr(1, 2))),
        ("r1", format!("{} via {}", net(6), addr(2, 2))),
        ("r1", format!("{} via {}", net(4), addr(2, 2))),
        ("r1", format!("{} via {}", net(5), addr(3, 2))),
        ("r2", format!("{} via {}", net(1), addr(2, 1))),
        ("r2", format!("{} via {}", net(6), addr(4, 2))),
        ("r3", format!("{} via {}", net(1), addr(3, 1))),
        ("r3", format!("{} via {}", net(6), addr(5, 2))),
        ("r4", format!("fd13:6::/48 via {}", addr(4, 1))),
    ];
    for (node, route) in routes {
        ip(lab, node, &format!("-6 route add {route}"));
    }
    ip(
        lab,
        "h1",
        &format!("-6 route add fd13:6::/48 via {}", addr(6, 1)),
    );
}

/// The address after `key` in `ip route get`'s one line.
fn field(route: &str, key: &str) -> Option<Ipv6Addr> {
    let mut words = route.split_whitespace();
    words
        .by_ref()
        .skip_while(|w| *w != key)
        .nth(1)
        .map(|a| a.parse().expect("an IPv6 address"))
}

/// The node that owns `a`.
fn owner(a: Ipv6Addr) -> &'static str {
    let link = a.segments()[3] as usize;
    let end = LINKS[link - 1];
    let side = if a.segments()[7] == 1 { end.0 } else { end.1 };
    NODES
        .iter()
        .find(|n| side.starts_with(&format!("{n}:")))
        .unwrap()
}

/// The path the tables give from the noc to `target`, as a traceroute sees
/// it: each router's address on the link the probe comes in by (Linux
/// answers an ICMPv6 error from the inbound interface's address when the
/// route back has no preferred source), ending with the target.
fn routed_path(lab: &Lab, target: Ipv6Addr) -> Vec<Ipv6Addr> {
    let mut path = Vec::new();
    let mut node = "noc";
    loop {
        let route = ip(lab, node, &format!("-6 -o route get {target}"));
        let Some(via) = field(&route, "via") else {
            path.push(target);
            return path;
        };
        path.push(via);
        node = owner(via);
        assert!(path.len() < 10, "routing loop: {path:?}");
    }
}

/// Waits until no address of the lab is tentative: until the link-local
/// addresses pass duplicate address detection, routers cannot resolve
/// their neighbours and the first probes are lost.
fn settled(lab: &Lab) {
    support::wait_until("IPv6 addresses settled", Duration::from_secs(10), || {
        NODES
            .iter()
            .all(|n| ip(lab, n, "-6 addr show tentative").is_empty())
            .then_some(())
    });
}

/// Listens in the noc on a raw ICMPv6 socket of its own while `during`
/// runs, and returns per echo identifier the checksums and flow labels the
/// routers quoted in their time-exceeded messages: what the kernel put in
/// our probes.
fn quoted_echoes(lab: &Lab, during: impl FnOnce()) -> BTreeMap<u16, BTreeSet<(u16, u32)>> {
    use nocmap::icmp::trace_wire::{QuotedTransport, TraceMessage, parse_trace};
    use nocmap::icmp::wire::{Family, Framing};
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::sync::atomic::{AtomicBool, Ordering};
    let path = format!("/run/netns/{}", lab.ns("noc").unwrap());
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let stop = done.clone();
    let listener = std::thread::spawn(move || {
        let ns = std::fs::File::open(&path).expect("namespace file");
        // SAFETY: setns on this thread only, with a valid namespace fd.
        let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        let mut socket = socket2::Socket::new(
            socket2::Domain::IPV6,
            socket2::Type::RAW,
            Some(socket2::Protocol::ICMPV6),
        )
        .expect("raw ICMPv6 socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        ready_tx.send(()).unwrap();
        let mut sums: BTreeMap<u16, BTreeSet<(u16, u32)>> = BTreeMap::new();
        let mut buf = [0u8; 2048];
        while !stop.load(Ordering::Relaxed) {
            let Ok(n) = socket.read(&mut buf) else {
                continue;
            };
            if let Ok(TraceMessage::Error(q)) = parse_trace(Family::V6, Framing::Bare, &buf[..n])
                && let QuotedTransport::Echo {
                    ident, checksum, ..
                } = q.transport
            {
                sums.entry(ident)
                    .or_default()
                    .insert((checksum, q.flow_label));
            }
        }
        sums
    });
    ready.recv().unwrap();
    during();
    std::thread::sleep(Duration::from_millis(200));
    done.store(true, Ordering::Relaxed);
    listener.join().unwrap()
}

#[test]
fn trace6_follows_hops_ecmp_and_a_route_change() {
    require_root!();
    let t0 = Instant::now();
    let lab = support::lab_up_toml(&lab_toml());
    ipv6_plan(&lab);
    eprintln!("lab tr6 up in {:.1} s", t0.elapsed().as_secs_f64());
    settled(&lab);
    let default = ip(&lab, "noc", "-6 route show default") + &ip(&lab, "noc", "route show default");
    assert_eq!(default, "", "the noc has no default route");
    let h1 = addr(6, 2);
    let target = h1.to_string();
    let want = routed_path(&lab, h1);
    eprintln!("routed path: {want:?}");
    assert_eq!(want.len(), 4, "{want:?}");
    assert_eq!(want[0], addr(1, 2), "r1 answers from its noc side");

    // Neighbour discovery along the path before anything is counted.
    let _ = trace(&lab, &["-c", "1", &target]);

    // a. Hops in order with the routers' addresses, for each protocol, and
    // every probe answered on a clean path.
    for proto in ["udp", "icmp", "tcp"] {
        let (code, r) = trace(&lab, &["--proto", proto, "-c", "3", "-i", "100", &target]);
        assert_eq!(code, 0, "{proto}: {r}");
        assert_eq!(r["reached"], true, "{r}");
        assert_eq!(r["target"], target.as_str(), "{r}");
        assert_eq!(single_path::<Ipv6Addr>(&r["hops"]), want, "{proto}: {r}");
        for hop in r["hops"].as_array().unwrap() {
            let counts = (hop["sent"].as_u64(), hop["received"].as_u64());
            assert_eq!(counts, (Some(3), Some(3)), "{proto}: {hop}");
            assert_eq!(hop["loss_pct"].as_f64(), Some(0.0), "{proto}: {hop}");
        }
        eprintln!("{proto}: path {want:?}, 3/3 at every hop");
    }

    // Paris over ICMPv6: the kernel fills in the checksum of what leaves a
    // raw ICMPv6 socket, over the pseudo-header; the payload word makes it
    // the flow's own constant, whatever the sequence. Seen in the routers'
    // quotes: one checksum per echo identifier.
    let sums = quoted_echoes(&lab, || {
        let (code, r) = trace(
            &lab,
            &[
                "--proto", "icmp", "--flows", "3", "-c", "3", "-i", "100", &target,
            ],
        );
        assert_eq!(code, 0, "{r}");
    });
    eprintln!("icmp, 3 flows: quoted (checksum, flow label) per identifier {sums:?}");
    assert_eq!(sums.len(), 3, "{sums:?}");
    assert!(sums.values().all(|s| s.len() == 1), "{sums:?}");
    // One flow label per flow, a different one for each, in the stateless
    // half of the label space.
    let labels: BTreeSet<u32> = sums.values().flatten().map(|(_, l)| *l).collect();
    assert_eq!(labels.len(), 3, "{sums:?}");
    assert!(
        labels.iter().all(|l| (0x8_0000..=0xf_ffff).contains(l)),
        "{sums:?}"
    );

    // b. ECMP at r1 with L4 hashing: UDP flows spread over r2 and r3, and
    // each flow stays on its path for every cycle (Paris).
    let (via_r2, via_r3) = (addr(2, 2), addr(3, 2));
    sysctl(&lab, "r1", "net.ipv6.fib_multipath_hash_policy=1");
    ip(
        &lab,
        "r1",
        &format!(
            "-6 route replace {} nexthop via {via_r2} nexthop via {via_r3}",
            net(6)
        ),
    );
    let _ = trace(&lab, &["--flows", "16", "-c", "1", &target]);
    let (code, r) = trace(&lab, &["--flows", "16", "-c", "4", "-i", "50", &target]);
    assert_eq!(code, 0, "{r}");
    // The two paths the tables allow: through r2 (entered at 2::2, then r4
    // at 4::2) or through r3 (3::2, then r4 at 5::2).
    let through_r2 = vec![addr(1, 2), via_r2, addr(4, 2), h1];
    let through_r3 = vec![addr(1, 2), via_r3, addr(5, 2), h1];
    let (mut n2, mut n3) = (0, 0);
    for path in r["paths"].as_array().unwrap() {
        let hops = single_path::<Ipv6Addr>(&path["hops"]);
        if hops == through_r2 {
            n2 += 1;
        } else if hops == through_r3 {
            n3 += 1;
        } else {
            panic!("flow on neither path: {path}");
        }
        for hop in path["hops"].as_array().unwrap() {
            assert_eq!(hop["received"].as_u64(), Some(4), "{path}");
        }
    }
    eprintln!("ECMP, 16 UDP flows: {n2} through r2, {n3} through r3");
    assert!(n2 > 0 && n3 > 0 && n2 + n3 == 16, "{r}");

    // The same ECMP with Linux's default IPv6 hash (L3: addresses, flow
    // label, next header). ICMPv6 flows differ in their flow label only:
    // they spread over r2 and r3, each keeping its path for every cycle.
    sysctl(&lab, "r1", "net.ipv6.fib_multipath_hash_policy=0");
    let (code, r) = trace(
        &lab,
        &[
            "--proto", "icmp", "--flows", "16", "-c", "4", "-i", "50", &target,
        ],
    );
    assert_eq!(code, 0, "{r}");
    let (mut l2, mut l3) = (0, 0);
    for path in r["paths"].as_array().unwrap() {
        let hops = single_path::<Ipv6Addr>(&path["hops"]);
        if hops == through_r2 {
            l2 += 1;
        } else if hops == through_r3 {
            l3 += 1;
        } else {
            panic!("flow on neither path: {path}");
        }
        for hop in path["hops"].as_array().unwrap() {
            assert_eq!(hop["received"].as_u64(), Some(4), "{path}");
        }
    }
    eprintln!("ECMP on the flow label, 16 ICMPv6 flows: {l2} through r2, {l3} through r3");
    assert!(l2 > 0 && l3 > 0 && l2 + l3 == 16, "{r}");

    // c. A route change during a trace: r1 moves from r2 to r3.
    ip(
        &lab,
        "r1",
        &format!("-6 route replace {} via {via_r2}", net(6)),
    );
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
    ip(
        &lab,
        "r1",
        &format!("-6 route replace {} via {via_r3}", net(6)),
    );
    let out = child.wait_with_output().unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).expect("trace JSON");
    let hops = responders::<Ipv6Addr>(&r["hops"]);
    eprintln!(
        "route change during the trace: hops 2 and 3 {:?}",
        &hops[1..3]
    );
    for (hop, before, after) in [(1, via_r2, via_r3), (2, addr(4, 2), addr(5, 2))] {
        let seen = &hops[hop];
        let replies = |a: Ipv6Addr| seen.iter().find(|(x, _)| *x == a).map_or(0, |(_, n)| *n);
        assert!(replies(before) >= 5 && replies(after) >= 5, "{seen:?}");
        assert_eq!(seen.len(), 2, "{seen:?}");
    }
    assert_eq!(r["reached"], true, "{r}");
    eprintln!("trace6_lab done in {:.1} s", t0.elapsed().as_secs_f64());
    lab.down().unwrap();
}
