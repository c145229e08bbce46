//! Turns a `Plan` into namespaces, veths, bridges, addresses, routes, rate
//! limits and loss rules, and removes them again.
//!
//! Owns the network plumbing only; it starts no daemons (see `daemons`).
use super::LabError;
use super::plan::{BRIDGE, Plan, PlanNode, WIRE_PORTS};
use super::spec::{LabSpec, NodeKind};
use super::sys::{self, in_ns};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Creates every namespace, link and address of the plan.
pub fn build(plan: &Plan, spec: &LabSpec) -> Result<(), LabError> {
    for ns in plan.namespaces() {
        sys::ip(&["netns", "add", &ns])?;
    }
    for n in &plan.nodes {
        sysctls(n)?;
    }
    for l in &plan.links {
        let (na, nb) = (ns_of(plan, &l.a.node)?, ns_of(plan, &l.b.node)?);
        match &l.wire_ns {
            None => veth(&l.a.ifname, na, &l.b.ifname, nb)?,
            Some(w) => {
                veth(&l.a.ifname, na, WIRE_PORTS[0], w)?;
                veth(&l.b.ifname, nb, WIRE_PORTS[1], w)?;
                wire_ns_setup(w)?;
                offloads_off(na, &l.a.ifname, "tx off tso off gso off")?;
                offloads_off(nb, &l.b.ifname, "tx off tso off gso off")?;
            }
        }
    }
    for n in &plan.nodes {
        sys::ip_batch(&n.ns, &node_batch(n))?;
    }
    // A link aggregate's interface: an empty bridge named as it (no bonding
    // driver here); its members stay plain links.
    for n in spec.nodes.iter().filter(|n| !n.lag.is_empty()) {
        let lines: Vec<String> = n
            .lag
            .keys()
            .flat_map(|agg| {
                [
                    format!("link add {agg} type bridge"),
                    format!("link set dev {agg} up"),
                ]
            })
            .collect();
        sys::ip_batch(ns_of(plan, &n.name)?, &lines)?;
    }
    for l in &plan.links {
        if let Some(rate) = l.rate_mbit {
            for ep in [&l.a, &l.b] {
                tbf(ns_of(plan, &ep.node)?, &ep.ifname, rate)?;
            }
        }
    }
    for n in &spec.nodes {
        if n.loss_pct > 0 {
            set_loss(ns_of(plan, &n.name)?, n.loss_pct)?;
        }
    }
    Ok(())
}

/// Makes every bridge learn the MAC addresses of the nodes cabled to it: one
/// `fping` of the switch's bridge address from each attached node, all at
/// once. Best effort: an unanswered ping is not an error, only failing to
/// run fping is.
pub fn teach_bridges(plan: &Plan) -> Result<(), LabError> {
    let mut children = Vec::new();
    let mut first_err = None;
    for (ns, addr) in plan.switch_attachments() {
        let mut c = in_ns(&ns, "fping");
        c.args(["-q", "-c1", "-t500", &addr.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match c.spawn() {
            Ok(child) => children.push(child),
            Err(source) => {
                first_err.get_or_insert(LabError::Spawn {
                    command: format!("fping in {ns}"),
                    source,
                });
            }
        }
    }
    for mut c in children {
        let _ = c.wait();
    }
    first_err.map_or(Ok(()), Err)
}

/// Kills every process inside the given namespaces, then deletes them.
/// Missing namespaces are skipped; the first deletion error is returned.
pub fn teardown(namespaces: &[String]) -> Result<(), LabError> {
    let existing = sys::namespaces()?;
    let present: Vec<&String> = namespaces.iter().filter(|n| existing.contains(n)).collect();
    let pids: Vec<i32> = present.iter().flat_map(|ns| sys::ns_pids(ns)).collect();
    sys::kill_all(&pids, Duration::from_millis(1500));
    let mut first_err = None;
    for ns in present {
        if let Err(e) = sys::ip(&["netns", "del", ns]) {
            first_err.get_or_insert(e);
        }
    }
    first_err.map_or(Ok(()), Err)
}

/// Replaces the loss rule of namespace `ns`: `pct` % of the IP packets the
/// node receives (local or forwarded) are dropped; 0 removes the rule.
/// Loopback is spared: the node's own daemons talk over it (snmpd and
/// lldpd's AgentX link), and losing that would fake an agent fault.
pub fn set_loss(ns: &str, pct: u8) -> Result<(), LabError> {
    let mut script = String::from("table inet nocmaplab\ndelete table inet nocmaplab\n");
    if pct > 0 {
        // nft refuses `mod 100 < 100`: total loss is a plain drop.
        let rule = if pct >= 100 {
            "drop".to_string()
        } else {
            format!("numgen random mod 100 < {pct} drop")
        };
        script.push_str(&format!(
            "table inet nocmaplab {{\n  chain pre {{\n    type filter hook prerouting priority -300; policy accept;\n    iif \"lo\" accept\n    {rule}\n  }}\n}}\n"
        ));
    }
    sys::run_stdin(in_ns(ns, "nft").args(["-f", "-"]), Some(&script)).map(drop)
}

/// Sets an interface of `node` administratively up or down. The kernel
/// forgets the routes through an interface that goes down, so bringing one
/// up re-installs the node's planned static routes.
pub fn set_if_state(node: &PlanNode, ifname: &str, up: bool) -> Result<(), LabError> {
    let state = if up { "up" } else { "down" };
    sys::ip(&["-n", &node.ns, "link", "set", "dev", ifname, state])?;
    if up {
        let lines: Vec<String> = node
            .routes
            .iter()
            .map(|r| format!("route replace {} via {}", r.dest, r.via))
            .collect();
        sys::ip_batch(&node.ns, &lines)?;
    }
    Ok(())
}

fn ns_of<'a>(plan: &'a Plan, node: &str) -> Result<&'a str, LabError> {
    plan.node(node)
        .map(|n| n.ns.as_str())
        .ok_or_else(|| LabError::UnknownNode {
            lab: plan.lab.clone(),
            node: node.into(),
        })
}

fn veth(a: &str, ns_a: &str, b: &str, ns_b: &str) -> Result<(), LabError> {
    sys::ip(&[
        "link", "add", a, "netns", ns_a, "type", "veth", "peer", "name", b, "netns", ns_b,
    ])
    .map(drop)
}

fn sysctls(n: &PlanNode) -> Result<(), LabError> {
    let fwd = if n.forwards { "1" } else { "0" };
    sys::run(in_ns(&n.ns, "sysctl").args([
        "-qw",
        &format!("net.ipv4.ip_forward={fwd}"),
        "net.ipv4.conf.all.rp_filter=0",
        "net.ipv4.conf.default.rp_filter=0",
    ]))
    .map(drop)
}

fn wire_ns_setup(ns: &str) -> Result<(), LabError> {
    sys::run(in_ns(ns, "sysctl").args([
        "-qw",
        "net.ipv6.conf.all.disable_ipv6=1",
        "net.ipv6.conf.default.disable_ipv6=1",
    ]))?;
    let mut lines = vec!["link set dev lo up".to_owned()];
    for p in WIRE_PORTS {
        sys::run(in_ns(ns, "sysctl").args(["-qw", &format!("net.ipv6.conf.{p}.disable_ipv6=1")]))?;
        lines.push(format!("link set dev {p} up promisc on"));
    }
    sys::ip_batch(ns, &lines)?;
    for p in WIRE_PORTS {
        offloads_off(ns, p, "gro off tx off tso off gso off")?;
    }
    Ok(())
}

fn offloads_off(ns: &str, ifname: &str, features: &str) -> Result<(), LabError> {
    let mut c = in_ns(ns, "ethtool");
    c.args(["-K", ifname]).args(features.split(' '));
    sys::run(&mut c).map(drop)
}

fn tbf(ns: &str, ifname: &str, rate_mbit: f64) -> Result<(), LabError> {
    let rate_bps = rate_mbit * 1e6;
    let burst = ((rate_bps / 8.0 / 100.0) as u64).max(16_000);
    sys::run(Command::new("tc").args([
        "-n",
        ns,
        "qdisc",
        "replace",
        "dev",
        ifname,
        "root",
        "tbf",
        "rate",
        &format!("{}bit", rate_bps as u64),
        "burst",
        &burst.to_string(),
        "latency",
        "100ms",
    ]))
    .map(drop)
}

/// `ip -batch` lines that address one node and install its routes.
fn node_batch(n: &PlanNode) -> Vec<String> {
    let mut v = vec!["link set dev lo up".to_owned()];
    if let Some(lo) = n.loopback {
        v.push(format!("addr add {lo}/32 dev lo"));
    }
    if n.kind == NodeKind::Switch {
        v.push(format!(
            "link add {BRIDGE} type bridge forward_delay 0 stp_state 0 mcast_snooping 0"
        ));
        for p in &n.bridge_ports {
            v.push(format!("link set dev {p} master {BRIDGE}"));
            v.push(format!("link set dev {p} up"));
        }
        v.push(format!("link set dev {BRIDGE} up"));
        if let Some(a) = n.bridge_addr {
            v.push(format!("addr add {a} dev {BRIDGE}"));
        }
    }
    for (ifname, a) in &n.if_addrs {
        v.push(format!("addr add {a} dev {ifname}"));
        v.push(format!("link set dev {ifname} up"));
    }
    for r in &n.routes {
        v.push(format!("route add {} via {}", r.dest, r.via));
    }
    v
}
