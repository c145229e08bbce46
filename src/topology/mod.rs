//! The topology model: the data shape (`model`), the petgraph view with its
//! queries, and the exports. Knows nothing of SNMP or sockets.
pub mod blast;
pub mod diff;
pub mod export;
#[cfg(any(test, feature = "test-faults"))]
pub mod generated;
pub mod graph;
pub mod model;
pub mod names;
pub mod paths;
pub mod role;
pub mod site;
pub mod spof;

pub use blast::Failure;
pub use diff::{LinkChange, LinkKey, TopologyDiff, diff};
pub use graph::{DeviceNode, GraphError, LinkEdge, QueryError, SimpleGraph, TopologyGraph};
pub use model::{
    Device, DeviceId, Endpoint, Evidence, Hardware, HostPlacement, Interface, Link,
    MAX_LISTED_MACS, SubnetAddress, Topology, Unresolved, UnresolvedReason,
};
pub use names::{DeviceLabels, NameError, resolve_device, resolve_link};
pub use paths::{Hop, Route};
pub use role::{Role, roles};
pub use site::{SITE_TAG, site_of, sites};
pub use spof::SinglePointsOfFailure;
