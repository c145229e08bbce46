//! The IPv6 diamond the IPv6 path labs share (`trace6_lab`, `path6_lab`):
//!
//! ```text
//!              ┌─ r2 ─┐
//! noc ── r1 ──┤      ├── r4 ── h1
//!              └─ r3 ─┘
//! ```
//!
//! Link L (1-based, in [`LINKS`]' order) is `fd13:S:0:L::/64`, the first
//! end `::1`, the second `::2`, with S each lab's own ([`Diamond6::seg`]).
//! Each lab adds its own static routes.
use nocmap_lab::Lab;
use std::net::Ipv6Addr;
use std::time::Duration;

/// The links in order: link L is the L-th.
pub const LINKS: [(&str, &str); 6] = [
    ("noc:eth0", "r1:eth0"),
    ("r1:eth1", "r2:eth1"),
    ("r1:eth2", "r3:eth2"),
    ("r2:eth3", "r4:eth3"),
    ("r3:eth4", "r4:eth4"),
    ("r4:eth5", "h1:eth0"),
];

pub const NODES: [&str; 6] = ["noc", "r1", "r2", "r3", "r4", "h1"];

/// `LINKS` as a lab description's `links` value.
pub fn links_toml() -> String {
    let links: Vec<String> = LINKS.iter().map(|(a, b)| format!("{a} - {b}")).collect();
    links.join(", ")
}

/// `ip ARGS` (split on spaces) in `node`; its standard output.
pub fn ip(lab: &Lab, node: &str, cmd: &str) -> String {
    let args: Vec<&str> = cmd.split(' ').collect();
    super::ok_stdout(lab, node, "ip", &args)
}

pub fn sysctl(lab: &Lab, node: &str, setting: &str) {
    super::ok_stdout(lab, node, "sysctl", &["-qw", setting]);
}

/// One lab's addressing: `fd13:seg::/48`.
#[derive(Clone, Copy)]
pub struct Diamond6 {
    pub seg: u16,
}

impl Diamond6 {
    /// The address of link `link`'s end `end` (1: first, 2: second).
    pub fn addr(self, link: u16, end: u16) -> Ipv6Addr {
        Ipv6Addr::new(0xfd13, self.seg, 0, link, 0, 0, 0, end)
    }

    pub fn net(self, link: u16) -> String {
        format!("fd13:{:x}:0:{link}::/64", self.seg)
    }

    /// The whole lab's prefix, `fd13:seg::/48`.
    pub fn prefix(self) -> String {
        format!("fd13:{:x}::/48", self.seg)
    }

    /// IPv6 on every link end, forwarding on the routers, no ICMPv6 rate
    /// limit, then `routes` (`(node, "PREFIX via ADDR")`).
    pub fn plan(self, lab: &Lab, routes: &[(&str, String)]) {
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
                    &format!("-6 addr add {}/64 dev {ifname} nodad", self.addr(link, end)),
                );
            }
        }
        for (node, route) in routes {
            ip(lab, node, &format!("-6 route add {route}"));
        }
    }
}

/// The node that owns `a` (an address of the plan).
pub fn owner(a: Ipv6Addr) -> &'static str {
    let link = a.segments()[3] as usize;
    let end = LINKS[link - 1];
    let side = if a.segments()[7] == 1 { end.0 } else { end.1 };
    NODES
        .iter()
        .find(|n| side.starts_with(&format!("{n}:")))
        .unwrap()
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

/// The path the tables give from the noc to `target`, as a traceroute sees
/// it: each router's address on the link the probe comes in by (Linux
/// answers an ICMPv6 error from the inbound interface's address when the
/// route back has no preferred source), ending with the target, which
/// answers for itself whichever of its links the probe came in by.
pub fn routed_path(lab: &Lab, target: Ipv6Addr) -> Vec<Ipv6Addr> {
    let mut path = Vec::new();
    let mut node = "noc";
    loop {
        let route = ip(lab, node, &format!("-6 -o route get {target}"));
        match field(&route, "via") {
            Some(via) if owner(via) != owner(target) => {
                path.push(via);
                node = owner(via);
            }
            _ => {
                path.push(target);
                return path;
            }
        }
        assert!(path.len() < 10, "routing loop: {path:?}");
    }
}

/// Waits until no address of the lab is tentative: until the link-local
/// addresses pass duplicate address detection, routers cannot resolve
/// their neighbours and the first probes are lost.
pub fn settled(lab: &Lab) {
    super::wait_until("IPv6 addresses settled", Duration::from_secs(10), || {
        NODES
            .iter()
            .all(|n| ip(lab, n, "-6 addr show tentative").is_empty())
            .then_some(())
    });
}
