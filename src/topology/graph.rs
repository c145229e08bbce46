//! The petgraph view of a [`Topology`]: one node per device, one edge per
//! link (parallel links stay parallel edges), and the map from [`DeviceId`]
//! to node. Owns building the graph, removing a device or a link, and the
//! compact simple-graph copy that petgraph's `articulation_points` and
//! `bridges` need. Must not do I/O, and must not run those two algorithms on
//! the `StableGraph` itself (petgraph issue #970; parallel edges fool
//! `bridges`): see [`TopologyGraph::simple_graph`].
use super::model::{DeviceId, Endpoint, Topology};
use petgraph::Undirected;
use petgraph::graph::{Graph, NodeIndex as SimpleNodeIndex};
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableGraph};
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, HashMap};

/// Why a [`Topology`] cannot become a graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("link {link:?}: endpoint device {:?} is not in the topology", .device.0)]
    UnknownEndpoint { link: String, device: DeviceId },
    #[error("device {:?} appears more than once in the topology", .0.0)]
    DuplicateDevice(DeviceId),
    #[error("link id {0:?} appears more than once in the topology")]
    DuplicateLink(String),
}

/// Why a query could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("no device {:?} in the topology", .0.0)]
    UnknownDevice(DeviceId),
    #[error("no link {0:?} in the topology")]
    UnknownLink(String),
}

/// Node weight: the device's own id (node indices are not stable across the
/// conversions some algorithms need) and what a human calls it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceNode {
    pub id: DeviceId,
    pub sys_name: Option<String>,
    pub managed: bool,
}

/// Edge weight: the link's own id and both ends as the topology drew them.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkEdge {
    pub id: String,
    pub a: Endpoint,
    pub b: Endpoint,
    pub confidence: f64,
}

/// The topology as an undirected multigraph.
#[derive(Debug, Clone)]
pub struct TopologyGraph {
    graph: StableGraph<DeviceNode, LinkEdge, Undirected>,
    nodes: HashMap<DeviceId, NodeIndex>,
    edges: HashMap<String, EdgeIndex>,
}

/// The graph with parallel edges merged and self-loops dropped, compacted to
/// a plain `Graph`. Each node weight is the device id; each edge weight is
/// the ids of the links it stands for (at least one).
pub type SimpleGraph = Graph<DeviceId, Vec<String>, Undirected>;

impl TopologyGraph {
    /// Builds the graph. Devices keep the topology's order; a link that names
    /// a device the topology does not list is an error, as is a repeated
    /// device or link id.
    pub fn build(topology: &Topology) -> Result<Self, GraphError> {
        let mut graph = StableGraph::with_capacity(topology.devices.len(), topology.links.len());
        let mut nodes = HashMap::with_capacity(topology.devices.len());
        for device in &topology.devices {
            if nodes.contains_key(&device.id) {
                return Err(GraphError::DuplicateDevice(device.id.clone()));
            }
            let index = graph.add_node(DeviceNode {
                id: device.id.clone(),
                sys_name: device.sys_name.clone(),
                managed: device.managed,
            });
            nodes.insert(device.id.clone(), index);
        }
        let mut edges = HashMap::with_capacity(topology.links.len());
        for link in &topology.links {
            if edges.contains_key(&link.id) {
                return Err(GraphError::DuplicateLink(link.id.clone()));
            }
            let node_of = |end: &Endpoint| {
                nodes
                    .get(&end.device)
                    .copied()
                    .ok_or_else(|| GraphError::UnknownEndpoint {
                        link: link.id.clone(),
                        device: end.device.clone(),
                    })
            };
            let (a, b) = (node_of(&link.a)?, node_of(&link.b)?);
            let index = graph.add_edge(
                a,
                b,
                LinkEdge {
                    id: link.id.clone(),
                    a: link.a.clone(),
                    b: link.b.clone(),
                    confidence: link.confidence,
                },
            );
            edges.insert(link.id.clone(), index);
        }
        Ok(TopologyGraph {
            graph,
            nodes,
            edges,
        })
    }

    /// The underlying petgraph graph, for algorithms this module does not wrap.
    pub fn inner(&self) -> &StableGraph<DeviceNode, LinkEdge, Undirected> {
        &self.graph
    }

    pub fn device_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn link_count(&self) -> usize {
        self.graph.edge_count()
    }

    pub fn contains_device(&self, id: &DeviceId) -> bool {
        self.nodes.contains_key(id)
    }

    pub fn contains_link(&self, id: &str) -> bool {
        self.edges.contains_key(id)
    }

    /// The node of a device, or [`QueryError::UnknownDevice`].
    pub fn node(&self, id: &DeviceId) -> Result<NodeIndex, QueryError> {
        self.nodes
            .get(id)
            .copied()
            .ok_or_else(|| QueryError::UnknownDevice(id.clone()))
    }

    /// The edge of a link, or [`QueryError::UnknownLink`].
    pub fn edge(&self, id: &str) -> Result<EdgeIndex, QueryError> {
        self.edges
            .get(id)
            .copied()
            .ok_or_else(|| QueryError::UnknownLink(id.to_owned()))
    }

    /// The device at a node. Panics only on an index from another graph.
    pub fn device_at(&self, index: NodeIndex) -> &DeviceNode {
        &self.graph[index]
    }

    /// The link at an edge. Panics only on an index from another graph.
    pub fn link_at(&self, index: EdgeIndex) -> &LinkEdge {
        &self.graph[index]
    }

    /// The links between two devices (several for LAG members or redundant
    /// cabling), in topology order.
    pub fn links_between(&self, a: &DeviceId, b: &DeviceId) -> Vec<&LinkEdge> {
        let (Ok(a), Ok(b)) = (self.node(a), self.node(b)) else {
            return Vec::new();
        };
        let mut found: Vec<(EdgeIndex, &LinkEdge)> = self
            .graph
            .edges_connecting(a, b)
            .map(|e| (e.id(), e.weight()))
            .collect();
        found.sort_by_key(|(index, _)| *index);
        found.into_iter().map(|(_, link)| link).collect()
    }

    /// A copy without one device and its links. Indices of everything else
    /// stay valid (that is what `StableGraph` is for).
    pub fn without_device(&self, id: &DeviceId) -> Result<TopologyGraph, QueryError> {
        let index = self.node(id)?;
        let mut copy = self.clone();
        let gone: Vec<EdgeIndex> = copy.graph.edges(index).map(|e| e.id()).collect();
        for edge in gone {
            let link = copy.graph[edge].id.clone();
            copy.edges.remove(&link);
        }
        copy.graph.remove_node(index);
        copy.nodes.remove(id);
        Ok(copy)
    }

    /// A copy without one link; parallel links between the same devices stay.
    pub fn without_link(&self, id: &str) -> Result<TopologyGraph, QueryError> {
        let index = self.edge(id)?;
        let mut copy = self.clone();
        copy.graph.remove_edge(index);
        copy.edges.remove(id);
        Ok(copy)
    }

    /// The compact simple graph (see [`SimpleGraph`]). Nodes come in
    /// `StableGraph` index order, merged edges in order of first appearance,
    /// so results built on it are deterministic.
    pub fn simple_graph(&self) -> SimpleGraph {
        let compact: Graph<DeviceNode, LinkEdge, Undirected> = Graph::from(self.graph.clone());
        let mut simple = SimpleGraph::with_capacity(compact.node_count(), compact.edge_count());
        for index in compact.node_indices() {
            let added = simple.add_node(compact[index].id.clone());
            debug_assert_eq!(added, index);
        }
        let mut merged: BTreeMap<(SimpleNodeIndex, SimpleNodeIndex), Vec<String>> = BTreeMap::new();
        let mut order = Vec::new();
        for edge in compact.edge_references() {
            let (s, t) = (edge.source(), edge.target());
            if s == t {
                continue;
            }
            let key = if s < t { (s, t) } else { (t, s) };
            let ids = merged.entry(key).or_insert_with(|| {
                order.push(key);
                Vec::new()
            });
            ids.push(edge.weight().id.clone());
        }
        for key in order {
            if let Some(ids) = merged.remove(&key) {
                simple.add_edge(key.0, key.1, ids);
            }
        }
        simple
    }
}
