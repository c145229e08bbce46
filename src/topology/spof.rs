//! Single points of failure: devices whose loss splits the network
//! (articulation points) and links whose loss does (bridges). Runs petgraph's
//! algorithms on the compact simple graph only: `articulation_points` panics
//! on a `StableGraph` (petgraph #970), and `bridges` skips every edge back to
//! the DFS parent, so it would call a doubly-cabled pair a bridge. A link is
//! a bridge here when its device pair is a bridge of the simple graph AND it
//! is the only link between them.
use super::graph::TopologyGraph;
use super::model::DeviceId;
use petgraph::algo::articulation_points::articulation_points;
use petgraph::algo::bridges;
use serde::Serialize;

/// What [`TopologyGraph::single_points_of_failure`] found, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SinglePointsOfFailure {
    /// Devices whose failure disconnects part of the network from the rest.
    pub devices: Vec<DeviceId>,
    /// Link ids whose failure disconnects part of the network from the rest.
    pub links: Vec<String>,
}

impl TopologyGraph {
    pub fn single_points_of_failure(&self) -> SinglePointsOfFailure {
        let simple = self.simple_graph();
        let mut devices: Vec<DeviceId> = articulation_points(&simple)
            .into_iter()
            .map(|n| simple[n].clone())
            .collect();
        devices.sort();
        let mut links: Vec<String> = bridges(&simple)
            .filter(|e| e.weight().len() == 1)
            .map(|e| e.weight()[0].clone())
            .collect();
        links.sort();
        SinglePointsOfFailure { devices, links }
    }
}
