//! Shortest paths by hop count between two devices, with the links along
//! each hop. Pure breadth-first search over [`TopologyGraph`]; must not weigh
//! hops by speed or confidence (that would be a different query).
use super::graph::{QueryError, TopologyGraph};
use super::model::DeviceId;
use petgraph::stable_graph::NodeIndex;
use petgraph::visit::EdgeRef;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};

/// A shortest path: the devices in order and, for each hop between two
/// consecutive devices, the links that carry it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    pub devices: Vec<DeviceId>,
    /// `hops.len() == devices.len() - 1`.
    pub hops: Vec<Hop>,
}

/// One hop of a [`Route`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hop {
    pub from: DeviceId,
    pub to: DeviceId,
    /// Every link between the two devices (parallel links, LAG members),
    /// most confident first, then by id.
    pub links: Vec<String>,
}

impl TopologyGraph {
    /// The devices along a shortest path from `a` to `b`, both included; None
    /// when either is unknown or `b` cannot be reached.
    pub fn path(&self, a: &DeviceId, b: &DeviceId) -> Option<Vec<DeviceId>> {
        self.route(a, b).ok().flatten().map(|r| r.devices)
    }

    /// A shortest path with its links. Among equally short paths, the one
    /// whose devices come first by id wins, so the answer is stable.
    pub fn route(&self, a: &DeviceId, b: &DeviceId) -> Result<Option<Route>, QueryError> {
        let start = self.node(a)?;
        let goal = self.node(b)?;
        let Some(nodes) = self.bfs_path(start, goal) else {
            return Ok(None);
        };
        let devices: Vec<DeviceId> = nodes
            .iter()
            .map(|&n| self.device_at(n).id.clone())
            .collect();
        let hops = devices
            .windows(2)
            .map(|pair| {
                let mut links: Vec<(f64, String)> = self
                    .links_between(&pair[0], &pair[1])
                    .into_iter()
                    .map(|l| (l.confidence, l.id.clone()))
                    .collect();
                links.sort_by(|x, y| y.0.total_cmp(&x.0).then_with(|| x.1.cmp(&y.1)));
                Hop {
                    from: pair[0].clone(),
                    to: pair[1].clone(),
                    links: links.into_iter().map(|(_, id)| id).collect(),
                }
            })
            .collect();
        Ok(Some(Route { devices, hops }))
    }

    fn bfs_path(&self, start: NodeIndex, goal: NodeIndex) -> Option<Vec<NodeIndex>> {
        let graph = self.inner();
        let mut parent: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        parent.insert(start, start);
        while let Some(node) = queue.pop_front() {
            if node == goal {
                let mut path = vec![goal];
                let mut at = goal;
                while at != start {
                    at = parent[&at];
                    path.push(at);
                }
                path.reverse();
                return Some(path);
            }
            let mut next: Vec<NodeIndex> = graph
                .edges(node)
                .map(|e| {
                    if e.source() == node {
                        e.target()
                    } else {
                        e.source()
                    }
                })
                .collect();
            next.sort_by(|x, y| graph[*x].id.cmp(&graph[*y].id));
            next.dedup();
            for n in next {
                if let std::collections::hash_map::Entry::Vacant(slot) = parent.entry(n) {
                    slot.insert(node);
                    queue.push_back(n);
                }
            }
        }
        None
    }
}
