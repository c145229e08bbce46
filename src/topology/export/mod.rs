//! Exports of a [`Topology`](super::Topology) to other tools' formats: JSON
//! (the model itself), GraphML (yEd, Gephi), DOT (Graphviz) and NetBox CSV.
//! Every function takes the model and returns text; none does I/O. Each
//! format owns the one escaping function its device-provided strings pass
//! through (device strings are hostile input).
mod common;
pub mod dot;
pub mod graphml;
pub mod json;
pub mod netbox;

pub use dot::to_dot;
pub use graphml::to_graphml;
pub use json::to_json;
pub use netbox::{NetboxCsv, SkippedCable, netbox_csv, to_netbox_csv};
