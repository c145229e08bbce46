//! Dependency suppression from the topology, with no configured parents:
//! from the poller, remove every unreachable device and search outwards.
//! An unreachable device next to what is still reachable is a root cause
//! (its own alert fires); an unreachable device the search cannot reach is
//! behind the root causes nearest to it through other unreachable devices,
//! and its alerts are suppressed with those as `caused_by`. An unreachable
//! device with no root cause on its side (an island) is not suppressed.
//! The search from the root causes runs through every device the poller no
//! longer reaches, so an unmanaged switch between two routers does not hide
//! the second. Pure breadth-first search over [`TopologyGraph`].
use crate::topology::{DeviceId, Topology, TopologyGraph};
use petgraph::stable_graph::NodeIndex;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

/// For each suppressed device, its root causes (sorted by id).
pub type Suppressed = BTreeMap<DeviceId, Vec<DeviceId>>;

/// The devices behind unreachable devices, with their root causes. Empty
/// when the poller is unknown or the topology cannot become a graph.
pub fn behind_unreachable(
    topology: &Topology,
    poller: Option<&DeviceId>,
    unreachable: &BTreeSet<DeviceId>,
) -> Suppressed {
    let Some(poller) = poller else {
        return Suppressed::new();
    };
    let Ok(graph) = TopologyGraph::build(topology) else {
        return Suppressed::new();
    };
    let Ok(start) = graph.node(poller) else {
        return Suppressed::new();
    };
    if unreachable.contains(poller) {
        return Suppressed::new();
    }
    let g = graph.inner();
    let down: HashSet<NodeIndex> = unreachable
        .iter()
        .filter_map(|d| graph.node(d).ok())
        .collect();
    // What the poller still reaches without passing an unreachable device.
    let mut reached: HashSet<NodeIndex> = HashSet::from([start]);
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        for m in g.neighbors(n) {
            if !down.contains(&m) && reached.insert(m) {
                queue.push_back(m);
            }
        }
    }
    // Root causes: unreachable devices next to the reached side.
    let mut roots: Vec<NodeIndex> = down
        .iter()
        .copied()
        .filter(|u| g.neighbors(*u).any(|m| reached.contains(&m)))
        .collect();
    roots.sort();
    // Multi-source search from the roots through unreachable devices only;
    // each device keeps the roots at its smallest distance.
    let mut dist: HashMap<NodeIndex, usize> = HashMap::new();
    let mut causes: HashMap<NodeIndex, BTreeSet<NodeIndex>> = HashMap::new();
    let mut queue = VecDeque::new();
    for r in &roots {
        dist.insert(*r, 0);
        causes.insert(*r, BTreeSet::from([*r]));
        queue.push_back(*r);
    }
    while let Some(n) = queue.pop_front() {
        let d = dist[&n];
        let from: BTreeSet<NodeIndex> = causes[&n].clone();
        for m in g.neighbors(n) {
            // Through everything the poller no longer reaches, including
            // devices with no reachability of their own (unmanaged switches).
            if reached.contains(&m) {
                continue;
            }
            match dist.get(&m) {
                None => {
                    dist.insert(m, d + 1);
                    causes.insert(m, from.clone());
                    queue.push_back(m);
                }
                Some(dm) if *dm == d + 1 => {
                    causes.entry(m).or_default().extend(from.iter().copied());
                }
                Some(_) => {}
            }
        }
    }
    let mut out = Suppressed::new();
    for (n, rs) in causes {
        if dist[&n] == 0 || !down.contains(&n) {
            continue;
        }
        let mut ids: Vec<DeviceId> = rs.iter().map(|r| g[*r].id.clone()).collect();
        ids.sort();
        ids.dedup();
        out.insert(g[n].id.clone(), ids);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{Device, Endpoint, Evidence, Link};
    use proptest::prelude::*;

    fn dev(id: &str, poller: bool) -> Device {
        Device::for_test(id, poller)
    }

    fn topo(n: usize, edges: &[(usize, usize)]) -> Topology {
        let mut devices = vec![dev("p", true)];
        for i in 1..n {
            devices.push(dev(&format!("d{i}"), false));
        }
        let name = |i: usize| {
            if i == 0 {
                "p".to_string()
            } else {
                format!("d{i}")
            }
        };
        let links = edges
            .iter()
            .enumerate()
            .map(|(k, (a, b))| Link {
                id: format!("l{k}"),
                a: Endpoint {
                    device: DeviceId(name(*a)),
                    if_name: None,
                },
                b: Endpoint {
                    device: DeviceId(name(*b)),
                    if_name: None,
                },
                evidence: vec![Evidence::Lldp],
                confidence: 1.0,
                lag: None,
            })
            .collect();
        Topology { devices, links }
    }

    fn ids(v: &[&str]) -> BTreeSet<DeviceId> {
        v.iter().map(|s| DeviceId(s.to_string())).collect()
    }

    fn p() -> DeviceId {
        DeviceId("p".into())
    }

    #[test]
    fn a_chain_behind_its_first_failure() {
        // p - d1 - d2 - d3
        let t = topo(4, &[(0, 1), (1, 2), (2, 3)]);
        let s = behind_unreachable(&t, Some(&p()), &ids(&["d1", "d2", "d3"]));
        let d1 = vec![DeviceId("d1".into())];
        assert_eq!(s.len(), 2);
        assert_eq!(s[&DeviceId("d2".into())], d1);
        assert_eq!(s[&DeviceId("d3".into())], d1);
        // Only d2 down: d2 is the root, nothing behind it is down.
        let s = behind_unreachable(&t, Some(&p()), &ids(&["d2"]));
        assert!(s.is_empty());
        // Without a poller there is no suppression.
        assert!(behind_unreachable(&t, None, &ids(&["d1", "d2"])).is_empty());
    }

    #[test]
    fn redundant_paths_and_several_roots() {
        // p - d1 - d3, p - d2 - d3: d3 behind both d1 and d2 only when both are down.
        let t = topo(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]);
        assert!(behind_unreachable(&t, Some(&p()), &ids(&["d1", "d3"])).is_empty());
        let s = behind_unreachable(&t, Some(&p()), &ids(&["d1", "d2", "d3"]));
        assert_eq!(
            s[&DeviceId("d3".into())],
            vec![DeviceId("d1".into()), DeviceId("d2".into())]
        );
        // An island that was never connected is not suppressed.
        let t = topo(3, &[(0, 1)]);
        assert!(behind_unreachable(&t, Some(&p()), &ids(&["d2"])).is_empty());
    }

    fn reach_avoiding(t: &Topology, avoid: &BTreeSet<DeviceId>) -> BTreeSet<DeviceId> {
        let g = TopologyGraph::build(t).unwrap();
        let mut copy = g.clone();
        for a in avoid {
            copy = copy.without_device(a).unwrap();
        }
        copy.reachable(&p()).unwrap()
    }

    proptest! {
        #[test]
        fn suppressed_devices_are_cut_off_and_caused_by_roots(
            n in 2usize..12,
            raw_edges in proptest::collection::vec((0usize..12, 0usize..12), 0..30),
            down_mask in proptest::collection::vec(any::<bool>(), 12),
        ) {
            let edges: Vec<(usize, usize)> = raw_edges.into_iter().map(|(a, b)| (a % n, b % n)).collect();
            let t = topo(n, &edges);
            let down: BTreeSet<DeviceId> = (1..n).filter(|i| down_mask[*i]).map(|i| DeviceId(format!("d{i}"))).collect();
            let s = behind_unreachable(&t, Some(&p()), &down);
            let reached = reach_avoiding(&t, &down);
            let g = TopologyGraph::build(&t).unwrap();
            let is_root = |d: &DeviceId| down.contains(d) && {
                let mut only = g.clone();
                for o in down.iter().filter(|o| *o != d) {
                    only = only.without_device(o).unwrap();
                }
                only.reachable(&p()).unwrap().contains(d)
            };
            for (d, causes) in &s {
                // Suppressed: unreachable, cut off from the poller, not a root.
                prop_assert!(down.contains(d));
                prop_assert!(!reached.contains(d));
                prop_assert!(!is_root(d));
                prop_assert!(!causes.is_empty());
                for c in causes {
                    prop_assert!(is_root(c), "{c} is not a root cause");
                    prop_assert!(!s.contains_key(c));
                }
            }
            // Every unreachable device that was reachable before is either a
            // root or suppressed.
            let all_down_reach = reach_avoiding(&t, &BTreeSet::new());
            for d in &down {
                if is_root(d) || !all_down_reach.contains(d) {
                    continue;
                }
                // Reachable in the full graph: some path passes an unreachable
                // device first, so it must be suppressed.
                prop_assert!(s.contains_key(d), "{d} should be suppressed");
            }
        }
    }
}
