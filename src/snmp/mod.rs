//! The SNMP engine: one shared UDP transport for every agent, explicit
//! timeouts and retries, a per-agent in-flight cap and a global concurrency
//! cap, credential sets tried in order, and walks that end either complete or
//! partial with a reason.
//!
//! This module knows nothing of discovery, storage, configuration files or the
//! web: it takes plain values (addresses, [`Credential`]s, [`SnmpSettings`])
//! and returns varbinds.
mod credentials;
mod des_state;
mod engine;
mod error;
mod format;
pub mod rejects;
#[cfg(test)]
pub(crate) mod scripted;
mod session;
pub mod strays;
pub mod table;
mod transport;
mod walk;

pub use async_snmp::{Oid, Value, VarBind};
pub use credentials::{AuthProto, Credential, PrivProto, SecurityLevel};
pub use engine::{DatagramStats, SMALL_WALK, SnmpEngine, SnmpSettings};
pub use error::SnmpError;
pub use format::{format_value, format_varbind};
pub use session::Session;
pub use transport::{AgentSession, SnmpTransport};
pub use walk::{WalkEnd, WalkHold, WalkResult, WalkStep, WalkStop, classify_step};
