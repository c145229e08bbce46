//! The address plan and static routes of a lab, computed from its spec.
//!
//! Pure: values in, values out. It must not run commands or touch files; the
//! `build` module turns a `Plan` into namespaces.
use super::LabError;
use super::spec::{Endpoint, LabSpec, NOC, NodeKind};
use ipnet::Ipv4Net;
use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;

/// Name of the bridge inside a switch namespace.
pub const BRIDGE: &str = "br0";
/// Names of the wire's two ports inside a wire namespace.
pub const WIRE_PORTS: [&str; 2] = ["wa", "wb"];

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub lab: String,
    pub prefix: Ipv4Net,
    /// Spec nodes in file order, then the noc last.
    pub nodes: Vec<PlanNode>,
    pub links: Vec<PlanLink>,
    pub subnets: Vec<Subnet>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanNode {
    pub name: String,
    pub ns: String,
    pub kind: NodeKind,
    pub is_noc: bool,
    pub forwards: bool,
    pub loopback: Option<Ipv4Addr>,
    /// Address of `br0` (switches only).
    pub bridge_addr: Option<Ipv4Net>,
    /// Interface name -> address (only addressed interfaces).
    pub if_addrs: BTreeMap<String, Ipv4Net>,
    /// Interfaces enslaved to `br0` (switches only).
    pub bridge_ports: Vec<String>,
    pub mgmt_addr: Option<Ipv4Addr>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub dest: Ipv4Net,
    pub via: Ipv4Addr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanLink {
    pub a: Endpoint,
    pub b: Endpoint,
    /// Namespace of the userspace wire between the ends, if any.
    pub wire_ns: Option<String>,
    pub delay_ms: f64,
    pub jitter_ms: f64,
    pub rate_mbit: Option<f64>,
}

/// One IP subnet and the nodes (by index) that have an address in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subnet {
    pub net: Ipv4Net,
    pub members: Vec<(usize, Ipv4Addr)>,
    /// An out-of-band management LAN: never used for transit by routers.
    pub oob: bool,
}

impl Plan {
    pub fn node(&self, name: &str) -> Option<&PlanNode> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// For every node cabled to a switch port: its namespace and the address
    /// of that switch's bridge. One ping along each makes the bridges learn
    /// every attached MAC address at start.
    pub fn switch_attachments(&self) -> Vec<(String, Ipv4Addr)> {
        let mut v = Vec::new();
        for l in &self.links {
            for (sw_end, far_end) in [(&l.a, &l.b), (&l.b, &l.a)] {
                let (Some(sw), Some(far)) = (self.node(&sw_end.node), self.node(&far_end.node))
                else {
                    continue;
                };
                if sw.kind == NodeKind::Switch
                    && far.kind != NodeKind::Switch
                    && far.if_addrs.contains_key(&far_end.ifname)
                    && let Some(a) = sw.bridge_addr
                {
                    v.push((far.ns.clone(), a.addr()));
                }
            }
        }
        v
    }

    /// Every namespace of the lab, nodes first then wires.
    pub fn namespaces(&self) -> Vec<String> {
        let mut v: Vec<String> = self.nodes.iter().map(|n| n.ns.clone()).collect();
        v.extend(self.links.iter().filter_map(|l| l.wire_ns.clone()));
        v
    }
}

/// Namespace name of a node of lab `lab`.
pub fn ns_name(lab: &str, node: &str) -> String {
    format!("{lab}-{node}")
}

/// Builds the plan. The spec must have passed `validate()`.
pub fn plan(spec: &LabSpec) -> Result<Plan, LabError> {
    let prefix = spec.prefix_net()?;
    let mut nodes: Vec<PlanNode> = spec
        .nodes
        .iter()
        .map(|n| new_node(&spec.name, &n.name, n.kind, false))
        .collect();
    nodes.push(new_node(&spec.name, NOC, NodeKind::Host, true));
    let idx: BTreeMap<String, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.clone(), i))
        .collect();
    let oob_switch = |i: usize| spec.nodes.get(i).is_some_and(|n| n.oob);

    let blocks = 1u32 << (24 - prefix.prefix_len());
    let base = u32::from(prefix.network());
    let block = |k: u32| base + (k << 8);
    let mut alloc = Allocator {
        next_lo: block(0) + 1,
        lo_end: block(1) - 1,
        next_p2p: block(1),
        p2p_end: block(blocks / 2),
        next_lan: blocks / 2,
        lan_end: blocks,
        block0: block(0),
    };

    let mut links = Vec::new();
    for (i, l) in spec.links.iter().enumerate() {
        let (Some(a), Some(b)) = (Endpoint::parse(&l.a), Endpoint::parse(&l.b)) else {
            return Err(LabError::Invalid(vec![format!(
                "links[{i}]: bad end point"
            )]));
        };
        links.push(PlanLink {
            a,
            b,
            wire_ns: l.has_wire().then(|| format!("{}-wire-{i}", spec.name)),
            delay_ms: l.delay_ms,
            jitter_ms: l.jitter_ms,
            rate_mbit: l.rate_mbit,
        });
    }

    let mut subnets = Vec::new();
    // Router loopbacks.
    for n in nodes.iter_mut().enumerate() {
        let (i, n) = n;
        if n.kind == NodeKind::Router {
            let a = alloc.loopback(&spec.name)?;
            n.loopback = Some(a);
            subnets.push(Subnet {
                net: Ipv4Net::new(a, 32).expect("32 is a valid length"),
                members: vec![(i, a)],
                oob: false,
            });
        }
    }
    // LAN segments: switches joined by switch-switch links.
    let switches: Vec<bool> = nodes.iter().map(|n| n.kind == NodeKind::Switch).collect();
    let is_switch = |name: &str| switches[idx[name]];
    let mut seg_of: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        if n.kind == NodeKind::Switch {
            seg_of.insert(i, i);
        }
    }
    let find = |seg_of: &BTreeMap<usize, usize>, mut i: usize| {
        while seg_of[&i] != i {
            i = seg_of[&i];
        }
        i
    };
    for l in &links {
        if is_switch(&l.a.node) && is_switch(&l.b.node) {
            let (x, y) = (find(&seg_of, idx[&l.a.node]), find(&seg_of, idx[&l.b.node]));
            seg_of.insert(x.max(y), x.min(y));
        }
    }
    let mut seg_subnet: BTreeMap<usize, (usize, u32)> = BTreeMap::new(); // root -> (subnet, next host)
    for i in seg_of.keys().copied().collect::<Vec<_>>() {
        let root = find(&seg_of, i);
        let (si, next) = match seg_subnet.get(&root) {
            Some(&v) => v,
            None => {
                let net = alloc.lan(&spec.name)?;
                subnets.push(Subnet {
                    net,
                    members: vec![],
                    oob: false,
                });
                (subnets.len() - 1, u32::from(net.network()) + 1)
            }
        };
        let a = Ipv4Addr::from(next);
        nodes[i].bridge_addr = Some(Ipv4Net::new(a, 24).expect("24 is valid"));
        subnets[si].members.push((i, a));
        subnets[si].oob |= oob_switch(i);
        seg_subnet.insert(root, (si, next + 1));
    }
    for l in &links {
        let (sa, sb) = (is_switch(&l.a.node), is_switch(&l.b.node));
        match (sa, sb) {
            (true, true) => {
                for ep in [&l.a, &l.b] {
                    nodes[idx[&ep.node]].bridge_ports.push(ep.ifname.clone());
                }
            }
            (false, false) => {
                let net = alloc.p2p(&spec.name)?;
                let first = u32::from(net.network()) + 1;
                let mut members = vec![];
                for (k, ep) in [&l.a, &l.b].into_iter().enumerate() {
                    let a = Ipv4Addr::from(first + k as u32);
                    let ni = idx[&ep.node];
                    nodes[ni]
                        .if_addrs
                        .insert(ep.ifname.clone(), Ipv4Net::new(a, 30).expect("30 is valid"));
                    members.push((ni, a));
                }
                subnets.push(Subnet {
                    net,
                    members,
                    oob: false,
                });
            }
            _ => {
                let (sw, other) = if sa { (&l.a, &l.b) } else { (&l.b, &l.a) };
                let swi = idx[&sw.node];
                nodes[swi].bridge_ports.push(sw.ifname.clone());
                let root = find(&seg_of, swi);
                let (si, next) = seg_subnet[&root];
                let a = Ipv4Addr::from(next);
                if !subnets[si].net.contains(&a) || next & 0xff == 0xff {
                    return Err(LabError::Invalid(vec![format!(
                        "segment of switch `{}` has more than 254 addresses",
                        sw.node
                    )]));
                }
                let oi = idx[&other.node];
                nodes[oi].if_addrs.insert(
                    other.ifname.clone(),
                    Ipv4Net::new(a, 24).expect("24 is valid"),
                );
                subnets[si].members.push((oi, a));
                seg_subnet.insert(root, (si, next + 1));
            }
        }
    }
    // Management addresses.
    for (i, n) in nodes.iter_mut().enumerate() {
        let mgmt_if = spec.nodes.get(i).and_then(|s| s.mgmt_if.as_ref());
        n.mgmt_addr = match mgmt_if {
            Some(m) => n
                .if_addrs
                .get(m)
                .map(|a| a.addr())
                .or(n.bridge_addr.map(|b| b.addr())),
            None => match n.kind {
                NodeKind::Router => n.loopback,
                NodeKind::Switch => n.bridge_addr.map(|b| b.addr()),
                NodeKind::Host => {
                    let first = links.iter().find_map(|l| {
                        [&l.a, &l.b]
                            .into_iter()
                            .find(|e| e.node == n.name)
                            .and_then(|e| n.if_addrs.get(&e.ifname))
                    });
                    first.map(|a| a.addr())
                }
            },
        };
    }
    for s in 0..nodes.len() {
        nodes[s].routes = routes_from(s, &nodes, &subnets);
    }
    Ok(Plan {
        lab: spec.name.clone(),
        prefix,
        nodes,
        links,
        subnets,
    })
}

fn new_node(lab: &str, name: &str, kind: NodeKind, is_noc: bool) -> PlanNode {
    PlanNode {
        name: name.into(),
        ns: ns_name(lab, name),
        kind,
        is_noc,
        forwards: kind == NodeKind::Router,
        loopback: None,
        bridge_addr: None,
        if_addrs: BTreeMap::new(),
        bridge_ports: vec![],
        mgmt_addr: None,
        routes: vec![],
    }
}

/// Shortest-path (hop count) static routes from node `s` to every subnet it is
/// not on. Only forwarding nodes are transit; out-of-band subnets are only a
/// first hop, and only for a non-forwarding source.
fn routes_from(s: usize, nodes: &[PlanNode], subnets: &[Subnet]) -> Vec<Route> {
    let n = nodes.len();
    let mut dist = vec![usize::MAX; n];
    let mut first_hop: Vec<Option<Ipv4Addr>> = vec![None; n];
    dist[s] = 0;
    let mut q = VecDeque::from([s]);
    while let Some(u) = q.pop_front() {
        if u != s && !nodes[u].forwards {
            continue;
        }
        for sub in subnets {
            if !sub.members.iter().any(|&(m, _)| m == u) {
                continue;
            }
            if sub.oob && (u != s || nodes[s].forwards) {
                continue;
            }
            for &(v, addr) in &sub.members {
                if dist[v] == usize::MAX {
                    dist[v] = dist[u] + 1;
                    first_hop[v] = if u == s { Some(addr) } else { first_hop[u] };
                    q.push_back(v);
                }
            }
        }
    }
    let mut routes = Vec::new();
    for sub in subnets {
        if sub.members.iter().any(|&(m, _)| m == s) {
            continue;
        }
        let best = sub
            .members
            .iter()
            .filter(|&&(m, _)| dist[m] != usize::MAX)
            .min_by_key(|&&(m, _)| (dist[m], m));
        if let Some(&(m, _)) = best
            && let Some(via) = first_hop[m]
        {
            routes.push(Route { dest: sub.net, via });
        }
    }
    routes
}

struct Allocator {
    next_lo: u32,
    lo_end: u32,
    next_p2p: u32,
    p2p_end: u32,
    next_lan: u32,
    lan_end: u32,
    block0: u32,
}

impl Allocator {
    fn full(lab: &str, what: &str) -> LabError {
        LabError::Invalid(vec![format!(
            "lab `{lab}`: prefix too small for its {what}"
        )])
    }
    fn loopback(&mut self, lab: &str) -> Result<Ipv4Addr, LabError> {
        if self.next_lo >= self.lo_end {
            return Err(Self::full(lab, "router loopbacks"));
        }
        self.next_lo += 1;
        Ok(Ipv4Addr::from(self.next_lo - 1))
    }
    fn p2p(&mut self, lab: &str) -> Result<Ipv4Net, LabError> {
        if self.next_p2p >= self.p2p_end {
            return Err(Self::full(lab, "point-to-point links"));
        }
        self.next_p2p += 4;
        Ok(Ipv4Net::new(Ipv4Addr::from(self.next_p2p - 4), 30).expect("30 is valid"))
    }
    fn lan(&mut self, lab: &str) -> Result<Ipv4Net, LabError> {
        if self.next_lan >= self.lan_end {
            return Err(Self::full(lab, "switched segments"));
        }
        self.next_lan += 1;
        let net = self.block0 + ((self.next_lan - 1) << 8);
        Ok(Ipv4Net::new(Ipv4Addr::from(net), 24).expect("24 is valid"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> LabSpec {
        LabSpec::from_toml(
            r#"
            name = "c"
            prefix = "10.98.0.0/16"
            [[nodes]]
            name = "r1"
            kind = "router"
            [[nodes]]
            name = "r2"
            kind = "router"
            [[nodes]]
            name = "sw"
            kind = "switch"
            [[nodes]]
            name = "h1"
            kind = "host"
            attach = "sw"
            [[links]]
            a = "noc:eth0"
            b = "r1:eth0"
            [[links]]
            a = "r1:eth1"
            b = "r2:eth1"
            delay_ms = 5
            [[links]]
            a = "r2:eth2"
            b = "sw:p1"
            "#,
        )
        .unwrap()
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn addresses_follow_the_layout() {
        let p = plan(&chain()).unwrap();
        assert_eq!(p.node("r1").unwrap().loopback, Some(ip("10.98.0.1")));
        assert_eq!(p.node("r2").unwrap().mgmt_addr, Some(ip("10.98.0.2")));
        assert_eq!(p.node("noc").unwrap().mgmt_addr, Some(ip("10.98.1.1")));
        assert_eq!(
            p.node("r1").unwrap().if_addrs["eth0"].to_string(),
            "10.98.1.2/30"
        );
        assert_eq!(
            p.node("sw").unwrap().bridge_addr.unwrap().to_string(),
            "10.98.128.1/24"
        );
        assert_eq!(p.node("h1").unwrap().mgmt_addr, Some(ip("10.98.128.3")));
        assert_eq!(p.links[1].wire_ns.as_deref(), Some("c-wire-1"));
        assert_eq!(p.namespaces().len(), 6);
        // h1 (on sw) and r2 (sw:p1) ping the switch; routers on p2p links do not.
        assert_eq!(
            p.switch_attachments(),
            vec![
                ("c-r2".to_owned(), ip("10.98.128.1")),
                ("c-h1".to_owned(), ip("10.98.128.1")),
            ]
        );
    }

    #[test]
    fn every_node_routes_to_every_subnet() {
        let p = plan(&chain()).unwrap();
        for (i, n) in p.nodes.iter().enumerate() {
            for sub in &p.subnets {
                let on = sub.members.iter().any(|&(m, _)| m == i);
                let routed = n.routes.iter().any(|r| r.dest == sub.net);
                assert!(
                    on ^ routed,
                    "{} -> {}: on={on} routed={routed}",
                    n.name,
                    sub.net
                );
            }
        }
        let noc = p.node("noc").unwrap();
        let to_h1 = noc
            .routes
            .iter()
            .find(|r| r.dest.to_string() == "10.98.128.0/24");
        assert_eq!(to_h1.unwrap().via, ip("10.98.1.2"));
        let h1 = p.node("h1").unwrap();
        assert!(
            h1.routes.iter().all(|r| r.via == ip("10.98.128.2")),
            "{:?}",
            h1.routes
        );
    }

    #[test]
    fn routers_do_not_transit_the_oob_lan() {
        let s = LabSpec::from_toml(
            r#"
            name = "m"
            prefix = "10.97.0.0/16"
            [[nodes]]
            name = "r1"
            kind = "router"
            [[nodes]]
            name = "r2"
            kind = "router"
            [[nodes]]
            name = "r3"
            kind = "router"
            [[nodes]]
            name = "msw"
            kind = "switch"
            oob = true
            [[links]]
            a = "r1:e1"
            b = "r2:e1"
            [[links]]
            a = "r2:e2"
            b = "r3:e2"
            [[links]]
            a = "r1:mgmt"
            b = "msw:r1"
            [[links]]
            a = "r3:mgmt"
            b = "msw:r3"
            [[links]]
            a = "noc:eth0"
            b = "msw:noc"
            "#,
        )
        .unwrap();
        let p = plan(&s).unwrap();
        let r1 = p.node("r1").unwrap();
        let to_r3 = r1
            .routes
            .iter()
            .find(|r| r.dest.addr() == p.node("r3").unwrap().loopback.unwrap());
        assert_eq!(
            to_r3.unwrap().via,
            p.node("r2").unwrap().if_addrs["e1"].addr()
        );
        let noc = p.node("noc").unwrap();
        let to_r3 = noc
            .routes
            .iter()
            .find(|r| r.dest.addr() == p.node("r3").unwrap().loopback.unwrap());
        assert_eq!(
            to_r3.unwrap().via,
            p.node("r3").unwrap().if_addrs["mgmt"].addr()
        );
    }
}
