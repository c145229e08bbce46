//! nocmap: a NOC probe and topology mapper.
//!
//! See ARCHITECTURE.md for the code map and the invariants between modules.
pub mod alert;
pub mod cli;
pub mod config;
pub mod counters;
pub mod daemon;
pub mod discovery;
pub mod icmp;
pub mod io;
pub mod live;
pub mod memory;
pub mod mib;
pub mod poller;
pub mod report;
pub mod server;
pub mod sites;
pub mod snmp;
pub mod store;
pub mod syslog;
pub mod topology;
pub mod traps;
pub mod types;
pub mod util;
pub mod vitals;
