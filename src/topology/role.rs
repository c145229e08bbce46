//! Where each device sits in the network's hierarchy — core, distribution,
//! access or host — from the topology alone, for the map's layered layout
//! (the core drawn at the top). Pure and linear in devices + links, so the
//! live feed can work it out on every tick.
//!
//! The rule: hosts are the leaves (devices with at most one neighbour),
//! the poller and any device known only as a leaf; every other device's
//! depth is its distance to the nearest leaf, and in each connected part
//! the deepest devices are the core. The others are distribution when
//! next to the core, access further out. A sysName that says what the
//! device is (`core1`, `dist-a`, `acc-3`, `spine2`, `leaf7`: a word of
//! letters before any digit or separator) overrides the structure. The
//! poller is a host but no leaf the depths start from (it hangs off the
//! network it watches, often on its core), nor ever its core.
use super::model::{Device, DeviceId, Topology};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};

/// A device's place in the hierarchy, top (core) to bottom (host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Core,
    Distribution,
    Access,
    Host,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Core => "core",
            Role::Distribution => "distribution",
            Role::Access => "access",
            Role::Host => "host",
        }
    }

    /// The role a sysName states, if it states one.
    fn named(name: &str) -> Option<Role> {
        let word: String = name
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect::<String>()
            .to_ascii_lowercase();
        match word.as_str() {
            "core" | "spine" | "backbone" => Some(Role::Core),
            "dist" | "distribution" | "agg" | "aggregation" => Some(Role::Distribution),
            "acc" | "access" | "leaf" | "edge" => Some(Role::Access),
            _ => None,
        }
    }
}

/// Whether a leaf is network gear (an access switch with nothing below it
/// yet), not a host: its sysDescr says switch or router.
fn looks_like_gear(d: &Device) -> bool {
    let text = d.sys_descr.as_deref().unwrap_or("").to_ascii_lowercase();
    d.managed
        && ["switch", "router", "bridge"]
            .iter()
            .any(|w| text.contains(w))
}

/// Every device's role, by id.
pub fn roles(t: &Topology) -> HashMap<DeviceId, Role> {
    let n = t.devices.len();
    let index: HashMap<&DeviceId, usize> = t
        .devices
        .iter()
        .enumerate()
        .map(|(i, d)| (&d.id, i))
        .collect();
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for l in &t.links {
        let (Some(&a), Some(&b)) = (index.get(&l.a.device), index.get(&l.b.device)) else {
            continue;
        };
        if a == b {
            continue;
        }
        adj[a].push(b);
        adj[b].push(a);
    }
    for v in &mut adj {
        v.sort_unstable();
        v.dedup();
    }
    // Depth: distance to the nearest leaf (multi-source BFS).
    let leaf = |i: usize| adj[i].len() <= 1 && !t.devices[i].poller;
    let mut depth: Vec<Option<u32>> = vec![None; n];
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| leaf(i)).collect();
    for &i in &queue {
        depth[i] = Some(0);
    }
    bfs(&adj, &mut depth, &mut queue);
    // Per connected part, its deepest devices are its core.
    let mut part = vec![usize::MAX; n];
    let mut deepest: Vec<u32> = Vec::new();
    for start in 0..n {
        if part[start] != usize::MAX {
            continue;
        }
        let p = deepest.len();
        deepest.push(0);
        let mut stack = vec![start];
        part[start] = p;
        while let Some(i) = stack.pop() {
            if !t.devices[i].poller {
                deepest[p] = deepest[p].max(depth[i].unwrap_or(u32::MAX));
            }
            for &j in &adj[i] {
                if part[j] == usize::MAX {
                    part[j] = p;
                    stack.push(j);
                }
            }
        }
    }
    // A part with no leaf (a ring) has no depths: all of it is core.
    let is_core = |i: usize| {
        let d = depth[i].unwrap_or(u32::MAX);
        !t.devices[i].poller && d >= 1 && d == deepest[part[i]]
    };
    let mut from_core: Vec<Option<u32>> = vec![None; n];
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| is_core(i)).collect();
    for &i in &queue {
        from_core[i] = Some(0);
    }
    bfs(&adj, &mut from_core, &mut queue);
    t.devices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let structural = if d.poller {
                Role::Host
            } else if depth[i] == Some(0) {
                if looks_like_gear(d) {
                    Role::Access
                } else {
                    Role::Host
                }
            } else {
                match from_core[i] {
                    Some(0) => Role::Core,
                    Some(1) => Role::Distribution,
                    _ => Role::Access,
                }
            };
            let named = d.sys_name.as_deref().and_then(Role::named);
            let role = match named {
                Some(r) if !d.poller => r,
                _ => structural,
            };
            (d.id.clone(), role)
        })
        .collect()
}

/// Breadth-first from the queued devices: each reached one gets its
/// predecessor's distance + 1.
fn bfs(adj: &[Vec<usize>], dist: &mut [Option<u32>], queue: &mut VecDeque<usize>) {
    while let Some(i) = queue.pop_front() {
        let next = dist[i].unwrap_or(0) + 1;
        for &j in &adj[i] {
            if dist[j].is_none() {
                dist[j] = Some(next);
                queue.push_back(j);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::model::{Endpoint, Link};

    fn topo(devices: &[&str], poller: &str, links: &[(&str, &str)]) -> Topology {
        Topology {
            devices: devices
                .iter()
                .map(|&d| Device::for_test(d, d == poller))
                .collect(),
            links: links
                .iter()
                .enumerate()
                .map(|(i, (a, b))| Link {
                    id: format!("l{i}"),
                    a: Endpoint {
                        device: DeviceId(a.to_string()),
                        if_name: None,
                    },
                    b: Endpoint {
                        device: DeviceId(b.to_string()),
                        if_name: None,
                    },
                    evidence: vec![],
                    confidence: 1.0,
                    lag: None,
                })
                .collect(),
        }
    }

    fn of(t: &Topology) -> Vec<(String, &'static str)> {
        let r = roles(t);
        let mut v: Vec<_> = r.iter().map(|(k, v)| (k.0.clone(), v.as_str())).collect();
        v.sort();
        v
    }

    fn role(t: &Topology, id: &str) -> Role {
        roles(t)[&DeviceId(id.into())]
    }

    /// The demo lab's shape, with names that say nothing: two core routers
    /// and a branch router in a triangle, an access switch with three
    /// hosts, and the poller on the first core.
    #[test]
    fn the_demo_shape_is_layered_from_its_structure() {
        let t = topo(
            &["noc", "c1", "c2", "br", "sw", "h1", "h2", "h3"],
            "noc",
            &[
                ("noc", "c1"),
                ("c1", "c2"),
                ("c1", "br"),
                ("c2", "br"),
                ("br", "sw"),
                ("sw", "h1"),
                ("sw", "h2"),
                ("h3", "sw"),
            ],
        );
        assert_eq!(
            of(&t),
            [
                ("br".into(), "distribution"),
                ("c1".into(), "core"),
                ("c2".into(), "core"),
                ("h1".into(), "host"),
                ("h2".into(), "host"),
                ("h3".into(), "host"),
                ("noc".into(), "host"),
                ("sw".into(), "access"),
            ]
        );
    }

    /// A campus: two cores, two distribution pairs, access switches
    /// dual-homed to their pair, hosts on the access switches.
    #[test]
    fn dual_homed_access_is_below_distribution_below_core() {
        let mut links = vec![("k1", "k2")];
        for d in ["d1", "d2", "d3", "d4"] {
            links.push(("k1", d));
            links.push(("k2", d));
        }
        let access = [("a1", "d1", "d2"), ("a2", "d1", "d2"), ("a3", "d3", "d4")];
        for (a, x, y) in access {
            links.push((a, x));
            links.push((a, y));
        }
        links.extend([("a1", "h1"), ("a2", "h2"), ("a3", "h3"), ("a3", "h4")]);
        let names = [
            "k1", "k2", "d1", "d2", "d3", "d4", "a1", "a2", "a3", "h1", "h2", "h3", "h4",
        ];
        let t = topo(&names, "", &links);
        for (id, want) in [
            ("k1", Role::Core),
            ("k2", Role::Core),
            ("d1", Role::Distribution),
            ("d4", Role::Distribution),
            ("a1", Role::Access),
            ("a3", Role::Access),
            ("h1", Role::Host),
            ("h4", Role::Host),
        ] {
            assert_eq!(role(&t, id), want, "{id}");
        }
    }

    #[test]
    fn a_chain_has_its_middle_on_top() {
        let t = topo(&["noc", "r1", "r2"], "noc", &[("noc", "r1"), ("r1", "r2")]);
        // The poller is no leaf to count from: r1 is the deepest.
        assert_eq!(
            of(&t),
            [
                ("noc".into(), "host"),
                ("r1".into(), "core"),
                ("r2".into(), "host"),
            ]
        );
        let t = topo(
            &["a", "b", "c", "d", "e"],
            "",
            &[("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")],
        );
        assert_eq!(
            of(&t),
            [
                ("a".into(), "host"),
                ("b".into(), "distribution"),
                ("c".into(), "core"),
                ("d".into(), "distribution"),
                ("e".into(), "host"),
            ]
        );
    }

    #[test]
    fn a_ring_is_all_core_and_lone_devices_are_hosts() {
        let t = topo(
            &["a", "b", "c", "lone"],
            "",
            &[("a", "b"), ("b", "c"), ("c", "a"), ("a", "a")],
        );
        assert_eq!(role(&t, "a"), Role::Core);
        assert_eq!(role(&t, "c"), Role::Core);
        assert_eq!(role(&t, "lone"), Role::Host);
        // Links naming unknown devices are ignored.
        let t = topo(&["a"], "", &[("a", "ghost")]);
        assert_eq!(role(&t, "a"), Role::Host);
    }

    #[test]
    fn a_name_that_says_the_role_wins_and_gear_leaves_are_access() {
        let mut t = topo(
            &["core9", "x", "y", "Dist-2", "acc7"],
            "",
            &[("x", "y"), ("y", "core9"), ("Dist-2", "y")],
        );
        assert_eq!(role(&t, "core9"), Role::Core);
        assert_eq!(role(&t, "Dist-2"), Role::Distribution);
        assert_eq!(role(&t, "acc7"), Role::Access);
        assert_eq!(role(&t, "x"), Role::Host);
        // Only a word at the start counts: "score" is no core.
        assert_eq!(Role::named("score1"), None);
        assert_eq!(Role::named("leaf-12"), Some(Role::Access));
        t.devices[1].sys_descr = Some("Cisco Catalyst switch".into());
        assert_eq!(role(&t, "x"), Role::Access);
        t.devices[1].managed = false;
        assert_eq!(role(&t, "x"), Role::Host);
    }
}
