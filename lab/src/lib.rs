//! The lab network driver: builds a topology of network namespaces from a
//! small TOML description, runs real snmpd/lldpd in it, impairs links
//! (userspace wire for delay/jitter, tbf for rate, nftables for loss) and
//! tears it all down again. Used by the integration tests, the benchmarks and
//! the `nocmap-lab` binary (`up`/`down`/`status`/`exec`/`logs`, the demo, and
//! the hidden `wire` and `bridge-agent` it spawns). It imports nothing from
//! nocmap, and the product binary `nocmap` contains none of it.
//!
//! Code map: `spec` (the file format, with `spec_lag` checking link
//! aggregates), `plan` (addresses and routes, pure),
//! `conf` (daemon configuration text, pure), `sys` (running system commands),
//! `build` (plan -> namespaces), `state` (the
//! per-lab state directory and teardown of leftovers), `daemons` (snmpd/lldpd processes), `handle`
//! (the `Lab` API), `probe` (LLDP settling, iperf), `truth` (ground truth for
//! discovery tests), `wire` (the userspace delay line), `bridge_agent` (the
//! switches' BRIDGE-MIB pass_persist agent) with its pure parts `bridge_mib`
//! (OID table and order), `bridge_vlans` (VLAN bridges `brN` merged in as
//! VLANs, trunk cables `X.N` as the one port `X`) and `pass_persist` (the
//! protocol).
//!
//! Invariant: the lab never touches the root namespace's addresses or routes;
//! every namespace it creates is named `<lab>-...` and recorded in its state
//! directory, and teardown only removes what is recorded or planned.
pub mod bridge_agent;
pub mod bridge_mib;
pub mod bridge_vlans;
mod build;
pub mod conf;
mod daemons;
mod error;
mod handle;
pub mod pass_persist;
pub mod plan;
mod probe;
pub mod spec;
mod spec_lag;
mod state;
mod sys;
pub mod truth;
pub mod wire;

pub use error::LabError;
pub use handle::{DEFAULT_STATE_ROOT, Daemon, Lab, LabOptions};
pub use spec::{Credentials, Endpoint, LabSpec, LinkSpec, NodeKind, NodeSpec};
pub use truth::{LabTruth, TruthLink, TruthNode};
