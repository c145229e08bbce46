//! Blast radius: which devices the poller loses when one device or one link
//! fails. Pure reachability over [`TopologyGraph`] before and after removing
//! the failed element; must not guess at partial failures (a degraded LAG is
//! still a path).
use super::graph::{QueryError, TopologyGraph};
use super::model::DeviceId;
use petgraph::visit::Bfs;
use std::collections::BTreeSet;

/// The element that fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Device(DeviceId),
    /// A link by its id; parallel links between the same devices survive.
    Link(String),
}

impl TopologyGraph {
    /// Devices reachable from `from` (where the poller attaches) now and not
    /// after `failed`, sorted by id. A failed device is itself in the list
    /// when it was reachable; if `from` itself fails, everything that was
    /// reachable is lost, `from` included.
    pub fn blast_radius(
        &self,
        from: &DeviceId,
        failed: &Failure,
    ) -> Result<Vec<DeviceId>, QueryError> {
        let before = self.reachable(from)?;
        let after = match failed {
            Failure::Device(id) => {
                let remaining = self.without_device(id)?;
                if id == from {
                    BTreeSet::new()
                } else {
                    remaining.reachable(from)?
                }
            }
            Failure::Link(id) => self.without_link(id)?.reachable(from)?,
        };
        Ok(before.difference(&after).cloned().collect())
    }

    /// Every device reachable from `from`, itself included.
    pub fn reachable(&self, from: &DeviceId) -> Result<BTreeSet<DeviceId>, QueryError> {
        let start = self.node(from)?;
        let graph = self.inner();
        let mut bfs = Bfs::new(graph, start);
        let mut seen = BTreeSet::new();
        while let Some(node) = bfs.next(graph) {
            seen.insert(graph[node].id.clone());
        }
        Ok(seen)
    }
}
