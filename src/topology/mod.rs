//! The topology model: the data shape (`model`), the petgraph view with its
//! queries, and the exports. Knows nothing of SNMP or sockets.
pub mod model;

pub use model::{Device, DeviceId, Endpoint, Evidence, Interface, Link, Topology};
