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
use support::diamond6::{Diamond6, ip, links_toml, routed_path, settled, sysctl};
use support::lab::LabToml;
use support::trace::{responders, single_path, trace};

use nocmap_lab::Lab;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

/// fd13:6::/48.
const D: Diamond6 = Diamond6 { seg: 6 };

fn lab_toml() -> String {
    let mut t = LabToml::new("tr6", "10.105.0.0/22");
    for r in ["r1", "r2", "r3", "r4"] {
        t = t.node(r, "router", "snmp = false\nlldp = false");
    }
    t.node("h1", "host", "").links(&links_toml()).build()
}

/// Static routes: the noc reaches fd13:6::/48 through r1, r1 reaches h1's
/// link through r2, r4 and h1 return through r2.
fn ipv6_plan(lab: &Lab) {
    let routes = [
        ("noc", format!("fd13:6::/48 via {}", D.addr(1, 2))),
        ("r1", format!("{} via {}", D.net(6), D.addr(2, 2))),
        ("r1", format!("{} via {}", D.net(4), D.addr(2, 2))),
        ("r1", format!("{} via {}", D.net(5), D.addr(3, 2))),
        ("r2", format!("{} via {}", D.net(1), D.addr(2, 1))),
        ("r2", format!("{} via {}", D.net(6), D.addr(4, 2))),
        ("r3", format!("{} via {}", D.net(1), D.addr(3, 1))),
        ("r3", format!("{} via {}", D.net(6), D.addr(5, 2))),
        ("r4", format!("fd13:6::/48 via {}", D.addr(4, 1))),
        ("h1", format!("fd13:6::/48 via {}", D.addr(6, 1))),
    ];
    D.plan(lab, &routes);
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
    let h1 = D.addr(6, 2);
    let target = h1.to_string();
    let want = routed_path(&lab, h1);
    eprintln!("routed path: {want:?}");
    assert_eq!(want.len(), 4, "{want:?}");
    assert_eq!(want[0], D.addr(1, 2), "r1 answers from its noc side");

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
    let (via_r2, via_r3) = (D.addr(2, 2), D.addr(3, 2));
    sysctl(&lab, "r1", "net.ipv6.fib_multipath_hash_policy=1");
    ip(
        &lab,
        "r1",
        &format!(
            "-6 route replace {} nexthop via {via_r2} nexthop via {via_r3}",
            D.net(6)
        ),
    );
    let _ = trace(&lab, &["--flows", "16", "-c", "1", &target]);
    let (code, r) = trace(&lab, &["--flows", "16", "-c", "4", "-i", "50", &target]);
    assert_eq!(code, 0, "{r}");
    // The two paths the tables allow: through r2 (entered at 2::2, then r4
    // at 4::2) or through r3 (3::2, then r4 at 5::2).
    let through_r2 = vec![D.addr(1, 2), via_r2, D.addr(4, 2), h1];
    let through_r3 = vec![D.addr(1, 2), via_r3, D.addr(5, 2), h1];
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
        &format!("-6 route replace {} via {via_r2}", D.net(6)),
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
        &format!("-6 route replace {} via {via_r3}", D.net(6)),
    );
    let out = child.wait_with_output().unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).expect("trace JSON");
    let hops = responders::<Ipv6Addr>(&r["hops"]);
    eprintln!(
        "route change during the trace: hops 2 and 3 {:?}",
        &hops[1..3]
    );
    for (hop, before, after) in [(1, via_r2, via_r3), (2, D.addr(4, 2), D.addr(5, 2))] {
        let seen = &hops[hop];
        let replies = |a: Ipv6Addr| seen.iter().find(|(x, _)| *x == a).map_or(0, |(_, n)| *n);
        assert!(replies(before) >= 5 && replies(after) >= 5, "{seen:?}");
        assert_eq!(seen.len(), 2, "{seen:?}");
    }
    assert_eq!(r["reached"], true, "{r}");
    eprintln!("trace6_lab done in {:.1} s", t0.elapsed().as_secs_f64());
    lab.down().unwrap();
}
